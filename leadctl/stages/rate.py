"""Rate: turn fit / engagement scores into a rating, an action and an MQL decision per group.

The flow per (lead, product group): grade the scores (letter A-D for fit, number 1-4 for
engagement), look the rating up in the action matrix (with a propensity floor), let the first
matching override rule take over, then decide MQL against the lead's stage, open opportunities
and last night's state (hysteresis, minimum stay, re-entry of recycled leads).
`prepare` holds everything that does not depend on the cutoffs, so `--suggest` can try many.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from leadctl.config.lifecycle import LifecycleConfig
from leadctl.config.rating import MQL_ACTIONS, RATINGS, OverrideRule, RateConfig
from leadctl.stages.rate_grade import THRESHOLD_COLUMNS, with_thresholds
from leadctl.stages.rate_overrides import no_override, plan_overrides, review_rules
from leadctl.stages.rate_stages import (
    GROUP_COLUMNS,
    LEAD_COLUMNS,
    latest_frames,
    lead_frame,
    stage_steps,
)

UTC = pl.Datetime("us", "UTC")
KEYS = ["lead_id", "product_group"]
SCORE_COLUMNS: dict[str, pl.DataType] = {
    "lead_id": pl.String(),
    "product_group": pl.String(),
    "fit_score": pl.Float64(),
    "engagement_score": pl.Float64(),
    "propensity": pl.Float64(),
    "score": pl.Float64(),
    "model_kind": pl.String(),
    "model_version": pl.String(),
    "reasons_for": pl.List(pl.String()),
    "reasons_against": pl.List(pl.String()),
}
RATING_COLUMNS = [
    *SCORE_COLUMNS,
    "fit_grade",
    "engagement_grade",
    "rating",
    "action",
    "sla_tier",
    "is_mql",
    "is_new_mql",
    "override_rule",
    "stage_to_set",
    "current_stage",
    "reentry_count",
    "mql_since",
]
# What rate needs from last night's snapshot (the snapshot holds more: see `results`).
STATE_SCHEMA: dict[str, pl.DataType] = {
    "lead_id": pl.String(),
    "product_group": pl.String(),
    "is_mql": pl.Boolean(),
    "mql_since": pl.Date(),
    "action": pl.String(),
    "sla_tier": pl.String(),
    "override_rule": pl.String(),
    "reentry_count": pl.Int64(),
    "rating": pl.String(),
}
NURTURE_COLUMNS = ["lead_id", "product_group", "rating", "reason"]
_REASONS = ("reasons_for", "reasons_against")


@dataclass(frozen=True)
class RateInputs:
    """Frames rate reads. `current` is lifecycle.current_stages; `previous` last night's state.

    Without `current`, the stages of the rated rows come from `stage_history` directly
    (rate_stages: the same values, without building the leads x groups grid).
    """

    scores: pl.LazyFrame
    leads: pl.LazyFrame
    activities: pl.LazyFrame
    accounts: pl.LazyFrame
    opportunities: pl.LazyFrame
    current: pl.LazyFrame | None
    previous: pl.LazyFrame | None = None
    stage_history: pl.LazyFrame | None = None


@dataclass(frozen=True)
class RateResult:
    """What rate produces; the shell collects them together (pl.collect_all)."""

    ratings: pl.LazyFrame
    nurture: pl.LazyFrame
    state: pl.LazyFrame
    cutoffs: pl.LazyFrame


def missing_score_columns(columns: list[str]) -> list[str]:
    """Contract columns of scores.parquet that a frame lacks."""
    return [c for c in SCORE_COLUMNS if c not in columns]


def normalise_scores(scores: pl.LazyFrame) -> pl.LazyFrame:
    """The contract columns with the contract types; unreadable numbers and NaN become null."""
    exprs = []
    for name, dtype in SCORE_COLUMNS.items():
        col = pl.col(name).cast(dtype, strict=False)
        if dtype == pl.Float64:
            col = col.fill_nan(None)
        exprs.append(col.alias(name))
    return scores.select(exprs)


def _open_opportunities(
    opportunities: pl.LazyFrame, as_of: date
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Open at the end of as_of: (lead, group) pairs, and leads whose open deal has no group."""
    end = pl.lit(as_of).cast(UTC) + pl.duration(days=1)
    open_ = opportunities.filter(
        pl.col("lead_id").is_not_null(),
        pl.col("created_at") < end,
        pl.col("closed_at").is_null() | (pl.col("closed_at") >= end),
    ).select(pl.col("lead_id").cast(pl.String), pl.col("product_group").cast(pl.String))
    by_group = (
        open_.filter(pl.col("product_group").is_not_null())
        .unique()
        .with_columns(pl.lit(True).alias("_opp_group"))
    )
    any_group = (
        open_.filter(pl.col("product_group").is_null())
        .select("lead_id")
        .unique()
        .with_columns(pl.lit(True).alias("_opp_any"))
    )
    return by_group, any_group


