"""One Parquet file from a stream of frames, without holding them all (atomic, like writers.py).

Rows are re-cut into row groups of exactly PARQUET_ROW_GROUP rows, each written from one
contiguous chunk, so the bytes depend only on the rows in order, not on how the stream was cut
(equal rows from 1 or 20 partitions give equal files). The bytes are not those of
`writers.write_parquet` on the whole frame (its list-column pages follow the size of the whole
frame's buffers); the rows are.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
from polars.io.plugins import register_io_source

from leadctl.io.writers import PARQUET_ROW_GROUP, atomic_path


def row_groups(
    frames: Iterable[pl.DataFrame], size: int = PARQUET_ROW_GROUP
) -> Iterator[pl.DataFrame]:
    """The rows of `frames`, in order, as contiguous frames of exactly `size` rows (the last
    one may be shorter)."""
    held: list[pl.DataFrame] = []
    n = 0
    for frame in frames:
        while frame.height:
            take = min(size - n, frame.height)
            held.append(frame.slice(0, take))
            frame = frame.slice(take)
            n += take
            if n == size:
                yield pl.concat(held).rechunk()
                held, n = [], 0
    if n:
        yield pl.concat(held).rechunk()


def write_parquet_stream(frames: Iterable[pl.DataFrame], schema: pl.Schema, path: Path) -> Path:
    """Write the rows of `frames` (each with `schema`) as one Parquet file, atomically."""
    source = iter(row_groups(frames))
    first = next(source, None)
    if first is None:
        with atomic_path(path) as tmp:
            pl.DataFrame(schema=schema).write_parquet(
                tmp, compression="zstd", statistics=True, row_group_size=PARQUET_ROW_GROUP
            )
        return path

    def chunks(
        with_columns: list[str] | None, predicate: Any, n_rows: int | None, batch_size: Any
    ) -> Iterator[pl.DataFrame]:
        for frame in _chain(first, source):
            yield frame if with_columns is None else frame.select(with_columns)

    with atomic_path(path) as tmp:
        register_io_source(chunks, schema=schema).sink_parquet(
            tmp, compression="zstd", statistics=True, row_group_size=PARQUET_ROW_GROUP
        )
    return path


def concat_parquet_files(files: list[Path], target: Path) -> Path:
    """The rows of Parquet `files`, in order, as one file; one file in memory at a time
    (the first file's schema; later ones cast to it)."""
    schema = pl.Schema(pl.read_parquet_schema(files[0]))

    def frames() -> Iterator[pl.DataFrame]:
        for path in files:
            frame = pl.read_parquet(path)
            yield frame if frame.schema == schema else frame.cast(schema)

    return write_parquet_stream(frames(), schema, target)


def _chain(first: pl.DataFrame, rest: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    yield first
    yield from rest
