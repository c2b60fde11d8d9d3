"""Deterministic synthetic CRM / marketing-automation exports with a hidden, learnable truth.

Why: leadctl needs realistic data for tests, demos and benchmarks without touching personal data.
The files are shaped like a Salesforce export (leads, accounts, opportunities, users, stage
history, tasks) plus a Marketo activity log, with the dirt real exports have. Conversion (an
opportunity for a lead and product group) is driven by hidden fit and intent that show up in the
exports *before* the opportunity exists, so a model can beat a points model; the truth can be
written to `_truth/` for evaluation but never is by default.

Same arguments → byte-identical files: every random draw comes from a PCG64 stream keyed by
(seed, table, chunk), and all times derive from `export_date`, never from the wall clock.
Exports above `SHARD_LEADS` leads are written as independent shards (own reps, accounts, leads,
streams keyed by (seed, shard, table, chunk), and id ranges), appended file by file, so memory
stays that of one shard at any size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from leadctl import sample_vocab as V
from leadctl.errors import ConfigError
from leadctl.memory import release_memory
from leadctl.sample_activities import ActivityIds, activity_chunks
from leadctl.sample_events import (
    Conversions,
    draw_conversions,
    lead_outcomes,
    make_history,
    make_opportunities,
    make_tasks,
)
from leadctl.sample_people import Leads, make_accounts, make_leads, make_users
from leadctl.sample_util import MAX_SHARDS, rng_for

__all__ = ["generate_sample", "shard_sizes", "LEAD_COLUMNS", "SHARD_LEADS"]

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
# Shard k of a sharded export draws from streams (seed, _SHARD, k, table): never the unsharded ones.
_SHARD = 100
# Leads per shard: larger exports are generated as independent populations of at most this many
# leads each, so memory stays that of one shard (~3 GB for 1 M leads) whatever the size.
SHARD_LEADS = 1_000_000
_TABLES = ("users", "accounts", "leads", "opportunities", "lead_history", "tasks")


def shard_sizes(n_leads: int, shard_leads: int = SHARD_LEADS) -> list[int]:
    """Leads per shard: one shard up to `shard_leads`, else the fewest shards of at most that
    many, as equal as possible (10 M → ten shards of 1 M)."""
    if shard_leads < 1:
        raise ConfigError("shard_leads must be at least 1")
    k = -(-n_leads // shard_leads)
    base, extra = divmod(n_leads, k)
    return [base + (i < extra) for i in range(k)]


def generate_sample(
    out_dir: Path,
    *,
    n_leads: int = 5000,
    seed: int = 42,
    product_groups: int = 2,
    export_date: date = date(2026, 11, 20),
    fmt: str = "csv",
    truth: bool = False,
    shard_leads: int = SHARD_LEADS,
) -> dict[str, int]:
    """Write the exports into out_dir and return {file_name: row_count}.

    History covers about two years before `export_date` (midnight UTC); nothing happens on or
    after it. `fmt` is "csv" or "parquet" (same stems). `truth=True` also writes
    `_truth/ground_truth.parquet` with the latent fit / intent and the converted flag.

    Above `shard_leads` leads the export is generated shard by shard (`shard_sizes`): each shard
    is its own population — reps (as many per lead as one shard alone would have), accounts,
    leads and their funnel, from its own random streams — with ids in its own range, appended
    to the same files (one CSV header; a Parquet row group per shard and activity chunk).
    Only one shard is in memory at a time. Up to `shard_leads` the files are exactly those of
    one population.
    """
    if fmt not in ("csv", "parquet"):
        raise ConfigError(f"fmt must be 'csv' or 'parquet', not {fmt!r}")
    if not 1 <= product_groups <= len(V.PRODUCT_GROUPS):
        raise ConfigError(f"product_groups must be between 1 and {len(V.PRODUCT_GROUPS)}")
    if n_leads < 1 or seed < 0:
        raise ConfigError("n_leads must be at least 1 and seed must not be negative")
    sizes = shard_sizes(n_leads, shard_leads)
    if len(sizes) > MAX_SHARDS:
        raise ConfigError(f"at most {MAX_SHARDS} shards: use a larger shard_leads")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    export = int(
        datetime(export_date.year, export_date.month, export_date.day, tzinfo=UTC).timestamp()
    )
    if len(sizes) == 1:
        return _write_single(out_dir, seed, n_leads, product_groups, export, fmt, truth)
    return _write_sharded(out_dir, seed, sizes, product_groups, export, fmt, truth)


@dataclass
class _Population:
    """One population (the whole export, or one shard of it) before it is written."""

    tables: dict[str, pl.DataFrame]  # stem → frame, in _TABLES order
    leads: Leads
    conv: Conversions


def _population(
    seed: int, key: tuple[int, ...], n_leads: int, n_pg: int, export: int, shard: int
) -> _Population:
    """Reps, accounts, leads and their funnel from the streams (seed, *key, table)."""

    def rng(table: int) -> np.random.Generator:
        return rng_for(seed, *key, table)

    users = make_users(rng(_USERS), n_leads, n_pg, export, shard=shard)
    n_acc = max(20, n_leads // 5)
    n_comp = max(20, int(n_leads * 0.3 / 1.3))
    space = len(V.TLD_STYLES) * len(V.SYLLABLES) ** 3
    need = n_acc + n_comp
    codes = rng(_CODES).choice(space, need, replace=need > space // 2)
    accounts, acc = make_accounts(rng(_ACCOUNTS), n_acc, codes[:n_acc], users, shard=shard)
    leads = make_leads(rng(_LEADS), n_leads, n_pg, export, acc, codes[n_acc:], shard=shard)
    conv = draw_conversions(rng(_CONV), leads, export)
    opps, opp = make_opportunities(rng(_OPPS), leads, conv, n_pg, export, shard=shard)
    hist, pairs = make_history(rng(_HISTORY), leads, conv, opp, users, export)
    tasks = make_tasks(rng(_TASKS), leads, pairs, users, export, shard=shard)
    lead_frame = pl.concat(
        [leads.frame, lead_outcomes(leads, conv, hist, pairs, users)], how="horizontal"
    ).select(LEAD_COLUMNS)
    frames = (users.frame, accounts, lead_frame, opps, hist["frame"], tasks)
    return _Population(dict(zip(_TABLES, frames, strict=True)), leads, conv)


def _truth_frame(pop: _Population) -> pl.DataFrame:
    leads, conv = pop.leads, pop.conv
    n, n_pg = leads.fit.shape
    return pl.DataFrame(
        {
            "lead_id": leads.ids.gather(np.repeat(np.arange(n), n_pg)),
            "product_group": pl.Series(V.PRODUCT_GROUPS[:n_pg] * n, dtype=pl.String),
            "fit": leads.fit.ravel(),
            "intent": leads.intent.ravel(),
            "converted": conv.converted.ravel(),
        }
    )


def _write_single(
    out_dir: Path, seed: int, n_leads: int, n_pg: int, export: int, fmt: str, truth: bool
) -> dict[str, int]:
    """One population: each table written whole, the activity log in chunks."""
    pop = _population(seed, (), n_leads, n_pg, export, shard=0)
    counts: dict[str, int] = {}
    for stem in _TABLES:
        counts[f"{stem}.{fmt}"] = _write(pop.tables[stem], out_dir / f"{stem}.{fmt}", fmt)
    pop.tables.clear()
    name = f"activities.{fmt}"
    counts[name] = _write_chunks(
        activity_chunks(seed, pop.leads, pop.conv, export, _ACTIVITIES), out_dir / name, fmt
    )
    if truth:
        (out_dir / "_truth").mkdir(exist_ok=True)
        counts["_truth/ground_truth.parquet"] = _write(
            _truth_frame(pop), out_dir / "_truth" / "ground_truth.parquet", "parquet"
        )
    return counts


def _write_sharded(
    out_dir: Path, seed: int, sizes: list[int], n_pg: int, export: int, fmt: str, truth: bool
) -> dict[str, int]:
    """Shard after shard, each appended to every file, then dropped before the next."""
    names = [f"{stem}.{fmt}" for stem in (*_TABLES, "activities")]
    files = {name: _Appender(out_dir / name, fmt) for name in names}
    if truth:
        (out_dir / "_truth").mkdir(exist_ok=True)
        gt = "_truth/ground_truth.parquet"
        files[gt] = _Appender(out_dir / gt, "parquet")
    ids = ActivityIds()
    try:
        for k, n in enumerate(sizes):
            pop = _population(seed, (_SHARD, k), n, n_pg, export, shard=k)
            for stem in _TABLES:
                files[f"{stem}.{fmt}"].append(pop.tables.pop(stem))
            key = (_SHARD, k, _ACTIVITIES)
            chunks = activity_chunks(seed, pop.leads, pop.conv, export, key, ids)
            for chunk in chunks:
                files[f"activities.{fmt}"].append(chunk)
            if truth:
                files[gt].append(_truth_frame(pop))
            del pop, chunks
            release_memory()
    finally:
        for f in files.values():
            f.close()
    return {name: f.rows for name, f in files.items()}


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
    out = _Appender(path, fmt)
    try:
        for chunk in chunks:
            out.append(chunk)
    finally:
        out.close()
    return out.rows


class _Appender:
    """One CSV (header once) or Parquet file (a row group per frame) written frame by frame."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path, self.fmt, self.rows = path, fmt, 0
        self._fh = open(path, "wb") if fmt == "csv" else None  # noqa: SIM115 - closed in close()
        self._writer: Any = None  # pyarrow.parquet.ParquetWriter, opened on the first frame
        self._schema: Any = None

    def append(self, frame: pl.DataFrame) -> None:
        if self._fh is not None:
            frame.write_csv(self._fh, include_header=self._fh.tell() == 0)
        else:
            import pyarrow.parquet as pq  # only the chunked Parquet writer needs pyarrow

            table = frame.to_arrow()
            if self._writer is None:
                self._schema = table.schema
                self._writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
            elif table.schema != self._schema:  # e.g. a column all null in one shard
                table = table.cast(self._schema)
            self._writer.write_table(table, row_group_size=max(frame.height, 1))
        self.rows += frame.height

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None
