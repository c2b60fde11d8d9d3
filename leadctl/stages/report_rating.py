"""Conversion by rating: does A1 really convert better than B3?

The labelled population is the ratings of an earlier night (a snapshot in state/rate/ taken about
`conversion_window_days` before the as-of date) joined with the opportunities created after it.
Leads that already had an opportunity for the group at snapshot time are left out: they were
not a prediction any more. Model quality and override performance use the same population.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import polars as pl

from leadctl.stages.report_common import (
    Chart,
    ReportContext,
    ReportInputs,
    Section,
    Unavailable,
    as_bool,
    as_float,
    as_utc,
    day_end,
    ensure_group,
    per_group,
    rating_parts,
    ratio,
    ts,
)

FIT_GRADES = ["A", "B", "C", "D"]
ENGAGEMENT_GRADES = ["1", "2", "3", "4"]
_SNAPSHOT_COLUMNS = (
    "lead_id",
    "product_group",
    "rating",
    "fit_grade",
    "engagement_grade",
    "score",
    "propensity",
    "fit_score",
    "engagement_score",
    "is_mql",
    "override_rule",
    "model_kind",
    "model_version",
)


@dataclass
class Labelled:
    """An earlier night's ratings with the outcome since: `converted` per lead and group."""

    snapshot: date
    window_days: int
    frame: pl.DataFrame
    note: str | None = None


def pick_snapshot(snapshots: Mapping[date, object], ctx: ReportContext) -> tuple[date, str | None]:
    """The snapshot about conversion_window_days back, else the oldest one (with a note)."""
    window = ctx.report.conversion_window_days
    target = date.fromordinal(ctx.as_of.toordinal() - window)
    older = [d for d in snapshots if d <= target]
    if older:
        return max(older), None
    before = [d for d in snapshots if d < ctx.as_of]
    if not before:
        raise Unavailable(
            f"not available: no rating snapshot before {ctx.as_of} in state/rate/ — conversion "
            "needs the ratings of earlier nights (run `leadctl rate` every night; snapshots "
            f"about {window} days old give full-length outcomes)"
        )
    first = min(before)
    days = (ctx.as_of - first).days
    return first, (
        f"the oldest rating snapshot is {first}: outcomes cover {days} days, "
        f"not report.conversion_window_days = {window}"
    )


def opportunity_events(inputs: ReportInputs, ctx: ReportContext) -> pl.LazyFrame:
    """Opportunities per lead and product group (no group: every group), created up to as-of."""
    opps = inputs.table("opportunities", ["lead_id", "created_at"])
    opps = as_utc(ensure_group(opps), "created_at").filter(pl.col("lead_id").is_not_null())
    opps = opps.filter(pl.col("created_at") < ts(ctx.end))
    return per_group(opps.select("lead_id", "product_group", "created_at"), ctx.product_groups)


def labelled_population(inputs: ReportInputs, ctx: ReportContext) -> Labelled:
    """Ratings from the chosen snapshot with `converted` = an opportunity created since."""
    snap_day, note = pick_snapshot(inputs.rate_snapshots, ctx)
    snap = inputs.rate_snapshots[snap_day]
    names = snap.collect_schema().names()
    if not {"lead_id", "product_group", "rating"} <= set(names):
        raise Unavailable(
            f"not available: rating snapshot state/rate/{snap_day}.parquet lacks lead_id, "
            "product_group or rating — re-run `leadctl rate`"
        )
    snap = snap.select([c for c in _SNAPSHOT_COLUMNS if c in names])
    snap = rating_parts(
        as_bool(as_float(snap, "score", "propensity", "fit_score", "engagement_score"), "is_mql")
    )
    snap = snap.filter(
        pl.col("product_group").is_in(ctx.product_groups) & pl.col("rating").is_not_null()
    )
    opps = opportunity_events(inputs, ctx)
    cut = ts(day_end(snap_day))
    before = opps.filter(pl.col("created_at") < cut).select("lead_id", "product_group").unique()
    after = (
        opps.filter(pl.col("created_at") >= cut)
        .select("lead_id", "product_group")
        .unique()
        .with_columns(pl.lit(True).alias("converted"))
    )
    frame = (
        snap.join(before, on=["lead_id", "product_group"], how="anti")
        .join(after, on=["lead_id", "product_group"], how="left")
        .with_columns(pl.col("converted").fill_null(False))
        .collect()
    )
    return Labelled(snap_day, (ctx.as_of - snap_day).days, frame, note)


def _grades(frame: pl.DataFrame, column: str, default: list[str]) -> list[str]:
    seen = [g for g in frame[column].drop_nulls().unique().sort().to_list() if g not in default]
    return default + seen


