"""Override rules: every condition kind, rule order, the override stage, and expiry."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest
from stages.rate_frames import AS_OF, by_lead, config, leads_for, run, scores, table, ts

from leadctl.config.rating import Hysteresis, OverrideRule
from leadctl.errors import ConfigError
from leadctl.stages.rate_overrides import review_rules

COLD = {"fit_score": 30.0, "engagement_score": 30.0}  # C3: nurture without an override


def rule(*conditions: dict[str, Any], name: str = "r", **kw: Any) -> OverrideRule:
    data = {
        "name": name,
        "owner": "ops",
        "review_by": "2026-12-31",
        "conditions": list(conditions),
        **kw,
    }
    return OverrideRule.model_validate(data)


def matched(rows: pl.DataFrame, *rules: OverrideRule, **frames: Any) -> dict[str, Any]:
    """{lead_id: override_rule} after rating `rows` with `rules`."""
    return by_lead(run(rows, config(overrides=list(rules)), **frames)["ratings"], "override_rule")


# --- field conditions ------------------------------------------------------------------------


def test_field_equals_text_ignores_case_and_spaces_unless_asked() -> None:
    rows = scores(*[{"lead_id": i, **COLD} for i in ("a", "b", "c", "d")])
    leads = leads_for(
        rows,
        a={"title": " chief executive "},
        b={"title": "Chief Executive"},
        c={"title": "Chief Exec"},
        d={},
    )
    loose = rule({"kind": "field", "field": "title", "equals": "Chief Executive"})
    assert matched(rows, loose, leads=leads) == {"a": "r", "b": "r", "c": None, "d": None}
    strict = rule(
        {"kind": "field", "field": "title", "equals": "Chief Executive", "case_sensitive": True}
    )
    assert matched(rows, strict, leads=leads) == {"a": None, "b": "r", "c": None, "d": None}


def test_field_equals_numbers_and_booleans() -> None:
    rows = scores(*[{"lead_id": i, **COLD} for i in ("a", "b", "c")])
    leads = leads_for(
        rows,
        a={"employees": 500, "consent": True},
        b={"employees": 501, "consent": False},
        c={"budget": "500"},
    )
    by_number = rule({"kind": "field", "field": "employees", "equals": 500})
    assert matched(rows, by_number, leads=leads) == {"a": "r", "b": None, "c": None}
    text_number = rule({"kind": "field", "field": "budget", "equals": 500})  # a text column
    assert matched(rows, text_number, leads=leads) == {"a": None, "b": None, "c": "r"}
    by_bool = rule({"kind": "field", "field": "consent", "equals": False})
    assert matched(rows, by_bool, leads=leads) == {"a": None, "b": "r", "c": None}


def test_field_in_matches_any_listed_value() -> None:
    rows = scores(*[{"lead_id": i, **COLD} for i in ("a", "b", "c")])
    leads = leads_for(rows, a={"country": "DE"}, b={"country": "fr"}, c={"country": "US"})
    r = rule({"kind": "field", "field": "country", "in": ["DE", "FR"]})
    assert matched(rows, r, leads=leads) == {"a": "r", "b": "r", "c": None}


def test_field_regex_searches_the_value() -> None:
    rows = scores(*[{"lead_id": i, **COLD} for i in ("a", "b", "c")])
    leads = leads_for(rows, a={"title": "VP Data & Analytics"}, b={"title": "Developer"}, c={})
    r = rule({"kind": "field", "field": "title", "regex": r"\bvp\b|chief"})
    assert matched(rows, r, leads=leads) == {"a": "r", "b": None, "c": None}


def test_field_numeric_range_is_inclusive_and_skips_unreadable_values() -> None:
    rows = scores(*[{"lead_id": i, **COLD} for i in ("lo", "in", "hi", "none", "text")])
    leads = leads_for(
        rows,
        lo={"employees": 999},
        **{"in": {"employees": 1000}},
        hi={"employees": 5001},
        text={"budget": "lots"},
    )
    r = rule({"kind": "field", "field": "employees", "min": 1000, "max": 5000})
    assert matched(rows, r, leads=leads) == {
        "in": "r",
        "hi": None,
        "lo": None,
        "none": None,
        "text": None,
    }
    on_text = rule({"kind": "field", "field": "budget", "min": 0})
    assert matched(rows, on_text, leads=leads)["text"] is None


def test_field_conditions_read_score_columns_and_lists() -> None:
    rows = scores(
        {"lead_id": "a", "propensity": 0.4, "reasons_for": ["Requested demo", "VP"], **COLD},
        {"lead_id": "b", "propensity": 0.2, "reasons_for": ["VP"], **COLD},
        {
            "lead_id": "c",
            "product_group": "Analytics",
            "propensity": 0.4,
            "reasons_for": None,
            **COLD,
        },
    )
    r = rule(
        {"kind": "field", "field": "product_group", "equals": "Cloud"},
        {"kind": "field", "field": "propensity", "min": 0.3},
    )
    assert matched(rows, r) == {"a": "r", "b": None, "c": None}
    demo = rule({"kind": "field", "field": "reasons_for", "regex": "demo"})
    assert matched(rows, demo) == {"a": "r", "b": None, "c": None}


def test_unknown_fields_and_ranges_on_dates_are_config_errors() -> None:
    rows = scores({"lead_id": "a"})
    with pytest.raises(
        ConfigError, match=r"overrides 'r': field 'shoe_size' is not a column .*title"
    ):
        matched(rows, rule({"kind": "field", "field": "shoe_size", "equals": "x"}))
    with pytest.raises(ConfigError, match="'created_at' is a date/time"):
        matched(rows, rule({"kind": "field", "field": "created_at", "min": 1}))


# --- activity conditions ---------------------------------------------------------------------


def _acts(*rows: tuple[str, str, str, str | None, str | None]) -> pl.DataFrame:
    """(lead_id, activity_type, day, asset_id, product_group) rows."""
    return table(
        "activities",
        *[
            {
                "lead_id": i,
                "activity_type": t,
                "occurred_at": ts(d),
                "asset_id": a,
                "product_group": g,
            }
            for i, t, d, a, g in rows
        ],
    )


def test_activity_type_within_days_counts_only_the_window_up_to_as_of() -> None:
    rows = scores(
        *[{"lead_id": i, **COLD} for i in ("edge", "old", "future", "other_type", "late_today")]
    )
    acts = _acts(
        ("edge", "Request Demo", "2026-10-22", None, "Cloud"),  # 30 days up to and incl. 11-20
        ("old", "Request Demo", "2026-10-21", None, "Cloud"),
        ("future", "Request Demo", "2026-11-21", None, "Cloud"),
        ("other_type", "Visit Webpage", "2026-11-19", None, "Cloud"),
        ("late_today", "request demo", "2026-11-20", None, "Cloud"),
    )
    r = rule({"kind": "activity", "types": ["Request Demo"], "within_days": 30})
    assert matched(rows, r, activities=acts) == {
        "edge": "r",
        "old": None,
        "future": None,
        "other_type": None,
        "late_today": "r",
    }


def test_activity_same_product_group_and_min_count() -> None:
    rows = scores(
        {"lead_id": "a", "product_group": "Cloud", **COLD},
        {"lead_id": "a", "product_group": "Analytics", **COLD},
        {"lead_id": "b", "product_group": "Cloud", **COLD},
    )
    acts = _acts(
        ("a", "Attend Webinar", "2026-11-01", None, "Cloud"),
        ("a", "Attend Webinar", "2026-11-02", None, "Cloud"),
        ("b", "Attend Webinar", "2026-11-01", None, None),
        ("b", "Attend Webinar", "2026-11-02", None, "Cloud"),
    )
    same = rule({"kind": "activity", "types": ["Attend Webinar"], "min_count": 2})
    out = run(rows, config(overrides=[same]), activities=acts)["ratings"]
    assert out.select("lead_id", "product_group", "override_rule").rows() == [
        ("a", "Analytics", None),
        ("a", "Cloud", "r"),
        ("b", "Cloud", None),
    ]
    anywhere = rule(
        {
            "kind": "activity",
            "types": ["Attend Webinar"],
            "min_count": 2,
            "same_product_group": False,
        }
    )
    out = run(rows, config(overrides=[anywhere]), activities=acts)["ratings"]
    assert out["override_rule"].to_list() == ["r", "r", "r"]


def test_activity_assets_consumed_by_name_or_regex() -> None:
    rows = scores(*[{"lead_id": i, **COLD} for i in ("a", "b", "c")])
    acts = _acts(
        ("a", "Download Content", "2026-06-01", "Cloud Buyers Guide", "Cloud"),
        ("b", "Download Content", "2026-06-01", "Cloud Whitepaper", "Cloud"),
        ("c", "Download Content", "2026-06-01", None, "Cloud"),
    )
    by_name = rule({"kind": "activity", "assets": ["cloud buyers guide"]})
    assert matched(rows, by_name, activities=acts) == {"a": "r", "b": None, "c": None}
    by_regex = rule({"kind": "activity", "asset_regex": "white ?paper"})
    assert matched(rows, by_regex, activities=acts) == {"a": None, "b": "r", "c": None}


# --- account conditions ----------------------------------------------------------------------


def test_account_named_target_and_listed_ids() -> None:
    rows = scores(*[{"lead_id": i, **COLD} for i in ("named", "target", "plain", "none", "ghost")])
    leads = leads_for(
        rows,
        named={"account_id": "A1"},
        target={"account_id": "A2"},
        plain={"account_id": "A3"},
        ghost={"account_id": "A9"},
    )
    accounts = table(
        "accounts",
        {"account_id": "A1", "named_account": True, "target_account": False},
        {"account_id": "A2", "named_account": None, "target_account": True},
        {"account_id": "A3"},
    )
    frames = {"leads": leads, "accounts": accounts}
    assert matched(rows, rule({"kind": "account", "named": True}), **frames) == {
        "named": "r",
        "target": None,
        "plain": None,
        "none": None,
        "ghost": None,
    }
    assert matched(rows, rule({"kind": "account", "target": True}), **frames) == {
        "named": None,
        "target": "r",
        "plain": None,
        "none": None,
        "ghost": None,
    }
    not_named = rule({"kind": "account", "named": False})
    assert matched(rows, not_named, **frames) == {
        "named": None,
        "target": "r",
        "plain": "r",
        "none": None,
        "ghost": "r",
    }
    listed = rule({"kind": "account", "account_ids": ["A3", " A9 "]})
    assert matched(rows, listed, **frames) == {
        "named": None,
        "target": None,
        "plain": "r",
        "none": None,
        "ghost": "r",
    }


# --- what a match does -----------------------------------------------------------------------


def test_first_matching_rule_wins_and_sets_action_sla_and_override_stage() -> None:
    rows = scores({"lead_id": "a", **COLD}, {"lead_id": "b", **COLD}, {"lead_id": "c", **COLD})
    leads = leads_for(rows, a={"title": "CEO", "country": "DE"}, b={"country": "DE"})
    first = rule(
        {"kind": "field", "field": "title", "equals": "CEO"},
        name="ceo",
        action="fast_track",
        sla_tier="fast_track",
    )
    second = rule(
        {"kind": "field", "field": "country", "equals": "DE"},
        name="germany",
        action="standard",
        sla_tier="standard",
    )
    r = run(rows, config(overrides=[first, second]), leads=leads)["ratings"]
    assert by_lead(r, "override_rule") == {"a": "ceo", "b": "germany", "c": None}
    assert by_lead(r, "action") == {"a": "fast_track", "b": "standard", "c": "nurture"}
    assert by_lead(r, "sla_tier") == {"a": "fast_track", "b": "standard", "c": None}
    assert by_lead(r, "stage_to_set") == {"a": "MQL-Override", "b": "MQL-Override", "c": None}
    assert by_lead(r, "rating") == {"a": "C3", "b": "C3", "c": "C3"}  # the rating itself stays


def test_override_beats_the_propensity_floor_but_not_sales_stages() -> None:
    rows = scores(
        {"lead_id": "low", "propensity": 0.0, **COLD},
        {"lead_id": "sql", **COLD},
    )
    history = table(
        "stage_history", {"lead_id": "sql", "stage": "SQL", "changed_at": ts("2026-11-01")}
    )
    r = run(
        rows,
        config(
            min_propensity=0.5,
            overrides=[rule({"kind": "field", "field": "product_group", "equals": "Cloud"})],
        ),
        history=history,
    )["ratings"]
    assert by_lead(r, "is_mql") == {"low": True, "sql": False}
    assert by_lead(r, "override_rule") == {"low": "r", "sql": "r"}


def test_override_to_nurture_or_disqualify_wins_over_rating_and_hysteresis() -> None:
    hot = {"fit_score": 90.0, "engagement_score": 90.0}
    rows = scores({"lead_id": "n", **hot}, {"lead_id": "d", **hot})
    leads = leads_for(rows, n={"title": "Student"}, d={"company": "RivalSoft"})
    rules = [
        rule(
            {"kind": "field", "field": "title", "equals": "student"},
            name="students",
            action="nurture",
        ),
        rule(
            {"kind": "field", "field": "company", "regex": "rivalsoft"},
            name="rivals",
            action="disqualify",
        ),
    ]
    prev = pl.DataFrame(
        {
            "lead_id": ["d"],
            "product_group": ["Cloud"],
            "is_mql": [True],
            "mql_since": [date(2026, 11, 19)],
            "action": ["fast_track"],
            "sla_tier": [None],
            "override_rule": [None],
            "reentry_count": [0],
            "rating": ["A1"],
        }
    )
    cfg = config(
        overrides=rules, hysteresis=Hysteresis(margin=50, propensity_margin=0, min_stay_days=30)
    )
    out = run(rows, cfg, leads=leads, previous=prev)
    assert by_lead(out["ratings"], "action") == {"n": "nurture", "d": "disqualify"}
    assert by_lead(out["ratings"], "is_mql") == {"n": False, "d": False}
    assert out["nurture"].rows() == [
        ("n", "Cloud", "A1", "override rule 'students'; for: title: VP")
    ]


def test_an_mql_kept_by_hysteresis_keeps_its_override_rule() -> None:
    rows = scores({"lead_id": "k", **COLD})
    prev = pl.DataFrame(
        {
            "lead_id": ["k"],
            "product_group": ["Cloud"],
            "is_mql": [True],
            "mql_since": [date(2026, 11, 18)],
            "action": ["fast_track"],
            "sla_tier": ["fast_track"],
            "override_rule": ["old-rule"],
            "reentry_count": [0],
            "rating": ["C3"],
        }
    )
    cfg = config(hysteresis=Hysteresis(margin=0, propensity_margin=0, min_stay_days=7))
    r = run(rows, cfg, previous=prev)["ratings"].row(0, named=True)
    assert (r["is_mql"], r["override_rule"], r["action"]) == (True, "old-rule", "fast_track")


# --- expiry ----------------------------------------------------------------------------------


def test_review_rules_applies_up_to_review_by_and_reports_the_rest() -> None:
    rules = [
        rule({"kind": "account", "named": True}, name="expired", review_by="2026-11-19"),
        rule({"kind": "account", "named": True}, name="today", review_by="2026-11-20"),
        rule({"kind": "account", "named": True}, name="later", review_by="2027-06-01"),
    ]
    review = review_rules(rules, AS_OF, warn_days=14)
    assert [r.name for r in review.active] == ["today", "later"]
    assert review.expired == [
        {"name": "expired", "owner": "ops", "review_by": "2026-11-19", "days_overdue": 1}
    ]
    assert review.due_soon == [
        {"name": "today", "owner": "ops", "review_by": "2026-11-20", "days_left": 0}
    ]


def test_an_expired_rule_stops_applying() -> None:
    rows = scores({"lead_id": "a", **COLD})
    expired = rule(
        {"kind": "field", "field": "lead_id", "equals": "a"}, name="old", review_by="2026-11-01"
    )
    fallback = rule(
        {"kind": "field", "field": "lead_id", "equals": "a"}, name="new", action="standard"
    )
    assert matched(rows, expired) == {"a": None}
    r = run(rows, config(overrides=[expired, fallback]))["ratings"]
    assert by_lead(r, "override_rule") == {"a": "new"}
    assert by_lead(r, "action") == {"a": "standard"}
    assert (
        run(rows, config(overrides=[expired]), as_of=date(2026, 10, 31))["ratings"][
            "override_rule"
        ][0]
        == "old"
    )
