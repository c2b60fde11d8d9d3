"""The blocked fuzzy account-name match finds exactly the pairs a full comparison finds."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz, process

from leadctl.config.verify import VerifyConfig
from leadctl.stages import verify_accounts
from leadctl.stages.verify_accounts import _ball, _ball_size, _fuzzy_pairs, _sorted_tokens

_SCORERS = {
    "ratio": fuzz.ratio,
    "token_sort_ratio": fuzz.token_sort_ratio,
    "token_set_ratio": fuzz.token_set_ratio,
    "WRatio": fuzz.WRatio,
}


def _reference(queries: list[str], choices: list[str], scorer: str, threshold: float) -> set:
    """Every query against every choice (the definition the fast path must reproduce)."""
    if scorer == "token_sort_ratio":
        q = [" ".join(sorted(v.split())) for v in queries]
        c = [" ".join(sorted(v.split())) for v in choices]
        fn = fuzz.ratio
    else:
        q, c, fn = list(queries), list(choices), _SCORERS[scorer]
    scores = process.cdist(
        q, c, scorer=fn, processor=None, score_cutoff=threshold, dtype=np.float32
    )
    out = set()
    for row, query in enumerate(queries):
        top = scores[row].max() if len(choices) else 0
        if top <= 0 or top < threshold:
            continue
        for col in np.flatnonzero(scores[row] == top):
            out.add((query, choices[col], round(float(top), 2)))
    return out


def _fast(queries: list[str], choices: list[str], scorer: str, threshold: float) -> set:
    cfg = VerifyConfig(account_match={"fuzzy_scorer": scorer, "fuzzy_threshold": threshold})
    pairs = _fuzzy_pairs(queries, choices, cfg)
    assert pairs.schema == {
        "company_key": pl.String,
        "account_key": pl.String,
        "account_match_score": pl.Float64,
    }
    rows = pairs.rows()
    assert len(rows) == len(set(rows))
    return set(rows)


# Few letters so that near matches are common; words joined by single spaces like company keys.
_word = st.text(alphabet="aeinrsxzé", min_size=1, max_size=9)
_key = st.lists(_word, min_size=1, max_size=4).map(" ".join)
_long_key = st.lists(st.text(alphabet="aenr", min_size=8, max_size=20), min_size=3, max_size=6).map(
    " ".join
)


@settings(max_examples=150, deadline=None)
@given(
    queries=st.lists(_key, min_size=1, max_size=25, unique=True),
    choices=st.lists(_key, min_size=1, max_size=60, unique=True),
    threshold=st.sampled_from([50.0, 75.0, 85.0, 87.5, 90.0, 95.0, 100.0]),
    scorer=st.sampled_from(["token_sort_ratio", "ratio"]),
)
def test_blocked_match_equals_full_comparison(
    queries: list[str], choices: list[str], threshold: float, scorer: str
) -> None:
    assert _fast(queries, choices, scorer, threshold) == _reference(
        queries, choices, scorer, threshold
    )


@settings(max_examples=60, deadline=None)
@given(
    queries=st.lists(_long_key | _key, min_size=1, max_size=10, unique=True),
    choices=st.lists(_long_key | _key, min_size=1, max_size=30, unique=True),
    threshold=st.sampled_from([60.0, 80.0, 90.0]),
)
def test_long_keys_fall_back_to_the_length_window(
    queries: list[str], choices: list[str], threshold: float
) -> None:
    assert _fast(queries, choices, "token_sort_ratio", threshold) == _reference(
        queries, choices, "token_sort_ratio", threshold
    )


@settings(max_examples=40, deadline=None)
@given(
    queries=st.lists(_key, min_size=1, max_size=10, unique=True),
    choices=st.lists(_key, min_size=1, max_size=30, unique=True),
    scorer=st.sampled_from(["token_set_ratio", "WRatio"]),
)
def test_other_scorers_compare_everything(
    queries: list[str], choices: list[str], scorer: str
) -> None:
    assert _fast(queries, choices, scorer, 80.0) == _reference(queries, choices, scorer, 80.0)


def test_near_misses_and_ties() -> None:
    choices = ["acaxdal", "acaxkal", "acaxal", "acax dal", "velproun labs", "labs velprun"]
    queries = ["acaxal", "acaxl", "dal acax", "velproun labs", "zzzzzz"]
    got = _fast(queries, choices, "token_sort_ratio", 90.0)
    assert got == _reference(queries, choices, "token_sort_ratio", 90.0)
    assert ("acaxal", "acaxal", 100.0) in got
    assert ("acaxl", "acaxal", 90.91) in got  # one deletion at summed length 11
    assert not any(q == "zzzzzz" for q, _, _ in got)


def test_a_forced_fallback_gives_the_same_pairs(monkeypatch) -> None:
    queries = ["acaxal", "acaxl", "velproun labs", "nexus systems"]
    choices = ["acaxdal", "acaxal", "labs velprun", "nexus system", "nexus"]
    expected = _reference(queries, choices, "token_sort_ratio", 90.0)
    monkeypatch.setattr(verify_accounts, "_MAX_BALL", 0)
    assert _fast(queries, choices, "token_sort_ratio", 90.0) == expected


@settings(max_examples=40, deadline=None)
@given(
    queries=st.lists(_key, min_size=1, max_size=15, unique=True),
    choices=st.lists(_key, min_size=1, max_size=40, unique=True),
    threshold=st.sampled_from([60.0, 85.0, 95.0]),
)
def test_unpacked_block_join_gives_the_same_pairs(
    queries: list[str], choices: list[str], threshold: float
) -> None:
    """Count vectors too long to pack into one key are joined column by column: same pairs."""
    packed = _fast(queries, choices, "ratio", threshold)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(verify_accounts, "_PACK_LIMIT", 0)
        assert _fast(queries, choices, "ratio", threshold) == packed
    assert packed == _reference(queries, choices, "ratio", threshold)


def test_sorted_tokens_equal_python_sort() -> None:
    values = ["b a", "müller c a", "x", "zeta alpha beta", "株式会社 トヨタ", "é e"]
    got = _sorted_tokens(pl.Series(values)).to_list()
    assert got == [" ".join(sorted(v.split())) for v in values]


def test_ball_counts_offsets() -> None:
    for dims in range(1, 5):
        for radius in range(4):
            ball = _ball(dims, radius)
            assert len(ball) == len(set(ball)) == _ball_size(dims, radius)
            assert all(sum(map(abs, v)) <= radius for v in ball)
