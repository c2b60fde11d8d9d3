"""`leadctl report`: one self-contained HTML report, the tables behind it, a terminal summary.

Reads whatever the night produced (canonical tables, stage outputs, state snapshots, model
cards); sections whose inputs are missing say which command makes them. Writes
<run>/report/report.html and <run>/report/tables/<table>.parquet + .csv.
"""

from __future__ import annotations

import json
import logging
import math
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
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
from leadctl.io.writers import write_csv, write_parquet, write_text
from leadctl.logs import is_quiet
from leadctl.report_html.render import render_page
from leadctl.stages.report import build_report, report_warnings
from leadctl.stages.report_common import PRODUCERS, ReportContext, ReportInputs, Section
from leadctl.stages.report_compare import Side
from leadctl.workspace import Workspace

log = logging.getLogger("leadctl.report")

CANONICAL = ("stage_history", "opportunities", "sales_touches", "leads", "reps")
OUTPUT_FILES = tuple(name for name in PRODUCERS if "/" not in name)


def _dated_parquets(directory: Path) -> dict[date, pl.LazyFrame]:
    """`<directory>/<YYYY-MM-DD>.parquet` files by date (other names are ignored)."""
    found: dict[date, pl.LazyFrame] = {}
    if not directory.is_dir():
        return found
    for path in sorted(directory.glob("*.parquet")):
        try:
            day = date.fromisoformat(path.stem)
        except ValueError:
            continue
        found[day] = pl.scan_parquet(path)
    return found


def _scan_output(path: Path) -> pl.LazyFrame | None:
    if not path.is_file():
        return None
    if path.suffix == ".parquet":
        return pl.scan_parquet(path)
    if path.stat().st_size == 0:
        return None
    # CSV outputs are read as text (ids stay ids); the sections cast what they compute on.
    return pl.scan_csv(path, infer_schema=False)


