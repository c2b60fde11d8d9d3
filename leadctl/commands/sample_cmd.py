"""`leadctl sample`: write a realistic synthetic set of CRM and marketing exports."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from leadctl.cli_common import JsonOpt, app, console, handle_errors, print_json
from leadctl.errors import ConfigError
from leadctl.logs import is_quiet


@app.command()
@handle_errors
def sample(
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write the exports into.")],
    leads: Annotated[int, typer.Option("--leads", min=1, help="Number of leads.")] = 5000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same bytes).")] = 42,
    product_groups: Annotated[
        int, typer.Option("--product-groups", min=1, max=3, help="How many product groups (1-3).")
    ] = 2,
    export_date: Annotated[
        str, typer.Option("--export-date", help="Date the exports end (YYYY-MM-DD).")
    ] = "2026-11-20",
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    truth: Annotated[
        bool, typer.Option("--truth", help="Also write the hidden ground truth.")
    ] = False,
    shard_leads: Annotated[
        int,
        typer.Option(
            "--shard-leads",
            min=1,
            help="Above this many leads, generate independent shards of at most this many "
            "(own reps, accounts, random streams; bounded memory).",
        ),
    ] = 1_000_000,
    json_out: JsonOpt = False,
) -> None:
    """Generate Salesforce-shaped lead, account, opportunity and user exports plus a Marketo log.

    Up to --shard-leads (1,000,000) leads are one population; larger sizes are written shard by
    shard (10 M = ten independent 1 M populations appended to the same files), so memory stays
    that of one shard."""
    from leadctl.sample import generate_sample, shard_sizes

    if fmt not in {"csv", "parquet"}:
        raise ConfigError(f"--format must be csv or parquet, not {fmt!r}")
    try:
        end = datetime.strptime(export_date, "%Y-%m-%d").date()
    except ValueError:
        raise ConfigError(f"--export-date must look like 2026-11-20, not {export_date!r}") from None
    counts = generate_sample(
        out,
        n_leads=leads,
        seed=seed,
        product_groups=product_groups,
        export_date=end,
        fmt=fmt,
        truth=truth,
        shard_leads=shard_leads,
    )
    sizes = shard_sizes(leads, shard_leads)
    if json_out:
        print_json({"out": str(out), "files": counts, "shards": len(sizes)})
        return
    if is_quiet():
        return
    table = Table(title=f"Sample exports in {out}", title_justify="left")
    table.add_column("file")
    table.add_column("rows", justify="right")
    for name, rows in counts.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    if len(sizes) > 1:
        console.print(
            f"{leads:,} leads generated as {len(sizes)} independent shards of up to "
            f"{max(sizes):,} leads (each with its own reps, accounts and random streams; "
            "ids unique across shards), appended to the same files."
        )