def _previous(previous: pl.LazyFrame | None) -> pl.LazyFrame | None:
    if previous is None:
        return None
    cols = [
        pl.col(c).cast(t, strict=False).alias(f"_prev_{c}")
        for c, t in STATE_SCHEMA.items()
        if c not in KEYS
    ]
    return (
        previous.select(*[pl.col(k).cast(pl.String) for k in KEYS], *cols)
        .filter(pl.col("lead_id").is_not_null(), pl.col("product_group").is_not_null())
        .unique(subset=KEYS, keep="first", maintain_order=True)
    )


def prepare(
    inputs: RateInputs, rules: list[OverrideRule], lifecycle: LifecycleConfig, as_of: date
) -> pl.LazyFrame:
    """Scores joined with override matches, stage, open opportunities and last night's state.

    Everything known per lead (override flags on lead fields and accounts, the lead's stage
    fallbacks, an open deal without a group) is joined onto the rows at once, per lead.
    """
    rows = normalise_scores(inputs.scores)
    plan = (
        plan_overrides(
            rules,
            rows.collect_schema(),
            inputs.leads.collect_schema(),
            inputs.activities,
            as_of,
        )
        if rules
        else None
    )
    per_lead: pl.LazyFrame | None
    if inputs.current is not None:
        per_key = [
            inputs.current.select(
                pl.col("lead_id").cast(pl.String),
                pl.col("product_group").cast(pl.String),
                pl.col("stage").cast(pl.String).alias("current_stage"),
                pl.col("entered_at").alias("_entered_at"),
                pl.col("days_in_stage").alias("_days_in_stage"),
                pl.col("reason").cast(pl.String).alias("_stage_reason"),
            )
        ]
        per_lead = plan.lead_flags(inputs.leads, inputs.accounts) if plan else None
        temp: list[str] = []
    elif inputs.stage_history is not None:
        # Collected first (and, inside `leadctl run`, shared with assign: rate_stages).
        latest = latest_frames(inputs.stage_history, as_of)
        per_key = [latest[0].lazy()]
        extra = plan.lead_columns() if plan else None
        per_lead = lead_frame(
            inputs.leads, inputs.stage_history, lifecycle, as_of, extra, latest
        ).lazy()
        per_lead = plan.add_account_flags(per_lead, inputs.accounts) if plan else per_lead
        temp = [*GROUP_COLUMNS, *LEAD_COLUMNS]
    else:
        raise ValueError("RateInputs needs `current` or `stage_history`")
    opp_group, opp_any = _open_opportunities(inputs.opportunities, as_of)
    # A lead with an open deal need not be in the leads table: a full join keeps it.
    per_lead = (
        opp_any
        if per_lead is None
        else per_lead.join(opp_any, on="lead_id", how="full", coalesce=True)
    )
    # Every join keeps the scores' row order: `rated` then need not sort what came sorted.
    rows = rows.join(per_lead, on="lead_id", how="left", maintain_order="left")
    activity_frames = plan.activity_frames if plan else []
    for frame, keys in [*[(f, KEYS) for f in per_key], *activity_frames, (opp_group, KEYS)]:
        rows = rows.join(frame, on=keys, how="left", maintain_order="left")
    if inputs.current is None:
        for step in stage_steps(lifecycle, as_of):
            rows = rows.with_columns(step)
    rows = rows.with_columns(
        *(plan.choose() if plan else no_override()),
        pl.col("current_stage").fill_null(lifecycle.initial_stage),
        (pl.col("_opp_group").fill_null(False) | pl.col("_opp_any").fill_null(False)).alias(
            "_open_opp"
        ),
    ).drop(*temp, *(plan.flag_columns if plan else []), "_opp_group", "_opp_any")
    prev = _previous(inputs.previous)
    if prev is not None:
        return rows.join(prev, on=KEYS, how="left", maintain_order="left")
    return rows.with_columns(
        pl.lit(None, t).alias(f"_prev_{c}") for c, t in STATE_SCHEMA.items() if c not in KEYS
    )


