"""Score every lead as of a date, per product group, with its trained model or the points model.

Features are built lazily for all leads at one snapshot (the end of as_of), collected once, and
predicted in batches. Reason codes (TreeSHAP) only for the leads that matter: score at or above
`score.reasons.min_score`, at most `max_leads` per group. A model whose feature spec does not
match the current config and data is refused with the differences named. More leads than
`score.partition_leads` are scored range by range with these pieces (stages/score_partition.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from leadctl.config.scoring import FeaturesConfig, PointsModelConfig, ScoreConfig
from leadctl.errors import ConfigError, InputError, ModelError
from leadctl.features import engagement as E
from leadctl.features.build import build_features, missing_custom_columns
from leadctl.features.snapshots import UTC_DT, Tables, cutoff
from leadctl.features.spec import Feature, encode, feature_defs, settings, spec_differences
from leadctl.models import card as C
from leadctl.models import points as P
from leadctl.models.calibration import calibrate
from leadctl.models.lgbm import contributions, predict_raw
from leadctl.models.reasons import merge_title, phrase, reason_lists
from leadctl.models.store import KINDS, LoadedModel

log = logging.getLogger("leadctl.score")

SCORE_COLUMNS = [
    "lead_id",
    "product_group",
    "fit_score",
    "engagement_score",
    "propensity",
    "score",
    "model_kind",
    "model_version",
    "reasons_for",
    "reasons_against",
]
SCORE_SCHEMA: dict[str, pl.DataType] = {
    "lead_id": pl.String(),
    "product_group": pl.String(),
    "fit_score": pl.Float64(),
    "engagement_score": pl.Float64(),
    "propensity": pl.Float64(),
    "score": pl.Float64(),
    "model_kind": pl.String(),
    "model_version": pl.String(),
    "reasons_for": pl.List(pl.String()),
    "reasons_against": pl.List(pl.String()),
}


@dataclass
class Scored:
    """The scores of every group plus a JSON-able summary per group."""

    scores: pl.DataFrame
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Scorable:
    """Collected features for all leads at one snapshot, ready to be split per group."""

    base: pl.DataFrame
    per_group: pl.DataFrame
    events: pl.LazyFrame
    keys: pl.LazyFrame
    defs: list[Feature]
    points_cache: dict[str, pl.DataFrame] = field(default_factory=dict)


def check_model(model: LoadedModel, features: FeaturesConfig, leads_schema: pl.Schema) -> None:
    """Raise ModelError when the model's features differ from what config and data provide now."""
    problems = []
    missing = missing_custom_columns(leads_schema, features)
    if missing:
        problems.append(f"the leads table has no column(s) {missing} (train.features.custom)")
    trained_names = {f["name"] for f in model.card.get("candidates", [])}
    gone = [
        f.params.get("column")
        for fs in model.features.values()
        for f in fs
        if f.source == "custom" and f.params.get("column") not in leads_schema
    ]
    if gone:
        problems.append(
            f"the model uses custom column(s) {sorted({str(g) for g in gone})} the leads table "
            "does not have"
        )
    current = feature_defs(features, model.types)
    problems += spec_differences(
        model.card.get("candidates", []),
        model.card.get("feature_settings", {}),
        current,
        settings(features),
    )
    if problems or not trained_names:
        detail = "; ".join(dict.fromkeys(problems)) or "its card lists no features"
        raise ModelError(
            f"model for product group {model.group} ({model.path}) does not match the data: "
            f"{detail}. Retrain with `leadctl train`, or restore the config it was trained with."
        )


def prepare(
    tables: Tables,
    groups: list[str],
    as_of: date,
    features: FeaturesConfig,
    models: dict[str, LoadedModel],
    *,
    recycled_stage: str = "Recycled",
    disqualified_stage: str = "Disqualified",
    key_leads: pl.LazyFrame | None = None,
    event_activities: pl.LazyFrame | None = None,
) -> Scorable:
    """Check every model against the data, then build and collect the features of all leads.

    `key_leads` (lead_id) scores only those leads of `tables.leads` (a partition; the other
    leads there are colleagues for the buying-group count), `event_activities` then the
    activities the points model counts (default: tables.activities)."""
    schema = tables.leads.collect_schema()
    for model in models.values():
        check_model(model, features, schema)
    types = sorted({t for m in models.values() for t in m.types})
    snap = cutoff(as_of)
    keys = (
        (tables.leads if key_leads is None else key_leads)
        .select("lead_id")
        .join(pl.DataFrame({"product_group": groups}).lazy(), how="cross")
        .with_columns(snapshot_at=pl.lit(snap, dtype=UTC_DT))
    )
    frames = build_features(
        tables,
        keys,
        [snap],
        types,
        features,
        recycled_stage=recycled_stage,
        disqualified_stage=disqualified_stage,
    )
    # Integer-keyed frames come sorted already (on the numbers, cheaper than the id strings).
    base_plan, group_plan = frames.base, frames.per_group
    if not frames.ordered:
        base_plan = base_plan.sort("lead_id")
        group_plan = group_plan.sort(["product_group", "lead_id"])
    base = base_plan.collect(engine="streaming")
    per_group = group_plan.collect(engine="streaming")
    events = E.point_in_time_events(
        tables.activities if event_activities is None else event_activities,
        keys.select(E.KEYS).unique(),
        [snap],
        features.lookback_days,
    )
    return Scorable(base, per_group, events, keys, feature_defs(features, types))


