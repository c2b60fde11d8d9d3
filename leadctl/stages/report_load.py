"""Rep load and fairness: open leads against capacity, assignments and expected value per rep.

Expected value is the sum of propensity of the leads assigned (tonight's propensity, from the
ratings or scores). Fairness per team: coefficient of variation of counts and of value across
the team's active reps, and the Gini coefficient of value (0 = perfectly even).
"""

from __future__ import annotations

import polars as pl

from leadctl.stages.lifecycle import current_stages, open_load
from leadctl.stages.report_common import (
    Chart,
    ReportContext,
    ReportInputs,
    Section,
    Unavailable,
    as_bool,
    as_float,
    as_utc,
    ensure_group,
    ratio,
    ts,
)
from leadctl.stages.report_sla import assignment_log

KEYS = ["lead_id", "product_group"]


def _propensity(inputs: ReportInputs) -> pl.LazyFrame | None:
    for name in ("ratings.parquet", "scores.parquet"):
        frame = inputs.outputs.get(name)
        if frame is not None and {"lead_id", "product_group", "propensity"} <= set(
            frame.collect_schema().names()
        ):
            return as_float(frame.select(*KEYS, "propensity"), "propensity")
    return None


def _assigned(frame: pl.LazyFrame, value: pl.LazyFrame | None, suffix: str) -> pl.LazyFrame:
    if value is not None:
        frame = frame.join(value, on=KEYS, how="left")
    else:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Float64).alias("propensity"))
    return frame.group_by(pl.col("owner_id").cast(pl.String).alias("rep_id")).agg(
        pl.len().cast(pl.Int64).alias(f"assigned_{suffix}"),
        pl.col("propensity").sum().alias(f"value_{suffix}"),
    )


def _current(inputs: ReportInputs, ctx: ReportContext, leads: pl.LazyFrame) -> pl.LazyFrame:
    """Each lead's current stage per group: from tonight's ratings (rate derived it from the
    stage history already), else derived here from the history."""
    ratings = inputs.outputs.get("ratings.parquet")
    if ratings is not None and {"lead_id", "product_group", "current_stage"} <= set(
        ratings.collect_schema().names()
    ):
        return ratings.filter(pl.col("product_group").is_in(ctx.product_groups)).select(
            "lead_id", "product_group", pl.col("current_stage").cast(pl.String).alias("stage")
        )
    history = ensure_group(inputs.full_table("stage_history", ["lead_id", "stage", "changed_at"]))
    return current_stages(
        as_utc(history, "changed_at"),
        as_utc(leads, "created_at"),
        ctx.product_groups,
        ctx.lifecycle,
        ctx.as_of,
    )


def rep_load_table(inputs: ReportInputs, ctx: ReportContext, section: Section) -> pl.DataFrame:
    reps = as_bool(as_float(inputs.table("reps", ["rep_id"]), "capacity"), "active")
    names = reps.collect_schema().names()
    table = reps.select(
        pl.col("rep_id").cast(pl.String),
        (pl.col("team").cast(pl.String) if "team" in names else pl.lit(None, dtype=pl.String))
        .fill_null("(no team)")
        .alias("team"),
        (pl.col("active") if "active" in names else pl.lit(True)).fill_null(True).alias("active"),
        (pl.col("capacity") if "capacity" in names else pl.lit(None, dtype=pl.Float64))
        .cast(pl.Int64, strict=False)
        .alias("capacity"),
    )
    try:
        leads = inputs.table("leads", ["lead_id", "owner_id", "created_at"])
        if "stage" not in leads.collect_schema().names():
            leads = leads.with_columns(pl.lit(None, dtype=pl.String).alias("stage"))
        load = open_load(_current(inputs, ctx, leads), leads, ctx.lifecycle)
        table = table.join(load, on="rep_id", how="left")
    except Unavailable as exc:
        section.unavailable.append(str(exc))
        table = table.with_columns(pl.lit(None, dtype=pl.Int64).alias("open_leads"))
    value = _propensity(inputs)
    if value is None:
        section.notes.append(
            "expected value needs propensity in ratings.parquet or scores.parquet (run `leadctl "
            "score`)"
        )
    try:
        tonight = inputs.output("assignments.csv", ["lead_id", "product_group", "owner_id"])
        table = table.join(
            _assigned(tonight.select(*KEYS, "owner_id"), value, "tonight"), on="rep_id", how="left"
        )
    except Unavailable as exc:
        section.unavailable.append(str(exc))
        table = table.with_columns(
            pl.lit(None, dtype=pl.Int64).alias("assigned_tonight"),
            pl.lit(None, dtype=pl.Float64).alias("value_tonight"),
        )
    try:
        start, end = ctx.period(0)
        log = assignment_log(inputs, ctx).filter(
            (pl.col("assigned_at") >= ts(start)) & (pl.col("assigned_at") < ts(end))
        )
        table = table.join(
            _assigned(log.select(*KEYS, "owner_id"), value, "in_period"), on="rep_id", how="left"
        )
    except Unavailable as exc:
        section.unavailable.append(str(exc))
        table = table.with_columns(
            pl.lit(None, dtype=pl.Int64).alias("assigned_in_period"),
            pl.lit(None, dtype=pl.Float64).alias("value_in_period"),
        )
    return (
        table.with_columns(
            pl.col("open_leads").fill_null(0),
            ratio(pl.col("open_leads").fill_null(0), pl.col("capacity")).alias("utilisation"),
        )
        .select(
            "team",
            "rep_id",
            "active",
            "capacity",
            "open_leads",
            "utilisation",
            "assigned_tonight",
            "value_tonight",
            "assigned_in_period",
            "value_in_period",
        )
        .sort("team", "rep_id")
        .collect()
    )


