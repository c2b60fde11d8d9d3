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
    ROW,
    known_touches,
    latest_assignments,
    pair_key,
    rep_directory,
    row_of,
    with_touch_stats,
)
from leadctl.stages.expire_feedback import (
    classify_reasons,
    feedback_issues,
    feedback_reassign,
    feedback_updates,
)
from leadctl.stages.expire_history import current_pairs, read_history
from leadctl.stages.expire_rules import expirations
from leadctl.stages.expire_suppression import suppression
from leadctl.stages.expire_transitions import ordered_illegal_transitions
from leadctl.stages.expire_zombies import zombies

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
    updates = updates.collect().lazy()  # read three times below
    key = pair_key(state, updates)
    after = (
        state.filter(pl.col("in_scope"))
        .select(*PAIR, *row_of(state), "stage")
        # Only leads with an update need their worked groups counted.
        .join(updates.select("lead_id").unique(), on="lead_id", how="semi")
        .join(updates.select(*key, "new_stage"), on=key, how="left")
        .with_columns(pl.coalesce("new_stage", "stage").alias("stage_after"))
    )
    worked = (
        after.filter(pl.col("stage_after").is_in(working_stages(lifecycle)))
        .group_by("lead_id")
        .agg(pl.len().alias("_worked_groups"))
    )
    owners = state.select(*key, "owner_id", "team")
    return (
        updates.join(owners, on=key, how="left")
        .join(worked, on="lead_id", how="left")
        .with_columns(
            (pl.col("owner_id").is_not_null() & pl.col("_worked_groups").fill_null(0).eq(0)).alias(
                "owner_released"
            )
        )
        .select(*UPDATE_COLUMNS, *row_of(updates))
        .sort(PAIR)
    )


def _attach_owner(
    current: pl.DataFrame, assigned: pl.DataFrame, directory: pl.DataFrame
) -> pl.DataFrame:
    """Add owner_id, team, sla_tier, assigned_at: the logged assignment, else the CRM owner
    (`_crm_owner`, dropped) and that rep's team."""
    log = assigned.select(
        *PAIR,
        pl.col("owner_id").alias("_log_owner"),
        pl.col("team").alias("_log_team"),
        "sla_tier",
        "assigned_at",
    )
    return (
        current.join(log, on=PAIR, how="left")
        .with_columns(pl.coalesce("_log_owner", "_crm_owner").alias("owner_id"))
        .join(
            directory.select("rep_id", "rep_team"),
            left_on="owner_id",
            right_on="rep_id",
            how="left",
        )
        .with_columns(pl.coalesce("_log_team", "rep_team").alias("team"))
        .drop("_log_owner", "_crm_owner", "_log_team", "rep_team")
    )


def used_stages(cfg: ExpireConfig, lifecycle: LifecycleConfig) -> list[str]:
    """Every stage an expire output looks at: rule stages, working and closed stages,
    persistence, zombie and suppression stages. A pair in any other stage and without a reason
    appears in no output (unless assigned: see `expire`)."""
    s = cfg.suppression
    named = [
        *cfg.rules,
        *working_stages(lifecycle),
        *lifecycle.closed_stages,
        *cfg.persistence.stages,
        *cfg.zombies.stages,
        *(lifecycle.active_sales_stages if s.active_sales_stages else []),
        *s.extra_stages,
    ]
    return sorted(set(named))


def touch_stages(cfg: ExpireConfig) -> list[str]:
    """Stages whose pairs need their touch counts: a no-touch rule or the zombie check."""
    ruled = [stage for stage, rule in cfg.rules.items() if rule.no_touch_days is not None]
    return sorted({*ruled, *cfg.zombies.stages})


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
    full_state: bool = False,
) -> ExpireResult:
    """Everything expire decides for the night of `as_of` (nothing after as-of is seen).

    `full_state` keeps every (lead, group) pair in the per-pair state instead of only those in
    `used_stages` (same outputs; for tests).
    """
    validate_config(cfg, lifecycle)
    # Each large input is read once and materialised (rechunked: gathers and joins on
    # chunked frames are several times slower); the history is ordered without a string sort
    # and every per-pair fact (current stage, scope, MQL date) comes from one pass over it.
    history = read_history(inputs.stage_history, product_groups, as_of)
    # The illegal transitions are the only output that reads every event: collected now, so
    # the events can go before the touches are read (lower peak memory).
    illegal_steps = ordered_illegal_transitions(
        history.events, lifecycle, as_of, cfg.lookback_days
    ).collect()
    directory_df, assigned_df = pl.collect_all(
        [rep_directory(inputs.reps), latest_assignments(inputs.assignments, as_of)]
    )
    # Who closed a lead: the rep who logged the change; a system user's change is the owner's.
    closer = directory_df.select(
        pl.col("rep_id").alias("changed_by"),
        pl.col("rep_team").alias("closer_team"),
        pl.lit(True).alias("closer_is_rep"),
    )
    # Only the pairs an output can use: a stage some rule or list names, a logged reason, or
    # an assignment (the SLA check reports the current stage of any assigned pair).
    current = current_pairs(
        history,
        inputs.leads,
        product_groups,
        lifecycle,
        as_of,
        stages=None if full_state else used_stages(cfg, lifecycle),
        extra_pairs=assigned_df.select(PAIR),
    )
    del history
    touches_df = known_touches(inputs.sales_touches, as_of).collect().rechunk()
    touches = touches_df.lazy()
    owned = _attach_owner(current, assigned_df, directory_df)
    state_df = with_touch_stats(
        owned.join(closer, on="changed_by", how="left").with_columns(
            pl.col("closer_is_rep").fill_null(False)
        ),
        touches_df,
        cfg.touches_by,
        as_of,
        cfg.zombies.window_days,
        stages=None if full_state else touch_stages(cfg),
    )
    # Every output reads the per-pair state; materialised once, not re-planned eight times.
    # Numbered: the updates derived from it are joined back to it by that number.
    state = state_df.with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias(ROW)).lazy()
    directory = directory_df.lazy()
    assigned = assigned_df.lazy()
    # Frames several outputs read are collected once here (collect_all does not share them).
    classified = classify_reasons(state, lifecycle).collect().lazy()
    expired = expirations(state.filter(pl.col("in_scope")), cfg, as_of)
    updates = stage_updates(state, expired, feedback_updates(classified, lifecycle), lifecycle)
    updates = updates.collect().lazy()  # with ROW: the stage_updates output drops it
    sla = sla_breaches(assigned, state, updates, touches, directory, cfg, lifecycle, as_of)
    sla = sla.collect().lazy()
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
        illegal_steps.lazy()
        .join(changed_by_team, on="changed_by", how="left")
        .sort([*PAIR, "changed_at", "to_stage", "changed_by"], nulls_last=True)
    )
    return ExpireResult(
        stage_updates=updates.select(UPDATE_COLUMNS),
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
