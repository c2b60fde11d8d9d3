"""Reason codes (driver selection and wording), drift summaries and the percentile scale."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from leadctl.features.spec import Feature
from leadctl.models import card as C
from leadctl.models.reasons import merge_title, phrase, reason_lists, top_drivers

PHRASES = {"Request Demo": "Requested a demo"}


def _feat(name, kind="numeric", phrase_kind="number", label=None, **params):
    return Feature(name, kind, "engagement", label or name, phrase_kind, params=params)


def test_top_drivers_picks_largest_each_way():
    contrib = np.array([[0.5, -0.2, 0.1, -0.9], [0.0, 0.01, -0.03, 0.2]])
    rows, cols, ranks, pos = top_drivers(contrib, top_n=2, min_contribution=0.02)
    got = sorted(zip(rows.tolist(), cols.tolist(), ranks.tolist(), pos.tolist(), strict=True))
    assert got == [
        (0, 0, 0, True),
        (0, 1, 1, False),
        (0, 2, 1, True),
        (0, 3, 0, False),
        (1, 2, 0, False),
        (1, 3, 0, True),
    ]


def test_reason_lists_word_values_in_both_directions():
    feats = [
        _feat("days_since_request_demo", phrase_kind="days_since", type="Request Demo"),
        _feat("pg_activities_30d", phrase_kind="pg_count", window=30),
        Feature("email_domain_type", "categorical", "fit", "E-mail", "email"),
        Feature("seniority", "categorical", "fit", "Seniority", "title"),
        Feature("country", "categorical", "fit", "Country", "category"),
        _feat("decayed_engagement", phrase_kind="decayed"),
    ]
    raw = pl.DataFrame(
        {
            "days_since_request_demo": [2.0, None],
            "pg_activities_30d": [4.0, 0.0],
            "email_domain_type": ["corporate", "free"],
            "seniority": ["VP", None],
            "title": ["VP Finance", None],
            "country": ["DE", None],
            "decayed_engagement": [3.25, 0.0],
        }
    )
    contrib = np.array([[1.0, -0.5, 0.3, 0.2, 0.0, 0.0], [-0.4, -0.2, -0.6, 0.0, 0.1, -0.3]])
    phrases = [phrase(f, group="Cloud", activity_phrases=PHRASES, lookback_days=365) for f in feats]
    out = reason_lists(raw, contrib, phrases, top_n=3, min_contribution=0.05)
    assert out["reasons_for"].to_list() == [
        ["Requested a demo 2 days ago", "Corporate e-mail address", "Title: VP Finance"],
        ["Country: unknown"],
    ]
    assert out["reasons_against"].to_list() == [
        ["Only 4 Cloud activities in the last 30 days"],
        [
            "Free-mail address",
            "No “Request Demo” in the last 365 days",
            "Low recent engagement (level 0.0)",
        ],
    ]


def test_country_names_and_empty_rows():
    feat = Feature("country", "categorical", "fit", "Country", "category")
    raw = pl.DataFrame({"country": ["US", "XX"]})
    out = reason_lists(
        raw,
        np.array([[1.0], [1.0]]),
        [phrase(feat, group="A", activity_phrases={}, lookback_days=1)],
        top_n=1,
        min_contribution=0.0,
    )
    assert out["reasons_for"].to_list() == [["Country: United States"], ["Country: XX"]]
    none = reason_lists(raw, np.zeros((2, 1)), [pl.lit("x")], top_n=1, min_contribution=0.1)
    assert none["reasons_for"].to_list() == [[], []] and none["reasons_against"].to_list() == [
        [],
        [],
    ]


def test_title_drivers_are_merged():
    feats = [
        Feature("seniority", "categorical", "fit", "S", "title"),
        _feat("x"),
        Feature("job_function", "categorical", "fit", "F", "title"),
    ]
    merged, kept = merge_title(np.array([[0.5, 0.1, -0.2]]), feats)
    assert [f.name for f in kept] == ["seniority", "x"]
    np.testing.assert_allclose(merged, [[0.3, 0.1]])


def test_psi_is_small_for_the_same_population_and_large_for_a_shift():
    rng = np.random.default_rng(0)
    train = rng.normal(0, 1, 20_000)
    summary = C.numeric_summary(train)
    assert len(summary["edges"]) == 9 and sum(summary["shares"]) == pytest.approx(1.0)
    assert C.psi(summary, rng.normal(0, 1, 20_000)) < 0.01
    assert C.psi(summary, rng.normal(1, 1, 20_000)) > 0.25
    cats = C.categorical_summary(pl.Series("c", ["a"] * 80 + ["b"] * 20))
    assert cats["shares"] == {"a": 0.8, "b": 0.2}
    assert C.psi(cats, pl.Series(["a"] * 80 + ["b"] * 20)) == pytest.approx(0.0)
    assert C.psi(cats, pl.Series(["b"] * 80 + ["c"] * 20)) > 1.0


def test_percentile_scale():
    ref = C.reference_quantiles(np.linspace(0, 1, 10_001))
    assert len(ref) == C.REFERENCE_POINTS
    got = C.to_percentile(np.array([-1.0, 0.25, 0.5, 2.0]), ref)
    np.testing.assert_allclose(got, [0.0, 25.0, 50.0, 100.0], atol=0.1)
    assert (
        C.model_version("2026-11-20", ["a"])
        == C.model_version("2026-11-20", ["a"])
        != C.model_version("2026-11-20", ["b"])
    )


def test_psi_is_stable_for_step_valued_scores_and_counts():
    """Isotonic scores and counts repeat values; rounding them must not move them between bins."""
    rng = np.random.default_rng(2)
    steps = rng.choice(
        [0.0012345678, 0.0101010101, 0.0345678912, 0.15], size=5000, p=[0.5, 0.3, 0.15, 0.05]
    )
    summary = C.numeric_summary(steps)
    assert all(not np.isclose(e, steps).any() for e in summary["edges"])
    assert C.psi(summary, np.round(steps, 6)) < 1e-6
    counts = rng.poisson(0.7, 5000).astype(float)
    s = C.numeric_summary(counts)
    assert s["edges"] == [0.5, 1.5, 2.5][: len(s["edges"])] and C.psi(s, counts) < 1e-9


def test_percentile_places_plateau_ties_by_position_within_the_plateau() -> None:
    ref = [0.1, 0.2, 0.2, 0.2, 0.2, 0.3]  # a plateau at 0.2 spans percentiles 1/6 .. 5/6
    values = np.array([0.2, 0.2, 0.2, 0.3])
    got = C.to_percentile(values, ref, position=np.array([0.0, 0.5, 1.0, 0.5]))
    np.testing.assert_allclose(got, [100 / 6, 50.0, 500 / 6, 100 * 5.5 / 6])
    assert list(np.round(C.to_percentile(values, ref)[:3], 6)) == [50.0, 50.0, 50.0]


def test_plateau_position_follows_the_raw_output_inside_an_isotonic_step() -> None:
    from leadctl.models.calibration import plateau_position

    cal = {"method": "isotonic", "x": [0.0, 0.2, 0.4, 0.6, 1.0], "y": [0.01, 0.05, 0.05, 0.05, 0.5]}
    pos = plateau_position(cal, np.array([0.2, 0.3, 0.6, 0.5, 0.8]))
    assert pos is not None
    np.testing.assert_allclose(pos[:4], [0.0, 0.25, 1.0, 0.75])
    assert pos[4] == 0.5  # between two different knots: no plateau, the middle
    assert plateau_position({"method": "platt", "a": 1.0, "b": 0.0}, np.array([0.3])) is None
