"""Expirations, zombies and recycles: prospects must have an end, and some come back.

Tonight's expirations come from expire's stage_updates.csv; expirations over the period are the
stage changes logged with the expire reason. Zombies come from zombies.csv. Recycles are stage
changes into the recycled stage, and re-entries are MQL entries of leads recycled earlier.
"""

from __future__ import annotations

import polars as pl

from leadctl.stages.report_common import (
    Chart,
    ReportContext,
    ReportInputs,
    Section,
    Unavailable,
    as_float,
    as_utc,
    ensure_group,
    per_group,
    ts,
)
from leadctl.stages.report_feedback import reason_label


def _history(inputs: ReportInputs, ctx: ReportContext) -> pl.LazyFrame:
    history = inputs.table("stage_history", ["lead_id", "stage", "changed_at"])
    history = as_utc(ensure_group(history), "changed_at")
    names = history.collect_schema().names()
    reason = (
        pl.col("reason").cast(pl.String) if "reason" in names else pl.lit(None, dtype=pl.String)
    )
    rows = history.select("lead_id", "product_group", "stage", "changed_at", reason.alias("reason"))
    return per_group(rows, ctx.product_groups).filter(pl.col("changed_at") < ts(ctx.end))


def expirations_tonight(inputs: ReportInputs, ctx: ReportContext) -> pl.DataFrame:
    updates = inputs.output("stage_updates.csv", ["lead_id", "product_group", "new_stage"])
    names = updates.collect_schema().names()
    keys = ["product_group"] + [
        c for c in ("rule", "previous_stage", "new_stage", "reason") if c in names
    ]
    return updates.group_by(keys).agg(pl.len().cast(pl.Int64).alias("leads")).sort(keys).collect()


def recycles_table(history: pl.LazyFrame, ctx: ReportContext) -> pl.DataFrame:
    """Recycles and expirations per group and reason, this period against the previous one."""
    recycled = ctx.lifecycle.recycled_stage
    frames = []
    for back, suffix in ((0, ""), (1, "_prev")):
        start, end = ctx.period(back)
        in_period = history.filter(
            (pl.col("changed_at") >= ts(start)) & (pl.col("changed_at") < ts(end))
        )
        frames.append(
            in_period.filter(pl.col("stage") == recycled)
            .group_by("product_group", reason_label(pl.col("reason"), ctx).alias("reason"))
            .agg(pl.col("lead_id").n_unique().cast(pl.Int64).alias(f"recycled{suffix}"))
        )
    return (
        frames[0]
        .join(frames[1], on=["product_group", "reason"], how="full", coalesce=True)
        .with_columns(pl.col("recycled", "recycled_prev").fill_null(0))
        .with_columns(
            (pl.col("reason") == " ".join(ctx.expire_reason.split())).alias("is_expiration")
        )
        .sort("product_group", "reason")
        .collect()
    )


def reentries_table(history: pl.LazyFrame, ctx: ReportContext) -> pl.DataFrame:
    """Leads that entered MQL in the period after an earlier recycle, per group."""
    life = ctx.lifecycle
    mql = [life.mql_stage, life.override_stage]
    start, end = ctx.period(0)
    first_recycle = (
        history.filter(pl.col("stage") == life.recycled_stage)
        .group_by("lead_id", "product_group")
        .agg(pl.col("changed_at").min().alias("recycled_at"))
    )
    entries = history.filter(
        pl.col("stage").is_in(mql)
        & (pl.col("changed_at") >= ts(start))
        & (pl.col("changed_at") < ts(end))
    )
    groups = pl.DataFrame(
        {"product_group": ctx.product_groups}, schema={"product_group": pl.String}
    ).lazy()
    counts = (
        entries.join(first_recycle, on=["lead_id", "product_group"], how="inner")
        .filter(pl.col("changed_at") > pl.col("recycled_at"))
        .group_by("product_group")
        .agg(pl.col("lead_id").n_unique().cast(pl.Int64).alias("reentered_mql"))
    )
    all_entries = entries.group_by("product_group").agg(
        pl.col("lead_id").n_unique().cast(pl.Int64).alias("mql_entries")
    )
    return (
        groups.join(all_entries, on="product_group", how="left")
        .join(counts, on="product_group", how="left")
        .with_columns(pl.col("mql_entries", "reentered_mql").fill_null(0))
        .sort("product_group")
        .collect()
    )


