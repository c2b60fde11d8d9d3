"""Sales feedback: rejection reasons as a Pareto, by lead source and rating, and who logs none.

A rejection is a stage change in the period into a closing stage other than the win (Lost,
Recycled, Disqualified by default). Reasons are matched to the configured list ignoring case
and spacing; a missing reason and a reason not in the list are shown as such, because "if it's
not logged in the CRM, it didn't happen".
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from leadctl.stages.report_common import (
    Chart,
    ReportContext,
    ReportInputs,
    Section,
    Unavailable,
    as_utc,
    ensure_group,
    latest_on_or_before,
    per_group,
    ratio,
    ts,
)

NO_REASON = "(no reason)"
UNLISTED = "(not in list)"


def _norm(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars().str.replace_all(r"\s+", " ").str.to_lowercase()


def rejections(inputs: ReportInputs, ctx: ReportContext, back: int = 0) -> pl.LazyFrame:
    """Rejections in a period: lead_id, product_group, stage, changed_at, reason, rep_id."""
    start, end = ctx.period(back)
    return rejections_between(inputs, ctx, start, end)


def rejections_between(
    inputs: ReportInputs, ctx: ReportContext, start: datetime, end: datetime
) -> pl.LazyFrame:
    history = inputs.table("stage_history", ["lead_id", "stage", "changed_at"])
    history = as_utc(ensure_group(history), "changed_at")
    names = history.collect_schema().names()
    closing = [s for s in ctx.lifecycle.closed_stages if s != ctx.won_stage]
    reason = (
        pl.col("reason").cast(pl.String) if "reason" in names else pl.lit(None, dtype=pl.String)
    )
    closer = (
        pl.col("changed_by").cast(pl.String)
        if "changed_by" in names
        else pl.lit(None, dtype=pl.String)
    )
    rows = history.filter(
        pl.col("stage").is_in(closing)
        & (pl.col("changed_at") >= ts(start))
        & (pl.col("changed_at") < ts(end))
    ).select(
        "lead_id",
        "product_group",
        "stage",
        "changed_at",
        reason.alias("raw_reason"),
        closer.alias("rep_id"),
    )
    rows = per_group(rows, ctx.product_groups)
    return rows.with_columns(reason_label(pl.col("raw_reason"), ctx).alias("reason"))


def reason_label(raw: pl.Expr, ctx: ReportContext) -> pl.Expr:
    """The configured reason a logged text stands for (case and spacing ignored), else
    NO_REASON for a blank one and UNLISTED for one outside lifecycle.reasons."""
    known = {" ".join(name.split()).lower(): name for name in ctx.lifecycle.reasons}
    blank = raw.is_null() | (raw.str.strip_chars() == "")
    return (
        pl.when(blank)
        .then(pl.lit(NO_REASON))
        .otherwise(_norm(raw).replace_strict(known, default=UNLISTED, return_dtype=pl.String))
    )


def pareto(frame: pl.LazyFrame, keys: list[str]) -> pl.DataFrame:
    """Reasons per `keys`, most frequent first, with their share and cumulative share."""
    return (
        frame.group_by(*keys, "reason")
        .agg(pl.len().cast(pl.Int64).alias("rejections"))
        .sort([*keys, "rejections", "reason"], descending=[*([False] * len(keys)), True, False])
        .with_columns(
            ratio(pl.col("rejections"), pl.col("rejections").sum().over(keys)).alias("share"),
            ratio(
                pl.col("rejections").cum_sum().over(keys), pl.col("rejections").sum().over(keys)
            ).alias("cum_share"),
        )
        .collect()
    )


def _ratings_for(inputs: ReportInputs, ctx: ReportContext) -> tuple[pl.LazyFrame | None, str]:
    """The ratings to label rejections with: tonight's, else the latest snapshot."""
    if "ratings.parquet" in inputs.outputs:
        frame = inputs.outputs["ratings.parquet"]
        where = "tonight's ratings"
    else:
        day = latest_on_or_before(inputs.rate_snapshots, ctx.as_of)
        if day is None:
            return None, ""
        frame, where = inputs.rate_snapshots[day], f"ratings of {day}"
    if not {"lead_id", "product_group", "rating"} <= set(frame.collect_schema().names()):
        return None, ""
    return frame.select("lead_id", "product_group", pl.col("rating").cast(pl.String)), where


