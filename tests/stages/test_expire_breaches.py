"""SLA and persistence breaches, computed from the assignment log and sales touches."""

from __future__ import annotations

from datetime import date

from stages.test_expire_builders import (
    CRITERIA,
    ago,
    assignments,
    history,
    make_inputs,
    pairs,
    reps,
    run,
    touches,
)

from leadctl.config import LeadctlConfig
from leadctl.config.expire import (
    ExpireConfig,
    PersistenceConfig,
    PersistenceCriteria,
    PersistenceRule,
    SlaConfig,
    persistence_criteria,
)


def in_mql(*leads: str) -> list[tuple]:
    return [(lead, "A", "MQL", 5) for lead in leads]


def test_untouched_assignment_past_its_due_time_is_reassigned() -> None:
    log = assignments(("L", "A", "r1", "standard", 4, 2))
    out = run(make_inputs(history(*in_mql("L")), assigned=log))
    row = out["sla_breaches"].row(0, named=True)
    assert out["sla_breaches"].height == 1
    assert row["status"] == "untouched"
    assert row["action"] == "reassign"
    assert row["escalate_to"] is None
    assert row["current_stage"] == "MQL"
    assert row["first_touch_at"] is None
    assert row["hours_overdue"] == 72.0  # due 2 days before as-of, counted to the end of as-of
    assert pairs(out["reassign"], "lead_id", "previous_owner_id", "team", "source", "reason") == [
        ("L", "r1", "T1", "sla_breach", f"SLA missed: due {ago(2):%Y-%m-%dT%H:%M:%SZ}")
    ]


def test_first_touch_decides_late_on_time_or_not_counted() -> None:
    log = assignments(
        ("Llate", "A", "r1", "standard", 6, 4),
        ("Lontime", "A", "r1", "standard", 6, 4),
        ("Lbefore", "A", "r1", "standard", 6, 4),
    )
    touch = touches(
        ("Llate", 3),  # a day after the deadline
        ("Lontime", 5),
        ("Lbefore", 7),  # before the assignment: does not count
    )
    out = run(
        make_inputs(history(*in_mql("Llate", "Lontime", "Lbefore")), touch=touch, assigned=log)
    )
    assert pairs(out["sla_breaches"], "lead_id", "status", "hours_overdue", "action") == [
        ("Lbefore", "untouched", 120.0, "reassign"),
        ("Llate", "late", 24.0, "none"),
    ]
    assert pairs(out["reassign"], "lead_id") == [("Lbefore",)]


def test_escalation_goes_to_the_owner_manager_else_the_team_manager() -> None:
    log = assignments(
        ("L1", "A", "r1", "standard", 4, 2),
        ("L2", "A", "r3", "standard", 4, 2),
    )
    rep = reps(("r1", "T1", "m1"), ("r2", "T2", "m2"), ("r4", "T2", "m2"), ("r3", "T2", None))
    cfg = ExpireConfig(sla=SlaConfig(action="escalate"))
    out = run(make_inputs(history(*in_mql("L1", "L2")), rep=rep, assigned=log), cfg=cfg)
    assert pairs(out["sla_breaches"], "lead_id", "action", "escalate_to") == [
        ("L1", "escalate", "m1"),
        ("L2", "escalate", "m2"),
    ]
    assert out["reassign"].is_empty()


def test_not_yet_due_reassigned_or_closed_leads() -> None:
    log = assignments(
        ("Lnotdue", "A", "r1", "standard", 1, -1),  # due tomorrow
        ("Lmoved", "A", "r1", "standard", 9, 7),  # missed, then reassigned …
        ("Lmoved", "A", "r2", "standard", 1, -1),  # … and the new owner is not due yet
        ("Lgone", "A", "r1", "standard", 9, 7),
    )
    hist = history(
        *in_mql("Lnotdue", "Lmoved"),
        ("Lgone", "A", "MQL", 10),
        ("Lgone", "A", "Disqualified", 1, "r1", "Duplicate"),
    )
    out = run(make_inputs(hist, assigned=log))
    assert pairs(out["sla_breaches"], "lead_id", "status", "current_stage", "action") == [
        ("Lgone", "untouched", "Disqualified", "none")
    ]


