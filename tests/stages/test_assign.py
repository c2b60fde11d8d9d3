"""assign: each rule kind, ownership kept, overflow reasons, audit trail and output columns."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from stages.assign_frames import (
    AS_OF,
    config,
    lead,
    leads_for,
    overflow_reasons,
    owners,
    rep,
    run,
    verified,
)

from leadctl.config.assign import RoutingRule, Team
from leadctl.errors import ConfigError, InputError
from leadctl.stages.assign import (
    ASSIGNMENT_COLUMNS,
    AUDIT_COLUMNS,
    LOG_OUTPUT_COLUMNS,
    OVERFLOW_COLUMNS,
    TASK_COLUMNS,
)

UTC_MIDNIGHT = datetime(2026, 11, 18, tzinfo=UTC)


# --- account owner -------------------------------------------------------------------------


def test_named_account_goes_to_the_account_owner() -> None:
    rows = verified(
        [lead("L1", matched_account_id="ACC1", account_owner_id="boss", named_account=True)]
    )
    result = run(rows, [rep("r1"), rep("boss", team="Strategic")])
    assert owners(result) == {("L1", "A"): "boss"}
    row = result.assignments.row(0, named=True)
    assert row["routing_rule"] == "named_account_owner"
    assert row["team"] == "Strategic"  # the owner's own team (not a configured one)
    assert "account ACC1 owner boss" in row["reason"]


@pytest.mark.parametrize(
    ("account", "owner_row", "why"),
    [
        ({"named_account": False}, rep("boss", team="Strategic"), "is not a named account"),
        ({"named_account": True}, rep("boss", team="Strategic", active=False), "is inactive"),
        (
            {"named_account": True},
            rep(
                "boss",
                team="Strategic",
                out_of_office_from=date(2026, 11, 17),
                out_of_office_to=date(2026, 11, 19),
            ),
            "is out of office",
        ),
        ({"named_account": True}, rep("boss", team="Strategic", capacity=0), "is at capacity"),
        (
            {"named_account": True, "account_owner_id": "ghost"},
            rep("boss", team="Strategic"),
            "is not a known rep",
        ),
    ],
)
def test_account_owner_rule_falls_through_with_the_reason(
    account: dict, owner_row: dict, why: str
) -> None:
    fields = {"matched_account_id": "ACC1", "account_owner_id": "boss", **account}
    rows = verified([lead("L1", **fields)])
    result = run(rows, [rep("r1"), owner_row])
    assert owners(result) == {("L1", "A"): "r1"}
    assert result.assignments["routing_rule"][0] == "territory"
    audit = result.audit.filter(pl.col("rule_name") == "named_account_owner")
    assert audit["matched"].to_list() == [False]
    assert why in audit["detail"][0]


def test_account_owner_can_ignore_capacity_when_configured() -> None:
    rules = [
        RoutingRule(name="acct", kind="account_owner", respect_capacity=False),
        RoutingRule(name="territory", kind="territory"),
    ]
    rows = verified(
        [lead("L1", matched_account_id="ACC1", account_owner_id="boss", named_account=True)]
    )
    result = run(rows, [rep("r1"), rep("boss", capacity=0)], config(rules=rules))
    assert owners(result) == {("L1", "A"): "boss"}


# --- continuity ----------------------------------------------------------------------------


def _log(lead_id: str, owner: str, day: date, group: str = "A") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "lead_id": [lead_id],
            "product_group": [group],
            "owner_id": [owner],
            "assigned_at": [datetime.combine(day, datetime.min.time(), tzinfo=UTC)],
        },
        schema={
            "lead_id": pl.String,
            "product_group": pl.String,
            "owner_id": pl.String,
            "assigned_at": pl.Datetime("us", "UTC"),
        },
    )


def _recycled(lead_id: str, day: date) -> dict:
    return {
        "lead_id": lead_id,
        "product_group": "A",
        "stage": "Recycled",
        "changed_at": datetime.combine(day, datetime.min.time(), tzinfo=UTC),
        "changed_by": "system",
    }


def test_returning_lead_goes_back_to_its_previous_owner() -> None:
    rows = verified([lead("L1", propensity=0.9)])
    # Assigned to r2 40 days ago, recycled 10 days ago: within the 90-day window.
    result = run(
        rows,
        [rep("r1"), rep("r2")],
        log=_log("L1", "r2", date(2026, 10, 9)),
        history=[_recycled("L1", date(2026, 11, 8))],
    )
    assert owners(result) == {("L1", "A"): "r2"}
    assert result.assignments["routing_rule"][0] == "returning_lead"
    assert "previous owner r2 (40 days ago)" in result.assignments["reason"][0]


def test_previous_owner_outside_window_is_not_used() -> None:
    rules = [
        RoutingRule(name="back", kind="continuity", within_days=30),
        RoutingRule(name="t", kind="territory"),
    ]
    rows = verified([lead("L1")])
    result = run(
        rows,
        [rep("r1"), rep("r2", capacity=1)],
        config(rules=rules),
        log=_log("L1", "r2", date(2026, 10, 9)),
        history=[_recycled("L1", date(2026, 11, 8))],
    )
    assert result.assignments["routing_rule"][0] == "t"
    detail = result.audit.filter(pl.col("rule_name") == "back")["detail"][0]
    assert detail == "previous owner r2 was 40 days ago (window 30 days)"


def test_previous_owner_from_crm_when_lead_was_worked_before() -> None:
    """The CRM owner of a recycled lead that was once in SAL counts, dated at the recycling."""
    rows = verified([lead("L1", owner_id="r2")])
    history = [
        {
            "lead_id": "L1",
            "product_group": "A",
            "stage": "SAL",
            "changed_at": datetime(2026, 9, 1, tzinfo=UTC),
            "changed_by": "someone",
        },
        _recycled("L1", date(2026, 10, 1)),
    ]
    result = run(rows, [rep("r1"), rep("r2")], history=history)
    assert owners(result) == {("L1", "A"): "r2"}
    assert result.assignments["routing_rule"][0] == "returning_lead"


def test_inactive_previous_owner_falls_through_to_territory() -> None:
    rows = verified([lead("L1")])
    result = run(
        rows,
        [rep("r1"), rep("r2", active=False)],
        log=_log("L1", "r2", date(2026, 11, 1)),
        history=[_recycled("L1", date(2026, 11, 8))],
    )
    assert owners(result) == {("L1", "A"): "r1"}


# --- ownership kept ------------------------------------------------------------------------


def test_lead_assigned_last_night_and_unchanged_is_kept() -> None:
    rows = verified([lead("L1"), lead("L2")])
    result = run(rows, [rep("r1"), rep("r2")], log=_log("L1", "r2", date(2026, 11, 17)))
    assert set(owners(result)) == {("L2", "A")}
    assert result.kept == 1
    kept = result.audit.filter(pl.col("lead_id") == "L1")
    assert kept["outcome"].to_list()[0] == "kept"
    assert kept.filter(pl.col("rule_order") > 0)["outcome"].to_list() == ["not_evaluated"] * 3


def test_crm_owner_in_working_stage_is_kept_unless_inactive() -> None:
    rows = verified([lead("L1", owner_id="r2"), lead("L2", owner_id="gone")])
    history = [
        {
            "lead_id": lid,
            "product_group": "A",
            "stage": "MQL",
            "changed_at": datetime(2026, 11, 10, tzinfo=UTC),
            "changed_by": "system",
        }
        for lid in ("L1", "L2")
    ]
    result = run(rows, [rep("r1"), rep("r2"), rep("gone", active=False)], history=history)
    assert result.kept == 1
    assert owners(result) == {("L2", "A"): "r1"}
    detail = result.audit.filter((pl.col("lead_id") == "L2") & (pl.col("rule_order") == 0))[
        "detail"
    ][0]
    assert "owner gone is inactive" in detail


# --- territory -----------------------------------------------------------------------------


def test_territory_selects_team_by_region_and_product_group() -> None:
    rows = verified(
        [
            lead("L1", region="NA"),
            lead("L2", region="EMEA", country_code="GB"),
            lead("L3", region="LATAM", country_code="BR"),
            lead("L4", product_group="B"),
        ]
    )
    reps = [
        rep("na1"),
        rep("eu1", team="A EMEA", time_zone="Europe/London"),
        rep("b1", team="B NA"),
    ]
    result = run(rows, reps)
    assert owners(result) == {
        ("L1", "A"): "na1",
        ("L2", "A"): "eu1",
        ("L3", "A"): "na1",
        ("L4", "B"): "b1",
    }
    teams = dict(result.assignments.select("lead_id", "team").rows())
    assert teams == {"L1": "A NA", "L2": "A EMEA", "L3": "A NA", "L4": "B NA"}


def test_first_matching_team_wins_with_country_state_segment_and_industry() -> None:
    teams = [
        Team(
            name="Enterprise CA",
            product_groups=["A"],
            countries=["us"],
            states=["ca"],
            segments=["Enterprise"],
        ),
        Team(name="Finance", product_groups=["A"], industries=["finance"]),
        Team(name="A NA", product_groups=["A"], regions=["NA"]),
    ]
    rows = verified(
        [
            lead("L1", state_code="CA", employees=5000, industry="Finance"),  # first team
            lead(
                "L2", state_code="CA", employees=50, industry="Finance"
            ),  # not enterprise → Finance
            lead("L3", state_code="NY", employees=5000),  # → A NA
            lead("L4", employees=None, industry=None),  # Unknown segment → A NA
        ]
    )
    reps = [rep("ent", team="Enterprise CA"), rep("fin", team="Finance"), rep("na")]
    result = run(rows, reps, config(teams=teams))
    assert owners(result) == {
        ("L1", "A"): "ent",
        ("L2", "A"): "fin",
        ("L3", "A"): "na",
        ("L4", "A"): "na",
    }
    assert (
        "segment Unknown"
        in result.audit.filter((pl.col("lead_id") == "L4") & (pl.col("rule_kind") == "territory"))[
            "detail"
        ][0]
    )


def test_rule_team_list_restricts_and_orders_teams() -> None:
    teams = [Team(name="General", product_groups=["A"]), Team(name="Special", product_groups=["A"])]
    rules = [RoutingRule(name="special_first", kind="territory", teams=["Special"])]
    result = run(
        verified([lead("L1")]),
        [rep("g", team="General"), rep("s", team="Special")],
        config(teams=teams, rules=rules),
    )
    assert owners(result) == {("L1", "A"): "s"}


def test_rule_filters_on_action() -> None:
    rules = [
        RoutingRule(
            name="fast_to_emea", kind="territory", actions=["fast_track"], teams=["A EMEA"]
        ),
        RoutingRule(name="rest", kind="territory"),
    ]
    teams = [Team(name="A NA", product_groups=["A"]), Team(name="A EMEA", product_groups=["A"])]
    rows = verified([lead("L1", action="fast_track"), lead("L2", action="standard")])
    result = run(rows, [rep("na"), rep("eu", team="A EMEA")], config(teams=teams, rules=rules))
    assert owners(result) == {("L1", "A"): "eu", ("L2", "A"): "na"}
    skipped = result.audit.filter(
        (pl.col("lead_id") == "L2") & (pl.col("rule_name") == "fast_to_emea")
    )
    assert skipped["detail"][0] == "rule applies to actions ['fast_track'] only"


def test_rep_territory_and_product_group_narrow_the_pool() -> None:
    rows = verified([lead("L1", region="LATAM", country_code="BR"), lead("L2", region="NA")])
    reps = [
        rep("na_only", territories="NA"),
        rep("latam", territories="NA;LATAM", product_groups="A;B"),
    ]
    result = run(rows, reps)
    assert owners(result)[("L1", "A")] == "latam"
    # A rep whose product groups leave out A takes no A leads.
    result = run(verified([lead("L1")]), [rep("b_only", product_groups="B"), rep("any")])
    assert owners(result) == {("L1", "A"): "any"}


# --- overflow ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reps", "reason"),
    [
        ([rep("x", team="Elsewhere")], "no_rep_in_team"),
        ([rep("x", territories="EMEA")], "no_rep_covers_territory"),
        ([rep("x", active=False), rep("y", active=False)], "all_reps_inactive"),
        (
            [rep("x", out_of_office_from=date(2026, 11, 1), out_of_office_to=None)],
            "all_reps_out_of_office",
        ),
        ([rep("x", capacity=0)], "all_reps_at_capacity"),
    ],
)
def test_overflow_reasons(reps: list[dict], reason: str) -> None:
    result = run(verified([lead("L1")]), reps)
    assert result.assignments.height == 0
    assert overflow_reasons(result) == {"L1": reason}
    row = result.overflow.row(0, named=True)
    assert row["team"] == "A NA" and row["routing_rule"] == "territory"


def test_no_team_matched_goes_to_overflow_never_to_someone() -> None:
    result = run(verified([lead("L1", region="APAC", country_code="SG")]), [rep("r1")])
    assert overflow_reasons(result) == {"L1": "no_team_matched"}
    assert result.overflow["team"][0] is None
    assert "region APAC" in result.overflow["detail"][0]


def test_out_of_office_reps_are_skipped_but_others_take_the_leads() -> None:
    reps = [
        rep("away", out_of_office_from=date(2026, 11, 18), out_of_office_to=date(2026, 11, 18)),
        rep("here"),
        rep("back", out_of_office_from=date(2026, 11, 1), out_of_office_to=date(2026, 11, 17)),
    ]
    result = run(verified([lead(f"L{i}") for i in range(6)]), reps)
    assert set(owners(result).values()) == {"here", "back"}


def test_capacity_counts_current_open_load() -> None:
    """r1 owns 9 open leads (MQL for group A) of capacity 10: only one more; the rest go to r2."""
    rows = verified([lead(f"N{i}", propensity=0.9 - i / 100) for i in range(5)])
    extra = [
        {"lead_id": f"O{i}", "owner_id": "r1", "created_at": datetime(2026, 1, 1, tzinfo=UTC)}
        for i in range(9)
    ]
    history = [
        {
            "lead_id": f"O{i}",
            "product_group": "A",
            "stage": "MQL",
            "changed_at": datetime(2026, 11, 1, tzinfo=UTC),
            "changed_by": "system",
        }
        for i in range(9)
    ]
    result = run(
        rows, [rep("r1"), rep("r2", capacity=4)], leads=leads_for(rows, extra), history=history
    )
    counts = result.assignments.group_by("owner_id").len().sort("owner_id").rows()
    assert counts == [("r1", 1), ("r2", 4)]
    roster = result.roster.filter(pl.col("rep_id") == "r1").row(0, named=True)
    assert (roster["open_before"], roster["open_leads"], roster["capacity"]) == (9, 10, 10)


# --- audit and outputs ---------------------------------------------------------------------


def test_audit_has_every_rule_for_every_lead() -> None:
    rows = verified(
        [
            lead("L1"),
            lead("L2", region="APAC"),
            lead("L3", matched_account_id="A1", account_owner_id="r1", named_account=True),
        ]
    )
    result = run(rows, [rep("r1"), rep("r2")])
    assert result.audit.columns == AUDIT_COLUMNS
    assert result.audit.group_by("lead_id").len().sort("lead_id")["len"].to_list() == [4, 4, 4]
    l3 = result.audit.filter(pl.col("lead_id") == "L3").sort("rule_order")
    assert l3["outcome"].to_list() == ["not_matched", "assigned", "not_evaluated", "not_evaluated"]
    l2 = result.audit.filter(pl.col("lead_id") == "L2").sort("rule_order")
    assert l2["evaluated"].to_list() == [True, True, True, True]
    assert l2["matched"].to_list() == [False, False, False, False]


def test_output_columns_and_sla_fields() -> None:
    rows = verified([lead("L1", action="fast_track", rating="A1"), lead("L2", region="APAC")])
    result = run(rows, [rep("r1")])
    assert result.assignments.columns == ASSIGNMENT_COLUMNS
    assert result.overflow.columns == OVERFLOW_COLUMNS
    assert result.tasks.columns == TASK_COLUMNS
    assert result.log.columns == LOG_OUTPUT_COLUMNS
    row = result.assignments.row(0, named=True)
    assert (row["sla_tier"], row["rating"], row["stage_to_set"]) == ("fast_track", "A1", "MQL")
    # Wednesday 2026-11-18: New York opens 09:00 EST (14:00 UTC); 4 business hours.
    assert row["sla_due_at"] == datetime(2026, 11, 18, 18, tzinfo=UTC)
    log = result.log.row(0, named=True)
    assert log["assigned_at"] == UTC_MIDNIGHT
    assert (log["pursuit_plan"], log["min_attempts"], log["persistence_days"]) == (
        "fast_track",
        5,
        10,
    )
    tasks = result.tasks.filter(pl.col("lead_id") == "L1")
    assert tasks.height == len(config().pursuit_plans["fast_track"].touches)
    assert tasks["owner_id"].unique().to_list() == ["r1"]


def test_sla_clock_falls_back_to_team_time_zone() -> None:
    """A rep without a usable time zone runs on the team's (Europe/London) clock; warned."""
    rows = verified([lead("L1", region="EMEA", country_code="GB", action="fast_track")])
    result = run(
        rows, [rep("eu", team="A EMEA", time_zone="Nowhere/City", working_hours="nine to five")]
    )
    assert result.assignments["sla_due_at"][0] == datetime(2026, 11, 18, 13, tzinfo=UTC)
    assert any("Nowhere" not in w and "eu" in w for w in result.warnings)
    assert len(result.warnings) == 2


