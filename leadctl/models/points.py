"""The rule-based points model: the classic marketing-automation template, from YAML.

Each attribute carries a weight (% of the total); each choice a priority from -10 to 10, worth
weight × priority / 10 points. fit_score = demographic points as a share of the demographic
weight, engagement_score likewise for behaviour, score = all points (0-100), propensity = score/100
(a ranking, not a calibrated probability). Same columns as the ML models, so nothing downstream
needs to know which one ran.
"""

from __future__ import annotations

import difflib
import hashlib
import json

import polars as pl

from leadctl.config.scoring import BehaviouralAttribute, DemographicAttribute, PointsModelConfig
from leadctl.errors import ConfigError
from leadctl.features.engagement import DECAY_UNIT, decay_units

GROUP_KEYS = ["lead_id", "product_group", "snapshot_at"]


def attribute_ids(model: PointsModelConfig) -> list[str]:
    """Column names of each attribute's points, demographic first (stable order)."""
    return [f"dem_{i}" for i in range(len(model.demographic))] + [
        f"beh_{i}" for i in range(len(model.behavioural))
    ]


def version(model: PointsModelConfig) -> str:
    """points-<hash>: changes whenever the model's rules change."""
    payload = json.dumps(model.model_dump(mode="json"), sort_keys=True)
    return "points-" + hashlib.sha256(payload.encode()).hexdigest()[:10]


def check_attributes(model: PointsModelConfig, available: dict[str, str], group: str) -> None:
    """Demographic attributes must name a feature the data provides, of the matching kind.

    `available` maps feature name → kind (categorical | numeric).
    """
    problems = []
    for attr in model.demographic:
        kind = available.get(attr.feature)
        if kind is None:
            close = difflib.get_close_matches(attr.feature, list(available), n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(f"unknown feature '{attr.feature}'{hint}")
        elif attr.choices and kind != "categorical":
            problems.append(f"'{attr.feature}' is numeric: use at_least, not choices")
        elif attr.at_least and kind != "numeric":
            problems.append(f"'{attr.feature}' is categorical: use choices, not at_least")
    if problems:
        raise ConfigError(
            f"points model for product group {group}: "
            + "; ".join(problems)
            + f". Demographic features available: {', '.join(sorted(available))}"
        )


def _demographic_points(attr: DemographicAttribute) -> pl.Expr:
    col = pl.col(attr.feature)
    if attr.choices:
        priority = col.cast(pl.String).replace_strict(
            {k: float(v) for k, v in attr.choices.items()},
            default=float(attr.other),
            return_dtype=pl.Float64,
        )
    else:
        priority = pl.lit(float(attr.other))
        for bound, prio in sorted(attr.at_least.items()):
            priority = (
                pl.when(col.cast(pl.Float64) >= bound).then(pl.lit(float(prio))).otherwise(priority)
            )
    priority = pl.when(col.is_null()).then(pl.lit(float(attr.missing))).otherwise(priority)
    return priority * attr.weight / 10.0


def behaviour_counts(
    events: pl.LazyFrame, keys: pl.LazyFrame, model: PointsModelConfig
) -> pl.LazyFrame:
    """GROUP_KEYS + one column per behavioural attribute: the (decayed) count it is scored on.

    `events` are point-in-time activities with age_days (see features.engagement); counts for
    product_group_only attributes only use activities tagged with the key's group.
    """
    if not model.behavioural:
        return keys.select(GROUP_KEYS)
    age = pl.col("age_days")
    lead_aggs: list[pl.Expr] = []
    group_aggs: list[pl.Expr] = []
    for i, attr in enumerate(model.behavioural):
        hit = pl.col("activity_type").is_in(attr.activity_types)
        if attr.window_days is not None:
            total = (hit & (age < attr.window_days)).sum().cast(pl.Float64)
        else:
            # Integer units: order-free sums keep scores byte-identical (engagement.DECAY_UNIT).
            decayed = decay_units(hit.cast(pl.Float64) * 0.5 ** (age / attr.half_life_days))
            total = decayed.sum() / DECAY_UNIT
        (group_aggs if attr.product_group_only else lead_aggs).append(total.alias(f"beh_{i}_n"))
    k = keys.select(GROUP_KEYS)
    out = k
    if lead_aggs:
        per_lead = events.group_by(["lead_id", "snapshot_at"]).agg(lead_aggs)
        out = out.join(per_lead, on=["lead_id", "snapshot_at"], how="left")
    if group_aggs:
        per_group = (
            events.filter(pl.col("product_group").is_not_null())
            .group_by(GROUP_KEYS)
            .agg(group_aggs)
            .with_columns(pl.col("product_group").cast(pl.String))
        )
        out = out.join(per_group, on=GROUP_KEYS, how="left")
    names = [f"beh_{i}_n" for i in range(len(model.behavioural))]
    return out.with_columns(pl.col(names).fill_null(0.0))


def _behaviour_points(i: int, attr: BehaviouralAttribute) -> pl.Expr:
    n = pl.col(f"beh_{i}_n")
    priority = pl.lit(0.0)
    for bound, prio in sorted(attr.at_least.items()):
        priority = pl.when(n >= bound).then(pl.lit(float(prio))).otherwise(priority)
    return priority * attr.weight / 10.0


def apply_points(frame: pl.DataFrame, model: PointsModelConfig) -> pl.DataFrame:
    """Points per attribute (dem_i, beh_i) and the four scores, for rows holding the
    demographic feature columns and the behaviour counts (beh_i_n)."""
    dem_ids = [f"dem_{i}" for i in range(len(model.demographic))]
    beh_ids = [f"beh_{i}" for i in range(len(model.behavioural))]
    dem_weight = sum(a.weight for a in model.demographic)
    beh_weight = sum(a.weight for a in model.behavioural)
    scored = frame.with_columns(
        *[_demographic_points(a).alias(dem_ids[i]) for i, a in enumerate(model.demographic)],
        *[_behaviour_points(i, a).alias(beh_ids[i]) for i, a in enumerate(model.behavioural)],
    )
    dem = pl.sum_horizontal(dem_ids) if dem_ids else pl.lit(0.0)
    beh = pl.sum_horizontal(beh_ids) if beh_ids else pl.lit(0.0)
    return scored.with_columns(
        fit_score=(100.0 * dem / dem_weight).clip(0.0, 100.0) if dem_weight else pl.lit(0.0),
        engagement_score=(100.0 * beh / beh_weight).clip(0.0, 100.0) if beh_weight else pl.lit(0.0),
        score=(dem + beh).clip(0.0, 100.0),
    ).with_columns(propensity=pl.col("score") / 100.0)


def behaviour_phrase(i: int, attr: BehaviouralAttribute) -> pl.Expr:
    """Reason wording for a behavioural attribute: '<name>: 2 in the last 30 days'."""
    n = pl.col(f"beh_{i}_n")
    if attr.window_days is not None:
        count = n.round(0).cast(pl.Int64).cast(pl.String)
        return pl.format(
            "{}: {} in the last {} days", pl.lit(attr.name), count, pl.lit(attr.window_days)
        )
    return pl.format(
        "{}: {} (recent activity weighted, half-life {} days)",
        pl.lit(attr.name),
        n.round(1).cast(pl.String),
        pl.lit(f"{attr.half_life_days:g}"),
    )
