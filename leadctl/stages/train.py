"""Train fit, engagement and propensity models per product group on point-in-time snapshots.

`prepare` builds the (lazy) training examples and features; `train_group` is the one place that
materialises them: guards, split, three LightGBM models, calibration on the held-out period,
metrics, and the model card. No file I/O: the command writes what this returns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

import numpy as np
import polars as pl

from leadctl.config.scoring import PointsModelConfig, TrainConfig
from leadctl.errors import ConfigError
from leadctl.features import engagement as E
from leadctl.features.build import FeatureFrames, build_features, check_custom
from leadctl.features.fit import account_keys
from leadctl.features.snapshots import Tables, cutoff, snapshot_dates, training_examples
from leadctl.features.spec import Feature, encode, feature_defs, learn_categories, settings
from leadctl.models import card as C
from leadctl.models import points as P
from leadctl.models.calibration import apply_calibrator, fit_calibrator
from leadctl.models.guards import label_shortfall, leakage, split_shortfall
from leadctl.models.lgbm import BinaryModel, predict_raw
from leadctl.models.metrics import auc, evaluate
from leadctl.models.split import make_split

log = logging.getLogger("leadctl.train")
KINDS = ("fit", "engagement", "propensity")


@dataclass
class TrainingData:
    """Everything lazily prepared for training, shared by the product groups."""

    examples: pl.LazyFrame
    frames: FeatureFrames
    events: pl.LazyFrame
    dates: list[date]
    types: list[str]
    defs: list[Feature]


@dataclass
class GroupResult:
    """What training one product group produced (texts and JSON-able dicts only)."""

    group: str
    status: str  # trained | refused
    models: dict[str, str] = field(default_factory=dict)
    calibration: dict[str, Any] = field(default_factory=dict)
    card: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


def label_definition(cfg: TrainConfig, group: str) -> str:
    """The label in words, for the card and the summary."""
    lab = cfg.label
    if lab.source == "outcome_column":
        return f"leads column '{lab.outcome_column}' is true (one flat export, no dates)"
    if lab.source == "lead_conversion":
        return f"the lead was converted (IsConverted/ConvertedDate) within {lab.horizon_days} days"
    what = "created" if lab.event == "created" else "won"
    who = "the lead or its account" if lab.account_mode else "the lead"
    return f"an opportunity for {group} {what} within {lab.horizon_days} days for {who}"


def sample_leads(leads: pl.LazyFrame, snaps: list[datetime], cfg: TrainConfig) -> pl.LazyFrame:
    """Every k-th lead (by lead_id) when the examples could exceed max_training_rows per group.

    The bound is the number of leads known at each snapshot, summed over snapshots; sampling
    whole leads before labels and features are built bounds training memory and keeps the base
    rate (so calibration stays right). Deterministic.
    """
    limit = cfg.max_training_rows
    if limit is None:
        return leads
    bound = leads.select(sum((pl.col("created_at") < s).sum() for s in snaps)).collect().item()
    if (bound or 0) <= limit:
        return leads
    step = -(-int(bound) // limit)
    kept = (
        leads.select("lead_id")
        .sort("lead_id")
        .with_row_index("_i")
        .filter(pl.col("_i") % step == 0)
        .select("lead_id")
    )
    log.info("training leads sampled: every %d-th lead (up to %d rows a group)", step, bound)
    return leads.join(kept, on="lead_id", how="semi")


def prepare(
    tables: Tables,
    groups: list[str],
    as_of: date,
    cfg: TrainConfig,
    *,
    recycled_stage: str = "Recycled",
    disqualified_stage: str = "Disqualified",
) -> TrainingData:
    """Snapshots, labels, activity vocabulary and lazy features for every group."""
    schema = tables.leads.collect_schema()
    check_custom(schema, cfg.features)
    if cfg.label.source == "outcome_column" and cfg.label.outcome_column in {
        c.column for c in cfg.features.custom
    }:
        raise ConfigError(
            f"train.label.outcome_column '{cfg.label.outcome_column}' is also declared as a "
            "feature under train.features.custom; the outcome cannot be a feature"
        )
    dates = snapshot_dates(as_of, cfg.label, cfg.snapshots)
    snaps = [cutoff(d) for d in dates]
    acct = account_keys(tables.leads, tables.accounts)
    sampled = replace(tables, leads=sample_leads(tables.leads, snaps, cfg))
    # Small once sampled, and read once per group: collected here.
    examples = training_examples(sampled, groups, dates, cfg.label, acct).collect().lazy()
    types = E.activity_vocabulary(tables.activities, cfg.features, max(snaps))
    keys = examples.select("lead_id", "product_group", "snapshot_at")
    frames = build_features(
        tables,
        keys,
        snaps,
        types,
        cfg.features,
        recycled_stage=recycled_stage,
        disqualified_stage=disqualified_stage,
    )
    lookback = cfg.features.lookback_days
    events = E.point_in_time_events(
        tables.activities, keys.select(E.KEYS).unique(), snaps, lookback
    )
    return TrainingData(examples, frames, events, dates, types, feature_defs(cfg.features, types))


def group_frame(data: TrainingData, group: str, points: PointsModelConfig | None) -> pl.LazyFrame:
    """Examples of one group with every feature, the label and (if configured) the points score."""
    ex = data.examples.filter(pl.col("product_group") == group)
    frame = ex.join(data.frames.for_group(group).drop("product_group"), on=E.KEYS, how="left")
    if points is not None:
        counts = P.behaviour_counts(data.events, ex.select(P.GROUP_KEYS), points)
        frame = frame.join(counts, on=P.GROUP_KEYS, how="left")
    return frame.sort(["snapshot_at", "lead_id"])


def _points_score(
    frame: pl.DataFrame, points: PointsModelConfig | None, defs: list[Feature], group: str
) -> np.ndarray | None:
    if points is None:
        return None
    P.check_attributes(points, {f.name: f.kind for f in defs}, group)
    return P.apply_points(frame, points)["score"].to_numpy()


def _fit_kind(
    kind: str,
    feats: list[Feature],
    frame: pl.DataFrame,
    y: np.ndarray,
    split: Any,
    cfg: TrainConfig,
) -> tuple[BinaryModel, dict[str, Any], dict[str, Any], np.ndarray]:
    """Train one model, calibrate it on the validation half, measure it on the test half."""
    X = encode(frame, feats)
    model = BinaryModel(feats, cfg.lightgbm).fit(
        X[split.train], y[split.train], X[split.valid], y[split.valid]
    )
    booster = model.booster_
    threads = cfg.lightgbm.num_threads
    raw_valid = predict_raw(booster, X[split.valid], threads)
    raw_test = predict_raw(booster, X[split.test], threads)
    calibrator = fit_calibrator(raw_valid, y[split.valid], cfg.calibration.method)
    p_valid = apply_calibrator(calibrator, raw_valid)
    p_test = apply_calibrator(calibrator, raw_test)
    metrics = evaluate(y[split.test], p_test, cfg.calibration.bins)
    metrics["best_iteration"] = model.best_iteration_
    metrics["features"] = len(feats)
    held = np.concatenate([p_valid, p_test])
    cal = {"calibrator": calibrator, "reference": C.reference_quantiles(held)}
    log.info(
        "group model %s: auc %.3f over %d held-out rows", kind, metrics["auc"], metrics["rows"]
    )
    return model, metrics, cal, held


def train_group(
    frame: pl.DataFrame,
    data: TrainingData,
    group: str,
    cfg: TrainConfig,
    *,
    as_of: date,
    points: PointsModelConfig | None = None,
) -> GroupResult:
    """Guards, split, three models, calibration and the card for one product group."""
    definition = label_definition(cfg, group)
    counts = {
        "rows": frame.height,
        "positives": int(frame["label"].sum()),
        "labelled_leads": frame["lead_id"].n_unique(),
        "positive_leads": frame.filter(pl.col("label"))["lead_id"].n_unique(),
    }
    base_card = {
        "product_group": group,
        "label": {"definition": definition, **cfg.label.model_dump(mode="json")},
        "snapshot_dates": [d.isoformat() for d in data.dates],
        "counts": counts,
        "trained_as_of": as_of.isoformat(),
    }
    shortfall = label_shortfall(frame, cfg.guards)
    if not shortfall:
        y = frame["label"].to_numpy().astype(bool)
        split = make_split(
            frame,
            holdout_snapshots=cfg.snapshots.holdout,
            stratified_share=cfg.stratified_holdout_share,
        )
        shortfall = split_shortfall(y, split.train, split.valid, split.test)
    if shortfall:
        message = (
            f"{group}: {shortfall}; not trained, the points model from the config will be used"
        )
        summary = {
            "status": "refused",
            "model_kind": "points",
            "reason": shortfall,
            **counts,
            "warnings": [message],
        }
        return GroupResult(
            group,
            "refused",
            card={**base_card, "status": "refused", "reason": shortfall},
            summary=summary,
        )
    warnings: list[str] = []
    if split.kind == "stratified":
        warnings.append(f"{group}: {split.note}")
    flagged = leakage(frame.filter(pl.Series(split.train)), y[split.train], data.defs, cfg.guards)
    excluded = {e.feature for e in flagged if not e.kept}
    for e in flagged:
        verb = "kept (guards.allow_features)" if e.kept else "excluded"
        warnings.append(f"{group}: feature {e.feature} {verb}: {e.reason}")
    usable = [f for f in data.defs if f.name not in excluded]
    usable = learn_categories(frame.filter(pl.Series(split.train)), usable, cfg.features)
    by_kind = {
        "fit": [f for f in usable if f.group == "fit"],
        "engagement": [f for f in usable if f.group == "engagement"],
        "propensity": usable,
    }
    models: dict[str, str] = {}
    metrics: dict[str, Any] = {}
    calibration: dict[str, Any] = {}
    distribution_scores: dict[str, Any] = {}
    importance: dict[str, float] = {}
    for kind in KINDS:
        if not by_kind[kind]:
            raise ConfigError(
                f"{group}: no {kind} features left to train on (see train.features.exclude)"
            )
        model, m, cal, held = _fit_kind(kind, by_kind[kind], frame, y, split, cfg)
        models[kind] = model.model_text()
        metrics[kind] = m
        calibration[kind] = cal
        distribution_scores[kind] = C.numeric_summary(held)
        if kind == "propensity":
            importance = model.importance()
    points_score = _points_score(frame, points, data.defs, group)
    baseline = None
    if points_score is not None and points is not None:
        baseline = {
            "auc": auc(y[split.test], points_score[split.test]),
            "version": P.version(points),
        }
    total_gain = sum(importance.values()) or 1.0
    top = sorted(importance.items(), key=lambda kv: (-kv[1], kv[0]))[: cfg.top_features]
    version = C.model_version(as_of.isoformat(), [models[k] for k in KINDS])
    if metrics["propensity"]["positives"] < 50:
        warnings.append(
            f"{group}: only {metrics['propensity']['positives']} positives in the test half of the "
            "held-out period; metrics are noisy"
        )
    card = {
        **base_card,
        "status": "trained",
        "model_version": version,
        "split": {
            "kind": split.kind,
            "note": split.note,
            "train_rows": int(split.train.sum()),
            "valid_rows": int(split.valid.sum()),
            "test_rows": int(split.test.sum()),
        },
        "activity_types": data.types,
        "feature_settings": settings(cfg.features),
        "candidates": [{"name": f.name, "kind": f.kind, "group": f.group} for f in data.defs],
        "features": [f.to_json() for f in usable],
        "models": {
            k: {"file": f"{k}.txt", "features": [f.name for f in by_kind[k]], "metrics": metrics[k]}
            for k in KINDS
        },
        "excluded": [e.to_json() for e in flagged],
        "baseline_points": baseline,
        "top_features": [{"feature": n, "gain_share": g / total_gain} for n, g in top],
        "distribution": {
            "features": C.distribution(frame.filter(pl.Series(split.train)), usable),
            "scores": distribution_scores,
        },
        "calibration_method": cfg.calibration.method,
        "versions": C.library_versions(),
        "warnings": warnings,
    }
    summary = {
        "status": "trained",
        "model_kind": "lightgbm",
        "model_version": version,
        **counts,
        "split": split.kind,
        "metrics": {
            k: {
                key: metrics[k][key]
                for key in (
                    "auc",
                    "pr_auc",
                    "log_loss",
                    "brier",
                    "top_decile_lift",
                    "top_decile_capture",
                )
            }
            for k in KINDS
        },
        "points_auc": baseline["auc"] if baseline else None,
        "excluded": [e.feature for e in flagged if not e.kept],
        "top_features": [n for n, _ in top],
        "warnings": warnings,
    }
    return GroupResult(group, "trained", models, calibration, card, summary)
