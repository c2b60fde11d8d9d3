"""Deterministic synthetic CRM / marketing-automation exports with a hidden, learnable truth.

Why: leadctl needs realistic data for tests, demos and benchmarks without touching personal data.
The files are shaped like a Salesforce export (leads, accounts, opportunities, users, stage
history, tasks) plus a Marketo activity log, with the dirt real exports have. Conversion (an
opportunity for a lead and product group) is driven by hidden fit and intent that show up in the
exports *before* the opportunity exists, so a model can beat a points model; the truth can be
written to `_truth/` for evaluation but never is by default.

Same arguments → byte-identical files: every random draw comes from a PCG64 stream keyed by
(seed, table, chunk), and all times derive from `export_date`, never from the wall clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import polars as pl

from leadctl import sample_vocab as V
from leadctl.errors import ConfigError
from leadctl.sample_activities import activity_chunks
from leadctl.sample_events import (
    draw_conversions,
    lead_outcomes,
    make_history,
    make_opportunities,
    make_tasks,
)
from leadctl.sample_people import make_accounts, make_leads, make_users
from leadctl.sample_util import rng_for

__all__ = ["generate_sample", "LEAD_COLUMNS"]

LEAD_COLUMNS = [
    "Id",
    "FirstName",
    "LastName",
    "Email",
    "Phone",
    "Title",
    "Company",
    "Industry",
    "NumberOfEmployees",
    "AnnualRevenue",
    "Country",
    "State",
    "LeadSource",
    "CreatedDate",
    "Lifecycle_Stage__c",
    "OwnerId",
    "HasOptedOutOfEmail",
    "DoNotCall",
    "GDPR_Consent__c",
    "Account__c",
    "IsConverted",
    "ConvertedDate",
    "Current_Occupation__c",
    "Budget__c",
    "Purchase_Timeframe__c",
]
# Stream keys: one independent random stream per table, so tables never shift each other.
_USERS, _CODES, _ACCOUNTS, _LEADS, _CONV, _OPPS, _HISTORY, _TASKS, _ACTIVITIES = range(1, 10)


def generate_sample(
    out_dir: Path,
    *,
    n_leads: int = 5000,
    seed: int = 42,
    product_groups: int = 2,
    export_date: date = date(2026, 11, 20),
    fmt: str = "csv",
    truth: bool = False,
) -> dict[str, int]:
    """Write the exports into out_dir and return {file_name: row_count}.

    History covers about two years before `export_date` (midnight UTC); nothing happens on or
    after it. `fmt` is "csv" or "parquet" (same stems). `truth=True` also writes
    `_truth/ground_truth.parquet` with the latent fit / intent and the converted flag.
    """
    if fmt not in ("csv", "parquet"):
        raise ConfigError(f"fmt must be 'csv' or 'parquet', not {fmt!r}")
    if not 1 <= product_groups <= len(V.PRODUCT_GROUPS):
        raise ConfigError(f"product_groups must be between 1 and {len(V.PRODUCT_GROUPS)}")
    if n_leads < 1 or seed < 0:
        raise ConfigError("n_leads must be at least 1 and seed must not be negative")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    export = int(
        datetime(export_date.year, export_date.month, export_date.day, tzinfo=UTC).timestamp()
    )
    n_pg = product_groups

    users = make_users(rng_for(seed, _USERS), n_leads, n_pg, export)
    n_acc = max(20, n_leads // 5)
    n_comp = max(20, int(n_leads * 0.3 / 1.3))
    space = len(V.TLD_STYLES) * len(V.SYLLABLES) ** 3
    need = n_acc + n_comp
    codes = rng_for(seed, _CODES).choice(space, need, replace=need > space // 2)
    accounts, acc = make_accounts(rng_for(seed, _ACCOUNTS), n_acc, codes[:n_acc], users)
    leads = make_leads(rng_for(seed, _LEADS), n_leads, n_pg, export, acc, codes[n_acc:])
    conv = draw_conversions(rng_for(seed, _CONV), leads, export)
    opps, opp = make_opportunities(rng_for(seed, _OPPS), leads, conv, n_pg, export)
    hist, pairs = make_history(rng_for(seed, _HISTORY), leads, conv, opp, users, export)
    tasks = make_tasks(rng_for(seed, _TASKS), leads, pairs, users, export)
    lead_frame = pl.concat(
        [leads.frame, lead_outcomes(leads, conv, hist, pairs, users)], how="horizontal"
    ).select(LEAD_COLUMNS)

    counts: dict[str, int] = {}
    for stem, frame in (
        ("users", users.frame),
        ("accounts", accounts),
        ("leads", lead_frame),
        ("opportunities", opps),
        ("lead_history", hist["frame"]),
        ("tasks", tasks),
    ):
        counts[f"{stem}.{fmt}"] = _write(frame, out_dir / f"{stem}.{fmt}", fmt)
    del lead_frame, hist, tasks, opps, accounts
    name = f"activities.{fmt}"
    counts[name] = _write_chunks(
        activity_chunks(seed, leads, conv, export, _ACTIVITIES), out_dir / name, fmt
    )
    if truth:
        n = len(leads.created)
        gt = pl.DataFrame(
            {
                "lead_id": leads.ids.gather(np.repeat(np.arange(n), n_pg)),
                "product_group": pl.Series(V.PRODUCT_GROUPS[:n_pg] * n, dtype=pl.String),
                "fit": leads.fit.ravel(),
                "intent": leads.intent.ravel(),
                "converted": conv.converted.ravel(),
            }
        )
        (out_dir / "_truth").mkdir(exist_ok=True)
        counts["_truth/ground_truth.parquet"] = _write(
            gt, out_dir / "_truth" / "ground_truth.parquet", "parquet"
        )
    return counts


def _write(frame: pl.DataFrame, path: Path, fmt: str) -> int:
    """Write one table; CSV quotes commas, quotes and newlines, nulls are empty fields."""
    if fmt == "csv":
        frame.write_csv(path)
    else:
        frame.write_parquet(path, compression="zstd", statistics=True)
    return frame.height


def _write_chunks(chunks: Iterable[pl.DataFrame], path: Path, fmt: str) -> int:
    """Append chunks to one CSV, or one Parquet file with a row group per chunk, so the
    20 M-row activity log never sits in memory at once."""
    rows = 0
    if fmt == "csv":
        with open(path, "wb") as fh:
            for i, chunk in enumerate(chunks):
                chunk.write_csv(fh, include_header=i == 0)
                rows += chunk.height
        return rows
    import pyarrow.parquet as pq  # only the chunked Parquet writer needs pyarrow

    writer = None
    try:
        for chunk in chunks:
            table = chunk.to_arrow()
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="zstd")
            writer.write_table(table, row_group_size=max(chunk.height, 1))
            rows += chunk.height
    finally:
        if writer is not None:
            writer.close()
    return rows
