"""Training guards: enough labels to learn from, and no feature that gives the answer away."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from leadctl.config.scoring import GuardsConfig
from leadctl.features.spec import Feature
from leadctl.models.metrics import univariate_auc


@dataclass
class Exclusion:
    feature: str
    reason: str
    kept: bool  # flagged but allowed by guards.allow_features

    def to_json(self) -> dict[str, object]:
        return {"feature": self.feature, "reason": self.reason, "kept": self.kept}


def label_shortfall(frame: pl.DataFrame, cfg: GuardsConfig) -> str | None:
    """Why a group cannot be trained (too few labelled leads or positives), else None."""
    leads = frame["lead_id"].n_unique()
    positives = frame.filter(pl.col("label"))["lead_id"].n_unique()
    missing = []
    if leads < cfg.min_labelled_leads:
        missing.append(f"{leads:,} labelled leads (need {cfg.min_labelled_leads:,})")
    if positives < cfg.min_positives:
        missing.append(f"{positives:,} positive leads (need {cfg.min_positives:,})")
    return "only " + " and ".join(missing) if missing else None


def split_shortfall(
    y: np.ndarray, train: np.ndarray, valid: np.ndarray, test: np.ndarray
) -> str | None:
    """Why the split leaves nothing to learn from or to measure, else None.

    Lowered guards on a tiny group can pass label_shortfall and still leave an empty validation
    half or training rows of one class; LightGBM would then fail deep inside its C++ code.
    """
    problems = [f"no {name} rows" for name, m in (("training", train), ("validation", valid),
                                                  ("test", test)) if not m.any()]  # fmt: skip
    if train.any() and len(np.unique(y[train])) < 2:
        problems.append("training rows of one class only")
    if not problems:
        return None
    return (
        f"too few rows to split into training, validation and test ({', '.join(problems)} "
        f"among {len(y):,} rows)"
    )


def leakage(
    frame: pl.DataFrame, y: np.ndarray, features: list[Feature], cfg: GuardsConfig
) -> list[Exclusion]:
    """Features that look like the answer: set by sales after contact, or separating the classes
    almost perfectly on their own (univariate AUC >= guards.leakage_auc on the training rows)."""
    out = []
    for f in features:
        column = f.params.get("column", f.name)
        if f.source == "custom" and column in cfg.set_by_sales:
            out.append(
                Exclusion(
                    f.name,
                    f"set by sales after contact (guards.set_by_sales: {column})",
                    f.name in cfg.allow_features,
                )
            )
            continue
        a = univariate_auc(frame[f.name], y, categorical=f.kind == "categorical")
        if not np.isnan(a) and a >= cfg.leakage_auc:
            out.append(
                Exclusion(
                    f.name,
                    f"univariate AUC {a:.3f} >= {cfg.leakage_auc} on the training rows",
                    f.name in cfg.allow_features,
                )
            )
    return out