def _cards(models_dir: Path, groups: list[str]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    cards, problems = {}, []
    for group in groups:
        path = models_dir / group / "card.json"
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problems.append(
                f"model card {path} is unreadable ({type(exc).__name__}); retrain with `leadctl "
                "train`"
            )
            continue
        if isinstance(data, dict):
            cards[group] = data
    return cards, problems


def _state_inputs(ws: Workspace, inputs: ReportInputs) -> None:
    inputs.rate_snapshots = _dated_parquets(ws.state_dir / "rate")
    logs = _dated_parquets(ws.state_dir / "assignments_log")
    single = ws.state_dir / "assignments_log.parquet"
    if single.is_file():  # one appended log file: filtered by assigned_at instead of by file date
        logs[date.min] = pl.scan_parquet(single)
    inputs.assignment_logs = logs


def load_inputs(ws: Workspace) -> tuple[ReportInputs, list[str]]:
    """Everything the report reads for this night, lazily; problems that are not fatal."""
    inputs = ReportInputs()
    for name in CANONICAL:
        if name in ws.cfg.inputs.tables:
            inputs.tables[name] = ws.table(name)
    for name in OUTPUT_FILES:
        frame = _scan_output(ws.output(name))
        if frame is not None:
            inputs.outputs[name] = frame
    _state_inputs(ws, inputs)
    inputs.cards, problems = _cards(ws.models_dir, ws.product_groups())
    return inputs, problems


def _other_run(ws: Workspace, compare: str) -> tuple[ReportInputs, date]:
    """The run to compare with: a date (its run directory under output.dir) or a directory."""
    other_day: date | None
    try:
        other_day = datetime.strptime(compare, "%Y-%m-%d").date()
    except ValueError:
        other_day = None
    run_dir = (
        ws.cfg.output.run_dir(other_day) if other_day else Path(compare).expanduser().resolve()
    )
    if not run_dir.is_dir():
        raise InputError(
            f"--compare {compare}: run directory {run_dir} does not exist; run "
            f"`leadctl run --as-of <date>` for it first, or pass an existing run directory"
        )
    if other_day is None:
        other_day = _run_as_of(run_dir)
    inputs = ReportInputs()
    for name in CANONICAL:
        path = run_dir / "canonical" / f"{name}.parquet"
        if path.is_file():
            inputs.tables[name] = pl.scan_parquet(path)
    for name in OUTPUT_FILES:
        frame = _scan_output(run_dir / name)
        if frame is not None:
            inputs.outputs[name] = frame
    _state_inputs(ws, inputs)
    inputs.cards, _ = _cards(ws.models_dir, ws.product_groups())
    return inputs, other_day


def _run_as_of(run_dir: Path) -> date:
    manifest = run_dir / "manifest.json"
    if manifest.is_file():
        try:
            return date.fromisoformat(str(json.loads(manifest.read_text())["as_of"]))
        except (OSError, ValueError, KeyError):
            pass
    try:
        return date.fromisoformat(run_dir.name)
    except ValueError:
        raise InputError(
            f"--compare {run_dir}: cannot tell its as-of date (no manifest.json with as_of, and "
            "the "
            "folder is not named YYYY-MM-DD)"
        ) from None


def report_context(ws: Workspace, as_of: date | None = None) -> ReportContext:
    # getattr: the rate and expire sections are read defensively (their keys have defaults).
    rules = [
        {"rule": r.name, "owner": r.owner, "review_by": r.review_by}
        for r in getattr(ws.cfg.rate, "overrides", [])
    ]
    frame = pl.DataFrame(
        rules, schema={"rule": pl.String, "owner": pl.String, "review_by": pl.Date}
    )
    return ReportContext(
        as_of=as_of or ws.as_of,
        product_groups=ws.product_groups(),
        report=ws.cfg.report,
        lifecycle=ws.cfg.lifecycle,
        override_rules=frame,
        expire_reason=getattr(ws.cfg.expire, "reason", "Expired - no activity"),
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, 6)
    if isinstance(value, date):
        return value.isoformat()
    return value


def write_tables(sections: list[Section], tables_dir: Path, *, escape: bool) -> dict[str, int]:
    """Each section table as Parquet and CSV; files of tables no longer produced are removed."""
    rows: dict[str, int] = {}
    for section in sections:
        for name, frame in section.tables.items():
            write_parquet(frame, tables_dir / f"{name}.parquet")
            write_csv(frame, tables_dir / f"{name}.csv", escape=escape)
            rows[name] = frame.height
    if tables_dir.is_dir():
        for path in sorted(tables_dir.iterdir()):
            if path.suffix in (".parquet", ".csv") and path.stem not in rows:
                path.unlink()
    return rows


def run_report(ws: Workspace, *, compare: str | None = None) -> dict[str, Any]:
    """Build and write the report for `ws`; return a JSON-able summary (used by `run` too)."""
    inputs, problems = load_inputs(ws)
    ctx = report_context(ws)
    side = None
    if compare:
        other_inputs, other_day = _other_run(ws, compare)
        ratings = other_inputs.outputs.get("ratings.parquet")
        if ratings is None:
            ratings = other_inputs.rate_snapshots.get(other_day)
        side = Side(other_inputs, report_context(ws, other_day), f"run of {other_day}", ratings)
    sections = build_report(inputs, ctx, compare=side)
    warnings = [*problems, *report_warnings(sections)]
    report_dir = ws.run_dir / "report"
    rows = write_tables(sections, report_dir / "tables", escape=ws.cfg.output.escape_formulas)
    html = render_page(
        sections,
        as_of=ws.as_of,
        product_groups=ctx.product_groups,
        max_rows=ws.cfg.report.html_max_rows,
        warnings=warnings,
    )
    write_text(html, report_dir / "report.html")
    log.info("report written: %d sections, %d tables", len(sections), len(rows))
    return _jsonable(
        {
            "as_of": ws.as_of.isoformat(),
            "report": str(report_dir / "report.html"),
            "tables_dir": str(report_dir / "tables"),
            "sections": {s.key: s.status for s in sections},
            "tables": rows,
            "numbers": {s.key: s.numbers for s in sections if s.numbers},
            "warnings": warnings,
        }
    )


def _fmt(value: Any, percent: bool = False) -> str:
    if value is None:
        return "-"
    if percent and isinstance(value, int | float):
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def render_report(summary: dict[str, Any]) -> None:
    """The short terminal summary: section status, a few key numbers, warnings, where it is."""
    table = Table(title=f"Report as of {summary['as_of']}", title_justify="left")
    table.add_column("section")
    table.add_column("status")
    for key, status in summary["sections"].items():
        colour = "green" if status == "ok" else "yellow" if status == "partial" else "red"
        table.add_row(key, f"[{colour}]{status}[/]")
    console.print(table)
    numbers = summary.get("numbers", {})
    keys = Table(title="Key numbers per product group", title_justify="left")
    for col in (
        "product group",
        "MQLs (period)",
        "SLA compliance",
        "AUC",
        "top-share capture",
        "model",
    ):
        keys.add_column(col, justify="left" if col in ("product group", "model") else "right")
    groups = sorted(
        set(numbers.get("funnel", {}).get("mqls_in_period", {}))
        | set(numbers.get("model_quality", {}).get("auc", {}))
    )
    for group in groups:
        keys.add_row(
            group,
            _fmt(numbers.get("funnel", {}).get("mqls_in_period", {}).get(group)),
            _fmt(numbers.get("sla", {}).get("sla_compliance", {}).get(group), percent=True),
            _fmt(numbers.get("model_quality", {}).get("auc", {}).get(group)),
            _fmt(
                numbers.get("conversion_by_rating", {}).get("top_share_capture", {}).get(group),
                percent=True,
            ),
            _fmt(numbers.get("model_quality", {}).get("recommendation", {}).get(group)),
        )
    if groups:
        console.print(keys)
    print_warnings(summary.get("warnings", []))
    console.print(
        f"Report: {summary['report']}  (tables in {summary['tables_dir']})", highlight=False
    )


@app.command()
@handle_errors
def report(
    config: ConfigOpt = DEFAULT_CONFIG,
    as_of: AsOfOpt = "today",
    out: OutOpt = None,
    input_dir: InputDirOpt = None,
    compare: Annotated[
        str | None,
        typer.Option(
            "--compare",
            help="Another run to put side by side (before/after): its run directory or as-of date.",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Write the HTML report and its tables for one night, and print a short summary.

    Sections: weekly scorecard, funnel and velocity, conversion by rating, model quality and
    drift, SLA and persistence compliance, sales feedback, override rules, expirations / zombies /
    recycles, rep load and fairness, before / after. Sections whose inputs are missing say which
    command makes them. Output: <out>/<as-of>/report/report.html (self-contained, opens offline)
    and report/tables/<table>.parquet + .csv.
    """
    ws = workspace(config, as_of, out, input_dir)
    summary = run_report(ws, compare=compare)
    if json_out:
        print_json(summary)
    elif not is_quiet():
        render_report(summary)
