"""`leadctl assign`: route verified MQLs to owners, with SLAs, pursuit tasks and an audit trail.

Write order makes a crashed night safe to re-run: the run-directory outputs first, then this
night's assignments log, then the state snapshot. Every one of them is keyed by the as-of date
and a night reads only earlier logs and snapshots, so a re-run recomputes exactly the same
result and overwrites the same files.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from rich.table import Table

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
from leadctl.errors import InputError
from leadctl.io.writers import write_csv, write_parquet
from leadctl.logs import is_quiet
from leadctl.schemas import UTC_DATETIME
from leadctl.stages.assign import AssignInputs, AssignResult, assign
from leadctl.stages.assign_state import STATE_SCHEMA, empty_state
from leadctl.workspace import Workspace

VERIFIED_FILE = "verified.parquet"
REASSIGN_FILE = "reassign.csv"
OUTPUTS = {
    "assignments": "assignments.csv",
    "tasks": "tasks.csv",
    "overflow": "overflow.csv",
    "audit": "routing_audit.parquet",
}
STATE_DIR = "assign"
LOG_DIR = "assignments_log"
# Earlier logs matter for continuity (its window) and for assignments the CRM does not show yet.
_MIN_LOG_DAYS = 30
_LOG_COLUMNS = pl.Schema(
    {
        "lead_id": pl.String(),
        "product_group": pl.String(),
        "owner_id": pl.String(),
        "assigned_at": UTC_DATETIME,
    }
)


def _dated_files(folder: Path) -> list[tuple[date, Path]]:
    """`<YYYY-MM-DD>.parquet` files of a folder, oldest first (other names are ignored)."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob("*.parquet"):
        try:
            found.append((date.fromisoformat(path.stem), path))
        except ValueError:
            continue
    return sorted(found)


def read_state(state_dir: Path, as_of: date) -> pl.DataFrame:
    """The latest snapshot strictly before `as_of` (empty when there is none)."""
    earlier = [p for d, p in _dated_files(state_dir / STATE_DIR) if d < as_of]
    if not earlier:
        return empty_state()
    path = earlier[-1]
    try:
        frame = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(
            f"cannot read assign state {path}: {exc}; delete it to start fresh"
        ) from None
    missing = [c for c in STATE_SCHEMA if c not in frame.columns]
    if missing:
        raise InputError(f"assign state {path} lacks column(s) {missing}; delete it to start fresh")
    return frame.select(list(STATE_SCHEMA)).cast(STATE_SCHEMA)


def read_log(state_dir: Path, as_of: date, lookback_days: int) -> pl.DataFrame:
    """Assignments logged by earlier nights within the lookback (never tonight's own file)."""
    first = as_of - timedelta(days=lookback_days)
    frames = []
    for day, path in _dated_files(state_dir / LOG_DIR):
        if not first <= day < as_of:
            continue
        try:
            frame = pl.read_parquet(path, columns=list(_LOG_COLUMNS))
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise InputError(
                f"cannot read assignments log {path} (columns {list(_LOG_COLUMNS)}): {exc}"
            ) from None
        frames.append(frame.cast(_LOG_COLUMNS))
    if not frames:
        return pl.DataFrame(schema=_LOG_COLUMNS)
    return pl.concat(frames)


def read_reassign(ws: Workspace) -> pl.DataFrame | None:
    """expire's reassign.csv from the latest earlier night's run directory, if there is one."""
    nights = []
    if ws.cfg.output.dir.is_dir():
        for folder in ws.cfg.output.dir.iterdir():
            try:
                day = date.fromisoformat(folder.name)
            except ValueError:
                continue
            if day < ws.as_of and folder.is_dir():
                nights.append((day, folder))
    if not nights:
        return None
    path = max(nights)[1] / REASSIGN_FILE
    if not path.is_file():
        return None
    try:
        frame = pl.read_csv(path, infer_schema=False)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    need = ["lead_id", "product_group", "previous_owner_id", "source"]
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise InputError(f"{path} lacks column(s) {missing} (written by `leadctl expire`)")
    return frame


def summarize(result: AssignResult, verified_rows: int) -> dict[str, Any]:
    """JSON-able summary: per team and rep, load against capacity, overflow by reason."""
    teams: dict[str, Any] = {}
    for team, n, v in (
        result.shares.group_by("team")
        .agg(pl.col("assigned").sum(), pl.col("expected_value").sum())
        .sort("team")
        .rows()
    ):
        teams[str(team)] = {"assigned": int(n), "expected_value": round(float(v), 4)}
    loads = result.roster.select("rep_id", "capacity", "open_before", "open_leads")
    reps: dict[str, Any] = {}
    for team, rep, n, v, cap, before, after in (
        result.shares.join(loads, left_on="owner_id", right_on="rep_id", how="left")
        .sort("team", "owner_id")
        .rows()
    ):
        reps.setdefault(str(team), {})[str(rep)] = {
            "assigned": int(n),
            "expected_value": round(float(v), 4),
            "capacity": None if cap is None else int(cap),
            "open_before": None if before is None else int(before),
            "open_after": None if after is None else int(after),
        }
    overflow = {
        str(k): int(v) for k, v in result.overflow.group_by("reason").len().sort("reason").rows()
    }
    rules = {
        str(k): int(v)
        for k, v in result.assignments.group_by("routing_rule").len().sort("routing_rule").rows()
    }
    return {
        "verified_rows": verified_rows,
        "kept": result.kept,
        "assigned": result.assignments.height,
        "overflow": result.overflow.height,
        "tasks": result.tasks.height,
        "by_rule": rules,
        "teams": teams,
        "reps": reps,
        "overflow_by_reason": overflow,
        "warnings": list(result.warnings),
    }


