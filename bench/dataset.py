"""The benchmark data set: generated once per (leads, seed) into bench/data/, with its config.

Generation writes into a temporary folder and renames it when complete, so an interrupted run
never leaves a half-written cache behind. The config is the shipped default with the three
sample product groups, Parquet exports and output folders inside the cache.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.measure import Measurement, run_child

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bench" / "data"
DEFAULT_CONFIG = ROOT / "configs" / "default.yaml"
GROUPS = ["Analytics", "Cloud", "Security"]
REGIONS = {"NA": ["NA", "LATAM"], "EMEA": ["EMEA"], "APAC": ["APAC"]}
TIME_ZONES = {"NA": "America/New_York", "EMEA": "Europe/London", "APAC": "Asia/Singapore"}


@dataclass
class Dataset:
    """Where one generated data set and its benchmark config live."""

    leads: int
    seed: int
    root: Path

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def info_file(self) -> Path:
        return self.root / "exports.json"

    def info(self) -> dict[str, Any]:
        """Row counts per export file and how long generating them took."""
        return json.loads(self.info_file.read_text()) if self.info_file.is_file() else {}


def dataset_for(leads: int, seed: int, data_dir: Path = DATA_DIR) -> Dataset:
    return Dataset(leads, seed, data_dir / f"leads{leads}-seed{seed}")


def generate(ds: Dataset, python: str = sys.executable) -> Measurement | None:
    """Write the exports with `leadctl sample` unless they are cached; None when cached."""
    if ds.info_file.is_file() and ds.exports.is_dir():
        return None
    tmp = ds.root.with_name(ds.root.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    cmd = [
        python,
        "-m",
        "leadctl",
        "sample",
        "--out",
        str(tmp / "exports"),
        "--leads",
        str(ds.leads),
        "--seed",
        str(ds.seed),
        "--product-groups",
        str(len(GROUPS)),
        "--format",
        "parquet",
        "--json",
    ]
    m = run_child(cmd, cwd=ROOT)
    if m.returncode != 0:
        raise RuntimeError(f"leadctl sample failed (exit {m.returncode}):\n{m.stderr[-4000:]}")
    files = json.loads(m.stdout)["files"]
    info = {"files": files, "generate_seconds": m.seconds, "generate_peak_rss_bytes": m.peak_rss}
    (tmp / "exports.json").write_text(json.dumps(info, indent=2, sort_keys=True))
    shutil.rmtree(ds.root, ignore_errors=True)
    tmp.rename(ds.root)
    return m


def bench_config(default: dict[str, Any]) -> dict[str, Any]:
    """The default config pointed at the cached Parquet exports, with all three product groups."""
    cfg = json.loads(json.dumps(default, default=str))  # deep copy; dates become ISO strings
    cfg["product_groups"] = list(GROUPS)
    cfg["inputs"]["dir"] = "exports"
    for table in cfg["inputs"]["tables"].values():
        table["path"] = str(Path(table["path"]).with_suffix(".parquet"))
        table.pop("format", None)
    cfg["output"] = {**cfg.get("output", {}), "dir": "out", "models_dir": "models"}
    teams = cfg.get("assign", {}).get("teams")
    if teams:
        have = {t["name"] for t in teams}
        template = next((t for t in teams if t.get("product_groups") == ["Analytics"]), teams[0])
        for group in GROUPS:
            for suffix, regions in REGIONS.items():
                name = f"{group} {suffix}"
                if name not in have:
                    teams.append(
                        {
                            **template,
                            "name": name,
                            "product_groups": [group],
                            "regions": regions,
                            "time_zone": TIME_ZONES[suffix],
                        }
                    )
    return cfg


def write_config(ds: Dataset, run_stages: list[str] | None = None) -> Path:
    """(Re)write the benchmark config next to the exports from the current default config.

    `run_stages` limits `leadctl run` to the stages this tree has (a partial tree still runs).
    """
    default = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    cfg = bench_config(default)
    if run_stages is not None:
        cfg.setdefault("run", {})["stages"] = run_stages
    header = (
        f"# Benchmark config written by bench/run.py from {DEFAULT_CONFIG.relative_to(ROOT)}:\n"
        f"# {ds.leads} leads, seed {ds.seed}, product groups {', '.join(GROUPS)}, "
        "Parquet exports.\n"
    )
    ds.config.write_text(
        header + yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    return ds.config