def _grade(value: pl.Expr, thr: str, labels: tuple[object, ...]) -> pl.Expr:
    return (
        pl.when(value >= pl.col(f"{thr}0"))
        .then(pl.lit(labels[0]))
        .when(value >= pl.col(f"{thr}1"))
        .then(pl.lit(labels[1]))
        .when(value >= pl.col(f"{thr}2"))
        .then(pl.lit(labels[2]))
        .otherwise(pl.lit(labels[3]))
    )


def grade(
    rows: pl.LazyFrame, cfg: RateConfig, thresholds: pl.DataFrame | None = None
) -> pl.LazyFrame:
    """fit_grade, engagement_grade, rating, and the rating with the hysteresis margin added.

    Reads `rows` twice (the thresholds, then the grades): `rated` passes a collected frame.
    `thresholds`: `rate_grade.group_thresholds` of all the scores, when `rows` are only some."""
    margin = cfg.hysteresis.margin
    # each group's thresholds, computed once per group
    rows = with_thresholds(rows, cfg, thresholds)
    fit, eng = pl.col("fit_score"), pl.col("engagement_score")
    letters, numbers = ("A", "B", "C", "D"), (1, 2, 3, 4)
    rows = rows.with_columns(
        _grade(fit, "_fthr", letters).alias("fit_grade"),
        _grade(eng, "_ethr", numbers).cast(pl.Int64).alias("engagement_grade"),
        _grade(fit + margin, "_fthr", letters).alias("_fit_grade_m"),
        _grade(eng + margin, "_ethr", numbers).cast(pl.Int64).alias("_eng_grade_m"),
    )
    return rows.with_columns(
        (pl.col("fit_grade") + pl.col("engagement_grade").cast(pl.String)).alias("rating"),
        (pl.col("_fit_grade_m") + pl.col("_eng_grade_m").cast(pl.String)).alias("_rating_m"),
    )


def _stages_into(lifecycle: LifecycleConfig, target: str) -> list[str]:
    return sorted(s for s, targets in lifecycle.transitions.items() if target in targets)