def test_a_lead_expiring_tonight_is_not_also_reassigned() -> None:
    log = assignments(("L", "A", "r1", "standard", 20, 19))
    hist = history(("L", "A", "MQL", 21), ("L", "A", "SAL", 20))  # untouched for 20 days
    out = run(make_inputs(hist, assigned=log))
    assert pairs(out["stage_updates"], "lead_id", "rule") == [("L", "no_touch")]
    assert pairs(out["sla_breaches"], "lead_id", "status", "current_stage", "action") == [
        ("L", "untouched", "SAL", "none")
    ]
    assert out["reassign"].is_empty()


def test_tonight_assignments_are_checked_from_the_next_night() -> None:
    # Assigned by tonight's run (logged on as-of), due during as-of: the rep gets it only now.
    log = assignments(("L", "A", "r1", "fast_track", 0, -0.5))
    inputs = make_inputs(history(*in_mql("L")), assigned=log)
    assert run(inputs)["sla_breaches"].is_empty()
    tomorrow = date.fromordinal(ago(-1).date().toordinal())
    out = run(inputs, as_of=tomorrow)
    assert pairs(out["sla_breaches"], "lead_id", "status", "hours_overdue") == [
        ("L", "untouched", 36.0)
    ]


def test_sla_touches_by_owner_only_when_configured() -> None:
    log = assignments(("L", "A", "r1", "standard", 6, 4))
    inputs = make_inputs(history(*in_mql("L")), touch=touches(("L", 5, "r2")), assigned=log)
    assert run(inputs)["sla_breaches"].is_empty()
    out = run(inputs, cfg=ExpireConfig(touches_by="owner"))
    assert pairs(out["sla_breaches"], "lead_id", "status") == [("L", "untouched")]


def test_sla_lookback_limits_old_deadlines() -> None:
    log = assignments(("L", "A", "r1", "standard", 100, 95))
    inputs = make_inputs(history(*in_mql("L")), assigned=log)
    assert run(inputs)["sla_breaches"].is_empty()
    assert run(inputs, cfg=ExpireConfig(lookback_days=0))["sla_breaches"].height == 1


def worked_then_closed(lead: str, reason: str = "Timing", stage: str = "Recycled") -> list[tuple]:
    return [(lead, "A", "MQL", 30), (lead, "A", "SAL", 25), (lead, "A", stage, 5, "r1", reason)]


def test_persistence_counts_attempts_and_channels_between_assignment_and_close() -> None:
    hist = history(
        *worked_then_closed("Lfew"), *worked_then_closed("Lmono"), *worked_then_closed("Lok")
    )
    log = assignments(*[(lead, "A", "r1", "standard", 25, 24) for lead in ("Lfew", "Lmono", "Lok")])
    touch = touches(
        ("Lfew", 24, "r1", "Call"),
        ("Lfew", 20, "r1", "Email"),
        ("Lfew", 4, "r1", "Call"),  # after the close: not an attempt
        ("Lfew", 26, "r1", "Call"),  # before the assignment: not an attempt
        ("Lmono", 24, "r1", "Call"),
        ("Lmono", 22, "r1", "Call"),
        ("Lmono", 20, "r1", "Call"),
        ("Lok", 24, "r1", "Call"),
        ("Lok", 22, "r1", "Email"),
        ("Lok", 20, "r1", "Call"),
    )
    out = run(make_inputs(hist, touch=touch, assigned=log))
    assert pairs(
        out["persistence_breaches"],
        "lead_id",
        "sla_tier",
        "attempts",
        "channels",
        "min_attempts",
        "issue",
    ) == [
        ("Lfew", "standard", 2, 2, 3, "too_few_attempts"),
        ("Lmono", "standard", 3, 1, 3, "too_few_channels"),
    ]
    row = out["persistence_breaches"].row(0, named=True)
    assert (row["rep_id"], row["team"], row["stage"], row["reason"]) == (
        "r1",
        "T1",
        "Recycled",
        "Timing",
    )
    assert row["closed_at"] == ago(5)
    assert row["pursuit_started_at"] == ago(25)


def test_persistence_window_and_tiers() -> None:
    criteria = PersistenceCriteria(
        tiers={"fast_track": PersistenceRule(min_attempts=2, min_channels=1, within_days=3)},
        default_tier=None,
    )
    hist = history(
        *worked_then_closed("Lslow"), *worked_then_closed("Lodd"), *worked_then_closed("Lnolog")
    )
    log = assignments(
        ("Lslow", "A", "r1", "fast_track", 25, 24), ("Lodd", "A", "r1", "vip", 25, 24)
    )
    touch = touches(("Lslow", 24), ("Lslow", 10), ("Lodd", 24), ("Lodd", 23))
    out = run(make_inputs(hist, touch=touch, assigned=log), criteria=criteria)
    # Lslow's second attempt came after the 3-day window; "vip" has no criteria; Lnolog has no
    # assignment and no default tier, so it is not checked.
    assert pairs(out["persistence_breaches"], "lead_id", "attempts", "issue") == [
        ("Lodd", 2, "unknown_tier"),
        ("Lslow", 1, "too_few_attempts"),
    ]


