"""The rule-based points model: validation errors and the points it gives."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
import yaml
from pydantic import ValidationError

from leadctl.config import parse_config
from leadctl.config.scoring import PointsConfig, PointsModelConfig
from leadctl.errors import ConfigError
from leadctl.models import points as P

SNAP = datetime(2026, 7, 1, tzinfo=UTC)

MODEL = {
    "demographic": [
        {"feature": "seniority", "weight": 30, "choices": {"VP": 10, "Student": -10}, "other": 2},
        {"feature": "budget", "weight": 20, "at_least": {0: 0, 10000: 5, 50000: 10}, "missing": -5},
    ],
    "behavioural": [
        {
            "name": "Demo",
            "activity_types": ["Request Demo"],
            "weight": 30,
            "window_days": 30,
            "at_least": {1: 5, 2: 10},
            "product_group_only": True,
        },
        {
            "name": "Visits",
            "activity_types": ["Visit Webpage"],
            "weight": 20,
            "half_life_days": 10,
            "at_least": {0.5: 10},
        },
    ],
}


def _model(**changes) -> PointsModelConfig:
    data = yaml.safe_load(yaml.safe_dump(MODEL))
    for key, value in changes.items():
        section, index, field = key.split("__")
        data[section][int(index)][field] = value
    return PointsModelConfig.model_validate(data)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"demographic__0__weight": 40},
            "demographic weights add up to 60 %; at most 50 % is allowed",
        ),
        (
            {"behavioural__0__weight": 20},
            r"weights add up to 90 % \(demographic 50 \+ behavioural 40\)",
        ),
        ({"demographic__0__choices": {"VP": 11}}, "priorities must be between -10 and 10"),
        ({"behavioural__1__at_least": {1: -12}}, "priorities must be between -10 and 10"),
        ({"behavioural__1__window_days": 7}, "give exactly one of window_days or half_life_days"),
        (
            {"behavioural__0__window_days": None},
            "give exactly one of window_days or half_life_days",
        ),
        ({"demographic__1__choices": {"x": 1}}, "give either choices or at_least"),
        ({"behavioural__0__weight": 0}, "greater than 0"),
    ],
)
def test_validation_errors(changes, message):
    with pytest.raises(ValidationError, match=message):
        _model(**changes)


def test_config_errors_name_the_key(tmp_path):
    bad = {
        "points": {"default": {**MODEL, "demographic": [{**MODEL["demographic"][0], "wieght": 3}]}}
    }
    with pytest.raises(
        ConfigError,
        match="unknown key 'points.default.demographic.0.wieght'; did you mean 'weight'",
    ):
        parse_config(bad, source=tmp_path / "c.yaml")


def test_default_config_points_model_is_valid():
    from leadctl.config import load_config

    cfg = load_config(Path(__file__).resolve().parents[2] / "configs" / "default.yaml")
    model = cfg.points.for_group("Analytics")
    assert model is not None and model is cfg.points.default
    assert sum(a.weight for a in model.demographic) <= 50
    assert sum(a.weight for a in model.demographic + model.behavioural) == 100


def test_group_model_overrides_default():
    other = _model(demographic__0__other=5)
    cfg = PointsConfig(default=_model(), groups={"B": other})
    assert cfg.for_group("B") is other and cfg.for_group("A") is cfg.default


def test_unknown_or_mistyped_attribute():
    model = _model(demographic__0__feature="senority")
    with pytest.raises(
        ConfigError, match="unknown feature 'senority' \\(did you mean 'seniority'\\?\\)"
    ):
        P.check_attributes(model, {"seniority": "categorical", "budget": "numeric"}, "A")
    with pytest.raises(ConfigError, match="'budget' is categorical: use choices, not at_least"):
        P.check_attributes(_model(), {"seniority": "categorical", "budget": "categorical"}, "A")


def test_points_add_up():
    model = _model()
    events = pl.DataFrame(
        {
            "lead_id": ["L1", "L1", "L1", "L2"],
            "snapshot_at": [SNAP] * 4,
            "activity_type": ["Request Demo", "Request Demo", "Visit Webpage", "Request Demo"],
            "product_group": ["A", "A", None, "B"],
            "age_days": [1.0, 40.0, 10.0, 2.0],
        }
    ).lazy()
    keys = pl.DataFrame(
        {"lead_id": ["L1", "L2", "L3"], "product_group": ["A"] * 3, "snapshot_at": [SNAP] * 3}
    ).lazy()
    counts = P.behaviour_counts(events, keys, model).sort("lead_id").collect()
    assert counts["beh_0_n"].to_list() == [1.0, 0.0, 0.0]  # window 30 d, group A only
    assert counts["beh_1_n"].to_list() == pytest.approx(
        [0.5, 0.0, 0.0]
    )  # one visit, one half-life old
    frame = counts.with_columns(
        seniority=pl.Series(["VP", "Student", "CEO"]), budget=pl.Series([20000.0, None, 60000.0])
    )
    scored = P.apply_points(frame, model).sort("lead_id")
    # L1: VP 30 + budget 10k-50k 10 = 40 of 50 demographic; demo 15 + visits 20 = 35 of 50.
    # L2: student -30 + missing budget -10 -> fit 0; no behaviour. L3: other 6 + 20 = 26.
    assert scored["dem_0"].to_list() == [30.0, -30.0, 6.0]
    assert scored["fit_score"].to_list() == [80.0, 0.0, 52.0]
    assert scored["engagement_score"].to_list() == [70.0, 0.0, 0.0]
    assert scored["score"].to_list() == [75.0, 0.0, 26.0]
    assert scored["propensity"].to_list() == [0.75, 0.0, 0.26]


def test_version_changes_with_rules():
    assert P.version(_model()) == P.version(_model())
    assert P.version(_model()) != P.version(_model(demographic__0__other=3))
    assert P.attribute_ids(_model()) == ["dem_0", "dem_1", "beh_0", "beh_1"]
