"""`leadctl run`: every output, the manifest, byte-identical re-runs, kill -9, lock, exit codes."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SAMPLE_AS_OF, write_config
from typer.testing import CliRunner

import leadctl.cli  # noqa: F401  (registers every command)
from leadctl import __version__
from leadctl.cli_common import app
from leadctl.config import config_hash, load_config
from leadctl.lock import LOCK_NAME

runner = CliRunner()
AS_OF = SAMPLE_AS_OF.isoformat()
EXPECTED_FILES = [
    "manifest.json",
    "scores.parquet",
    "ratings.parquet",
    "nurture.csv",
    "verified.parquet",
    "verify_failures.csv",
    "assignments.csv",
    "tasks.csv",
    "overflow.csv",
    "routing_audit.parquet",
    "stage_updates.csv",
    "sla_breaches.csv",
    "persistence_breaches.csv",
    "suppression.csv",
    "feedback_issues.csv",
    "report/report.html",
]


def _digests(root: Path) -> dict[str, str]:
    """sha256 of every output file under root, manifest excluded (it records durations)."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name not in {"manifest.json", LOCK_NAME}:
            out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _run(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leadctl", "--quiet", "run", "-c", str(config), "--as-of", AS_OF],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def clean_run(sample_exports: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One clean nightly run on the sample; returns its output base directory."""
    base = tmp_path_factory.mktemp("clean_run")
    config = write_config(base / "config.yaml", sample_exports, base / "out")
    result = _run(config)
    assert result.returncode == 0, result.stderr
    return base


@pytest.mark.slow
def test_run_writes_every_output_and_a_manifest(clean_run: Path) -> None:
    run_dir = clean_run / "out" / AS_OF
    for name in EXPECTED_FILES:
        assert (run_dir / name).is_file(), name
    manifest = json.loads((run_dir / "manifest.json").read_text())
    cfg = load_config(clean_run / "config.yaml")
    assert manifest["leadctl_version"] == __version__
    assert manifest["as_of"] == AS_OF
    assert manifest["config_hash"] == config_hash(cfg)
    leads = manifest["inputs"]["leads"]
    assert leads["rows_read"] == 3000
    assert leads["rows_valid"] + leads["rows_rejected"] == 3000
    assert (
        leads["sha256"] == hashlib.sha256(cfg.inputs.tables["leads"].path.read_bytes()).hexdigest()
    )
    assert manifest["stage_order"] == cfg.run.stages
    assert sorted(manifest["stages"]) == sorted(cfg.run.stages)
    assert sorted(manifest["durations_seconds"]) == sorted(cfg.run.stages)
    assert manifest["stages"]["train"]["reason"].startswith("no model for product group")
    assert not list(run_dir.rglob("*.tmp")), "no partial files left behind"
    assert not (clean_run / "out" / LOCK_NAME).exists()


@pytest.mark.slow
def test_rerun_of_the_same_night_is_byte_identical(clean_run: Path) -> None:
    before = _digests(clean_run / "out")
    result = _run(clean_run / "config.yaml")
    assert result.returncode == 0, result.stderr
    assert _digests(clean_run / "out") == before
    manifest = json.loads((clean_run / "out" / AS_OF / "manifest.json").read_text())
    assert manifest["stages"]["train"] == {"skipped": "models are current"}


@pytest.mark.slow
def test_killed_runs_then_rerun_match_a_clean_run(
    clean_run: Path, sample_exports: Path, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "config.yaml", sample_exports, tmp_path / "out")
    command = [
        sys.executable,
        "-m",
        "leadctl",
        "--quiet",
        "run",
        "-c",
        str(config),
        "--as-of",
        AS_OF,
    ]
    for delay in (1.0, 2.5, 5.0):
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    result = _run(config)
    assert result.returncode == 0, result.stderr
    assert _digests(tmp_path / "out") == _digests(clean_run / "out")


def test_a_live_lock_makes_run_exit_5(sample_exports: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.yaml", sample_exports, tmp_path / "out")
    (tmp_path / "out").mkdir()
    owner = {"pid": os.getpid(), "host": socket.gethostname(), "run": "as-of 2026-11-19"}
    (tmp_path / "out" / LOCK_NAME).write_text(json.dumps(owner))
    result = runner.invoke(app, ["run", "-c", str(config), "--as-of", AS_OF])
    assert result.exit_code == 5
    assert "another leadctl run" in result.stderr
    assert not (tmp_path / "out" / AS_OF / "manifest.json").exists()


def test_run_exit_codes_for_config_and_input_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("run:\n  stages: [score, validate]\n")
    result = runner.invoke(app, ["run", "-c", str(bad), "--as-of", AS_OF])
    assert result.exit_code == 2
    assert "pipeline order" in result.stderr
    missing = write_config(tmp_path / "config.yaml", tmp_path / "no_exports", tmp_path / "out")
    result = runner.invoke(app, ["run", "-c", str(missing), "--as-of", AS_OF])
    assert result.exit_code == 3
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr
