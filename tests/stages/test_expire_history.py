"""The fast paths of expire (hash-ordered history, per-pair state of the used pairs only,
touch stats per lead) agree with the straightforward plans they replace."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stages.test_expire_builders import (
    AS_OF,
    CRITERIA,
    assignments,
    history,
    leads,
    make_inputs,
    touches,
)

from leadctl.config.expire import ExpireConfig, StageRule, ZombieConfig
from leadctl.config.lifecycle import LifecycleConfig
from leadctl.stages import lifecycle as lifecycle
from leadctl.stages.expire import expire
from leadctl.stages.expire_common import (
    PAIR,
    expand_history,
    touch_stats,
    with_touch_stats,
)
from leadctl.stages.expire_history import ORDER, _join_leads, ordered_events, read_history
from leadctl.stages.expire_summary import METRICS, _metric_rows, summarize
from leadctl.stages.expire_transitions import illegal_transitions, ordered_illegal_transitions

STAGES = [
    "Inquiry",
    "MQL",
    "MQL-Override",
    "SAL",
    "SQL",
    "Opportunity",
    "Won",
    "Lost",
    "Recycled",
    "Disqualified",
    "Zombie",
    None,
]
LEADS = ["L1", "L2", "L3", "L4", "L5"]
GROUPS = ["A", "B"]

history_rows = st.lists(
    st.tuples(
        st.sampled_from(LEADS),
        st.sampled_from(["A", "B", "C", None]),  # C is not configured; None applies to all
        st.sampled_from(STAGES),
        st.integers(min_value=-2, max_value=400),  # days ago (negative: after as-of)
        st.sampled_from(["r1", "r2", "sys"]),
        st.sampled_from([None, "Not a fit", "competitor ", "No budget", "Duplicate", "??"]),
    ),
    max_size=40,
)
touch_rows = st.lists(
    st.tuples(
        st.sampled_from(LEADS),
        st.integers(min_value=-1, max_value=200),
        st.sampled_from(["r1", "r2"]),
        st.sampled_from(["Call", "Email"]),
    ),
    max_size=25,
)
lead_rows = st.lists(
    st.tuples(
        st.sampled_from(LEADS),
        st.sampled_from(["r1", "r2", None]),
        st.sampled_from([None, "Inquiry", "SAL", "Won"]),
    ),
    max_size=5,
    unique_by=lambda r: r[0],
)
assignment_rows = st.lists(
    st.tuples(
        st.sampled_from(LEADS),
        st.sampled_from(["A", "B"]),
        st.sampled_from(["r1", "r2"]),
        st.sampled_from(["standard", "fast_track"]),
        st.integers(min_value=1, max_value=120),
    ),
    max_size=6,
)


def _history(rows: list[tuple[Any, ...]]) -> pl.LazyFrame:
    # Many rows on the same day (hour 0): ties on changed_at are common.
    return history(
        *[(lead, group, stage, days, by, reason) for lead, group, stage, days, by, reason in rows]
    )


def _assigned(rows: list[tuple[Any, ...]]) -> pl.LazyFrame:
    return assignments(*[(lead, g, rep, tier, days, days - 1) for lead, g, rep, tier, days in rows])


def _by_pair(frame: pl.DataFrame) -> pl.DataFrame:
    """Pairs in lead_id order, each pair's rows in their order (a stable sort)."""
    return frame.sort(PAIR, maintain_order=True, nulls_last=True)


@settings(max_examples=60, deadline=None)
@given(history_rows)
def test_ordered_events_match_the_string_sort(rows: list[tuple[Any, ...]]) -> None:
    frame = expand_history(_history(rows), GROUPS, AS_OF).collect()
    ordered = ordered_events(frame)
    exact = frame.sort(ORDER, maintain_order=True)
    assert _by_pair(ordered.drop("_new_lead", "_new_pair")).equals(_by_pair(exact))
    # The flags mark the first row of each lead and each pair.
    firsts = ordered.filter(pl.col("_new_pair")).select(PAIR)
    assert firsts.height == firsts.unique().height == frame.select(PAIR).unique().height
    leads_first = ordered.filter(pl.col("_new_lead")).get_column("lead_id")
    assert leads_first.len() == leads_first.n_unique() == frame.get_column("lead_id").n_unique()


def test_a_hash_collision_takes_the_exact_sort(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two lead ids with one hash: the interleaved order is detected and not used."""
    frame = expand_history(
        history(("L1", "A", "MQL", 5), ("L2", "A", "SAL", 4), ("L1", "A", "SAL", 3)),
        ["A"],
        AS_OF,
    ).collect()
    real_hash = pl.Series.hash

    def colliding(self: pl.Series, *args: Any, **kwargs: Any) -> pl.Series:
        hashed = real_hash(self, *args, **kwargs)
        return pl.Series(self.name, [7] * len(self), dtype=hashed.dtype)

    monkeypatch.setattr(pl.Series, "hash", colliding)
    ordered = ordered_events(frame)
    assert ordered.drop("_new_lead", "_new_pair").equals(frame.sort(ORDER, maintain_order=True))
    assert ordered.get_column("_new_pair").to_list() == [True, False, True]


@settings(max_examples=60, deadline=None)
@given(history_rows, st.integers(min_value=0, max_value=120))
def test_illegal_transitions_of_ordered_events(rows: list[tuple[Any, ...]], lookback: int) -> None:
    lifecycle = LifecycleConfig()
    hist = _history(rows)
    events = read_history(hist, GROUPS, AS_OF).events
    fast = ordered_illegal_transitions(events, lifecycle, AS_OF, lookback).collect()
    slow = illegal_transitions(expand_history(hist, GROUPS, AS_OF), lifecycle, AS_OF, lookback)
    assert fast.equals(slow.collect())


@settings(max_examples=60, deadline=None)
@given(history_rows, touch_rows, st.sampled_from(["anyone", "owner"]), st.booleans())
def test_touch_stats_per_lead_match_the_join(
    rows: list[tuple[Any, ...]], touch: list[tuple[Any, ...]], by: str, some: bool
) -> None:
    state = (
        expand_history(_history(rows), GROUPS, AS_OF)
        .group_by(PAIR)
        .agg(pl.col("changed_at").max().alias("entered_at"), pl.col("stage").last())
        .with_columns(pl.when(pl.col("lead_id") != "L2").then(pl.lit("r1")).alias("owner_id"))
        .collect()
    )
    known = (
        touches(*touch)
        .filter(
            pl.col("occurred_at")
            < pl.lit(AS_OF).cast(pl.Datetime("us", "UTC")) + pl.duration(days=1)
        )
        .select("lead_id", "rep_id", "channel", "occurred_at")
    )
    slow = state.lazy().join(touch_stats(state.lazy(), known, by, AS_OF, 30), on=PAIR).collect()
    stages = ["SAL", "MQL"] if some else None
    fast = with_touch_stats(state, known.collect(), by, AS_OF, 30, stages=stages)
    if some:  # pairs in other stages are left without counts
        slow = slow.with_columns(
            pl.when(pl.col("stage").is_in(stages)).then(pl.col("last_touch_at")),
            pl.when(pl.col("stage").is_in(stages)).then(pl.col("touches_in_window")).otherwise(0),
        )
    assert fast.sort(PAIR).equals(slow.select(fast.columns).sort(PAIR))


_CONFIGS = {
    "default": (ExpireConfig(), LifecycleConfig()),
    # A rule on the initial stage: every pair is used, the full table is built.
    "inquiry_rule": (
        ExpireConfig(rules={"Inquiry": StageRule(max_days_in_stage=30)}),
        LifecycleConfig(),
    ),
    "owner_touches": (
        ExpireConfig(touches_by="owner", zombies=ZombieConfig(stages=["SAL", "MQL"])),
        LifecycleConfig(),
    ),
}


@settings(max_examples=60, deadline=None)
@given(
    history_rows,
    touch_rows,
    lead_rows,
    assignment_rows,
    st.sampled_from(sorted(_CONFIGS)),
)
def test_used_pairs_give_the_outputs_of_the_full_state(
    rows: list[tuple[Any, ...]],
    touch: list[tuple[Any, ...]],
    lead: list[tuple[Any, ...]],
    assigned: list[tuple[Any, ...]],
    config: str,
) -> None:
    cfg, lifecycle = _CONFIGS[config]
    inputs = make_inputs(
        _history(rows),
        touch=touches(*touch),
        lead=leads(*lead) if lead else None,
        assigned=_assigned(assigned),
    )
    if inputs.leads.select(pl.len()).collect().item() == 0:
        inputs = make_inputs(_history(rows), touch=touches(*touch), lead=leads(("L1",)))

    def outputs(full: bool) -> dict[str, pl.DataFrame]:
        result = expire(
            inputs,
            product_groups=GROUPS,
            lifecycle=lifecycle,
            cfg=cfg,
            criteria=CRITERIA,
            as_of=AS_OF,
            full_state=full,
        )
        return {name: frame.collect() for name, frame in result.frames().items()}

    fast, full = outputs(False), outputs(True)
    for name, frame in full.items():
        assert fast[name].equals(frame), name


def test_exact_sort_path_gives_the_same_outputs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a packed key (e.g. a history spanning centuries) the string sort is used."""
    hist = history(
        ("L1", "A", "MQL", 40),
        ("L1", "A", "SAL", 20),
        ("L2", None, "MQL", 30),
        ("L2", "B", "SAL", 10, "r2", "Not a fit"),
    )
    inputs = make_inputs(hist)

    def run() -> dict[str, pl.DataFrame]:
        result = expire(
            inputs,
            product_groups=GROUPS,
            lifecycle=LifecycleConfig(),
            cfg=ExpireConfig(),
            criteria=CRITERIA,
            as_of=AS_OF,
        )
        return {name: frame.collect() for name, frame in result.frames().items()}

    fast = run()
    monkeypatch.setattr(lifecycle, "_packed_key", lambda frame, tie, ties: None)
    slow = run()
    for name, frame in fast.items():
        assert slow[name].equals(frame), name


def _summary_by_loop(frames: dict[str, pl.DataFrame]) -> dict[str, Any]:
    """The per-row loop `summarize` used to run, as the reference for the pivot."""
    counts = (
        _metric_rows(frames)
        .group_by("team", "rep_id", "metric")
        .agg(pl.len().alias("n"))
        .sort("team", "rep_id", "metric")
    )
    totals = dict.fromkeys(METRICS, 0)
    teams: dict[str, dict[str, Any]] = {}
    for row in counts.iter_rows(named=True):
        team = teams.setdefault(row["team"], {"totals": dict.fromkeys(METRICS, 0), "reps": {}})
        rep = team["reps"].setdefault(row["rep_id"], dict.fromkeys(METRICS, 0))
        for bucket in (totals, team["totals"], rep):
            bucket[row["metric"]] += row["n"]
    return {"totals": totals, "teams": teams}


@settings(max_examples=60, deadline=None)
@given(history_rows, touch_rows, assignment_rows)
def test_summary_pivot_matches_the_row_loop(
    rows: list[tuple[Any, ...]], touch: list[tuple[Any, ...]], assigned: list[tuple[Any, ...]]
) -> None:
    inputs = make_inputs(_history(rows), touch=touches(*touch), assigned=_assigned(assigned))
    if inputs.leads.select(pl.len()).collect().item() == 0:
        inputs = make_inputs(_history(rows), touch=touches(*touch), lead=leads(("L1",)))
    result = expire(
        inputs,
        product_groups=GROUPS,
        lifecycle=LifecycleConfig(),
        cfg=ExpireConfig(),
        criteria=CRITERIA,
        as_of=AS_OF,
    )
    frames = {name: frame.collect() for name, frame in result.frames().items()}
    got = summarize(frames, AS_OF)
    want = _summary_by_loop(frames)
    assert got["totals"] == want["totals"]
    assert got["teams"] == want["teams"]
    assert list(got["teams"]) == list(want["teams"])
    for team, data in got["teams"].items():
        assert list(data["reps"]) == list(want["teams"][team]["reps"])
        assert all(list(counts) == METRICS for counts in data["reps"].values())


def test_illegal_steps_logged_at_one_instant_come_out_in_one_order() -> None:
    """Two steps of a pair at the same instant to the same stage: ordered by from_stage, so
    illegal_transitions.csv is the same bytes on every run (found by the property test above)."""
    rows = [
        ("L1", "A", "Inquiry", 0, "r1", None),
        ("L1", "A", "Zombie", 0, "r1", None),
        ("L1", "A", "Zombie", 0, "r1", None),
    ]
    hist = _history(rows)
    lifecycle = LifecycleConfig()
    events = read_history(hist, GROUPS, AS_OF).events
    for _ in range(5):
        fast = ordered_illegal_transitions(events, lifecycle, AS_OF, 0).collect()
        slow = illegal_transitions(expand_history(hist, GROUPS, AS_OF), lifecycle, AS_OF, 0)
        for frame in (fast, slow.collect()):
            assert frame.get_column("from_stage").to_list() == ["Inquiry", "Zombie"]


_IDS = st.sampled_from([None, "L1", "L2", "L3", "l1", ""])


def _plain_lead_join(frame: pl.DataFrame, lead_rows: pl.DataFrame) -> pl.DataFrame:
    return frame.join(lead_rows, on="lead_id", how="inner")


def _rows(frame: pl.DataFrame) -> list[tuple[Any, ...]]:
    return sorted(frame.rows(), key=repr)


@settings(max_examples=100, deadline=None)
@given(left=st.lists(_IDS, max_size=12), right=st.lists(_IDS, max_size=12))
def test_hashed_lead_join_equals_the_string_join(left: list[str], right: list[str]) -> None:
    """Same rows (duplicates multiply, null ids match nothing), same columns."""
    frame = pl.DataFrame(
        {"lead_id": left, "x": list(range(len(left)))}, schema={"lead_id": pl.String, "x": pl.Int64}
    )
    lead_rows = pl.DataFrame(
        {"lead_id": right, "y": list(range(len(right)))},
        schema={"lead_id": pl.String, "y": pl.Int64},
    )
    got, want = _join_leads(frame, lead_rows), _plain_lead_join(frame, lead_rows)
    assert got.schema == want.schema
    assert _rows(got) == _rows(want)


def test_hashed_lead_join_with_colliding_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every id with one hash: the id comparison still keeps only the equal ids."""
    frame = pl.DataFrame({"lead_id": ["L1", "L2", None, "L1"], "x": [1, 2, 3, 4]})
    lead_rows = pl.DataFrame({"lead_id": ["L2", "L1", None, "L3"], "y": [5, 6, 7, 8]})
    want = _plain_lead_join(frame, lead_rows)
    monkeypatch.setattr(pl.Expr, "hash", lambda self, *a, **k: pl.lit(7, dtype=pl.UInt64))
    got = _join_leads(frame, lead_rows)
    assert _rows(got) == _rows(want) == [("L1", 1, 6), ("L1", 4, 6), ("L2", 2, 5)]


def test_ordered_events_without_named_stages() -> None:
    """Every stage null: every tie rank is 0 (rows of one pair and time keep input order)."""
    frame = expand_history(
        history(
            ("L2", "A", None, 5), ("L1", "A", None, 3), ("L2", "A", None, 5), ("L1", "B", None, 9)
        ),
        ["A", "B"],
        AS_OF,
    ).collect()
    ordered = ordered_events(frame)
    exact = frame.sort(ORDER, maintain_order=True)
    assert _by_pair(ordered.drop("_new_lead", "_new_pair")).equals(_by_pair(exact))
