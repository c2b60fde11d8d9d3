"""Column mapping: rename an export's headers onto a canonical table and parse its values.

Every row comes out either valid (typed, canonical) or rejected with a reason. Values in
optional columns that cannot be parsed are set to null and counted, so a lead is not lost over
a garbled employee count; problems in required columns reject the row.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from leadctl.config.inputs import ExtraColumn, TableConfig
from leadctl.errors import InputError
from leadctl.schemas import UTC_DATETIME, ColumnSpec, columns_of

DEFAULT_DATETIME_FORMATS = [
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y",
]
DEFAULT_DATE_FORMATS = ["%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y"]
EARLIEST = datetime(1970, 1, 1)
MAX_EMPLOYEES = 10_000_000

EXTRA_TYPES: dict[str, pl.DataType] = {
    "string": pl.String(),
    "float": pl.Float64(),
    "int": pl.Int64(),
    "bool": pl.Boolean(),
    "datetime": UTC_DATETIME,
}


@dataclass
class Mapping:
    """Which source header feeds which canonical column, settled once per file."""

    table: str
    columns: list[tuple[ColumnSpec, str | None]]
    extras: list[tuple[str, ExtraColumn]]
    warnings: list[str] = field(default_factory=list)


def header_key(text: str) -> str:
    """A header reduced to lower-case letters and digits ("Created_Date" -> "createddate")."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _closest(name: str, header: list[str]) -> str | None:
    """The header most like `name`, ignoring case, spaces and punctuation."""
    norm = {header_key(h): h for h in header}
    hit = difflib.get_close_matches(header_key(name), list(norm), n=1, cutoff=0.5)
    return norm[hit[0]] if hit else None


def resolve_mapping(header: list[str], cfg: TableConfig, table: str) -> Mapping:
    """Settle the mapping for one file; a missing required column is an InputError."""
    # Case and surrounding spaces are ignored ("Id, Email" exports have ' Email' headers).
    by_lower = {h.strip().lower(): h for h in header}
    known = {c.name for c in columns_of(table)}
    unknown = sorted(set(cfg.columns) - known)
    if unknown:
        from leadctl.errors import ConfigError

        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.5)
            hints.append(f"'{name}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        raise ConfigError(
            f"inputs.tables.{table}.columns names unknown canonical column(s) {', '.join(hints)}; "
            f"canonical columns of {table}: {', '.join(sorted(known))}"
        )
    mapped: list[tuple[ColumnSpec, str | None]] = []
    warnings: list[str] = []
    missing: list[str] = []
    for spec in columns_of(table):
        source = cfg.columns.get(spec.name)
        if source is not None and source not in header:
            source = by_lower.get(source.strip().lower(), source)
        if source is None:
            source = by_lower.get(spec.name.lower())
        if source is not None and source not in header:
            if spec.required:
                missing.append(_missing_message(table, cfg, spec.name, header, source))
                continue
            warnings.append(
                f"{table}: column '{source}' (for {spec.name}) is not in {cfg.path.name}; "
                f"{spec.name} will be empty"
            )
            source = None
        if source is None and spec.required:
            missing.append(_missing_message(table, cfg, spec.name, header, None))
            continue
        mapped.append((spec, source))
    extras = []
    for name, extra in cfg.extra_columns.items():
        if extra.source not in header and extra.source.strip().lower() in by_lower:
            extra = extra.model_copy(update={"source": by_lower[extra.source.strip().lower()]})
        if extra.source not in header:
            missing.append(
                f"extra column '{name}' reads header '{extra.source}', which {cfg.path.name} lacks"
                + (f" (closest: '{c}')" if (c := _closest(extra.source, header)) else "")
                + f"; fix inputs.tables.{table}.extra_columns.{name}"
            )
            continue
        extras.append((name, extra))
    if missing:
        raise InputError(f"{table} ({cfg.path}):\n  " + "\n  ".join(missing))
    return Mapping(table, mapped, extras, warnings)


def _missing_message(
    table: str, cfg: TableConfig, name: str, header: list[str], source: str | None
) -> str:
    wanted = f"header '{source}'" if source else f"a header '{name}'"
    close = _closest(source or name, header)
    hint = f"; the closest header in the file is '{close}'" if close else ""
    return (
        f"required column '{name}' not found: the file has no {wanted}{hint}. "
        f"Set inputs.tables.{table}.columns.{name} to the export's header"
    )


