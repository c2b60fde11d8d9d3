"""Funnel / waterfall: leads entering each stage, stage-to-stage conversion and velocity.

Why cohort conversion: "of the leads that became MQL this period, how many reached SAL or beyond
by the end of the period" stays within 0-100 % and counts leads that skip a stage. Both periods
get the same horizon (their own end), so the comparison with the previous period is fair.
Velocity is the median time in a stage of the leads that left it during the period.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from leadctl.stages.lifecycle import order_pairs
from leadctl.stages.report_common import (
    Chart,
    ReportContext,
    ReportInputs,
    Section,
    Unavailable,
    ensure_group,
    per_group,
    ratio,
    ts,
)

KEYS = ["lead_id", "product_group"]


def funnel_events(history: pl.LazyFrame, ctx: ReportContext, since: datetime) -> pl.DataFrame:
    """Stage changes up to the as-of date of the (lead, group) pairs active since `since`.

    Columns: lead_id, product_group, stage, changed_at, stage_idx (position in the funnel, null
    for stages outside it), next_at (the next change of the same lead and group), _pair / _lead
    (a number per pair / lead, increasing down the rows). Pairs with no change since `since`
    cannot count in either period and are dropped (the report narrows the history to the leads
    that changed recently, so little is dropped here). Each pair's rows are together in time
    order, ties by lifecycle stage order (`lifecycle.order_pairs`), a lead's pairs together.
    """
    life = ctx.lifecycle
    order = {stage: i for i, stage in enumerate(ctx.report.funnel_stages)}
    if life.override_stage not in order and life.mql_stage in order:
        order[life.override_stage] = order[life.mql_stage]
    position = {stage: i for i, stage in enumerate(life.stages)}
    events = per_group(
        ensure_group(history).select("lead_id", "product_group", "stage", "changed_at"),
        ctx.product_groups,
    ).filter(pl.col("changed_at") < ts(ctx.end))
    stage_idx = pl.col("stage").replace_strict(order, default=None, return_dtype=pl.Int32)
    tie = pl.col("stage").replace_strict(position, default=len(position), return_dtype=pl.Int64)
    frame = events.collect().rechunk()
    # Each pair's changes together in time order (ties by lifecycle stage order), without a
    # string sort: next_at and the per-pair windows below need only the order within a pair.
    ordered = order_pairs(frame, tie, len(position) + 1)
    last = pl.col("_new_pair").shift(-1).fill_null(True)
    # A pair is active when its last change (rows in time order) is since `since`: filtering
    # whole pairs after the ordering replaces a semi-join on the two string keys.
    last_at = pl.when(last).then(pl.col("changed_at")).backward_fill()
    return (
        ordered.with_columns(
            pl.when(~last).then(pl.col("changed_at").shift(-1)).alias("next_at"),
            last_at.alias("_last_at"),
            pl.col("_new_pair").cum_sum().alias("_pair"),
            pl.col("_new_lead").cum_sum().alias("_lead"),
        )
        .filter(pl.col("_last_at") >= ts(since))
        .select(
            "lead_id",
            "product_group",
            "stage",
            "changed_at",
            stage_idx.alias("stage_idx"),
            "next_at",
            "_pair",
            "_lead",
        )
    )


def _period_stats(events: pl.LazyFrame, start: datetime, end: datetime) -> pl.LazyFrame:
    """entered / reached_next / median_days_in_stage per product group and funnel stage."""
    # The highest funnel stage reached at or after this change, before the period ends, per
    # pair without a window: pairs are contiguous with increasing _pair, so one reverse cum_max
    # of (last pair - _pair) * width + stage_idx stays inside the pair (every later pair's
    # values are smaller than this pair's) and the offset comes off again.
    width = pl.col("stage_idx").max().cast(pl.Int64) + 1
    offset = (pl.col("_pair").max().cast(pl.Int64) - pl.col("_pair").cast(pl.Int64)) * width
    upto = (
        events.filter((pl.col("changed_at") < ts(end)) & pl.col("stage_idx").is_not_null())
        .with_columns(
            (
                (offset + pl.col("stage_idx").cast(pl.Int64)).reverse().cum_max().reverse() - offset
            ).alias("later_max")
        )
        .filter(pl.col("changed_at") >= ts(start))
    )
    # _lead numbers the leads (a lead's rows are together): counting integers, not strings.
    entered = upto.group_by("product_group", "stage_idx").agg(
        pl.col("_lead").n_unique().alias("entered"),
        pl.col("_lead")
        .filter(pl.col("later_max") > pl.col("stage_idx"))
        .n_unique()
        .alias("reached_next"),
    )
    left = (
        events.filter(
            pl.col("stage_idx").is_not_null()
            & pl.col("next_at").is_not_null()
            & (pl.col("next_at") >= ts(start))
            & (pl.col("next_at") < ts(end))
        )
        .group_by("product_group", "stage_idx")
        .agg(
            ((pl.col("next_at") - pl.col("changed_at")).dt.total_seconds() / 86400.0)
            .median()
            .alias("median_days_in_stage")
        )
    )
    return entered.join(left, on=["product_group", "stage_idx"], how="full", coalesce=True)


def funnel_table(history: pl.LazyFrame, ctx: ReportContext) -> pl.DataFrame:
    """One row per product group and funnel stage, current period next to the previous one."""
    events = funnel_events(history, ctx, ctx.period(1)[0]).lazy()
    stages = ctx.report.funnel_stages
    grid = pl.DataFrame(
        {
            "product_group": [g for g in ctx.product_groups for _ in stages],
            "stage": [s for _ in ctx.product_groups for s in stages],
            "stage_idx": [i for _ in ctx.product_groups for i in range(len(stages))],
        },
        schema={"product_group": pl.String, "stage": pl.String, "stage_idx": pl.Int32},
    ).lazy()
    cur = _period_stats(events, *ctx.period(0))
    prev = _period_stats(events, *ctx.period(1)).rename(
        {
            "entered": "entered_prev",
            "reached_next": "reached_next_prev",
            "median_days_in_stage": "median_days_in_stage_prev",
        }
    )
    last = len(stages) - 1
    out = (
        grid.join(cur, on=["product_group", "stage_idx"], how="left")
        .join(prev, on=["product_group", "stage_idx"], how="left")
        .with_columns(
            pl.col("entered", "reached_next", "entered_prev", "reached_next_prev")
            .fill_null(0)
            .cast(pl.Int64)
        )
        .with_columns(
            pl.when(pl.col("stage_idx") < last)
            .then(ratio(pl.col("reached_next"), pl.col("entered")))
            .alias("conversion"),
            pl.when(pl.col("stage_idx") < last)
            .then(ratio(pl.col("reached_next_prev"), pl.col("entered_prev")))
            .alias("conversion_prev"),
            ratio(pl.col("entered") - pl.col("entered_prev"), pl.col("entered_prev")).alias(
                "entered_change"
            ),
        )
        .select(
            "product_group",
            pl.col("stage_idx").alias("stage_order"),
            "stage",
            "entered",
            "reached_next",
            "conversion",
            "median_days_in_stage",
            "entered_prev",
            "reached_next_prev",
            "conversion_prev",
            "median_days_in_stage_prev",
            "entered_change",
        )
        .sort("product_group", "stage_order")
    )
    return out.collect()


def funnel_section(inputs: ReportInputs, ctx: ReportContext) -> Section:
    start, end = ctx.period(0)
    section = Section(
        key="funnel",
        title="Funnel and velocity",
        intro=(
            f"Leads entering each stage in the last {ctx.report.period_days} days "
            f"({start.date()} to {ctx.as_of}) against the {ctx.report.period_days} days before. "
            "Conversion: share of the leads entering a stage in the period that reached a later "
            "funnel stage by the end of that period. Velocity: median days in the stage of the "
            "leads that left it in the period. Overrides count as MQLs."
        ),
    )
    try:
        history = inputs.table("stage_history", ["lead_id", "stage", "changed_at"])
    except Unavailable as exc:
        section.unavailable.append(str(exc))
        return section
    table = funnel_table(history, ctx)
    section.tables["funnel"] = table
    for group in ctx.product_groups:
        section.charts.append(
            Chart(
                "bar",
                f"{group}: leads entering each stage",
                "funnel",
                "stage",
                ("entered_prev", "entered"),
                (("product_group", group),),
            )
        )
        section.charts.append(
            Chart(
                "bar",
                f"{group}: conversion to the next stage",
                "funnel",
                "stage",
                ("conversion_prev", "conversion"),
                (("product_group", group),),
                percent=True,
            )
        )
    mql = ctx.lifecycle.mql_stage
    rows = table.filter(pl.col("stage") == mql)
    section.numbers["mqls_in_period"] = {
        r["product_group"]: r["entered"] for r in rows.iter_rows(named=True)
    }
    return section
