"""Stage changes the waterfall does not allow, reported instead of silently accepted."""

from __future__ import annotations

from datetime import date

import polars as pl

from leadctl.config.lifecycle import LifecycleConfig
from leadctl.stages.expire_common import PAIR, within_lookback

ILLEGAL_COLUMNS = [
    "lead_id",
    "product_group",
    "from_stage",
    "to_stage",
    "changed_at",
    "changed_by",
    "issue",
]


def allowed_transitions(lifecycle: LifecycleConfig) -> pl.LazyFrame:
    """(from_stage, to_stage) pairs the config allows."""
    pairs = [(src, dst) for src, targets in lifecycle.transitions.items() for dst in targets]
    return pl.DataFrame(
        {"from_stage": [p[0] for p in pairs], "to_stage": [p[1] for p in pairs]},
        schema={"from_stage": pl.String, "to_stage": pl.String},
    ).lazy()


def sources_into(lifecycle: LifecycleConfig, target: str) -> list[str]:
    """Stages from which the config allows a move into `target`."""
    return sorted(src for src, targets in lifecycle.transitions.items() if target in targets)


def illegal_transitions(
    events: pl.LazyFrame, lifecycle: LifecycleConfig, as_of: date, lookback_days: int
) -> pl.LazyFrame:
    """Every change into a stage the previous stage may not move to, or into an unknown stage.

    `events` is `expand_history` output (sorted per pair by time). Re-logging the same stage is
    not a transition. Only changes within the lookback window are reported (the history before
    it was reported on earlier nights).
    """
    steps = events.with_columns(pl.col("stage").shift(1).over(PAIR).alias("from_stage")).rename(
        {"stage": "to_stage"}
    )
    return _flag_steps(steps.filter(within_lookback("changed_at", as_of, lookback_days)), lifecycle)


def ordered_illegal_transitions(
    events: pl.DataFrame, lifecycle: LifecycleConfig, as_of: date, lookback_days: int
) -> pl.LazyFrame:
    """`illegal_transitions` of events already in pair/time order with a `_new_pair` flag
    (`expire_history.ordered_events`): the previous stage is the previous row's, no
    per-pair window."""
    steps = (
        events.lazy()
        .with_columns(
            pl.when(~pl.col("_new_pair")).then(pl.col("stage").shift(1)).alias("from_stage")
        )
        .filter(within_lookback("changed_at", as_of, lookback_days))
        .rename({"stage": "to_stage"})
    )
    return _flag_steps(steps, lifecycle)


def _flag_steps(steps: pl.LazyFrame, lifecycle: LifecycleConfig) -> pl.LazyFrame:
    """Steps (from_stage → to_stage) the config does not allow, or into unknown stages."""
    unknown = ~pl.col("to_stage").is_in(lifecycle.stages)
    moves = steps.filter(
        pl.col("from_stage").is_not_null()
        & (pl.col("from_stage") != pl.col("to_stage"))
        & pl.col("from_stage").is_in(lifecycle.stages)
        & ~unknown
    )
    not_allowed = moves.join(
        allowed_transitions(lifecycle), on=["from_stage", "to_stage"], how="anti"
    ).with_columns(pl.lit("not allowed").alias("issue"))
    unknown_rows = steps.filter(unknown).with_columns(pl.lit("unknown stage").alias("issue"))
    return pl.concat(
        [not_allowed.select(ILLEGAL_COLUMNS), unknown_rows.select(ILLEGAL_COLUMNS)]
    ).sort(
        # every column is a key: rows equal up to to_stage / changed_by (two steps logged at
        # one instant) used to come out in thread-timing order
        [*PAIR, "changed_at", "to_stage", "changed_by", "from_stage", "issue"],
        nulls_last=True,
    )
