"""Model card pieces: distribution summaries for drift checks (PSI), score references, versions.

The card is plain JSON beside the LightGBM text models. The nightly `run` compares tonight's
feature and score distributions with the summaries stored here (`psi`) to decide on retraining.
"""

from __future__ import annotations

import hashlib
import math
from importlib import metadata
from typing import Any

import numpy as np
import polars as pl

from leadctl.features.spec import Feature

MISSING = "(missing)"
_PSI_FLOOR = 1e-4
REFERENCE_POINTS = 1001


def _between_values(values: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """Move each decile edge to the midpoint between the observed values around it.

    Counts and calibrated (isotonic) scores take few distinct values; an edge sitting exactly on
    one would send that whole value to one side or the other on a rounding error, and the PSI
    would jump. Midpoints keep every value clearly inside one bin.
    """
    uniq = np.unique(values)
    nxt = np.searchsorted(uniq, quantiles, side="right")
    keep = nxt < len(uniq)
    edges = (uniq[np.maximum(nxt[keep] - 1, 0)] + uniq[nxt[keep]]) / 2.0
    return np.unique(edges)


def numeric_summary(values: np.ndarray) -> dict[str, Any]:
    """Decile edges and the share of rows in each bin (plus the share missing)."""
    v = np.asarray(values, dtype=np.float64)
    finite = v[~np.isnan(v)]
    n = len(v)
    if len(finite) == 0:
        return {"kind": "numeric", "edges": [], "shares": [], "missing": 1.0 if n else 0.0}
    edges = _between_values(finite, np.quantile(finite, np.linspace(0.1, 0.9, 9)))
    bins = np.searchsorted(edges, finite, side="left")
    counts = np.bincount(bins, minlength=len(edges) + 1)
    return {
        "kind": "numeric",
        "edges": [float(e) for e in edges],
        "shares": [float(c / n) for c in counts],
        "missing": float((n - len(finite)) / n),
    }


def categorical_summary(values: pl.Series) -> dict[str, Any]:
    """Share of rows per category (missing as its own bucket)."""
    n = len(values)
    counts = values.cast(pl.String).fill_null(MISSING).value_counts(sort=True, name="n")
    shares = {
        str(r[0]): float(r[1] / n)
        for r in counts.sort(["n", values.name], descending=[True, False]).iter_rows()
    }
    return {"kind": "categorical", "shares": shares}


def distribution(frame: pl.DataFrame, features: list[Feature]) -> dict[str, Any]:
    """Summary of each feature's training distribution, for the population stability index."""
    out: dict[str, Any] = {}
    for f in features:
        if f.kind == "categorical":
            out[f.name] = categorical_summary(frame[f.name])
        else:
            out[f.name] = numeric_summary(frame[f.name].cast(pl.Float64).to_numpy())
    return out


def _psi(expected: list[float], actual: list[float]) -> float:
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, _PSI_FLOOR), max(a, _PSI_FLOOR)
        total += (a - e) * math.log(a / e)
    return total


def psi(summary: dict[str, Any], values: pl.Series | np.ndarray) -> float:
    """Population stability index of `values` against a stored summary (numeric or categorical).

    Rule of thumb: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 large shift.
    """
    if summary["kind"] == "categorical":
        series = values if isinstance(values, pl.Series) else pl.Series(values)
        now = categorical_summary(series)["shares"]
        keys = sorted(set(summary["shares"]) | set(now))
        return _psi([summary["shares"].get(k, 0.0) for k in keys], [now.get(k, 0.0) for k in keys])
    v = (
        values.cast(pl.Float64).to_numpy()
        if isinstance(values, pl.Series)
        else np.asarray(values, np.float64)
    )
    n = len(v)
    if n == 0:
        return 0.0
    finite = v[~np.isnan(v)]
    edges = np.asarray(summary["edges"], dtype=np.float64)
    counts = np.bincount(np.searchsorted(edges, finite, side="left"), minlength=len(edges) + 1)
    expected = [*summary["shares"], summary["missing"]]
    actual = [*(counts / n).tolist(), (n - len(finite)) / n]
    return _psi(expected, actual)


def reference_quantiles(values: np.ndarray) -> list[float]:
    """Quantiles of calibrated scores on held-out rows: the percentile scale's reference."""
    v = np.asarray(values, dtype=np.float64)
    if len(v) == 0:
        return []
    return [float(q) for q in np.quantile(v, np.linspace(0, 1, REFERENCE_POINTS))]


def to_percentile(
    values: np.ndarray, reference: list[float], *, position: np.ndarray | None = None
) -> np.ndarray:
    """0-100: the share of the reference population scoring below.

    A value the reference holds several times spans a range of percentiles. Ties take the
    middle of that range, or, with `position` (0..1 per value, e.g. where the raw model output
    lies on a calibration plateau), that point of the range.
    """
    ref = np.asarray(reference, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if len(ref) == 0:
        return v * 100.0
    lo = np.searchsorted(ref, v, side="left").astype(np.float64)
    hi = np.searchsorted(ref, v, side="right").astype(np.float64)
    where = np.full(len(v), 0.5) if position is None else np.clip(position, 0.0, 1.0)
    return 100.0 * (lo + (hi - lo) * where) / len(ref)


def library_versions() -> dict[str, str]:
    """Versions that shape a model file (recorded in the card)."""
    out = {}
    for name in ("leadctl", "lightgbm", "polars", "numpy"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def model_version(as_of: str, texts: list[str]) -> str:
    """<as-of>-<hash of the model files>: equal models, equal versions."""
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:8]
    return f"{as_of.replace('-', '')}-{digest}"
