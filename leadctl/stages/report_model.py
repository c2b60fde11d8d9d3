"""Model quality on the latest labelled period, drift since training, and when to retrain.

Quality: AUC (rank formula, exact with ties), gains / lift by bins of propensity, calibration
(mean predicted propensity against the observed rate per bin), on the labelled population of
`report_rating`. Drift: population stability index (PSI) of the scores between the first night
scored after training and tonight, and of key lead fields between the leads the model was trained
on and the leads created this period. A stale or drifting model gets a retraining recommendation.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from leadctl.models.card import psi as card_psi
from leadctl.stages.report_common import (
    Chart,
    ReportContext,
    ReportInputs,
    Section,
    Unavailable,
    as_float,
    as_utc,
    day_end,
    ratio,
)
from leadctl.stages.report_rating import Labelled

SCORE_COLUMNS = ("score", "fit_score", "engagement_score", "propensity")
_FLOOR = 1e-4  # share floor in PSI, so an empty bin does not make it infinite


def auc_table(frame: pl.DataFrame, predictor: str) -> pl.DataFrame:
    """AUC per product group: P(score of a converter > score of a non-converter), ties half."""
    return (
        frame.filter(pl.col(predictor).is_not_null())
        .with_columns(pl.col(predictor).rank("average").over("product_group").alias("_rank"))
        .group_by("product_group")
        .agg(
            pl.len().cast(pl.Int64).alias("labelled_leads"),
            pl.col("converted").sum().cast(pl.Int64).alias("conversions"),
            pl.col("_rank").filter(pl.col("converted")).sum().alias("_pos_rank_sum"),
        )
        .with_columns((pl.col("labelled_leads") - pl.col("conversions")).alias("_neg"))
        .with_columns(
            ratio(
                pl.col("_pos_rank_sum") - pl.col("conversions") * (pl.col("conversions") + 1) / 2,
                pl.col("conversions") * pl.col("_neg"),
            ).alias("auc")
        )
        .select("product_group", "labelled_leads", "conversions", "auc")
        .sort("product_group")
    )


def gains_table(frame: pl.DataFrame, predictor: str, bins: int) -> pl.DataFrame:
    """Equal-count bins by predictor, highest first: conversions, rate, lift, cumulative capture.

    Tied predictor values share a bin (the one their best rank falls in), so the order of
    leads with equal scores never moves conversions between bins; bins may then be uneven.
    """
    ranked = (
        frame.filter(pl.col(predictor).is_not_null())
        .with_columns(
            pl.col(predictor).rank("min", descending=True).over("product_group").alias("_rank"),
            pl.len().over("product_group").alias("_n"),
        )
        .with_columns(
            (((pl.col("_rank") - 1) * bins) // pl.col("_n") + 1).cast(pl.Int32).alias("bin")
        )
    )
    return (
        ranked.group_by("product_group", "bin")
        .agg(
            pl.len().cast(pl.Int64).alias("leads"),
            pl.col("converted").sum().cast(pl.Int64).alias("conversions"),
            pl.col(predictor).min().alias("min_predictor"),
        )
        .sort("product_group", "bin")
        .with_columns(
            ratio(pl.col("conversions"), pl.col("leads")).alias("conversion_rate"),
            ratio(
                pl.col("conversions") * pl.col("leads").sum().over("product_group"),
                pl.col("leads") * pl.col("conversions").sum().over("product_group"),
            ).alias("lift"),
            ratio(
                pl.col("leads").cum_sum().over("product_group"),
                pl.col("leads").sum().over("product_group"),
            ).alias("cum_lead_share"),
            ratio(
                pl.col("conversions").cum_sum().over("product_group"),
                pl.col("conversions").sum().over("product_group"),
            ).alias("cum_conversion_share"),
        )
    )


def calibration_table(frame: pl.DataFrame, bins: int) -> pl.DataFrame:
    """Equal-width bins of propensity: mean predicted against the observed conversion rate."""
    return (
        frame.filter(pl.col("propensity").is_not_null())
        .with_columns(
            (pl.col("propensity").clip(0, 1) * bins)
            .floor()
            .clip(0, bins - 1)
            .cast(pl.Int32)
            .alias("bin")
        )
        .group_by("product_group", "bin")
        .agg(
            pl.len().cast(pl.Int64).alias("leads"),
            pl.col("propensity").mean().alias("predicted"),
            pl.col("converted").mean().alias("observed"),
        )
        .with_columns(((pl.col("bin") + 0.5) / bins).alias("bin_mid"))
        .select("product_group", "bin", "bin_mid", "leads", "predicted", "observed")
        .sort("product_group", "bin")
    )


def _counts(labels: pl.Series) -> dict[object, int]:
    counts = labels.value_counts(sort=False, name="n")
    return dict(zip(counts[labels.name].to_list(), counts["n"].to_list(), strict=True))


def psi(reference: pl.Series, current: pl.Series, bins: int) -> float | None:
    """Population stability index of a numeric or categorical column.

    Numeric: bins at the reference's quantiles (plus one for missing); categorical: the
    reference's `bins - 1` most frequent values, "other" and missing. Shares are floored at
    1e-4 so an empty bin stays finite.
    """
    if reference.len() == 0 or current.len() == 0:
        return None
    if reference.dtype.is_numeric():
        ref_f = reference.cast(pl.Float64).fill_nan(None)
        cur_f = current.cast(pl.Float64).fill_nan(None)
        clean = ref_f.drop_nulls().to_numpy()
        qs = np.quantile(clean, [i / bins for i in range(1, bins)]) if len(clean) else []
        edges = pl.Series("edges", sorted({float(q) for q in qs}), dtype=pl.Float64)

        def label(values: pl.Series) -> pl.Series:
            idx = edges.search_sorted(values, side="right").cast(pl.Int64)
            # bin -1 for missing (a literal, not a column of -1 built in Python)
            return (
                pl.select(pl.when(values.is_not_null()).then(idx).otherwise(pl.lit(-1, pl.Int64)))
                .to_series()
                .alias("bin")
            )

    else:
        ref_s, cur_s = reference.cast(pl.String), current.cast(pl.String)
        ranked = ref_s.drop_nulls().value_counts(sort=False, name="n")
        top = set(
            ranked.sort(["n", ref_s.name], descending=[True, False]).head(bins - 1)[ref_s.name]
        )
        top_values = sorted(top)

        def label(values: pl.Series) -> pl.Series:
            known = values.is_in(top_values).fill_null(False)
            return (
                pl.select(pl.when(known).then(values).otherwise(pl.lit("(other)", pl.String)))
                .to_series()
                .fill_null("(missing)")
                .alias("bin")
            )

        ref_f, cur_f = ref_s, cur_s
    ref_counts, cur_counts = _counts(label(ref_f)), _counts(label(cur_f))
    total = 0.0
    for key in set(ref_counts) | set(cur_counts):
        r = max(ref_counts.get(key, 0) / reference.len(), _FLOOR)
        c = max(cur_counts.get(key, 0) / current.len(), _FLOOR)
        total += (c - r) * math.log(c / r)
    return total


def trained_on(card: dict[str, Any] | None) -> date | None:
    if not card:
        return None
    try:
        return date.fromisoformat(str(card.get("trained_as_of")))
    except ValueError:
        return None


def card_auc(card: dict[str, Any] | None) -> float | None:
    """The held-out AUC in a model card, preferring the propensity model's."""
    found: list[tuple[int, float]] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "auc" and isinstance(value, int | float) and not isinstance(value, bool):
                    found.append((0 if "propensity" in path else 1, float(value)))
                else:
                    walk(value, f"{path}/{key}")

    walk(card or {}, "")
    return min(found)[1] if found else None


