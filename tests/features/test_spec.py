"""Feature spec: categories, encoding and the differences `score` refuses."""

from __future__ import annotations

import numpy as np
import polars as pl

from leadctl.config.scoring import CustomFeature, FeaturesConfig
from leadctl.features.spec import (
    OTHER,
    Feature,
    encode,
    feature_defs,
    learn_categories,
    settings,
    spec_differences,
)


def test_defs_follow_config_and_vocabulary():
    cfg = FeaturesConfig(
        windows_days=[7, 30],
        exclude=["region"],
        custom=[CustomFeature(column="budget", kind="numeric", group="engagement")],
    )
    names = [f.name for f in feature_defs(cfg, ["Request Demo"])]
    assert "region" not in names and "seniority" in names
    assert {
        "n_request_demo_7d",
        "n_request_demo_30d",
        "days_since_request_demo",
        "colleagues_engaged_30d",
    } <= set(names)
    budget = next(f for f in feature_defs(cfg, []) if f.name == "budget")
    assert (budget.kind, budget.group, budget.source) == ("numeric", "engagement", "custom")
    assert all(f.group in ("fit", "engagement") for f in feature_defs(cfg, []))


def test_categories_keep_frequent_values_and_fold_the_rest():
    frame = pl.DataFrame({"c": ["a"] * 5 + ["b"] * 3 + ["c"] * 1 + [None] * 2})
    [feat] = learn_categories(
        frame,
        [Feature("c", "categorical", "fit", "C", "category")],
        FeaturesConfig(min_category_count=2, max_categories=30),
    )
    assert feat.categories == ("a", "b", OTHER)
    [capped] = learn_categories(
        frame,
        [Feature("c", "categorical", "fit", "C", "category")],
        FeaturesConfig(min_category_count=1, max_categories=2),
    )
    assert capped.categories == ("a", OTHER)


def test_encode_maps_codes_unseen_and_missing():
    feats = [
        Feature("c", "categorical", "fit", "C", "category", categories=("a", "b", OTHER)),
        Feature("d", "categorical", "fit", "D", "category", categories=("x",)),
        Feature("n", "numeric", "engagement", "N", "number"),
    ]
    frame = pl.DataFrame({"c": ["b", "zzz", None], "d": ["x", "new", None], "n": [1.5, None, 3.0]})
    X = encode(frame, feats)
    assert X.dtype == np.float32
    np.testing.assert_array_equal(X[:, 0], [1.0, 2.0, np.nan])  # unseen -> (other); null -> missing
    np.testing.assert_array_equal(X[:, 1], [0.0, np.nan, np.nan])  # no (other) category: missing
    np.testing.assert_array_equal(X[:, 2], [1.5, np.nan, 3.0])
    assert encode(frame.head(0), feats).shape == (0, 3)


def test_spec_differences_name_what_changed():
    cfg = FeaturesConfig(custom=[CustomFeature(column="budget")])
    trained = [{"name": f.name, "kind": f.kind} for f in feature_defs(cfg, ["Request Demo"])]
    same = spec_differences(
        trained, settings(cfg), feature_defs(cfg, ["Request Demo"]), settings(cfg)
    )
    assert same == []
    now = FeaturesConfig(
        custom=[CustomFeature(column="budget", kind="numeric"), CustomFeature(column="tier")],
        half_life_days=7,
    )
    diff = spec_differences(
        trained, settings(cfg), feature_defs(now, ["Request Demo"]), settings(now)
    )
    text = "\n".join(diff)
    assert "the config adds features the model was not trained with: tier" in text
    assert "feature budget was categorical in training, is numeric now" in text
    assert "train.features.half_life_days was 30.0 in training, is 7.0 now" in text
    gone = spec_differences(
        trained, settings(cfg), feature_defs(FeaturesConfig(), ["Request Demo"]), settings(cfg)
    )
    assert gone == ["the model uses features the data/config no longer provide: budget"]


def test_wording_is_not_part_of_the_spec():
    assert settings(FeaturesConfig(activity_phrases={"X": "did x"})) == settings(FeaturesConfig())
    worded = FeaturesConfig(custom=[CustomFeature(column="budget", label="Budget (USD)")])
    assert settings(worded) == settings(FeaturesConfig(custom=[CustomFeature(column="budget")]))
    assert settings(worded) != settings(
        FeaturesConfig(custom=[CustomFeature(column="budget", kind="numeric")])
    )