def missing_by_rep(frame: pl.LazyFrame, inputs: ReportInputs) -> pl.DataFrame:
    """Per rep: rejections logged, how many without a reason or with one not in the list."""
    out = (
        frame.with_columns(pl.col("rep_id").fill_null("(unknown)"))
        .group_by("rep_id")
        .agg(
            pl.len().cast(pl.Int64).alias("rejections"),
            (pl.col("reason") == NO_REASON).sum().cast(pl.Int64).alias("missing_reason"),
            (pl.col("reason") == UNLISTED).sum().cast(pl.Int64).alias("unlisted_reason"),
        )
    )
    reps = inputs.tables.get("reps")
    if reps is not None and "team" in reps.collect_schema().names():
        out = out.join(
            reps.select(pl.col("rep_id").cast(pl.String), pl.col("team").cast(pl.String)),
            on="rep_id",
            how="left",
        )
    else:
        out = out.with_columns(pl.lit(None, dtype=pl.String).alias("team"))
    return (
        out.with_columns(
            pl.col("team").fill_null("(no team)"),
            ratio(pl.col("missing_reason") + pl.col("unlisted_reason"), pl.col("rejections")).alias(
                "missing_share"
            ),
        )
        .select(
            "team", "rep_id", "rejections", "missing_reason", "unlisted_reason", "missing_share"
        )
        .sort(["missing_reason", "unlisted_reason", "rep_id"], descending=[True, True, False])
        .collect()
    )


def feedback_section(inputs: ReportInputs, ctx: ReportContext) -> Section:
    start, _end = ctx.period(0)
    section = Section(
        key="feedback",
        title="Sales feedback",
        intro=(
            "Rejections and closures "
            f"({', '.join(s for s in ctx.lifecycle.closed_stages if s != ctx.won_stage)}) "
            f"between {start.date()} and {ctx.as_of}, by reason (Pareto), lead source and rating. "
            f"'{NO_REASON}' and '{UNLISTED}' are reasons missing from the CRM or outside "
            "lifecycle.reasons."
        ),
    )
    try:
        frame = rejections(inputs, ctx)
    except Unavailable as exc:
        section.unavailable.append(str(exc))
        return section
    # Collected once (a few ten thousand rows at 1 M leads): the tables below read it four times.
    frame = frame.collect().lazy()
    # The lead-level tables cut to the rejected leads before the joins (a probe against a small
    # set instead of hashing every rated pair; the left joins find the same rows).
    rejected = pl.col("lead_id").is_in(
        frame.select("lead_id").unique().collect().to_series().implode()
    )
    section.tables["feedback_pareto"] = pareto(frame, ["product_group"])
    try:
        leads = inputs.table("leads", ["lead_id", "lead_source"])
        sourced = frame.join(
            leads.select("lead_id", pl.col("lead_source").cast(pl.String)).filter(rejected),
            on="lead_id",
            how="left",
        ).with_columns(pl.col("lead_source").fill_null("(unknown)"))
        section.tables["feedback_by_source"] = pareto(sourced, ["product_group", "lead_source"])
    except Unavailable as exc:
        section.unavailable.append(str(exc))
    ratings, where = _ratings_for(inputs, ctx)
    if ratings is None:
        section.unavailable.append(
            "not available: rejections by rating need ratings.parquet or a snapshot in "
            "state/rate/ — run `leadctl rate`"
        )
    else:
        rated = frame.join(
            ratings.filter(rejected), on=["lead_id", "product_group"], how="left"
        ).with_columns(pl.col("rating").fill_null("(unrated)"))
        section.tables["feedback_by_rating"] = pareto(rated, ["product_group", "rating"])
        section.notes.append(f"Ratings of rejected leads are {where}.")
    reps = missing_by_rep(frame, inputs)
    section.tables["missing_reasons_by_rep"] = reps
    totals = reps.select(
        pl.col("rejections").sum(), (pl.col("missing_reason") + pl.col("unlisted_reason")).sum()
    ).row(0)
    section.numbers["rejections"] = int(totals[0] or 0)
    section.numbers["rejections_without_listed_reason"] = int(totals[1] or 0)
    for group in ctx.product_groups:
        section.charts.append(
            Chart(
                "pareto",
                f"{group}: rejection reasons (bars) and cumulative share (line)",
                "feedback_pareto",
                "reason",
                ("rejections", "cum_share"),
                (("product_group", group),),
            )
        )
    if reps.height:
        section.charts.append(
            Chart(
                "bar",
                "Rejections without a listed reason, per rep",
                "missing_reasons_by_rep",
                "rep_id",
                ("missing_reason", "unlisted_reason"),
            )
        )
    return section
