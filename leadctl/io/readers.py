"""Raw readers: an export file as batches of text columns, whatever its format or encoding.

CSV goes through pyarrow's streaming reader so that rows with the wrong number of fields are
captured (with their text and record number) instead of crashing the night or being dropped.
Parquet (a file or a directory of parts) is streamed in record batches the same way.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as pads

from leadctl.config.inputs import TableConfig
from leadctl.errors import InputError

BATCH_BYTES = 16 << 20
PARQUET_BATCH_ROWS = 200_000
PARQUET_READ_ROWS = 2_000_000  # a larger row group is read in parts
_SNIFF_BYTES = 1 << 20


@dataclass
class BadRecord:
    """A CSV record that could not be split into the header's fields."""

    record: int | None
    text: str
    reason: str


@dataclass
class RawSource:
    """An opened export: its header and a stream of string batches; bad records pile up.

    `fetch` is set when the batches can leave columns out: the consumer then sets `wanted`
    (header columns, before iterating) and asks `fetch(columns, row_numbers)` for the others of
    the few rows it needs whole (rejects). An export's unmapped columns (activity GUIDs, the
    numeric lead id) are then never decoded for the rows that go through.
    """

    path: Path
    header: list[str]
    encoding: str | None
    batches: Iterator[pl.DataFrame]
    bad_records: list[BadRecord] = field(default_factory=list)
    wanted: list[str] | None = None
    fetch: Callable[[list[str], pl.Series], pl.DataFrame] | None = None


def detect_format(cfg: TableConfig) -> str:
    """csv or parquet, from the config or the path's suffix (a directory means Parquet parts)."""
    if cfg.format != "auto":
        return cfg.format
    path = cfg.path
    if path.is_dir() or path.suffix.lower() in {".parquet", ".pq"}:
        return "parquet"
    return "csv"


def detect_encoding(path: Path, configured: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else cp1252 (as Excel writes) when the
    bytes are not UTF-8, else latin-1 (which reads any byte)."""
    if configured != "auto":
        return configured
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode Text"; the codec reads the byte order from the BOM
    try:  # a whole file read must end on a complete character; a 1 MiB sniff may cut one
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < _SNIFF_BYTES)
    except UnicodeDecodeError:
        try:
            head.decode("cp1252")
        except UnicodeDecodeError:  # bytes cp1252 leaves undefined (0x81, 0x8d ...): not Excel
            return "latin-1"
        return "cp1252"
    return "utf-8"


# Leading bytes of files people save instead of a CSV, and what to do about each.
_NOT_CSV = {
    b"PK\x03\x04": ("an Excel workbook (.xlsx) or another zip archive", "export it as CSV (UTF-8)"),
    b"\xd0\xcf\x11\xe0": ("an Excel 97-2003 workbook (.xls)", "export it as CSV (UTF-8)"),
    b"\x1f\x8b": ("gzip-compressed", "decompress it first"),
    b"PAR1": ("a Parquet file", "set inputs.tables.{table}.format: parquet"),
}


def _check_not_a_workbook(path: Path, table: str) -> None:
    """A workbook or archive read as CSV gives garbage headers; say what the file is instead."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    for magic, (what, todo) in _NOT_CSV.items():
        if head.startswith(magic):
            raise InputError(
                f"{table}: {path} is {what}, not a CSV file: {todo.format(table=table)}"
            )


def _check_readable(path: Path, table: str) -> None:
    if not path.exists():
        raise InputError(
            f"{table}: input file {path} does not exist "
            f"(set inputs.tables.{table}.path or pass --input-dir)"
        )


def _unique_header(header: list[str], path: Path, table: str) -> list[str]:
    """The header with blank names made unique; a repeated real name is an InputError.

    Spreadsheets write trailing commas as unnamed columns ("Id,Email,,"): nothing maps them, so
    they are kept as "(unnamed column N)". Two columns with one real name cannot be mapped
    (which one is the e-mail?), so the message says which columns to fix.
    """
    names = [name if name.strip() else f"(unnamed column {n})" for n, name in enumerate(header, 1)]
    positions: dict[str, list[int]] = {}
    for number, name in enumerate(names, 1):
        positions.setdefault(name, []).append(number)
    dupes = {name: at for name, at in positions.items() if len(at) > 1}
    if dupes:
        detail = "; ".join(
            f"'{name}' in columns {', '.join(str(n) for n in at)}" for name, at in dupes.items()
        )
        raise InputError(
            f"{table}: {path} has the same header more than once ({detail}); rename or remove "
            "the extra column(s) in the export"
        )
    return names


def _open_csv(
    path: Path, encoding: str, delimiter: str, bad: list[BadRecord]
) -> pacsv.CSVStreamingReader:
    def on_bad_row(row: pacsv.InvalidRow) -> str:
        reason = f"expected {row.expected_columns} fields, found {row.actual_columns}"
        bad.append(BadRecord(record=row.number, text=row.text, reason=reason))
        return "skip"

    arrow_encoding = "utf8" if encoding in {"utf-8", "utf-8-sig"} else encoding
    read_opts = pacsv.ReadOptions(
        use_threads=False, block_size=BATCH_BYTES, encoding=arrow_encoding
    )
    parse_opts = pacsv.ParseOptions(
        delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_bad_row
    )
    probe_opts = pacsv.ParseOptions(
        delimiter=delimiter, newlines_in_values=True, invalid_row_handler=lambda _row: "skip"
    )
    probe = pacsv.open_csv(path, read_options=read_opts, parse_options=probe_opts)
    names = probe.schema.names
    convert = pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names},
        strings_can_be_null=True,
        null_values=[""],  # only empty cells are missing: "NA" is Namibia, "null" may be a name
    )
    return pacsv.open_csv(
        path, read_options=read_opts, parse_options=parse_opts, convert_options=convert
    )


