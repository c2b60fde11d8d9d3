"""Assignment: route every verified MQL to one owner (or to overflow, with the reason).

Order of work: leads already with an active owner are kept; the rest form routing units and
meet the configured rules in order (first match wins); a territory rule picks a team and the
team's distribution picks the rep; SLA deadlines and pursuit-plan tasks follow from the owner's
clock. Pure: frames and config in, frames out; the command does the I/O.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from leadctl.config.assign import AssignConfig
from leadctl.config.lifecycle import LifecycleConfig
from leadctl.errors import ConfigError, InputError
from leadctl.schemas import UTC_DATETIME
from leadctl.stages.assign_owners import current_load, latest_log, ownership, working_stages
from leadctl.stages.assign_reps import build_roster, home_team, team_members
from leadctl.stages.assign_route import Routing, route
from leadctl.stages.assign_rules import build_units, unit_key
from leadctl.stages.assign_state import Memory, carry_over, next_state
from leadctl.stages.rate_stages import latest_frames, lead_frame, stages_for
from leadctl.stages.sla import CLOCK_COLUMNS, assigned_at, sla_deadlines, touch_schedule

log = logging.getLogger("leadctl.assign")

KEYS = ["lead_id", "product_group"]
VERIFIED_REQUIRED = pl.Schema(
    {"lead_id": pl.String(), "product_group": pl.String(), "action": pl.String()}
)
VERIFIED_OPTIONAL = {
    "propensity": pl.Float64,
    "rating": pl.String,
    "sla_tier": pl.String,
    "stage_to_set": pl.String,
    "region": pl.String,
    "country_code": pl.String,
    "state_code": pl.String,
    "matched_account_id": pl.String,
    "account_owner_id": pl.String,
    "named_account": pl.Boolean,
    "industry": pl.String,
    "employees": pl.Int64,
    "owner_id": pl.String,
}
ASSIGNMENT_COLUMNS = [
    "lead_id",
    "product_group",
    "owner_id",
    "team",
    "rating",
    "action",
    "stage_to_set",
    "sla_tier",
    "sla_due_at",
    "routing_rule",
    "reason",
]
OVERFLOW_COLUMNS = [
    "lead_id",
    "product_group",
    "team",
    "rating",
    "action",
    "sla_tier",
    "propensity",
    "routing_rule",
    "reason",
    "detail",
]
TASK_COLUMNS = [
    "lead_id",
    "product_group",
    "owner_id",
    "team",
    "sla_tier",
    "pursuit_plan",
    "touch_number",
    "channel",
    "template",
    "due_date",
    "due_at",
]
LOG_OUTPUT_COLUMNS = [
    "lead_id",
    "product_group",
    "owner_id",
    "team",
    "sla_tier",
    "action",
    "assigned_at",
    "sla_due_at",
    "routing_rule",
    "pursuit_plan",
    "min_attempts",
    "persistence_days",
]
AUDIT_COLUMNS = [
    "lead_id",
    "product_group",
    "unit_id",
    "rule_order",
    "rule_name",
    "rule_kind",
    "evaluated",
    "matched",
    "outcome",
    "owner_id",
    "team",
    "detail",
]


@dataclass
class AssignInputs:
    """Everything one night of assignment reads (the command loads them)."""

    verified: pl.LazyFrame
    reps: pl.LazyFrame
    leads: pl.LazyFrame
    stage_history: pl.LazyFrame
    log: (
        pl.DataFrame
    )  # assignments log rows of earlier nights (lead_id, product_group, owner_id, assigned_at)
    state: pl.DataFrame  # the latest state snapshot before as_of (empty if none)
    # expire's reassign.csv of the previous night: lead_id, product_group, previous_owner_id, source
    reassign: pl.DataFrame | None = None


@dataclass
class AssignResult:
    """The night's outputs, ready to write."""

    assignments: pl.DataFrame
    tasks: pl.DataFrame
    overflow: pl.DataFrame
    audit: pl.DataFrame
    log: pl.DataFrame
    state: pl.DataFrame
    roster: pl.DataFrame  # per rep after tonight: capacity, open_before, open_leads, assigned value
    shares: pl.DataFrame  # team, owner_id, assigned, expected_value: tonight's split
    kept: int
    warnings: list[str] = field(default_factory=list)


