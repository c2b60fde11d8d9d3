"""`leadctl report` end to end on the hand-built night: files, values, exit codes, re-runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from stages import report_frames as F
from typer.testing import CliRunner

import leadctl.cli  # noqa: F401  (registers every command)
from leadctl.cli_common import app, workspace
from leadctl.commands.report_cmd import render_report, run_report
from leadctl.stages.report import SECTIONS

runner = CliRunner()
AS_OF = F.AS_OF.isoformat()


def _report(config: Path, *extra: str) -> tuple[int, str]:
    """Exit code and stdout (with --json: the summary alone); stderr goes to the log."""
    result = runner.invoke(app, ["report", "-c", str(config), "--as-of", AS_OF, *extra])
    return result.exit_code, result.stdout if result.exit_code == 0 else result.output


def _files(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_report_writes_html_tables_and_json_summary(tmp_path: Path) -> None:
    config = F.write_night(tmp_path)
    code, output = _report(config, "--json")
    assert code == 0, output
    summary = json.loads(output)
    assert sorted(summary["sections"]) == sorted(SECTIONS)
    assert set(summary["sections"].values()) <= {"ok", "partial"}
    report_dir = tmp_path / "out" / AS_OF / "report"
    assert Path(summary["report"]) == report_dir / "report.html"
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    assert all(f'<section id="{key}">' in html for key in SECTIONS)
    assert "http://" not in html and "https://" not in html and "<script" not in html
    for name, rows in summary["tables"].items():
        assert (report_dir / "tables" / f"{name}.parquet").is_file()
        assert pl.read_parquet(report_dir / "tables" / f"{name}.parquet").height == rows
        assert (report_dir / "tables" / f"{name}.csv").is_file()
    grid = pl.read_csv(report_dir / "tables" / "conversion_by_rating.csv")
    a1 = grid.filter((pl.col("product_group") == "Analytics") & (pl.col("rating") == "A1"))
    assert (a1["leads"].item(), a1["conversions"].item(), a1["conversion_rate"].item()) == (
        10,
        4,
        0.4,
    )
    numbers = summary["numbers"]
    assert numbers["conversion_by_rating"]["top_share_capture"]["Analytics"] == 0.75
    assert numbers["sla"]["sla_compliance"]["Analytics"] == 0.5
    assert numbers["overrides"]["rules_past_review"] == ["Old promo"]
    warnings = " | ".join(summary["warnings"])
    assert "stale model: Analytics" in warnings and "'Old promo'" in warnings


def test_rerun_is_byte_identical(tmp_path: Path) -> None:
    config = F.write_night(tmp_path)
    assert _report(config)[0] == 0
    report_dir = tmp_path / "out" / AS_OF / "report"
    first = _files(report_dir)
    assert _report(config)[0] == 0
    assert _files(report_dir) == first
    assert not [p for p in report_dir.rglob("*.tmp")]


def test_partial_pipeline_reports_what_is_missing(tmp_path: Path) -> None:
    config = F.write_night(tmp_path)
    assert _report(config)[0] == 0
    tables = tmp_path / "out" / AS_OF / "report" / "tables"
    assert (tables / "zombies_by_rep.parquet").is_file()
    # now the same night with only canonical tables (as after `leadctl validate`)
    run_dir = tmp_path / "out" / AS_OF
    for name in ("ratings.parquet", *F.csv_outputs()):
        (run_dir / name).unlink()
    shutil.rmtree(tmp_path / "out" / "state")
    shutil.rmtree(tmp_path / "out" / "models")
    code, output = _report(config, "--json")
    assert code == 0, output
    summary = json.loads(output)
    assert summary["sections"]["funnel"] == "ok"
    assert summary["sections"]["conversion_by_rating"].startswith(
        "not available: no rating snapshot"
    )
    html = (run_dir / "report" / "report.html").read_text(encoding="utf-8")
    assert "not available: zombies.csv missing — run `leadctl expire`" in html
    assert "not available: assignments.csv missing — run `leadctl assign`" in html
    # tables the night no longer produces are gone, so nothing stale is left behind
    assert not (tables / "zombies_by_rep.parquet").exists()
    assert not (tables / "zombies_by_rep.csv").exists()


def _second_run(tmp_path: Path) -> Path:
    """A run directory for 2026-10-21: its own canonical tables, ratings with 2 A1 + 2 B1 MQLs."""
    other = tmp_path / "out" / "2026-10-21"
    shutil.copytree(tmp_path / "out" / AS_OF / "canonical", other / "canonical")
    pl.DataFrame(
        {
            "lead_id": ["q1", "q2", "q3", "q4", "q5"],
            "product_group": ["Analytics"] * 5,
            "rating": ["A1", "A1", "B1", "B1", "D4"],
            "is_mql": [True, True, True, True, False],
        }
    ).write_parquet(other / "ratings.parquet")
    return other


@pytest.mark.parametrize("by", ["date", "dir"])
def test_compare_two_runs_side_by_side(tmp_path: Path, by: str) -> None:
    config = F.write_night(tmp_path)
    assert _report(config)[0] == 0  # ingests this night's canonical tables
    other = _second_run(tmp_path)
    code, output = _report(
        config, "--compare", "2026-10-21" if by == "date" else str(other), "--json"
    )
    assert code == 0, output
    table = pl.read_parquet(tmp_path / "out" / AS_OF / "report" / "tables" / "before_after.parquet")
    analytics = {
        r["metric"]: r
        for r in table.filter(pl.col("product_group") == "Analytics").iter_rows(named=True)
    }
    assert str(analytics["mqls"]["before_as_of"]) == "2026-10-21"
    assert (analytics["mqls"]["before"], analytics["mqls"]["after"]) == (4.0, 4.0)
    assert (analytics["mqls_A1"]["before"], analytics["mqls_A1"]["after"]) == (2.0, 3.0)
    assert analytics["mqls_B1"]["before"] == 2.0 and analytics["mqls_B1"]["after"] is None
    assert (analytics["mql_entries"]["before"], analytics["mql_entries"]["after"]) == (2.0, 6.0)
    assert analytics["sla_compliance"]["after"] == 0.5
    assert json.loads(output)["numbers"]["before_after"]["before_as_of"] == "2026-10-21"


def test_compare_with_missing_run_is_an_input_error(tmp_path: Path) -> None:
    config = F.write_night(tmp_path)
    code, output = _report(config, "--compare", "2026-01-01")
    assert code == 3
    assert "run directory" in output and "does not exist" in output


def test_unknown_funnel_stage_exits_with_config_error(tmp_path: Path) -> None:
    config = F.write_night(tmp_path)
    config.write_text(config.read_text() + "report:\n  funnel_stages: [Inquiry, Nowhere]\n")
    code, output = _report(config)
    assert code == 2
    assert "report.funnel_stages names unknown stage" in output


def test_terminal_summary(tmp_path: Path) -> None:
    config = F.write_night(tmp_path)
    code, output = _report(config)
    assert code == 0, output
    assert "Report as of 2026-11-20" in output
    assert "Analytics" in output and "50.0%" in output
    assert "warning:" in output and "Report:" in output


def test_run_report_is_json_able_for_the_nightly_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = F.write_night(tmp_path)
    ws = workspace(config, AS_OF)
    summary = run_report(ws)
    assert json.loads(json.dumps(summary)) == summary
    assert isinstance(summary["warnings"], list) and summary["warnings"]
    render_report(summary)
    assert "Report as of 2026-11-20" in capsys.readouterr().out


@pytest.mark.slow
def test_report_on_the_sample_after_validate_only(sample_config: Path) -> None:
    """Realistic canonical tables, no later stage yet: history sections fill, the rest explain."""
    assert (
        runner.invoke(app, ["validate", "-c", str(sample_config), "--as-of", AS_OF]).exit_code == 0
    )
    code, output = _report(sample_config, "--json")
    assert code == 0, output
    summary = json.loads(output)
    assert summary["sections"]["funnel"] == "ok"
    assert summary["sections"]["feedback"] == "partial"  # by rating needs `leadctl rate`
    assert summary["sections"]["conversion_by_rating"].startswith("not available")
    tables = sample_config.parent / "out" / AS_OF / "report" / "tables"
    funnel = pl.read_parquet(tables / "funnel.parquet")
    assert funnel["entered"].sum() > 0
    assert (funnel["reached_next"] <= funnel["entered"]).all()
    pareto = pl.read_parquet(tables / "feedback_pareto.parquet")
    assert pareto["rejections"].sum() > 0
