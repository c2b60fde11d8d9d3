"""Property: rate never crashes and never loses a row, whatever strings and nulls fields hold."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stages.rate_frames import AS_OF, config, run, table

from leadctl.config.lifecycle import DEFAULT_STAGES, LifecycleConfig
from leadctl.config.rating import (
    ENGAGEMENT_GRADES,
    FIT_GRADES,
    Cutoffs,
    Hysteresis,
    RateConfig,
)
from leadctl.stages.rate import (
    RATING_COLUMNS,
    SCORE_COLUMNS,
    STATE_SCHEMA,
    RateInputs,
    rated,
    split,
)

TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=12)
MAYBE_TEXT = st.none() | TEXT
IDS = st.sampled_from(["L1", "L2", "L3", "", " L1", "ü", "=1+1"]) | TEXT
GROUPS = st.sampled_from(["Cloud", "Analytics", "", "cloud"]) | TEXT
NUMBER = st.floats(0, 100) | st.none() | st.floats(allow_nan=True, allow_infinity=True, width=64)
WHEN = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)
)
DAY = st.none() | st.dates(min_value=date(2020, 1, 1), max_value=date(2028, 1, 1))
BOOL = st.none() | st.booleans()
STAGE = st.sampled_from(DEFAULT_STAGES) | TEXT
ACTION = st.none() | st.sampled_from(["fast_track", "standard", "nurture", "disqualify"]) | TEXT


@st.composite
def score_rows(draw: st.DrawFn) -> pl.DataFrame:
    keys = draw(st.lists(st.tuples(st.none() | IDS, st.none() | GROUPS), max_size=12, unique=True))
    rows = [
        {
            "lead_id": lead,
            "product_group": group,
            "fit_score": draw(NUMBER),
            "engagement_score": draw(NUMBER),
            "propensity": draw(NUMBER),
            "score": draw(NUMBER),
            "model_kind": draw(MAYBE_TEXT),
            "model_version": draw(MAYBE_TEXT),
            "reasons_for": draw(st.none() | st.lists(MAYBE_TEXT, max_size=3)),
            "reasons_against": draw(st.none() | st.lists(MAYBE_TEXT, max_size=3)),
        }
        for lead, group in keys
    ]
    return pl.DataFrame(rows, schema=SCORE_COLUMNS)


def _rows(draw: st.DrawFn, make: Any, max_size: int = 6) -> list[dict[str, Any]]:
    return [make() for _ in range(draw(st.integers(0, max_size)))]


@st.composite
def world(draw: st.DrawFn) -> dict[str, Any]:
    scores = draw(score_rows())
    ids = [i for i in scores["lead_id"].to_list() if i is not None] or ["L1"]
    pick = st.sampled_from(ids) | IDS
    groups = st.sampled_from(
        [g for g in scores["product_group"].to_list() if g is not None] or ["Cloud"]
    )
    lead_ids = draw(st.lists(pick, max_size=10, unique=True))
    account_ids = draw(st.lists(TEXT, max_size=4, unique=True))
    leads = table(
        "leads",
        *[
            {
                "lead_id": i,
                "created_at": draw(WHEN),
                "title": draw(MAYBE_TEXT),
                "company": draw(MAYBE_TEXT),
                "country": draw(MAYBE_TEXT),
                "account_id": draw(st.none() | st.sampled_from(account_ids or ["x"]) | TEXT),
                "employees": draw(st.none() | st.integers(-(2**40), 2**40)),
                "stage": draw(st.none() | STAGE),
                "owner_id": draw(MAYBE_TEXT),
                "consent": draw(BOOL),
                "budget": draw(MAYBE_TEXT),
            }
            for i in lead_ids
        ],
    )
    if "budget" not in leads.columns:  # an extra (custom) column, present even with no leads
        leads = leads.with_columns(pl.lit(None, pl.String).alias("budget"))
    activities = table(
        "activities",
        *_rows(
            draw,
            lambda: {
                "lead_id": draw(pick),
                "activity_type": draw(st.sampled_from(["Request Demo", "Visit"]) | TEXT),
                "occurred_at": draw(WHEN),
                "asset_id": draw(MAYBE_TEXT),
                "product_group": draw(st.none() | groups | TEXT),
            },
        ),
    )
    accounts = table(
        "accounts",
        *[
            {"account_id": a, "named_account": draw(BOOL), "target_account": draw(BOOL)}
            for a in account_ids
        ],
    )
    opportunities = table(
        "opportunities",
        *_rows(
            draw,
            lambda: {
                "opportunity_id": draw(TEXT),
                "lead_id": draw(st.none() | pick),
                "product_group": draw(st.none() | groups),
                "created_at": draw(WHEN),
                "closed_at": draw(st.none() | WHEN),
            },
        ),
    )
    history = table(
        "stage_history",
        *_rows(
            draw,
            lambda: {
                "lead_id": draw(pick),
                "product_group": draw(st.none() | groups | TEXT),
                "stage": draw(STAGE),
                "changed_at": draw(WHEN),
                "reason": draw(st.none() | st.sampled_from(["Timing", "No budget"]) | TEXT),
            },
        ),
    )
    previous = None
    if draw(st.booleans()):
        previous = pl.DataFrame(
            _rows(
                draw,
                lambda: {
                    "lead_id": draw(st.none() | pick),
                    "product_group": draw(st.none() | groups),
                    "is_mql": draw(BOOL),
                    "mql_since": draw(DAY),
                    "action": draw(ACTION),
                    "sla_tier": draw(MAYBE_TEXT),
                    "override_rule": draw(MAYBE_TEXT),
                    "reentry_count": draw(st.none() | st.integers(0, 10**6)),
                    "rating": draw(MAYBE_TEXT),
                },
                max_size=8,
            ),
            schema=STATE_SCHEMA,
        )
    return {
        "scores": scores,
        "leads": leads,
        "activities": activities,
        "accounts": accounts,
        "opportunities": opportunities,
        "history": history,
        "previous": previous,
    }


RULES = [
    {
        "name": "field-equals",
        "owner": "o",
        "review_by": "2027-01-01",
        "action": "fast_track",
        "conditions": [{"kind": "field", "field": "country", "equals": "DE"}],
    },
    {
        "name": "field-in-regex",
        "owner": "o",
        "review_by": "2027-01-01",
        "action": "standard",
        "conditions": [
            {"kind": "field", "field": "title", "regex": r"(?:chief|vp)\b"},
            {"kind": "field", "field": "product_group", "in": ["Cloud", 1, True]},
        ],
    },
    {
        "name": "field-range",
        "owner": "o",
        "review_by": "2027-01-01",
        "action": "nurture",
        "conditions": [
            {"kind": "field", "field": "employees", "min": 0, "max": 1000},
            {"kind": "field", "field": "budget", "min": 10},
        ],
    },
    {
        "name": "lists-and-bools",
        "owner": "o",
        "review_by": "2027-01-01",
        "action": "disqualify",
        "conditions": [
            {"kind": "field", "field": "reasons_for", "regex": "x"},
            {"kind": "field", "field": "consent", "equals": False},
        ],
    },
    {
        "name": "activity",
        "owner": "o",
        "review_by": "2027-01-01",
        "conditions": [
            {"kind": "activity", "types": ["Request Demo"], "asset_regex": ".", "within_days": 400}
        ],
    },
    {
        "name": "activity-any-group",
        "owner": "o",
        "review_by": "2027-01-01",
        "conditions": [
            {"kind": "activity", "assets": ["", "ü"], "same_product_group": False, "min_count": 2}
        ],
    },
    {
        "name": "account",
        "owner": "o",
        "review_by": "2027-01-01",
        "conditions": [{"kind": "account", "named": True, "target": False}],
    },
    {
        "name": "account-ids",
        "owner": "o",
        "review_by": "2027-01-01",
        "conditions": [{"kind": "account", "account_ids": ["x", ""]}],
    },
    {
        "name": "common",
        "owner": "o",
        "review_by": "2027-01-01",
        "action": "standard",
        "conditions": [{"kind": "field", "field": "fit_score", "min": 50}],
    },
    {
        "name": "expired",
        "owner": "o",
        "review_by": "2026-01-01",
        "conditions": [{"kind": "field", "field": "lead_id", "regex": "."}],
    },
]
CONFIGS = [
    config(
        overrides=RULES,
        min_propensity=0.3,
        hysteresis=Hysteresis(margin=5, propensity_margin=0.05, min_stay_days=3),
    ),
    config(
        cutoffs=Cutoffs(method="share", fit=[0.1, 0.2, 0.3], engagement=[0.3, 0.3, 0.4]),
        group_cutoffs={
            "Cloud": Cutoffs(method="fixed", fit=[80, 60, 40], engagement=[1e308, 0, -1e308])
        },
        overrides=RULES[::-1],
    ),
]


def _run_from_history(
    scores: pl.DataFrame, cfg: RateConfig, data: dict[str, Any]
) -> dict[str, pl.DataFrame]:
    def lazy(name: str) -> pl.LazyFrame:
        frame = data.get(name)
        return (frame if frame is not None else table(name)).lazy()

    inputs = RateInputs(
        scores=scores.lazy(),
        leads=lazy("leads"),
        activities=lazy("activities"),
        accounts=lazy("accounts"),
        opportunities=lazy("opportunities"),
        current=None,
        previous=data["previous"].lazy() if data.get("previous") is not None else None,
        stage_history=data["history"].lazy(),
    )
    result = split(rated(inputs, cfg, LifecycleConfig(), AS_OF).collect(engine="in-memory").lazy())
    ratings, nurture, state, cutoffs = pl.collect_all(
        [result.ratings, result.nurture, result.state, result.cutoffs]
    )
    return {"ratings": ratings, "nurture": nurture, "state": state, "cutoffs": cutoffs}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=world(), which=st.sampled_from([0, 1]))
def test_rate_never_crashes_and_never_loses_a_row(data: dict[str, Any], which: int) -> None:
    scores = data.pop("scores")
    out = run(scores, CONFIGS[which], **data, as_of=AS_OF)
    # The command rates without lifecycle.current_stages (stages straight from the history):
    # every output must be the same.
    direct = _run_from_history(scores, CONFIGS[which], data)
    for name, frame in direct.items():
        assert frame.equals(out[name]), name
    ratings, nurture, state = out["ratings"], out["nurture"], out["state"]

    assert ratings.columns == RATING_COLUMNS
    key = ["lead_id", "product_group"]
    assert sorted(ratings.select(key).rows(), key=str) == sorted(scores.select(key).rows(), key=str)
    assert set(ratings["fit_grade"]) <= set(FIT_GRADES)
    assert set(ratings["engagement_grade"]) <= set(ENGAGEMENT_GRADES)
    assert ratings.select(
        (pl.col("fit_grade") + pl.col("engagement_grade").cast(pl.String) == pl.col("rating")).all()
    ).item() in (True, None)
    assert set(ratings["action"]) <= {"fast_track", "standard", "nurture", "disqualify"}
    for col in ("is_mql", "is_new_mql", "reentry_count", "current_stage", "rating", "action"):
        assert ratings[col].null_count() == 0, col
    assert ratings.filter(pl.col("is_new_mql") & ~pl.col("is_mql")).height == 0
    assert ratings.filter(pl.col("is_new_mql") != pl.col("stage_to_set").is_not_null()).height == 0
    assert ratings.filter(pl.col("is_mql") != pl.col("mql_since").is_not_null()).height == 0
    assert (
        ratings.filter(
            pl.col("is_mql") & (pl.col("lead_id").is_null() | pl.col("product_group").is_null())
        ).height
        == 0
    )
    assert (ratings["reentry_count"] >= 0).all()
    assert "expired" not in set(ratings["override_rule"].drop_nulls())

    assert nurture["reason"].null_count() == 0
    mqls = set(ratings.filter(pl.col("is_mql")).select(key).rows())
    assert not set(nurture.select(key).rows()) & mqls
    assert set(nurture.select(key).rows()) <= set(ratings.select(key).rows())
    assert state.height == ratings.drop_nulls(key).height
