"""Disposition expiration: each rule, its boundary, precedence, owners and the config checks."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from stages.test_expire_builders import AS_OF, ago, history, leads, make_inputs, pairs, run, touches

from leadctl.config.expire import ExpireConfig, StageRule, check_expire_config
from leadctl.config.lifecycle import FeedbackReason, LifecycleConfig
from leadctl.errors import ConfigError
from leadctl.stages.expire_common import UTC_DT
from leadctl.stages.expire_rules import expirations


def sal(lead: str, days_in_sal: int, mql_days: int | None = None) -> list[tuple]:
    mql = mql_days if mql_days is not None else days_in_sal + 1
    return [(lead, "A", "MQL", mql), (lead, "A", "SAL", days_in_sal)]


def test_no_touch_expires_on_the_night_the_count_reaches_the_limit() -> None:
    hist = history(*sal("L14", 30), *sal("L13", 30), *sal("Lnew", 10))
    out = run(make_inputs(hist, touch=touches(("L14", 14), ("L13", 13))))
    updates = out["stage_updates"]
    assert pairs(updates, "lead_id", "rule") == [("L14", "no_touch")]
    expected = pl.DataFrame(
        {
            "lead_id": ["L14"],
            "product_group": ["A"],
            "new_stage": ["Recycled"],
            "reason": ["Expired - no activity"],
            "previous_stage": ["SAL"],
            "owner_released": [True],
            "owner_id": ["r1"],
            "team": ["T1"],
            "rule": ["no_touch"],
        }
    )
    assert_frame_equal(updates, expected)


def test_entering_the_stage_counts_as_activity() -> None:
    # Accepted 13 days ago, never touched: 13 days without activity, not 400.
    out = run(make_inputs(history(*sal("L", 13))))
    assert out["stage_updates"].is_empty()
    out = run(make_inputs(history(*sal("L", 14))))
    assert pairs(out["stage_updates"], "lead_id", "rule") == [("L", "no_touch")]


def test_touches_after_as_of_are_not_seen_but_the_as_of_day_counts() -> None:
    hist = history(*sal("Lfuture", 30), *sal("Ltoday", 30))
    touch = touches(("Lfuture", -1, "r1", "Call", 9), ("Ltoday", 0, "r1", "Call", 23))
    out = run(make_inputs(hist, touch=touch))
    assert pairs(out["stage_updates"], "lead_id") == [("Lfuture",)]


def test_max_days_in_stage_fires_even_with_recent_touches() -> None:
    hist = history(
        ("L120", "A", "SAL", 130),
        ("L120", "A", "SQL", 120),
        ("L119", "A", "SAL", 130),
        ("L119", "A", "SQL", 119),
    )
    out = run(make_inputs(hist, touch=touches(("L120", 1), ("L119", 1))))
    assert pairs(out["stage_updates"], "lead_id", "previous_stage", "rule") == [
        ("L120", "SQL", "max_days_in_stage")
    ]


def test_max_days_from_mql_without_reaching_opportunity() -> None:
    hist = history(
        ("L180", "A", "MQL", 180),
        ("L180", "A", "SAL", 100),
        ("L180", "A", "SQL", 20),
        ("L179", "A", "MQL", 179),
        ("L179", "A", "SAL", 100),
        ("L179", "A", "SQL", 20),
        ("Lopp", "A", "MQL", 300),
        ("Lopp", "A", "SAL", 250),
        ("Lopp", "A", "SQL", 200),
        ("Lopp", "A", "Opportunity", 150),
    )
    touch = touches(("L180", 1), ("L179", 1), ("Lopp", 200))
    out = run(make_inputs(hist, touch=touch))
    assert pairs(out["stage_updates"], "lead_id", "rule") == [("L180", "max_days_from_mql")]


def test_an_mql_nobody_accepted_expires_after_180_days() -> None:
    out = run(make_inputs(history(("Lold", "A", "MQL", 180), ("Lnew", "A", "MQL", 179))))
    assert pairs(out["stage_updates"], "lead_id", "previous_stage", "rule") == [
        ("Lold", "MQL", "max_days_from_mql")
    ]


def test_the_first_rule_that_fires_names_the_update() -> None:
    # Every rule fires (no touch, 150 days in SAL, 200 days from MQL): no_touch wins.
    out = run(make_inputs(history(*sal("L", 150, mql_days=200))))
    assert pairs(out["stage_updates"], "rule") == [("no_touch",)]


def test_rules_switched_off_and_custom_stage_and_reason() -> None:
    lifecycle = LifecycleConfig(
        reasons={"Stale": FeedbackReason(action="recycle")},
    )
    cfg = ExpireConfig(
        stage="Recycled",
        reason="Stale",
        rules={"SAL": StageRule(max_days_in_stage=60)},
    )
    hist = history(*sal("Lquiet", 30), *sal("Lold", 60))
    out = run(make_inputs(hist, touch=touches(("Lold", 1))), cfg=cfg, lifecycle=lifecycle)
    assert pairs(out["stage_updates"], "lead_id", "reason", "rule") == [
        ("Lold", "Stale", "max_days_in_stage")
    ]


def test_owner_kept_while_another_group_is_still_worked() -> None:
    hist = history(
        *sal("L", 30), ("L", "B", "MQL", 40), ("L", "B", "SQL", 5), ("M", "A", "SAL", 30)
    )
    out = run(make_inputs(hist, lead=leads(("L", "r1"), ("M", None))), groups=["A", "B"])
    assert pairs(out["stage_updates"], "lead_id", "product_group", "owner_released") == [
        ("L", "A", False),
        ("M", "A", False),  # no owner to release
    ]


def test_a_group_the_lead_never_entered_is_left_alone() -> None:
    # The lead's CRM stage (SAL) belongs to group A; group B has no history of its own.
    hist = history(*sal("L", 30))
    out = run(make_inputs(hist, lead=leads(("L", "r1", "SAL"))), groups=["A", "B"])
    assert pairs(out["stage_updates"], "product_group") == [("A",)]
    assert pairs(out["suppression"], "product_group") == []


def test_a_lead_without_any_history_uses_its_crm_stage() -> None:
    hist = history(("other", "A", "Inquiry", 5))
    out = run(make_inputs(hist, lead=leads(("L", "r1", "SAL"), ("other", "r1"))))
    # No history: in SAL since creation (400 days ago), never touched.
    assert pairs(out["stage_updates"], "lead_id", "rule") == [("L", "no_touch")]


def test_touches_by_owner_ignores_other_reps() -> None:
    hist = history(*sal("L", 30))
    touch = touches(("L", 2, "r2"))
    assert run(make_inputs(hist, touch=touch))["stage_updates"].is_empty()
    out = run(make_inputs(hist, touch=touch), cfg=ExpireConfig(touches_by="owner"))
    assert pairs(out["stage_updates"], "lead_id") == [("L",)]


def test_same_inputs_give_identical_outputs() -> None:
    hist = history(*sal("L2", 30), *sal("L1", 130), ("L3", "A", "Lost", 10, "r2"))
    inputs = make_inputs(hist, touch=touches(("L1", 3), ("L2", 29)))
    first, second = run(inputs), run(inputs)
    for name in first:
        assert_frame_equal(first[name], second[name])


def test_config_that_disagrees_with_the_lifecycle_is_an_error() -> None:
    cfg = ExpireConfig(rules={"Opportunity": StageRule(no_touch_days=30)})
    with pytest.raises(ConfigError, match=r"transitions.Opportunity does not allow 'Recycled'"):
        run(make_inputs(history(*sal("L", 3))), cfg=cfg)
    problems = check_expire_config(
        ExpireConfig(reason="Gone quiet", rules={"Nurture": StageRule(no_touch_days=3)}),
        LifecycleConfig(),
    )
    assert any("'Gone quiet' is not one of lifecycle.reasons" in p for p in problems)
    assert any("expire.rules.Nurture" in p for p in problems)
    assert check_expire_config(ExpireConfig(), LifecycleConfig()) == []


def test_unreachable_stage_is_rejected_by_the_lifecycle_config() -> None:
    transitions = {"Inquiry": ["MQL"], "MQL": ["Inquiry"]}
    with pytest.raises(ValueError, match=r"\['SAL'\] cannot be reached from initial_stage"):
        LifecycleConfig(
            stages=["Inquiry", "MQL", "SAL"],
            transitions=transitions,
            mql_stage="MQL",
            override_stage="MQL",
            recycled_stage="Inquiry",
            disqualified_stage="Inquiry",
            active_sales_stages=["SAL"],
            closed_stages=["Inquiry"],
        )


# Durations around every default limit, plus anything up to 300 days.
DAYS = st.one_of(
    st.sampled_from([0, 13, 14, 15, 44, 45, 46, 59, 60, 61, 119, 120, 121, 179, 180, 181]),
    st.integers(min_value=0, max_value=300),
)


@settings(max_examples=150, deadline=None)
@given(
    in_stage=DAYS,
    since_touch=st.one_of(st.none(), DAYS),
    extra_mql=DAYS,
    stage=st.sampled_from(["SAL", "SQL", "MQL", "Opportunity", "Lost"]),
)
def test_expiry_matches_the_rules_for_any_durations(
    in_stage: int, since_touch: int | None, extra_mql: int, stage: str
) -> None:
    cfg = ExpireConfig()
    state = pl.DataFrame(
        {
            "lead_id": ["L"],
            "product_group": ["A"],
            "stage": [stage],
            "entered_at": [ago(in_stage)],
            "days_in_stage": [in_stage],
            "last_touch_at": [None if since_touch is None else ago(since_touch)],
            "mql_at": [ago(in_stage + extra_mql)],
        },
        schema_overrides={"entered_at": UTC_DT, "last_touch_at": UTC_DT, "mql_at": UTC_DT},
    ).lazy()
    got = expirations(state, cfg, AS_OF).collect()
    rule = cfg.rules.get(stage)
    quiet = in_stage if since_touch is None else min(in_stage, since_touch)
    expected = None
    if rule is not None:
        fired = [
            ("no_touch", rule.no_touch_days, quiet),
            ("max_days_in_stage", rule.max_days_in_stage, in_stage),
            ("max_days_from_mql", rule.max_days_from_mql, in_stage + extra_mql),
        ]
        expected = next((n for n, limit, v in fired if limit is not None and v >= limit), None)
    assert (got["rule"].to_list() or [None]) == [expected]
    assert got["new_stage"].to_list() == ([] if expected is None else ["Recycled"])


def test_days_count_from_as_of_not_the_clock() -> None:
    hist = history(*sal("L", 10))
    assert run(make_inputs(hist))["stage_updates"].is_empty()
    later = date.fromordinal(AS_OF.toordinal() + 4)
    out = run(make_inputs(hist), as_of=later)
    assert pairs(out["stage_updates"], "lead_id", "rule") == [("L", "no_touch")]
