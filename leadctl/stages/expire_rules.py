"""Disposition expiration: a lead no longer worked goes back to marketing with a reason.

Three rules per stage, checked in this order (the first that fires names the update):
`no_touch` (no logged sales touch, nor a stage change, for N days), `max_days_in_stage`, and
`max_days_from_mql` (the latest MQL entry is N days back and the lead is still short of the
stages after the rule's stage, i.e. it never reached an opportunity).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from leadctl.config.expire import ExpireConfig
from leadctl.stages.expire_common import PAIR, days_since, row_of

RULE_ORDER = ["no_touch", "max_days_in_stage", "max_days_from_mql"]
EXPIRY_COLUMNS = [*PAIR, "new_stage", "reason", "previous_stage", "rule"]


def rule_measures(as_of: date) -> dict[str, pl.Expr]:
    """The day count each rule compares with its limit.

    Entering the stage counts as activity, so a lead accepted yesterday has 1 day without a
    touch, not the days since a touch in an earlier cycle. Without an MQL date in the history
    the time from MQL is at least the time in the stage.
    """
    activity = pl.max_horizontal("entered_at", "last_touch_at")
    return {
        "no_touch": days_since(activity, as_of),
        "max_days_in_stage": pl.col("days_in_stage"),
        "max_days_from_mql": days_since(pl.coalesce("mql_at", "entered_at"), as_of),
    }


def expirations(state: pl.LazyFrame, cfg: ExpireConfig, as_of: date) -> pl.LazyFrame:
    """Pairs a stage rule expires tonight, as stage updates into `cfg.stage`.

    `state` needs lead_id, product_group, stage, entered_at, days_in_stage, last_touch_at
    and mql_at (one row per pair, already limited to the pairs in scope).
    """
    measures = rule_measures(as_of)
    checks = [pl.lit(None, dtype=pl.String)]
    for stage, rule in cfg.rules.items():
        limits = {
            "no_touch": rule.no_touch_days,
            "max_days_in_stage": rule.max_days_in_stage,
            "max_days_from_mql": rule.max_days_from_mql,
        }
        for name in RULE_ORDER:
            limit = limits[name]
            if limit is not None:
                fires = (pl.col("stage") == stage) & (measures[name] >= limit)
                checks.insert(-1, pl.when(fires).then(pl.lit(name)))
    fired = pl.coalesce(checks)  # the first rule that fires, in RULE_ORDER per stage
    return (
        state.with_columns(fired.alias("rule"))
        .filter(pl.col("rule").is_not_null())
        .select(
            *PAIR,
            *row_of(state),
            pl.lit(cfg.stage).alias("new_stage"),
            pl.lit(cfg.reason).alias("reason"),
            pl.col("stage").alias("previous_stage"),
            "rule",
        )
        .sort(PAIR)
    )
