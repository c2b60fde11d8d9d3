"""Ingest: turn each configured export into a canonical Parquet file plus a rejects CSV.

Batches stream from the reader through the mapping into a Parquet writer, so a 10 M-row export
never sits in memory twice. Later stages scan the canonical files lazily.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from leadctl.config.inputs import InputsConfig
from leadctl.io.background import BackgroundParquetWriter, ReadAhead
from leadctl.io.mapping import EXTRA_TYPES, Mapping, map_batch, resolve_mapping
from leadctl.io.readers import BadRecord, RawSource, open_source
from leadctl.io.writers import atomic_path, write_csv
from leadctl.schemas import PRIMARY_KEYS, TABLES

INGEST_WORKERS = 2  # tables ingested at a time


@dataclass
class TableReport:
    """What happened to one table on the way in (printed by `validate`, kept in the manifest)."""

    table: str
    path: str
    rows_read: int = 0
    rows_valid: int = 0
    rows_rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    nulled: dict[str, int] = field(default_factory=dict)
    coverage: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    encoding: str | None = None

    @property
    def reject_share(self) -> float:
        return self.rows_rejected / self.rows_read if self.rows_read else 0.0


def _row_numbers(start: int, count: int, bad_rows: set[int]) -> tuple[np.ndarray, int]:
    """File row numbers of `count` parsed records starting at `start`, skipping bad records."""
    width = count + len(bad_rows) + 1
    while True:
        candidates = np.arange(start, start + width, dtype=np.int64)
        if bad_rows:
            candidates = candidates[~np.isin(candidates, np.fromiter(bad_rows, np.int64))]
        if len(candidates) >= count:
            numbers = candidates[:count]
            return numbers, int(numbers[-1]) + 1 if count else start
        width *= 2


def _bad_rejects(bad: list[BadRecord]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "_row": [b.record for b in bad],
            "_reason": [f"malformed CSV record: {b.reason}" for b in bad],
            "_raw": [b.text for b in bad],
        },
        schema={"_row": pl.Int64, "_reason": pl.String, "_raw": pl.String},
    )


def _drop_duplicate_keys(canonical: Path, table: str, mapping: Mapping) -> pl.DataFrame:
    """Keep the first row of each primary key; return the later ones as rejects.

    The rejected rows carry their parsed values under the export's own headers.
    """
    key = PRIMARY_KEYS.get(table)
    if key is None:
        return pl.DataFrame()
    frame = pl.scan_parquet(canonical)
    first_row = pl.col("_row").first().over(key)
    dupes_df = (
        frame.with_columns(first_row.alias("_first"))
        .filter(~pl.col(key).is_first_distinct())
        .collect()
    )
    if dupes_df.height == 0:
        return pl.DataFrame()
    keep = frame.filter(pl.col(key).is_first_distinct()).collect()
    with atomic_path(canonical) as tmp:
        keep.write_parquet(tmp, compression="zstd")
    sources = {spec.name: src for spec, src in mapping.columns if src is not None}
    sources.update({name: extra.source for name, extra in mapping.extras})
    return dupes_df.select(
        pl.col("_row"),
        (
            pl.lit(f"duplicate {key} (first seen at row ") + pl.col("_first").cast(pl.String) + ")"
        ).alias("_reason"),
        *[pl.col(name).cast(pl.String).alias(src) for name, src in sources.items()],
    )


def open_table(table: str, inputs: InputsConfig) -> tuple[RawSource, Mapping]:
    """Open one export and settle its mapping (the header checks: missing file or column, wrong
    format) before any row is read."""
    source = open_source(inputs.tables[table], table)
    return source, resolve_mapping(source.header, inputs.tables[table], table)


def ingest_table(
    table: str,
    inputs: InputsConfig,
    canonical_dir: Path,
    rejects_dir: Path,
    *,
    escape: bool = True,
    opened: tuple[RawSource, Mapping] | None = None,
) -> TableReport:
    """Map one export onto its canonical table; write canonical Parquet and rejects CSV."""
    cfg = inputs.tables[table]
    source, mapping = opened if opened is not None else open_table(table, inputs)
    report = TableReport(table, str(cfg.path), warnings=list(mapping.warnings))
    report.encoding = source.encoding
    target = canonical_dir / f"{table}.parquet"
    rejects: list[pl.DataFrame] = []
    next_row = 2 if source.encoding is not None else 1  # CSV: row 1 is the header
    writer: BackgroundParquetWriter | None = None
    key = PRIMARY_KEYS.get(table)
    filled: dict[str, int] | None = None  # non-null cells per canonical column, valid rows
    key_hashes: list[pl.Series] = []  # of the valid rows' primary keys, to spot duplicates
    unread = _skip_unmapped(source, mapping)
    with atomic_path(target) as tmp:
        try:
            with ReadAhead(source.batches) as batches:
                for batch in batches:
                    # Bad records of batches read ahead lie after this batch: numbering holds.
                    bad_rows = {b.record for b in source.bad_records if b.record is not None}
                    numbers, next_row = _row_numbers(next_row, batch.height, bad_rows)
                    mapped = map_batch(batch, mapping, cfg, inputs.timezone, pl.Series(numbers))
                    report.rows_read += batch.height
                    for column, count in mapped.nulled.items():
                        report.nulled[column] = report.nulled.get(column, 0) + count
                    if mapped.rejects.height:
                        rejects.append(_whole_rejects(source, mapped.rejects, unread))
                    valid = mapped.valid
                    filled = _count_filled(valid, filled)
                    if key is not None:
                        key_hashes.append(valid.get_column(key).hash(seed=0))
                    # Text columns go over as Arrow string views: no copy into Arrow's layout.
                    arrow = valid.to_arrow(compat_level=pl.CompatLevel.newest())
                    if writer is None:
                        dictionary = _dictionary_columns(valid)
                        writer = BackgroundParquetWriter(
                            tmp,
                            arrow.schema,
                            compression=_compression(valid, dictionary),
                            use_dictionary=dictionary,
                            write_statistics=_statistics_columns(valid),
                            column_encoding=_delta_columns(valid),
                        )
                    writer.write_table(arrow)
            if writer is None:
                empty = _empty_canonical(table, mapping)
                writer = BackgroundParquetWriter(tmp, empty.to_arrow().schema)
        finally:
            if writer is not None:
                writer.close()
    if source.bad_records:
        rejects.insert(0, _bad_rejects(source.bad_records))
        report.rows_read += len(source.bad_records)
    if key_hashes and _may_repeat(key_hashes):
        dupes = _drop_duplicate_keys(target, table, mapping)
        if dupes.height:
            rejects.append(dupes)
            filled = None  # the file changed: count what is in it now
    all_rejects = pl.concat(rejects, how="diagonal_relaxed") if rejects else pl.DataFrame()
    _finish_report(report, target, all_rejects, filled)
    # A header and nothing else is more often a broken export than a quiet day: say so.
    if report.rows_read == 0:
        report.warnings.append(
            f"{table}: {cfg.path.name} has no rows (header only); tonight's {table} are empty"
        )
    reject_file = rejects_dir / f"{table}.csv"
    if all_rejects.height:
        order = [c for c in ["_row", "_reason", *source.header, "_raw"] if c in all_rejects.columns]
        all_rejects = all_rejects.select(order).sort("_row", nulls_last=True, maintain_order=True)
        write_csv(all_rejects, reject_file, escape=escape)
    elif reject_file.exists():
        reject_file.unlink()
    return report


def _skip_unmapped(source: RawSource, mapping: Mapping) -> list[str]:
    """Tell a source that can leave columns out which ones the mapping reads; return the
    others (fetched only for rejected rows, which carry every column of the export)."""
    if source.fetch is None:
        return []
    used = {src for _, src in mapping.columns if src is not None}
    used.update(extra.source for _, extra in mapping.extras)
    unread = [name for name in source.header if name not in used]
    if unread:
        source.wanted = [name for name in source.header if name in used]
    return unread


def _whole_rejects(source: RawSource, rejects: pl.DataFrame, unread: list[str]) -> pl.DataFrame:
    """Rejected rows with the export's columns the batches left out, read back for them."""
    if not unread or source.fetch is None:
        return rejects
    return rejects.join(source.fetch(unread, rejects["_row"]), on="_row", how="left")


