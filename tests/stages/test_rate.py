"""Rate: cutoffs, the action matrix, MQL eligibility, hysteresis, re-entry, outputs and summary."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from stages.rate_frames import AS_OF, by_lead, config, leads_for, run, scores, table, ts

from leadctl.config.rating import Cutoffs, Hysteresis, MatrixCell
from leadctl.stages.rate import (
    RATING_COLUMNS,
    STATE_SCHEMA,
    missing_score_columns,
    normalise_scores,
    summarize,
)


def _prev(*rows: dict[str, object]) -> pl.DataFrame:
    """A previous-night snapshot with the columns rate reads back."""
    defaults = {
        "product_group": "Cloud",
        "is_mql": True,
        "mql_since": date(2026, 11, 19),
        "action": "fast_track",
        "sla_tier": "fast_track",
        "override_rule": None,
        "reentry_count": 0,
        "rating": "A1",
    }
    return pl.DataFrame([{**defaults, **r} for r in rows], schema=STATE_SCHEMA)


# --- cutoffs ---------------------------------------------------------------------------------


def test_fixed_cutoffs_are_inclusive_minimums_and_null_or_nan_is_lowest() -> None:
    fits = [75.0, 74.99, 50.0, 49.9, 25.0, 24.9, None, float("nan")]
    engs = [75.0, 74.99, 50.0, 49.9, 25.0, 24.9, float("nan"), None]
    rows = scores(
        *[
            {"lead_id": f"L{i}", "fit_score": f, "engagement_score": e}
            for i, (f, e) in enumerate(zip(fits, engs, strict=True))
        ]
    )
    out = run(rows)["ratings"]
    assert out["fit_grade"].to_list() == ["A", "B", "B", "C", "C", "D", "D", "D"]
    assert out["engagement_grade"].to_list() == [1, 2, 2, 3, 3, 4, 4, 4]
    assert out["rating"].to_list() == ["A1", "B2", "B2", "C3", "C3", "D4", "D4", "D4"]
    assert out["fit_score"][7] is None  # NaN is carried as null, not as a number


def test_share_cutoffs_give_each_grade_its_share_of_the_group() -> None:
    # 0.1 + 0.2 is 0.30000000000000004 in floats: still exactly the top 30 %.
    cfg = config(cutoffs=Cutoffs(method="share", fit=[0.1, 0.2, 0.3], engagement=[0.1, 0.2, 0.3]))
    rows = scores(
        *[
            {"lead_id": f"L{i}", "fit_score": 100.0 - i, "engagement_score": float(i)}
            for i in range(10)
        ]
    )
    out = run(rows, cfg)
    assert out["ratings"]["fit_grade"].to_list() == list("ABBCCCDDDD")
    assert out["ratings"]["engagement_grade"].to_list() == [4, 4, 4, 4, 3, 3, 3, 2, 2, 1]
    cut = out["cutoffs"].row(0, named=True)
    assert (cut["method"], cut["fit_A"], cut["fit_B"], cut["fit_C"]) == ("share", 100.0, 98.0, 95.0)
    assert (cut["engagement_1"], cut["engagement_2"], cut["engagement_3"]) == (9.0, 7.0, 4.0)


def test_share_cutoffs_ties_share_a_grade_and_nulls_are_left_out() -> None:
    cfg = config(
        cutoffs=Cutoffs(method="share", fit=[0.25, 0.25, 0.25], engagement=[0.25, 0.25, 0.25])
    )
    rows = scores(
        *[{"lead_id": f"T{i}", "fit_score": 60.0, "engagement_score": 60.0} for i in range(3)],
        {"lead_id": "U", "fit_score": 10.0, "engagement_score": 10.0},
        {"lead_id": "N", "fit_score": None, "engagement_score": None},
    )
    out = run(rows, cfg)["ratings"]
    # 4 scored leads: the three tied at the top all get A (a tie cannot be split fairly).
    assert by_lead(out, "rating") == {"T0": "A1", "T1": "A1", "T2": "A1", "U": "D4", "N": "D4"}


def test_share_cutoffs_rank_within_each_group_and_groups_can_use_fixed_cutoffs() -> None:
    cfg = config(
        cutoffs=Cutoffs(method="share", fit=[0.5, 0, 0], engagement=[0.5, 0, 0]),
        group_cutoffs={"Cloud": Cutoffs(method="fixed", fit=[90, 80, 70], engagement=[90, 80, 70])},
    )
    rows = scores(
        {
            "lead_id": "a1",
            "product_group": "Analytics",
            "fit_score": 20.0,
            "engagement_score": 20.0,
        },
        {
            "lead_id": "a2",
            "product_group": "Analytics",
            "fit_score": 10.0,
            "engagement_score": 10.0,
        },
        {"lead_id": "c1", "product_group": "Cloud", "fit_score": 85.0, "engagement_score": 95.0},
        {"lead_id": "c2", "product_group": "Cloud", "fit_score": 20.0, "engagement_score": 20.0},
    )
    out = run(rows, cfg)
    assert by_lead(out["ratings"], "rating") == {"a1": "A1", "a2": "D4", "c1": "B1", "c2": "D4"}
    methods = dict(zip(out["cutoffs"]["product_group"], out["cutoffs"]["method"], strict=True))
    assert methods == {"Analytics": "share", "Cloud": "fixed"}


def test_share_cutoff_with_zero_share_gives_nobody_that_grade() -> None:
    cfg = config(cutoffs=Cutoffs(method="share", fit=[0, 0, 1], engagement=[0, 0, 0]))
    rows = scores(*[{"lead_id": f"L{i}", "fit_score": float(i)} for i in range(4)])
    out = run(rows, cfg)
    assert set(out["ratings"]["rating"]) == {"C4"}
    assert out["cutoffs"]["fit_A"][0] is None


# --- action matrix -----------------------------------------------------------------------------


def test_action_matrix_sets_action_sla_and_mql() -> None:
    rows = scores(
        {"lead_id": "a1", "fit_score": 90.0, "engagement_score": 90.0},
        {"lead_id": "a3", "fit_score": 90.0, "engagement_score": 30.0},
        {"lead_id": "c2", "fit_score": 30.0, "engagement_score": 60.0},
        {"lead_id": "d4", "fit_score": 0.0, "engagement_score": 0.0},
    )
    out = run(rows)["ratings"]
    assert by_lead(out, "action") == {
        "a1": "fast_track",
        "a3": "standard",
        "c2": "nurture",
        "d4": "disqualify",
    }
    assert by_lead(out, "sla_tier") == {
        "a1": "fast_track",
        "a3": "standard",
        "c2": None,
        "d4": None,
    }
    assert by_lead(out, "is_mql") == {"a1": True, "a3": True, "c2": False, "d4": False}
    assert by_lead(out, "is_new_mql") == {"a1": True, "a3": True, "c2": False, "d4": False}
    assert by_lead(out, "stage_to_set") == {"a1": "MQL", "a3": "MQL", "c2": None, "d4": None}
    assert by_lead(out, "mql_since") == {"a1": AS_OF, "a3": AS_OF, "c2": None, "d4": None}
    assert by_lead(out, "current_stage") == dict.fromkeys(["a1", "a3", "c2", "d4"], "Inquiry")


def test_ratings_left_out_of_the_matrix_are_nurtured() -> None:
    cfg = config(matrix={"A1": MatrixCell(action="standard", sla_tier="standard")})
    rows = scores(
        {"lead_id": "a1", "fit_score": 90.0, "engagement_score": 90.0},
        {"lead_id": "b1", "fit_score": 60.0, "engagement_score": 90.0},
    )
    out = run(rows, cfg)
    assert by_lead(out["ratings"], "action") == {"a1": "standard", "b1": "nurture"}
    assert out["nurture"]["lead_id"].to_list() == ["b1"]


def test_min_propensity_demotes_to_nurture_and_a_cell_floor_overrides_it() -> None:
    cfg = config(
        min_propensity=0.1,
        matrix={
            "A1": MatrixCell(action="fast_track", sla_tier="fast_track", min_propensity=0.0),
            "B1": MatrixCell(action="standard", sla_tier="standard"),
        },
    )
    rows = scores(
        {"lead_id": "a1", "fit_score": 90.0, "engagement_score": 90.0, "propensity": 0.01},
        {"lead_id": "b1", "fit_score": 60.0, "engagement_score": 90.0, "propensity": 0.05},
        {"lead_id": "b1ok", "fit_score": 60.0, "engagement_score": 90.0, "propensity": 0.1},
        {"lead_id": "b1null", "fit_score": 60.0, "engagement_score": 90.0, "propensity": None},
    )
    out = run(rows, cfg)
    r = out["ratings"]
    assert by_lead(r, "action") == {
        "a1": "fast_track",
        "b1": "nurture",
        "b1ok": "standard",
        "b1null": "nurture",
    }
    assert by_lead(r, "sla_tier")["b1"] is None
    reasons = by_lead(out["nurture"], "reason")
    assert reasons["b1"].startswith(
        "rating B1 calls for standard but propensity 0.05 is below the minimum 0.1"
    )
    assert "propensity none" in reasons["b1null"]


# --- who may become an MQL -------------------------------------------------------------------


def test_active_sales_disqualified_and_open_opportunities_are_not_re_mqled() -> None:
    hot = {"fit_score": 90.0, "engagement_score": 90.0}
    rows = scores(
        *[
            {"lead_id": i, **hot}
            for i in ("sal", "dq", "opp", "opp_other", "opp_closed", "opp_any", "opp_later")
        ]
    )
    history = table(
        "stage_history",
        {
            "lead_id": "sal",
            "product_group": "Cloud",
            "stage": "SAL",
            "changed_at": ts("2026-11-01"),
        },
        {
            "lead_id": "dq",
            "product_group": None,
            "stage": "Disqualified",
            "changed_at": ts("2026-10-01"),
        },
    )
    opps = table(
        "opportunities",
        {
            "opportunity_id": "o1",
            "lead_id": "opp",
            "product_group": "Cloud",
            "created_at": ts("2026-11-01"),
        },
        {
            "opportunity_id": "o2",
            "lead_id": "opp_other",
            "product_group": "Analytics",
            "created_at": ts("2026-11-01"),
        },
        {
            "opportunity_id": "o3",
            "lead_id": "opp_closed",
            "product_group": "Cloud",
            "created_at": ts("2026-09-01"),
            "closed_at": ts("2026-10-01"),
            "is_won": False,
        },
        {
            "opportunity_id": "o4",
            "lead_id": "opp_any",
            "product_group": None,
            "created_at": ts("2026-11-01"),
        },
        {
            "opportunity_id": "o5",
            "lead_id": "opp_later",
            "product_group": "Cloud",
            "created_at": ts("2026-11-21"),
        },
    )
    out = run(rows, history=history, opportunities=opps)
    assert by_lead(out["ratings"], "is_mql") == {
        "dq": False,
        "opp": False,
        "opp_any": False,
        "opp_closed": True,
        "opp_later": True,
        "opp_other": True,
        "sal": False,
    }
    assert by_lead(out["ratings"], "current_stage")["sal"] == "SAL"
    assert out["nurture"].height == 0  # sales has them (or they are out): marketing leaves them


def test_a_stage_that_cannot_move_to_mql_is_nurtured_with_the_reason() -> None:
    rows = scores({"lead_id": "lost", "fit_score": 90.0, "engagement_score": 90.0})
    history = table(
        "stage_history", {"lead_id": "lost", "stage": "Lost", "changed_at": ts("2026-10-01")}
    )
    out = run(rows, history=history)
    assert out["ratings"]["is_mql"].to_list() == [False]
    assert out["nurture"]["reason"][0].startswith(
        "rating A1 qualifies, but stage 'Lost' cannot move to MQL"
    )


def test_a_lead_already_mql_in_the_crm_is_not_new() -> None:
    rows = scores({"lead_id": "m", "fit_score": 90.0, "engagement_score": 90.0})
    history = table(
        "stage_history", {"lead_id": "m", "stage": "MQL", "changed_at": ts("2026-11-10")}
    )
    r = run(rows, history=history)["ratings"].row(0, named=True)
    assert (r["is_mql"], r["is_new_mql"], r["stage_to_set"], r["mql_since"]) == (
        True,
        False,
        None,
        date(2026, 11, 10),
    )


def test_rows_without_keys_are_kept_but_never_mql() -> None:
    rows = scores(
        {"lead_id": None, "fit_score": 90.0, "engagement_score": 90.0},
        {"lead_id": "x", "product_group": None, "fit_score": 90.0, "engagement_score": 90.0},
        {"lead_id": "y", "fit_score": 90.0, "engagement_score": 90.0},
    )
    out = run(rows)
    r = out["ratings"]
    assert r.height == 3
    assert r.select("lead_id", "product_group", "is_mql").rows() == [
        ("x", None, False),
        ("y", "Cloud", True),
        (None, "Cloud", False),
    ]
    assert out["state"]["lead_id"].to_list() == ["y"]


# --- hysteresis ------------------------------------------------------------------------------


def test_margin_keeps_an_mql_on_a_small_drop_and_lets_go_on_a_big_one() -> None:
    cfg = config(hysteresis=Hysteresis(margin=5, propensity_margin=0, min_stay_days=0))
    rows = scores(
        {"lead_id": "small", "fit_score": 80.0, "engagement_score": 22.0},  # A4; +5 → A3 standard
        {"lead_id": "big", "fit_score": 80.0, "engagement_score": 10.0},  # A4; +5 → A4 nurture
        {"lead_id": "fresh", "fit_score": 80.0, "engagement_score": 22.0},  # never was MQL
    )
    prev = _prev({"lead_id": "small", "mql_since": date(2026, 11, 1)}, {"lead_id": "big"})
    out = run(rows, cfg, previous=prev)
    r = out["ratings"]
    assert by_lead(r, "is_mql") == {"small": True, "big": False, "fresh": False}
    kept = r.filter(pl.col("lead_id") == "small").row(0, named=True)
    assert (kept["rating"], kept["action"], kept["sla_tier"]) == ("A4", "fast_track", "fast_track")
    assert (kept["is_new_mql"], kept["stage_to_set"], kept["mql_since"]) == (
        False,
        None,
        date(2026, 11, 1),
    )
    assert sorted(out["nurture"]["lead_id"]) == ["big", "fresh"]


def test_min_stay_keeps_an_mql_for_n_days_then_lets_go() -> None:
    cfg = config(hysteresis=Hysteresis(margin=0, propensity_margin=0, min_stay_days=3))
    rows = scores({"lead_id": "m", "fit_score": 10.0, "engagement_score": 10.0})
    prev = _prev({"lead_id": "m", "mql_since": date(2026, 11, 18)})
    assert run(rows, cfg, previous=prev)["ratings"]["is_mql"].to_list() == [True]  # day 2 of 3
    out = run(rows, cfg, previous=prev, as_of=date(2026, 11, 21))  # day 3: the stay is over
    assert out["ratings"]["is_mql"].to_list() == [False]
    assert out["ratings"]["action"].to_list() == ["disqualify"]


def test_propensity_margin_keeps_an_mql_just_under_the_floor() -> None:
    cfg = config(
        min_propensity=0.1, hysteresis=Hysteresis(margin=0, propensity_margin=0.02, min_stay_days=0)
    )
    rows = scores(
        {"lead_id": "near", "fit_score": 90.0, "engagement_score": 90.0, "propensity": 0.085},
        {"lead_id": "far", "fit_score": 90.0, "engagement_score": 90.0, "propensity": 0.07},
    )
    prev = _prev({"lead_id": "near"}, {"lead_id": "far"})
    assert by_lead(run(rows, cfg, previous=prev)["ratings"], "is_mql") == {
        "near": True,
        "far": False,
    }


def test_without_hysteresis_an_mql_leaves_at_once() -> None:
    rows = scores({"lead_id": "m", "fit_score": 74.0, "engagement_score": 30.0})  # B3 nurture
    r = run(rows, previous=_prev({"lead_id": "m"}))["ratings"].row(0, named=True)
    assert (r["is_mql"], r["action"], r["mql_since"]) == (False, "nurture", None)


def test_a_stage_change_by_sales_after_the_mql_ends_the_hysteresis() -> None:
    cfg = config(hysteresis=Hysteresis(margin=50, propensity_margin=0, min_stay_days=30))
    rows = scores({"lead_id": "r", "fit_score": 60.0, "engagement_score": 30.0})  # B3
    history = table(
        "stage_history",
        {"lead_id": "r", "stage": "Recycled", "changed_at": ts("2026-11-17"), "reason": "Not now"},
    )
    prev = _prev({"lead_id": "r", "mql_since": date(2026, 11, 15)})
    out = run(rows, cfg, previous=prev, history=history)
    assert out["ratings"]["is_mql"].to_list() == [False]
    assert out["nurture"]["lead_id"].to_list() == ["r"]


def test_an_mql_the_crm_has_not_caught_up_with_stays_mql_and_is_not_new() -> None:
    rows = scores({"lead_id": "m", "fit_score": 90.0, "engagement_score": 90.0})
    # History still says Inquiry (entered before our MQL of 11-19): no stage change since.
    history = table(
        "stage_history", {"lead_id": "m", "stage": "Inquiry", "changed_at": ts("2026-11-02")}
    )
    r = run(rows, previous=_prev({"lead_id": "m"}), history=history)["ratings"].row(0, named=True)
    assert (r["is_mql"], r["is_new_mql"], r["stage_to_set"], r["mql_since"]) == (
        True,
        False,
        None,
        date(2026, 11, 19),
    )


# --- re-entry --------------------------------------------------------------------------------


def test_recycled_leads_reenter_when_they_cross_again_and_the_count_is_kept() -> None:
    hot = {"fit_score": 90.0, "engagement_score": 90.0}
    rows = scores(
        {"lead_id": "back", **hot},
        {"lead_id": "waiting", **hot},
        {"lead_id": "cold", "fit_score": 10.0, "engagement_score": 60.0},
    )
    history = table(
        "stage_history",
        {
            "lead_id": "back",
            "stage": "Recycled",
            "changed_at": ts("2026-08-01"),
            "reason": "Timing",
        },
        {
            "lead_id": "waiting",
            "stage": "Recycled",
            "changed_at": ts("2026-11-10"),
            "reason": "Timing",
        },
        {"lead_id": "cold", "stage": "Recycled", "changed_at": ts("2026-08-01")},
    )
    prev = _prev(
        {"lead_id": "back", "is_mql": False, "mql_since": None, "reentry_count": 1},
        {"lead_id": "cold", "is_mql": False, "mql_since": None, "reentry_count": 3},
    )
    out = run(rows, previous=prev, history=history)
    r = out["ratings"]
    assert by_lead(r, "is_new_mql") == {"back": True, "waiting": False, "cold": False}
    assert by_lead(r, "stage_to_set") == {"back": "MQL", "waiting": None, "cold": None}
    assert by_lead(r, "reentry_count") == {"back": 2, "waiting": 0, "cold": 3}
    reasons = by_lead(out["nurture"], "reason")
    assert reasons["waiting"].startswith(
        "rating A1 qualifies, but the lead was recycled (Timing) 9 days ago "
        "and may re-enter after 60 days"
    )
    assert set(reasons) == {"waiting", "cold"}
    assert summarize(r, out["nurture"], "Recycled")["Cloud"]["reentries"] == 1


# --- outputs ---------------------------------------------------------------------------------


def test_ratings_have_the_contract_columns_sorted_and_state_what_next_night_reads() -> None:
    rows = scores(
        {"lead_id": "b", "product_group": "Cloud", "fit_score": 30.0},
        {"lead_id": "a", "product_group": "Cloud", "fit_score": 30.0},
        {"lead_id": "a", "product_group": "Analytics", "fit_score": 30.0},
    )
    out = run(rows)
    assert out["ratings"].columns == RATING_COLUMNS
    assert out["ratings"].select("lead_id", "product_group").rows() == [
        ("a", "Analytics"),
        ("a", "Cloud"),
        ("b", "Cloud"),
    ]
    assert out["ratings"].schema["engagement_grade"] == pl.Int64
    assert out["ratings"].schema["mql_since"] == pl.Date
    assert set(STATE_SCHEMA) <= set(out["state"].columns)
    assert "reasons_for" not in out["state"].columns
    assert out["nurture"].columns == ["lead_id", "product_group", "rating", "reason"]
    assert (
        out["nurture"]["reason"][0]
        == "rating C4 (fit C, engagement 4) maps to nurture; for: title: VP"
    )


def test_normalise_scores_makes_unreadable_numbers_null() -> None:
    raw = pl.DataFrame(
        {
            "lead_id": [1],
            "product_group": ["Cloud"],
            "fit_score": ["high"],
            "engagement_score": [float("inf")],
            "propensity": [None],
            "score": [1],
            "model_kind": ["points"],
            "model_version": [3],
            "reasons_for": [None],
            "reasons_against": [["x"]],
            "extra": ["dropped"],
        }
    )
    out = normalise_scores(raw.lazy()).collect()
    expected = pl.DataFrame(
        {
            "lead_id": ["1"],
            "product_group": ["Cloud"],
            "fit_score": [None],
            "engagement_score": [float("inf")],
            "propensity": [None],
            "score": [1.0],
            "model_kind": ["points"],
            "model_version": ["3"],
            "reasons_for": [None],
            "reasons_against": [["x"]],
        },
        schema=out.schema,
    )
    assert_frame_equal(out, expected)
    assert missing_score_columns(["lead_id", "fit_score"])[:2] == [
        "product_group",
        "engagement_score",
    ]


def test_summarize_counts_the_grid_and_overrides_apart() -> None:
    ratings = pl.DataFrame(
        {
            "product_group": ["Cloud"] * 4,
            "rating": ["A1", "A1", "B2", "D4"],
            "action": ["fast_track", "fast_track", "standard", "nurture"],
            "is_mql": [True, True, True, False],
            "is_new_mql": [True, False, True, False],
            "override_rule": [None, "vip", "vip", None],
            "current_stage": ["Inquiry"] * 4,
            "reentry_count": [0, 0, 0, 0],
        }
    )
    nurture = pl.DataFrame(
        {"lead_id": ["d"], "product_group": ["Cloud"], "rating": ["D4"], "reason": ["x"]}
    )
    s = summarize(ratings, nurture, "Recycled")["Cloud"]
    assert (
        s["grid"]["A1"] == 2
        and s["grid"]["B2"] == 1
        and s["grid"]["C3"] == 0
        and len(s["grid"]) == 16
    )
    assert (s["mqls"], s["new_mqls"], s["override_mqls"], s["new_override_mqls"]) == (1, 1, 2, 1)
    assert s["by_rule"] == {"vip": 2}
    assert s["actions"] == {"fast_track": 2, "nurture": 1, "standard": 1}
    assert s["nurture"] == 1


@pytest.mark.parametrize("as_of", [date(2026, 11, 20), date(2027, 2, 1)])
def test_same_inputs_give_identical_outputs(as_of: date) -> None:
    rows = scores(
        *[
            {"lead_id": f"L{i:03d}", "fit_score": float(i % 97), "engagement_score": float(i % 89)}
            for i in range(300)
        ]
    )
    leads = leads_for(rows)
    first = run(rows, leads=leads, as_of=as_of)
    second = run(rows.reverse(), leads=leads.reverse(), as_of=as_of)
    for key in ("ratings", "nurture", "state"):
        assert_frame_equal(first[key], second[key])
