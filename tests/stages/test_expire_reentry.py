"""Recycle, then re-entry: an expired lead goes back to marketing and can become an MQL again.

Tonight's stage update is imported into the CRM; the next night's stage history carries it. The
lead's current stage must then let `rate` MQL it again (at once for an expiry, after the
reason's `recycle_after_days` for a recycle reason), and expire must leave it alone.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
from stages.test_expire_builders import AS_OF, GROUPS, history, leads, make_inputs, pairs, run

from leadctl.config.lifecycle import LifecycleConfig
from leadctl.schemas import empty_frame
from leadctl.stages.expire_common import cutoff
from leadctl.stages.expire_transitions import sources_into
from leadctl.stages.lifecycle import current_stages

LIFECYCLE = LifecycleConfig()


def imported(hist: pl.LazyFrame, updates: pl.DataFrame) -> pl.LazyFrame:
    """The stage history after the CRM imported tonight's updates (logged at 02:00 next day)."""
    logged = updates.select(
        "lead_id",
        "product_group",
        pl.col("new_stage").alias("stage"),
        pl.lit(cutoff(AS_OF) + timedelta(hours=2)).alias("changed_at"),
        pl.lit("crm-integration").alias("changed_by"),
        "reason",
    )
    base = hist.collect()
    return pl.concat([base, logged.select(base.columns).cast(base.schema)]).lazy()


def eligible(current: pl.DataFrame, lead: str) -> bool:
    """What the lifecycle allows: a move into MQL from the current stage, and the reason's
    recycle delay spent (a delay applies to a recycled stage only)."""
    row = current.filter(pl.col("lead_id") == lead).row(0, named=True)
    reason = LIFECYCLE.reasons.get(row["reason"] or "")
    wait = reason.recycle_after_days if reason and row["stage"] == LIFECYCLE.recycled_stage else 0
    return (
        row["stage"] in sources_into(LIFECYCLE, LIFECYCLE.mql_stage)
        and row["days_in_stage"] >= wait
    )


def nights(hist: pl.LazyFrame) -> tuple[pl.DataFrame, pl.LazyFrame, pl.DataFrame]:
    """Run expire tonight; return tonight's updates, the next history and the next current."""
    lead = leads(("Lexp", "r1"), ("Lbudget", "r1"))
    updates = run(make_inputs(hist, lead=lead))["stage_updates"]
    after = imported(hist, updates)
    nxt = AS_OF + timedelta(days=1)
    current = current_stages(after, lead, GROUPS, LIFECYCLE, nxt).collect()
    return updates, after, current


HIST = history(
    ("Lexp", "A", "MQL", 40),
    ("Lexp", "A", "SAL", 30),  # never touched: expires tonight
    ("Lbudget", "A", "MQL", 60),
    ("Lbudget", "A", "SAL", 50),
    ("Lbudget", "A", "Lost", 2, "r1", "No budget"),  # recycle after 90 days
)


def test_expired_lead_is_recycled_and_eligible_again_through_the_lifecycle() -> None:
    before = current_stages(
        HIST, leads(("Lexp",), ("Lbudget",)), GROUPS, LIFECYCLE, AS_OF
    ).collect()
    assert not eligible(before, "Lexp")  # SAL cannot move into MQL
    updates, _, current = nights(HIST)
    assert pairs(updates, "lead_id", "new_stage", "reason", "owner_released") == [
        ("Lbudget", "Recycled", "No budget", True),
        ("Lexp", "Recycled", "Expired - no activity", True),
    ]
    assert pairs(current, "lead_id", "stage", "reason", "days_in_stage") == [
        ("Lbudget", "Recycled", "No budget", 0),
        ("Lexp", "Recycled", "Expired - no activity", 0),
    ]
    assert eligible(current, "Lexp")
    assert not eligible(current, "Lbudget")  # 90 days of nurture first
    for days, expected in ((91, False), (92, True)):  # recycled at 02:00 the day after as-of
        later = current_stages(
            imported(HIST, updates), leads(("Lbudget",)), GROUPS, LIFECYCLE, AS_OF + timedelta(days)
        ).collect()
        assert eligible(later, "Lbudget") is expected


