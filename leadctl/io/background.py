"""Overlap reading, mapping and writing during ingest: one thread reads ahead, one writes behind.

pyarrow and polars release the GIL while they parse, compress and compute, so on two cores the
next batch is read and the previous one compressed while the current one is mapped. Queues are
short (a couple of batches), so memory stays bounded; errors in either thread are raised in the
caller's thread, where they would have been raised without threads.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Generic, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

T = TypeVar("T")
_DONE = object()
_POLL = 0.1  # seconds between checks of the stop flag while a queue is full or empty


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class ReadAhead(Generic[T]):
    """Iterate `source` in a background thread, `depth` items ahead of the consumer.

    Use as a context manager: leaving the block (normally or by an exception) stops the reader.
    """

    def __init__(self, source: Iterator[T], depth: int = 2) -> None:
        self._source = source
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._produce, name="leadctl-read-ahead", daemon=True
        )

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            for item in self._source:
                if not self._put(item):
                    break
            else:
                self._put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(_Failure(exc))
        finally:
            close = getattr(self._source, "close", None)
            if close is not None:
                close()

    def __enter__(self) -> ReadAhead[T]:
        self._thread.start()
        return self

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item  # type: ignore[misc]

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=_POLL)
        self._thread.join()


class BackgroundParquetWriter:
    """A ParquetWriter whose `write_table` returns at once; encoding and compression happen in a
    writer thread, in order. `close()` waits for everything and raises any error it met."""

    def __init__(
        self,
        path: Path,
        schema: pa.Schema,
        *,
        compression: str | dict[str, str] = "zstd",
        use_dictionary: bool | list[str] = True,
        write_statistics: bool | list[str] = True,
        column_encoding: dict[str, str] | None = None,
        depth: int = 2,
    ) -> None:
        self._writer = pq.ParquetWriter(
            path,
            schema,
            compression=compression,
            use_dictionary=use_dictionary,
            write_statistics=write_statistics,
            column_encoding=column_encoding,
        )
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._consume, name="leadctl-write-behind", daemon=True
        )
        self._thread.start()

    def _consume(self) -> None:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if self._error is None:
                try:
                    self._writer.write_table(item)
                except BaseException as exc:  # raised by write_table() or close() in the caller
                    self._error = exc

    def write_table(self, table: pa.Table) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(table)

    def close(self) -> None:
        """Write what is queued, close the file, and raise the first error, if any."""
        self._queue.put(_DONE)
        self._thread.join()
        self._writer.close()
        if self._error is not None:
            raise self._error
