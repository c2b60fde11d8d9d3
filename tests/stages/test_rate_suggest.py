"""`rate --suggest`: daily capacity from reps and open load, and candidate cutoffs against it."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from stages.rate_frames import AS_OF, config, leads_for, scores, table

from leadctl.config.lifecycle import LifecycleConfig
from leadctl.config.rating import Cutoffs, SuggestConfig
from leadctl.stages.lifecycle import current_stages
from leadctl.stages.rate import RateInputs, prepare
from leadctl.stages.rate_suggest import daily_capacity, suggest_cutoffs


def _reps() -> pl.DataFrame:
    return table(
        "reps",
        {"rep_id": "r1", "product_groups": "Cloud", "capacity": 20, "active": True},
        {"rep_id": "r2", "product_groups": "cloud; Analytics", "capacity": 10, "active": None},
        {"rep_id": "r3", "product_groups": None, "capacity": None, "active": True},
        {"rep_id": "off", "product_groups": "Cloud", "capacity": 50, "active": False},
        {
            "rep_id": "away",
            "product_groups": "Cloud",
            "capacity": 50,
            "active": True,
            "out_of_office_from": date(2026, 11, 16),
            "out_of_office_to": date(2026, 11, 20),
        },
    )


def test_daily_capacity_from_free_slots_per_rep() -> None:
    load = pl.LazyFrame({"rep_id": ["r1", "r2"], "open_leads": [19, 12]})
    cfg = SuggestConfig(working_days_per_week=7, leads_per_rep_per_day=3, default_capacity=4)
    out = daily_capacity(_reps().lazy(), load, ["Analytics", "Cloud"], cfg, AS_OF)
    # r1: 1 free slot → 1/day to Cloud. r2: over capacity → 0. r3: default 4 free, serves both
    # groups → min(3, 4) = 3/day split in two.
    expected = pl.DataFrame(
        {
            "product_group": ["Analytics", "Cloud"],
            "reps": [2, 3],
            "capacity": [7.0, 27.0],
            "open_leads": [6.0, 25.0],
            "free_slots": [2.0, 3.0],
            "new_leads_per_day": [1.5, 2.5],
        }
    )
    assert_frame_equal(out, expected, check_dtypes=False)


def test_daily_capacity_as_a_share_of_free_slots_on_working_days() -> None:
    load = pl.LazyFrame({"rep_id": ["r1"], "open_leads": [6]})
    cfg = SuggestConfig(
        working_days_per_week=5, leads_per_rep_per_day=None, daily_capacity_share=0.5
    )
    out = daily_capacity(
        _reps().filter(pl.col("rep_id") == "r1").lazy(), load, ["Cloud", "Security"], cfg, AS_OF
    )
    # 14 free slots × 0.5 a working day × 5/7 working days = 5 a day.
    assert out.rows() == [("Cloud", 1, 20.0, 6.0, 14.0, 5.0), ("Security", 0, 0.0, 0.0, 0.0, 0.0)]


def _prepared(n: int = 200) -> pl.DataFrame:
    rows = scores(
        *[
            {
                "lead_id": f"L{i:03d}",
                "fit_score": float(i % 100),
                "engagement_score": float((i * 7) % 100),
                "propensity": (i % 100) / 100,
            }
            for i in range(n)
        ]
    )
    leads = leads_for(rows)
    lifecycle = LifecycleConfig()
    inputs = RateInputs(
        scores=rows.lazy(),
        leads=leads.lazy(),
        activities=table("activities").lazy(),
        accounts=table("accounts").lazy(),
        opportunities=table("opportunities").lazy(),
        current=current_stages(
            table("stage_history").lazy(), leads.lazy(), ["Cloud"], lifecycle, AS_OF
        ),
    )
    return prepare(inputs, [], lifecycle, AS_OF).collect()


@pytest.mark.parametrize("limit", [0.0, 12.0, 20.0, 10_000.0])
def test_suggest_recommends_the_most_conversions_that_fit(limit: float) -> None:
    cfg = config(cutoffs=Cutoffs(method="share", fit=[0.1, 0.2, 0.3], engagement=[0.1, 0.2, 0.3]))
    capacity = pl.DataFrame({"product_group": ["Cloud"], "new_leads_per_day": [limit]})
    out = suggest_cutoffs(_prepared(), capacity, cfg, LifecycleConfig(), AS_OF)["Cloud"]
    current, candidates = out["current"], out["candidates"]
    assert current["delta_conversions"] == 0 and current["new_mqls"] > 12
    assert current["new_override_mqls"] == 0
    same = next(c for c in candidates if c["factor"] == 1.0)
    assert (same["new_mqls"], same["expected_conversions"]) == (
        current["new_mqls"],
        current["expected_conversions"],
    )
    loose = [c["new_mqls"] for c in candidates if not c["searched"]]
    assert loose == sorted(loose), "looser cutoffs never send fewer"
    for c in candidates:
        assert c["delta_conversions"] == pytest.approx(
            c["expected_conversions"] - current["expected_conversions"], abs=0.011
        )
        assert c["fits"] == (c["new_mqls"] <= limit)
    best = next(c for c in candidates if c["factor"] == out["recommended_factor"])
    fitting = [c for c in candidates if c["fits"]]
    if limit == 12.0:  # ×0.5 sends exactly 12: nothing to search for
        assert best["factor"] == 0.5 and best["new_mqls"] == 12
        assert not any(c["searched"] for c in candidates)
    elif limit == 20.0:  # ×0.5 sends 12, ×0.75 sends 24: the search finds shares in between
        assert out["recommended_fits"] and best["searched"] and 12 < best["new_mqls"] <= 20
        assert 0.5 < best["factor"] < 0.75
        assert best["expected_conversions"] == max(c["expected_conversions"] for c in fitting)
    elif limit == 0.0:
        assert not out["recommended_fits"]
        assert best["new_mqls"] == min(c["new_mqls"] for c in candidates)
    else:
        assert best["factor"] == 2.0 and not any(c["searched"] for c in candidates)


def test_suggest_starts_from_the_realised_shares_of_fixed_cutoffs() -> None:
    cfg = config()  # fixed 75/50/25
    capacity = pl.DataFrame({"product_group": ["Cloud"], "new_leads_per_day": [10_000.0]})
    out = suggest_cutoffs(_prepared(), capacity, cfg, LifecycleConfig(), AS_OF)["Cloud"]
    assert out["current"]["method"] == "fixed"
    assert out["current"]["fit_shares"] == [0.25, 0.25, 0.25]
    same = next(c for c in out["candidates"] if c["factor"] == 1.0)
    assert same["fit_shares"] == [0.25, 0.25, 0.25]
    assert same["new_mqls"] == out["current"]["new_mqls"]
