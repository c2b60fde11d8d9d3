"""Each product group's grade thresholds, computed once per group instead of once per row.

Share cutoffs ("top 10 % are A") used to be evaluated with window expressions over every
rated row: a rank of each score within its group, then per bound the lowest score whose rank
fraction is below it (two ranks and six windowed minima over 3 M rows at 1 M leads, about
2 CPU-s). The threshold of a share bound is one value of the group's scores sorted from the
highest: the row at position k has k rows above it (or fewer, on ties), so "the lowest score
with (rank - 1) / n below the bound" is the score at the last position k whose k / n is below
it. k is found with the same float division and comparison the window plan made, so the
thresholds are the same floats (tests compare the two plans).
"""

from __future__ import annotations

import math

import polars as pl

from leadctl.config.rating import Cutoffs, RateConfig

EPS = 1e-9  # share bounds are sums of floats: 0.1 + 0.2 must still mean "top 30 %"
SCORES = {"fit_score": "_fthr", "engagement_score": "_ethr"}  # score: threshold prefix
THRESHOLD_COLUMNS = ["_method", *[f"_fthr{i}" for i in range(3)], *[f"_ethr{i}" for i in range(3)]]


def bounds(cutoffs: Cutoffs, dimension: str) -> list[float]:
    """Fixed: the minimum scores. Share: cumulative shares (A, A+B, A+B+C)."""
    values: list[float] = list(getattr(cutoffs, dimension))
    if cutoffs.method == "fixed":
        return values
    return [sum(values[: i + 1]) for i in range(3)]


def last_position_below(n: int, bound: float) -> int:
    """The largest k in [0, n) with k / n < bound - EPS (as floats), or -1 if there is none."""
    limit = bound - EPS
    if n <= 0 or not 0.0 / n < limit:
        return -1
    k = min(max(math.ceil(limit * n) - 1, 0), n - 1)
    while k + 1 < n and (k + 1) / n < limit:
        k += 1
    while k > 0 and not k / n < limit:
        k -= 1
    return k


def group_thresholds(rows: pl.LazyFrame, cfg: RateConfig) -> pl.DataFrame:
    """product_group (null included) + THRESHOLD_COLUMNS, one row per group of `rows`."""
    per_group = (
        rows.group_by("product_group")
        .agg(pl.col(s).drop_nulls().sort(descending=True).alias(s) for s in SCORES)
        .collect(engine="in-memory")
    )
    out: dict[str, list[object]] = {"product_group": [], **{c: [] for c in THRESHOLD_COLUMNS}}
    for index, group in enumerate(per_group.get_column("product_group").to_list()):
        # One pass per product group (not per lead); the sorted scores stay a polars Series.
        cutoffs = cfg.group_cutoffs.get(group, cfg.cutoffs) if group is not None else cfg.cutoffs
        out["product_group"].append(group)
        out["_method"].append(cutoffs.method)
        for score, dimension in (("fit_score", "fit"), ("engagement_score", "engagement")):
            values: pl.Series = per_group.get_column(score)[index]
            prefix = SCORES[score]
            for i, bound in enumerate(bounds(cutoffs, dimension)):
                if cutoffs.method == "fixed":
                    out[f"{prefix}{i}"].append(float(bound))
                    continue
                k = last_position_below(len(values), float(bound))
                out[f"{prefix}{i}"].append(values[k] if k >= 0 else None)
    schema: dict[str, pl.DataType] = {"product_group": pl.String(), "_method": pl.String()}
    schema |= {c: pl.Float64() for c in THRESHOLD_COLUMNS[1:]}
    return pl.DataFrame(out, schema=schema)


def with_thresholds(
    rows: pl.LazyFrame, cfg: RateConfig, table: pl.DataFrame | None = None
) -> pl.LazyFrame:
    """`rows` plus THRESHOLD_COLUMNS of its group, in the order of `rows`. Reads `rows` twice:
    pass a collected frame (or a cheap plan). `table`: `group_thresholds` computed beforehand
    (rate in lead ranges computes it once from every score)."""
    if table is None:
        table = group_thresholds(rows, cfg)
    return rows.join(
        table.lazy(), on="product_group", how="left", nulls_equal=True, maintain_order="left"
    )