def prepare_verified(verified: pl.LazyFrame, cfg: AssignConfig) -> pl.DataFrame:
    """Collect verified rows with every column assign reads; resolve each row's SLA tier."""
    schema = verified.collect_schema()
    missing = [c for c in VERIFIED_REQUIRED if c not in schema]
    if missing:
        raise InputError(
            f"verified.parquet lacks column(s) {missing}: re-run `leadctl verify` for this as-of"
        )
    exprs = [pl.col(c).cast(t) for c, t in VERIFIED_REQUIRED.items()]
    exprs += [
        pl.col(c).cast(t) if c in schema else pl.lit(None, dtype=t).alias(c)
        for c, t in VERIFIED_OPTIONAL.items()
    ]
    rows = verified.select(exprs).collect()
    nulls = rows.filter(pl.col("lead_id").is_null() | pl.col("product_group").is_null()).height
    if nulls:
        raise InputError(f"verified.parquet has {nulls} row(s) without lead_id or product_group")
    dups = rows.filter(pl.struct(KEYS).is_duplicated())
    if dups.height:
        sample = dups.select(KEYS).unique().sort(KEYS).head(5).rows()
        raise InputError(
            f"verified.parquet has {dups.height} rows repeating a (lead_id, product_group), "
            f"e.g. {sample}: each pair must appear once; re-run `leadctl verify`"
        )
    by_action = pl.col("action").replace_strict(
        cfg.tier_by_action, default=None, return_dtype=pl.String
    )
    rows = rows.with_columns(
        pl.coalesce(pl.col("sla_tier"), by_action, pl.lit(cfg.default_tier)).alias("sla_tier"),
        pl.col("country_code").str.to_uppercase(),
        pl.col("state_code").str.to_uppercase(),
    )
    unknown = rows.filter(~pl.col("sla_tier").is_in(list(cfg.sla_tiers)))
    if unknown.height:
        tiers = sorted(unknown["sla_tier"].unique().to_list())
        raise ConfigError(
            f"verified.parquet has sla_tier value(s) {tiers} ({unknown.height} rows) that "
            f"assign.sla_tiers does not define ({sorted(cfg.sla_tiers)}): add them to the config"
        )
    return rows.sort(KEYS)


def _audit(
    rows: pl.DataFrame, units: pl.DataFrame, evaluated: pl.DataFrame, cfg: AssignConfig
) -> pl.DataFrame:
    """Every verified row × (existing owner check + every rule): evaluated or not, and why."""
    rules = pl.DataFrame(
        {
            "rule_order": list(range(1, len(cfg.rules) + 1)),
            "rule_name": [r.name for r in cfg.rules],
            "rule_kind": [r.kind for r in cfg.rules],
        },
        schema={"rule_order": pl.Int32, "rule_name": pl.String, "rule_kind": pl.String},
    )
    grid = units.select("unit_id").join(rules, how="cross")
    per_unit = grid.join(
        evaluated.drop("rule_name", "rule_kind", "overflow_reason"),
        on=["unit_id", "rule_order"],
        how="left",
    ).select(
        "unit_id",
        "rule_order",
        "rule_name",
        "rule_kind",
        pl.col("outcome").is_not_null().alias("evaluated"),
        pl.col("matched").fill_null(False),
        pl.col("outcome").fill_null("not_evaluated"),
        "owner_id",
        "team",
        pl.col("detail").fill_null("not evaluated: an earlier rule decided"),
    )
    routed = (
        rows.filter(~pl.col("owned"))
        .select(*KEYS, "unit_id")
        .join(per_unit, on="unit_id", how="inner")
    )
    skipped = (
        rows.filter(pl.col("owned"))
        .select(*KEYS, "unit_id")
        .join(rules, how="cross")
        .with_columns(
            pl.lit(False).alias("evaluated"),
            pl.lit(False).alias("matched"),
            pl.lit("not_evaluated").alias("outcome"),
            pl.lit(None, dtype=pl.String).alias("owner_id"),
            pl.lit(None, dtype=pl.String).alias("team"),
            pl.lit("not evaluated: already owned").alias("detail"),
        )
    )
    existing = rows.select(
        *KEYS,
        "unit_id",
        pl.lit(0, dtype=pl.Int32).alias("rule_order"),
        pl.lit("existing_owner").alias("rule_name"),
        pl.lit("existing_owner").alias("rule_kind"),
        pl.lit(True).alias("evaluated"),
        pl.col("owned").alias("matched"),
        pl.when(pl.col("owned"))
        .then(pl.lit("kept"))
        .otherwise(pl.lit("not_matched"))
        .alias("outcome"),
        pl.when(pl.col("owned")).then(pl.col("current_owner_id")).alias("owner_id"),
        pl.lit(None, dtype=pl.String).alias("team"),
        pl.when(pl.col("owned"))
        .then(pl.concat_str([pl.lit("already owned by active rep "), pl.col("current_owner_id")]))
        .when(pl.col("released_from").is_not_null())
        .then(pl.col("released_from"))
        .when(pl.col("current_owner_id").is_null())
        .then(pl.lit("no current owner"))
        .otherwise(
            pl.concat_str(
                [
                    pl.lit("owner "),
                    pl.col("current_owner_id"),
                    pl.lit(" is inactive or the lead is not in a working stage"),
                ]
            )
        )
        .alias("detail"),
    )
    parts = [
        existing.select(AUDIT_COLUMNS),
        routed.select(AUDIT_COLUMNS),
        skipped.select(AUDIT_COLUMNS),
    ]
    return pl.concat(parts, how="vertical_relaxed").sort(["lead_id", "product_group", "rule_order"])


