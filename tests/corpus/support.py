"""Shared by the corpus, fuzz, fault and PII tests: run `leadctl run` on a case, count rows.

`run_case` copies a case (a folder beside this file) into a temporary directory and runs the nightly
pipeline on it in-process (typer's CliRunner); `check_conservation` asserts that no row was lost
or invented between the exports, the canonical tables, the rejects and the stage outputs.
"""

from __future__ import annotations

import csv
import ctypes
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import yaml
from typer.testing import CliRunner

import leadctl.cli  # noqa: F401  (registers every command)
from leadctl.cli_common import app
from leadctl.config import load_config
from leadctl.lock import LOCK_NAME
from leadctl.sample import generate_sample
from leadctl.schemas import PRIMARY_KEYS

CORPUS = Path(__file__).resolve().parent
DEFAULT_AS_OF = "2026-11-20"
KEYS = ["lead_id", "product_group"]
PR_CAPBSET_DROP = 24  # prctl option: drop a capability from the bounding set


@dataclass
class Outcome:
    """What one `leadctl run` did: exit code, both streams, and where it wrote."""

    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None
    work: Path  # the copied case directory
    out: Path  # the --out directory

    @property
    def run_dir(self) -> Path:
        return self.out / self.as_of

    as_of: str = DEFAULT_AS_OF


def case_names() -> list[str]:
    return sorted(p.name for p in CORPUS.iterdir() if (p / "expected.yaml").is_file())


def expected_of(name: str) -> dict[str, Any]:
    return yaml.safe_load((CORPUS / name / "expected.yaml").read_text(encoding="utf-8"))


def copy_case(name: str, dest: Path) -> Path:
    """A private copy of the case (tests chmod files and write outputs beside them)."""
    work = dest / name
    shutil.copytree(CORPUS / name, work)
    return work


def invoke(args: list[str]) -> tuple[int, str, str, BaseException | None]:
    """`leadctl <args>` in-process; returns exit code, stdout, stderr and any escaped exception."""
    result = CliRunner().invoke(app, args)
    exception = result.exception
    if isinstance(exception, SystemExit):
        exception = None
    return result.exit_code, result.stdout, result.stderr, exception


def run_args(config: Path, out: Path, as_of: str, extra: list[str] | None = None) -> list[str]:
    return ["run", "-c", str(config), "--as-of", as_of, "--out", str(out), *(extra or [])]


def _drop_file_override() -> None:
    """In the child: give up root's right to ignore file modes (CAP_DAC_OVERRIDE and
    CAP_DAC_READ_SEARCH leave the bounding set, so the exec'd leadctl lacks them)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def run_without_root_override(args: list[str]) -> tuple[int, str, str]:
    """`python -m leadctl <args>` in a child process that file modes apply to, even as root."""
    result = subprocess.run(
        [sys.executable, "-m", "leadctl", *args],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_drop_file_override if os.geteuid() == 0 else None,  # noqa: PLW1509
    )
    return result.returncode, result.stdout, result.stderr


def run_case(name: str, tmp_path: Path) -> Outcome:
    """Copy the case, perform its setup steps, run the night; return what happened."""
    expected = expected_of(name)
    as_of = str(expected.get("as_of", DEFAULT_AS_OF))
    extra = [str(a) for a in expected.get("args", [])]
    setup = expected.get("setup", [])
    unreadable = [s["chmod_000"] for s in setup if "chmod_000" in s]
    work = copy_case(name, tmp_path)
    out = work / "out"
    for step in setup:
        if "sample" in step:
            generate_sample(
                work / "inputs", export_date=date.fromisoformat(as_of), **step["sample"]
            )
        if "pre_run" in step:
            night = str(step.get("as_of", as_of))
            code, _, stderr, exc = invoke(run_args(work / step["pre_run"], out, night, extra))
            assert exc is None and code == 0, f"pre_run failed ({code}): {stderr}"
        if "truncate" in step:  # cut a file in half, as a crash mid-copy would
            target = work / step["truncate"]
            data = target.read_bytes()
            target.write_bytes(data[: len(data) // 2])
        if "replace_input" in step:  # the next night's export differs from the last one's
            for rel, source in step["replace_input"].items():
                shutil.copyfile(work / source, work / rel)
    for rel in unreadable:
        (work / rel).chmod(0)
    args = run_args(work / "config.yaml", out, as_of, extra)
    if unreadable and os.geteuid() == 0:  # root reads mode-000 files: drop that right first
        code, stdout, stderr = run_without_root_override(args)
        exception = None
    else:
        code, stdout, stderr, exception = invoke(args)
    return Outcome(code, stdout, stderr, exception, work, out, as_of)


# ------------------------------------------------------------------------------- counting


def _decode(data: bytes, encoding: str) -> str:
    if encoding != "auto":
        return data.decode(encoding)
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def source_records(path: Path, delimiter: str = ",", encoding: str = "auto") -> int:
    """Data records in an export, counted independently of leadctl's reader."""
    if path.suffix.lower() in {".parquet", ".pq"}:
        return pq.ParquetFile(path).metadata.num_rows
    text = _decode(path.read_bytes(), encoding)
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    records = [r for r in records if r]  # csv yields [] for a blank line; pyarrow skips them too
    return max(len(records) - 1, 0)


def read_rejects(run_dir: Path, table: str) -> pl.DataFrame:
    path = run_dir / "rejects" / f"{table}.csv"
    if not path.is_file():
        return pl.DataFrame(schema={"_row": pl.String, "_reason": pl.String})
    return pl.read_csv(path, infer_schema=False)


def check_table_conservation(outcome: Outcome, table: str) -> tuple[int, int]:
    """rows read = valid + rejected, by independent count and by row number; returns both."""
    cfg = load_config(outcome.work / "config.yaml")
    spec = cfg.inputs.tables[table]
    total = source_records(spec.path, spec.delimiter, spec.encoding)
    canonical = pl.read_parquet(outcome.run_dir / "canonical" / f"{table}.parquet")
    rejects = read_rejects(outcome.run_dir, table)
    assert canonical.height + rejects.height == total, (
        f"{table}: {total} records in the export, {canonical.height} valid + "
        f"{rejects.height} rejected"
    )
    assert rejects["_row"].null_count() == 0, f"{table}: a reject without its row number"
    assert rejects["_reason"].null_count() == 0, f"{table}: a reject without a reason"
    first = 1 if spec.path.suffix.lower() in {".parquet", ".pq"} else 2
    numbers = canonical["_row"].to_list() + [int(r) for r in rejects["_row"].to_list()]
    assert sorted(numbers) == list(range(first, first + total)), (
        f"{table}: row numbers of valid and rejected rows do not cover the file exactly once"
    )
    key = PRIMARY_KEYS.get(table)
    if key is not None:
        assert canonical[key].is_unique().all(), f"{table}: duplicate {key} survived ingest"
        assert canonical[key].null_count() == 0
    manifest = outcome.run_dir / "manifest.json"
    if manifest.is_file():
        counts = json.loads(manifest.read_text())["inputs"][table]
        assert counts["rows_read"] == total
        assert counts["rows_valid"] == canonical.height
        assert counts["rows_rejected"] == rejects.height
    return canonical.height, rejects.height


def _keys(frame: pl.DataFrame) -> list[tuple[str, str]]:
    return [tuple(r) for r in frame.select(KEYS).iter_rows()]  # type: ignore[misc]


def _csv(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def check_pipeline_conservation(
    run_dir: Path, product_groups: list[str], stages: list[str] | None = None
) -> dict[str, int]:
    """Every lead is scored and rated per group; every MQL is verified or failed; every verified
    row is assigned, queued in overflow or kept by its owner. Returns the counts.

    Only the stages that ran (`stages`, default all) are checked."""
    ran = set(stages or ["score", "rate", "verify", "assign"])
    counts: dict[str, int] = {}
    leads = pl.read_parquet(run_dir / "canonical" / "leads.parquet")
    counts["leads"] = leads.height
    if "score" not in ran:
        return counts
    ratings = pl.read_parquet(run_dir / "ratings.parquet") if "rate" in ran else None
    score_keys = _keys(pl.read_parquet(run_dir / "scores.parquet"))
    assert len(set(score_keys)) == len(score_keys), "a lead × group scored twice"
    known = {(lead, g) for lead in leads["lead_id"].to_list() for g in product_groups}
    assert set(score_keys) <= known, "scores for a lead or group that is not in the inputs"
    counts["scored"] = len(score_keys)
    if ratings is None:
        return counts
    assert sorted(_keys(ratings)) == sorted(score_keys), "rate lost or invented rows"
    mql = set(_keys(ratings.filter(pl.col("is_mql"))))
    counts["mql"] = len(mql)
    if "verify" not in ran:
        return counts
    verified = _keys(pl.read_parquet(run_dir / "verified.parquet"))
    failed = _keys(_csv(run_dir / "verify_failures.csv"))
    assert len(set(verified)) == len(verified) and len(set(failed)) == len(failed)
    assert not set(verified) & set(failed), "a row both verified and failed"
    assert set(verified) | set(failed) == mql, "verify lost or invented MQL rows"
    counts.update(verified=len(verified), failed=len(failed))
    if "assign" not in ran:
        return counts
    assigned = _keys(_csv(run_dir / "assignments.csv"))
    overflow = _keys(_csv(run_dir / "overflow.csv"))
    audit = pl.read_parquet(run_dir / "routing_audit.parquet")
    kept = _keys(audit.filter((pl.col("rule_order") == 0) & (pl.col("outcome") == "kept")))
    parts = [set(assigned), set(overflow), set(kept)]
    assert sum(len(p) for p in parts) == len(assigned) + len(overflow) + len(kept)
    assert len(set().union(*parts)) == len(assigned) + len(overflow) + len(kept), (
        "a verified row both assigned / queued / kept"
    )
    assert set().union(*parts) == set(verified), "assign lost or invented verified rows"
    assert sorted(_keys(audit.filter(pl.col("rule_order") == 0))) == sorted(verified)
    counts.update(assigned=len(assigned), overflow=len(overflow), kept=len(kept))
    return counts


def output_digests(root: Path) -> dict[str, str]:
    """sha256 of every file under root except the manifest (it records durations) and the lock."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name not in {"manifest.json", LOCK_NAME}:
            out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def leftovers(root: Path) -> list[Path]:
    """Temp files of atomic writes and a lock that a finished run should not leave behind."""
    if not root.exists():
        return []
    return [p for p in root.rglob("*") if p.name.endswith(".tmp") or p.name == LOCK_NAME]
