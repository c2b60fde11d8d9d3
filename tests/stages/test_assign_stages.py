"""assign.stages_and_load agrees with lifecycle.current_stages + open_load on the pairs it keeps."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from leadctl.config.lifecycle import LifecycleConfig
from leadctl.stages.assign import AssignInputs, stages_and_load
from leadctl.stages.assign_state import empty_state
from leadctl.stages.lifecycle import current_stages, open_load

AS_OF = date(2026, 6, 1)
UTCDT = pl.Datetime("us", "UTC")
IDS = ["a", "b", "c", "d", "e"]
GROUPS = ["X", "Y", "Z"]
STAGES = ["MQL", "SAL", "SQL", "Recycled", "Inquiry", "Won"]
TIMES = [datetime(2026, 5, d, 12, tzinfo=UTC) for d in (1, 2, 31)] + [
    datetime(2026, 6, 2, 0, tzinfo=UTC)  # after as-of
]
KEYS = ["lead_id", "product_group"]


def _check(
    history: list[tuple[str, str | None, str, datetime]],
    leads: list[tuple[str, str | None, str | None, datetime]],
    verified: list[tuple[str, str]],
    logged: list[tuple[str, str]],
    groups: list[str],
) -> None:
    hist = pl.DataFrame(
        {
            "lead_id": [h[0] for h in history],
            "product_group": [h[1] for h in history],
            "stage": [h[2] for h in history],
            "changed_at": [h[3] for h in history],
            "changed_by": ["u1"] * len(history),
            "reason": [f"{h[2]} @ {h[3].day}" for h in history],
        },
        schema={
            "lead_id": pl.String,
            "product_group": pl.String,
            "stage": pl.String,
            "changed_at": UTCDT,
            "changed_by": pl.String,
            "reason": pl.String,
        },
    ).lazy()
    lead_frame = pl.DataFrame(
        {
            "lead_id": [x[0] for x in leads],
            "stage": [x[1] for x in leads],
            "owner_id": [x[2] for x in leads],
            "created_at": [x[3] for x in leads],
        },
        schema={
            "lead_id": pl.String,
            "stage": pl.String,
            "owner_id": pl.String,
            "created_at": UTCDT,
        },
    ).lazy()
    rows = pl.DataFrame(
        verified, schema={"lead_id": pl.String, "product_group": pl.String}, orient="row"
    )
    log_latest = pl.DataFrame(
        [(lead, group, "r1", TIMES[0]) for lead, group in logged],
        schema={
            "lead_id": pl.String,
            "product_group": pl.String,
            "owner_id": pl.String,
            "assigned_at": UTCDT,
        },
        orient="row",
    )
    inputs = AssignInputs(
        verified=rows.lazy(),
        reps=pl.LazyFrame(),
        leads=lead_frame,
        stage_history=hist,
        log=log_latest,
        state=empty_state(),
    )
    life = LifecycleConfig()
    current, load = stages_and_load(inputs, rows, log_latest, groups, life, AS_OF)

    full = current_stages(hist, lead_frame, groups, life, AS_OF).collect()
    want_load = open_load(full.lazy(), lead_frame, life).collect()
    assert load.equals(want_load), (load, want_load)

    wanted_pairs = pl.concat([rows, log_latest.select(KEYS)]).unique()
    want = (
        full.join(wanted_pairs, on=KEYS, how="semi")
        .select(*KEYS, "stage", "entered_at", "days_in_stage", "reason")
        .sort(KEYS)
    )
    assert current.sort(KEYS).equals(want), (current.sort(KEYS), want)


def test_by_hand() -> None:
    t = TIMES
    _check(
        history=[
            ("a", "X", "MQL", t[0]),
            ("a", None, "SAL", t[1]),
            ("b", "Y", "SQL", t[2]),
            ("c", "X", "MQL", t[3]),  # after as-of
            ("zz", "X", "SAL", t[0]),  # not a lead
        ],
        leads=[
            ("a", None, "r1", t[0]),
            ("b", "SAL", "r2", t[0]),
            ("c", "MQL", "r2", t[0]),  # no history: its own stage in every group
            ("d", None, None, t[0]),
        ],
        verified=[("a", "X"), ("b", "X"), ("zz", "X")],
        logged=[("c", "Y"), ("b", "Q")],  # Q is not a product group tonight
        groups=["X", "Y"],
    )


@settings(max_examples=100, deadline=None)
@given(
    history=st.lists(
        st.tuples(
            st.sampled_from([*IDS, "zz"]),
            st.sampled_from([*GROUPS, None]),
            st.sampled_from(STAGES),
            st.sampled_from(TIMES),
        ),
        max_size=12,
    ),
    leads=st.lists(
        st.tuples(
            st.sampled_from(IDS),
            st.sampled_from([None, *STAGES]),
            st.sampled_from([None, "r1", "r2"]),
            st.sampled_from(TIMES),
        ),
        max_size=5,
        unique_by=lambda r: r[0],
    ),
    verified=st.lists(
        st.tuples(st.sampled_from([*IDS, "zz"]), st.sampled_from(GROUPS)), max_size=6, unique=True
    ),
    logged=st.lists(
        st.tuples(st.sampled_from([*IDS, "zz"]), st.sampled_from([*GROUPS, "Q"])),
        max_size=6,
        unique=True,
    ),
    groups=st.lists(st.sampled_from(GROUPS), min_size=1, unique=True),
)
def test_same_as_current_stages_and_open_load(
    history: list[tuple[str, str | None, str, datetime]],
    leads: list[tuple[str, str | None, str | None, datetime]],
    verified: list[tuple[str, str]],
    logged: list[tuple[str, str]],
    groups: list[str],
) -> None:
    all_groups = sorted({*groups, *(g for _, g in verified)})
    _check(history, leads, verified, logged, all_groups)
