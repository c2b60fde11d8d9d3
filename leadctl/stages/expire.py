"""`expire`: stage tracking, sales feedback and disposition expiration, as one pure function.

Prospects sent to sales must have a beginning and an end. From the stage history, the sales
touches and the assignment log this stage derives, as of one date: the stage updates the CRM
should import (expired leads back to marketing, reasons that call for a recycle or a
disqualification), SLA and persistence breaches, zombies, feedback issues, the marketing
suppression list, illegal transitions and the leads `assign` must route again.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

import polars as pl

from leadctl.config.expire import ExpireConfig, PersistenceCriteria, check_expire_config
from leadctl.config.lifecycle import LifecycleConfig
from leadctl.errors import ConfigError
from leadctl.stages.expire_breaches import (
    REASSIGN_COLUMNS,
    persistence_breaches,
    sla_breaches,
    sla_reassign,
    working_stages,
)
from leadctl.stages.expire_common import (
    PAIR,
    attach_owner,
    expand_history,
    known_touches,
    latest_assignments,
    mql_dates,
    rep_directory,
    scope_flag,
    touch_stats,
)
from leadctl.stages.expire_feedback import (
    classify_reasons,
    feedback_issues,
    feedback_reassign,
    feedback_updates,
)
from leadctl.stages.expire_rules import expirations
from leadctl.stages.expire_suppression import suppression
from leadctl.stages.expire_transitions import illegal_transitions
from leadctl.stages.expire_zombies import zombies
from leadctl.stages.lifecycle import current_stages

UPDATE_COLUMNS = [
    *PAIR,
    "new_stage",
    "reason",
    "previous_stage",
    "owner_released",
    "owner_id",
    "team",
    "rule",
]


@dataclass(frozen=True)
class ExpireInputs:
    """The canonical tables expire reads, plus the assignment log (may be empty)."""

    stage_history: pl.LazyFrame
    sales_touches: pl.LazyFrame
    leads: pl.LazyFrame
    reps: pl.LazyFrame
    assignments: pl.LazyFrame


@dataclass(frozen=True)
class ExpireResult:
    """Every output of expire, one lazy frame each, sorted by stable keys."""

    stage_updates: pl.LazyFrame
    sla_breaches: pl.LazyFrame
    persistence_breaches: pl.LazyFrame
    suppression: pl.LazyFrame
    feedback_issues: pl.LazyFrame
    zombies: pl.LazyFrame
    illegal_transitions: pl.LazyFrame
    reassign: pl.LazyFrame

    def frames(self) -> dict[str, pl.LazyFrame]:
        """Output name → frame, in a fixed order."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def stage_updates(
    state: pl.LazyFrame, expired: pl.LazyFrame, feedback: pl.LazyFrame, lifecycle: LifecycleConfig
) -> pl.LazyFrame:
    """One update per pair (an expiry wins over a feedback update), with owner_released.

    The owner is released when no other product group of the lead is still being worked after
    tonight's updates (the CRM owner sits on the lead, not on the group).
    """
    updates = pl.concat([expired, feedback]).unique(subset=PAIR, keep="first", maintain_order=True)
    after = (
        state.filter(pl.col("in_scope"))
        .select(*PAIR, "stage")
        .join(updates.select(*PAIR, "new_stage"), on=PAIR, how="left")
        .with_columns(pl.coalesce("new_stage", "stage").alias("stage_after"))
    )
    worked = (
        after.filter(pl.col("stage_after").is_in(working_stages(lifecycle)))
        .group_by("lead_id")
        .agg(pl.len().alias("_worked_groups"))
    )
    owners = state.select(*PAIR, "owner_id", "team")
    return (
        updates.join(owners, on=PAIR, how="left")
        .join(worked, on="lead_id", how="left")
        .with_columns(
            (pl.col("owner_id").is_not_null() & pl.col("_worked_groups").fill_null(0).eq(0)).alias(
                "owner_released"
            )
        )
        .select(UPDATE_COLUMNS)
        .sort(PAIR)
    )


def validate_config(cfg: ExpireConfig, lifecycle: LifecycleConfig) -> None:
    """Raise ConfigError when the expire section and the lifecycle disagree."""
    problems = check_expire_config(cfg, lifecycle)
    if problems:
        raise ConfigError("the expire and lifecycle config disagree:\n  " + "\n  ".join(problems))


def expire(
    inputs: ExpireInputs,
    *,
    product_groups: list[str],
    lifecycle: LifecycleConfig,
    cfg: ExpireConfig,
    criteria: PersistenceCriteria,
    as_of: date,
) -> ExpireResult:
    """Everything expire decides for the night of `as_of` (nothing after as-of is seen)."""
    validate_config(cfg, lifecycle)
    events = expand_history(inputs.stage_history, product_groups, as_of)
    current = current_stages(inputs.stage_history, inputs.leads, product_groups, lifecycle, as_of)
    directory = rep_directory(inputs.reps)
    assigned = latest_assignments(inputs.assignments, as_of)
    touches = known_touches(inputs.sales_touches, as_of)
    # Who closed a lead: the rep who logged the change; a system user's change is the owner's.
    closer = directory.select(
        pl.col("rep_id").alias("changed_by"),
        pl.col("rep_team").alias("closer_team"),
        pl.lit(True).alias("closer_is_rep"),
    )
    state = (
        attach_owner(scope_flag(current, events), assigned, inputs.leads, directory)
        .join(mql_dates(events, lifecycle), on=PAIR, how="left")
        .join(closer, on="changed_by", how="left")
        .with_columns(pl.col("closer_is_rep").fill_null(False))
    )
    stats = touch_stats(state, touches, cfg.touches_by, as_of, cfg.zombies.window_days)
    # Every output reads the per-pair state; materialised once, not re-planned eight times.
    state = state.join(stats, on=PAIR, how="left").collect().lazy()
    events = events.collect().lazy()
    classified = classify_reasons(state, lifecycle)

    expired = expirations(state.filter(pl.col("in_scope")), cfg, as_of)
    updates = stage_updates(state, expired, feedback_updates(classified, lifecycle), lifecycle)
    sla = sla_breaches(assigned, state, updates, touches, directory, cfg, lifecycle, as_of)
    reassign = (
        pl.concat([sla_reassign(sla), feedback_reassign(classified)])
        .unique(subset=PAIR, keep="first", maintain_order=True)
        .select(REASSIGN_COLUMNS)
        .sort(PAIR)
    )
    changed_by_team = directory.select(
        pl.col("rep_id").alias("changed_by"), pl.col("rep_team").alias("team")
    )
    illegal = (
        illegal_transitions(events, lifecycle, as_of, cfg.lookback_days)
        .join(changed_by_team, on="changed_by", how="left")
        .sort([*PAIR, "changed_at", "to_stage", "changed_by"], nulls_last=True)
    )
    return ExpireResult(
        stage_updates=updates,
        sla_breaches=sla,
        persistence_breaches=persistence_breaches(
            state, inputs.assignments, touches, criteria, cfg, as_of
        ),
        suppression=suppression(classified, updates, lifecycle, cfg, as_of),
        feedback_issues=feedback_issues(classified, lifecycle, cfg, as_of),
        zombies=zombies(state, updates, cfg),
        illegal_transitions=illegal,
        reassign=reassign,
    )