def _release(rows: pl.DataFrame, reassign: pl.DataFrame | None) -> pl.DataFrame:
    """Leads expire asked to reassign (SLA breach, feedback) lose their owner: they are routed
    again, and their previous owner (`exclude_rep`) is not chosen again by any rule."""
    if reassign is None or reassign.height == 0:
        return rows.with_columns(
            pl.lit(None, dtype=pl.String).alias("released_from"),
            pl.lit(None, dtype=pl.String).alias("exclude_rep"),
        )
    asked = reassign.select(
        pl.col("lead_id").cast(pl.String),
        pl.col("product_group").cast(pl.String),
        pl.col("previous_owner_id").cast(pl.String).alias("_from"),
        pl.col("source").cast(pl.String).alias("_source"),
    ).unique(KEYS, keep="first")
    released = pl.col("_from").is_not_null()
    return (
        rows.join(asked, on=KEYS, how="left")
        .with_columns(
            pl.when(released).then(pl.lit(False)).otherwise(pl.col("owned")).alias("owned"),
            pl.when(released & (pl.col("prev_owner_id") == pl.col("_from")))
            .then(pl.lit(None, dtype=pl.String))
            .otherwise(pl.col("prev_owner_id"))
            .alias("prev_owner_id"),
            pl.when(released)
            .then(pl.format("released from {} for reassignment ({})", "_from", "_source"))
            .alias("released_from"),
        )
        .rename({"_from": "exclude_rep"})
        .drop("_source")
    )


def _clock(frame: pl.DataFrame, roster: pl.DataFrame, cfg: AssignConfig) -> pl.DataFrame:
    """Add the owner's SLA clock: time zone and working hours (rep → team → default), holidays."""
    team_tz = {t.name: t.time_zone for t in cfg.teams if t.time_zone}
    team_hours = {t.name: t.working_hours for t in cfg.teams if t.working_hours}
    return (
        frame.join(
            roster.select("rep_id", "rep_time_zone", "rep_working_hours"),
            left_on="owner_id",
            right_on="rep_id",
            how="left",
        )
        .with_columns(
            pl.coalesce(
                "rep_time_zone",
                pl.col("team").replace_strict(team_tz, default=None, return_dtype=pl.String),
                pl.lit(cfg.default_time_zone),
            ).alias("time_zone"),
            pl.coalesce(
                "rep_working_hours",
                pl.col("team").replace_strict(team_hours, default=None, return_dtype=pl.String),
                pl.lit(cfg.default_working_hours),
            ).alias("working_hours"),
        )
        .with_columns(
            pl.col("time_zone")
            .replace_strict(cfg.holiday_countries, default=None, return_dtype=pl.String)
            .alias("holiday_country")
        )
        .drop("rep_time_zone", "rep_working_hours")
    )


