"""`leadctl assign` on the generated sample: files, values, re-runs, crash recovery, next night."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from conftest import SAMPLE_AS_OF
from typer.testing import CliRunner

import leadctl.cli  # noqa: F401  (registers every command)
from leadctl.cli_common import app, workspace
from leadctl.commands import assign_cmd
from leadctl.io.writers import write_parquet
from leadctl.stages.assign import ASSIGNMENT_COLUMNS, AUDIT_COLUMNS, OVERFLOW_COLUMNS, TASK_COLUMNS
from leadctl.stages.assign_state import STATE_SCHEMA
from leadctl.stages.verify_geo import country_code
from leadctl.workspace import Workspace

runner = CliRunner()
AS_OF = SAMPLE_AS_OF.isoformat()
REGION = {
    "US": "NA",
    "CA": "NA",
    "GB": "EMEA",
    "DE": "EMEA",
    "FR": "EMEA",
    "NL": "EMEA",
    "ES": "EMEA",
    "AE": "EMEA",
    "SG": "APAC",
    "AU": "APAC",
    "JP": "APAC",
    "IN": "APAC",
    "CN": "APAC",
    "BR": "LATAM",
    "MX": "LATAM",
}


def fake_verified(ws: Workspace, share: float = 0.06, seed: int = 5) -> pl.DataFrame:
    """A verified.parquet-shaped frame from the sample's canonical leads and accounts.

    verify and rate are other stages; this keeps the assign tests independent of them while using
    the sample's real reps, leads, accounts and stage history.
    """
    leads = ws.table("leads").collect()
    accounts = ws.table("accounts").collect()
    candidates = leads.filter(pl.col("stage").is_in(["Inquiry", "MQL", "Recycled"]))
    rows = (
        candidates.select(
            "lead_id",
            "country",
            "industry",
            "employees",
            "owner_id",
            pl.col("account_id").alias("matched_account_id"),
        )
        .join(pl.DataFrame({"product_group": ["Analytics", "Cloud"]}), how="cross")
        .sort("lead_id", "product_group")
    )
    rng = np.random.default_rng(seed)
    keep = rng.random(rows.height) < share
    rows = rows.with_columns(pl.Series("propensity", rng.beta(2.0, 3.0, rows.height))).filter(
        pl.Series(keep)
    )
    codes = {c: country_code(c, {}) for c in rows["country"].drop_nulls().unique().to_list()}
    owners = accounts.select(
        pl.col("account_id").alias("matched_account_id"),
        pl.col("owner_id").alias("account_owner_id"),
        "named_account",
    )
    return (
        rows.with_columns(
            pl.col("country")
            .replace_strict(codes, default=None, return_dtype=pl.String)
            .alias("country_code")
        )
        .with_columns(
            pl.col("country_code")
            .replace_strict(REGION, default=None, return_dtype=pl.String)
            .alias("region")
        )
        .join(owners, on="matched_account_id", how="left")
        .with_columns(
            pl.when(pl.col("propensity") > 0.6)
            .then(pl.lit("fast_track"))
            .otherwise(pl.lit("standard"))
            .alias("action"),
            pl.when(pl.col("propensity") > 0.6)
            .then(pl.lit("A1"))
            .otherwise(pl.lit("B2"))
            .alias("rating"),
            pl.when(pl.col("propensity") > 0.6)
            .then(pl.lit("fast_track"))
            .otherwise(pl.lit("standard"))
            .alias("sla_tier"),
            pl.lit("MQL").alias("stage_to_set"),
            pl.lit(None, dtype=pl.String).alias("state_code"),
        )
        .drop("country")
        .sort("lead_id", "product_group")
    )


def prepare(config: Path, as_of: str = AS_OF) -> Workspace:
    ws = workspace(config, as_of)
    ws.ingest()
    write_parquet(fake_verified(ws), ws.output("verified.parquet"))
    return ws


def digests(ws: Workspace) -> dict[str, str]:
    files = [ws.output(name) for name in assign_cmd.OUTPUTS.values()]
    stamp = f"{ws.as_of.isoformat()}.parquet"
    files += [ws.state_dir / "assign" / stamp, ws.state_dir / "assignments_log" / stamp]
    return {
        p.name if p.parent == ws.run_dir else f"{p.parent.name}/{p.name}": hashlib.sha256(
            p.read_bytes()
        ).hexdigest()
        for p in files
    }


def invoke(config: Path, *extra: str, as_of: str = AS_OF):
    return runner.invoke(app, ["assign", "-c", str(config), "--as-of", as_of, *extra])


def test_assign_command_on_the_sample(sample_config: Path) -> None:
    ws = prepare(sample_config)
    verified_rows = pl.read_parquet(ws.output("verified.parquet")).height
    result = invoke(sample_config, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["verified_rows"] == verified_rows
    assert summary["assigned"] + summary["overflow"] + summary["kept"] == verified_rows
    # The default config routes most sample leads.
    assert summary["assigned"] >= 0.85 * (verified_rows - summary["kept"])
    assert set(summary["by_rule"]) <= {"named_account_owner", "returning_lead", "territory"}
    assert summary["by_rule"]["territory"] > 0

    assignments = pl.read_csv(ws.output("assignments.csv"), try_parse_dates=True)
    assert assignments.columns == ASSIGNMENT_COLUMNS
    assert assignments.height == summary["assigned"]
    assert assignments["sla_due_at"].null_count() == 0
    assert assignments.select("lead_id", "product_group").is_duplicated().sum() == 0
    tasks = pl.read_csv(ws.output("tasks.csv"))
    assert tasks.columns == TASK_COLUMNS
    assert tasks.height == summary["tasks"] and tasks.height >= 4 * assignments.height
    overflow = pl.read_csv(ws.output("overflow.csv"))
    assert overflow.columns == OVERFLOW_COLUMNS
    assert overflow["reason"].null_count() == 0
    audit = pl.read_parquet(ws.output("routing_audit.parquet"))
    assert audit.columns == AUDIT_COLUMNS
    assert audit.height == verified_rows * 4  # existing owner + three rules, for every row
    # Managers are excluded from distribution; nobody goes above capacity.
    reps = ws.table("reps").collect()
    managers = set(reps.filter(pl.col("role") == "Manager")["rep_id"].to_list())
    by_territory = assignments.filter(pl.col("routing_rule") == "territory")
    assert not set(by_territory["owner_id"].to_list()) & managers
    for team in summary["reps"].values():
        for row in team.values():
            assert row["open_after"] <= row["capacity"]
    # State and log for the expire stage.
    state = pl.read_parquet(ws.state_dir / "assign" / f"{AS_OF}.parquet")
    assert state.columns == list(STATE_SCHEMA)
    assert state.filter(pl.col("record") == "rep")["assigned_count"].sum() == summary["assigned"]
    log = pl.read_parquet(ws.state_dir / "assignments_log" / f"{AS_OF}.parquet")
    assert log.height == summary["assigned"]
    assert log.schema["assigned_at"] == pl.Datetime("us", "UTC")


def test_rich_summary_and_missing_input(sample_config: Path) -> None:
    missing = invoke(sample_config)
    assert missing.exit_code == 3
    assert (
        "verified.parquet does not exist" in missing.output and "leadctl verify" in missing.output
    )
    prepare(sample_config)
    shown = invoke(sample_config)
    assert shown.exit_code == 0, shown.output
    for title in ("Assign as of", "Per team and rep", "Assignments by routing rule"):
        assert title in shown.output


def test_rerun_same_night_is_byte_identical_and_does_not_advance_state(sample_config: Path) -> None:
    ws = prepare(sample_config)
    assert invoke(sample_config).exit_code == 0
    first = digests(ws)
    assert invoke(sample_config).exit_code == 0
    assert digests(ws) == first


def test_crash_between_outputs_and_state_then_rerun(
    sample_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after the outputs and log, before the state: the re-run equals a clean run."""
    from conftest import write_config

    clean_cfg = write_config(
        tmp_path / "clean.yaml",
        Path(workspace(sample_config, AS_OF).cfg.inputs.dir),
        tmp_path / "clean_out",
    )
    clean = prepare(clean_cfg)
    assert invoke(clean_cfg).exit_code == 0

    ws = prepare(sample_config)
    real = assign_cmd.write_parquet

    def crash_on_state(df: pl.DataFrame, path: Path) -> Path:
        if path.parent.name == "assign":
            raise RuntimeError("killed")
        return real(df, path)

    monkeypatch.setattr(assign_cmd, "write_parquet", crash_on_state)
    crashed = invoke(sample_config)
    assert crashed.exit_code == 1
    assert ws.output("assignments.csv").is_file()
    assert not (ws.state_dir / "assign" / f"{AS_OF}.parquet").exists()
    monkeypatch.setattr(assign_cmd, "write_parquet", real)

    assert invoke(sample_config).exit_code == 0
    assert digests(ws) == digests(clean)
    log = pl.read_parquet(ws.state_dir / "assignments_log" / f"{AS_OF}.parquet")
    assert log.select("lead_id", "product_group").is_duplicated().sum() == 0