def test_tier_from_action_and_unknown_tier_is_a_config_error() -> None:
    result = run(verified([lead("L1", action="fast_track", sla_tier=None)]), [rep("r1")])
    assert result.assignments["sla_tier"][0] == "fast_track"
    with pytest.raises(ConfigError, match="sla_tier value\\(s\\) \\['platinum'\\]"):
        run(verified([lead("L1", sla_tier="platinum")]), [rep("r1")])


def test_bad_verified_input_names_the_problem() -> None:
    with pytest.raises(InputError, match="lacks column\\(s\\) \\['action'\\]"):
        run(verified([lead("L1")]).drop("action"), [rep("r1")])
    with pytest.raises(InputError, match="repeating a \\(lead_id, product_group\\)"):
        run(verified([lead("L1"), lead("L1")]), [rep("r1")])


def test_empty_night_gives_empty_outputs() -> None:
    result = run(verified([]), [rep("r1")])
    assert result.assignments.height == result.overflow.height == result.tasks.height == 0
    assert result.assignments.columns == ASSIGNMENT_COLUMNS


def test_same_inputs_in_any_row_order_give_identical_outputs() -> None:
    rows = verified(
        [
            lead(
                f"L{i:02d}",
                propensity=(i * 37 % 100) / 100,
                product_group="AB"[i % 2],
                region=["NA", "LATAM", "EMEA"][i % 3],
            )
            for i in range(30)
        ]
    )
    reps = [
        rep("a1"),
        rep("a2", territories="NA;LATAM"),
        rep("a3", capacity=3),
        rep("e1", team="A EMEA"),
        rep("b1", team="B NA"),
        rep("b2", team="B NA"),
    ]
    first = run(rows, reps)
    second = run(rows.sample(fraction=1.0, shuffle=True, seed=3), list(reversed(reps)))
    for name in ("assignments", "tasks", "overflow", "audit", "log", "state"):
        assert_frame_equal(getattr(first, name), getattr(second, name))
    assert first.assignments.height + first.overflow.height == rows.height
    assert AS_OF.weekday() == 2


