"""SLA and persistence breaches, computed from the assignment log and logged sales touches.

SLA: the first counted touch after an assignment came later than its `sla_due_at` (or has not
come at all). Persistence: a lead was rejected or closed after fewer attempts (or channels)
than its SLA tier asks for.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from leadctl.config.expire import ExpireConfig, PersistenceCriteria
from leadctl.config.lifecycle import LifecycleConfig
from leadctl.stages.expire_common import (
    PAIR,
    ROW,
    UTC_DT,
    closer_columns,
    cutoff,
    norm_py,
    norm_text,
    pair_key,
    row_of,
    touches_for,
    within_lookback,
)

SLA_COLUMNS = [
    *PAIR,
    "owner_id",
    "team",
    "sla_tier",
    "assigned_at",
    "sla_due_at",
    "first_touch_at",
    "status",
    "hours_overdue",
    "current_stage",
    "action",
    "escalate_to",
]
PERSISTENCE_COLUMNS = [
    *PAIR,
    "rep_id",
    "team",
    "owner_id",
    "sla_tier",
    "stage",
    "closed_at",
    "reason",
    "pursuit_started_at",
    "attempts",
    "channels",
    "min_attempts",
    "min_channels",
    "issue",
]
REASSIGN_COLUMNS = [*PAIR, "previous_owner_id", "team", "source", "reason"]


def working_stages(lifecycle: LifecycleConfig) -> list[str]:
    """Stages in which an owner is expected to work the lead."""
    return [lifecycle.mql_stage, lifecycle.override_stage, *lifecycle.active_sales_stages]


def sla_breaches(
    assigned: pl.LazyFrame,
    state: pl.LazyFrame,
    updates: pl.LazyFrame,
    touches: pl.LazyFrame,
    directory: pl.LazyFrame,
    cfg: ExpireConfig,
    lifecycle: LifecycleConfig,
    as_of: date,
) -> pl.LazyFrame:
    """The latest assignment per pair whose SLA was missed, with what to do about it.

    An untouched lead still in a working stage after tonight's `updates` gets `cfg.sla.action`
    (reassign, or escalate to the owner's manager); a late first touch, or a lead that left the
    working stages (an expiry tonight included), is reported with action "none".
    `current_stage` is the stage before tonight's updates. Assignments logged by earlier
    nights and due within the lookback window are checked.
    """
    end = pl.lit(cutoff(as_of), dtype=UTC_DT)
    due = assigned.filter(
        # Tonight's assignments (logged on as-of) reach their reps after this run.
        (pl.col("logged_on") < as_of)
        & pl.col("sla_due_at").is_not_null()
        & (pl.col("sla_due_at") < end)
        & within_lookback("sla_due_at", as_of, cfg.lookback_days)
    )
    first = (
        touches_for(due.select(*PAIR, "owner_id", "assigned_at"), touches, cfg.touches_by)
        .filter(pl.col("occurred_at") >= pl.col("assigned_at"))
        .group_by(PAIR)
        .agg(pl.col("occurred_at").min().alias("first_touch_at"))
    )
    key = pair_key(state, updates)
    stages = (
        state.select(*PAIR, *row_of(state), pl.col("stage").alias("current_stage"))
        .join(updates.select(*key, pl.col("new_stage").alias("_stage_after")), on=key, how="left")
        .drop(ROW, strict=False)
    )
    untouched = pl.col("first_touch_at").is_null()
    stage_after = pl.coalesce("_stage_after", "current_stage")
    open_ = stage_after.is_in(working_stages(lifecycle)).fill_null(False)
    action = pl.when(untouched & open_).then(pl.lit(cfg.sla.action)).otherwise(pl.lit("none"))
    return (
        due.join(first, on=PAIR, how="left")
        .filter(untouched | (pl.col("first_touch_at") > pl.col("sla_due_at")))
        .join(stages, on=PAIR, how="left")
        .join(
            directory.select("rep_id", "escalate_to"),
            left_on="owner_id",
            right_on="rep_id",
            how="left",
        )
        .with_columns(
            pl.when(untouched).then(pl.lit("untouched")).otherwise(pl.lit("late")).alias("status"),
            ((pl.coalesce("first_touch_at", end) - pl.col("sla_due_at")).dt.total_minutes() / 60)
            .round(1)
            .alias("hours_overdue"),
            action.alias("action"),
        )
        .with_columns(
            pl.when(pl.col("action") == "escalate")
            .then(pl.col("escalate_to"))
            .otherwise(pl.lit(None, dtype=pl.String))
            .alias("escalate_to")
        )
        .select(SLA_COLUMNS)
        .sort(PAIR)
    )


def sla_reassign(breaches: pl.LazyFrame) -> pl.LazyFrame:
    """SLA breaches to hand back to `assign` for a new owner."""
    return breaches.filter(pl.col("action") == "reassign").select(
        *PAIR,
        pl.col("owner_id").alias("previous_owner_id"),
        "team",
        pl.lit("sla_breach").alias("source"),
        pl.format(
            "SLA missed: due {}", pl.col("sla_due_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        ).alias("reason"),
    )


def criteria_frame(criteria: PersistenceCriteria) -> pl.LazyFrame:
    """Persistence criteria per tier as a frame to join on sla_tier."""
    tiers = sorted(criteria.tiers)
    rules = [criteria.tiers[t] for t in tiers]
    return pl.DataFrame(
        {
            "sla_tier": tiers,
            "min_attempts": [r.min_attempts for r in rules],
            "min_channels": [r.min_channels for r in rules],
            "_within_days": [r.within_days for r in rules],
        },
        schema={
            "sla_tier": pl.String,
            "min_attempts": pl.Int64,
            "min_channels": pl.Int64,
            "_within_days": pl.Int64,
        },
    ).lazy()


def persistence_breaches(
    state: pl.LazyFrame,
    assignments: pl.LazyFrame,
    touches: pl.LazyFrame,
    criteria: PersistenceCriteria,
    cfg: ExpireConfig,
    as_of: date,
) -> pl.LazyFrame:
    """Leads closed (in `cfg.persistence.stages`, within the lookback window) after too little
    pursuit for their tier.

    Pursuit starts at the latest assignment before the close (its tier applies, and the
    min_attempts / persistence_days the log recorded at assignment time win over the tier's),
    else at the latest MQL entry (with the default tier); a lead with neither was never sent
    to sales and is not checked. Attempts are the counted touches from the start to the close
    (or to `within_days` after the start, if sooner); channels are the distinct channels among
    them (never more channels required than attempts). A tier without criteria is reported as
    "unknown_tier".
    """
    exempt = [norm_py(r) for r in cfg.persistence.exempt_reasons]
    closed = state.filter(
        pl.col("in_scope")
        & pl.col("stage").is_in(cfg.persistence.stages)
        & within_lookback("entered_at", as_of, cfg.lookback_days)
        & ~norm_text(pl.col("reason")).fill_null("").is_in(exempt)
    ).select(
        *PAIR,
        "stage",
        pl.col("entered_at").alias("closed_at"),
        "reason",
        "changed_by",
        "closer_is_rep",
        "closer_team",
        "mql_at",
        pl.col("owner_id").alias("_crm_owner"),
        pl.col("team").alias("_crm_team"),
    )
    before = (
        closed.select(*PAIR, "closed_at")
        .join(assignments, on=PAIR, how="inner")
        .filter(pl.col("assigned_at") <= pl.col("closed_at"))
        .sort([*PAIR, "assigned_at", "owner_id"])
        .group_by(PAIR, maintain_order=True)
        .last()
        .select(
            *PAIR,
            pl.col("owner_id").alias("_log_owner"),
            pl.col("team").alias("_log_team"),
            pl.col("sla_tier").alias("_log_tier"),
            pl.col("min_attempts").alias("_log_attempts"),
            pl.col("persistence_days").alias("_log_days"),
            "assigned_at",
        )
    )
    mql_before = pl.when(pl.col("mql_at") <= pl.col("closed_at")).then(pl.col("mql_at"))
    default_tier = pl.lit(criteria.default_tier, dtype=pl.String)
    assigned = pl.col("assigned_at").is_not_null()
    pursued = (
        closed.join(before, on=PAIR, how="left")
        .with_columns(
            pl.when(assigned)
            .then(pl.col("assigned_at"))
            .when(default_tier.is_not_null())
            .then(mql_before)
            .alias("pursuit_started_at"),
            pl.coalesce(pl.col("_log_tier"), default_tier).alias("sla_tier"),
            pl.coalesce("_log_owner", "_crm_owner").alias("owner_id"),
            pl.coalesce("_log_team", "_crm_team").alias("_owner_team"),
        )
        .filter(pl.col("pursuit_started_at").is_not_null())
        .join(criteria_frame(criteria), on="sla_tier", how="left")
        .with_columns(
            # What the rep was promised at assignment time wins over tonight's config.
            pl.coalesce("_log_attempts", "min_attempts").alias("min_attempts"),
            pl.when(pl.col("_log_attempts").is_not_null())
            .then(pl.col("min_channels").fill_null(0))
            .otherwise(pl.col("min_channels"))
            .alias("min_channels"),
            pl.coalesce("_log_days", "_within_days").alias("_within_days"),
        )
        .with_columns(pl.min_horizontal("min_channels", "min_attempts").alias("min_channels"))
        .with_columns(
            pl.min_horizontal(
                "closed_at", pl.col("pursuit_started_at") + pl.duration(days=pl.col("_within_days"))
            ).alias("_pursuit_end")
        )
    )
    in_pursuit = (pl.col("occurred_at") >= pl.col("pursuit_started_at")) & (
        pl.col("occurred_at") <= pl.col("_pursuit_end")
    )
    counts = (
        touches_for(
            pursued.select(*PAIR, "owner_id", "pursuit_started_at", "_pursuit_end"),
            touches,
            cfg.touches_by,
        )
        .filter(in_pursuit)
        .group_by(PAIR)
        .agg(
            pl.len().cast(pl.Int64).alias("attempts"),
            pl.col("channel").drop_nulls().n_unique().cast(pl.Int64).alias("channels"),
        )
    )
    short_attempts = pl.col("attempts") < pl.col("min_attempts")
    short_channels = pl.col("channels") < pl.col("min_channels")
    issue = (
        pl.when(pl.col("min_attempts").is_null())
        .then(pl.lit("unknown_tier"))
        .when(short_attempts & short_channels)
        .then(pl.lit("too_few_attempts; too_few_channels"))
        .when(short_attempts)
        .then(pl.lit("too_few_attempts"))
        .when(short_channels)
        .then(pl.lit("too_few_channels"))
    )
    return (
        pursued.join(counts, on=PAIR, how="left")
        .with_columns(pl.col("attempts").fill_null(0), pl.col("channels").fill_null(0))
        .with_columns(
            issue.alias("issue"),
            *closer_columns("owner_id", "_owner_team"),
        )
        .filter(pl.col("issue").is_not_null())
        .select(PERSISTENCE_COLUMNS)
        .sort(PAIR)
    )