def test_next_night_expire_leaves_the_recycled_lead_alone() -> None:
    _, after, _ = nights(HIST)
    out = run(
        make_inputs(after, lead=leads(("Lexp", "r1"), ("Lbudget", "r1"))),
        as_of=AS_OF + timedelta(days=1),
    )
    assert out["stage_updates"].is_empty()
    assert out["illegal_transitions"].is_empty()  # SAL/Lost -> Recycled is allowed
    assert out["suppression"].is_empty()
    assert out["zombies"].is_empty()
    assert out["feedback_issues"].is_empty()  # the expiry reason is a known reason
    # Expired without a single attempt: a persistence breach the owner answers for.
    assert pairs(out["persistence_breaches"], "lead_id", "rep_id", "attempts") == [
        ("Lbudget", "r1", 0),
        ("Lexp", "r1", 0),
    ]


def _rate_inputs(current: pl.DataFrame, as_of: date) -> Any:
    from leadctl.stages.rate import SCORE_COLUMNS, RateInputs

    scores = pl.DataFrame(
        {
            "lead_id": ["Lexp", "Lbudget"],
            "product_group": ["A", "A"],
            "fit_score": [95.0, 95.0],
            "engagement_score": [95.0, 95.0],
            "propensity": [0.9, 0.9],
            "score": [95.0, 95.0],
            "model_kind": ["points", "points"],
            "model_version": ["test", "test"],
            "reasons_for": [["demo request"], ["demo request"]],
            "reasons_against": [[], []],
        },
        schema=SCORE_COLUMNS,
    )
    return RateInputs(
        scores=scores.lazy(),
        leads=leads(("Lexp", "r1"), ("Lbudget", "r1")),
        activities=empty_frame("activities").lazy(),
        accounts=empty_frame("accounts").lazy(),
        opportunities=empty_frame("opportunities").lazy(),
        current=current.lazy(),
    )


def test_expired_lead_re_enters_through_rate() -> None:
    from leadctl.config.rating import Cutoffs, RateConfig
    from leadctl.stages.rate import rate

    cfg = RateConfig(cutoffs=Cutoffs(method="fixed", fit=[80, 60, 40], engagement=[80, 60, 40]))
    before = current_stages(
        HIST, leads(("Lexp",), ("Lbudget",)), GROUPS, LIFECYCLE, AS_OF
    ).collect()
    rated = rate(_rate_inputs(before, AS_OF), cfg, LIFECYCLE, AS_OF).ratings.collect()
    assert pairs(rated, "lead_id", "rating", "is_mql") == [
        ("Lbudget", "A1", False),
        ("Lexp", "A1", False),
    ]

    updates, after, current = nights(HIST)
    nxt = AS_OF + timedelta(days=1)
    rated = rate(_rate_inputs(current, nxt), cfg, LIFECYCLE, nxt).ratings.collect()
    assert pairs(rated, "lead_id", "is_mql", "is_new_mql", "stage_to_set") == [
        ("Lbudget", False, False, None),  # "No budget": 90 days in nurture first
        ("Lexp", True, True, "MQL"),
    ]
    day92 = AS_OF + timedelta(days=92)
    current = current_stages(
        after, leads(("Lexp",), ("Lbudget",)), GROUPS, LIFECYCLE, day92
    ).collect()
    rated = rate(_rate_inputs(current, day92), cfg, LIFECYCLE, day92).ratings.collect()
    assert pairs(rated.filter(pl.col("lead_id") == "Lbudget"), "is_new_mql", "stage_to_set") == [
        (True, "MQL")
    ]
    assert updates.height == 2
