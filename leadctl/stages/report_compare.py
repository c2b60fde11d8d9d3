"""Before / after: two runs (e.g. either side of a threshold change) or two periods side by side.

Each side is summarised by the same headline numbers per product group: MQLs that night by
rating, MQL entries, accepted and acceptance rate, SLA compliance, opportunities and wins over
the `period_days` ending on that side's as-of date. Without a second run the report compares
this period with the previous one on the same data.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
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
from leadctl.stages.report_rating import opportunity_events
from leadctl.stages.report_scorecard import with_acceptance
from leadctl.stages.report_sla import sla_events

RATE_METRICS = ("acceptance_rate", "sla_compliance")
_SCHEMA = {"product_group": pl.String, "metric": pl.String, "value": pl.Float64}


@dataclass
class Side:
    """One side of the comparison: its inputs, its context (as-of) and a label."""

    inputs: ReportInputs
    ctx: ReportContext
    label: str
    ratings: pl.LazyFrame | None  # that night's ratings (for MQLs by rating), if known


def _long(frame: pl.DataFrame, metrics: list[str]) -> pl.DataFrame:
    return frame.unpivot(
        index="product_group", on=metrics, variable_name="metric", value_name="value"
    ).with_columns(pl.col("value").cast(pl.Float64))


def headline(side: Side, notes: list[str]) -> pl.DataFrame:
    """Headline numbers of one side as (product_group, metric, value)."""
    inputs, ctx = side.inputs, side.ctx
    start, end = ctx.period(0)
    life = ctx.lifecycle
    groups = pl.DataFrame(
        {"product_group": ctx.product_groups}, schema={"product_group": pl.String}
    )
    parts = [pl.DataFrame(schema=_SCHEMA)]
    try:
        history = as_utc(
            ensure_group(inputs.table("stage_history", ["lead_id", "stage", "changed_at"])),
            "changed_at",
        )
        rows = per_group(
            history.select("lead_id", "product_group", "stage", "changed_at"), ctx.product_groups
        )
        # The period first, then the acceptance: an acceptance at or after a change in the
        # period (and before its end) is itself in the period, so the join sees only those rows.
        rows = with_acceptance(
            rows.filter((pl.col("changed_at") >= ts(start)) & (pl.col("changed_at") < ts(end))),
            ctx,
        )
        mql = pl.col("stage").is_in([life.mql_stage, life.override_stage])
        counts = rows.group_by("product_group").agg(
            pl.col("lead_id").filter(mql).n_unique().alias("mql_entries"),
            pl.col("lead_id").filter(mql & pl.col("accepted_later")).n_unique().alias("accepted"),
            pl.col("lead_id").filter(pl.col("stage") == ctx.won_stage).n_unique().alias("won"),
        )
        frame = (
            groups.join(counts.collect(), on="product_group", how="left")
            .with_columns(pl.col("mql_entries", "accepted", "won").fill_null(0))
            .with_columns(ratio(pl.col("accepted"), pl.col("mql_entries")).alias("acceptance_rate"))
        )
        parts.append(_long(frame, ["mql_entries", "accepted", "acceptance_rate", "won"]))
    except Unavailable as exc:
        notes.append(f"{side.label}: {exc}")
    try:
        opps = opportunity_events(inputs, ctx).filter(pl.col("created_at") >= ts(start))
        opp_counts = opps.group_by("product_group").agg(pl.len().alias("opportunities")).collect()
        frame = groups.join(opp_counts, on="product_group", how="left").with_columns(
            pl.col("opportunities").fill_null(0)
        )
        parts.append(_long(frame, ["opportunities"]))
    except Unavailable as exc:
        notes.append(f"{side.label}: {exc}")
    try:
        due = sla_events(inputs, ctx).filter(pl.col("sla_due_at") >= ts(start))
        sla_counts = (
            due.group_by("product_group")
            .agg(pl.len().alias("sla_due"), pl.col("met").sum().alias("sla_met"))
            .collect()
        )
        frame = groups.join(sla_counts, on="product_group", how="left").with_columns(
            ratio(pl.col("sla_met"), pl.col("sla_due")).alias("sla_compliance")
        )
        parts.append(_long(frame, ["sla_compliance"]))
    except Unavailable as exc:
        notes.append(f"{side.label}: {exc}")
    if side.ratings is None:
        notes.append(
            f"{side.label}: MQLs by rating need that night's ratings.parquet or state/rate/ "
            "snapshot"
        )
    else:
        ratings = as_bool(side.ratings, "is_mql")
        if {"product_group", "rating", "is_mql"} <= set(ratings.collect_schema().names()):
            mqls = (
                ratings.filter(pl.col("is_mql") & pl.col("product_group").is_in(ctx.product_groups))
                .group_by("product_group", pl.col("rating").cast(pl.String))
                .agg(pl.len().alias("value"))
                .collect()
            )
            total = (
                mqls.group_by("product_group")
                .agg(pl.col("value").sum())
                .with_columns(pl.lit("mqls").alias("metric"))
            )
            by_rating = mqls.with_columns(
                pl.format("mqls_{}", pl.col("rating")).alias("metric")
            ).drop("rating")
            for frame in (total, by_rating):
                parts.append(
                    frame.select("product_group", "metric", pl.col("value").cast(pl.Float64))
                )
        else:
            notes.append(f"{side.label}: ratings lack product_group, rating or is_mql")
    return pl.concat(parts).sort("product_group", "metric")


def compare_table(before: Side, after: Side, notes: list[str]) -> pl.DataFrame:
    """Both sides' headline numbers joined, with the absolute and relative change."""
    left = headline(before, notes).rename({"value": "before"})
    right = headline(after, notes).rename({"value": "after"})
    return (
        left.join(right, on=["product_group", "metric"], how="full", coalesce=True)
        .with_columns(
            (pl.col("after") - pl.col("before")).alias("change"),
            pl.when(pl.col("before").abs() > 0)
            .then((pl.col("after") - pl.col("before")) / pl.col("before").abs())
            .otherwise(None)
            .alias("relative_change"),
            pl.lit(before.ctx.as_of).alias("before_as_of"),
            pl.lit(after.ctx.as_of).alias("after_as_of"),
            pl.when(pl.col("metric").is_in(list(RATE_METRICS)))
            .then(pl.lit("rate"))
            .otherwise(pl.lit("count"))
            .alias("kind"),
        )
        .select(
            "product_group",
            "metric",
            "kind",
            "before_as_of",
            "before",
            "after_as_of",
            "after",
            "change",
            "relative_change",
        )
        .sort("product_group", "metric")
    )