def _group_frame(data: Scorable, group: str) -> pl.DataFrame:
    """Base features plus this group's columns, row-aligned by lead_id (no wide join copy)."""
    pg = data.per_group.filter(pl.col("product_group") == group)
    if pg.height != data.base.height or not pg["lead_id"].equals(data.base["lead_id"]):
        raise ModelError(
            f"internal: group features for {group} are not aligned with the lead features"
        )
    return data.base.hstack(pg.drop("lead_id", "snapshot_at", "product_group").get_columns())


def _scale(
    p: np.ndarray,
    reference: list[float],
    cfg: ScoreConfig,
    *,
    position: np.ndarray | None = None,
) -> np.ndarray:
    """0-100 score. Percentile scale: leads on one calibration plateau are spread over the
    plateau's percentile span by their raw output (`position`), so share-based rating cutoffs
    (A = top 10 %) land where they are set instead of overshooting on ties."""
    if cfg.scale == "percentile":
        return C.to_percentile(p, reference, position=position)
    return 100.0 * p


def _select_for_reasons(
    score: np.ndarray, lead_ids: pl.Series, cfg: ScoreConfig, *, points: bool = False
) -> np.ndarray:
    """Row indices that get reason codes: score >= min_score (min_points_score for a points
    model, whose scale is absolute points), highest first, capped at max_leads."""
    floor = cfg.reasons.min_points_score if points else cfg.reasons.min_score
    eligible = np.flatnonzero(score >= floor)
    if len(eligible) > cfg.reasons.max_leads:
        ids = lead_ids.gather(eligible).to_numpy()
        order = np.lexsort((ids, -score[eligible]))
        eligible = np.sort(eligible[order[: cfg.reasons.max_leads]])
    return eligible


def _attach_reasons(
    frame: pl.DataFrame,
    rows: np.ndarray,
    contrib: np.ndarray,
    phrases: list[pl.Expr],
    cfg: ScoreConfig,
) -> tuple[pl.Series, pl.Series]:
    """reasons_for / reasons_against for every row of `frame` (empty lists where not computed)."""
    fill = pl.lit([], dtype=pl.List(pl.String))
    base = pl.DataFrame({"_row": np.arange(frame.height, dtype=np.uint32)})
    if len(rows) == 0:
        empty = base.with_columns(reasons_for=fill, reasons_against=fill)
        return empty["reasons_for"], empty["reasons_against"]
    picked = frame[rows]
    lists = reason_lists(
        picked,
        contrib,
        phrases,
        top_n=cfg.reasons.top_n,
        min_contribution=cfg.reasons.min_contribution,
    )
    full = base.join(
        lists.with_columns(pl.Series("_row", rows.astype(np.uint32))), on="_row", how="left"
    ).sort("_row")
    full = full.with_columns(
        pl.col("reasons_for").fill_null(fill), pl.col("reasons_against").fill_null(fill)
    )
    return full["reasons_for"], full["reasons_against"]