def decide(
    rows: pl.LazyFrame, cfg: RateConfig, lifecycle: LifecycleConfig, as_of: date
) -> pl.LazyFrame:
    """Action, SLA tier and the MQL decision for graded rows (see the module docstring)."""
    mql = list(MQL_ACTIONS)
    action_map = {r: cfg.cell(r).action for r in RATINGS}
    sla_map = {r: cfg.cell(r).sla_tier for r in RATINGS}
    floor = {
        r: (lambda m: cfg.min_propensity if m is None else m)(cfg.cell(r).min_propensity)
        for r in RATINGS
    }
    prop = pl.col("propensity").fill_null(0.0)
    hyst = cfg.hysteresis
    mql_stage, ov_stage, recycled = (
        lifecycle.mql_stage,
        lifecycle.override_stage,
        lifecycle.recycled_stage,
    )
    wait_days = {k: v.recycle_after_days for k, v in lifecycle.reasons.items()}
    stage = pl.col("current_stage")
    rows = rows.with_columns(
        pl.col("rating").replace_strict(action_map, return_dtype=pl.String).alias("_m_action"),
        pl.col("rating").replace_strict(sla_map, return_dtype=pl.String).alias("_m_sla"),
        pl.col("rating").replace_strict(floor, return_dtype=pl.Float64).alias("_m_min"),
        pl.col("_rating_m").replace_strict(action_map, return_dtype=pl.String).alias("_mm_action"),
        pl.col("_rating_m").replace_strict(floor, return_dtype=pl.Float64).alias("_mm_min"),
        pl.col("_stage_reason")
        .replace_strict(wait_days, default=0, return_dtype=pl.Int64)
        .alias("_wait"),
    )
    rows = rows.with_columns(
        (pl.col("_m_action").is_in(mql) & (prop < pl.col("_m_min"))).alias("_demoted"),
        (
            pl.col("_mm_action").is_in(mql) & (prop + hyst.propensity_margin >= pl.col("_mm_min"))
        ).alias("_margin_ok"),
        pl.col("_ov_rule").is_not_null().alias("_ov"),
        stage.is_in([mql_stage, ov_stage]).alias("_in_mql_stage"),
        (
            stage.is_in(lifecycle.active_sales_stages)
            | (stage == lifecycle.disqualified_stage)
            | pl.col("_open_opp")
        ).alias("_hard_block"),
        ((stage == recycled) & (pl.col("_days_in_stage") < pl.col("_wait")))
        .fill_null(False)
        .alias("_recycle_wait"),
        pl.col("_prev_is_mql").fill_null(False).alias("_prev"),
        (pl.col("lead_id").is_not_null() & pl.col("product_group").is_not_null()).alias("_keys_ok"),
    )
    rows = rows.with_columns(
        pl.when(pl.col("_ov"))
        .then(pl.col("_ov_action"))
        .when(pl.col("_demoted"))
        .then(pl.lit("nurture"))
        .otherwise(pl.col("_m_action"))
        .alias("_t_action"),
        pl.when(pl.col("_ov"))
        .then(pl.col("_ov_sla"))
        .when(pl.col("_demoted"))
        .then(pl.lit(None, pl.String))
        .otherwise(pl.col("_m_sla"))
        .alias("_t_sla"),
        pl.when(pl.col("_ov")).then(pl.lit(ov_stage)).otherwise(pl.lit(mql_stage)).alias("_target"),
        (
            pl.col("_prev")
            & (pl.col("_entered_at") >= pl.col("_prev_mql_since").cast(UTC) + pl.duration(days=1))
        )
        .fill_null(False)
        .alias("_moved"),
    )
    into_mql, into_ov = _stages_into(lifecycle, mql_stage), _stages_into(lifecycle, ov_stage)
    rows = rows.with_columns(
        pl.col("_t_action").is_in(mql).fill_null(False).alias("_qualifies"),
        (pl.col("_ov") & ~pl.col("_ov_action").is_in(mql)).fill_null(False).alias("_ov_blocks"),
        ((pl.col("_prev") & ~pl.col("_moved")) | pl.col("_in_mql_stage")).alias("_was_mql"),
        (
            ((pl.col("_target") == mql_stage) & stage.is_in(into_mql))
            | ((pl.col("_target") == ov_stage) & stage.is_in(into_ov))
        ).alias("_stage_ok"),
        pl.coalesce(
            pl.when(pl.col("_prev") & ~pl.col("_moved")).then(pl.col("_prev_mql_since")),
            pl.when(pl.col("_in_mql_stage")).then(pl.col("_entered_at").dt.date()),
            pl.lit(as_of),
        ).alias("_since"),
    )
    stay = (pl.lit(as_of) - pl.col("_since")).dt.total_days() < hyst.min_stay_days
    rows = rows.with_columns(
        (pl.col("_was_mql") | (pl.col("_stage_ok") & ~pl.col("_recycle_wait"))).alias("_can_enter"),
        (
            pl.col("_was_mql")
            & ~pl.col("_qualifies")
            & ~pl.col("_ov_blocks")
            & (stay | pl.col("_margin_ok"))
        ).alias("_kept"),
    )
    rows = rows.with_columns(
        (
            pl.col("_keys_ok")
            & ~pl.col("_hard_block")
            & ((pl.col("_qualifies") & pl.col("_can_enter")) | pl.col("_kept"))
        ).alias("is_mql")
    )
    kept = pl.col("_kept") & pl.col("is_mql")
    rows = rows.with_columns(
        (pl.col("is_mql") & ~pl.col("_was_mql")).alias("is_new_mql"),
        pl.when(kept)
        .then(
            pl.when(pl.col("_prev_action").is_in(mql))
            .then(pl.col("_prev_action"))
            .otherwise(pl.lit("standard"))
        )
        .otherwise(pl.col("_t_action"))
        .alias("action"),
        pl.when(kept).then(pl.col("_prev_sla_tier")).otherwise(pl.col("_t_sla")).alias("sla_tier"),
        pl.when(kept)
        .then(pl.col("_prev_override_rule"))
        .otherwise(pl.col("_ov_rule"))
        .alias("override_rule"),
    )
    return rows.with_columns(
        pl.when(pl.col("is_new_mql")).then(pl.col("_target")).alias("stage_to_set"),
        (
            pl.col("_prev_reentry_count").fill_null(0)
            + (pl.col("is_new_mql") & (stage == recycled)).cast(pl.Int64)
        ).alias("reentry_count"),
        pl.when(pl.col("is_mql"))
        .then(pl.when(pl.col("_was_mql")).then(pl.col("_since")).otherwise(pl.lit(as_of)))
        .alias("mql_since"),
        (
            pl.col("_keys_ok")
            & ~pl.col("is_mql")
            & ~pl.col("_hard_block")
            & ((pl.col("_t_action") == "nurture") | (pl.col("_qualifies") & ~pl.col("_can_enter")))
        ).alias("_nurture"),
    )


