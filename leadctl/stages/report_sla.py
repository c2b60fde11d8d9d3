"""SLA compliance (first touch by `sla_due_at`), time to first touch, persistence compliance.

SLA: every assignment in the assignment log (state/assignments_log/) whose deadline fell in the
period counts once; it met its SLA when a sales touch on the lead came at or after the
assignment and no later than the deadline. Assignments whose deadline is still ahead are left
out (neither met nor breached). Persistence: of the leads a rep closed or rejected in the period,
the share the expire stage did not flag in persistence_breaches.csv.
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
    day_end,
    ratio,
    ts,
)

KEYS = ["lead_id", "product_group"]


def assignment_log(inputs: ReportInputs, ctx: ReportContext) -> pl.LazyFrame:
    """Every logged assignment up to the as-of date (one row per lead, group and assignment)."""
    logs = {d: f for d, f in inputs.assignment_logs.items() if d <= ctx.as_of}
    if not logs:
        raise Unavailable(
            "not available: state/assignments_log/ has no assignment log up to "
            f"{ctx.as_of} — run `leadctl assign`"
        )
    frames = []
    for day in sorted(logs):
        frame = logs[day]
        names = frame.collect_schema().names()
        lacking = [
            c for c in ("lead_id", "product_group", "owner_id", "sla_due_at") if c not in names
        ]
        if lacking:
            raise Unavailable(
                f"not available: state/assignments_log/{day}.parquet lacks column(s) "
                f"{', '.join(lacking)} — re-run `leadctl assign`"
            )
        frame = as_utc(frame, "assigned_at", "sla_due_at")
        assigned = pl.col("assigned_at") if "assigned_at" in names else ts(day_end(day))
        team = pl.col("team").cast(pl.String) if "team" in names else pl.lit(None, dtype=pl.String)
        frames.append(
            frame.select(
                "lead_id",
                "product_group",
                pl.col("owner_id").cast(pl.String),
                team.alias("team"),
                assigned.alias("assigned_at"),
                "sla_due_at",
            )
        )
    return (
        pl.concat(frames)
        .filter(
            pl.col("product_group").is_in(ctx.product_groups)
            & (pl.col("assigned_at") < ts(ctx.end))
        )
        .unique(subset=[*KEYS, "assigned_at"], keep="first", maintain_order=True)
    )


def _touches(inputs: ReportInputs, ctx: ReportContext) -> pl.LazyFrame:
    return as_utc(inputs.table("sales_touches", ["lead_id", "occurred_at"]), "occurred_at").filter(
        pl.col("occurred_at") < ts(ctx.end)
    )


def sla_horizon(inputs: ReportInputs, ctx: ReportContext) -> datetime:
    """How far the touch log reaches: the latest sales touch up to the as-of date.

    A deadline after it cannot be judged yet (the export may have been taken at the start of
    the as-of day, before reps worked tonight's or yesterday's leads): such assignments count
    as open, neither met nor breached. No touches at all: the end of the as-of day.
    """
    touches = as_utc(
        inputs.full_table("sales_touches", ["occurred_at"]).select("occurred_at"), "occurred_at"
    )
    latest = (
        touches.filter(pl.col("occurred_at") < ts(ctx.end))
        .select(pl.col("occurred_at").max())
        .collect()
        .item()
    )
    return ctx.end if latest is None else min(latest, ctx.end)


def sla_events(inputs: ReportInputs, ctx: ReportContext) -> pl.LazyFrame:
    """Assignments whose deadline the data covers: first_touch_at, met, hours_to_first_touch."""
    log = assignment_log(inputs, ctx)
    horizon = sla_horizon(inputs, ctx)
    log = log.filter(pl.col("sla_due_at") <= ts(horizon))
    touches = _touches(inputs, ctx)
    first = (
        log.select(*KEYS, "assigned_at")
        .join(touches.select("lead_id", "occurred_at"), on="lead_id", how="inner")
        .filter(pl.col("occurred_at") >= pl.col("assigned_at"))
        .group_by(*KEYS, "assigned_at")
        .agg(pl.col("occurred_at").min().alias("first_touch_at"))
    )
    return log.join(first, on=[*KEYS, "assigned_at"], how="left").with_columns(
        (
            pl.col("first_touch_at").is_not_null()
            & (pl.col("first_touch_at") <= pl.col("sla_due_at"))
        ).alias("met"),
        ((pl.col("first_touch_at") - pl.col("assigned_at")).dt.total_seconds() / 3600.0).alias(
            "hours_to_first_touch"
        ),
        pl.col("team").fill_null("(no team)"),
        pl.col("owner_id").fill_null("(unowned)"),
    )


def sla_summary(
    events: pl.LazyFrame, keys: list[str], start: datetime, end: datetime
) -> pl.DataFrame:
    """Compliance per `keys` for assignments due in [start, end)."""
    due = events.filter((pl.col("sla_due_at") >= ts(start)) & (pl.col("sla_due_at") < ts(end)))
    return (
        due.group_by(keys)
        .agg(
            pl.len().cast(pl.Int64).alias("assignments_due"),
            pl.col("met").sum().cast(pl.Int64).alias("met"),
            pl.col("first_touch_at").is_null().sum().cast(pl.Int64).alias("untouched"),
            pl.col("hours_to_first_touch").median().alias("median_hours_to_first_touch"),
        )
        .with_columns(
            (pl.col("assignments_due") - pl.col("met")).alias("breached"),
            ratio(pl.col("met"), pl.col("assignments_due")).alias("sla_compliance"),
        )
        .select(
            *keys,
            "assignments_due",
            "met",
            "breached",
            "untouched",
            "sla_compliance",
            "median_hours_to_first_touch",
        )
        .sort(keys)
        .collect()
    )


def persistence_table(inputs: ReportInputs, ctx: ReportContext) -> pl.DataFrame:
    """Per rep: leads closed or rejected in the period, persistence breaches, compliance."""
    start, end = ctx.period(0)
    breaches = as_utc(inputs.output("persistence_breaches.csv", ["lead_id", "rep_id"]), "closed_at")
    if "closed_at" in breaches.collect_schema().names():
        breaches = breaches.filter(
            (pl.col("closed_at") >= ts(start)) & (pl.col("closed_at") < ts(end))
        )
    history = as_utc(
        inputs.table("stage_history", ["lead_id", "stage", "changed_at"]), "changed_at"
    )
    closing = [s for s in ctx.lifecycle.closed_stages if s != ctx.won_stage]
    hist_names = history.collect_schema().names()
    closer = pl.col("changed_by") if "changed_by" in hist_names else pl.lit(None, dtype=pl.String)
    closed = history.filter(
        pl.col("stage").is_in(closing)
        & (pl.col("changed_at") >= ts(start))
        & (pl.col("changed_at") < ts(end))
    ).select("lead_id", closer.cast(pl.String).alias("changed_by"))
    if "leads" in inputs.tables and "owner_id" in inputs.tables["leads"].collect_schema().names():
        owners = inputs.tables["leads"].select("lead_id", pl.col("owner_id").cast(pl.String))
        closed = closed.join(owners, on="lead_id", how="left").with_columns(
            pl.coalesce("changed_by", "owner_id").alias("rep_id")
        )
    else:
        closed = closed.with_columns(pl.col("changed_by").alias("rep_id"))
    closed_per_rep = closed.group_by(pl.col("rep_id").fill_null("(unowned)")).agg(
        pl.col("lead_id").n_unique().cast(pl.Int64).alias("closed")
    )
    b_names = breaches.collect_schema().names()
    team = pl.col("team").cast(pl.String) if "team" in b_names else pl.lit(None, dtype=pl.String)
    per_rep = breaches.group_by(pl.col("rep_id").cast(pl.String).fill_null("(unowned)")).agg(
        pl.col("lead_id").n_unique().cast(pl.Int64).alias("breaches"),
        team.drop_nulls().first().alias("team"),
    )
    joined = closed_per_rep.join(per_rep, on="rep_id", how="full", coalesce=True)
    if "reps" in inputs.tables and "team" in inputs.tables["reps"].collect_schema().names():
        teams = inputs.tables["reps"].select(
            pl.col("rep_id").cast(pl.String), pl.col("team").alias("_rep_team")
        )
        joined = joined.join(teams, on="rep_id", how="left").with_columns(
            pl.coalesce("_rep_team", "team").alias("team")
        )
    return (
        joined.with_columns(pl.col("closed", "breaches").fill_null(0))
        .with_columns(
            pl.max_horizontal("closed", "breaches").alias("closed"),
        )
        .with_columns(
            (1 - ratio(pl.col("breaches"), pl.col("closed"))).alias("persistence_compliance")
        )
        .select(
            pl.col("team").fill_null("(no team)"),
            "rep_id",
            "closed",
            "breaches",
            "persistence_compliance",
        )
        .sort("team", "rep_id")
        .collect()
    )


def sla_section(inputs: ReportInputs, ctx: ReportContext) -> Section:
    start, end = ctx.period(0)
    section = Section(
        key="sla",
        title="SLA and persistence compliance",
        intro=(
            f"Assignments whose first-touch deadline fell between {start.date()} and {ctx.as_of}: "
            "met when a sales touch came at or after the assignment and by the deadline; deadlines "
            "after the latest logged sales touch are still open and not counted. Hours to "
            "first touch are from assignment to the first touch. Persistence: of the leads a rep "
            "closed or rejected in the period, the share not flagged as a persistence breach."
        ),
    )
    try:
        events = sla_events(inputs, ctx)
        horizon = sla_horizon(inputs, ctx)
        if horizon < ctx.end:
            section.notes.append(
                f"The touch log reaches {horizon:%Y-%m-%d %H:%M} UTC: later deadlines are still "
                "open."
            )
        by_team = sla_summary(events, ["product_group", "team"], start, end)
        by_rep = sla_summary(events, ["product_group", "team", "owner_id"], start, end)
        section.tables["sla_by_team"] = by_team
        section.tables["sla_by_rep"] = by_rep.rename({"owner_id": "rep_id"})
        overall = sla_summary(events, ["product_group"], start, end)
        section.numbers["sla_compliance"] = {
            r["product_group"]: r["sla_compliance"] for r in overall.iter_rows(named=True)
        }
        for group in ctx.product_groups:
            where = (("product_group", group),)
            section.charts.append(
                Chart(
                    "bar",
                    f"{group}: SLA compliance by team",
                    "sla_by_team",
                    "team",
                    ("sla_compliance",),
                    where,
                    percent=True,
                )
            )
            section.charts.append(
                Chart(
                    "bar",
                    f"{group}: median hours to first touch by rep",
                    "sla_by_rep",
                    "rep_id",
                    ("median_hours_to_first_touch",),
                    where,
                )
            )
    except Unavailable as exc:
        section.unavailable.append(str(exc))
    if "sla_breaches.csv" in inputs.outputs:
        tonight = inputs.outputs["sla_breaches.csv"].select(pl.len()).collect().item()
        section.notes.append(f"expire flagged {tonight} SLA breach(es) tonight (sla_breaches.csv).")
    try:
        persistence = persistence_table(inputs, ctx)
        section.tables["persistence_by_rep"] = persistence
        section.charts.append(
            Chart(
                "bar",
                "Persistence compliance by rep",
                "persistence_by_rep",
                "rep_id",
                ("persistence_compliance",),
                percent=True,
            )
        )
    except Unavailable as exc:
        section.unavailable.append(str(exc))
    return section