def predict_ml(
    frame: pl.DataFrame, model: LoadedModel, cfg: ScoreConfig
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Calibrated probabilities and scaled scores (unrounded) per model kind, in batches."""
    n = frame.height
    raws = {k: np.zeros(n, dtype=np.float64) for k in KINDS}
    # Fit and engagement features are subsets of the propensity features (same categories):
    # encode each batch once and hand every model its columns.
    everything = model.features["propensity"]
    position = {f.name: i for i, f in enumerate(everything)}
    columns = {k: [position[f.name] for f in model.features[k]] for k in KINDS}
    for start in range(0, n, cfg.batch_size):
        X = encode(frame.slice(start, cfg.batch_size), everything)
        for kind in KINDS:
            cols = columns[kind]
            part = X if cols == list(range(X.shape[1])) else np.ascontiguousarray(X[:, cols])
            raws[kind][start : start + X.shape[0]] = predict_raw(
                model.boosters[kind], part, cfg.num_threads
            )
    probs: dict[str, np.ndarray] = {}
    scaled: dict[str, np.ndarray] = {}
    for k in KINDS:
        probs[k], plateau = calibrate(model.calibration[k]["calibrator"], raws[k])
        scaled[k] = _scale(probs[k], model.calibration[k]["reference"], cfg, position=plateau)
    return probs, scaled


def ml_reason_inputs(
    picked: pl.DataFrame,
    model: LoadedModel,
    cfg: ScoreConfig,
    features: FeaturesConfig,
    activity_phrases: dict[str, str],
) -> tuple[np.ndarray, list[pl.Expr]]:
    """TreeSHAP contributions of the rows of `picked` and the wording of each column."""
    feats = model.features["propensity"]
    contrib = contributions(model.boosters["propensity"], encode(picked, feats), cfg.num_threads)
    contrib, feats = merge_title(contrib, feats)
    phrases = [
        phrase(
            f,
            group=model.group,
            activity_phrases=activity_phrases,
            lookback_days=features.lookback_days,
        )
        for f in feats
    ]
    return contrib, phrases


def ml_frame(
    frame: pl.DataFrame,
    model: LoadedModel,
    probs: dict[str, np.ndarray],
    scaled: dict[str, np.ndarray],
    rf: pl.Series,
    ra: pl.Series,
) -> pl.DataFrame:
    """The score rows of a trained model (rounded as written)."""
    out = pl.DataFrame(
        {
            "lead_id": frame["lead_id"],
            "fit_score": np.round(scaled["fit"], 2),
            "engagement_score": np.round(scaled["engagement"], 2),
            "propensity": np.round(probs["propensity"], 6),
            "score": np.round(scaled["propensity"], 2),
            "reasons_for": rf,
            "reasons_against": ra,
        }
    )
    return out.with_columns(model_kind=pl.lit("lightgbm"), model_version=pl.lit(model.version))


def ml_summary(model: LoadedModel, propensity: np.ndarray, reasons_rows: int) -> dict[str, Any]:
    dist = model.card.get("distribution", {}).get("scores", {}).get("propensity")
    return {
        "model_kind": "lightgbm",
        "model_version": model.version,
        "reasons_for_rows": int(reasons_rows),
        "propensity_psi": C.psi(dist, propensity) if dist else None,
    }


def score_ml(
    frame: pl.DataFrame,
    model: LoadedModel,
    cfg: ScoreConfig,
    features: FeaturesConfig,
    activity_phrases: dict[str, str],
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Calibrated fit / engagement / propensity for every row, in batches; reasons for the top."""
    probs, scaled = predict_ml(frame, model, cfg)
    rows = _select_for_reasons(scaled["propensity"], frame["lead_id"], cfg)
    contrib, phrases = ml_reason_inputs(frame[rows], model, cfg, features, activity_phrases)
    rf, ra = _attach_reasons(frame, rows, contrib, phrases, cfg)
    out = ml_frame(frame, model, probs, scaled, rf, ra)
    return out, ml_summary(model, probs["propensity"], len(rows))


def points_counts(
    data: Scorable, model: PointsModelConfig, keys: pl.LazyFrame | None = None
) -> pl.DataFrame:
    """Behaviour counts of a points model for every (lead, group) key: one pass over the
    activities per distinct model, shared by the groups that use it (cached on `data`)."""
    if keys is not None:
        return P.behaviour_counts(data.events, keys, model).collect()
    version = P.version(model)
    if version not in data.points_cache:
        counts = P.behaviour_counts(data.events, data.keys, model)
        data.points_cache[version] = counts.collect(engine="streaming")
    return data.points_cache[version]


def points_frame(
    frame: pl.DataFrame,
    data: Scorable,
    group: str,
    model: PointsModelConfig,
    keys: pl.LazyFrame | None = None,
) -> pl.DataFrame:
    """`frame` plus behaviour counts (beh_i_n), attribute points (dem_i, beh_i) and the scores."""
    P.check_attributes(model, {f.name: f.kind for f in data.defs}, group)
    counts = (
        points_counts(data, model, keys)
        .filter(pl.col("product_group") == group)
        .select("lead_id", pl.exclude(P.GROUP_KEYS))
    )
    joined = frame.join(counts, on="lead_id", how="left", maintain_order="left")
    return P.apply_points(joined, model)


def points_phrases(
    data: Scorable,
    group: str,
    model: PointsModelConfig,
    features: FeaturesConfig,
    activity_phrases: dict[str, str],
) -> list[pl.Expr]:
    """Reason wording per attribute, in attribute_ids order."""
    defs = {f.name: f for f in data.defs}
    out = [
        phrase(
            defs[a.feature],
            group=group,
            activity_phrases=activity_phrases,
            lookback_days=features.lookback_days,
        )
        for a in model.demographic
    ]
    return out + [P.behaviour_phrase(i, a) for i, a in enumerate(model.behavioural)]


def points_reasons_cfg(cfg: ScoreConfig) -> ScoreConfig:
    """Points are on a 0-100 scale, so a contribution below half a point is not a reason."""
    return cfg.model_copy(
        update={
            "reasons": cfg.reasons.model_copy(
                update={"min_contribution": max(cfg.reasons.min_contribution, 0.5)}
            )
        }
    )


def points_out(scored: pl.DataFrame, version: str, rf: pl.Series, ra: pl.Series) -> pl.DataFrame:
    """The score rows of a points model (rounded as written)."""
    return scored.select(
        "lead_id",
        pl.col("fit_score").round(2),
        pl.col("engagement_score").round(2),
        pl.col("propensity").round(6),
        pl.col("score").round(2),
    ).with_columns(
        reasons_for=rf,
        reasons_against=ra,
        model_kind=pl.lit("points"),
        model_version=pl.lit(version),
    )


def points_summary(version: str, reasons_rows: int) -> dict[str, Any]:
    return {
        "model_kind": "points",
        "model_version": version,
        "reasons_for_rows": int(reasons_rows),
        "propensity_psi": None,
    }


def score_points(
    frame: pl.DataFrame,
    data: Scorable,
    group: str,
    model: PointsModelConfig,
    cfg: ScoreConfig,
    features: FeaturesConfig,
    activity_phrases: dict[str, str],
    keys: pl.LazyFrame | None = None,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The rule-based points model for every row; reasons from attribute points."""
    scored = points_frame(frame, data, group, model, keys)
    contrib = scored.select(P.attribute_ids(model)).to_numpy().astype(np.float64)
    rows = _select_for_reasons(scored["score"].to_numpy(), scored["lead_id"], cfg, points=True)
    phrases = points_phrases(data, group, model, features, activity_phrases)
    rf, ra = _attach_reasons(scored, rows, contrib[rows], phrases, points_reasons_cfg(cfg))
    version = P.version(model)
    return points_out(scored, version, rf, ra), points_summary(version, len(rows))


def no_model_error(group: str) -> ConfigError:
    return ConfigError(
        f"product group {group} has no trained model and no points model; add "
        f"points.default or points.groups.{group} to the config, or run `leadctl train`"
    )


def points_warning(group: str, version: str) -> str:
    return f"{group}: no trained model, scored with the points model ({version})"


def group_stats(score: np.ndarray, info: dict[str, Any], cfg: ScoreConfig) -> dict[str, Any]:
    """rows, mean score and the count at or above the reasons cutoff of one group's scores."""
    floor = (
        cfg.reasons.min_points_score if info["model_kind"] == "points" else cfg.reasons.min_score
    )
    return {
        "rows": len(score),
        "mean_score": float(np.mean(score)) if len(score) else None,
        "reasons_min_score": floor,
        "at_or_above_min_score": int((score >= floor).sum()),
    }


def score(
    data: Scorable,
    groups: list[str],
    models: dict[str, LoadedModel],
    points: dict[str, PointsModelConfig | None],
    cfg: ScoreConfig,
    features: FeaturesConfig,
) -> Scored:
    """Scores for every lead × group (sorted by lead_id, product_group) and a summary per group."""
    parts = []
    summary: dict[str, dict[str, Any]] = {}
    phrases = features.activity_phrases
    for group in groups:
        frame = _group_frame(data, group)
        if group in models:
            out, info = score_ml(frame, models[group], cfg, features, phrases)
            info["warnings"] = []
        else:
            model = points.get(group)
            if model is None:
                raise no_model_error(group)
            out, info = score_points(frame, data, group, model, cfg, features, phrases)
            info["warnings"] = [points_warning(group, info["model_version"])]
        info.update(group_stats(out["score"].to_numpy(), info, cfg))
        summary[group] = info
        parts.append(out.with_columns(product_group=pl.lit(group)))
        log.info("scored group %s: %d leads with %s", group, out.height, info["model_kind"])
    if not parts:
        return Scored(pl.DataFrame(schema=SCORE_SCHEMA), summary)
    typed = [
        (g, p.select(SCORE_COLUMNS).cast(pl.Schema(SCORE_SCHEMA)))
        for g, p in zip(groups, parts, strict=True)
    ]
    return Scored(_by_lead_and_group(typed, data.base["lead_id"]), summary)


def _by_lead_and_group(parts: list[tuple[str, pl.DataFrame]], lead_ids: pl.Series) -> pl.DataFrame:
    """The group frames as one frame sorted by (lead_id, product_group).

    Every part is in `lead_ids` order; when those ids are strictly increasing (the prepared
    features are sorted by lead_id and ids are unique), the sorted frame is the parts
    interleaved row by row in sorted group order: a gather instead of a 3 M-row string sort.
    Anything else falls back to the sort (same result).
    """
    ordered = sorted(parts, key=lambda gp: gp[0])
    names = [g for g, _ in ordered]
    n = lead_ids.len()
    stacked = pl.concat([p for _, p in ordered])
    fast = (
        len(set(names)) == len(names)
        and (n < 2 or bool((lead_ids.slice(1) > lead_ids.slice(0, n - 1)).all()))
        and all(p.height == n and p["lead_id"].equals(lead_ids) for _, p in ordered)
    )
    if not fast:
        return stacked.sort(["lead_id", "product_group"])
    k = len(names)
    row = np.arange(n * k, dtype=np.int64)
    return stacked[(row % k) * n + row // k]


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def explain(
    data: Scorable,
    lead_id: str,
    groups: list[str],
    models: dict[str, LoadedModel],
    points: dict[str, PointsModelConfig | None],
    cfg: ScoreConfig,
    features: FeaturesConfig,
) -> dict[str, Any]:
    """One lead, every group: feature values, scores, every contribution, and the reasons."""
    if not (data.base["lead_id"] == lead_id).any():
        raise InputError(
            f"lead {lead_id} is not in the leads table (check the id, or run `leadctl validate`)"
        )
    forced = cfg.model_copy(
        update={
            "reasons": cfg.reasons.model_copy(
                update={"min_score": 0.0, "min_points_score": 0.0, "max_leads": 1}
            )
        }
    )
    phrases = features.activity_phrases
    out: dict[str, Any] = {"lead_id": lead_id, "groups": {}}
    for group in groups:
        row = _group_frame(data, group).filter(pl.col("lead_id") == lead_id)
        if group in models:
            model = models[group]
            scored, _ = score_ml(row, model, forced, features, phrases)
            feats = model.features["propensity"]
            values = [_jsonable(row[f.name][0]) for f in feats]
            contrib = contributions(
                model.boosters["propensity"], encode(row, feats), cfg.num_threads
            )[0]
            items = [
                {"feature": f.name, "label": f.label, "value": v, "contribution": float(c)}
                for f, v, c in zip(feats, values, contrib, strict=True)
            ]
            unit = "log-odds (propensity model, TreeSHAP)"
        else:
            model_cfg = points.get(group)
            if model_cfg is None:
                raise ConfigError(f"product group {group} has no trained model and no points model")
            keys = data.keys.filter(pl.col("lead_id") == lead_id)
            scored, _ = score_points(row, data, group, model_cfg, forced, features, phrases, keys)
            pf = points_frame(row, data, group, model_cfg, keys)
            items = [
                {
                    "feature": a.feature,
                    "label": a.label or a.feature,
                    "value": _jsonable(pf[a.feature][0]),
                    "contribution": float(pf[f"dem_{i}"][0]),
                }
                for i, a in enumerate(model_cfg.demographic)
            ]
            items += [
                {
                    "feature": a.name,
                    "label": a.name,
                    "value": float(pf[f"beh_{i}_n"][0]),
                    "contribution": float(pf[f"beh_{i}"][0]),
                }
                for i, a in enumerate(model_cfg.behavioural)
            ]
            unit = "points (points model)"
        rec = scored.row(0, named=True)
        items.sort(key=lambda it: (-abs(it["contribution"]), it["feature"]))
        out["groups"][group] = {
            **{
                k: rec[k]
                for k in (
                    "fit_score",
                    "engagement_score",
                    "propensity",
                    "score",
                    "model_kind",
                    "model_version",
                    "reasons_for",
                    "reasons_against",
                )
            },
            "contribution_unit": unit,
            "contributions": items,
        }
    return out
