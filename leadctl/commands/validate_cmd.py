"""`leadctl validate`: read every export through mapping + schema and say what came in."""

from __future__ import annotations

from typing import Annotated

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
    workspace,
)
from leadctl.errors import DataQualityError
from leadctl.io.ingest import TableReport
from leadctl.logs import is_quiet
from leadctl.schemas import columns_of
from leadctl.workspace import Workspace


def check_reject_share(reports: dict[str, TableReport], limit: float) -> None:
    """Raise DataQualityError when any table rejected more than `limit` of its rows."""
    over = [r for r in reports.values() if r.rows_read and r.reject_share > limit]
    if over:
        parts = [
            f"{r.table}: {r.rows_rejected} of {r.rows_read} rows rejected ({r.reject_share:.1%}); "
            f"see rejects/{r.table}.csv"
            for r in over
        ]
        raise DataQualityError(
            "too many rejected rows (inputs.max_reject_share = "
            f"{limit:.1%}):\n  " + "\n  ".join(parts)
        )


def render_reports(reports: dict[str, TableReport], ws: Workspace) -> None:
    """One rich table per input table: counts, reasons, coverage."""
    summary = Table(title=f"Inputs as of {ws.as_of}", title_justify="left")
    for col in ("table", "rows read", "valid", "rejected", "reject %"):
        summary.add_column(col, justify="right" if col != "table" else "left")
    for r in reports.values():
        summary.add_row(
            r.table,
            f"{r.rows_read:,}",
            f"{r.rows_valid:,}",
            f"{r.rows_rejected:,}",
            f"{r.reject_share:.1%}",
        )
    console.print(summary)
    for r in reports.values():
        detail = Table(title=f"{r.table} ({r.path})", title_justify="left", show_lines=False)
        detail.add_column("column")
        detail.add_column("coverage", justify="right")
        detail.add_column("values nulled", justify="right")
        canonical = [c.name for c in columns_of(r.table)]
        ordered = [c for c in canonical if c in r.coverage] + sorted(
            set(r.coverage) - set(canonical)
        )
        for column in ordered:
            detail.add_row(column, f"{r.coverage[column]:.0%}", str(r.nulled.get(column, "")))
        console.print(detail)
        for reason, count in r.reasons.items():
            console.print(f"  rejected {count:,}: {reason}", highlight=False)
        for warning in r.warnings:
            console.print(f"  [yellow]warning:[/] {warning}", highlight=False)
    if any(r.rows_rejected for r in reports.values()):
        console.print(f"Rejected rows: {ws.rejects_dir}/<table>.csv", highlight=False)


def report_dict(reports: dict[str, TableReport]) -> dict[str, object]:
    return {name: {**vars(r), "reject_share": r.reject_share} for name, r in reports.items()}


@app.command()
@handle_errors
def validate(
    config: ConfigOpt = DEFAULT_CONFIG,
    as_of: AsOfOpt = "today",
    out: OutOpt = None,
    input_dir: InputDirOpt = None,
    json_out: JsonOpt = False,
    force: Annotated[
        bool, typer.Option("--force", help="Re-read exports even if unchanged.")
    ] = False,
) -> None:
    """Load every configured export through mapping and schema; report rows, rejects, coverage.

    Rejected rows go to <out>/<as-of>/rejects/<table>.csv with a _reason column. Exits 3 when a
    required column is missing and 4 when a table rejects more than inputs.max_reject_share.
    """
    ws = workspace(config, as_of, out, input_dir)
    reports = ws.ingest(force=force)
    if json_out:
        print_json({"as_of": ws.as_of.isoformat(), "tables": report_dict(reports)})
    elif not is_quiet():
        render_reports(reports, ws)
    check_reject_share(reports, ws.cfg.inputs.max_reject_share)
