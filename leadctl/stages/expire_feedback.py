"""Sales feedback: each logged reason drives an action; missing or unknown reasons go to the rep.

"If it's not logged in the CRM, it didn't happen": a lead closed or rejected without a reason
from `lifecycle.reasons` is reported against the rep who closed it, every night until fixed
(or older than the lookback window).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from leadctl.config.expire import ExpireConfig
from leadctl.config.lifecycle import LifecycleConfig
from leadctl.stages.expire_common import PAIR, closer_columns, norm_text, row_of, within_lookback
from leadctl.stages.expire_transitions import sources_into

FEEDBACK_COLUMNS = [
    "issue",
    "queue",
    "lead_id",
    "product_group",
    "stage",
    "changed_at",
    "reason",
    "field_to_fix",
    "rep_id",
    "team",
]


def reason_table(lifecycle: LifecycleConfig) -> pl.LazyFrame:
    """The configured reasons: reason_key (normalised), reason_name and what each one means."""
    names = list(lifecycle.reasons)
    specs = [lifecycle.reasons[n] for n in names]
    frame = pl.DataFrame(
        {
            "reason_name": names,
            "action": [s.action for s in specs],
            "recycle_after_days": [s.recycle_after_days for s in specs],
            "field_to_fix": [s.field_to_fix for s in specs],
            "negative_label": [s.negative_label for s in specs],
        },
        schema={
            "reason_name": pl.String,
            "action": pl.String,
            "recycle_after_days": pl.Int64,
            "field_to_fix": pl.String,
            "negative_label": pl.Boolean,
        },
    )
    return frame.lazy().with_columns(norm_text(pl.col("reason_name")).alias("reason_key"))


def classify_reasons(current: pl.LazyFrame, lifecycle: LifecycleConfig) -> pl.LazyFrame:
    """Add reason_status (missing | unknown | known) and the matched reason's action columns."""
    key = norm_text(pl.col("reason"))
    return (
        current.with_columns(key.alias("reason_key"))
        .join(reason_table(lifecycle), on="reason_key", how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("reason_key").is_null() | (pl.col("reason_key") == ""))
            .then(pl.lit("missing"))
            .when(pl.col("reason_name").is_null())
            .then(pl.lit("unknown"))
            .otherwise(pl.lit("known"))
            .alias("reason_status")
        )
        .drop("reason_key")
    )


def feedback_issues(
    classified: pl.LazyFrame, lifecycle: LifecycleConfig, cfg: ExpireConfig, as_of: date
) -> pl.LazyFrame:
    """Closed stages without a (known) reason, per rep; plus data_fix items for marketing ops.

    `classified` is `classify_reasons` output with owner_id, team, changed_by, closer_is_rep,
    closer_team and in_scope. The rep is the rep who logged the stage change, else the owner.
    """
    optional = set(cfg.feedback.reason_optional_stages)
    required = [s for s in lifecycle.closed_stages if s not in optional]
    recent = classified.filter(
        pl.col("in_scope") & within_lookback("entered_at", as_of, cfg.lookback_days)
    ).with_columns(pl.col("entered_at").alias("changed_at"))
    status = pl.col("reason_status")
    missing = recent.filter(pl.col("stage").is_in(required) & status.is_in(["missing", "unknown"]))
    missing = missing.with_columns(
        pl.when(status == "missing")
        .then(pl.lit("missing_reason"))
        .otherwise(pl.lit("unknown_reason"))
        .alias("issue"),
        pl.lit("rep").alias("queue"),
        pl.lit(None, dtype=pl.String).alias("field_to_fix"),
    )
    data_fix = recent.filter((status == "known") & (pl.col("action") == "data_fix")).with_columns(
        pl.lit("data_fix").alias("issue"),
        pl.lit("marketing_ops").alias("queue"),
    )
    base = [c for c in FEEDBACK_COLUMNS if c not in ("rep_id", "team")]
    base += ["changed_by", "closer_is_rep", "owner_id", "team", "closer_team"]
    return (
        pl.concat([missing.select(base), data_fix.select(base)])
        .with_columns(closer_columns("owner_id", "team"))
        .select(FEEDBACK_COLUMNS)
        .sort(["issue", *PAIR])
    )


def feedback_updates(classified: pl.LazyFrame, lifecycle: LifecycleConfig) -> pl.LazyFrame:
    """Stage updates that closed leads' reasons call for.

    recycle: back to nurture, i.e. into the recycled stage with the same reason; `rate` holds
    re-entry until `recycle_after_days` in that stage have passed, so the delay is not applied
    twice. disqualify: into the disqualified stage. Only moves the waterfall allows are made.
    """
    closed = classified.filter(
        pl.col("in_scope")
        & pl.col("stage").is_in(lifecycle.closed_stages)
        & (pl.col("reason_status") == "known")
    )
    recycled, disqualified = lifecycle.recycled_stage, lifecycle.disqualified_stage
    recycle = closed.filter(
        (pl.col("action") == "recycle") & pl.col("stage").is_in(sources_into(lifecycle, recycled))
    ).with_columns(pl.lit(recycled).alias("new_stage"), pl.lit("feedback_recycle").alias("rule"))
    disqualify = closed.filter(
        (pl.col("action") == "disqualify")
        & pl.col("stage").is_in(sources_into(lifecycle, disqualified))
    ).with_columns(
        pl.lit(disqualified).alias("new_stage"), pl.lit("feedback_disqualify").alias("rule")
    )
    return (
        pl.concat([recycle, disqualify])
        .select(
            *PAIR,
            *row_of(classified),
            "new_stage",
            pl.col("reason_name").alias("reason"),
            pl.col("stage").alias("previous_stage"),
            "rule",
        )
        .sort(PAIR)
    )


def feedback_reassign(classified: pl.LazyFrame) -> pl.LazyFrame:
    """Closed leads whose reason says `reassign`, not yet re-assigned since they were closed."""
    return (
        classified.filter(
            pl.col("in_scope")
            & (pl.col("reason_status") == "known")
            & (pl.col("action") == "reassign")
            & (pl.col("assigned_at").is_null() | (pl.col("assigned_at") < pl.col("entered_at")))
        )
        .select(
            *PAIR,
            pl.col("owner_id").alias("previous_owner_id"),
            "team",
            pl.lit("feedback").alias("source"),
            pl.col("reason_name").alias("reason"),
        )
        .sort(PAIR)
    )
