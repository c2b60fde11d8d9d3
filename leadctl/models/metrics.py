"""Model quality on held-out rows: AUC, PR-AUC, log loss, Brier, top-decile lift and capture,
calibration table; plus the univariate AUC the leakage guard uses. numpy + polars only."""

from __future__ import annotations

import numpy as np
import polars as pl

_EPS = 1e-12


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (ties count half); nan when only one class is present."""
    y = np.asarray(y, dtype=bool)
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = pl.Series(np.asarray(score, dtype=np.float64)).rank("average").to_numpy()
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n0 * n1))


def pr_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Average precision: precision at each positive, in descending score order."""
    y = np.asarray(y, dtype=bool)
    if not y.any():
        return float("nan")
    order = np.lexsort((np.arange(len(y)), -np.asarray(score, dtype=np.float64)))
    hits = y[order]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(precision[hits].mean())


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    y = np.asarray(y, dtype=np.float64)
    p = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1 - _EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((np.asarray(p, dtype=np.float64) - np.asarray(y, dtype=np.float64)) ** 2))


def top_decile(y: np.ndarray, score: np.ndarray) -> tuple[float, float]:
    """(lift, capture) of the top 10 % by score: their rate / base rate, share of positives."""
    y = np.asarray(y, dtype=bool)
    n = len(y)
    if n == 0 or not y.any():
        return float("nan"), float("nan")
    k = max(1, int(np.ceil(n * 0.1)))
    order = np.lexsort((np.arange(n), -np.asarray(score, dtype=np.float64)))
    top = y[order[:k]]
    return float(top.mean() / y.mean()), float(top.sum() / y.sum())


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int) -> list[dict[str, float]]:
    """Equal-count bins of predicted probability: rows, mean predicted, observed rate."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if len(y) == 0:
        return []
    order = np.lexsort((np.arange(len(p)), p))
    out = []
    for part in np.array_split(order, min(bins, len(order))):
        out.append(
            {
                "rows": int(len(part)),
                "predicted": float(p[part].mean()),
                "observed": float(y[part].mean()),
            }
        )
    return out


def evaluate(y: np.ndarray, p: np.ndarray, bins: int = 10) -> dict[str, object]:
    """Every held-out metric the model card reports."""
    lift, capture = top_decile(y, p)
    return {
        "rows": int(len(y)),
        "positives": int(np.asarray(y, dtype=bool).sum()),
        "auc": auc(y, p),
        "pr_auc": pr_auc(y, p),
        "log_loss": log_loss(y, p),
        "brier": brier(y, p),
        "top_decile_lift": lift,
        "top_decile_capture": capture,
        "calibration": calibration_table(y, p, bins),
    }


def univariate_auc(values: pl.Series, y: np.ndarray, *, categorical: bool) -> float:
    """How well one feature alone separates the classes (max(AUC, 1 - AUC), so direction does
    not matter). Categories are replaced by their positive rate; missing is its own value."""
    yv = np.asarray(y, dtype=bool)
    if categorical:
        frame = pl.DataFrame({"v": values.cast(pl.String).fill_null("\x00missing"), "y": yv})
        score = frame.with_columns(pl.col("y").cast(pl.Float64).mean().over("v").alias("s"))[
            "s"
        ].to_numpy()
    else:
        v = values.cast(pl.Float64).to_numpy()
        score = np.where(np.isnan(v), -np.inf, v)
    a = auc(yv, score)
    return float("nan") if np.isnan(a) else max(a, 1 - a)
