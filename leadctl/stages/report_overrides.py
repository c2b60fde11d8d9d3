"""Override rules: how many leads each sent, how they converted against ordinary MQLs, and
which rules are near or past their review date (rules must be re-evaluated often).

"Sent in period" counts new MQLs a rule made in the nightly rating snapshots of the period;
conversion uses the labelled population of `report_rating` (an earlier night's ratings).
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
    ratio,
)
from leadctl.stages.report_rating import Labelled

ORDINARY = "(ordinary MQLs)"
_COUNTS = {"product_group": pl.String, "rule": pl.String}


def review_table(ctx: ReportContext) -> pl.DataFrame:
    """Every configured rule with its review status: past_review, due_soon or ok."""
    warn = ctx.report.review_warning_days
    rules = ctx.override_rules
    return (
        rules.with_columns(
            (pl.col("review_by") - pl.lit(ctx.as_of))
            .dt.total_days()
            .cast(pl.Int64)
            .alias("days_to_review")
        )
        .with_columns(
            pl.when(pl.col("review_by") < pl.lit(ctx.as_of))
            .then(pl.lit("past_review"))
            .when(pl.col("review_by") <= pl.lit(ctx.as_of + timedelta(days=warn)))
            .then(pl.lit("due_soon"))
            .otherwise(pl.lit("ok"))
            .alias("review_status")
        )
        .select("rule", "owner", "review_by", "review_status", "days_to_review")
        .sort("rule")
    )


def _tonight(inputs: ReportInputs, ctx: ReportContext) -> pl.DataFrame:
    ratings = as_bool(
        inputs.output("ratings.parquet", ["lead_id", "product_group", "override_rule"]),
        "is_mql",
        "is_new_mql",
    )
    names = ratings.collect_schema().names()
    mql = pl.col("is_mql") if "is_mql" in names else pl.lit(False)
    new = pl.col("is_new_mql") if "is_new_mql" in names else pl.lit(None, dtype=pl.Boolean)
    rule = (
        pl.when(pl.col("override_rule").is_not_null())
        .then(pl.col("override_rule"))
        .when(mql)
        .then(pl.lit(ORDINARY))
    )
    return (
        ratings.filter(pl.col("product_group").is_in(ctx.product_groups))
        .with_columns(rule.cast(pl.String).alias("rule"), new.alias("_new"))
        .filter(pl.col("rule").is_not_null())
        .group_by("product_group", "rule")
        .agg(
            pl.len().cast(pl.Int64).alias("flagged_tonight"),
            pl.col("_new").sum().cast(pl.Int64).alias("new_tonight"),
        )
        .collect()
    )


def _sent_in_period(inputs: ReportInputs, ctx: ReportContext) -> pl.DataFrame:
    """New MQLs per rule over the period's nightly snapshots (needs is_new_mql in them)."""
    start, _ = ctx.period(0)
    days = [d for d in sorted(inputs.rate_snapshots) if start.date() <= d <= ctx.as_of]
    frames = []
    for day in days:
        snap = inputs.rate_snapshots[day]
        names = snap.collect_schema().names()
        if not {"product_group", "override_rule", "is_new_mql"} <= set(names):
            continue
        mql = pl.col("is_mql") if "is_mql" in names else pl.lit(False)
        snap = as_bool(snap, "is_new_mql", "is_mql")
        rule = (
            pl.when(pl.col("override_rule").is_not_null())
            .then(pl.col("override_rule"))
            .when(mql)
            .then(pl.lit(ORDINARY))
        )
        frames.append(
            snap.filter(pl.col("is_new_mql") & pl.col("product_group").is_in(ctx.product_groups))
            .select("product_group", rule.cast(pl.String).alias("rule"))
            .filter(pl.col("rule").is_not_null())
        )
    if not frames:
        raise Unavailable(
            "not available: leads sent per rule over the period need nightly rating snapshots with "
            "is_new_mql in state/rate/ — run `leadctl rate` every night"
        )
    return (
        pl.concat(frames)
        .group_by("product_group", "rule")
        .agg(pl.len().cast(pl.Int64).alias("sent_in_period"))
        .collect()
    )