def card_summary(card: dict[str, Any] | None, kind: str = "propensity") -> dict[str, Any] | None:
    """The held-out score distribution `train` stored in the card (for PSI), if well-formed."""
    try:
        summary = (card or {})["distribution"]["scores"][kind]
    except (KeyError, TypeError):
        return None
    ok = isinstance(summary, dict) and summary.get("kind") == "numeric"
    return summary if ok and {"edges", "shares", "missing"} <= set(summary) else None


def heldout_calibration(inputs: ReportInputs, ctx: ReportContext) -> pl.DataFrame:
    """The propensity model's calibration on its held-out period, as `train` stored it."""
    rows = []
    for group in ctx.product_groups:
        card = inputs.cards.get(group) or {}
        try:
            table = card["models"]["propensity"]["metrics"]["calibration"]
        except (KeyError, TypeError):
            continue
        if not isinstance(table, list):
            continue
        for i, cell in enumerate(table):
            if isinstance(cell, dict) and {"predicted", "observed"} <= set(cell):
                rows.append(
                    {
                        "product_group": group,
                        "bin": i,
                        "predicted": cell["predicted"],
                        "observed": cell["observed"],
                        "leads": cell.get("rows"),
                    }
                )
    schema = {
        "product_group": pl.String,
        "bin": pl.Int32,
        "predicted": pl.Float64,
        "observed": pl.Float64,
        "leads": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema, strict=False).sort("product_group", "bin")


