"""Contiguous lead_id ranges: how score and rate cut a night too large to hold at once."""

from __future__ import annotations

import polars as pl


def cut_ranges(ids: pl.Series, size: int) -> list[tuple[str, str]] | None:
    """Sorted distinct ids cut into equal contiguous ranges of at most `size` (first, last);
    None when they fit in one or contain a null. Score cuts the leads table's ids, rate the
    scored ids: the same leads on a normal night, so both stages cut at the same places."""
    n = ids.len()
    if n <= size or ids.null_count():
        return None
    k = -(-n // size)
    starts = [i * n // k for i in range(k)]
    ends = [*starts[1:], n]
    return [(str(ids[a]), str(ids[b - 1])) for a, b in zip(starts, ends, strict=True)]
