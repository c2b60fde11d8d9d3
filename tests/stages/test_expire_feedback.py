"""Sales feedback: reason → action mapping, and closed leads without a (known) reason."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from stages.test_expire_builders import assignments, history, leads, make_inputs, pairs, reps, run

from leadctl.config.expire import ExpireConfig, FeedbackConfig
from leadctl.config.lifecycle import LifecycleConfig
from leadctl.stages.expire_feedback import classify_reasons, reason_table


def test_reason_table_carries_action_delay_field_and_label() -> None:
    table = reason_table(LifecycleConfig()).collect()
    row = table.filter(pl.col("reason_name") == "No budget").row(0, named=True)
    assert (row["action"], row["recycle_after_days"], row["negative_label"]) == (
        "recycle",
        90,
        False,
    )
    row = table.filter(pl.col("reason_name") == "Bad contact data").row(0, named=True)
    assert (row["action"], row["field_to_fix"]) == ("data_fix", "phone")
    row = table.filter(pl.col("reason_name") == "Competitor").row(0, named=True)
    assert (row["action"], row["negative_label"]) == ("suppress", True)


def test_reasons_match_ignoring_case_and_spaces() -> None:
    current = pl.DataFrame(
        {"reason": ["  not a FIT ", "Not  a fit", "N/A", None, "   ", "Timing"]}
    ).lazy()
    out = classify_reasons(current, LifecycleConfig()).collect()
    assert out["reason_status"].to_list() == [
        "known",
        "known",
        "unknown",
        "missing",
        "missing",
        "known",
    ]
    assert out["reason_name"].to_list() == ["Not a fit", "Not a fit", None, None, None, "Timing"]
    assert out["action"].to_list() == ["disqualify", "disqualify", None, None, None, "recycle"]


def closed(lead: str, stage: str, days: int, reason: str | None, by: str = "r1") -> list[tuple]:
    return [
        (lead, "A", "MQL", days + 20),
        (lead, "A", "SAL", days + 10),
        (lead, "A", stage, days, by, reason),
    ]


def test_recycle_reason_moves_a_closed_lead_back_to_nurture() -> None:
    hist = history(
        *closed("Lold", "Lost", 400, "No budget"),
        *closed("Lnew", "Lost", 0, "no budget"),
        *closed("Ldq", "Disqualified", 3, "Timing"),
        *closed("Lrec", "Recycled", 2, "Timing"),  # already recycled: re-entry is up to rate
        *closed("Lwon", "Won", 2, "Timing"),  # Won -> Recycled is not a transition
    )
    out = run(make_inputs(hist))
    assert pairs(
        out["stage_updates"], "lead_id", "new_stage", "reason", "previous_stage", "rule"
    ) == [
        ("Ldq", "Recycled", "Timing", "Disqualified", "feedback_recycle"),
        ("Lnew", "Recycled", "No budget", "Lost", "feedback_recycle"),
        ("Lold", "Recycled", "No budget", "Lost", "feedback_recycle"),
    ]


def test_disqualify_reason_only_where_the_waterfall_allows_it() -> None:
    hist = history(
        *closed("Lrec", "Recycled", 5, "Student"),
        *closed("Llost", "Lost", 5, "Not a fit"),  # Lost -> Disqualified is not a transition
        *closed("Ldq", "Disqualified", 5, "Not a fit"),  # already there
    )
    out = run(make_inputs(hist))
    assert pairs(out["stage_updates"], "lead_id", "new_stage", "reason", "rule") == [
        ("Lrec", "Disqualified", "Student", "feedback_disqualify")
    ]


def test_data_fix_reason_goes_to_the_marketing_ops_queue_with_the_field() -> None:
    hist = history(*closed("L", "Disqualified", 3, "bad contact data", by="r2"))
    out = run(make_inputs(hist))
    assert pairs(
        out["feedback_issues"],
        "issue",
        "queue",
        "lead_id",
        "reason",
        "field_to_fix",
        "rep_id",
        "team",
    ) == [("data_fix", "marketing_ops", "L", "bad contact data", "phone", "r2", "T1")]
    assert out["stage_updates"].is_empty()


def test_reassign_reason_is_handed_to_assign_until_reassigned() -> None:
    hist = history(
        *closed("Lnew", "Disqualified", 3, "Already a customer"),
        *closed("Ldone", "Disqualified", 3, "Already a customer"),
    )
    log = assignments(("Ldone", "A", "r2", "standard", 1, 0))
    out = run(make_inputs(hist, assigned=log))
    assert pairs(out["reassign"], "lead_id", "previous_owner_id", "source", "reason") == [
        ("Lnew", "r1", "feedback", "Already a customer")
    ]


def test_suppress_reason_puts_the_lead_on_the_suppression_list() -> None:
    hist = history(*closed("L", "Lost", 400, "Competitor"), *closed("M", "Lost", 4, "Timing"))
    out = run(make_inputs(hist))
    assert pairs(out["suppression"], "lead_id", "stage", "source", "reason") == [
        ("L", "Lost", "reason", "Competitor")
    ]


def test_missing_and_unknown_reasons_are_reported_per_rep() -> None:
    hist = history(
        *closed("Lmiss", "Lost", 5, None, by="r1"),
        *closed("Lblank", "Disqualified", 6, "  ", by="r2"),
        *closed("Lfree", "Recycled", 7, "spoke w/ them - not now", by="r2"),
        *closed("Lwon", "Won", 8, None, by="r1"),  # Won needs no reason
        *closed("Lok", "Lost", 9, "Timing", by="r1"),
        *closed("Lold", "Lost", 91, None, by="r1"),  # outside the 90-day lookback
        ("Lsys", "A", "Recycled", 4, "integration-user", None),  # not a rep: owner answers
    )
    lead = leads(
        ("Lmiss",), ("Lblank",), ("Lfree",), ("Lwon",), ("Lok",), ("Lold",), ("Lsys", "r2")
    )
    rep = reps(("r1", "T1", "m1"), ("r2", "T2", "m2"))
    out = run(make_inputs(hist, lead=lead, rep=rep))
    assert pairs(
        out["feedback_issues"], "issue", "lead_id", "stage", "reason", "rep_id", "team"
    ) == [
        ("missing_reason", "Lblank", "Disqualified", "  ", "r2", "T2"),
        ("missing_reason", "Lmiss", "Lost", None, "r1", "T1"),
        ("missing_reason", "Lsys", "Recycled", None, "r2", "T2"),
        ("unknown_reason", "Lfree", "Recycled", "spoke w/ them - not now", "r2", "T2"),
    ]
    everything = ExpireConfig(lookback_days=0, feedback=FeedbackConfig(reason_optional_stages=[]))
    out = run(make_inputs(hist, lead=lead, rep=rep), cfg=everything)
    assert {"Lold", "Lwon"} <= set(out["feedback_issues"]["lead_id"].to_list())


REASON_TEXT = st.one_of(
    st.none(),
    st.sampled_from([*LifecycleConfig().reasons, " Timing ", "NOT A FIT", "\tStudent\n"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=12),
)


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(REASON_TEXT, min_size=1, max_size=8))
def test_every_reason_text_is_missing_unknown_or_known(texts: list[str | None]) -> None:
    lifecycle = LifecycleConfig()
    names = {" ".join(n.split()).lower(): n for n in lifecycle.reasons}
    out = classify_reasons(
        pl.DataFrame({"reason": texts}, schema={"reason": pl.String}).lazy(), lifecycle
    )
    got = out.collect()
    assert got.height == len(texts)
    for text, status, name in zip(texts, got["reason_status"], got["reason_name"], strict=True):
        key = None if text is None else " ".join(text.split()).lower()
        if not key:
            assert (status, name) == ("missing", None)
        elif key in names:
            assert (status, name) == ("known", names[key])
        else:
            assert (status, name) == ("unknown", None)
