"""`leadctl verify` from the command line: files, values, JSON summary and exit codes."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import leadctl.cli  # noqa: F401  (registers every command)
from leadctl.cli_common import app
from leadctl.io.writers import write_parquet

runner = CliRunner()
AS_OF = "2026-03-01"

LEADS = """\
lead_id,email,first_name,last_name,title,company,account_id,country,state,phone,created_at,\
do_not_contact,consent
L1,pat@acme.com,Pat,Lee,CTO,Acme Inc.,,USA,CA,(415) 555-2671,2025-06-01T10:00:00Z,false,
L2, PAT@ACME.COM ,Pat,Lee,CTO,Acme,,U.S.,California,,2025-07-01T10:00:00Z,false,
L3,kim@rivalsoft.com,Kim,Ray,Analyst,Rival,,Deutschland,,030 901820,2025-06-01T10:00:00Z,false,true
L4,jo@gmail.com,José,García,VP Data,Globex,,España,,+34 912 345 678,2025-06-01T10:00:00Z,false,true
L5,sam@initech.io,Sam,Oh,Intern,Initech,,UK,,020 7946 0958,2025-06-01T10:00:00Z,false,true
L6,ann@initech.io,Ann,Bo,CIO,Initech,,UK,,020 7946 0958,2025-06-01T10:00:00Z,true,true
"""
ACCOUNTS = """account_id,name,domain,country,owner_id,named_account
A1,"Acme, Inc.",https://www.acme.com/,United States,U1,true
A2,Globex S.A.,globex.es,Spain,U2,false
"""
ACTIVITIES = """lead_id,activity_type,occurred_at
L1,Visit Webpage,2026-02-20T08:00:00Z
"""


def _setup(tmp_path: Path) -> Path:
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    (tmp_path / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    (tmp_path / "activities.csv").write_text(ACTIVITIES, encoding="utf-8")
    headers = {
        "leads": LEADS.splitlines()[0].split(","),
        "accounts": ACCOUNTS.splitlines()[0].split(","),
        "activities": ACTIVITIES.splitlines()[0].split(","),
    }
    lines = ["product_groups: [Analytics, Cloud]", "inputs:", "  dir: .", "  tables:"]
    for table, cols in headers.items():
        lines += [f"    {table}:", f"      path: {table}.csv", "      columns:"]
        lines += [f"        {c}: {c}" for c in cols]
    lines += ["output:", "  dir: out", "verify:", "  competitor_domains: [rivalsoft.com]"]
    config = tmp_path / "config.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def _ratings(tmp_path: Path, rows: list[tuple[str, str, str, bool]]) -> None:
    frame = pl.DataFrame(
        rows,
        schema={
            "lead_id": pl.String,
            "product_group": pl.String,
            "action": pl.String,
            "is_mql": pl.Boolean,
        },
        orient="row",
    ).with_columns(rating=pl.lit("A1"), sla_tier=pl.lit("hot"), fit_score=pl.lit(90.0))
    write_parquet(frame, tmp_path / "out" / AS_OF / "ratings.parquet")


def test_verify_writes_both_outputs_and_prints_a_summary(tmp_path: Path) -> None:
    config = _setup(tmp_path)
    _ratings(
        tmp_path,
        [(f"L{i}", "Analytics", "standard", True) for i in range(1, 7)]
        + [("L1", "Cloud", "fast_track", True), ("L4", "Cloud", "nurture", False)],
    )
    result = runner.invoke(app, ["verify", "-c", str(config), "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    assert (
        "Verify as of 2026-03-01" in result.output
        and "Failed checks per product group" in result.output
    )

    run_dir = tmp_path / "out" / AS_OF
    verified = pl.read_parquet(run_dir / "verified.parquet")
    failures = pl.read_csv(run_dir / "verify_failures.csv", infer_schema=False)
    assert verified.height + failures.height == 7
    assert verified.select(
        "lead_id", "product_group", "country_code", "region", "matched_account_id"
    ).rows() == [
        ("L1", "Analytics", "US", "NA", "A1"),
        ("L1", "Cloud", "US", "NA", "A1"),
        ("L4", "Analytics", "ES", "EMEA", "A2"),
    ]
    assert verified.filter(pl.col("lead_id") == "L4")["verify_warnings"].to_list() == [
        ["free_mail"]
    ]
    assert verified["phone_e164"].to_list() == ["+14155552671", "+14155552671", "+34912345678"]
    assert failures.columns == [
        "lead_id", "product_group", "rating", "action", "failed_checks", "suggested_fixes",
        "duplicate_of",
    ]  # fmt: skip
    got = {
        r[0]: (r[1], r[2])
        for r in failures.select("lead_id", "failed_checks", "duplicate_of").rows()
    }
    assert got == {
        "L2": ("duplicate", "L1"),  # L1 has the more recent activity
        "L3": ("competitor", None),
        "L5": ("student", None),
        "L6": ("do_not_contact", None),
    }


def test_verify_json_summary(tmp_path: Path) -> None:
    config = _setup(tmp_path)
    _ratings(
        tmp_path, [("L1", "Analytics", "standard", True), ("L3", "Analytics", "standard", True)]
    )
    result = runner.invoke(app, ["verify", "-c", str(config), "--as-of", AS_OF, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["rows_in"], summary["verified"], summary["failed"]) == (2, 1, 1)
    assert summary["groups"]["Analytics"]["failed_checks"] == {"competitor": 1}
    assert summary["as_of"] == AS_OF
    assert Path(summary["outputs"]["failures"]).name == "verify_failures.csv"


def test_verify_is_deterministic(tmp_path: Path) -> None:
    config = _setup(tmp_path)
    _ratings(
        tmp_path,
        [(f"L{i}", g, "standard", True) for i in range(1, 7) for g in ("Analytics", "Cloud")],
    )
    run_dir = tmp_path / "out" / AS_OF
    outputs = []
    for _ in range(2):
        assert (
            runner.invoke(app, ["verify", "-c", str(config), "--as-of", AS_OF, "--json"]).exit_code
            == 0
        )
        outputs.append(
            (
                (run_dir / "verified.parquet").read_bytes(),
                (run_dir / "verify_failures.csv").read_bytes(),
            )
        )
    assert outputs[0] == outputs[1]


def test_verify_without_ratings_says_to_run_rate(tmp_path: Path) -> None:
    config = _setup(tmp_path)
    result = runner.invoke(app, ["verify", "-c", str(config), "--as-of", AS_OF])
    assert result.exit_code == 3
    assert f"run `leadctl rate --as-of {AS_OF}` first" in result.output


def test_verify_with_broken_ratings_is_an_input_error(tmp_path: Path) -> None:
    config = _setup(tmp_path)
    write_parquet(pl.DataFrame({"lead_id": ["L1"]}), tmp_path / "out" / AS_OF / "ratings.parquet")
    result = runner.invoke(app, ["verify", "-c", str(config), "--as-of", AS_OF])
    assert result.exit_code == 3
    assert "ratings.parquet lacks column(s)" in result.output


def test_verify_with_a_bad_config_key_is_a_config_error(tmp_path: Path) -> None:
    config = _setup(tmp_path)
    config.write_text(config.read_text() + "  fuzzy_treshold: 80\n")
    result = runner.invoke(app, ["verify", "-c", str(config), "--as-of", AS_OF])
    assert result.exit_code == 2
    assert "verify.fuzzy_treshold" in result.output


@pytest.mark.slow
def test_verify_on_the_generated_sample(sample_config: Path, tmp_path: Path) -> None:
    """Every MQL of the sample leaves verify exactly once; competitors and duplicates are caught."""
    assert (
        runner.invoke(
            app, ["validate", "-c", str(sample_config), "--as-of", "2026-11-20"]
        ).exit_code
        == 0
    )
    run_dir = tmp_path / "out" / "2026-11-20"
    leads = pl.read_parquet(run_dir / "canonical" / "leads.parquet").select("lead_id", "email")
    ratings = leads.join(
        pl.DataFrame({"product_group": ["Analytics", "Cloud"]}), how="cross"
    ).with_columns(
        rating=pl.lit("B2"), action=pl.lit("standard"), sla_tier=pl.lit("warm"), is_mql=pl.lit(True)
    )
    write_parquet(ratings.drop("email"), run_dir / "ratings.parquet")
    result = runner.invoke(
        app, ["verify", "-c", str(sample_config), "--as-of", "2026-11-20", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rows_in"] == ratings.height == summary["verified"] + summary["failed"]
    checks = summary["groups"]["Analytics"]["failed_checks"]
    assert checks["competitor"] > 0 and checks["duplicate"] > 0 and checks["student"] > 0
    verified = pl.read_parquet(run_dir / "verified.parquet")
    assert verified["region"].null_count() == 0
    assert (
        verified["account_match_method"].is_in(["account_id", "domain", "fuzzy_name", "none"]).all()
    )
    competitors = leads.filter(pl.col("email").str.contains("@(rivalsoft\\.com|competico\\.io)$"))[
        "lead_id"
    ]
    assert not verified["lead_id"].is_in(competitors.implode()).any()
    assert date.fromisoformat(summary["as_of"]) == date(2026, 11, 20)