def _csv_batches(
    reader: pacsv.CSVStreamingReader, path: Path, table: str, names: list[str]
) -> Iterator[pl.DataFrame]:
    rename = names != reader.schema.names
    try:
        for batch in reader:
            df = pl.from_arrow(batch.rename_columns(names) if rename else batch)
            assert isinstance(df, pl.DataFrame)
            yield df
    except pa.ArrowInvalid as exc:
        raise InputError(f"{table}: cannot parse {path}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise InputError(_undecodable(exc, path, table)) from None


def _undecodable(exc: UnicodeDecodeError, path: Path, table: str) -> str:
    byte = exc.object[exc.start : exc.start + 1].hex()
    return (
        f"{table}: cannot read {path} as {exc.encoding}: byte 0x{byte} is not a character in "
        f"that encoding; set inputs.tables.{table}.encoding to the export's encoding"
    )


def _open_parquet(dataset: pads.Dataset, path: Path, table: str, names: list[str]) -> RawSource:
    source = RawSource(path, names, None, iter(()))
    if names == dataset.schema.names and len(dataset.files) == 1:
        file = dataset.files[0]
        source.batches = _polars_parquet_batches(file, path, table, source)
        source.fetch = lambda columns, rows: _parquet_rows(file, path, table, columns, rows)
    else:
        source.batches = _arrow_parquet_batches(dataset, path, table, names)
    return source


def _parquet_rows(
    file: str, path: Path, table: str, columns: list[str], rows: pl.Series
) -> pl.DataFrame:
    """`columns` (as text, like every batch column of a reject) of the rows numbered `rows`
    (1 = the file's first row), with `_row`."""
    try:
        return (
            pl.scan_parquet(file, hive_partitioning=False)
            .select(columns)
            .with_row_index("_row", offset=1)
            .filter(pl.col("_row").is_in(rows.implode()))
            .select(pl.col("_row").cast(pl.Int64), pl.col(columns).cast(pl.String))
            .collect()
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{table}: cannot read Parquet {path}: {message}") from None


def _polars_parquet_batches(
    file: str, path: Path, table: str, source: RawSource
) -> Iterator[pl.DataFrame]:
    """One Parquet file (the usual export) on polars' own reader, one row group (at most
    PARQUET_READ_ROWS rows) at a time, handed out in PARQUET_BATCH_ROWS slices.

    3x cheaper in CPU than Arrow batches converted by from_arrow (which copies every text column
    into polars' string layout). Not `collect_batches`: its reader runs ahead of a slower
    consumer without bound (the whole 23 M-row activity export in memory); a row group read per
    slice keeps memory at about one row group. Only `source.wanted` columns are read when set
    (read when the first batch is asked for)."""
    try:
        groups = [
            group.num_rows
            for fragment in pads.dataset(file, format="parquet").get_fragments()
            for group in fragment.row_groups
        ]
        scan = pl.scan_parquet(file, hive_partitioning=False)
        if source.wanted is not None:
            scan = scan.select(source.wanted)
        start = 0
        for rows in groups:
            for begin in range(0, rows, PARQUET_READ_ROWS):
                part = scan.slice(start + begin, min(PARQUET_READ_ROWS, rows - begin)).collect()
                for offset in range(0, part.height, PARQUET_BATCH_ROWS):
                    yield part.slice(offset, PARQUET_BATCH_ROWS)
            start += rows
    except (pl.exceptions.PolarsError, pa.ArrowInvalid, OSError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{table}: cannot read Parquet {path}: {message}") from None


def _arrow_parquet_batches(
    dataset: pads.Dataset, path: Path, table: str, names: list[str]
) -> Iterator[pl.DataFrame]:
    """A directory of parts (or a file with blank column names) through Arrow's dataset, which
    reads parts in path order and renames columns on the way."""
    rename = names != dataset.schema.names
    try:
        # Threads decode columns in parallel; batches still come in file order. (Single-threaded
        # batching was 2-3x slower in wall and CPU time on a 23 M-row export.)
        for batch in dataset.to_batches(batch_size=PARQUET_BATCH_ROWS, use_threads=True):
            df = pl.from_arrow(batch.rename_columns(names) if rename else batch)
            assert isinstance(df, pl.DataFrame)
            yield df
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{table}: cannot read Parquet {path}: {exc}") from None


def open_source(cfg: TableConfig, table: str) -> RawSource:
    """Open the export behind one table; raises InputError naming the file when it cannot."""
    path = cfg.path
    _check_readable(path, table)
    fmt = detect_format(cfg)
    try:
        if fmt == "parquet":
            dataset = pads.dataset(path, format="parquet")
            header = _unique_header(dataset.schema.names, path, table)
            return _open_parquet(dataset, path, table, header)
        if path.is_dir():
            raise InputError(f"{table}: {path} is a directory, expected a CSV file")
        _check_not_a_workbook(path, table)
        encoding = detect_encoding(path, cfg.encoding)
        bad: list[BadRecord] = []
        reader = _open_csv(path, encoding, cfg.delimiter, bad)
        header = _unique_header(reader.schema.names, path, table)
        source = RawSource(path, header, encoding, iter(()), bad)
        source.batches = _csv_batches(reader, path, table, header)
        return source
    except PermissionError:
        raise InputError(f"{table}: cannot read {path}: permission denied") from None
    except UnicodeDecodeError as exc:
        raise InputError(_undecodable(exc, path, table)) from None
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "Empty CSV file" in message:
            message = "the file is empty (not even a header row)"
        raise InputError(f"{table}: cannot read {path}: {message}") from None
