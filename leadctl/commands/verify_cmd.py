"""`leadctl verify`: check MQL rows' contact data, geography, account and exclusions."""

from __future__ import annotations

from typing import Any

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
from leadctl.config.verify import load_reference_lists
from leadctl.io.writers import write_csv, write_parquet
from leadctl.logs import is_quiet
from leadctl.stages.verify import summarize, verify
from leadctl.workspace import Workspace

VERIFIED_FILE = "verified.parquet"
FAILURES_FILE = "verify_failures.csv"


def run_verify(ws: Workspace) -> dict[str, Any]:
    """Read ratings and canonical tables, verify MQL rows, write both outputs; return a summary."""
    cfg = ws.cfg.verify
    result = verify(
        ws.read_output("ratings.parquet", produced_by="rate"),
        ws.table("leads"),
        ws.table("accounts"),
        ws.table("opportunities"),
        ws.table("activities"),
        cfg,
        load_reference_lists(cfg),
        as_of=ws.as_of,
    )
    verified_path = write_parquet(result.verified, ws.output(VERIFIED_FILE))
    failures_path = write_csv(
        result.failures, ws.output(FAILURES_FILE), escape=ws.cfg.output.escape_formulas
    )
    return {
        "as_of": ws.as_of.isoformat(),
        **summarize(result),
        "outputs": {"verified": str(verified_path), "failures": str(failures_path)},
    }


def render_verify(summary: dict[str, Any]) -> None:
    """Rows in / verified / failed per product group, then failed-check counts per group."""
    groups: dict[str, Any] = summary["groups"]
    names = sorted(groups)
    overview = Table(title=f"Verify as of {summary.get('as_of', '')}", title_justify="left")
    for col in ("product group", "rows in", "verified", "failed", "failed %"):
        overview.add_column(col, justify="left" if col == "product group" else "right")
    for name in names:
        g = groups[name]
        share = g["failed"] / g["rows_in"] if g["rows_in"] else 0.0
        overview.add_row(
            name, f"{g['rows_in']:,}", f"{g['verified']:,}", f"{g['failed']:,}", f"{share:.1%}"
        )
    total = summary["rows_in"]
    overview.add_row(
        "all",
        f"{total:,}",
        f"{summary['verified']:,}",
        f"{summary['failed']:,}",
        f"{summary['failed'] / total:.1%}" if total else "0.0%",
        style="bold",
    )
    console.print(overview)
    for key, title in (
        ("failed_checks", "Failed checks"),
        ("warnings", "Warnings (rows verified)"),
    ):
        checks = sorted({c for g in groups.values() for c in g[key]})
        if not checks:
            continue
        table = Table(title=f"{title} per product group", title_justify="left")
        table.add_column("check")
        for name in names:
            table.add_column(name, justify="right")
        for check in checks:
            table.add_row(check, *(f"{groups[n][key].get(check, 0):,}" for n in names))
        console.print(table)
    outputs = summary.get("outputs")
    if outputs:
        console.print(
            f"Verified: {outputs['verified']}\nFailures: {outputs['failures']}", highlight=False
        )


@app.command("verify")
@handle_errors
def verify_command(
    config: ConfigOpt = DEFAULT_CONFIG,
    as_of: AsOfOpt = "today",
    out: OutOpt = None,
    input_dir: InputDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Check every MQL's data before assignment: e-mail, phone, country/region, duplicates,
    account match and exclusions (do-not-contact, competitor, partner, student, open deal, consent).

    Reads <out>/<as-of>/ratings.parquet (run `leadctl rate` first) and writes verified.parquet
    (ready for assignment) and verify_failures.csv (checks failed and suggested fixes) there.
    Every MQL row is in exactly one of the two files.
    """
    ws = workspace(config, as_of, out, input_dir)
    summary = run_verify(ws)
    if json_out:
        print_json(summary)
    elif not is_quiet():
        render_verify(summary)