def test_persistence_promised_in_the_log_wins_over_the_tier() -> None:
    hist = history(
        *worked_then_closed("Lone"), *worked_then_closed("Lshort"), *worked_then_closed("Lvip")
    )
    log = assignments(
        ("Lone", "A", "r1", "standard", 25, 24, "T1", 1),  # one attempt was promised
        ("Lshort", "A", "r1", "standard", 25, 24, "T1", 2, 2),  # two, within two days
        ("Lvip", "A", "r1", "vip", 25, 24, "T1", 2, 30),  # a tier tonight's config lacks
    )
    touch = touches(
        ("Lone", 24, "r1", "Call"),
        ("Lshort", 24, "r1", "Call"),
        ("Lshort", 21, "r1", "Email"),  # three days after the assignment: too late
        ("Lvip", 24, "r1", "Call"),
        ("Lvip", 21, "r1", "Call"),
    )
    out = run(make_inputs(hist, touch=touch, assigned=log))
    assert pairs(
        out["persistence_breaches"], "lead_id", "attempts", "min_attempts", "min_channels", "issue"
    ) == [("Lshort", 1, 2, 2, "too_few_attempts; too_few_channels")]


def test_unassigned_leads_use_the_default_tier_from_their_mql_date() -> None:
    hist = history(*worked_then_closed("L"), ("Ljunk", "A", "Disqualified", 5, "r1", "Student"))
    touch = touches(("L", 29, "r1", "Call"), ("L", 31, "r1", "Email"))
    out = run(make_inputs(hist, touch=touch))
    assert pairs(out["persistence_breaches"], "lead_id", "sla_tier", "attempts", "channels") == [
        ("L", "standard", 1, 1)
    ]
    assert out["persistence_breaches"]["pursuit_started_at"].to_list() == [ago(30)]


def test_exempt_reasons_and_unchecked_stages() -> None:
    hist = history(
        *worked_then_closed("Ldup", reason="Duplicate", stage="Disqualified"),
        *worked_then_closed("Lwon", reason="", stage="Won"),
        *worked_then_closed("Lchk", reason="Not a fit", stage="Disqualified"),
    )
    out = run(make_inputs(hist))
    assert pairs(out["persistence_breaches"], "lead_id") == [("Lchk",)]
    cfg = ExpireConfig(persistence=PersistenceConfig(exempt_reasons=["not A FIT", "duplicate"]))
    assert run(make_inputs(hist), cfg=cfg)["persistence_breaches"].is_empty()


def test_persistence_criteria_come_from_the_assign_pursuit_plans() -> None:
    cfg = LeadctlConfig()
    criteria = persistence_criteria(cfg)
    plans = cfg.assign.pursuit_plans
    assert criteria.default_tier == cfg.assign.default_tier
    for name, tier in cfg.assign.sla_tiers.items():
        plan = plans[tier.pursuit_plan]
        rule = criteria.tiers[name]
        assert rule.min_attempts == plan.min_attempts
        assert rule.within_days == plan.within_days
        assert rule.min_channels == min(2, len({t.channel for t in plan.touches}))
    cfg.expire.persistence.min_channels = 9
    cfg.expire.persistence.check_unassigned = False
    capped = persistence_criteria(cfg)
    assert capped.tiers["standard"].min_channels == 2  # the standard plan uses call and e-mail
    assert capped.default_tier is None
    cfg.assign.sla_tiers["standard"].pursuit_plan = None
    assert persistence_criteria(cfg).tiers["standard"] == PersistenceRule(0, 0)


def test_breaches_only_see_what_was_known_on_as_of() -> None:
    log = assignments(("L", "A", "r1", "standard", 4, 2))
    inputs = make_inputs(history(*in_mql("L")), assigned=log)
    earlier = date.fromordinal(ago(5).date().toordinal())
    assert run(inputs, as_of=earlier)["sla_breaches"].is_empty()
    assert CRITERIA.default_tier == "standard"
