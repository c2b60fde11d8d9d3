"""expire end to end on tiny frames: illegal transitions, zombies, suppression, the summary."""

from __future__ import annotations

import json

import polars as pl
from stages.test_expire_builders import (
    AS_OF,
    ago,
    history,
    leads,
    make_inputs,
    pairs,
    reps,
    run,
    touches,
)

from leadctl.config.expire import ExpireConfig, SuppressionConfig, ZombieConfig
from leadctl.schemas import empty_frame
from leadctl.stages.expire import ExpireInputs
from leadctl.stages.expire_common import empty_assignments
from leadctl.stages.expire_summary import METRICS, summarize


def test_illegal_transitions_are_reported_with_count() -> None:
    hist = history(
        ("L1", "A", "Inquiry", 50),
        ("L1", "A", "MQL", 40),
        ("L1", "A", "Won", 30, "r2"),  # MQL -> Won skips the funnel
        ("L2", "A", "SAL", 20),
        ("L2", "A", "SAL", 19),  # re-logging the same stage is no transition
        ("L2", "A", "Zombie", 10, "r2"),  # not a stage at all
        ("L3", None, "MQL", 9),  # a group-less row applies to every group
        ("L3", None, "Opportunity", 8),
        ("L4", "A", "Lost", 200),
        ("L4", "A", "Won", 100),  # outside the 90-day lookback
    )
    out = run(make_inputs(hist), groups=["A", "B"])
    illegal = out["illegal_transitions"]
    assert pairs(
        illegal, "lead_id", "product_group", "from_stage", "to_stage", "changed_by", "issue"
    ) == [
        ("L1", "A", "MQL", "Won", "r2", "not allowed"),
        ("L2", "A", "SAL", "Zombie", "r2", "unknown stage"),
        ("L3", "A", "MQL", "Opportunity", "r1", "not allowed"),
        ("L3", "B", "MQL", "Opportunity", "r1", "not allowed"),
    ]
    assert illegal["team"].to_list() == ["T1"] * 4
    summary = summarize(out, AS_OF)
    assert summary["totals"]["illegal_transitions"] == 4
    assert summary["teams"]["T1"]["reps"]["r2"]["illegal_transitions"] == 2
    everything = run(make_inputs(hist), groups=["A", "B"], cfg=ExpireConfig(lookback_days=0))
    assert everything["illegal_transitions"].height == 5


def test_zombies_are_listed_per_rep_whether_or_not_they_expire() -> None:
    hist = history(
        ("Ztoken", "A", "SAL", 100),  # one touch 10 days ago keeps it clear of the 14-day rule
        ("Zsilent", "A", "SAL", 100),  # no touch for 80 days: a zombie that expires tonight
        ("Lbusy", "A", "SAL", 100),  # two touches in the last 30 days: worked
        ("Lyoung", "A", "SAL", 59),  # too recent to be a zombie
        ("Lopp", "A", "Opportunity", 200),  # not a zombie stage by default
    )
    touch = touches(
        ("Ztoken", 10, "r2"),
        ("Zsilent", 80),
        ("Lbusy", 3),
        ("Lbusy", 12),
    )
    lead = leads(("Ztoken", "r2"), ("Zsilent", "r1"), ("Lbusy",), ("Lyoung",), ("Lopp",))
    out = run(make_inputs(hist, touch=touch, lead=lead))
    assert pairs(
        out["zombies"],
        "owner_id",
        "lead_id",
        "days_in_stage",
        "touches_in_window",
        "expired_tonight",
    ) == [
        ("r1", "Zsilent", 100, 0, True),
        ("r2", "Ztoken", 100, 1, False),
    ]
    cfg = ExpireConfig(zombies=ZombieConfig(stages=["SAL", "Opportunity"], max_touches_in_window=2))
    out = run(make_inputs(hist, touch=touch, lead=lead), cfg=cfg)
    assert pairs(out["zombies"], "lead_id") == [("Lbusy",), ("Lopp",), ("Zsilent",), ("Ztoken",)]


def test_touches_before_the_stage_do_not_count_as_activity_in_it() -> None:
    # Accepted 70 days ago; the two touches in the window came before the latest stage change.
    hist = history(("L", "A", "SAL", 70), ("L", "A", "SQL", 5))
    cfg = ExpireConfig(zombies=ZombieConfig(min_days_in_stage=5))
    out = run(make_inputs(hist, touch=touches(("L", 6), ("L", 7))), cfg=cfg)
    assert pairs(out["zombies"], "lead_id", "stage", "touches_in_window") == [("L", "SQL", 0)]