def zombies_table(inputs: ReportInputs) -> pl.DataFrame:
    zombies = inputs.output("zombies.csv", ["lead_id"])
    names = zombies.collect_schema().names()
    rep = next((c for c in ("owner_id", "rep_id") if c in names), None)
    if rep is None:
        raise Unavailable(
            "not available: zombies.csv lacks owner_id / rep_id — re-run `leadctl expire`"
        )
    team = pl.col("team").cast(pl.String) if "team" in names else pl.lit(None, dtype=pl.String)
    group = (
        pl.col("product_group").cast(pl.String)
        if "product_group" in names
        else pl.lit(None, dtype=pl.String)
    )
    zombies = as_float(zombies, "days_in_stage")
    aggs = [pl.len().cast(pl.Int64).alias("zombies")]
    if "days_in_stage" in names:
        aggs.append(pl.col("days_in_stage").median().alias("median_days_in_stage"))
    return (
        zombies.select(
            group.fill_null("(all)").alias("product_group"),
            team.fill_null("(no team)").alias("team"),
            pl.col(rep).cast(pl.String).fill_null("(unowned)").alias("rep_id"),
            *([pl.col("days_in_stage")] if "days_in_stage" in names else []),
        )
        .group_by("product_group", "team", "rep_id")
        .agg(aggs)
        .sort(["product_group", "zombies", "rep_id"], descending=[False, True, False])
        .collect()
    )


def illegal_table(inputs: ReportInputs) -> pl.DataFrame:
    """Stage changes the lifecycle does not allow, as expire listed them, counted per move."""
    frame = inputs.output("illegal_transitions.csv", ["lead_id"])
    names = frame.collect_schema().names()
    keys = [c for c in ("product_group", "from_stage", "to_stage", "issue") if c in names]
    if not keys:
        return frame.select(pl.len().cast(pl.Int64).alias("changes")).collect()
    return (
        frame.group_by(keys)
        .agg(pl.len().cast(pl.Int64).alias("changes"))
        .sort(keys, nulls_last=True)
        .collect()
    )


def lifecycle_section(inputs: ReportInputs, ctx: ReportContext) -> Section:
    section = Section(
        key="lifecycle",
        title="Expirations, zombies and recycles",
        intro=(
            "Tonight's expirations (stage_updates.csv), zombies per rep (zombies.csv), stage "
            "changes the lifecycle does not allow (illegal_transitions.csv), and leads "
            f"recycled in the last {ctx.report.period_days} days by reason against the period "
            "before "
            f"(is_expiration marks the expire reason '{ctx.expire_reason}'), with recycled leads "
            "that re-entered as MQL."
        ),
    )
    try:
        tonight = expirations_tonight(inputs, ctx)
        section.tables["expirations_tonight"] = tonight
        section.numbers["stage_updates_tonight"] = int(tonight["leads"].sum())
    except Unavailable as exc:
        section.unavailable.append(str(exc))
    try:
        illegal = illegal_table(inputs)
        section.tables["illegal_transitions"] = illegal
        section.numbers["illegal_transitions"] = int(illegal["changes"].sum())
    except Unavailable as exc:
        section.unavailable.append(str(exc))
    try:
        zombies = zombies_table(inputs)
        section.tables["zombies_by_rep"] = zombies
        section.numbers["zombies"] = int(zombies["zombies"].sum())
        if zombies.height:
            section.charts.append(
                Chart("bar", "Zombies per rep", "zombies_by_rep", "rep_id", ("zombies",))
            )
    except Unavailable as exc:
        section.unavailable.append(str(exc))
    try:
        history = _history(inputs, ctx).cache()
        recycles = recycles_table(history, ctx)
        section.tables["recycles"] = recycles
        section.tables["reentries"] = reentries_table(history, ctx)
        section.numbers["recycled_in_period"] = int(recycles["recycled"].sum())
        section.numbers["expired_in_period"] = int(
            recycles.filter(pl.col("is_expiration"))["recycled"].sum()
        )
        for group in ctx.product_groups:
            section.charts.append(
                Chart(
                    "bar",
                    f"{group}: recycled by reason (previous vs this period)",
                    "recycles",
                    "reason",
                    ("recycled_prev", "recycled"),
                    (("product_group", group),),
                )
            )
    except Unavailable as exc:
        section.unavailable.append(str(exc))
    return section
