"""Calibration: map raw model outputs to probabilities, stored as plain JSON data.

Isotonic: pool-adjacent-violators on up to `max_points` quantile blocks of the held-out rows
(a loop over blocks, never over leads), applied by linear interpolation. Platt: a two-parameter
logistic fit on the raw log-odds by Newton steps. Neither needs pickling.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from leadctl.errors import ModelError

_EPS = 1e-6
FLOOR = 1e-4  # calibrated probabilities stay within [FLOOR, 1 - FLOOR]


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def fit_isotonic(raw: np.ndarray, y: np.ndarray, *, max_points: int = 200) -> dict[str, Any]:
    """Monotone step function from raw score to observed rate, as interpolation knots."""
    raw = np.asarray(raw, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if len(raw) == 0:
        raise ModelError("cannot calibrate on zero held-out rows")
    # Ties first (equal raw values share one block), then consecutive blocks of ~equal count.
    uniq, inverse = np.unique(raw, return_inverse=True)
    count = np.bincount(inverse).astype(np.float64)
    hits = np.bincount(inverse, weights=y)
    before = np.cumsum(count) - count
    block = np.floor(before / (len(raw) / max_points)).astype(np.int64)
    _, block = np.unique(block, return_inverse=True)
    w_all = np.bincount(block, weights=count)
    x = list(np.bincount(block, weights=uniq * count) / w_all)
    v = list(np.bincount(block, weights=hits) / w_all)
    w = list(w_all)
    # Pool adjacent violators (each block: value, weight, x-span).
    vals: list[float] = []
    wts: list[float] = []
    lo: list[float] = []
    hi: list[float] = []
    for xi, vi, wi in zip(x, v, w, strict=True):
        vals.append(vi)
        wts.append(wi)
        lo.append(xi)
        hi.append(xi)
        while len(vals) > 1 and vals[-2] > vals[-1]:
            total = wts[-2] + wts[-1]
            merged = (vals[-2] * wts[-2] + vals[-1] * wts[-1]) / total
            vals[-2:] = [merged]
            wts[-2:] = [total]
            lo[-2:] = [lo[-2]]
            hi[-2:] = [hi[-1]]
    knots_x: list[float] = []
    knots_y: list[float] = []
    for a, b, val in zip(lo, hi, vals, strict=True):
        for point in (a, b) if b > a else (a,):
            knots_x.append(float(point))
            knots_y.append(float(val))
    return {"method": "isotonic", "x": knots_x, "y": knots_y}


def fit_platt(raw: np.ndarray, y: np.ndarray, *, iterations: int = 50) -> dict[str, Any]:
    """p = sigmoid(a * logit(raw) + b), fitted by Newton's method with a small ridge."""
    z = _logit(np.asarray(raw, dtype=np.float64))
    t = np.asarray(y, dtype=np.float64)
    a, b = 1.0, 0.0
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-(a * z + b)))
        g = np.array([np.sum((p - t) * z), np.sum(p - t)]) + 1e-6 * np.array([a - 1, b])
        wgt = p * (1 - p)
        h = np.array(
            [[np.sum(wgt * z * z), np.sum(wgt * z)], [np.sum(wgt * z), np.sum(wgt)]]
        ) + 1e-6 * np.eye(2)
        step = np.linalg.solve(h, g)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-10:
            break
    return {"method": "platt", "a": float(a), "b": float(b)}


def fit_calibrator(raw: np.ndarray, y: np.ndarray, method: str) -> dict[str, Any]:
    return fit_isotonic(raw, y) if method == "isotonic" else fit_platt(raw, y)


def apply_calibrator(cal: dict[str, Any], raw: np.ndarray) -> np.ndarray:
    """Calibrated probabilities for raw model outputs (probabilities of the raw model)."""
    raw = np.asarray(raw, dtype=np.float64)
    method = cal.get("method")
    if method == "isotonic":
        x, y = np.asarray(cal["x"], dtype=np.float64), np.asarray(cal["y"], dtype=np.float64)
        if len(x) == 0:
            raise ModelError("isotonic calibration has no knots; retrain with `leadctl train`")
        # A bin with no positives says "rare", not "impossible": keep probabilities off 0 and 1.
        return np.clip(np.interp(raw, x, y), FLOOR, 1.0 - FLOOR)
    if method == "platt":
        return np.clip(1 / (1 + np.exp(-(cal["a"] * _logit(raw) + cal["b"]))), FLOOR, 1.0 - FLOOR)
    raise ModelError(
        f"unknown calibration method {method!r} in calibration.json; retrain with `leadctl train`"
    )


def calibrate(cal: dict[str, Any], raw: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """apply_calibrator and plateau_position together (one interpolation of the knots)."""
    raw = np.asarray(raw, dtype=np.float64)
    if cal.get("method") != "isotonic":
        return apply_calibrator(cal, raw), None
    x = np.asarray(cal["x"], dtype=np.float64)
    y = np.asarray(cal["y"], dtype=np.float64)
    if len(x) == 0:
        raise ModelError("isotonic calibration has no knots; retrain with `leadctl train`")
    value = np.interp(raw, x, y)
    return np.clip(value, FLOOR, 1.0 - FLOOR), _position(x, y, raw, value)


def _position(x: np.ndarray, y: np.ndarray, raw: np.ndarray, value: np.ndarray) -> np.ndarray:
    left = np.clip(np.searchsorted(y, value, side="left"), 0, len(x) - 1)
    right = np.clip(np.searchsorted(y, value, side="right") - 1, 0, len(x) - 1)
    a, b = x[left], x[right]
    width = b - a
    safe = np.where(width > 0, width, 1.0)
    return np.where(width > 0, (raw - a) / safe, 0.5)


def plateau_position(cal: dict[str, Any], raw: np.ndarray) -> np.ndarray | None:
    """Where each raw output lies (0..1) on the isotonic plateau it is calibrated to.

    Isotonic calibration maps whole ranges of raw outputs to one probability; this position
    lets a percentile scale keep the model's ranking inside a plateau, using only the model's
    own knots (so a lead's score never depends on which other leads are scored with it).
    None for calibrations without plateaus.
    """
    if cal.get("method") != "isotonic":
        return None
    x = np.asarray(cal["x"], dtype=np.float64)
    y = np.asarray(cal["y"], dtype=np.float64)
    raw = np.asarray(raw, dtype=np.float64)
    return _position(x, y, raw, np.interp(raw, x, y))
