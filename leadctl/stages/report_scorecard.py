"""The weekly scorecard for the marketing-sales meeting, week over week.

Weeks are the 7-day blocks ending on the as-of date. Per product group and week: MQLs (entries
into the MQL or override stage), accepted and the acceptance rate, rejections and the top
reason, SLA compliance of the assignments due that week, opportunities created and wins; plus
new MQLs by rating from the nightly rating snapshots, and rejection reasons per week.
Acceptance is by cohort: the week's MQLs that reached the stage after MQL in the funnel by the
as-of date (so the latest weeks are still filling up).
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from leadctl.stages.report_common import (
    Chart,
    ReportContext,
    ReportInputs,
    Section,
    Unavailable,
    as_bool,
    as_utc,
    ensure_group,
    per_group,
    ratio,
    ts,
)
from leadctl.stages.report_feedback import rejections_between
from leadctl.stages.report_rating import opportunity_events
from leadctl.stages.report_sla import sla_events

_WEEK_US = 7 * 86400 * 1_000_000


def _week_back(col: str, ctx: ReportContext) -> pl.Expr:
    """0 for the week ending on as-of, 1 for the week before, ... (null outside the scorecard)."""
    delta = (ts(ctx.end) - pl.col(col)).dt.total_microseconds()
    back = ((delta - 1) // _WEEK_US).cast(pl.Int32)
    return pl.when((delta > 0) & (back < ctx.report.weeks)).then(back).otherwise(None)


def _grid(ctx: ReportContext) -> pl.DataFrame:
    rows = []
    for group in ctx.product_groups:
        for back in range(ctx.report.weeks):
            end = ctx.as_of - timedelta(days=7 * back)
            rows.append((group, back, end - timedelta(days=6), end))
    return pl.DataFrame(
        rows,
        schema={
            "product_group": pl.String,
            "week_back": pl.Int32,
            "week_start": pl.Date,
            "week_end": pl.Date,
        },
        orient="row",
    )


def accepted_stage(ctx: ReportContext) -> str:
    stages = ctx.report.funnel_stages
    mql = ctx.lifecycle.mql_stage
    if mql in stages and stages.index(mql) + 1 < len(stages):
        return stages[stages.index(mql) + 1]
    return ctx.lifecycle.active_sales_stages[0] if ctx.lifecycle.active_sales_stages else stages[-1]


def _stage_counts(inputs: ReportInputs, ctx: ReportContext) -> pl.LazyFrame:
    life = ctx.lifecycle
    history = as_utc(
        ensure_group(inputs.table("stage_history", ["lead_id", "stage", "changed_at"])),
        "changed_at",
    )
    rows = per_group(
        history.select("lead_id", "product_group", "stage", "changed_at"), ctx.product_groups
    )
    # The scorecard weeks first, then the acceptance: an acceptance at or after a change in the
    # weeks (and before the as-of end) is itself in the weeks, so the join sees only those rows.
    rows = rows.with_columns(_week_back("changed_at", ctx).alias("week_back")).filter(
        pl.col("week_back").is_not_null()
    )
    rows = with_acceptance(rows, ctx)
    mql = pl.col("stage").is_in([life.mql_stage, life.override_stage])

    def leads(cond: pl.Expr, name: str) -> pl.Expr:
        return pl.col("lead_id").filter(cond).n_unique().cast(pl.Int64).alias(name)

    return rows.group_by("product_group", "week_back").agg(
        leads(mql, "mqls"),
        leads(pl.col("stage") == life.override_stage, "override_mqls"),
        leads(mql & pl.col("accepted_later"), "accepted"),
        leads(pl.col("stage") == ctx.won_stage, "won"),
    )


def with_acceptance(events: pl.LazyFrame, ctx: ReportContext) -> pl.LazyFrame:
    """Add `accepted_later`: the lead entered the accepted stage after this change (by as-of)."""
    accepted = (
        events.filter(pl.col("stage") == accepted_stage(ctx))
        .group_by("lead_id", "product_group")
        .agg(pl.col("changed_at").max().alias("_accepted_at"))
    )
    return (
        events.join(accepted, on=["lead_id", "product_group"], how="left")
        .with_columns(
            (pl.col("_accepted_at") >= pl.col("changed_at"))
            .fill_null(False)
            .alias("accepted_later")
        )
        .drop("_accepted_at")
    )


def scorecard_tables(inputs: ReportInputs, ctx: ReportContext, section: Section) -> None:
    grid = _grid(ctx).lazy()
    table = grid.join(_stage_counts(inputs, ctx), on=["product_group", "week_back"], how="left")
    weeks_start = ts(ctx.end - timedelta(days=7 * ctx.report.weeks))
    rejected = rejections_between(
        inputs, ctx, ctx.end - timedelta(days=7 * ctx.report.weeks), ctx.end
    ).with_columns(_week_back("changed_at", ctx).alias("week_back"))
    reasons = (
        rejected.group_by("product_group", "week_back", "reason")
        .agg(pl.len().cast(pl.Int64).alias("rejections"))
        .sort(
            ["product_group", "week_back", "rejections", "reason"],
            descending=[False, False, True, False],
        )
    )
    top = reasons.group_by("product_group", "week_back", maintain_order=True).agg(
        pl.col("rejections").sum().alias("rejections"), pl.col("reason").first().alias("top_reason")
    )
    table = table.join(top, on=["product_group", "week_back"], how="left")
    try:
        opps = opportunity_events(inputs, ctx).filter(pl.col("created_at") >= weeks_start)
        opp_counts = (
            opps.with_columns(_week_back("created_at", ctx).alias("week_back"))
            .group_by("product_group", "week_back")
            .agg(pl.len().cast(pl.Int64).alias("opportunities"))
        )
        table = table.join(opp_counts, on=["product_group", "week_back"], how="left").with_columns(
            pl.col("opportunities").fill_null(0)
        )
    except Unavailable as exc:
        section.unavailable.append(str(exc))
        table = table.with_columns(pl.lit(None, dtype=pl.Int64).alias("opportunities"))
    try:
        sla = (
            sla_events(inputs, ctx)
            .filter(pl.col("sla_due_at") >= weeks_start)
            .with_columns(_week_back("sla_due_at", ctx).alias("week_back"))
            .group_by("product_group", "week_back")
            .agg(
                pl.len().cast(pl.Int64).alias("sla_due"),
                pl.col("met").sum().cast(pl.Int64).alias("sla_met"),
            )
        )
        table = table.join(sla, on=["product_group", "week_back"], how="left").with_columns(
            pl.col("sla_due", "sla_met").fill_null(0)
        )
    except Unavailable as exc:
        section.unavailable.append(str(exc))
        table = table.with_columns(
            pl.lit(None, dtype=pl.Int64).alias("sla_due"),
            pl.lit(None, dtype=pl.Int64).alias("sla_met"),
        )
    out = (
        table.with_columns(
            pl.col("mqls", "override_mqls", "accepted", "won", "rejections").fill_null(0)
        )
        .with_columns(
            ratio(pl.col("accepted"), pl.col("mqls")).alias("acceptance_rate"),
            ratio(pl.col("sla_met"), pl.col("sla_due")).alias("sla_compliance"),
        )
        .sort("product_group", "week_end")
        .with_columns(
            (pl.col(c) - pl.col(c).shift(1).over("product_group")).alias(f"{c}_wow")
            for c in ("mqls", "acceptance_rate", "sla_compliance", "opportunities")
        )
        .select(
            "product_group",
            "week_start",
            "week_end",
            "mqls",
            "override_mqls",
            "accepted",
            "acceptance_rate",
            "rejections",
            "top_reason",
            "sla_due",
            "sla_met",
            "sla_compliance",
            "opportunities",
            "won",
            "mqls_wow",
            "acceptance_rate_wow",
            "sla_compliance_wow",
            "opportunities_wow",
        )
        .collect()
    )
    section.tables["scorecard"] = out
    section.tables["scorecard_reasons"] = (
        reasons.join(grid, on=["product_group", "week_back"], how="inner")
        .select("product_group", "week_end", "reason", "rejections")
        .sort(
            ["product_group", "week_end", "rejections", "reason"],
            descending=[False, False, True, False],
        )
        .collect()
    )


def mqls_by_rating(inputs: ReportInputs, ctx: ReportContext) -> pl.DataFrame:
    """New MQLs per week and rating, from the nightly rating snapshots of the scorecard weeks."""
    first = ctx.as_of - timedelta(days=7 * ctx.report.weeks - 1)
    frames = []
    for day in sorted(d for d in inputs.rate_snapshots if first <= d <= ctx.as_of):
        snap = inputs.rate_snapshots[day]
        if not {"product_group", "rating", "is_new_mql"} <= set(snap.collect_schema().names()):
            continue
        back = (ctx.as_of - day).days // 7
        frames.append(
            as_bool(snap, "is_new_mql")
            .filter(pl.col("is_new_mql") & pl.col("product_group").is_in(ctx.product_groups))
            .group_by("product_group", pl.col("rating").cast(pl.String))
            .agg(pl.len().cast(pl.Int64).alias("new_mqls"))
            .with_columns(pl.lit(ctx.as_of - timedelta(days=7 * back)).alias("week_end"))
        )
    if not frames:
        raise Unavailable(
            "not available: new MQLs by rating need nightly rating snapshots (with is_new_mql) in "
            "state/rate/ for the scorecard weeks — run `leadctl rate` every night"
        )
    return (
        pl.concat(frames)
        .group_by("product_group", "week_end", "rating")
        .agg(pl.col("new_mqls").sum())
        .sort("product_group", "week_end", "rating")
        .collect()
    )


def scorecard_section(inputs: ReportInputs, ctx: ReportContext) -> Section:
    section = Section(
        key="scorecard",
        title="Weekly scorecard",
        intro=(
            f"The last {ctx.report.weeks} weeks (7 days each, ending {ctx.as_of}) per product "
            "group: "
            "MQLs (incl. overrides), accepted (the week's MQLs that reached "
            f"{accepted_stage(ctx)} by "
            f"{ctx.as_of}) and acceptance rate (accepted / MQLs), rejections and the top reason, "
            "SLA compliance of the "
            "assignments due that week, opportunities created and wins; '_wow' columns are the "
            "change from the week before."
        ),
    )
    try:
        scorecard_tables(inputs, ctx, section)
    except Unavailable as exc:
        section.unavailable.append(str(exc))
        return section
    try:
        section.tables["scorecard_mqls_by_rating"] = mqls_by_rating(inputs, ctx)
    except Unavailable as exc:
        section.unavailable.append(str(exc))
    card = section.tables["scorecard"]
    latest = card.filter(pl.col("week_end") == ctx.as_of)
    section.numbers["this_week"] = {
        r["product_group"]: {
            k: r[k]
            for k in ("mqls", "accepted", "acceptance_rate", "sla_compliance", "opportunities")
        }
        for r in latest.iter_rows(named=True)
    }
    for group in ctx.product_groups:
        where = (("product_group", group),)
        section.charts.append(
            Chart(
                "bar",
                f"{group}: MQLs and accepted per week",
                "scorecard",
                "week_end",
                ("mqls", "accepted"),
                where,
            )
        )
        section.charts.append(
            Chart(
                "bar",
                f"{group}: opportunities per week",
                "scorecard",
                "week_end",
                ("opportunities",),
                where,
            )
        )
    return section