def score_drift(inputs: ReportInputs, ctx: ReportContext) -> pl.DataFrame:
    """PSI of the score columns per group since training.

    Propensity is compared with the held-out distribution in the model card (the measure
    `score` reports too); the other score columns with the first nightly rating snapshot after
    training, where one exists.
    """
    name = "scores.parquet" if "scores.parquet" in inputs.outputs else "ratings.parquet"
    current = inputs.output(name, ["lead_id", "product_group"])
    current_cols = [c for c in SCORE_COLUMNS if c in current.collect_schema().names()]
    groups = [g for g in ctx.product_groups if trained_on(inputs.cards.get(g)) is not None]
    # Read only the columns compared below: propensity against the card; the others only when
    # some group has a rating snapshot since training.
    with_refs = any(
        trained_on(inputs.cards.get(g)) <= d < ctx.as_of  # type: ignore[operator]
        for g in groups
        for d in inputs.rate_snapshots
    )
    read_cols = [c for c in current_cols if with_refs or c == "propensity"]
    all_current = as_float(
        current.filter(pl.col("product_group").is_in(groups)).select("product_group", *read_cols),
        *read_cols,
    ).collect()
    # one pass over the rows instead of a filter per group (PSI counts ignore the row order)
    by_group = all_current.partition_by("product_group", as_dict=True, maintain_order=False)
    empty = all_current.clear()
    rows = []
    for group in groups:
        card = inputs.cards.get(group)
        trained = trained_on(card)
        assert trained is not None
        cur_df = by_group.get((group,), empty)
        done = set()
        summary = card_summary(card)
        if summary is not None and "propensity" in current_cols:
            try:
                value: float | None = card_psi(summary, cur_df["propensity"])
            except (TypeError, ValueError):
                value = None
            rows.append(
                {
                    "product_group": group,
                    "column": "propensity",
                    "reference": f"held-out scores at training ({trained})",
                    "psi": value,
                    "reference_rows": None,
                    "current_rows": cur_df.height,
                }
            )
            done.add("propensity")
        refs = [d for d in inputs.rate_snapshots if trained <= d < ctx.as_of]
        if not refs:
            continue
        ref_day = min(refs)
        ref = inputs.rate_snapshots[ref_day]
        ref_names = ref.collect_schema().names()
        cols = [c for c in current_cols if c in ref_names and c not in done]
        ref_df = as_float(
            ref.filter(pl.col("product_group") == group).select(cols), *cols
        ).collect()
        for col in cols:
            rows.append(
                {
                    "product_group": group,
                    "column": col,
                    "reference": f"ratings of {ref_day}",
                    "psi": psi(ref_df[col], cur_df[col], ctx.report.bins),
                    "reference_rows": ref_df.height,
                    "current_rows": cur_df.height,
                }
            )
    return _drift_frame(rows)


def feature_drift(inputs: ReportInputs, ctx: ReportContext) -> pl.DataFrame:
    """PSI of key lead fields: leads created by training time vs leads created this period."""
    table = inputs.table("leads", ["lead_id", "created_at"])
    features = [f for f in ctx.report.drift_features if f in table.collect_schema().names()]
    if not features:
        return _drift_frame([])
    leads = as_utc(table.select("created_at", *features), "created_at").collect()
    start, end = ctx.period(0)
    current = leads.filter((pl.col("created_at") >= start) & (pl.col("created_at") < end))
    rows = []
    cache: dict[object, list[tuple[str, float | None, int]]] = {}
    for group in ctx.product_groups:
        trained = trained_on(inputs.cards.get(group))
        ref_end = min(day_end(trained), start) if trained is not None else start
        label = f"leads created by {trained}" if trained else f"leads created before {start.date()}"
        if ref_end not in cache:
            reference = leads.filter(pl.col("created_at") < ref_end)
            cache[ref_end] = [
                (f, psi(reference[f], current[f], ctx.report.bins), reference.height)
                for f in features
            ]
        for feature, value, ref_rows in cache[ref_end]:
            rows.append(
                {
                    "product_group": group,
                    "column": feature,
                    "reference": label,
                    "psi": value,
                    "reference_rows": ref_rows,
                    "current_rows": current.height,
                }
            )
    return _drift_frame(rows)


