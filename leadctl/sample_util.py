"""Small vectorised helpers shared by the synthetic-export generator (`leadctl.sample`).

All randomness goes through `rng_for`, one independent PCG64 stream per table (and per chunk),
so changing how one table is generated never shifts the numbers of another, and chunked output
does not depend on anything but (seed, stream key).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

DAY = 86_400
SF_DATETIME = "%Y-%m-%dT%H:%M:%S.000+0000"
SF_DATE = "%Y-%m-%d"
MKTO_DATETIME = "%Y-%m-%dT%H:%M:%SZ"

_B62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", np.uint8)
_CHECKSUM = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", np.uint8)


def rng_for(seed: int, *key: int) -> np.random.Generator:
    """An independent PCG64 stream for (seed, key): tables and chunks never share state."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def pick(rng: np.random.Generator, n: int, weights: Sequence[float]) -> np.ndarray:
    """Draw n category indices with the given (unnormalised) weights."""
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    return np.searchsorted(cdf / cdf[-1], rng.random(n), side="right").astype(np.int64)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# Ids of one shard (see `leadctl.sample`) stay below this; shard k adds k times it, so ids of
# different shards never meet (9 base-62 digits leave room for 62**2 shards).
SHARD_ID_SPAN = 62**7
MAX_SHARDS = 62**2


def sf_ids(prefix: str, n: int, rng: np.random.Generator, shard: int = 0) -> pl.Series:
    """18-character Salesforce ids ("00Q" + 15): increasing like real ids, unique, with the
    case-safety suffix computed the way Salesforce does, so id tooling treats them as real.
    `shard` moves the numbers into that shard's own range (shard 0: the unsharded ids)."""
    nums = rng.integers(62**5, 62**6) + np.cumsum(rng.integers(1, 9, n, dtype=np.int64))
    if shard:
        nums += shard * SHARD_ID_SPAN
    out = np.empty((n, 18), dtype=np.uint8)
    out[:, :3] = np.frombuffer(prefix.encode(), np.uint8)
    out[:, 3:6] = np.frombuffer(b"5g0", np.uint8)
    for k in range(9):  # 9 base-62 digits, most significant first
        out[:, 14 - k] = _B62[nums % 62]
        nums //= 62
    upper = (out[:, :15] >= ord("A")) & (out[:, :15] <= ord("Z"))
    bits = upper.reshape(n, 3, 5) * (1 << np.arange(5))
    out[:, 15:] = _CHECKSUM[bits.sum(axis=2)]
    return pl.Series(out.view("S18").ravel()).cast(pl.String)


def fmt_time(secs: np.ndarray, fmt: str) -> pl.Series:
    """Epoch seconds → formatted strings (SF datetime, SF date or Marketo ISO)."""
    return pl.from_epoch(pl.Series(secs, dtype=pl.Int64), time_unit="s").dt.to_string(fmt)


def keep(mask: np.ndarray, values: pl.Series | pl.Expr) -> pl.Series:
    """values where mask is True, else null (an empty field in the CSV)."""
    return pl.select(pl.when(pl.Series(np.asarray(mask, dtype=bool))).then(values)).to_series()


def fmt_time_or_null(secs: np.ndarray, mask: np.ndarray, fmt: str) -> pl.Series:
    """Like fmt_time, but empty (null) where mask is False."""
    return keep(mask, fmt_time(np.where(mask, secs, 0), fmt))


def take(values: Sequence[str | None], idx: np.ndarray) -> pl.Series:
    """Look up small vocabularies by index, vectorised (polars gather on a tiny Series)."""
    return pl.Series(list(values), dtype=pl.String).gather(idx)


def bool_true(mask: np.ndarray) -> pl.Series:
    """Booleans as a polars column; CSV renders them "true"/"false" like a Salesforce export."""
    return pl.Series(np.asarray(mask, dtype=bool))


def ragged(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For counts per parent: (parent index per child, child's position within its parent)."""
    parent = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return parent, np.arange(len(parent)) - starts[parent]


def to_frame(cols: dict[str, pl.Series | pl.Expr | np.ndarray]) -> pl.DataFrame:
    """Build a frame from Series, numpy arrays and expressions over Series (e.g. concat_str)."""
    exprs = []
    for name, v in cols.items():
        if isinstance(v, pl.Expr):
            exprs.append(v.alias(name))
        else:
            exprs.append(pl.lit(v if isinstance(v, pl.Series) else pl.Series(v)).alias(name))
    return pl.select(exprs)