def _dictionary_columns(first: pl.DataFrame) -> list[str]:
    """Text columns worth dictionary-encoding: few distinct values in the first batch (types,
    stages, countries). Ids, e-mails and names are not: trying costs a third of the write."""
    return [
        name
        for name, dtype in first.schema.items()
        if dtype == pl.String and first[name].n_unique() <= max(1, first.height // 10)
    ]


def _delta_columns(first: pl.DataFrame) -> dict[str, str]:
    """Row numbers and times delta-packed: row numbers only ascend, and exports list events in
    time order, so the deltas take a few bits (activities' occurred_at: half the bytes of
    zstd over plain values, a third of the write time, faster to read back)."""
    return {
        name: "DELTA_BINARY_PACKED"
        for name, dtype in first.schema.items()
        if name == "_row" or isinstance(dtype, pl.Datetime)
    }


def _compression(first: pl.DataFrame, dictionary: list[str]) -> dict[str, str]:
    """zstd for row numbers and dictionary-encoded text (small, already packed); LZ4 (raw) for the
    rest: ids, names and delta-packed times compress a little less but write in two thirds of
    the time and read back faster (the canonical files are read by later stages, not kept)."""
    return {
        name: "zstd" if name == "_row" or name in dictionary else "lz4_raw"
        for name in first.columns
    }


def _empty_canonical(table: str, mapping: Mapping) -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {"_row": pl.Int64()}
    schema.update({spec.name: spec.dtype for spec, _ in mapping.columns})
    schema.update({name: EXTRA_TYPES[e.type] for name, e in mapping.extras})
    return pl.DataFrame(schema=schema)


def _count_filled(valid: pl.DataFrame, filled: dict[str, int] | None) -> dict[str, int]:
    """Add one batch's non-null cells per column (null counts are kept by polars: no scan)."""
    counts = filled if filled is not None else {}
    for name in valid.columns:
        if name != "_row":
            counts[name] = counts.get(name, 0) + valid.height - valid.get_column(name).null_count()
    return counts


def _may_repeat(key_hashes: list[pl.Series]) -> bool:
    """Whether any primary key may occur twice: equal hashes. A hash collision only costs the
    exact check (which reads the table back); distinct hashes mean distinct keys."""
    hashes = pl.concat(key_hashes)
    return hashes.n_unique() < hashes.len()


def _statistics_columns(first: pl.DataFrame) -> list[str]:
    """Min/max statistics for numbers and times (row-group pruning by date); not for text, where
    they cost a fifth of the write and no later stage filters on a text range."""
    return [name for name, dtype in first.schema.items() if dtype != pl.String]


def _finish_report(
    report: TableReport, target: Path, rejects: pl.DataFrame, filled: dict[str, int] | None
) -> None:
    """Fill counts, reject reasons and per-column coverage (`filled`: non-null cells per column
    as written; None reads them from the file)."""
    report.rows_rejected = rejects.height
    report.rows_valid = report.rows_read - report.rows_rejected
    if rejects.height:
        reasons = (
            rejects.select(pl.col("_reason").str.split("; ").alias("r"))
            .explode("r")
            .group_by("r")
            .len()
            .sort(["len", "r"], descending=[True, False])
        )
        report.reasons = dict(zip(reasons["r"].to_list(), reasons["len"].to_list(), strict=True))
    if filled is None:
        frame = pl.scan_parquet(target)
        filled = (
            frame.select(pl.len().alias("__n"), pl.all().exclude("_row").count())
            .collect()
            .row(0, named=True)
        )
        total = filled.pop("__n")
    else:
        total = report.rows_valid
    report.coverage = {k: (v / total if total else 0.0) for k, v in filled.items()}


def ingest_all(
    inputs: InputsConfig, canonical_dir: Path, rejects_dir: Path, *, escape: bool = True
) -> dict[str, TableReport]:
    """Ingest every configured table; reports (and the first error) in canonical order.

    Every export is opened and its mapping settled first, in canonical order; a missing file or
    column there ends the opening, the tables before it are ingested and its error is raised
    (what running the tables one after the other did). Then two tables are ingested at a time,
    largest export first: the activity export's single-threaded Parquet writer would otherwise
    leave a core idle for most of the ingest. An error while reading rows stops the tables not
    yet started; the error raised is the first failing table's in canonical order."""
    opened: dict[str, tuple[RawSource, Mapping]] = {}
    failure: BaseException | None = None
    for table in (t for t in TABLES if t in inputs.tables):
        try:
            opened[table] = open_table(table, inputs)
        except Exception as exc:  # raised once the tables before it are in
            failure = exc
            break
    largest_first = sorted(opened, key=lambda t: -_export_size(inputs.tables[t].path))
    with ThreadPoolExecutor(INGEST_WORKERS, thread_name_prefix="leadctl-ingest") as pool:
        futures = {
            t: pool.submit(
                ingest_table, t, inputs, canonical_dir, rejects_dir, escape=escape, opened=opened[t]
            )
            for t in largest_first
        }
        try:
            reports = {t: futures[t].result() for t in opened}
        except BaseException:
            for future in futures.values():
                future.cancel()
            raise
    if failure is not None:
        raise failure
    return reports


def _export_size(path: Path) -> int:
    """Bytes of an export (a directory: its parts); 0 when it cannot be read (it fails later,
    with the reader's message)."""
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        return path.stat().st_size
    except OSError:
        return 0