def test_next_night_keeps_last_nights_assignments(sample_config: Path) -> None:
    ws = prepare(sample_config)
    assert invoke(sample_config).exit_code == 0
    first = pl.read_csv(ws.output("assignments.csv"))
    nxt = (SAMPLE_AS_OF + timedelta(days=1)).isoformat()
    ws2 = workspace(sample_config, nxt)
    ws2.ingest()
    write_parquet(pl.read_parquet(ws.output("verified.parquet")), ws2.output("verified.parquet"))
    result = invoke(sample_config, "--json", as_of=nxt)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    second = pl.read_csv(ws2.output("assignments.csv"))
    assert summary["kept"] >= first.height
    assert second.join(first, on=["lead_id", "product_group"], how="semi").height == 0
    # The state of night 2 builds on night 1.
    state = pl.read_parquet(ws.state_dir / "assign" / f"{nxt}.parquet").filter(
        pl.col("record") == "rep"
    )
    assert state["assigned_count"].sum() == first.height + second.height


def test_value_balanced_spread_on_sample_data(sample_config: Path) -> None:
    """With room to spare, expected value per rep in a team differs by at most one lead's value."""
    import yaml

    data = yaml.safe_load(sample_config.read_text())
    data["assign"]["default_capacity"] = 10_000
    data["inputs"]["tables"]["reps"]["columns"].pop("capacity")  # every rep: default_capacity
    data["assign"]["rules"] = [{"name": "territory", "kind": "territory"}]
    sample_config.write_text(yaml.safe_dump(data, sort_keys=False))
    ws = prepare(sample_config)
    result = invoke(sample_config, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assignments = pl.read_csv(ws.output("assignments.csv"))
    verified = pl.read_parquet(ws.output("verified.parquet")).select(
        "lead_id", "product_group", "propensity"
    )
    per_rep = (
        assignments.join(verified, on=["lead_id", "product_group"])
        .group_by("team", "owner_id")
        .agg(
            pl.col("propensity").sum().alias("value"),
            pl.col("propensity").max().alias("top"),
            pl.len(),
        )
    )
    spread = per_rep.group_by("team").agg(
        (pl.col("value").max() - pl.col("value").min()).alias("spread"),
        pl.col("top").max(),
        pl.col("len").sum(),
        pl.len().alias("reps"),
    )
    multi = spread.filter(pl.col("reps") > 1)
    assert multi.height >= 3
    assert (multi["spread"] <= multi["top"]).all(), multi
    assert summary["overflow"] <= summary["overflow_by_reason"].get("no_team_matched", 0) + summary[
        "overflow_by_reason"
    ].get("no_rep_covers_territory", 0) + summary["overflow_by_reason"].get(
        "all_reps_out_of_office", 0
    )


def test_next_night_reroutes_what_expire_released(sample_config: Path) -> None:
    ws = prepare(sample_config)
    assert invoke(sample_config).exit_code == 0
    first = pl.read_csv(ws.output("assignments.csv"))
    territory = first.filter(pl.col("routing_rule") == "territory").sort("lead_id").head(3)
    released = territory.select(
        "lead_id",
        "product_group",
        pl.col("owner_id").alias("previous_owner_id"),
        "team",
        pl.lit("sla_breach").alias("source"),
        pl.lit("untouched past sla_due_at").alias("reason"),
    )
    released.write_csv(ws.output("reassign.csv"))
    nxt = (SAMPLE_AS_OF + timedelta(days=1)).isoformat()
    ws2 = workspace(sample_config, nxt)
    ws2.ingest()
    write_parquet(pl.read_parquet(ws.output("verified.parquet")), ws2.output("verified.parquet"))
    assert invoke(sample_config, as_of=nxt).exit_code == 0
    second = pl.read_csv(ws2.output("assignments.csv"))
    again = second.join(released, on=["lead_id", "product_group"], how="inner")
    queued = pl.read_csv(ws2.output("overflow.csv")).join(
        released, on=["lead_id", "product_group"], how="inner"
    )
    assert again.height + queued.height == 3  # routed again, never silently kept
    assert again.height >= 1
    assert (again["owner_id"] != again["previous_owner_id"]).all()
    audit = pl.read_parquet(ws2.output("routing_audit.parquet")).filter(pl.col("rule_order") == 0)
    details = audit.join(released, on=["lead_id", "product_group"])["detail"].to_list()
    assert all(d.startswith("released from ") for d in details)
