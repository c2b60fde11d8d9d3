"""Report tables on a hand-built night whose conversion rates and counts are known by design.

The case is described in tests/stages/report_frames.py; each expected number below follows from
that description, not from running the code.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from itertools import product

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from stages import report_frames as F

from leadctl.errors import ConfigError
from leadctl.stages import report_model as RM
from leadctl.stages.report import SECTIONS, build_report, narrow
from leadctl.stages.report_common import ReportInputs, Section, round_floats
from leadctl.stages.report_model import psi
from leadctl.stages.report_rating import labelled_population


def approx(value: object) -> object:
    """Tables are rounded to 6 decimals (stable bytes): compare at that precision."""
    return pytest.approx(value, abs=1e-6)


@pytest.fixture(scope="module")
def sections() -> dict[str, Section]:
    return {s.key: s for s in build_report(F.inputs(), F.context())}


def _rows(frame: pl.DataFrame, **where: object) -> pl.DataFrame:
    for column, value in where.items():
        frame = frame.filter(pl.col(column) == value)
    return frame


def test_every_section_in_report_order(sections: dict[str, Section]) -> None:
    assert list(sections) == list(SECTIONS)
    assert all(s.status in ("ok", "partial") for s in sections.values())


def test_conversion_by_rating_exact_rates(sections: dict[str, Section]) -> None:
    grid = sections["conversion_by_rating"].tables["conversion_by_rating"]
    analytics = _rows(grid, product_group="Analytics").filter(pl.col("leads") > 0)
    expected = pl.DataFrame(
        {
            "rating": ["A1", "B2", "C4", "D4"],
            "leads": [10, 10, 4, 20],
            "conversions": [4, 2, 1, 1],
            "conversion_rate": [0.4, 0.2, 0.25, 0.05],
        }
    )
    assert_frame_equal(
        analytics.select("rating", "leads", "conversions", "conversion_rate"),
        expected,
        check_dtypes=False,
    )
    # the full 4 x 4 grid exists for every group, empty cells included
    assert grid.height == 2 * 16
    assert _rows(grid, product_group="Analytics", rating="A2")["cell_label"].item() == "- / 0"
    assert _rows(grid, product_group="Analytics", rating="A1")["cell_label"].item() == "40.0% / 10"
    # x1 had an opportunity before the snapshot: not in the labelled population
    assert analytics["leads"].sum() == 44
    assert _rows(grid, product_group="Cloud")["leads"].sum() == 0


def test_top_share_capture_and_capture_curve(sections: dict[str, Section]) -> None:
    section = sections["conversion_by_rating"]
    top = _rows(section.tables["top_share_capture"], product_group="Analytics").row(0, named=True)
    assert (top["leads"], top["top_leads"], top["conversions"], top["top_conversions"]) == (
        44,
        14,
        8,
        6,
    )
    assert top["conversion_capture"] == approx(0.75)
    assert top["ranked_by"] == "score"
    assert section.numbers["top_share_capture"]["Analytics"] == approx(0.75)
    assert any("top 30 % of leads by score hold 75%" in n for n in section.notes)
    curve = _rows(section.tables["rating_capture"], product_group="Analytics")
    assert curve["rating"].to_list() == ["A1", "B2", "C4", "D4"]
    assert curve["cum_conversion_share"].to_list() == approx([0.5, 0.75, 0.875, 1.0])
    assert curve["cum_lead_share"].to_list() == approx([10 / 44, 20 / 44, 24 / 44, 1.0])


def test_labelled_population_uses_snapshot_about_window_back() -> None:
    lab = labelled_population(F.inputs(), F.context())
    assert lab.snapshot == F.SNAPSHOT
    assert lab.window_days == 90
    assert lab.note is None
    assert sorted(lab.frame.filter(pl.col("converted"))["lead_id"].to_list()) == sorted(
        F.CONVERTERS
    )
    # a longer window finds no snapshot old enough: the oldest one, with a note
    longer = labelled_population(F.inputs(), F.context(conversion_window_days=120))
    assert longer.snapshot == F.SNAPSHOT
    assert longer.note is not None and "90 days" in longer.note


def _brute_auc(scores: list[float], labels: list[bool]) -> float:
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in product(pos, neg))
    return wins / (len(pos) * len(neg))


def test_model_quality_auc_gains_calibration(sections: dict[str, Section]) -> None:
    section = sections["model_quality"]
    lab = labelled_population(F.inputs(), F.context()).frame
    expected_auc = _brute_auc(lab["propensity"].to_list(), lab["converted"].to_list())
    quality = _rows(section.tables["model_quality"], product_group="Analytics").row(0, named=True)
    assert quality["auc"] == approx(expected_auc)
    assert quality["card_auc"] == approx(0.81)
    assert (quality["labelled_leads"], quality["conversions"]) == (44, 8)
    gains = _rows(section.tables["gains"], product_group="Analytics")
    # tied propensities share a bin: A1 -> 1, B2 -> 3, C4 -> 5, D4 -> 6
    assert gains["bin"].to_list() == [1, 3, 5, 6]
    assert gains["conversion_rate"].to_list() == approx([0.4, 0.2, 0.25, 0.05])
    assert gains["lift"].to_list()[0] == approx(0.4 / (8 / 44))
    calib = _rows(section.tables["calibration"], product_group="Analytics")
    assert calib["predicted"].to_list() == approx([0.05, 0.1, 0.2, 0.4])
    assert calib["observed"].to_list() == approx([0.05, 0.25, 0.2, 0.4])


def test_card_metrics_heldout_calibration_and_score_psi(sections: dict[str, Section]) -> None:
    section = sections["model_quality"]
    heldout = section.tables["heldout_calibration"]
    assert heldout["predicted"].to_list() == approx([0.05, 0.30])
    assert heldout["observed"].to_list() == approx([0.04, 0.35])
    assert heldout["leads"].to_list() == [300, 100]
    # tonight's Analytics propensities .5 .3 .2 .1 .02 .02 in the card's bins (<=.1, <=.3, >.3)
    # are 3/6, 2/6, 1/6 against the card's .5 .3 .2
    now, ref = [3 / 6, 2 / 6, 1 / 6], [0.5, 0.3, 0.2]
    expected = sum((a - e) * math.log(a / e) for a, e in zip(now, ref, strict=True))
    drift = _rows(section.tables["drift"], product_group="Analytics", column="propensity")
    assert drift["reference"].item().startswith("held-out scores at training")
    assert drift["psi"].item() == approx(expected)
    assert drift["drifting"].item() is False


def test_stale_and_drifting_models_warn_and_recommend(sections: dict[str, Section]) -> None:
    section = sections["model_quality"]
    quality = section.tables["model_quality"]
    analytics = _rows(quality, product_group="Analytics").row(0, named=True)
    assert analytics["model_age_days"] == (F.AS_OF - date(2026, 6, 1)).days
    assert analytics["stale"] is True
    assert analytics["recommendation"].startswith("retrain")
    assert (
        _rows(quality, product_group="Cloud")["recommendation"].item()
        == "train a model: none found"
    )
    assert any(w.startswith("stale model: Analytics") for w in section.warnings)
    assert any("card.json missing for Cloud" in m for m in section.unavailable)
    # Cloud's leads drift too, but it has no model: told to train, not warned about drift
    assert not any(w.startswith("drift: Cloud") for w in section.warnings)
    assert _rows(quality, product_group="Cloud")["drifting"].item() is False
    drift = section.tables["drift"]
    # every case lead is in Germany, Software, 100 employees: no drift on those columns
    stable = _rows(drift, product_group="Analytics", kind="feature").filter(
        pl.col("column") != "lead_source"
    )
    assert stable["psi"].to_list() == approx([0.0, 0.0, 0.0])
    # new leads come from Web / Webinar, the training population from List: drift
    assert _rows(drift, product_group="Analytics", column="lead_source")["drifting"].item() is True


def test_no_warning_when_model_fresh_and_stable() -> None:
    inputs = F.inputs()
    inputs.cards = {
        "Analytics": {"trained_as_of": "2026-11-01"},
        "Cloud": {"trained_as_of": "2026-11-01"},
    }
    sections = {s.key: s for s in build_report(inputs, F.context(drift_features=["country"]))}
    section = sections["model_quality"]
    assert section.warnings == []
    assert section.tables["model_quality"]["recommendation"].to_list() == ["keep", "keep"]


def test_funnel_counts_conversion_and_velocity(sections: dict[str, Section]) -> None:
    funnel = _rows(sections["funnel"].tables["funnel"], product_group="Analytics")
    rows = {r["stage"]: r for r in funnel.iter_rows(named=True)}
    # h01-h10 plus g1 (a history row without product group counts for every group)
    assert (rows["Inquiry"]["entered"], rows["Inquiry"]["reached_next"]) == (11, 6)
    assert rows["Inquiry"]["conversion"] == approx(6 / 11)
    assert rows["Inquiry"]["median_days_in_stage"] == approx(3.0)
    assert (rows["MQL"]["entered"], rows["MQL"]["reached_next"], rows["MQL"]["conversion"]) == (
        6,
        3,
        0.5,
    )
    assert rows["MQL"]["median_days_in_stage"] == approx(7.5)  # 7, 7, 7, 8, 8, 8
    assert (rows["SAL"]["entered"], rows["SAL"]["reached_next"]) == (3, 1)
    assert rows["SAL"]["median_days_in_stage"] == approx(6.0)
    assert rows["Won"]["conversion"] is None
    assert (rows["Inquiry"]["entered_prev"], rows["MQL"]["entered_prev"]) == (4, 2)
    assert rows["Inquiry"]["median_days_in_stage_prev"] == approx(4.0)
    assert rows["Inquiry"]["entered_change"] == approx((11 - 4) / 4)
    cloud = _rows(sections["funnel"].tables["funnel"], product_group="Cloud", stage="Inquiry")
    assert cloud["entered"].item() == 1
    assert sections["funnel"].numbers["mqls_in_period"] == {"Analytics": 6, "Cloud": 0}


def test_sla_and_persistence(sections: dict[str, Section]) -> None:
    section = sections["sla"]
    team = section.tables["sla_by_team"].row(0, named=True)
    assert (
        team["team"],
        team["assignments_due"],
        team["met"],
        team["breached"],
        team["untouched"],
    ) == (
        "East",
        4,
        2,
        2,
        1,
    )
    assert team["sla_compliance"] == approx(0.5)
    assert team["median_hours_to_first_touch"] == approx(10.0)  # 2 h, 10 h, 57 h
    reps = {r["rep_id"]: r for r in section.tables["sla_by_rep"].iter_rows(named=True)}
    # s1's touch on 11-03 came before the assignment and does not count
    assert reps["r1"]["median_hours_to_first_touch"] == approx(33.5)
    assert reps["r2"]["untouched"] == 1
    persistence = {
        r["rep_id"]: r for r in section.tables["persistence_by_rep"].iter_rows(named=True)
    }
    assert (persistence["r1"]["closed"], persistence["r1"]["breaches"]) == (2, 0)
    assert (persistence["r2"]["closed"], persistence["r2"]["breaches"]) == (1, 1)
    assert persistence["r2"]["persistence_compliance"] == approx(0.0)


def test_feedback_pareto_normalises_reasons_and_counts_missing(
    sections: dict[str, Section],
) -> None:
    section = sections["feedback"]
    pareto = section.tables["feedback_pareto"]
    assert sorted(pareto["reason"].to_list()) == ["(no reason)", "No budget", "Timing"]
    assert pareto["rejections"].to_list() == [1, 1, 1]
    assert pareto["cum_share"].to_list()[-1] == approx(1.0)
    by_source = section.tables["feedback_by_source"]
    assert _rows(by_source, lead_source="Webinar")["rejections"].sum() == 2
    reps = {r["rep_id"]: r for r in section.tables["missing_reasons_by_rep"].iter_rows(named=True)}
    assert (
        reps["r2"]["rejections"],
        reps["r2"]["missing_reason"],
        reps["r2"]["missing_share"],
    ) == (1, 1, 1.0)
    assert (reps["r1"]["rejections"], reps["r1"]["missing_reason"]) == (2, 0)


def test_overrides_conversion_against_ordinary_mqls_and_reviews(
    sections: dict[str, Section],
) -> None:
    section = sections["overrides"]
    table = _rows(section.tables["overrides"], product_group="Analytics")
    vip = _rows(table, rule="Event VIP").row(0, named=True)
    ordinary = _rows(table, rule="(ordinary MQLs)").row(0, named=True)
    assert (vip["labelled_leads"], vip["conversions"], vip["conversion_rate"]) == (4, 1, 0.25)
    assert (ordinary["labelled_leads"], ordinary["conversions"], ordinary["conversion_rate"]) == (
        20,
        6,
        0.3,
    )
    assert (vip["flagged_tonight"], vip["sent_in_period"]) == (1, 1)
    reviews = {r["rule"]: r for r in section.tables["override_reviews"].iter_rows(named=True)}
    assert reviews["Event VIP"]["review_status"] == "due_soon"
    assert reviews["Event VIP"]["days_to_review"] == 5
    assert reviews["Old promo"]["review_status"] == "past_review"
    assert section.numbers["rules_past_review"] == ["Old promo"]
    assert any("'Old promo'" in w and "past its review date" in w for w in section.warnings)


def test_lifecycle_expirations_zombies_recycles(sections: dict[str, Section]) -> None:
    section = sections["lifecycle"]
    assert section.tables["expirations_tonight"]["leads"].sum() == 2
    zombies = section.tables["zombies_by_rep"].row(0, named=True)
    assert (zombies["rep_id"], zombies["zombies"], zombies["median_days_in_stage"]) == (
        "r1",
        1,
        75.0,
    )
    illegal = section.tables["illegal_transitions"]
    assert illegal.select("from_stage", "to_stage", "changes").rows() == [
        ("Inquiry", "Won", 2),
        ("Won", "MQL", 1),
    ]
    recycles = _rows(section.tables["recycles"], product_group="Analytics")
    assert dict(zip(recycles["reason"], recycles["recycled"], strict=True)) == {
        "No budget": 1,
        "Timing": 1,
    }


def test_rep_load_and_fairness(sections: dict[str, Section]) -> None:
    section = sections["rep_load"]
    load = {r["rep_id"]: r for r in section.tables["rep_load"].iter_rows(named=True)}
    assert (load["r1"]["assigned_tonight"], load["r1"]["value_tonight"]) == (2, approx(0.7))
    assert (load["r1"]["assigned_in_period"], load["r1"]["value_in_period"]) == (2, approx(0.8))
    assert (load["r2"]["assigned_in_period"], load["r2"]["value_in_period"]) == (3, approx(0.3))
    fairness = section.tables["fairness"].row(0, named=True)
    assert fairness["team"] == "East" and fairness["active_reps"] == 2
    # values 0.3 and 0.8: Gini = |0.8 - 0.3| / (2 * 2 * mean) = 0.5 / 2.2
    assert fairness["value_gini"] == approx(0.5 / 2.2)
    assert fairness["count_cv"] == approx(0.5 / 2.5)
    assert section.numbers["overflow_tonight"] == 1


def test_weekly_scorecard(sections: dict[str, Section]) -> None:
    section = sections["scorecard"]
    card = _rows(section.tables["scorecard"], product_group="Analytics")
    assert card.height == 8
    assert card["week_end"].to_list()[-1] == F.AS_OF
    week = _rows(card, week_end=date(2026, 10, 30)).row(0, named=True)
    assert (week["mqls"], week["accepted"], week["acceptance_rate"]) == (6, 3, 0.5)
    reject = _rows(card, week_end=date(2026, 11, 6)).row(0, named=True)
    assert (
        reject["rejections"],
        reject["sla_due"],
        reject["sla_met"],
        reject["sla_compliance"],
    ) == (3, 4, 2, 0.5)
    assert card["opportunities"].to_list()[-1] == 1
    assert _rows(card, week_end=date(2026, 10, 30))["mqls_wow"].item() == 6
    by_rating = section.tables["scorecard_mqls_by_rating"]
    assert _rows(by_rating, product_group="Analytics", rating="A1")["new_mqls"].item() == 2


def test_before_after_against_previous_period(sections: dict[str, Section]) -> None:
    section = sections["before_after"]
    table = _rows(section.tables["before_after"], product_group="Analytics")
    metrics = {r["metric"]: r for r in table.iter_rows(named=True)}
    assert (metrics["mql_entries"]["before"], metrics["mql_entries"]["after"]) == (2.0, 6.0)
    assert metrics["acceptance_rate"]["after"] == approx(0.5)
    assert metrics["sla_compliance"]["after"] == approx(0.5)
    assert metrics["mqls_A1"]["after"] == 3.0
    assert metrics["mql_entries"]["before_as_of"] == date(2026, 10, 21)


def test_unknown_funnel_stage_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="report.funnel_stages names unknown stage"):
        build_report(F.inputs(), F.context(funnel_stages=["Inquiry", "Qualified"]))


def test_partial_pipeline_says_what_is_missing() -> None:
    """Only canonical tables (validate ran): every section renders or names the missing step."""
    full = F.inputs()
    inputs = ReportInputs(tables=full.tables)
    sections = {s.key: s for s in build_report(inputs, F.context())}
    assert sections["funnel"].status == "ok"
    messages = " | ".join(m for s in sections.values() for m in s.unavailable)
    assert "no rating snapshot before 2026-11-20" in messages
    assert "state/assignments_log/ has no assignment log" in messages
    assert "not available: zombies.csv missing — run `leadctl expire`" in messages
    assert "not available: assignments.csv missing — run `leadctl assign`" in messages
    assert "not available: ratings.parquet missing — run `leadctl rate`" in messages
    assert "card.json missing" in messages
    for key in ("conversion_by_rating",):
        assert sections[key].status.startswith("not available")


def test_no_tables_configured_at_all() -> None:
    sections = build_report(ReportInputs(), F.context())
    assert len(sections) == len(SECTIONS)
    funnel = next(s for s in sections if s.key == "funnel")
    assert "canonical table stage_history is not configured" in funnel.status


def test_output_with_unexpected_columns_degrades() -> None:
    inputs = F.inputs()
    inputs.outputs["zombies.csv"] = pl.DataFrame({"lead_id": ["z"], "stage": ["SAL"]}).lazy()
    section = next(s for s in build_report(inputs, F.context()) if s.key == "lifecycle")
    assert any("zombies.csv lacks owner_id / rep_id" in m for m in section.unavailable)
    assert "recycles" in section.tables


def test_tables_are_sorted_and_stable() -> None:
    first = build_report(F.inputs(), F.context())
    second = build_report(F.inputs(), F.context())
    for a, b in zip(first, second, strict=True):
        assert list(a.tables) == list(b.tables)
        for name in a.tables:
            assert_frame_equal(a.tables[name], b.tables[name])


def test_sla_deadline_after_latest_touch_is_still_open() -> None:
    """The touch log ends 2026-11-06 09:00: a deadline on 11-10 is neither met nor breached."""
    inputs = F.inputs()
    late = (
        F.assignment_log()
        .head(1)
        .with_columns(
            pl.lit("s6").alias("lead_id"), pl.lit(F.ts("2026-11-10", 0)).alias("sla_due_at")
        )
    )
    inputs.assignment_logs[date(2026, 11, 9)] = late.lazy()
    section = next(s for s in build_report(inputs, F.context()) if s.key == "sla")
    team = section.tables["sla_by_team"].row(0, named=True)
    assert (team["assignments_due"], team["met"]) == (4, 2)
    assert any("touch log reaches 2026-11-06 09:00" in n for n in section.notes)


def test_narrowing_the_inputs_changes_no_table() -> None:
    """build_report reads only recent history; each section on the full inputs agrees."""
    from leadctl.stages.report_feedback import feedback_section
    from leadctl.stages.report_funnel import funnel_section
    from leadctl.stages.report_lifecycle import lifecycle_section
    from leadctl.stages.report_scorecard import scorecard_section
    from leadctl.stages.report_sla import sla_section

    ctx = F.context()
    narrowed = narrow(F.inputs(), ctx)
    assert "old1" not in narrowed.tables["stage_history"].collect()["lead_id"].to_list()
    built = {s.key: s for s in build_report(F.inputs(), ctx)}
    for build in (
        funnel_section,
        scorecard_section,
        sla_section,
        feedback_section,
        lifecycle_section,
    ):
        direct = build(F.inputs(), ctx)
        for name, frame in direct.tables.items():
            assert_frame_equal(
                built[direct.key].tables[name], round_floats(frame), check_exact=False
            )


def test_psi_by_hand() -> None:
    """Reference 1..4 + missing in quartile bins; current piles into the first bin and missing."""
    ref = pl.Series("x", [1.0, 2.0, 3.0, 4.0, None])
    cur = pl.Series("x", [1.0, 1.0, 1.0, None, None])
    floor = 1e-4
    expected = (0.6 - 0.2) * math.log(3) + (0.4 - 0.2) * math.log(2)
    expected += 3 * (floor - 0.2) * math.log(floor / 0.2)
    assert psi(ref, cur, 4) == approx(expected)
    assert psi(ref, ref, 4) == 0.0
    cats = pl.Series("c", ["a", "a", "b", None])
    assert psi(cats, cats, 3) == 0.0
    assert psi(cats, pl.Series("c", ["z", "z", "z", "z"]), 3) > 1.0
    assert psi(pl.Series("x", [], dtype=pl.Float64), cur, 4) is None


def test_rep_load_takes_current_stage_from_ratings() -> None:
    inputs = F.inputs()
    ratings = F.ratings_tonight().with_columns(
        pl.when(pl.col("lead_id") == "s1")
        .then(pl.lit("SAL"))
        .otherwise(pl.lit("Inquiry"))
        .alias("current_stage")
    )
    inputs.outputs["ratings.parquet"] = ratings.lazy()
    section = next(s for s in build_report(inputs, F.context()) if s.key == "rep_load")
    load = {r["rep_id"]: r["open_leads"] for r in section.tables["rep_load"].iter_rows(named=True)}
    # s1 is owned by r1 and in SAL for Analytics and Cloud: two open (lead, group) pairs
    assert load == {"r1": 2, "r2": 0, "r3": 0}


STAGES = ["Inquiry", "MQL", "MQL-Override", "SAL", "SQL", "Opportunity", "Won", "Lost", "Recycled"]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d"]),
            st.sampled_from(["Analytics", "Cloud", None]),
            st.sampled_from(STAGES),
            st.integers(min_value=0, max_value=90),
            st.one_of(st.none(), st.text(max_size=12)),
        ),
        max_size=30,
    )
)
def test_funnel_and_feedback_hold_on_arbitrary_history(rows: list[tuple]) -> None:
    """Any history: counts are consistent, rates are shares, every rejection has a reason label."""
    history = pl.DataFrame(
        [
            (lead, group, stage, F.ts("2026-11-20") - timedelta(days=days), "r1", reason)
            for lead, group, stage, days, reason in rows
        ],
        schema=F.HISTORY_SCHEMA,
        orient="row",
    )
    inputs = ReportInputs(tables={"stage_history": history.lazy()})
    sections = {s.key: s for s in build_report(inputs, F.context())}
    funnel = sections["funnel"].tables["funnel"]
    assert (funnel["reached_next"] <= funnel["entered"]).all()
    rates = funnel["conversion"].drop_nulls()
    assert ((rates >= 0) & (rates <= 1)).all()
    pareto = sections["feedback"].tables["feedback_pareto"]
    # closings in the period (the last 30 days); a row without a group counts for both groups
    expected = sum(
        2 if group is None else 1
        for _, group, stage, days, _ in rows
        if stage in ("Lost", "Recycled") and days < 30
    )
    assert pareto["rejections"].sum() == expected
    assert pareto["reason"].null_count() == 0


def _reference_funnel_table(history: pl.LazyFrame, ctx: object) -> pl.DataFrame:
    """funnel_table as it was before the fast path: the active pairs by a semi-join on the two
    string keys, the later funnel stage by a window over the pair, leads counted by lead_id."""
    from leadctl.stages import report_funnel as RF
    from leadctl.stages.lifecycle import order_pairs
    from leadctl.stages.report_common import ensure_group, per_group, ts

    def events_old(history: pl.LazyFrame, ctx, since):  # type: ignore[no-untyped-def]
        life = ctx.lifecycle
        order = {stage: i for i, stage in enumerate(ctx.report.funnel_stages)}
        if life.override_stage not in order and life.mql_stage in order:
            order[life.override_stage] = order[life.mql_stage]
        position = {stage: i for i, stage in enumerate(life.stages)}
        events = per_group(
            ensure_group(history).select("lead_id", "product_group", "stage", "changed_at"),
            ctx.product_groups,
        ).filter(pl.col("changed_at") < ts(ctx.end))
        active = events.filter(pl.col("changed_at") >= ts(since)).select(RF.KEYS).unique()
        stage_idx = pl.col("stage").replace_strict(order, default=None, return_dtype=pl.Int32)
        tie = pl.col("stage").replace_strict(position, default=len(position), return_dtype=pl.Int64)
        frame = events.join(active, on=RF.KEYS, how="semi").collect().rechunk()
        ordered = order_pairs(frame, tie, len(position) + 1)
        last = pl.col("_new_pair").shift(-1).fill_null(True)
        return ordered.select(
            "lead_id",
            "product_group",
            "stage",
            "changed_at",
            stage_idx.alias("stage_idx"),
            pl.when(~last).then(pl.col("changed_at").shift(-1)).alias("next_at"),
            pl.col("_new_pair").cum_sum().alias("_pair"),
        )

    def stats_old(events: pl.LazyFrame, start, end):  # type: ignore[no-untyped-def]
        upto = (
            events.filter((pl.col("changed_at") < ts(end)) & pl.col("stage_idx").is_not_null())
            .with_columns(
                pl.col("stage_idx").reverse().cum_max().reverse().over("_pair").alias("later_max")
            )
            .filter(pl.col("changed_at") >= ts(start))
        )
        entered = upto.group_by("product_group", "stage_idx").agg(
            pl.col("lead_id").n_unique().alias("entered"),
            pl.col("lead_id")
            .filter(pl.col("later_max") > pl.col("stage_idx"))
            .n_unique()
            .alias("reached_next"),
        )
        left = (
            events.filter(
                pl.col("stage_idx").is_not_null()
                & pl.col("next_at").is_not_null()
                & (pl.col("next_at") >= ts(start))
                & (pl.col("next_at") < ts(end))
            )
            .group_by("product_group", "stage_idx")
            .agg(
                ((pl.col("next_at") - pl.col("changed_at")).dt.total_seconds() / 86400.0)
                .median()
                .alias("median_days_in_stage")
            )
        )
        return entered.join(left, on=["product_group", "stage_idx"], how="full", coalesce=True)

    mp = pytest.MonkeyPatch()
    try:
        mp.setattr(RF, "funnel_events", events_old)
        mp.setattr(RF, "_period_stats", stats_old)
        return RF.funnel_table(history, ctx)  # type: ignore[arg-type]
    finally:
        mp.undo()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d", "e"]),
            st.sampled_from(["Analytics", "Cloud", None]),
            st.sampled_from(STAGES),
            st.integers(min_value=0, max_value=100),
        ),
        max_size=40,
    )
)
def test_funnel_fast_path_equals_semi_join_and_window(rows: list[tuple]) -> None:
    """Active pairs filtered after the ordering, the later stage by one offset cum_max and
    leads counted by number: the same funnel table as the semi-join / window / string plan."""
    from leadctl.stages.report_funnel import funnel_table

    history = pl.DataFrame(
        [
            (lead, group, stage, F.ts("2026-11-20", days % 24) - timedelta(days=days), "r1", None)
            for lead, group, stage, days in rows
        ],
        schema=F.HISTORY_SCHEMA,
        orient="row",
    ).lazy()
    ctx = F.context()
    assert_frame_equal(funnel_table(history, ctx), _reference_funnel_table(history, ctx))


def _psi_reference(reference: pl.Series, current: pl.Series, bins: int) -> float | None:
    """report_model.psi before the bin labels became expressions (Python-built fill columns)."""
    import numpy as np

    _FLOOR = 1e-4
    _counts = RM._counts
    if reference.len() == 0 or current.len() == 0:
        return None
    if reference.dtype.is_numeric():
        ref_f = reference.cast(pl.Float64).fill_nan(None)
        cur_f = current.cast(pl.Float64).fill_nan(None)
        clean = ref_f.drop_nulls().to_numpy()
        qs = np.quantile(clean, [i / bins for i in range(1, bins)]) if len(clean) else []
        edges = pl.Series("edges", sorted({float(q) for q in qs}), dtype=pl.Float64)

        def label(values: pl.Series) -> pl.Series:
            idx = edges.search_sorted(values, side="right").cast(pl.Int64)
            return idx.zip_with(values.is_not_null(), pl.Series([-1] * len(values))).alias("bin")

    else:
        ref_s, cur_s = reference.cast(pl.String), current.cast(pl.String)
        ranked = ref_s.drop_nulls().value_counts(sort=False, name="n")
        top = set(
            ranked.sort(["n", ref_s.name], descending=[True, False]).head(bins - 1)[ref_s.name]
        )
        top_values = sorted(top)

        def label(values: pl.Series) -> pl.Series:
            known = values.is_in(top_values)
            return (
                values.zip_with(known.fill_null(False), pl.Series(["(other)"] * len(values)))
                .fill_null("(missing)")
                .alias("bin")
            )

        ref_f, cur_f = ref_s, cur_s
    ref_counts, cur_counts = _counts(label(ref_f)), _counts(label(cur_f))
    total = 0.0
    for key in set(ref_counts) | set(cur_counts):
        r = max(ref_counts.get(key, 0) / reference.len(), _FLOOR)
        c = max(cur_counts.get(key, 0) / current.len(), _FLOOR)
        total += (c - r) * math.log(c / r)
    return total


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d", "e"])), max_size=30),
    st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "x"])), max_size=30),
    st.lists(st.one_of(st.none(), st.floats(-5, 5), st.just(float("nan"))), max_size=30),
    st.lists(st.one_of(st.none(), st.floats(-6, 6), st.just(float("nan"))), max_size=30),
    st.integers(min_value=2, max_value=6),
)
def test_psi_labels_as_expressions_equal_the_old_fill_columns(
    ref_c: list, cur_c: list, ref_n: list, cur_n: list, bins: int
) -> None:
    for ref, cur in (
        (pl.Series("c", ref_c, dtype=pl.String), pl.Series("c", cur_c, dtype=pl.String)),
        (pl.Series("n", ref_n, dtype=pl.Float64), pl.Series("n", cur_n, dtype=pl.Float64)),
    ):
        expected = _psi_reference(ref, cur, bins)
        got = psi(ref, cur, bins)
        assert got == (None if expected is None else pytest.approx(expected, rel=1e-12, abs=1e-15))


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.sampled_from(["Analytics", "Cloud", None]),
            st.sampled_from(STAGES),
            st.integers(min_value=-5, max_value=80),
        ),
        max_size=40,
    ),
    st.integers(min_value=0, max_value=60),
    st.integers(min_value=1, max_value=40),
)
def test_acceptance_of_window_rows_equals_acceptance_of_the_history(
    rows: list[tuple], back: int, days: int
) -> None:
    """Scorecard and before/after cut the history to their window before `with_acceptance`:
    an acceptance at or after a change in [start, end) and before end is in the window too."""
    from leadctl.stages.report_common import per_group
    from leadctl.stages.report_common import ts as lit_ts
    from leadctl.stages.report_scorecard import with_acceptance

    ctx = F.context()
    end = F.ts("2026-11-20", 0) - timedelta(days=back)
    start = end - timedelta(days=days)
    history = pl.DataFrame(
        [
            (lead, group, stage, F.ts("2026-11-20", n % 24) - timedelta(days=n), "r1", None)
            for lead, group, stage, n in rows
        ],
        schema=F.HISTORY_SCHEMA,
        orient="row",
    ).lazy()
    events = per_group(
        history.select("lead_id", "product_group", "stage", "changed_at"), ctx.product_groups
    )
    at = pl.col("changed_at")
    old = with_acceptance(events.filter(at < lit_ts(end)), ctx).filter(at >= lit_ts(start))
    new = with_acceptance(events.filter((at >= lit_ts(start)) & (at < lit_ts(end))), ctx)
    order = ["lead_id", "product_group", "changed_at", "stage", "accepted_later"]
    assert_frame_equal(old.collect().sort(order), new.collect().sort(order))


def test_feedback_by_rating_and_source_equal_the_joins_on_every_row() -> None:
    """The leads and ratings are cut to the rejected leads before the joins: same tables as
    joining every row."""
    from leadctl.stages.report_feedback import _ratings_for, pareto, rejections

    inputs, ctx = F.inputs(), F.context()
    tonight = F.ratings_tonight()
    extra = tonight.head(2).with_columns(  # two of the rejected leads rated, one not
        pl.Series("lead_id", ["h04", "h05"]), pl.Series("rating", ["B2", "C3"])
    )
    inputs.outputs["ratings.parquet"] = pl.concat([tonight, extra]).lazy()
    section = next(s for s in build_report(inputs, ctx) if s.key == "feedback")
    narrowed = narrow(inputs, ctx)
    frame = rejections(narrowed, ctx)
    ratings, _ = _ratings_for(narrowed, ctx)
    assert ratings is not None
    by_rating = pareto(
        frame.join(ratings, on=["lead_id", "product_group"], how="left").with_columns(
            pl.col("rating").fill_null("(unrated)")
        ),
        ["product_group", "rating"],
    )
    assert (by_rating["rating"] != "(unrated)").any()
    assert_frame_equal(section.tables["feedback_by_rating"], round_floats(by_rating))
    leads = narrowed.table("leads").select("lead_id", pl.col("lead_source").cast(pl.String))
    by_source = pareto(
        frame.join(leads, on="lead_id", how="left").with_columns(
            pl.col("lead_source").fill_null("(unknown)")
        ),
        ["product_group", "lead_source"],
    )
    assert_frame_equal(section.tables["feedback_by_source"], round_floats(by_source))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", "", None]), st.integers(0, 30)),
        max_size=40,
    )
)
def test_recent_leads_history_equals_semi_join(rows: list[tuple[str | None, int]]) -> None:
    """narrow's history: the rows of every lead with a change in [since, end), in the table's
    order; the same rows as the semi-join with the window's ids it replaced (null ids never
    match)."""
    from datetime import UTC, datetime

    from leadctl.stages.report import _recent_leads_history
    from leadctl.stages.report_common import ts

    start = datetime(2026, 11, 1, tzinfo=UTC)
    history = pl.DataFrame(
        {
            "_row": list(range(len(rows))),
            "lead_id": [r[0] for r in rows],
            "changed_at": [start + timedelta(days=r[1]) for r in rows],
        },
        schema={"_row": pl.Int64, "lead_id": pl.String, "changed_at": pl.Datetime("us", "UTC")},
    ).lazy()
    since, end = start + timedelta(days=10), start + timedelta(days=20)
    recent = history.filter((pl.col("changed_at") >= ts(since)) & (pl.col("changed_at") < ts(end)))
    old = history.join(recent.select("lead_id").unique(), on="lead_id", how="semi").collect()
    new = _recent_leads_history(history, since, end)
    assert new["_row"].is_sorted()
    assert_frame_equal(new, old.sort("_row"))