def test_lead_released_by_expire_is_rerouted_away_from_the_breaching_owner() -> None:
    from stages.assign_frames import canonical

    from leadctl.config.lifecycle import LifecycleConfig
    from leadctl.stages.assign import AssignInputs, assign
    from leadctl.stages.assign_state import empty_state

    rows = verified([lead("L1"), lead("L2")])
    log = _log("L1", "r2", date(2026, 11, 16)).vstack(_log("L2", "r2", date(2026, 11, 16)))
    reassign = pl.DataFrame(
        {
            "lead_id": ["L1"],
            "product_group": ["A"],
            "previous_owner_id": ["r2"],
            "team": ["A NA"],
            "source": ["sla_breach"],
            "reason": ["untouched past sla_due_at"],
        }
    )
    inputs = AssignInputs(
        verified=rows.lazy(),
        reps=canonical("reps", [rep("r1"), rep("r2")]).lazy(),
        leads=leads_for(rows).lazy(),
        stage_history=canonical("stage_history", []).lazy(),
        log=log,
        state=empty_state(),
        reassign=reassign,
    )
    result = assign(
        inputs, cfg=config(), lifecycle=LifecycleConfig(), product_groups=["A", "B"], as_of=AS_OF
    )
    assert owners(result) == {("L1", "A"): "r1"}  # L2 stays with r2 (kept)
    assert result.kept == 1
    first = result.audit.filter((pl.col("lead_id") == "L1") & (pl.col("rule_order") == 0))
    assert first["detail"][0] == "released from r2 for reassignment (sla_breach)"
    # Even when r2 would be the emptier rep, the released lead does not go back to r2.
    busy = [
        {"lead_id": f"O{i}", "owner_id": "r1", "created_at": datetime(2026, 1, 1, tzinfo=UTC)}
        for i in range(5)
    ]
    history = [
        {
            "lead_id": f"O{i}",
            "product_group": "A",
            "stage": "SAL",
            "changed_at": datetime(2026, 11, 1, tzinfo=UTC),
            "changed_by": "x",
        }
        for i in range(5)
    ]
    inputs.leads = leads_for(rows, busy).lazy()
    inputs.stage_history = canonical("stage_history", history).lazy()
    inputs.log = log.head(1)
    cfg = config(teams=[Team(name="A NA", product_groups=["A"], distribution="load_balanced")])
    result = assign(inputs, cfg=cfg, lifecycle=LifecycleConfig(), product_groups=["A"], as_of=AS_OF)
    assert owners(result) == {("L1", "A"): "r1", ("L2", "A"): "r2"}
    # With nobody else in the team the lead overflows rather than going back.
    inputs.reps = canonical("reps", [rep("r2")]).lazy()
    result = assign(inputs, cfg=cfg, lifecycle=LifecycleConfig(), product_groups=["A"], as_of=AS_OF)
    assert overflow_reasons(result) == {"L1": "only_previous_owner"}