def rating_table(lab: Labelled, ctx: ReportContext) -> pl.DataFrame:
    """The A-D x 1-4 grid per group: leads, conversions, rate, and each cell's shares."""
    frame = lab.frame
    fits = _grades(frame, "fit_grade", FIT_GRADES)
    engs = _grades(frame, "engagement_grade", ENGAGEMENT_GRADES)
    grid = pl.DataFrame(
        [(g, f, e) for g in ctx.product_groups for f in fits for e in engs],
        schema={"product_group": pl.String, "fit_grade": pl.String, "engagement_grade": pl.String},
        orient="row",
    )
    counts = frame.group_by("product_group", "fit_grade", "engagement_grade").agg(
        pl.len().cast(pl.Int64).alias("leads"),
        pl.col("converted").sum().cast(pl.Int64).alias("conversions"),
    )
    out = (
        grid.join(counts, on=["product_group", "fit_grade", "engagement_grade"], how="left")
        .with_columns(pl.col("leads", "conversions").fill_null(0))
        .with_columns(
            (pl.col("fit_grade") + pl.col("engagement_grade")).alias("rating"),
            ratio(pl.col("conversions"), pl.col("leads")).alias("conversion_rate"),
            ratio(pl.col("leads"), pl.col("leads").sum().over("product_group")).alias("lead_share"),
            ratio(pl.col("conversions"), pl.col("conversions").sum().over("product_group")).alias(
                "conversion_share"
            ),
        )
        .with_columns(
            pl.when(pl.col("conversion_rate").is_null())
            .then(pl.lit("- / 0"))
            .otherwise(
                pl.format("{}% / {}", pl.col("conversion_rate").mul(100).round(1), pl.col("leads"))
            )
            .alias("cell_label")
        )
    )
    return out.select(
        "product_group",
        "rating",
        "fit_grade",
        "engagement_grade",
        "leads",
        "conversions",
        "conversion_rate",
        "lead_share",
        "conversion_share",
        "cell_label",
    ).sort("product_group", "fit_grade", "engagement_grade")


def capture_table(rating: pl.DataFrame) -> pl.DataFrame:
    """Ratings best first (A1, A2, ... D4): cumulative share of leads vs of conversions."""
    return (
        rating.filter(pl.col("leads") > 0)
        .sort("product_group", "fit_grade", "engagement_grade")
        .with_columns(
            ratio(
                pl.col("leads").cum_sum().over("product_group"),
                pl.col("leads").sum().over("product_group"),
            ).alias("cum_lead_share"),
            ratio(
                pl.col("conversions").cum_sum().over("product_group"),
                pl.col("conversions").sum().over("product_group"),
            ).alias("cum_conversion_share"),
        )
        .select(
            "product_group",
            "rating",
            "leads",
            "conversions",
            "cum_lead_share",
            "cum_conversion_share",
        )
    )


def top_share_capture(lab: Labelled, share: float) -> pl.DataFrame:
    """Share of conversions held by the top `share` of leads, ranked by score (else by rating).

    Leads tied with the last one inside the share are included (rank "min"), so the result
    never depends on row order; `top_leads` says how many that made.
    """
    frame = lab.frame
    key = "score" if "score" in frame.columns else None
    if key:
        rank = pl.col(key).rank("min", descending=True)
    else:  # A1 best: fit letter, then engagement number, both ascending
        rank = (pl.col("fit_grade") + pl.col("engagement_grade")).rank("min")
    ordered = frame.with_columns(
        rank.over("product_group").alias("_rank"), pl.len().over("product_group").alias("_n")
    ).with_columns(
        (pl.col("_rank").is_not_null() & (pl.col("_rank") <= (pl.col("_n") * share).ceil())).alias(
            "_top"
        )
    )
    return (
        ordered.group_by("product_group")
        .agg(
            pl.len().cast(pl.Int64).alias("leads"),
            pl.col("_top").sum().cast(pl.Int64).alias("top_leads"),
            pl.col("converted").sum().cast(pl.Int64).alias("conversions"),
            pl.col("converted")
            .filter(pl.col("_top"))
            .sum()
            .cast(pl.Int64)
            .alias("top_conversions"),
        )
        .with_columns(
            pl.lit(share).alias("top_share"),
            pl.lit("score" if key else "rating").alias("ranked_by"),
            ratio(pl.col("top_conversions"), pl.col("conversions")).alias("conversion_capture"),
        )
        .sort("product_group")
    )


def rating_section(
    inputs: ReportInputs, ctx: ReportContext, lab: Labelled | Unavailable
) -> Section:
    section = Section(
        key="conversion_by_rating",
        title="Conversion by rating",
        intro=(
            f"Leads as rated on an earlier night, and the share that got an opportunity for the "
            f"product group by {ctx.as_of} (about report.conversion_window_days = "
            f"{ctx.report.conversion_window_days} days). Leads that already had one are left out."
        ),
    )
    if isinstance(lab, Unavailable):
        section.unavailable.append(str(lab))
        return section
    section.intro += (
        f" Ratings from the night of {lab.snapshot} ({lab.window_days} days of outcomes)."
    )
    if lab.note:
        section.notes.append(lab.note)
    grid = rating_table(lab, ctx)
    section.tables["conversion_by_rating"] = grid
    section.tables["rating_capture"] = capture_table(grid)
    top = top_share_capture(lab, ctx.report.top_share)
    section.tables["top_share_capture"] = top
    pct = round(ctx.report.top_share * 100)
    for row in top.iter_rows(named=True):
        capture = row["conversion_capture"]
        if capture is not None and not math.isnan(capture):
            section.notes.append(
                f"{row['product_group']}: the top {pct} % of leads by {row['ranked_by']} hold "
                f"{capture:.0%} of the opportunities ({row['top_conversions']} of "
                f"{row['conversions']})."
            )
    section.numbers["top_share_capture"] = {
        r["product_group"]: r["conversion_capture"] for r in top.iter_rows(named=True)
    }
    for group in ctx.product_groups:
        where = (("product_group", group),)
        section.charts.append(
            Chart(
                "heatmap",
                f"{group}: conversion rate by rating (rate / leads)",
                "conversion_by_rating",
                "engagement_grade",
                ("fit_grade", "conversion_rate"),
                where,
                percent=True,
                label="cell_label",
            )
        )
        section.charts.append(
            Chart(
                "line",
                f"{group}: share of conversions captured, best ratings first",
                "rating_capture",
                "cum_lead_share",
                ("cum_conversion_share",),
                where,
                percent=True,
            )
        )
    return section
