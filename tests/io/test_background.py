"""Read-ahead and write-behind threads of the ingest: order, errors, early exits."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
from polars.testing import assert_frame_equal

from leadctl.io.background import BackgroundParquetWriter, ReadAhead


def _numbers(n: int) -> Iterator[int]:
    yield from range(n)


def test_read_ahead_yields_every_item_in_order() -> None:
    with ReadAhead(_numbers(50), depth=2) as items:
        assert list(items) == list(range(50))


def test_read_ahead_raises_the_source_error_in_the_consumer() -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise ValueError("bad block at row 7")

    seen = []
    with pytest.raises(ValueError, match="bad block at row 7"), ReadAhead(failing()) as items:
        for item in items:
            seen.append(item)
    assert seen == [1]


def test_leaving_early_stops_and_closes_the_source() -> None:
    closed = threading.Event()

    def endless() -> Iterator[int]:
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    with ReadAhead(endless(), depth=1) as items:
        for item in items:
            if item == 3:
                break
    assert closed.wait(5)
    assert not any(t.name == "leadctl-read-ahead" and t.is_alive() for t in threading.enumerate())


def test_background_writer_writes_batches_in_order(tmp_path: Path) -> None:
    path = tmp_path / "out.parquet"
    frames = [
        pl.DataFrame({"_row": [i * 10 + j for j in range(10)], "v": ["x"] * 10}) for i in range(5)
    ]
    writer = BackgroundParquetWriter(path, frames[0].to_arrow().schema, depth=1)
    for frame in frames:
        writer.write_table(frame.to_arrow())
    writer.close()
    assert_frame_equal(pl.read_parquet(path), pl.concat(frames))


def test_background_writer_raises_the_write_error_on_close(tmp_path: Path) -> None:
    schema = pa.schema([("a", pa.int64())])
    writer = BackgroundParquetWriter(tmp_path / "out.parquet", schema)
    writer.write_table(pa.table({"b": pa.array(["not the schema"])}))
    with pytest.raises(ValueError, match="schema"):
        writer.close()