def _drift_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = {
        "product_group": pl.String,
        "column": pl.String,
        "reference": pl.String,
        "psi": pl.Float64,
        "reference_rows": pl.Int64,
        "current_rows": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema).sort("product_group", "column")


def _labelled_metrics(lab: Labelled, ctx: ReportContext, section: Section) -> pl.DataFrame | None:
    frame = lab.frame
    predictor = (
        "propensity"
        if "propensity" in frame.columns
        else "score"
        if "score" in frame.columns
        else None
    )
    if predictor is None:
        section.unavailable.append(
            f"not available: rating snapshot state/rate/{lab.snapshot}.parquet has no propensity "
            "or "
            "score column — re-run `leadctl rate`"
        )
        return None
    auc = auc_table(frame, predictor).with_columns(pl.lit(predictor).alias("predictor"))
    gains = gains_table(frame, predictor, ctx.report.bins)
    section.tables["gains"] = gains
    if predictor == "propensity":
        section.tables["calibration"] = calibration_table(frame, ctx.report.bins)
    top = gains.filter(pl.col("bin") == 1).select(
        "product_group", pl.col("lift").alias("top_bin_lift")
    )
    return auc.join(top, on="product_group", how="left")


def model_section(inputs: ReportInputs, ctx: ReportContext, lab: Labelled | Unavailable) -> Section:
    cfg = ctx.report
    section = Section(
        key="model_quality",
        title="Model quality and drift",
        intro=(
            f"Quality on the latest labelled period (AUC, gains by {cfg.bins} bins, calibration), "
            "drift as population stability index (warning above report.psi_warning = "
            f"{cfg.psi_warning}), "
            f"and a retraining recommendation when a model is older than report.stale_model_days = "
            f"{cfg.stale_model_days} days or drifting."
        ),
    )
    summary = pl.DataFrame(
        {"product_group": ctx.product_groups}, schema={"product_group": pl.String}
    )
    cards = pl.DataFrame(
        [
            {
                "product_group": g,
                "trained_as_of": trained_on(inputs.cards.get(g)),
                "card_auc": card_auc(inputs.cards.get(g)),
            }
            for g in ctx.product_groups
        ],
        schema={"product_group": pl.String, "trained_as_of": pl.Date, "card_auc": pl.Float64},
    )
    summary = summary.join(cards, on="product_group", how="left").with_columns(
        (pl.lit(ctx.as_of) - pl.col("trained_as_of"))
        .dt.total_days()
        .cast(pl.Int64)
        .alias("model_age_days")
    )
    heldout = heldout_calibration(inputs, ctx)
    if heldout.height:
        section.tables["heldout_calibration"] = heldout
    missing_cards = [g for g in ctx.product_groups if g not in inputs.cards]
    if missing_cards:
        section.unavailable.append(
            f"not available: models/<group>/card.json missing for {', '.join(missing_cards)} — "
            "run `leadctl train`"
        )
    if isinstance(lab, Unavailable):
        section.unavailable.append(str(lab))
    else:
        section.intro += (
            f" Labelled period: ratings of {lab.snapshot}, {lab.window_days} days of outcomes."
        )
        metrics = _labelled_metrics(lab, ctx, section)
        if metrics is not None:
            summary = summary.join(metrics, on="product_group", how="left")
    drift_frames = []
    for name, builder in (("score", score_drift), ("feature", feature_drift)):
        try:
            drift = builder(inputs, ctx).with_columns(pl.lit(name).alias("kind"))
        except Unavailable as exc:
            section.unavailable.append(str(exc))
            continue
        drift_frames.append(drift)
    if drift_frames:
        drift = pl.concat(drift_frames).with_columns(
            (pl.col("psi") > cfg.psi_warning).fill_null(False).alias("drifting")
        )
        drift = drift.select(
            "product_group",
            "kind",
            "column",
            "reference",
            "psi",
            "drifting",
            "reference_rows",
            "current_rows",
        )
        section.tables["drift"] = drift.sort("product_group", "kind", "column")
        worst = drift.group_by("product_group").agg(
            pl.col("psi").max().alias("max_psi"),
            pl.col("column")
            .filter(pl.col("drifting"))
            .sort()
            .str.join(", ")
            .alias("drifting_columns"),
        )
        summary = summary.join(worst, on="product_group", how="left")
        if not drift.filter(pl.col("kind") == "score").height:
            section.notes.append(
                "score drift needs a model card with trained_as_of and a rating snapshot from a "
                "night "
                "after training (before tonight)"
            )
    summary = _recommend(summary, ctx, section)
    section.tables["model_quality"] = summary.sort("product_group")
    for group in ctx.product_groups:
        where = (("product_group", group),)
        if "gains" in section.tables:
            section.charts.append(
                Chart(
                    "line",
                    f"{group}: gains (cumulative share of conversions)",
                    "gains",
                    "cum_lead_share",
                    ("cum_conversion_share",),
                    where,
                    percent=True,
                )
            )
            section.charts.append(
                Chart(
                    "bar",
                    f"{group}: lift by bin (1 = highest propensity)",
                    "gains",
                    "bin",
                    ("lift",),
                    where,
                )
            )
        if "heldout_calibration" in section.tables:
            section.charts.append(
                Chart(
                    "calibration",
                    f"{group}: calibration on the training hold-out (model card)",
                    "heldout_calibration",
                    "predicted",
                    ("observed",),
                    where,
                    percent=True,
                )
            )
        if "calibration" in section.tables:
            section.charts.append(
                Chart(
                    "calibration",
                    f"{group}: calibration (predicted vs observed)",
                    "calibration",
                    "predicted",
                    ("observed",),
                    where,
                    percent=True,
                )
            )
        if "drift" in section.tables:
            section.charts.append(
                Chart("bar", f"{group}: PSI by column", "drift", "column", ("psi",), where)
            )
    return section


