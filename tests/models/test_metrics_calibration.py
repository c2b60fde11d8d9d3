"""Metrics (checked against brute force) and JSON calibrators."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadctl.errors import ModelError
from leadctl.models import metrics as M
from leadctl.models.calibration import (
    FLOOR,
    apply_calibrator,
    fit_calibrator,
    fit_isotonic,
    fit_platt,
)


def _brute_auc(y, s):
    pos = [v for v, t in zip(s, y, strict=True) if t]
    neg = [v for v, t in zip(s, y, strict=True) if not t]
    pairs = [(1.0 if p > n else 0.5 if p == n else 0.0) for p in pos for n in neg]
    return sum(pairs) / len(pairs)


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 5)), min_size=2, max_size=40))
@settings(max_examples=100, deadline=None)
def test_auc_matches_pairwise_definition(rows):
    y = np.array([r[0] for r in rows])
    s = np.array([r[1] for r in rows], dtype=float)
    if y.all() or not y.any():
        assert np.isnan(M.auc(y, s))
    else:
        assert M.auc(y, s) == pytest.approx(_brute_auc(y, s))


def test_pr_auc_lift_capture_and_table():
    y = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 0] * 10, dtype=bool)
    s = np.where(y, 0.9, 0.1)
    assert M.pr_auc(y, s) == pytest.approx(1.0)
    lift, capture = M.top_decile(y, s)
    assert (lift, capture) == (
        pytest.approx(5.0),
        pytest.approx(0.5),
    )  # top 10 rows all positive, of 20
    table = M.calibration_table(y, s, 5)
    assert [r["rows"] for r in table] == [20] * 5
    assert table[-1] == {"rows": 20, "predicted": pytest.approx(0.9), "observed": 1.0}
    assert M.brier(y, s) == pytest.approx(0.01)
    assert M.log_loss(np.array([1, 0]), np.array([1.0, 0.0])) < 1e-9


def test_univariate_auc_direction_free_and_categorical():
    y = np.array([0, 0, 1, 1], dtype=bool)
    assert M.univariate_auc(pl.Series([4.0, 3.0, 2.0, 1.0]), y, categorical=False) == 1.0
    assert M.univariate_auc(pl.Series(["a", "a", "b", "b"]), y, categorical=True) == 1.0
    assert M.univariate_auc(pl.Series(["a", "b", "a", "b"]), y, categorical=True) == 0.5


def test_isotonic_is_monotone_and_calibrates():
    rng = np.random.default_rng(3)
    raw = rng.random(20_000)
    y = rng.random(20_000) < raw**2
    cal = fit_isotonic(raw, y)
    assert np.all(np.diff(cal["x"]) >= 0) and np.all(np.diff(cal["y"]) >= 0)
    p = apply_calibrator(json.loads(json.dumps(cal)), raw)  # survives a JSON round trip
    for row in M.calibration_table(y, p, 10):
        assert abs(row["predicted"] - row["observed"]) < 0.03
    assert p.min() >= FLOOR and p.max() <= 1 - FLOOR


def test_platt_recovers_a_logistic_link():
    rng = np.random.default_rng(4)
    z = rng.normal(0, 2, 50_000)
    raw = 1 / (1 + np.exp(-z))
    y = rng.random(50_000) < 1 / (1 + np.exp(-(0.5 * z - 1.0)))
    cal = fit_platt(raw, y)
    assert cal["a"] == pytest.approx(0.5, abs=0.05) and cal["b"] == pytest.approx(-1.0, abs=0.05)
    assert fit_calibrator(raw, y, "platt")["method"] == "platt"


def test_unknown_calibrator_is_a_model_error():
    with pytest.raises(ModelError, match="unknown calibration method 'magic'"):
        apply_calibrator({"method": "magic"}, np.array([0.5]))
