"""`leadctl expire` on the generated sample: files, columns, zombies, the log, exit codes."""

from __future__ import annotations

import json
from collections import namedtuple
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from conftest import SAMPLE_AS_OF, write_config
from typer.testing import CliRunner

import leadctl.cli  # noqa: F401  (registers every command)
from leadctl.cli_common import app
from leadctl.commands.expire_cmd import OUTPUT_FILES, SUMMARY_FILE, read_assignment_log
from leadctl.stages.expire_breaches import PERSISTENCE_COLUMNS, REASSIGN_COLUMNS, SLA_COLUMNS
from leadctl.stages.expire_feedback import FEEDBACK_COLUMNS
from leadctl.stages.expire_suppression import SUPPRESSION_COLUMNS
from leadctl.stages.expire_transitions import ILLEGAL_COLUMNS
from leadctl.stages.expire_zombies import ZOMBIE_COLUMNS

runner = CliRunner()
SampleRun = namedtuple("SampleRun", ["config", "run_dir", "result"])
AS_OF = SAMPLE_AS_OF.isoformat()
HEADERS = {
    "stage_updates.csv": "lead_id,product_group,new_stage,reason,previous_stage,owner_released,"
    "owner_id,team,rule",
    "sla_breaches.csv": ",".join(SLA_COLUMNS),
    "persistence_breaches.csv": ",".join(PERSISTENCE_COLUMNS),
    "suppression.csv": ",".join(SUPPRESSION_COLUMNS),
    "feedback_issues.csv": ",".join(FEEDBACK_COLUMNS),
    "zombies.csv": ",".join(ZOMBIE_COLUMNS),
    "illegal_transitions.csv": ",".join([*ILLEGAL_COLUMNS, "team"]),
    "reassign.csv": ",".join(REASSIGN_COLUMNS),
}


def expire(config: Path, *extra: str) -> object:
    return runner.invoke(app, ["expire", "-c", str(config), "--as-of", AS_OF, *extra])


@pytest.fixture(scope="module")
def sample_run(sample_exports: Path, tmp_path_factory: pytest.TempPathFactory) -> SampleRun:
    """One `leadctl expire` on the sample (the ingest is then cached for reruns)."""
    tmp = tmp_path_factory.mktemp("expire_sample")
    config = write_config(tmp / "config.yaml", sample_exports, tmp / "out")
    return SampleRun(config, tmp / "out" / AS_OF, expire(config))


def test_expire_finds_and_expires_the_sample_zombies(sample_run: SampleRun) -> None:
    result, run_dir = sample_run.result, sample_run.run_dir
    assert result.exit_code == 0, result.output
    assert f"Expire as of {AS_OF}" in result.output
    assert "Per team and rep" in result.output
    for name in OUTPUT_FILES.values():
        assert (run_dir / name).read_text().splitlines()[0] == HEADERS[name], name
    zombies = pl.read_csv(run_dir / "zombies.csv")
    updates = pl.read_csv(run_dir / "stage_updates.csv")
    # The sample's zombies: accepted (SAL) long ago, touches stopped two weeks after.
    silent = zombies.filter((pl.col("stage") == "SAL") & (pl.col("touches_in_window") == 0))
    assert silent.height >= 20
    assert silent["expired_tonight"].all()
    assert silent["days_in_stage"].min() >= 60
    expired = silent.join(updates, on=["lead_id", "product_group"], how="inner")
    assert expired.height == silent.height
    assert set(expired["new_stage"]) == {"Recycled"}
    assert set(expired["reason"]) == {"Expired - no activity"}
    assert set(expired["rule"]) <= {"no_touch", "max_days_in_stage", "max_days_from_mql"}
    assert expired["owner_released"].any()
    # Every zombie is listed under an owner, and the sample has missing and free-text reasons.
    assert zombies["owner_id"].null_count() == 0
    issues = pl.read_csv(run_dir / "feedback_issues.csv")
    assert {"missing_reason", "unknown_reason", "data_fix"} <= set(issues["issue"])
    summary = json.loads((run_dir / SUMMARY_FILE).read_text())
    assert summary["totals"]["zombies"] == zombies.height
    assert summary["rows"]["stage_updates"] == updates.height
    assert (
        summary["expired"]
        == updates.filter(
            pl.col("rule").is_in(["no_touch", "max_days_in_stage", "max_days_from_mql"])
        ).height
    )


