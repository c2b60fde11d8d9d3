"""A thin LightGBM binary classifier in the estimator style: settings in, `fit` returns self,
learned attributes end with `_`. Fixed seed, thread count and deterministic mode, so the same
rows give a byte-identical text model; persisted only as LightGBM's text format."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import lightgbm as lgb
import numpy as np

from leadctl.config.scoring import LightGBMConfig
from leadctl.errors import ModelError
from leadctl.features.spec import Feature

log = logging.getLogger("leadctl.train")


def _params(cfg: LightGBMConfig, y: np.ndarray) -> dict[str, object]:
    pos = float(np.sum(y))
    neg = float(len(y) - pos)
    params: dict[str, object] = {
        "objective": "binary",
        "metric": ["auc"],
        "num_leaves": cfg.num_leaves,
        "learning_rate": cfg.learning_rate,
        "min_child_samples": cfg.min_child_samples,
        "feature_fraction": cfg.feature_fraction,
        "feature_fraction_seed": cfg.seed,
        "lambda_l2": cfg.lambda_l2,
        "seed": cfg.seed,
        "bagging_seed": cfg.seed,
        "data_random_seed": cfg.seed,
        "num_threads": cfg.num_threads,
        "deterministic": True,
        "force_col_wise": True,
        "verbosity": -1,
        "max_cat_to_onehot": 4,
        "cat_smooth": 10.0,
        "min_data_per_group": 20,
    }
    if cfg.class_weight == "balanced" and pos > 0:
        params["scale_pos_weight"] = neg / pos
    return params


class BinaryModel:
    """One LightGBM binary model over a fixed list of features."""

    def __init__(self, features: list[Feature], cfg: LightGBMConfig) -> None:
        self.features = features
        self.cfg = cfg

    def fit(
        self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray
    ) -> BinaryModel:
        """Train with early stopping on the validation rows (a later period than training)."""
        names = [f.name for f in self.features]
        cats = [i for i, f in enumerate(self.features) if f.kind == "categorical"]
        params = _params(self.cfg, y)
        train = lgb.Dataset(
            X,
            label=y.astype(np.float64),
            feature_name=names,
            categorical_feature=cats,
            params={"verbosity": -1},
            free_raw_data=True,
        )
        valid = lgb.Dataset(X_val, label=y_val.astype(np.float64), reference=train)
        callbacks: list[Callable[..., Any]] = []
        if len(np.unique(y_val)) == 2:
            callbacks.append(
                lgb.early_stopping(
                    self.cfg.early_stopping_rounds,
                    verbose=False,
                    min_delta=self.cfg.early_stopping_min_delta,
                )
            )
        self.booster_ = lgb.train(
            params,
            train,
            num_boost_round=self.cfg.max_rounds,
            valid_sets=[valid],
            valid_names=["holdout"],
            callbacks=callbacks,
        )
        self.best_iteration_ = int(
            self.booster_.best_iteration or self.booster_.current_iteration()
        )
        return self

    def model_text(self) -> str:
        """LightGBM's text format, cut at the best iteration."""
        return self.booster_.model_to_string(num_iteration=self.best_iteration_)

    def importance(self) -> dict[str, float]:
        """Total gain per feature (what the card's top features list ranks by)."""
        gains = self.booster_.feature_importance(
            importance_type="gain", iteration=self.best_iteration_
        )
        return {f.name: float(g) for f, g in zip(self.features, gains, strict=True)}


def load_booster(text: str, where: str) -> lgb.Booster:
    """A booster from its text model; a clear ModelError when the file is damaged."""
    try:
        return lgb.Booster(model_str=text)
    except lgb.basic.LightGBMError as exc:
        raise ModelError(
            f"{where} is not a readable LightGBM model ({exc}); retrain with `leadctl train`"
        ) from None


def predict_raw(booster: lgb.Booster, X: np.ndarray, num_threads: int) -> np.ndarray:
    """The uncalibrated model probability for each row."""
    if X.shape[0] == 0:
        return np.zeros(0, dtype=np.float64)
    return np.asarray(booster.predict(X, num_threads=num_threads), dtype=np.float64)


def contributions(booster: lgb.Booster, X: np.ndarray, num_threads: int) -> np.ndarray:
    """TreeSHAP contributions in log-odds (rows × features; the bias column is dropped)."""
    if X.shape[0] == 0:
        return np.zeros((0, booster.num_feature()), dtype=np.float64)
    out = np.asarray(
        booster.predict(X, pred_contrib=True, num_threads=num_threads), dtype=np.float64
    )
    return out[:, :-1]