def previous_period_side(inputs: ReportInputs, ctx: ReportContext) -> Side:
    """The same data seen `period_days` earlier (ratings from that night's snapshot, if any)."""
    prev_day = ctx.as_of - timedelta(days=ctx.report.period_days)
    return Side(
        inputs,
        replace(ctx, as_of=prev_day),
        f"previous period (as of {prev_day})",
        inputs.rate_snapshots.get(prev_day),
    )


def compare_section(this: Side, other: Side | None) -> Section:
    ctx = this.ctx
    if other is None:
        other = previous_period_side(this.inputs, ctx)
        how = (
            f"No second run given (`leadctl report --compare OTHER_RUN_DIR_OR_DATE`): this "
            f"period is compared with the previous {ctx.report.period_days} days on the same data."
        )
    else:
        how = f"Run of {this.ctx.as_of} against run of {other.ctx.as_of}."
    before, after = sorted((this, other), key=lambda s: s.ctx.as_of)
    section = Section(
        key="before_after",
        title="Before / after",
        intro=(
            f"{how} Numbers per product group over the {ctx.report.period_days} days ending on "
            "each "
            "side's as-of date; mqls / mqls_<rating> are the MQLs in that night's ratings, "
            "accepted = MQL entries of the period accepted by that as-of date, "
            "acceptance_rate = accepted / mql_entries."
        ),
    )
    notes: list[str] = []
    table = compare_table(before, after, notes)
    section.notes.extend(notes)
    section.tables["before_after"] = table
    section.numbers["before_as_of"] = before.ctx.as_of.isoformat()
    section.numbers["after_as_of"] = after.ctx.as_of.isoformat()
    for group in ctx.product_groups:
        for kind in ("count", "rate"):
            where = (("product_group", group), ("kind", kind))
            section.charts.append(
                Chart(
                    "bar",
                    f"{group}: {kind}s before ({before.ctx.as_of}) and after ({after.ctx.as_of})",
                    "before_after",
                    "metric",
                    ("before", "after"),
                    where,
                    percent=kind == "rate",
                )
            )
    return section