def _converted(lab: Labelled) -> pl.DataFrame:
    frame = lab.frame
    if "override_rule" not in frame.columns:
        raise Unavailable(
            f"not available: rating snapshot state/rate/{lab.snapshot}.parquet lacks "
            "override_rule — re-run `leadctl rate`"
        )
    mql = pl.col("is_mql") if "is_mql" in frame.columns else pl.lit(False)
    rule = (
        pl.when(pl.col("override_rule").is_not_null())
        .then(pl.col("override_rule"))
        .when(mql)
        .then(pl.lit(ORDINARY))
    )
    return (
        frame.with_columns(rule.cast(pl.String).alias("rule"))
        .filter(pl.col("rule").is_not_null())
        .group_by("product_group", "rule")
        .agg(
            pl.len().cast(pl.Int64).alias("labelled_leads"),
            pl.col("converted").sum().cast(pl.Int64).alias("conversions"),
        )
        .with_columns(
            ratio(pl.col("conversions"), pl.col("labelled_leads")).alias("conversion_rate")
        )
    )


def overrides_section(
    inputs: ReportInputs, ctx: ReportContext, lab: Labelled | Unavailable
) -> Section:
    section = Section(
        key="overrides",
        title="Override rules",
        intro=(
            "Leads each override rule flagged tonight and sent over the period, their conversion "
            "compared with ordinary MQLs, and each rule's review date (flagged "
            f"{ctx.report.review_warning_days} "
            "days ahead by report.review_warning_days; a rule past review_by no longer applies)."
        ),
    )
    reviews = review_table(ctx)
    section.tables["override_reviews"] = reviews
    for row in reviews.iter_rows(named=True):
        if row["review_status"] == "past_review":
            section.warnings.append(
                f"override rule '{row['rule']}' (owner {row['owner']}) is past its review date "
                f"{row['review_by']}: it no longer applies until reviewed"
            )
        elif row["review_status"] == "due_soon":
            section.warnings.append(
                f"override rule '{row['rule']}' (owner {row['owner']}) is due for review on "
                f"{row['review_by']} ({row['days_to_review']} days)"
            )
    section.numbers["rules_past_review"] = reviews.filter(pl.col("review_status") == "past_review")[
        "rule"
    ].to_list()
    section.numbers["rules_due_soon"] = reviews.filter(pl.col("review_status") == "due_soon")[
        "rule"
    ].to_list()
    parts: list[pl.DataFrame] = []
    for builder in (lambda: _tonight(inputs, ctx), lambda: _sent_in_period(inputs, ctx)):
        try:
            parts.append(builder())
        except Unavailable as exc:
            section.unavailable.append(str(exc))
    if isinstance(lab, Unavailable):
        section.unavailable.append(str(lab))
    else:
        try:
            parts.append(_converted(lab))
        except Unavailable as exc:
            section.unavailable.append(str(exc))
    rules = [*ctx.override_rules["rule"].to_list(), ORDINARY]
    keys = pl.DataFrame(
        [(g, r) for g in ctx.product_groups for r in rules], schema=_COUNTS, orient="row"
    )
    for part in parts:
        keys = pl.concat([keys, part.select("product_group", "rule")]).unique(maintain_order=True)
    table = keys
    for part in parts:
        table = table.join(part, on=["product_group", "rule"], how="left")
    for column, dtype in (
        ("flagged_tonight", pl.Int64),
        ("new_tonight", pl.Int64),
        ("sent_in_period", pl.Int64),
        ("labelled_leads", pl.Int64),
        ("conversions", pl.Int64),
        ("conversion_rate", pl.Float64),
    ):
        if column not in table.columns:
            table = table.with_columns(pl.lit(None, dtype=dtype).alias(column))
    table = (
        table.join(
            reviews.select("rule", "owner", "review_by", "review_status"), on="rule", how="left"
        )
        .with_columns(
            pl.when(pl.col("rule") == ORDINARY)
            .then(pl.lit("-"))
            .otherwise(pl.col("review_status").fill_null("not configured"))
            .alias("review_status")
        )
        .select(
            "product_group",
            "rule",
            "owner",
            "review_by",
            "review_status",
            "flagged_tonight",
            "new_tonight",
            "sent_in_period",
            "labelled_leads",
            "conversions",
            "conversion_rate",
        )
        .with_columns((pl.col("rule") == ORDINARY).alias("_ordinary"))
        .sort(["product_group", "_ordinary", "rule"])
        .drop("_ordinary")
    )
    section.tables["overrides"] = table
    if "conversion_rate" in table.columns and parts:
        for group in ctx.product_groups:
            section.charts.append(
                Chart(
                    "bar",
                    f"{group}: conversion rate, override rules vs ordinary MQLs",
                    "overrides",
                    "rule",
                    ("conversion_rate",),
                    (("product_group", group),),
                    percent=True,
                )
            )
    flagged = table.filter(pl.col("rule") != ORDINARY)["flagged_tonight"].fill_null(0).sum()
    section.numbers["override_leads_tonight"] = int(flagged)
    return section