def test_team_overflows_to_its_fallback_teams_in_order() -> None:
    teams = [
        Team(name="A NA", product_groups=["A"], overflow_to=["B NA", "A EMEA"]),
        Team(name="B NA", product_groups=["B"]),
        Team(name="A EMEA", product_groups=["A"], regions=["EMEA"]),
    ]
    reps = [
        rep("a1", capacity=1),
        rep("b_cross", team="B NA", product_groups="A;B", capacity=1),
        rep("b_only", team="B NA", product_groups="B"),
        rep("eu", team="A EMEA", capacity=1),
    ]
    rows = verified([lead(f"L{i}", propensity=0.9 - i / 10) for i in range(4)])
    result = run(rows, reps, config(teams=teams))
    assert owners(result) == {("L0", "A"): "a1", ("L1", "A"): "b_cross", ("L2", "A"): "eu"}
    teams_of = dict(result.assignments.select("lead_id", "team").rows())
    assert teams_of == {"L0": "A NA", "L1": "B NA", "L2": "A EMEA"}
    assert "overflow from A NA" in result.assignments.filter(pl.col("lead_id") == "L1")["reason"][0]
    row = result.overflow.row(0, named=True)
    assert (row["lead_id"], row["team"], row["reason"]) == ("L3", "A NA", "all_reps_at_capacity")
    assert "(also tried B NA, A EMEA)" in row["detail"]
    with pytest.raises(ValueError, match="overflow_to names unknown team"):
        config(teams=[Team(name="A NA", overflow_to=["A NA"])])