def run_assign(ws: Workspace) -> dict[str, Any]:
    """Read verified rows, reps, leads, history, earlier logs and state; route; write everything."""
    cfg = ws.cfg
    verified = ws.read_output(VERIFIED_FILE, produced_by="verify")
    windows = [r.within_days for r in cfg.assign.rules if r.kind == "continuity"]
    lookback = max([_MIN_LOG_DAYS, *windows]) + 1
    inputs = AssignInputs(
        verified=verified,
        reps=ws.table("reps"),
        leads=ws.table("leads"),
        stage_history=ws.table("stage_history"),
        log=read_log(ws.state_dir, ws.as_of, lookback),
        state=read_state(ws.state_dir, ws.as_of),
        reassign=read_reassign(ws),
    )
    result = assign(
        inputs,
        cfg=cfg.assign,
        lifecycle=cfg.lifecycle,
        product_groups=ws.product_groups(),
        as_of=ws.as_of,
    )
    escape = cfg.output.escape_formulas
    paths = {
        "assignments": write_csv(
            result.assignments, ws.output(OUTPUTS["assignments"]), escape=escape
        ),
        "tasks": write_csv(result.tasks, ws.output(OUTPUTS["tasks"]), escape=escape),
        "overflow": write_csv(result.overflow, ws.output(OUTPUTS["overflow"]), escape=escape),
        "audit": write_parquet(result.audit, ws.output(OUTPUTS["audit"])),
    }
    stamp = f"{ws.as_of.isoformat()}.parquet"
    paths["log"] = write_parquet(result.log, ws.state_dir / LOG_DIR / stamp)
    paths["state"] = write_parquet(result.state, ws.state_dir / STATE_DIR / stamp)
    verified_rows = result.audit.filter(pl.col("rule_order") == 0).height
    return {
        "as_of": ws.as_of.isoformat(),
        **summarize(result, verified_rows),
        "outputs": {k: str(v) for k, v in paths.items()},
    }


def render_assign(summary: dict[str, Any]) -> None:
    """Totals, assignments and expected value per team and rep, load against capacity, overflow."""
    head = Table(title=f"Assign as of {summary.get('as_of', '')}", title_justify="left")
    for col in ("verified", "kept (already owned)", "assigned", "overflow", "tasks"):
        head.add_column(col, justify="right")
    head.add_row(
        f"{summary['verified_rows']:,}",
        f"{summary['kept']:,}",
        f"{summary['assigned']:,}",
        f"{summary['overflow']:,}",
        f"{summary['tasks']:,}",
    )
    console.print(head)
    if summary["by_rule"]:
        rules = Table(title="Assignments by routing rule", title_justify="left")
        rules.add_column("rule")
        rules.add_column("assigned", justify="right")
        for rule, n in summary["by_rule"].items():
            rules.add_row(rule, f"{n:,}")
        console.print(rules)
    if summary["reps"]:
        reps = Table(title="Per team and rep", title_justify="left")
        for col in (
            "team",
            "rep",
            "assigned",
            "expected value",
            "open before",
            "open after",
            "capacity",
        ):
            reps.add_column(col, justify="left" if col in ("team", "rep") else "right")
        for team, members in summary["reps"].items():
            total = summary["teams"].get(team, {})
            reps.add_row(
                f"[bold]{team}[/]",
                "",
                f"[bold]{total.get('assigned', 0):,}[/]",
                f"[bold]{total.get('expected_value', 0.0):.2f}[/]",
                "",
                "",
                "",
            )
            for rep, row in members.items():
                cap = row["capacity"]
                after = row["open_after"]
                style = "red" if cap is not None and after is not None and after >= cap else ""
                reps.add_row(
                    "",
                    rep,
                    f"{row['assigned']:,}",
                    f"{row['expected_value']:.2f}",
                    str(row["open_before"] if row["open_before"] is not None else "-"),
                    f"[{style}]{after}[/]" if style else str(after if after is not None else "-"),
                    str(cap if cap is not None else "-"),
                )
        console.print(reps)
    if summary["overflow_by_reason"]:
        over = Table(title="Overflow queue by reason (overflow.csv)", title_justify="left")
        over.add_column("reason")
        over.add_column("leads", justify="right")
        for reason, n in summary["overflow_by_reason"].items():
            over.add_row(reason, f"{n:,}")
        console.print(over)
    print_warnings(summary.get("warnings", []))


@app.command("assign")
@handle_errors
def assign_command(
    config: ConfigOpt = DEFAULT_CONFIG,
    as_of: AsOfOpt = "today",
    out: OutOpt = None,
    input_dir: InputDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Route verified MQLs to owners: rules in order, team distribution, SLA deadlines, tasks.

    Reads verified.parquet (from `leadctl verify`), the reps, leads and stage history,
    state/assign/ + state/assignments_log/ from earlier nights, and the previous night's
    reassign.csv (from `leadctl expire`). Writes assignments.csv,
    tasks.csv, overflow.csv and routing_audit.parquet into <out>/<as-of>/, this night's
    state/assignments_log/<as-of>.parquet and state/assign/<as-of>.parquet. Re-running the same
    --as-of gives the same result and never assigns a lead twice.
    """
    ws = workspace(config, as_of, out, input_dir)
    summary = run_assign(ws)
    if json_out:
        print_json(summary)
    elif not is_quiet():
        render_assign(summary)
        console.print(f"Outputs: {ws.run_dir}", highlight=False)