def stages_and_load(
    inputs: AssignInputs,
    rows: pl.DataFrame,
    log_latest: pl.DataFrame,
    groups: list[str],
    lifecycle: LifecycleConfig,
    as_of: date,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(current stage of the verified and logged pairs, open load per rep in the CRM).

    The same values as `lifecycle.current_stages` over every lead x group and
    `lifecycle.open_load` of it (tests compare them), but the stage of each pair comes straight
    from the latest history rows (rate_stages) and only the pairs assign looks up are kept:
    ownership and the logged assignments read verified and logged pairs, the load only counts.
    """
    # Both shared with rate inside `run` (rate_stages).
    frames = latest_frames(inputs.stage_history, as_of)
    latest = frames[0]
    owner = [pl.col("owner_id").cast(pl.String).alias("_owner")]
    per_lead = lead_frame(inputs.leads, inputs.stage_history, lifecycle, as_of, owner, frames)
    grid = (
        per_lead.lazy()
        .filter(pl.col("_owner").is_not_null())
        .join(
            pl.LazyFrame({"product_group": groups}, schema={"product_group": pl.String}),
            how="cross",
        )
    )
    load = (
        stages_for(grid, latest.lazy(), None, lifecycle, as_of)
        .filter(pl.col("current_stage").is_in(working_stages(lifecycle)))
        .group_by("_owner")
        .agg(pl.len().cast(pl.Int64).alias("open_leads"))
        .rename({"_owner": "rep_id"})
        .sort("rep_id")
    )
    pairs = (
        pl.concat([rows.select(KEYS), log_latest.select(KEYS).cast(pl.String)])
        .lazy()
        .unique()
        .filter(pl.col("product_group").is_in(groups))
    )
    current = (
        stages_for(pairs, latest.lazy(), per_lead.drop("_owner").lazy(), lifecycle, as_of)
        .filter(pl.col("current_stage").is_not_null())  # a lead the leads table lacks
        .select(
            *KEYS,
            pl.col("current_stage").alias("stage"),
            pl.col("_entered_at").alias("entered_at"),
            pl.col("_days_in_stage").alias("days_in_stage"),
            pl.col("_stage_reason").alias("reason"),
        )
    )
    current_df, load_df = pl.collect_all([current, load], engine="in-memory")
    return current_df, load_df


def assign(
    inputs: AssignInputs,
    *,
    cfg: AssignConfig,
    lifecycle: LifecycleConfig,
    product_groups: list[str],
    as_of: date,
) -> AssignResult:
    """Route tonight's verified MQLs; see the module docstring for the order of work."""
    rows = prepare_verified(inputs.verified, cfg)
    groups = sorted({*product_groups, *rows["product_group"].unique().to_list()})
    start = assigned_at(as_of)
    earlier = (
        inputs.log.filter(pl.col("assigned_at").cast(UTC_DATETIME) < start)
        if inputs.log.height
        else inputs.log
    )
    log_latest = (
        latest_log(earlier)
        if earlier.height
        else latest_log(
            pl.DataFrame(
                schema={
                    "lead_id": pl.String,
                    "product_group": pl.String,
                    "owner_id": pl.String,
                    "assigned_at": UTC_DATETIME,
                }
            )
        )
    )
    current, crm_load = stages_and_load(inputs, rows, log_latest, groups, lifecycle, as_of)
    crm_owner = inputs.leads.select(pl.col("lead_id"), pl.col("owner_id").cast(pl.String)).collect()
    load = current_load(crm_load, log_latest, current, crm_owner, lifecycle)
    memory: Memory = carry_over(inputs.state, as_of, cfg.balance_half_life_days)
    roster, warnings = build_roster(inputs.reps.collect(), load, memory.balance, cfg, as_of)
    roster = roster.with_columns(
        pl.col("open_leads").alias("open_before"),
        pl.lit(0, dtype=pl.Int64).alias("tonight_leads"),
        pl.lit(0.0).alias("tonight_value"),
    )
    members = team_members(roster, cfg)
    ctx = Routing(roster, members, home_team(roster, members, cfg), dict(memory.pointers))

    # Owner-less rows whose owner still holds them are kept; the rest are routed as units.
    # ownership reads the history of verified leads only.
    history = (
        inputs.stage_history.select("lead_id", "product_group", "stage", "changed_at", "changed_by")
        .join(rows.select("lead_id").unique().lazy(), on="lead_id", how="semi")
        .collect(engine="in-memory")
    )
    own = ownership(rows, current, history, log_latest, roster, lifecycle, as_of)
    rows = rows.join(own, on=KEYS, how="left").with_columns(
        pl.col("owned").fill_null(False), unit_key(cfg).alias("unit_id")
    )
    rows = _release(rows, inputs.reassign).sort(KEYS)
    todo = rows.filter(~pl.col("owned"))
    units = build_units(todo, rows, cfg)
    decided, evaluated = route(units, ctx, cfg, as_of)
    audit = _audit(rows, units, evaluated, cfg)

    mode_note = "account mode" if cfg.account_mode else "one owner per lead"
    outcome = (
        todo.drop("owner_id")
        .join(decided, on="unit_id", how="left")
        .join(units.select("unit_id", "rep_lead_id", "n_leads"), on="unit_id", how="left")
        .with_columns(
            pl.when(pl.col("n_leads") > 1)
            .then(
                pl.format(
                    "{}; routed with lead {} ({})",
                    pl.col("detail"),
                    pl.col("rep_lead_id"),
                    pl.lit(mode_note),
                )
            )
            .otherwise(pl.col("detail"))
            .alias("reason"),
            pl.col("rule_name").alias("routing_rule"),
        )
    )
    assigned_rows = _clock(outcome.filter(pl.col("outcome") == "assigned"), ctx.roster, cfg)
    if assigned_rows.height:
        deadlines = sla_deadlines(assigned_rows.select(CLOCK_COLUMNS), cfg, as_of)
        schedule = touch_schedule(assigned_rows.select(CLOCK_COLUMNS), cfg, as_of)
    else:
        deadlines = pl.DataFrame(
            schema={**{c: pl.String for c in CLOCK_COLUMNS}, "sla_due_at": UTC_DATETIME}
        )
        schedule = touch_schedule(
            pl.DataFrame(schema={c: pl.String for c in CLOCK_COLUMNS}), cfg, as_of
        )
    assigned_rows = assigned_rows.join(deadlines, on=CLOCK_COLUMNS, how="left", nulls_equal=True)
    assignments = assigned_rows.select(ASSIGNMENT_COLUMNS).sort(KEYS)
    tasks = (
        assigned_rows.select(*KEYS, "owner_id", "team", *CLOCK_COLUMNS)
        .join(schedule, on=CLOCK_COLUMNS, how="inner", nulls_equal=True)
        .select(TASK_COLUMNS)
        .sort([*KEYS, "touch_number"])
    )
    overflow = (
        outcome.filter(pl.col("outcome") == "overflow")
        .select(
            *OVERFLOW_COLUMNS[:7],
            "routing_rule",
            pl.col("overflow_reason").alias("reason"),
            pl.col("reason").alias("detail"),
        )
        .sort(KEYS)
    )
    plan_of = {k: t.pursuit_plan for k, t in cfg.sla_tiers.items() if t.pursuit_plan}
    attempts = {k: p.min_attempts for k, p in cfg.pursuit_plans.items()}
    days = {k: p.within_days for k, p in cfg.pursuit_plans.items()}
    night_log = (
        assigned_rows.with_columns(
            pl.lit(start).cast(UTC_DATETIME).alias("assigned_at"),
            pl.col("sla_tier")
            .replace_strict(plan_of, default=None, return_dtype=pl.String)
            .alias("pursuit_plan"),
        )
        .with_columns(
            pl.col("pursuit_plan")
            .replace_strict(attempts, default=None, return_dtype=pl.Int64)
            .alias("min_attempts"),
            pl.col("pursuit_plan")
            .replace_strict(days, default=None, return_dtype=pl.Int64)
            .alias("persistence_days"),
        )
        .select(LOG_OUTPUT_COLUMNS)
        .sort(KEYS)
    )
    tonight = ctx.roster.select(
        "rep_id", pl.col("tonight_leads").alias("n"), pl.col("tonight_value").alias("value")
    )
    state = next_state(memory, ctx.roster, tonight.filter(pl.col("n") > 0), ctx.pointers, as_of)
    kept = int(rows["owned"].sum())
    log.info(
        "assign: %d rows, %d kept, %d assigned, %d overflow",
        rows.height,
        kept,
        assignments.height,
        overflow.height,
    )
    return AssignResult(
        assignments=assignments,
        tasks=tasks,
        overflow=overflow,
        audit=audit,
        log=night_log,
        state=state,
        roster=ctx.roster.join(ctx.homes, on="rep_id", how="left").sort("rep_id"),
        shares=assigned_rows.group_by("team", "owner_id")
        .agg(
            pl.len().cast(pl.Int64).alias("assigned"),
            pl.col("propensity").fill_null(0.0).sum().alias("expected_value"),
        )
        .sort("team", "owner_id"),
        kept=kept,
        warnings=warnings,
    )
