"""The marketing suppression list: leads the marketing platform must not send to.

Leads a rep is working (an active sales stage after tonight's updates) and leads closed with a
reason whose action is `suppress` (e.g. a competitor).
"""

from __future__ import annotations

from datetime import date

import polars as pl
from polars.expr.whenthen import ChainedThen, Then

from leadctl.config.expire import ExpireConfig
from leadctl.config.lifecycle import LifecycleConfig
from leadctl.stages.expire_common import PAIR, UTC_DT, pair_key, reference

SUPPRESSION_COLUMNS = [*PAIR, "stage", "source", "reason", "since", "owner_id", "team"]


def suppression(
    classified: pl.LazyFrame,
    updates: pl.LazyFrame,
    lifecycle: LifecycleConfig,
    cfg: ExpireConfig,
    as_of: date,
) -> pl.LazyFrame:
    """One row per suppressed (lead, group): source "reason" wins over "stage".

    `classified` is `classify_reasons` output (one row per pair, with in_scope, owner_id,
    team); `updates` are tonight's stage updates, applied first so an expired lead is no
    longer suppressed for being in a sales stage (a lead moved into a suppressed stage tonight
    is suppressed since as-of).
    """
    s = cfg.suppression
    key = pair_key(classified, updates)
    after = (
        classified.filter(pl.col("in_scope"))
        .join(updates.select(*key, "new_stage"), on=key, how="left")
        .with_columns(
            pl.col("new_stage").is_not_null().alias("_updated"),
            pl.coalesce("new_stage", "stage").alias("stage"),
        )
    )
    # `after` has one row per pair: a reason wins over a stage in one pass (the same rows as
    # concatenating both lists and keeping each pair's first row, without the concat and the
    # unique on two string columns).
    source: Then | ChainedThen | None = None
    if s.suppress_reasons:
        by_reason = (
            ~pl.col("_updated")
            & (pl.col("reason_status") == "known")
            & (pl.col("action") == "suppress")
        )
        source = pl.when(by_reason).then(pl.lit("reason"))
    stages = [*(lifecycle.active_sales_stages if s.active_sales_stages else []), *s.extra_stages]
    if stages:
        by_stage = pl.col("stage").is_in(stages)
        source = (pl.when if source is None else source.when)(by_stage).then(pl.lit("stage"))
    if source is not None:
        return (
            after.with_columns(source.alias("source"))
            .filter(pl.col("source").is_not_null())
            .with_columns(
                pl.when(pl.col("source") == "reason")
                .then(pl.col("reason_name"))
                .otherwise(pl.lit(None, dtype=pl.String))
                .alias("reason"),
                pl.when((pl.col("source") == "stage") & pl.col("_updated"))
                .then(pl.lit(reference(as_of), dtype=UTC_DT))
                .otherwise(pl.col("entered_at"))
                .alias("since"),
            )
            .select(SUPPRESSION_COLUMNS)
            .sort(PAIR)
        )
    return pl.DataFrame(
        schema={
            "lead_id": pl.String,
            "product_group": pl.String,
            "stage": pl.String,
            "source": pl.String,
            "reason": pl.String,
            "since": UTC_DT,
            "owner_id": pl.String,
            "team": pl.String,
        }
    ).lazy()