def _nurture_reason() -> pl.Expr:
    """Why a row is nurtured, in words marketing can act on, plus the score's top reasons."""
    rating = pl.col("rating")
    prop = pl.col("propensity").round(3).cast(pl.String).fill_null("none")
    why = (
        pl.when(pl.col("_ov") & (pl.col("_t_action") == "nurture"))
        .then(pl.format("override rule '{}'", pl.col("_ov_rule")))
        .when(pl.col("_demoted"))
        .then(
            pl.format(
                "rating {} calls for {} but propensity {} is below the minimum {}",
                rating,
                pl.col("_m_action"),
                prop,
                pl.col("_m_min").round(3).cast(pl.String),
            )
        )
        .when(pl.col("_qualifies") & pl.col("_recycle_wait"))
        .then(
            pl.format(
                "rating {} qualifies, but the lead was recycled ({}) {} days ago "
                "and may re-enter after {} days",
                rating,
                pl.col("_stage_reason").fill_null("no reason"),
                pl.col("_days_in_stage").cast(pl.String).fill_null("?"),
                pl.col("_wait").cast(pl.String),
            )
        )
        .when(pl.col("_qualifies"))
        .then(
            pl.format(
                "rating {} qualifies, but stage '{}' cannot move to {}",
                rating,
                pl.col("current_stage"),
                pl.col("_target"),
            )
        )
        .otherwise(
            pl.format(
                "rating {} (fit {}, engagement {}) maps to nurture",
                rating,
                pl.col("fit_grade"),
                pl.col("engagement_grade").cast(pl.String),
            )
        )
    )
    pros = pl.col("reasons_for").list.head(2).list.join(", ", ignore_nulls=True)
    cons = pl.col("reasons_against").list.head(2).list.join(", ", ignore_nulls=True)
    return pl.concat_str(
        why,
        pl.when(pros.fill_null("") != "").then(pl.lit("; for: ") + pros),
        pl.when(cons.fill_null("") != "").then(pl.lit("; against: ") + cons),
        ignore_nulls=True,
    ).alias("reason")