def _text(source: str, cfg: TableConfig, canonical: str) -> pl.Expr:
    """The source cell as trimmed text with the configured value map applied."""
    expr = pl.col(source).cast(pl.String).str.strip_chars()
    expr = pl.when(expr == "").then(None).otherwise(expr)
    value_map = cfg.values.get(canonical)
    if value_map:
        expr = expr.replace(value_map)
    return expr


def _datetime_candidates(text: pl.Expr, formats: list[str], tz: str) -> list[pl.Expr]:
    """One parse per format, in order; naive values are local to `tz`; every result is UTC."""
    text = text.str.replace(r"(?i)z$", "+00:00")
    parsed = []
    for fmt in formats:
        if "%z" in fmt or "%:z" in fmt:
            parsed.append(text.str.strptime(UTC_DATETIME, fmt, strict=False))
        else:
            naive = text.str.strptime(pl.Datetime("us"), fmt, strict=False)
            local = naive.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
            parsed.append(local.dt.convert_time_zone("UTC"))
    return parsed


def _iso_utc(text: pl.Expr) -> pl.Expr:
    """'2024-11-23T15:09:43Z' (Marketo, most REST APIs) on polars' fast parsing path.

    Wherever it gives a value, the first default format (which reads the Z as +00:00) gives the
    same one; where it gives null the default formats are tried as usual, so putting it first
    changes speed only.
    """
    naive = text.str.head(-1).str.strptime(pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S", strict=False)
    zulu = text.str.ends_with("Z") | text.str.ends_with("z")
    return pl.when(zulu).then(naive.dt.replace_time_zone("UTC"))


# ISO 8601 timestamps with an explicit zone, read by Arrow's ISO 8601 cast: Marketo's and most
# REST APIs' '2024-11-23T15:09:43Z' (also with milliseconds) and Salesforce's
# '2024-11-20T01:55:43.000+0000' (also without milliseconds). Arrow's parser has a fixed layout
# (YYYY-MM-DD, 'T' or ' ', hh:mm:ss, optional fraction, zone), rejects impossible dates, times
# and offsets, and is 5-10x faster than polars' strptime with %z.
_ZULU_LENGTHS = [20, 24]  # ...ssZ, ...ss.fffZ
_OFFSET_LENGTHS = [24, 28]  # ...ss+hhmm, ...ss.fff+hhmm


def _arrow_cast_utc(cells: pl.Series) -> pl.Series | None:
    try:
        cast = pc.cast(cells.to_arrow(), pa.timestamp("us", "UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return pl.Series(cells.name, cast).cast(UTC_DATETIME)


def _arrow_zoned_utc(raw: pl.Series) -> pl.Series | None:
    """The cells of a text column that end in 'Z' or a +hhmm offset and have one of the lengths
    above, parsed on Arrow's ISO 8601 path; null elsewhere. None when Arrow cannot read one of
    those cells (an impossible date, a leap second, an offset of 24 hours): the caller then
    parses them the slow way.

    Wherever it gives a value, the first two default formats ('%Y-%m-%dT%H:%M:%S%.f%z' and the
    same with a space; Z read as +00:00) give the same one: tested against them, non-zero
    offsets, fractions and mutated cells included. Zulu cells (cheap to find) go first; the
    offset check runs only on the cells left."""
    frame = raw.to_frame("t")
    text = pl.col("t")
    length = text.str.len_bytes()
    value = pl.repeat(None, len(raw), dtype=UTC_DATETIME, eager=True).alias(raw.name)
    zulu = frame.select((length.is_in(_ZULU_LENGTHS) & text.str.ends_with("Z")).fill_null(False))
    offset = (length.is_in(_OFFSET_LENGTHS) & text.str.slice(-5, 1).is_in(["+", "-"])).fill_null(
        False
    )
    for shaped in (zulu.to_series(), None):
        if shaped is None:  # offsets, among the cells no Zulu parse read
            left = value.is_null() & raw.is_not_null()
            if not left.any():
                break
            rest = raw.filter(left).to_frame("t").select(offset).to_series()
            shaped = left.scatter(left.arg_true(), rest)
        count = int(shaped.sum())
        if count == 0:
            continue
        parsed = _arrow_cast_utc(raw if count == len(raw) else raw.filter(shaped))
        if parsed is None:
            return None
        if count == len(raw):
            return parsed
        value = value.scatter(shaped.arg_true(), parsed)
    return value


def _date_candidates(text: pl.Expr, formats: list[str]) -> list[pl.Expr]:
    parsed = [text.str.strptime(pl.Date, fmt, strict=False) for fmt in formats]
    parsed.append(text.str.slice(0, 10).str.strptime(pl.Date, "%Y-%m-%d", strict=False))
    return parsed


def _first_parsed(texts: pl.DataFrame, column: str, candidates: list[pl.Expr]) -> pl.Series:
    """Per row, the first candidate parse that is not null (what pl.coalesce gives), but each
    later candidate runs only on the rows the earlier ones left unparsed. Exports use one format
    almost everywhere, so this parses most rows once instead of once per configured format."""
    result = texts.select(candidates[0].alias(column)).to_series()
    text = texts.get_column(column)
    for candidate in candidates[1:]:
        todo = result.is_null() & text.is_not_null()
        if not todo.any():
            break
        parsed = (
            texts.select(pl.col(column)).filter(todo).select(candidate.alias(column)).to_series()
        )
        result = result.scatter(todo.arg_true(), parsed)
    return result


def _blank(source: str, src_type: pl.DataType) -> pl.Expr:
    """Whether _text(source) is null, without building the text: a non-text cell is blank only
    when it is null (a number, flag or time never prints as blank)."""
    col = pl.col(source)
    if src_type != pl.String:
        return col.is_null()
    return col.is_null() | (col.str.strip_chars().str.len_bytes() == 0)


def _parse_zoned(
    batch: pl.DataFrame, name: str, source: str, cfg: TableConfig, tz: str
) -> tuple[pl.Series, pl.Series]:
    """A text datetime column (default formats, no value map): the cells with an explicit zone
    on the fast path (_arrow_zoned_utc), the rest (other formats, blanks, cells with spaces
    around them) through _text and _parse_temporal as before. Returns the values and whether
    each cell's text is blank."""
    raw = batch.get_column(source)
    fast = _arrow_zoned_utc(raw)
    value = (
        fast.alias(name)
        if fast is not None
        else pl.repeat(None, len(raw), dtype=UTC_DATETIME, eager=True).alias(name)
    )
    blank = raw.is_null()
    todo = value.is_null() & ~blank
    if todo.any():
        at = todo.arg_true()
        texts = raw.gather(at).to_frame(source).select(_text(source, cfg, name).alias(name))
        value = value.scatter(at, _parse_temporal(texts, name, UTC_DATETIME, cfg, tz))
        blank = blank.scatter(at, texts.get_column(name).is_null())
    return _not_before_1970(value), blank.alias(name)


def _not_before_1970(value: pl.Series) -> pl.Series:
    earliest = pl.lit(EARLIEST).dt.replace_time_zone("UTC")
    name = value.name
    return (
        value.to_frame()
        .select(pl.when(pl.col(name) >= earliest).then(pl.col(name)).alias(name))
        .to_series()
    )


def _parse_temporal(
    texts: pl.DataFrame, name: str, dtype: pl.DataType, cfg: TableConfig, tz: str
) -> pl.Series:
    """A date or datetime column parsed from its text (see _first_parsed); datetimes before 1970
    are implausible in a CRM and become null."""
    text = pl.col(name)
    if dtype == pl.Date:
        return _first_parsed(
            texts, name, _date_candidates(text, cfg.date_formats or DEFAULT_DATE_FORMATS)
        )
    formats = cfg.datetime_formats or DEFAULT_DATETIME_FORMATS
    candidates = _datetime_candidates(text, formats, tz)
    if formats[0] == DEFAULT_DATETIME_FORMATS[0]:
        candidates.insert(0, _iso_utc(text))
    return _not_before_1970(_first_parsed(texts, name, candidates))


def _boolean(text: pl.Expr, cfg: TableConfig) -> pl.Expr:
    lowered = text.str.to_lowercase()
    trues = [v.lower() for v in cfg.booleans.true]
    falses = [v.lower() for v in cfg.booleans.false]
    return (
        pl.when(lowered.is_in(trues))
        .then(True)
        .when(lowered.is_in(falses))
        .then(False)
        .otherwise(None)
        .cast(pl.Boolean)
    )


def _parse(text: pl.Expr, dtype: pl.DataType, cfg: TableConfig, tz: str, name: str) -> pl.Expr:
    """Typed value of `text` (text, booleans, numbers); null where it cannot be read or is out of
    the plausible range."""
    if dtype == pl.String:
        return text
    if dtype == pl.Boolean:
        return _boolean(text, cfg)
    if dtype == pl.Int64 or dtype == pl.Float64:
        number = text.str.replace_all(r"[,\s$€£¥%]", "").cast(pl.Float64, strict=False)
        number = pl.when(number.is_finite()).then(number).otherwise(None)
        if name == "employees":
            number = pl.when((number >= 0) & (number <= MAX_EMPLOYEES)).then(number)
        elif name in {"annual_revenue", "amount", "capacity"}:
            number = pl.when(number >= 0).then(number)
        if dtype == pl.Int64:
            return pl.when(number == number.round(0)).then(number).cast(pl.Int64)
        return number
    raise TypeError(f"no expression parser for {dtype} (dates and datetimes: _parse_temporal)")


def _typed_source(source: str, dtype: pl.DataType, schema: pl.Schema, tz: str) -> pl.Expr | None:
    """A direct expression when a Parquet column already has a usable type (no text round trip)."""
    src = schema[source]
    if src == dtype and not isinstance(dtype, pl.Datetime):
        return pl.col(source)
    if isinstance(dtype, pl.Datetime) and isinstance(src, pl.Datetime):
        col = pl.col(source).dt.cast_time_unit("us")
        if src.time_zone is None:
            col = col.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
        return col.dt.convert_time_zone("UTC")
    if dtype == pl.Date and isinstance(src, pl.Datetime):
        return pl.col(source).dt.date()
    if dtype in (pl.Int64, pl.Float64) and src.is_numeric():
        return pl.col(source).cast(dtype, strict=False)
    return None


@dataclass
class MappedBatch:
    """One batch after mapping: valid canonical rows, rejects, and per-column null-outs."""

    valid: pl.DataFrame
    rejects: pl.DataFrame
    nulled: dict[str, int]


def map_batch(
    batch: pl.DataFrame, mapping: Mapping, cfg: TableConfig, tz: str, rows: pl.Series
) -> MappedBatch:
    """Rename and parse one batch; `rows` holds each row's number in the source file.

    Each column's text and typed value are computed once and kept, then the reject reasons and
    null-out flags are read off them (a value is never parsed twice). A column whose export type
    already is the canonical one is taken as it is: it cannot be unreadable, so only a required
    one needs its text (to see whether it is blank).
    """
    tz = cfg.timezone or tz
    schema = batch.schema
    n = batch.height
    specs = [(spec.name, spec.dtype, src, spec.required) for spec, src in mapping.columns]
    specs += [(name, EXTRA_TYPES[e.type], e.source, False) for name, e in mapping.extras]
    present = [(name, dtype, src, req) for name, dtype, src, req in specs if src is not None]
    direct: list[pl.Expr] = []
    parsed: list[pl.Expr] = []
    temporal: list[tuple[str, pl.DataType]] = []
    zoned: list[tuple[str, str]] = []  # text datetimes tried on the zoned fast path first
    as_is: set[str] = set()  # export type == canonical type: the value is the cell itself
    text_exprs: list[pl.Expr] = []
    blank_exprs: list[pl.Expr] = []  # columns that need only "is the text blank?", not the text
    formats = cfg.datetime_formats or DEFAULT_DATETIME_FORMATS
    for name, dtype, source, required in present:
        src_type = schema[source]
        typed = _typed_source(source, dtype, schema, tz)
        if typed is not None and name not in cfg.values:
            direct.append(typed.alias(name))
            if src_type == dtype and not isinstance(dtype, pl.Datetime):
                as_is.add(name)
                if not required:
                    continue
            blank_exprs.append(_blank(source, src_type).alias(name))
            continue
        if (
            isinstance(dtype, pl.Datetime)
            and src_type == pl.String
            and name not in cfg.values
            and formats[:2] == DEFAULT_DATETIME_FORMATS[:2]
        ):
            zoned.append((name, source))
            continue
        if dtype == pl.Date or isinstance(dtype, pl.Datetime):
            temporal.append((name, dtype))
        else:
            parsed.append(_parse(pl.col(name), dtype, cfg, tz, name).alias(name))
        text_exprs.append(_text(source, cfg, name).alias(name))
    texts = batch.select(text_exprs)
    text_null: dict[str, pl.Series] = {}  # per column: is its text blank (missing)?
    if blank_exprs:
        text_null.update(batch.select(blank_exprs).to_dict())
    typed_values: dict[str, pl.Series] = {}
    if direct:
        typed_values.update(batch.select(direct).to_dict())
    if parsed:
        typed_values.update(texts.select(parsed).to_dict())
    for name, dtype in temporal:
        typed_values[name] = _parse_temporal(texts, name, dtype, cfg, tz)
    for name, source in zoned:
        typed_values[name], text_null[name] = _parse_zoned(batch, name, source, cfg, tz)
    for name in texts.columns:
        text_null[name] = texts.get_column(name).is_null()
    columns = [
        typed_values[name]
        if name in typed_values
        else pl.repeat(None, n, dtype=dtype, eager=True).alias(name)
        for name, dtype, _, _ in specs
    ]
    values = pl.DataFrame([rows.alias("_row"), *columns])

    checks: dict[str, pl.Series] = {}
    reasons: list[pl.Expr] = []
    nullable: list[tuple[str, str]] = []  # optional columns that can be nulled: (name, flag)
    for i, (name, dtype, _, required) in enumerate(present):
        if name not in as_is:
            checks[f"bad{i}"] = ~text_null[name] & values.get_column(name).is_null()
        if required:
            checks[f"missing{i}"] = text_null[name]
            reasons.append(
                pl.when(pl.col(f"missing{i}")).then(pl.lit(f"{name}: missing (required)"))
            )
            if name not in as_is:
                reasons.append(
                    pl.when(pl.col(f"bad{i}")).then(pl.lit(f"{name}: {_unreadable(dtype)}"))
                )
        elif name not in as_is:
            nullable.append((name, f"bad{i}"))
    flags = pl.DataFrame(checks, height=n)
    required_flags = [c for c in checks if c.startswith("missing")]
    required_flags += [f"bad{i}" for i, p in enumerate(present) if p[3] and p[0] not in as_is]
    reject_mask = (
        flags.select(pl.any_horizontal(required_flags).alias("_reject")).to_series()
        if required_flags and n
        else pl.repeat(False, n, dtype=pl.Boolean, eager=True)
    )
    rejected = int(reject_mask.sum())
    nulled: dict[str, int] = {}
    if nullable and rejected < n:
        kept_flags = flags.filter(~reject_mask) if rejected else flags
        counts = kept_flags.select([pl.col(flag).sum() for _, flag in nullable]).row(0)
        nulled = {name: int(v) for (name, _), v in zip(nullable, counts, strict=True) if v}
    others = pl.all().exclude("_row", "_reason").cast(pl.String)
    if not rejected:
        empty = batch.head(0).with_columns(
            rows.head(0).alias("_row"), pl.lit(None, pl.String).alias("_reason")
        )
        return MappedBatch(values, empty.select(pl.col("_row"), pl.col("_reason"), others), nulled)
    reason = pl.concat_str(reasons, separator="; ", ignore_nulls=True).alias("_reason")
    bad_rows = flags.filter(reject_mask).select(reason).to_series()
    rejects = (
        batch.with_columns(rows.alias("_row"))
        .filter(reject_mask)
        .with_columns(bad_rows)
        .select(pl.col("_row"), pl.col("_reason"), others)
    )
    return MappedBatch(values.filter(~reject_mask), rejects, nulled)


def _unreadable(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Datetime):
        return (
            "not a date/time in any configured format (inputs.tables.*.datetime_formats), "
            "before 1970, or a local time that does not exist in the time zone (skipped when "
            "clocks go forward; inputs.timezone / inputs.tables.*.timezone)"
        )
    if dtype == pl.Date:
        return "not a date in any configured format (inputs.tables.*.date_formats)"
    if dtype == pl.Boolean:
        return "not a yes/no value (inputs.tables.*.booleans)"
    return f"not a valid {str(dtype).lower()}"