def test_json_summary_and_byte_identical_rerun(sample_run: SampleRun) -> None:
    run_dir = sample_run.run_dir
    assert sample_run.result.exit_code == 0, sample_run.result.output
    before = {
        name: (run_dir / name).read_bytes() for name in [*OUTPUT_FILES.values(), SUMMARY_FILE]
    }
    again = expire(sample_run.config, "--json")
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)
    assert summary == json.loads(before[SUMMARY_FILE])
    assert summary["as_of"] == AS_OF
    assert summary["warnings"] == []
    after = {name: (run_dir / name).read_bytes() for name in before}
    assert after == before
    team_totals = sum(t["totals"]["zombies"] for t in summary["teams"].values())
    assert team_totals == summary["totals"]["zombies"] > 0


def _log(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(rows).write_parquet(path)


def test_assignment_log_files_up_to_as_of(sample_config: Path, tmp_path: Path) -> None:
    log_dir = tmp_path / "out" / "state" / "assignments_log"
    row = {
        "lead_id": "00QNOTINSAMPLE",
        "product_group": "Analytics",
        "owner_id": "rep-x",
        "team": "Analytics NA",
        "sla_tier": "standard",
        "action": "standard",
        "assigned_at": datetime(2026, 11, 17, 9, tzinfo=UTC),
        "sla_due_at": datetime(2026, 11, 18, 9, tzinfo=UTC),
    }
    _log(log_dir / "2026-11-17.parquet", [row])
    later = {**row, "lead_id": "00QFUTURE"}
    _log(log_dir / "2026-11-25.parquet", [later])  # after as-of: not read
    _log(log_dir / "latest.parquet", [later])  # not a dated file: warned and skipped
    result = expire(sample_config, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert any("latest.parquet" in w for w in summary["warnings"])
    breaches = pl.read_csv(tmp_path / "out" / AS_OF / "sla_breaches.csv")
    assert breaches["lead_id"].to_list() == ["00QNOTINSAMPLE"]
    assert breaches.row(0, named=True)["status"] == "untouched"
    assert breaches.row(0, named=True)["hours_overdue"] == 63.0  # to the end of as-of


def test_read_assignment_log_types_and_absence(tmp_path: Path) -> None:
    frame, warnings = read_assignment_log(tmp_path, SAMPLE_AS_OF)
    assert frame.collect().is_empty() and warnings == []
    naive = {
        "lead_id": "L",
        "product_group": "A",
        "owner_id": "r",
        "assigned_at": datetime(2026, 11, 1, 9),
        "sla_due_at": datetime(2026, 11, 2, 9),
    }
    _log(tmp_path / "assignments_log" / "2026-11-01.parquet", [naive])
    frame, _ = read_assignment_log(tmp_path, SAMPLE_AS_OF)
    got = frame.collect()
    assert got.schema["sla_due_at"] == pl.Datetime("us", "UTC")
    assert got["sla_due_at"].to_list() == [datetime(2026, 11, 2, 9, tzinfo=UTC)]
    assert got["sla_tier"].to_list() == [None]  # optional column absent
    assert got["logged_on"].to_list() == [date(2026, 11, 1)]  # from the file name


def test_broken_assignment_log_exits_3(sample_config: Path, tmp_path: Path) -> None:
    path = tmp_path / "out" / "state" / "assignments_log" / "2026-11-19.parquet"
    _log(path, [{"lead_id": "L", "product_group": "A", "owner_id": "r"}])
    result = expire(sample_config)
    assert result.exit_code == 3
    assert "lacks column(s) ['assigned_at', 'sla_due_at']" in result.output
    _log(
        path,
        [
            {
                "lead_id": "L",
                "product_group": "A",
                "owner_id": "r",
                "assigned_at": "x",
                "sla_due_at": "y",
            }
        ],
    )
    result = expire(sample_config)
    assert result.exit_code == 3
    assert "column assigned_at is String, not a timestamp" in result.output


def test_config_disagreeing_with_the_lifecycle_exits_2(
    sample_exports: Path, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "bad.yaml",
        sample_exports,
        tmp_path / "out",
        expire={"rules": {"Won": {"no_touch_days": 3}}},
    )
    result = expire(config)
    assert result.exit_code == 2
    assert "lifecycle.transitions.Won does not allow 'Recycled'" in result.output
    config = write_config(
        tmp_path / "typo.yaml", sample_exports, tmp_path / "out", expire={"zombie": {}}
    )
    result = expire(config)
    assert result.exit_code == 2
    assert "did you mean 'zombies'" in result.output


def test_expire_help() -> None:
    result = runner.invoke(app, ["expire", "--help"])
    assert result.exit_code == 0
    assert "Expire leads no longer worked" in result.output
