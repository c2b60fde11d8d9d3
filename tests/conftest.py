"""Shared fixtures: a small generated sample of exports and a config that maps it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = ROOT / "configs" / "default.yaml"
SAMPLE_AS_OF = date(2026, 11, 20)


@pytest.fixture(scope="session")
def sample_exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated set of exports (3,000 leads, 2 product groups), shared by the whole session."""
    from leadctl.sample import generate_sample

    out = tmp_path_factory.mktemp("sample_exports")
    generate_sample(out, n_leads=3000, seed=7, product_groups=2, export_date=SAMPLE_AS_OF)
    return out


def write_config(path: Path, inputs_dir: Path, out_dir: Path, **overrides: object) -> Path:
    """Copy configs/default.yaml with inputs.dir/output.dir pointed elsewhere, plus overrides.

    `overrides` are top-level sections merged one level deep (e.g. rate={"hysteresis": 0}).
    """
    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    data["inputs"]["dir"] = str(inputs_dir)
    data.setdefault("output", {})["dir"] = str(out_dir)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key].update(value)
        else:
            data[key] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture()
def sample_config(sample_exports: Path, tmp_path: Path) -> Path:
    """A config file mapping the session sample, writing into this test's tmp_path/out."""
    return write_config(tmp_path / "config.yaml", sample_exports, tmp_path / "out")