def test_suppression_after_tonight_updates() -> None:
    hist = history(
        ("Lsal", "A", "SAL", 3),
        ("Lopp", "A", "Opportunity", 300),
        ("Lexp", "A", "SAL", 30),  # expires tonight: back to marketing, not suppressed
        ("Lcomp", "A", "Lost", 10, "r1", "competitor"),
        ("Lmql", "A", "MQL", 2),
        ("Ldq", "A", "Disqualified", 5, "r1", "Not a fit"),
    )
    out = run(make_inputs(hist, touch=touches(("Lsal", 1))))
    assert pairs(out["suppression"], "lead_id", "stage", "source", "reason", "owner_id") == [
        ("Lcomp", "Lost", "reason", "Competitor", "r1"),
        ("Lopp", "Opportunity", "stage", None, "r1"),
        ("Lsal", "SAL", "stage", None, "r1"),
    ]
    assert out["suppression"]["since"].to_list() == [ago(10), ago(300), ago(3)]
    cfg = ExpireConfig(
        suppression=SuppressionConfig(
            active_sales_stages=False,
            extra_stages=["Disqualified", "Recycled"],
            suppress_reasons=False,
        )
    )
    out = run(make_inputs(hist, touch=touches(("Lsal", 1))), cfg=cfg)
    assert pairs(out["suppression"], "lead_id", "stage", "source") == [
        ("Ldq", "Disqualified", "stage"),
        ("Lexp", "Recycled", "stage"),  # moved there tonight
    ]
    assert str(out["suppression"].filter(pl.col("lead_id") == "Lexp")["since"][0].date()) == str(
        AS_OF
    )
    off = ExpireConfig(
        suppression=SuppressionConfig(active_sales_stages=False, suppress_reasons=False)
    )
    assert run(make_inputs(hist), cfg=off)["suppression"].is_empty()


def test_summary_counts_per_team_and_rep() -> None:
    hist = history(
        ("L1", "A", "SAL", 30),
        ("L2", "A", "SAL", 30),
        ("L3", "A", "Lost", 3, "r2", None),
        ("L4", "A", "MQL", 200),
    )
    lead = leads(("L1", "r1"), ("L2", "r2"), ("L3", "r2"), ("L4", None))
    rep = reps(("r1", "North", "m1"), ("r2", "South", "m2"))
    out = run(make_inputs(hist, lead=lead, rep=rep))
    summary = summarize(out, AS_OF)
    json.dumps(summary)  # JSON-able
    assert summary["as_of"] == AS_OF.isoformat()
    assert summary["expired"] == 3
    assert summary["totals"]["expired_no_touch"] == 2
    assert summary["totals"]["expired_max_days_from_mql"] == 1
    assert summary["totals"]["missing_reason"] == 1
    assert set(summary["totals"]) == set(METRICS)
    assert summary["teams"]["North"]["reps"]["r1"]["expired_no_touch"] == 1
    assert summary["teams"]["South"]["totals"]["expired_no_touch"] == 1
    assert summary["teams"]["South"]["reps"]["r2"]["missing_reason"] == 1
    assert summary["teams"]["(no team)"]["reps"]["(unowned)"]["expired_max_days_from_mql"] == 1
    assert summary["rows"]["stage_updates"] == 3


def test_missing_optional_tables_give_empty_outputs() -> None:
    # No stage history, touches, reps or assignment log (tables a config may leave out).
    inputs = ExpireInputs(
        stage_history=empty_frame("stage_history").lazy(),
        sales_touches=empty_frame("sales_touches").lazy(),
        leads=leads(("L", None, "SAL")),
        reps=empty_frame("reps").lazy(),
        assignments=empty_assignments(),
    )
    out = run(inputs)
    # The lead's CRM stage stands in for its history: SAL since creation, never touched.
    assert pairs(out["stage_updates"], "lead_id", "rule", "owner_released", "team") == [
        ("L", "no_touch", False, None)
    ]
    assert pairs(out["zombies"], "owner_id", "lead_id", "expired_tonight") == [
        ("(unowned)", "L", True)
    ]
    for name in ("sla_breaches", "persistence_breaches", "feedback_issues", "reassign"):
        assert out[name].is_empty(), name
    assert summarize(out, AS_OF)["teams"]["(no team)"]["reps"]["(unowned)"]["zombies"] == 1