def _gini(col: str) -> pl.Expr:
    x = pl.col(col).fill_null(0).sort()
    n = pl.len()
    idx = pl.int_range(1, n + 1)
    return ratio(2 * (idx * x).sum(), n * x.sum()) - (n + 1) / n


def _cv(col: str) -> pl.Expr:
    x = pl.col(col).fill_null(0).cast(pl.Float64)
    return ratio(x.std(ddof=0), x.mean())


def fairness_table(load: pl.DataFrame) -> pl.DataFrame:
    """Per team, over its active reps: spread of assignments and of expected value."""
    active = load.filter(pl.col("active"))
    return (
        active.group_by("team")
        .agg(
            pl.len().cast(pl.Int64).alias("active_reps"),
            pl.col("assigned_in_period")
            .fill_null(0)
            .sum()
            .cast(pl.Int64)
            .alias("assigned_in_period"),
            pl.col("value_in_period").fill_null(0).sum().alias("value_in_period"),
            _cv("assigned_in_period").alias("count_cv"),
            _cv("value_in_period").alias("value_cv"),
            _gini("value_in_period").alias("value_gini"),
            pl.col("value_in_period").fill_null(0).min().alias("min_rep_value"),
            pl.col("value_in_period").fill_null(0).max().alias("max_rep_value"),
        )
        .sort("team")
    )


def overflow_table(inputs: ReportInputs) -> pl.DataFrame:
    overflow = inputs.output("overflow.csv", ["lead_id"])
    names = overflow.collect_schema().names()
    keys = [c for c in ("product_group", "reason") if c in names]
    if not keys:
        return overflow.select(pl.len().cast(pl.Int64).alias("leads")).collect()
    return overflow.group_by(keys).agg(pl.len().cast(pl.Int64).alias("leads")).sort(keys).collect()


def load_section(inputs: ReportInputs, ctx: ReportContext) -> Section:
    section = Section(
        key="rep_load",
        title="Rep load and fairness",
        intro=(
            "Open leads (MQL or sales stages, owned in the CRM) against capacity, leads assigned "
            f"tonight and in the last {ctx.report.period_days} days, and their expected value "
            "(sum of "
            "propensity). Fairness per team: coefficient of variation of counts and value, and the "
            "Gini coefficient of value (0 = even)."
        ),
    )
    try:
        load = rep_load_table(inputs, ctx, section)
    except Unavailable as exc:
        section.unavailable.append(str(exc))
        load = None
    if load is not None:
        section.tables["rep_load"] = load
        fairness = fairness_table(load)
        section.tables["fairness"] = fairness
        section.numbers["max_value_gini"] = (
            fairness["value_gini"].max() if fairness.height else None
        )
        for team in load["team"].unique().sort().to_list():
            where = (("team", team),)
            section.charts.append(
                Chart(
                    "bar",
                    f"{team}: leads assigned per rep (period)",
                    "rep_load",
                    "rep_id",
                    ("assigned_in_period",),
                    where,
                )
            )
            section.charts.append(
                Chart(
                    "bar",
                    f"{team}: expected value per rep (period)",
                    "rep_load",
                    "rep_id",
                    ("value_in_period",),
                    where,
                )
            )
    try:
        overflow = overflow_table(inputs)
        section.tables["overflow"] = overflow
        section.numbers["overflow_tonight"] = int(overflow["leads"].sum())
    except Unavailable as exc:
        section.unavailable.append(str(exc))
    return section