def _recommend(summary: pl.DataFrame, ctx: ReportContext, section: Section) -> pl.DataFrame:
    cfg = ctx.report
    for column, dtype in (
        ("max_psi", pl.Float64),
        ("drifting_columns", pl.String),
        ("auc", pl.Float64),
    ):
        if column not in summary.columns:
            summary = summary.with_columns(pl.lit(None, dtype=dtype).alias(column))
    stale = pl.col("model_age_days") > cfg.stale_model_days
    # drift only matters for a model that exists (a group without one is told to train)
    drifting = (pl.col("max_psi") > cfg.psi_warning) & pl.col("trained_as_of").is_not_null()
    summary = summary.with_columns(
        stale.fill_null(False).alias("stale"),
        drifting.fill_null(False).alias("drifting"),
    ).with_columns(
        pl.when(pl.col("trained_as_of").is_null())
        .then(pl.lit("train a model: none found"))
        .when(pl.col("stale") & pl.col("drifting"))
        .then(pl.lit("retrain: model is stale and drifting"))
        .when(pl.col("stale"))
        .then(pl.lit("retrain: model is stale"))
        .when(pl.col("drifting"))
        .then(pl.lit("retrain: drift above threshold"))
        .otherwise(pl.lit("keep"))
        .alias("recommendation")
    )
    for row in summary.iter_rows(named=True):
        group = row["product_group"]
        if row["drifting"]:
            section.warnings.append(
                f"drift: {group} PSI {row['max_psi']:.2f} above report.psi_warning "
                f"{cfg.psi_warning} "
                f"({row['drifting_columns']}); retraining recommended"
            )
        if row["stale"]:
            section.warnings.append(
                f"stale model: {group} trained {row['trained_as_of']} ({row['model_age_days']} "
                "days ago, "
                f"report.stale_model_days = {cfg.stale_model_days}); retraining recommended"
            )
    section.numbers["auc"] = {r["product_group"]: r["auc"] for r in summary.iter_rows(named=True)}
    section.numbers["recommendation"] = {
        r["product_group"]: r["recommendation"] for r in summary.iter_rows(named=True)
    }
    return summary
