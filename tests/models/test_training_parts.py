"""LightGBM wrapper determinism, the time / stratified split, and the training guards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from leadctl.config.scoring import GuardsConfig, LightGBMConfig
from leadctl.errors import ModelError
from leadctl.features.spec import Feature
from leadctl.models.guards import label_shortfall, leakage
from leadctl.models.lgbm import BinaryModel, contributions, load_booster, predict_raw
from leadctl.models.split import make_split


def _data(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(size=n), rng.integers(0, 4, n), rng.normal(size=n)]).astype(
        np.float32
    )
    y = rng.random(n) < 1 / (1 + np.exp(-(2 * X[:, 0] + (X[:, 1] == 2) - 2)))
    return X, y


FEATS = [
    Feature("x", "numeric", "fit", "x", "number"),
    Feature("c", "categorical", "fit", "c", "category", categories=("a", "b", "c", "d")),
    Feature("noise", "numeric", "fit", "n", "number"),
]


def test_same_data_gives_byte_identical_models_and_exact_contributions():
    X, y = _data()
    cfg = LightGBMConfig(max_rounds=60, num_threads=1)
    a = BinaryModel(FEATS, cfg).fit(X[:2000], y[:2000], X[2000:], y[2000:])
    b = BinaryModel(FEATS, cfg).fit(X[:2000], y[:2000], X[2000:], y[2000:])
    assert a.model_text() == b.model_text()
    other = BinaryModel(FEATS, LightGBMConfig(max_rounds=60, seed=7, num_threads=1)).fit(
        X[:2000], y[:2000], X[2000:], y[2000:]
    )
    assert other.model_text() != a.model_text()  # the seed matters (feature_fraction < 1)
    booster = load_booster(a.model_text(), "test")
    raw = predict_raw(booster, X[:50], 1)
    contrib = contributions(booster, X[:50], 1)
    full = booster.predict(X[:50], pred_contrib=True)
    logit = np.log(raw / (1 - raw))
    np.testing.assert_allclose(contrib.sum(axis=1) + full[:, -1], logit, rtol=1e-6, atol=1e-6)
    assert contrib.shape == (50, 3) and np.abs(contrib[:, 0]).mean() > np.abs(contrib[:, 2]).mean()
    imp = a.importance()
    assert max(imp, key=imp.get) == "x"


def test_damaged_model_file_is_a_model_error():
    with pytest.raises(ModelError, match="is not a readable LightGBM model"):
        load_booster("tree\nnonsense", "models/A/propensity.txt")


def _rows(dates: int, per_date: int, positives_every: int) -> pl.DataFrame:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {
            "lead_id": f"L{i:04d}",
            "snapshot_at": start + timedelta(days=30 * d),
            "label": i % positives_every == 0,
        }
        for d in range(dates)
        for i in range(per_date)
    ]
    return pl.DataFrame(rows)


def test_time_split_holds_out_the_latest_snapshots():
    frame = _rows(dates=6, per_date=200, positives_every=10)
    split = make_split(frame, holdout_snapshots=2, stratified_share=0.3)
    assert split.kind == "time"
    held_dates = set(frame.filter(pl.Series(~split.train))["snapshot_at"].to_list())
    assert held_dates == set(frame["snapshot_at"].unique().sort().tail(2).to_list())
    assert frame.filter(pl.Series(split.train))["snapshot_at"].max() < min(held_dates)
    assert not (split.valid & split.test).any() and (split.valid | split.test | split.train).all()
    valid_leads = set(frame.filter(pl.Series(split.valid))["lead_id"])
    test_leads = set(frame.filter(pl.Series(split.test))["lead_id"])
    assert valid_leads.isdisjoint(test_leads) and abs(len(valid_leads) - len(test_leads)) <= 1


def test_stratified_fallback_without_dates_or_late_positives():
    one_date = _rows(dates=1, per_date=1000, positives_every=10)
    split = make_split(one_date, holdout_snapshots=3, stratified_share=0.3)
    assert split.kind == "stratified" and "no usable dates" in split.note
    y = one_date["label"].to_numpy()
    assert (~split.train).sum() == 300 and y[
        ~split.train
    ].sum() == 30  # stratified: 30 % of each class
    frame = _rows(
        dates=4, per_date=100, positives_every=1000
    )  # one positive per date: too few to hold out
    assert make_split(frame, holdout_snapshots=1, stratified_share=0.3).note.startswith(
        "too few positives"
    )


def test_label_shortfall():
    frame = _rows(dates=2, per_date=500, positives_every=10)  # 500 leads, 50 positive leads
    msg = label_shortfall(frame, GuardsConfig(min_labelled_leads=1000, min_positives=120))
    assert msg == "only 500 labelled leads (need 1,000) and 50 positive leads (need 120)"
    assert label_shortfall(frame, GuardsConfig(min_labelled_leads=500, min_positives=50)) is None


def test_leakage_flags_near_perfect_and_sales_set_columns():
    rng = np.random.default_rng(1)
    y = rng.random(2000) < 0.1
    frame = pl.DataFrame(
        {
            "leak": np.where(y, rng.uniform(10, 20, 2000), rng.uniform(0, 9, 2000)),
            "fine": rng.normal(size=2000) + y,
            "stage": np.where(y, "SQL", "Inquiry"),
        }
    )
    feats = [
        Feature(
            "leak",
            "numeric",
            "engagement",
            "leak",
            "number",
            source="custom",
            params={"column": "leak"},
        ),
        Feature("fine", "numeric", "engagement", "fine", "number"),
        Feature(
            "stage",
            "categorical",
            "fit",
            "stage",
            "category",
            source="custom",
            params={"column": "stage"},
        ),
    ]
    flagged = leakage(frame, y, feats, GuardsConfig())
    assert [(e.feature, e.kept) for e in flagged] == [("leak", False), ("stage", False)]
    assert "univariate AUC 1.000 >= 0.95" in flagged[0].reason
    assert "set by sales after contact" in flagged[1].reason
    allowed = leakage(frame, y, feats, GuardsConfig(allow_features=["leak"], set_by_sales=[]))
    assert [(e.feature, e.kept) for e in allowed] == [("leak", True), ("stage", False)]
