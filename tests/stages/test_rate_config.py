"""The rate config section: what it accepts, what it refuses, and the shipped defaults."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from leadctl.config import load_config, parse_config
from leadctl.config.rating import RATINGS, RateConfig
from leadctl.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_AS_OF = date(2026, 11, 20)


def _rule(**kw: Any) -> dict[str, Any]:
    return {
        "name": "r",
        "owner": "ops",
        "review_by": "2027-01-01",
        "conditions": [{"kind": "account", "named": True}],
        **kw,
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"cutoffs": {"method": "fixed", "fit": [50, 60, 10]}}, "must not increase"),
        ({"cutoffs": {"method": "share", "fit": [0.5, 0.4, 0.2]}}, "sum to at most 1"),
        ({"cutoffs": {"method": "share", "engagement": [0.5, 0.4]}}, "needs 3 values"),
        ({"matrix": {"E1": {"action": "nurture"}}}, "ratings A1..D4"),
        ({"matrix": {"A1": {"action": "call_now"}}}, "fast_track"),
        ({"overrides": [_rule(), _rule()]}, "unique"),
        ({"overrides": [_rule(conditions=[])]}, "at least 1"),
        (
            {"overrides": [_rule(conditions=[{"kind": "field", "field": "title"}])]},
            "exactly one of",
        ),
        (
            {
                "overrides": [
                    _rule(conditions=[{"kind": "field", "field": "t", "equals": "a", "regex": "b"}])
                ]
            },
            r"got \['equals', 'regex'\]",
        ),
        (
            {
                "overrides": [
                    _rule(conditions=[{"kind": "field", "field": "t", "regex": "(?<=x)y"}])
                ]
            },
            "look-around",
        ),
        (
            {
                "overrides": [
                    _rule(conditions=[{"kind": "field", "field": "e", "min": 5, "max": 1}])
                ]
            },
            "min 5.0 > max",
        ),
        (
            {"overrides": [_rule(conditions=[{"kind": "activity", "within_days": 3}])]},
            "types, assets or",
        ),
        ({"overrides": [_rule(conditions=[{"kind": "account"}])]}, "named, target or account_ids"),
        ({"overrides": [_rule(conditions=[{"kind": "weather", "sunny": True}])]}, "kind"),
        ({"overrides": [_rule(owner="")]}, "owner"),
        ({"suggest": {"factors": [0, 1]}}, "positive"),
    ],
)
def test_invalid_rate_config_is_refused(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RateConfig.model_validate(data)


def test_unknown_rate_keys_suggest_the_closest(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"unknown key 'rate.hysteresis.min_stay'; did you mean 'min_stay_days'"
    ):
        parse_config({"rate": {"hysteresis": {"min_stay": 3}}}, source=tmp_path / "c.yaml")


def test_defaults_cover_every_rating_and_field_in_is_an_alias() -> None:
    cfg = RateConfig.model_validate(
        {
            "overrides": [
                _rule(conditions=[{"kind": "field", "field": "country", "in": ["DE", 1, True]}])
            ]
        }
    )
    assert set(cfg.matrix) == set(RATINGS)
    assert cfg.cell("A1").action == "fast_track" and cfg.cell("D4").action == "disqualify"
    assert cfg.overrides[0].conditions[0].in_ == ["DE", 1.0, True]  # type: ignore[union-attr]
    assert cfg.cutoffs_for("Nope") is cfg.cutoffs


def test_shipped_config_has_owned_rules_that_are_current_on_the_sample_date() -> None:
    cfg = load_config(ROOT / "configs" / "default.yaml")
    rate = cfg.rate
    assert rate.overrides, "the default config shows at least one override rule"
    for rule in rate.overrides:
        assert rule.owner and rule.review_by > SAMPLE_AS_OF, rule.name
    assert {c.action for c in rate.matrix.values()} == {
        "fast_track",
        "standard",
        "nurture",
        "disqualify",
    }
    tiers = {c.sla_tier for c in rate.matrix.values()} | {r.sla_tier for r in rate.overrides}
    assert tiers - {None} <= set(cfg.assign.sla_tiers), "every SLA tier is one assign knows"
    assert set(rate.group_cutoffs) <= set(cfg.product_groups)
