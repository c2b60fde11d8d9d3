"""Atomic output writers: a temp file in the same directory, then a rename.

A reader (or the CRM import job) therefore sees either the previous complete file or the new
complete file, never a half-written one, even if the process is killed mid-write.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from leadctl.errors import InputError

# Cells that a spreadsheet would evaluate as a formula start with one of these.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Plain numbers and phone numbers ("+1 (555) 010-2030", "-12.5") are data, not formulas.
_NUMERIC_LIKE = r"^[+-]?[0-9][0-9 ().\-]*$"


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temp path beside `target`; rename it over `target` only if the block succeeds."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"cannot create output directory {target.parent}: {exc.strerror}"
        ) from None
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write {target}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def escape_formulas(df: pl.DataFrame) -> pl.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with a single quote."""
    text_cols = [name for name, dtype in df.schema.items() if dtype == pl.String]
    if not text_cols:
        return df
    exprs = []
    for name in text_cols:
        col = pl.col(name)
        risky = (
            col.str.starts_with(FORMULA_PREFIXES[0])
            | col.str.starts_with(FORMULA_PREFIXES[1])
            | col.str.starts_with(FORMULA_PREFIXES[2])
            | col.str.starts_with(FORMULA_PREFIXES[3])
            | col.str.starts_with(FORMULA_PREFIXES[4])
            | col.str.starts_with(FORMULA_PREFIXES[5])
        ) & ~col.str.contains(_NUMERIC_LIKE)
        exprs.append(pl.when(risky).then(pl.lit("'") + col).otherwise(col).alias(name))
    return df.with_columns(exprs)


def _csv_ready(df: pl.DataFrame) -> pl.DataFrame:
    """Turn list columns into '; '-joined text so every column fits in a CSV cell."""
    lists = [n for n, t in df.schema.items() if isinstance(t, pl.List)]
    if not lists:
        return df
    return df.with_columns(pl.col(n).cast(pl.List(pl.String)).list.join("; ") for n in lists)


def write_csv(df: pl.DataFrame, path: Path, *, escape: bool = True) -> Path:
    """Write a CRM-import / spreadsheet CSV atomically (UTF-8, ISO timestamps, formulas escaped)."""
    df = _csv_ready(df)
    if escape:
        df = escape_formulas(df)
    with atomic_path(path) as tmp:
        df.write_csv(tmp, datetime_format="%Y-%m-%dT%H:%M:%SZ", date_format="%Y-%m-%d")
    return path


# Row groups of a fixed size from one contiguous frame: left to itself the writer follows the
# frame's memory chunks (and list columns keep their chunk layout in the pages), which depend on
# thread timing, so equal frames could give different bytes.
PARQUET_ROW_GROUP = 262_144


def write_parquet(df: pl.DataFrame, path: Path) -> Path:
    """Write a Parquet file atomically; equal frames give equal bytes however they are chunked."""
    if df.n_chunks("all") and max(df.n_chunks("all")) > 1:
        df = df.rechunk()
    with atomic_path(path) as tmp:
        df.write_parquet(tmp, compression="zstd", statistics=True, row_group_size=PARQUET_ROW_GROUP)
    return path


def write_json(data: Any, path: Path) -> Path:
    """Write JSON atomically with sorted keys, so equal content gives equal bytes."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", "utf-8")
    return path


def write_text(text: str, path: Path) -> Path:
    """Write a text file (e.g. a model or an HTML report) atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
