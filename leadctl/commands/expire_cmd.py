"""`leadctl expire`: stage tracking, sales feedback, SLA/persistence breaches and expiration."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from rich import box
from rich.table import Table
from rich.text import Text

from leadctl.cli_common import (
    DEFAULT_CONFIG,
    AsOfOpt,
    ConfigOpt,
    InputDirOpt,
    JsonOpt,
    OutOpt,
    app,
    console,
    handle_errors,
    print_json,
    print_warnings,
    workspace,
)
from leadctl.config.expire import persistence_criteria
from leadctl.errors import InputError
from leadctl.io.writers import write_csv, write_json
from leadctl.logs import is_quiet
from leadctl.stages.expire import ExpireInputs, expire, validate_config
from leadctl.stages.expire_common import ASSIGNMENT_SCHEMA, UTC_DT, empty_assignments
from leadctl.stages.expire_summary import METRICS, summarize
from leadctl.workspace import Workspace

log = logging.getLogger("leadctl.expire")

# Output file of each ExpireResult field.
OUTPUT_FILES = {
    "stage_updates": "stage_updates.csv",
    "sla_breaches": "sla_breaches.csv",
    "persistence_breaches": "persistence_breaches.csv",
    "suppression": "suppression.csv",
    "feedback_issues": "feedback_issues.csv",
    "zombies": "zombies.csv",
    "illegal_transitions": "illegal_transitions.csv",
    "reassign": "reassign.csv",
}
SUMMARY_FILE = "expire_summary.json"
LOG_DIR = "assignments_log"
_REQUIRED_LOG_COLUMNS = ["lead_id", "product_group", "owner_id", "assigned_at", "sla_due_at"]


def _log_column(name: str, dtype: pl.DataType, found: pl.DataType | None, path: Path) -> pl.Expr:
    """One column of an assignment-log file in the canonical type (absent optional → null)."""
    if found is None:
        return pl.lit(None, dtype=dtype).alias(name)
    if dtype == UTC_DT:
        if not isinstance(found, pl.Datetime):
            raise InputError(
                f"{path}: column {name} is {found}, not a timestamp; rewrite the file with "
                f"`leadctl assign` or fix the column to Datetime (UTC)"
            )
        col = pl.col(name)
        col = (
            col.dt.replace_time_zone("UTC")
            if found.time_zone is None
            else col.dt.convert_time_zone("UTC")
        )
        return col.cast(UTC_DT).alias(name)
    if dtype == pl.Int64:
        if not found.is_integer():
            raise InputError(f"{path}: column {name} is {found}, not a whole number")
        return pl.col(name).cast(pl.Int64).alias(name)
    return pl.col(name).cast(pl.String).alias(name)


def read_assignment_log(state_dir: Path, as_of: date) -> tuple[pl.LazyFrame, list[str]]:
    """Every `assignments_log/<YYYY-MM-DD>.parquet` dated on or before as-of, and warnings.

    No folder or no file yet (assign has not run) gives an empty log: SLA checks find nothing
    and persistence falls back to the MQL date.
    """
    folder = state_dir / LOG_DIR
    if not folder.is_dir():
        return empty_assignments(), []
    frames, warnings = [], []
    for path in sorted(folder.glob("*.parquet")):
        try:
            day = date.fromisoformat(path.stem)
        except ValueError:
            warnings.append(f"{path} is not named <YYYY-MM-DD>.parquet; skipped")
            continue
        if day > as_of:
            continue
        try:
            schema = pl.read_parquet_schema(path)
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise InputError(f"cannot read assignment log {path}: {exc}") from None
        missing = [c for c in _REQUIRED_LOG_COLUMNS if c not in schema]
        if missing:
            raise InputError(
                f"assignment log {path} lacks column(s) {missing}; expected "
                f"{list(ASSIGNMENT_SCHEMA)} (written by `leadctl assign`)"
            )
        exprs = [
            _log_column(n, t, schema.get(n), path)
            for n, t in ASSIGNMENT_SCHEMA.items()
            if n != "logged_on"
        ]
        logged_on = pl.lit(day, dtype=pl.Date).alias("logged_on")
        frames.append(pl.scan_parquet(path).select(*exprs, logged_on))
    if not frames:
        return empty_assignments(), warnings
    return pl.concat(frames), warnings


def run_expire(ws: Workspace) -> dict[str, Any]:
    """Read, decide, write every expire output into the run directory; return the summary."""
    cfg = ws.cfg
    validate_config(cfg.expire, cfg.lifecycle)  # before any data is read
    assignments, warnings = read_assignment_log(ws.state_dir, ws.as_of)
    inputs = ExpireInputs(
        stage_history=ws.table("stage_history"),
        sales_touches=ws.table("sales_touches"),
        leads=ws.table("leads"),
        reps=ws.table("reps"),
        assignments=assignments,
    )
    result = expire(
        inputs,
        product_groups=ws.product_groups(),
        lifecycle=cfg.lifecycle,
        cfg=cfg.expire,
        criteria=persistence_criteria(cfg),
        as_of=ws.as_of,
    )
    lazy = result.frames()
    collected = dict(zip(lazy, pl.collect_all(list(lazy.values())), strict=True))
    escape = cfg.output.escape_formulas
    files = {}
    for name, frame in collected.items():
        write_csv(frame, ws.output(OUTPUT_FILES[name]), escape=escape)
        files[name] = OUTPUT_FILES[name]  # relative to the run directory: same bytes anywhere
    summary = summarize(collected, ws.as_of)
    summary["files"] = files
    summary["warnings"] = warnings
    write_json(summary, ws.output(SUMMARY_FILE))
    log.info(
        "expire: %d stage updates, %d SLA breaches, %d zombies",
        collected["stage_updates"].height,
        collected["sla_breaches"].height,
        collected["zombies"].height,
    )
    return summary


# Per team / rep columns (short headers: the table must fit an 80-column terminal; every
# count is in the totals table and in --json).
_COLUMNS = {
    "expired": [m for m in METRICS if m.startswith("expired_")],
    "SLA": ["sla_breaches"],
    "persist": ["persistence_breaches"],
    "zombie": ["zombies"],
    "no reason": ["missing_reason", "unknown_reason"],
    "illegal": ["illegal_transitions"],
}


def render_expire(summary: dict[str, Any]) -> None:
    """Totals, then a line per team and per rep (ids only: the console may end up in a log)."""
    totals = summary["totals"]
    head = Table(title=f"Expire as of {summary['as_of']}", title_justify="left", box=box.SIMPLE)
    head.add_column("what")
    head.add_column("count", justify="right")
    for metric in METRICS:
        head.add_row(metric.replace("_", " "), f"{totals[metric]:,}")
    console.print(head)
    table = Table(
        title="Per team and rep",
        title_justify="left",
        box=box.SIMPLE,
        padding=(0, 1),
        pad_edge=False,
    )
    table.add_column("team / rep", no_wrap=True, min_width=20)
    for label in _COLUMNS:
        table.add_column(label, justify="right", no_wrap=True)

    def cells(counts: dict[str, int]) -> list[str]:
        return [f"{sum(counts[m] for m in ms):,}" for ms in _COLUMNS.values()]

    for team, data in sorted(summary["teams"].items()):
        table.add_row(Text(team, style="bold"), *cells(data["totals"]))
        for rep, counts in sorted(data["reps"].items()):
            table.add_row(Text(f"  {rep}"), *cells(counts))
    console.print(table)
    print_warnings(summary.get("warnings", []))


@app.command("expire")
@handle_errors
def expire_cmd(
    config: ConfigOpt = DEFAULT_CONFIG,
    as_of: AsOfOpt = "today",
    out: OutOpt = None,
    input_dir: InputDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Expire leads no longer worked; report SLA/persistence breaches, zombies and feedback issues.

    Reads the stage history, sales touches, leads, reps and state/assignments_log/. Writes
    stage_updates.csv (CRM import), sla_breaches.csv, persistence_breaches.csv, suppression.csv,
    feedback_issues.csv, zombies.csv, illegal_transitions.csv, reassign.csv and
    expire_summary.json into <out>/<as-of>/. All times count from --as-of.
    """
    ws = workspace(config, as_of, out, input_dir)
    summary = run_expire(ws)
    if json_out:
        print_json(summary)
    elif not is_quiet():
        render_expire(summary)
