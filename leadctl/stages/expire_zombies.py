"""Zombies: leads kept in a sales stage far beyond the rules with only token activity."""

from __future__ import annotations

import polars as pl

from leadctl.config.expire import ExpireConfig
from leadctl.stages.expire_common import NO_REP, PAIR, pair_key

ZOMBIE_COLUMNS = [
    "owner_id",
    "team",
    *PAIR,
    "stage",
    "entered_at",
    "days_in_stage",
    "last_touch_at",
    "touches_in_window",
    "expired_tonight",
]


def zombies(state: pl.LazyFrame, updates: pl.LazyFrame, cfg: ExpireConfig) -> pl.LazyFrame:
    """In a `zombies.stages` stage for `min_days_in_stage` or more, with at most
    `max_touches_in_window` touches in the last `window_days` of the stage; listed per rep.

    Listed whether or not a rule expires them tonight (`expired_tonight`): one touch a month
    keeps a lead clear of the no-touch rule, and a zombie in a stage without rules needs a
    manager rather than a stage update.
    """
    z = cfg.zombies
    key = pair_key(state, updates)
    expired = updates.select(*key, pl.lit(True).alias("expired_tonight"))
    return (
        state.filter(
            pl.col("in_scope")
            & pl.col("stage").is_in(cfg.zombies.stages)
            & (pl.col("days_in_stage") >= z.min_days_in_stage)
            & (pl.col("touches_in_window") <= z.max_touches_in_window)
        )
        .join(expired, on=key, how="left")
        .with_columns(
            pl.col("expired_tonight").fill_null(False),
            pl.col("owner_id").fill_null(NO_REP),
        )
        .select(ZOMBIE_COLUMNS)
        .sort(["owner_id", *PAIR])
    )
