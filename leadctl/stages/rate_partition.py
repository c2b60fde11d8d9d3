"""Rate many leads in contiguous lead_id ranges, one after another (`score.partition_leads`).

Everything rate decides for a (lead, product group) row depends on that lead's own rows only
(its scores, lead fields and account, stage history, open opportunities, activities for the
override rules, last night's state), except the share cutoffs: "the top 10 % are A" is a
threshold over every score of the group. So the thresholds (`rate_grade.group_thresholds`,
two floats per row) are computed once from the whole scores file; then each lead range is
prepared, graded with those thresholds, decided and split like the one-pass frame, and the
range's outputs are written before the next range is read. The rows are the one-pass rows:

- scores are sorted by (lead_id, product_group) (rate_cmd checks it, else one pass), so ranges
  of consecutive lead ids concatenated give the one-pass order;
- the summary adds up per-range counts (`rate.summary_cells`, integers);
- the cutoffs table is the thresholds table itself (split's per-group `first` of it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import polars as pl

from leadctl.config.lifecycle import LifecycleConfig
from leadctl.config.rating import RateConfig
from leadctl.stages.lead_ranges import cut_ranges
from leadctl.stages.rate import RateInputs, normalise_scores, rated, split
from leadctl.stages.rate_grade import group_thresholds


def lead_ranges(keys: pl.DataFrame, size: int) -> list[tuple[str, str]] | None:
    """(first, last) lead_id of each range of at most `size` leads, in order, from the scores'
    keys sorted by (lead_id, product_group) without nulls; None when the leads fit in one.
    Cut like score_partition.partition_bounds (equal contiguous ranges)."""
    if keys.height <= size:
        return None  # never more leads than rows
    ids = keys.get_column("lead_id").cast(pl.String)
    ids = ids.filter(ids.ne_missing(ids.shift(1)))  # sorted: each lead's first row
    return cut_ranges(ids, size)


def _in(bounds: tuple[str, str]) -> pl.Expr:
    return (
        pl.col("lead_id")
        .cast(pl.String)
        .is_between(pl.lit(bounds[0]), pl.lit(bounds[1]), closed="both")
    )


def range_inputs(inputs: RateInputs, bounds: tuple[str, str]) -> RateInputs:
    """The inputs of the leads in `bounds` (accounts whole: they are joined per lead)."""
    inside = _in(bounds)

    def cut(frame: pl.LazyFrame | None) -> pl.LazyFrame | None:
        return None if frame is None else frame.filter(inside)

    return RateInputs(
        scores=inputs.scores.filter(inside),
        leads=inputs.leads.filter(inside),
        activities=inputs.activities.filter(inside),
        accounts=inputs.accounts,
        opportunities=inputs.opportunities.filter(inside),
        current=cut(inputs.current),
        previous=cut(inputs.previous),
        stage_history=cut(inputs.stage_history),
    )


def all_thresholds(scores: pl.LazyFrame, cfg: RateConfig) -> pl.DataFrame:
    """`group_thresholds` of every score (what the one-pass `grade` computes on its rows)."""
    rows = normalise_scores(scores).select("product_group", "fit_score", "engagement_score")
    return group_thresholds(rows, cfg)


def cutoffs_table(thresholds: pl.DataFrame) -> pl.DataFrame:
    """`split`'s cutoffs frame from the thresholds table (one row per group either way)."""
    return thresholds.select(
        "product_group",
        pl.col("_method").alias("method"),
        *[pl.col(f"_fthr{i}").alias(f"fit_{g}") for i, g in enumerate("ABC")],
        *[pl.col(f"_ethr{i}").alias(f"engagement_{i + 1}") for i in range(3)],
    ).sort("product_group", nulls_last=True)


@dataclass
class RangeResult:
    """One lead range's outputs (the one-pass outputs' rows for those leads, in order)."""

    ratings: pl.DataFrame
    nurture: pl.DataFrame
    state: pl.DataFrame


def rate_ranges(
    inputs: RateInputs,
    cfg: RateConfig,
    lifecycle: LifecycleConfig,
    as_of: date,
    ranges: list[tuple[str, str]],
    thresholds: pl.DataFrame,
) -> Iterator[RangeResult]:
    """Rate each lead range in turn; a range's frames are dropped once the caller moves on."""
    for bounds in ranges:
        frame = rated(range_inputs(inputs, bounds), cfg, lifecycle, as_of, thresholds).collect(
            engine="in-memory"
        )
        result = split(frame.lazy())
        ratings, nurture, state = pl.collect_all(
            [result.ratings, result.nurture, result.state], engine="in-memory"
        )
        del frame, result
        yield RangeResult(ratings.rechunk(), nurture, state.rechunk())