def _sorted(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame.sort(KEYS, nulls_last=True, maintain_order=True)


def keys_in_order(frame: pl.DataFrame) -> bool:
    """True when no row's (lead_id, product_group) is below the previous row's (nulls last):
    then `_sorted` (stable) would not move any row. Scores come sorted, so rate checks
    this (~0.1 CPU-s at 3 M rows) instead of sorting the strings again (~0.8)."""
    if frame.height < 2:
        return True
    lead, group = pl.col("lead_id"), pl.col("product_group")
    before_lead, before_group = lead.shift(1), group.shift(1)
    lead_up = (before_lead < lead).fill_null(False) | (before_lead.is_not_null() & lead.is_null())
    group_up = (before_group <= group).fill_null(False) | group.is_null()
    ok = lead_up | (before_lead.eq_missing(lead) & group_up)
    return bool(frame.select(ok.slice(1).all()).item())


# What the nurture reason reads besides RATING_COLUMNS (kept in `finish`'s frame).
_NURTURE_INPUTS = [
    "_ov",
    "_ov_rule",
    "_t_action",
    "_demoted",
    "_m_action",
    "_m_min",
    "_qualifies",
    "_recycle_wait",
    "_stage_reason",
    "_days_in_stage",
    "_wait",
    "_target",
]
_CUTOFF_COLUMNS = THRESHOLD_COLUMNS


def finish(decided: pl.LazyFrame, *, presorted: bool = False) -> pl.LazyFrame:
    """The decided rows, sorted once by (lead_id, product_group), with every column the outputs
    need: collect this one frame, then `split` it (nothing is computed twice). `presorted`:
    the rows are in that order already (`keys_in_order`)."""
    frame = decided.select(
        *RATING_COLUMNS, "_keys_ok", "_nurture", *_NURTURE_INPUTS, *_CUTOFF_COLUMNS
    )
    return frame if presorted else _sorted(frame)


def split(finished: pl.LazyFrame) -> RateResult:
    """The stage's outputs from `finish`'s sorted frame (filters keep its order)."""
    ratings = finished.select(RATING_COLUMNS)
    nurture = finished.filter(pl.col("_nurture")).select(*KEYS, "rating", _nurture_reason())
    # The snapshot is the night's ratings without the reason lists: rate reads STATE_SCHEMA
    # from it the next night, and report reads earlier nights' ratings from it.
    state = finished.filter(pl.col("_keys_ok")).select(
        c for c in RATING_COLUMNS if c not in _REASONS
    )
    cutoffs = (
        finished.group_by("product_group")
        .agg(
            pl.col("_method").first().alias("method"),
            *[pl.col(f"_fthr{i}").first().alias(f"fit_{g}") for i, g in enumerate("ABC")],
            *[pl.col(f"_ethr{i}").first().alias(f"engagement_{i + 1}") for i in range(3)],
        )
        .sort("product_group", nulls_last=True)
    )
    return RateResult(ratings=ratings, nurture=nurture, state=state, cutoffs=cutoffs)


def results(decided: pl.LazyFrame) -> RateResult:
    """Split the decided frame into the stage's outputs (each sorted by lead_id, product_group)."""
    return split(finish(decided))


def rate(
    inputs: RateInputs, cfg: RateConfig, lifecycle: LifecycleConfig, as_of: date
) -> RateResult:
    """Rate every scored (lead, product group); rules past review_by are left out."""
    return split(rated(inputs, cfg, lifecycle, as_of))


def rated(
    inputs: RateInputs,
    cfg: RateConfig,
    lifecycle: LifecycleConfig,
    as_of: date,
    thresholds: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """`finish`'s frame for every scored row: collect it once, then `split` it.
    `thresholds`: the share cutoffs of all scores, when `inputs` hold one lead range."""
    rules = review_rules(cfg.overrides, as_of).active
    # Collected here: grading reads the rows twice (thresholds per group, then the grades).
    # prepare, grade and decide keep the scores' row order, which is usually sorted already.
    rows = prepare(inputs, rules, lifecycle, as_of).collect(engine="in-memory")
    decided = decide(grade(rows.lazy(), cfg, thresholds), cfg, lifecycle, as_of)
    return finish(decided, presorted=keys_in_order(rows))


def summary_cells(ratings: pl.DataFrame, recycled_stage: str) -> pl.DataFrame:
    """Counts per (product_group, rating, action, override_rule): what `summarize` reads.
    Cells of several lead ranges add up (`merge_cells`)."""
    return (
        ratings.filter(pl.col("product_group").is_not_null())
        .group_by("product_group", "rating", "action", "override_rule")
        .agg(
            pl.len().alias("n"),
            pl.col("is_mql").sum().alias("mql"),
            pl.col("is_new_mql").sum().alias("new"),
            (pl.col("is_new_mql") & (pl.col("current_stage") == recycled_stage))
            .sum()
            .alias("reentries"),
        )
    )


def merge_cells(cells: list[pl.DataFrame]) -> pl.DataFrame:
    """`summary_cells` of several lead ranges as one table (the counts summed)."""
    return (
        pl.concat(cells)
        .group_by("product_group", "rating", "action", "override_rule")
        .agg(pl.col("n", "mql", "new", "reentries").sum())
    )


def nurture_counts(nurture: pl.DataFrame) -> dict[str | None, int]:
    """Nurture rows per product group."""
    nurtured = nurture.group_by("product_group").len()
    return dict(zip(nurtured["product_group"].to_list(), nurtured["len"].to_list(), strict=True))


def summarize(
    ratings: pl.DataFrame, nurture: pl.DataFrame, recycled_stage: str
) -> dict[str, dict[str, Any]]:
    """Per product group: rating grid, actions, MQLs and new MQLs, with overrides counted apart."""
    # One pass over the rows; the per-group numbers come from this small table.
    return summarize_cells(summary_cells(ratings, recycled_stage), nurture_counts(nurture))


def summarize_cells(
    cells: pl.DataFrame, nurtured: dict[str | None, int]
) -> dict[str, dict[str, Any]]:
    """`summarize` from `summary_cells` and the nurture rows per group."""
    out: dict[str, dict[str, Any]] = {}
    groups = sorted(cells["product_group"].unique().to_list())
    ov = pl.col("override_rule").is_not_null()
    for group in groups:
        rows = cells.filter(pl.col("product_group") == group)
        grid = dict.fromkeys(RATINGS, 0)
        counts = rows.group_by("rating").agg(pl.col("n").sum())
        grid.update(zip(counts["rating"].to_list(), counts["n"].to_list(), strict=True))
        actions = rows.group_by("action").agg(pl.col("n").sum()).sort("action")
        by_rule = rows.filter(ov).group_by("override_rule").agg(pl.col("n").sum())
        by_rule = by_rule.sort("override_rule")

        def count(column: str, where: pl.Expr = pl.lit(True), frame: pl.DataFrame = rows) -> int:
            return int(frame.filter(where)[column].sum() or 0)

        out[group] = {
            "rows": count("n"),
            "grid": grid,
            "actions": dict(zip(actions["action"].to_list(), actions["n"].to_list(), strict=True)),
            "mqls": count("mql", ~ov),
            "new_mqls": count("new", ~ov),
            "override_mqls": count("mql", ov),
            "new_override_mqls": count("new", ov),
            "override_rows": count("n", ov),
            "by_rule": dict(
                zip(by_rule["override_rule"].to_list(), by_rule["n"].to_list(), strict=True)
            ),
            "reentries": count("reentries"),
            "nurture": int(nurtured.get(group, 0)),
        }
    return out
