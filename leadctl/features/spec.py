"""The feature spec: which features a model uses, their kinds, categories and wording.

Stored in the model card so `score` rebuilds exactly the features a model was trained on, and
refuses (naming the difference) when the config or the data no longer provide them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import polars as pl

from leadctl.config.scoring import FeaturesConfig
from leadctl.features import engagement as E
from leadctl.features.fit import FIT_FEATURES

OTHER = "(other)"


@dataclass(frozen=True)
class Feature:
    """One model input: raw values live in a frame column of the same name."""

    name: str
    kind: str  # numeric | categorical
    group: str  # fit | engagement
    label: str
    phrase: str  # how reason codes word it (see leadctl.models.reasons)
    source: str = "builtin"  # builtin | custom
    params: dict[str, Any] = field(default_factory=dict)
    categories: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["categories"] = list(self.categories)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Feature:
        return cls(**{**data, "categories": tuple(data.get("categories", ()))})


_FIT_PHRASES = {
    "seniority": "title",
    "job_function": "title",
    "email_domain_type": "email",
    "has_account": "flag",
    "named_account": "flag",
    "target_account": "flag",
    "has_phone": "flag",
}
_FLAGS = {
    "has_account": ("Company matched to an account", "No matching account"),
    "named_account": ("Named account", "Not a named account"),
    "target_account": ("Target account", "Not a target account"),
    "has_phone": ("Phone number given", "No phone number"),
}


def settings(cfg: FeaturesConfig) -> dict[str, Any]:
    """The settings that shape feature values (a model must be scored with the same ones)."""
    data = cfg.model_dump(mode="json")
    data.pop("activity_phrases", None)  # wording only
    for custom in data.get("custom", []):
        custom.pop("label", None)  # wording only
    return data


def feature_defs(cfg: FeaturesConfig, types: list[str]) -> list[Feature]:
    """Every candidate feature for this config and activity vocabulary (before any exclusion)."""
    out: list[Feature] = []
    for name, kind, label in FIT_FEATURES:
        params: dict[str, Any] = {}
        if name in _FLAGS:
            params = {"yes": _FLAGS[name][0], "no": _FLAGS[name][1]}
        out.append(
            Feature(name, kind, "fit", label, _FIT_PHRASES.get(name, "category"), params=params)
        )
    maxw = max(cfg.windows_days)
    for t, s in E.type_slugs(types).items():
        for w in cfg.windows_days:
            out.append(
                Feature(
                    f"n_{s}_{w}d",
                    "numeric",
                    "engagement",
                    f"{t} ({w} d)",
                    "count",
                    params={"type": t, "window": w},
                )
            )
        out.append(
            Feature(
                f"days_since_{s}",
                "numeric",
                "engagement",
                f"Days since {t}",
                "days_since",
                params={"type": t},
            )
        )
    lead_level: list[tuple[str, str, str, dict[str, Any]]] = [
        ("days_since_last_activity", "Days since last activity", "days_since", {"type": None}),
        ("decayed_engagement", "Recent engagement", "decayed", {"half_life": cfg.half_life_days}),
        (f"distinct_assets_{maxw}d", f"Distinct assets ({maxw} d)", "assets", {"window": maxw}),
        ("negative_signals", "Unsubscribes, bounces, complaints", "negatives", {}),
        ("prior_opportunities", "Earlier opportunities", "prior_opps", {}),
        ("lead_age_days", "Lead age", "lead_age", {}),
    ]
    for name, label, phrase, params in lead_level:
        out.append(Feature(name, "numeric", "engagement", label, phrase, params=params))
    if cfg.buying_group:
        out.append(
            Feature(
                f"colleagues_engaged_{maxw}d",
                "numeric",
                "engagement",
                f"Engaged colleagues ({maxw} d)",
                "colleagues",
                params={"window": maxw},
            )
        )
    for w in cfg.windows_days:
        out.append(
            Feature(
                f"pg_activities_{w}d",
                "numeric",
                "engagement",
                f"Product group activities ({w} d)",
                "pg_count",
                params={"window": w},
            )
        )
    out += [
        Feature(
            "pg_decayed_engagement",
            "numeric",
            "engagement",
            "Recent product group engagement",
            "pg_decayed",
        ),
        Feature(
            "pg_days_since_last",
            "numeric",
            "engagement",
            "Days since product group activity",
            "pg_days",
        ),
        Feature("pg_share", "numeric", "engagement", "Share of product activity", "pg_share"),
        Feature("times_recycled", "numeric", "engagement", "Times recycled", "recycled"),
        Feature(
            "times_disqualified", "numeric", "engagement", "Times disqualified", "disqualified"
        ),
    ]
    out = [f for f in out if f.name not in cfg.exclude]
    for c in cfg.custom:
        phrase = "category" if c.kind == "categorical" else "number"
        out.append(
            Feature(
                c.column,
                c.kind,
                c.group,
                c.label or c.column,
                phrase,
                source="custom",
                params={"column": c.column},
            )
        )
    return out


def learn_categories(
    frame: pl.DataFrame, features: list[Feature], cfg: FeaturesConfig
) -> list[Feature]:
    """Fix each categorical feature's categories from training rows: frequent values by count,
    the rest folded into "(other)". Code i is categories[i]; null stays missing."""
    out = []
    for f in features:
        if f.kind != "categorical":
            out.append(f)
            continue
        counts = (
            frame.select(pl.col(f.name).cast(pl.String).alias("v"))
            .drop_nulls()
            .group_by("v")
            .agg(pl.len().alias("n"))
            .sort(["n", "v"], descending=[True, False])
        )
        keep = counts.filter(pl.col("n") >= cfg.min_category_count).head(cfg.max_categories - 1)
        cats = keep["v"].to_list()
        if counts.height > len(cats):
            cats.append(OTHER)
        out.append(Feature(**{**asdict(f), "categories": tuple(cats)}))
    return out


def encode(frame: pl.DataFrame, features: list[Feature]) -> np.ndarray:
    """The model matrix (float32, rows of `frame`, columns in `features` order).

    Categorical values become their category code; unseen values the "(other)" code when the
    model has one, else missing, so a new CRM picklist value never crashes scoring.
    """
    exprs = []
    for f in features:
        col = pl.col(f.name)
        if f.kind == "categorical":
            cats = list(f.categories)
            default = float(cats.index(OTHER)) if OTHER in cats else None
            mapping = {c: float(i) for i, c in enumerate(cats)}
            expr = (
                pl.when(col.is_null())
                .then(None)
                .otherwise(
                    col.cast(pl.String).replace_strict(
                        mapping, default=default, return_dtype=pl.Float32
                    )
                )
            )
            exprs.append(expr.cast(pl.Float32).alias(f.name))
        else:
            exprs.append(col.cast(pl.Float32).alias(f.name))
    if frame.height == 0:
        return np.zeros((0, len(features)), dtype=np.float32)
    return frame.select(exprs).to_numpy().astype(np.float32, copy=False)


def spec_differences(
    trained: list[dict[str, Any]],
    trained_settings: dict[str, Any],
    current: list[Feature],
    current_settings: dict[str, Any],
) -> list[str]:
    """What differs between the features a model was trained with and what the config and data
    provide now; empty when they match."""
    out: list[str] = []
    now = {f.name: f for f in current}
    was = {f["name"]: f for f in trained}
    missing = sorted(set(was) - set(now))
    added = sorted(set(now) - set(was))
    if missing:
        out.append(
            "the model uses features the data/config no longer provide: " + ", ".join(missing)
        )
    if added:
        out.append("the config adds features the model was not trained with: " + ", ".join(added))
    for name in sorted(set(was) & set(now)):
        if was[name]["kind"] != now[name].kind:
            out.append(
                f"feature {name} was {was[name]['kind']} in training, is {now[name].kind} now"
            )
    for key in sorted(set(trained_settings) | set(current_settings)):
        if trained_settings.get(key) != current_settings.get(key):
            out.append(
                f"train.features.{key} was {trained_settings.get(key)!r} in training, "
                f"is {current_settings.get(key)!r} now"
            )
    return out
