"""rate_stages.with_current_stages gives every rated row what lifecycle.current_stages gives it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from leadctl.config.lifecycle import LifecycleConfig
from leadctl.stages.lifecycle import current_stages
from leadctl.stages.rate_stages import STAGE_COLUMNS, with_current_stages

AS_OF = date(2026, 6, 1)
UTCDT = pl.Datetime("us", "UTC")
IDS = ["a", "b", "c", "d"]
GROUPS = ["X", "Y", "Z"]
STAGES = [None, "MQL", "SAL", "Recycled", "Inquiry"]
# Few distinct times, so equal times (ties broken by the stage name) happen often.
TIMES = [datetime(2026, 5, d, 12, tzinfo=UTC) for d in (1, 2, 31)] + [
    datetime(2026, 6, 1, 23, tzinfo=UTC),  # the as-of day itself counts
    datetime(2026, 6, 2, 0, tzinfo=UTC),  # the next day does not
]


def _via_grid(rows: pl.DataFrame, history: pl.DataFrame, leads: pl.DataFrame) -> pl.DataFrame:
    groups = sorted({g for g in rows["product_group"].to_list() if g is not None} | {"X"})
    current = current_stages(history.lazy(), leads.lazy(), groups, LifecycleConfig(), AS_OF)
    return (
        rows.lazy()
        .join(
            current.select(
                "lead_id",
                "product_group",
                pl.col("stage").alias("current_stage"),
                pl.col("entered_at").alias("_entered_at"),
                pl.col("days_in_stage").alias("_days_in_stage"),
                pl.col("reason").alias("_stage_reason"),
            ),
            on=["lead_id", "product_group"],
            how="left",
        )
        .collect()
    )


def _direct(rows: pl.DataFrame, history: pl.DataFrame, leads: pl.DataFrame) -> pl.DataFrame:
    return with_current_stages(
        rows.lazy(), history.lazy(), leads.lazy(), LifecycleConfig(), AS_OF
    ).collect()


def _same(rows: pl.DataFrame, history: pl.DataFrame, leads: pl.DataFrame) -> None:
    rows = rows.with_row_index("_i")
    want = _via_grid(rows, history, leads).sort("_i")
    got = _direct(rows, history, leads).sort("_i")
    assert got.columns == [*rows.columns, *STAGE_COLUMNS]
    assert got.equals(want), (got, want)


def _history(items: list[tuple[str | None, str | None, str | None, datetime]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "lead_id": [i[0] for i in items],
            "product_group": [i[1] for i in items],
            "stage": [i[2] for i in items],
            "changed_at": [i[3] for i in items],
            "changed_by": ["u1"] * len(items),
            # A function of the sort key, so rows equal on (time, stage) agree on it too.
            "reason": [None if i[2] is None else f"{i[2]} @ {i[3].day}" for i in items],
        },
        schema={
            "lead_id": pl.String,
            "product_group": pl.String,
            "stage": pl.String,
            "changed_at": UTCDT,
            "changed_by": pl.String,
            "reason": pl.String,
        },
    )


def _leads(items: list[tuple[str, str | None, datetime]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "lead_id": [i[0] for i in items],
            "stage": [i[1] for i in items],
            "created_at": [i[2] for i in items],
        },
        schema={"lead_id": pl.String, "stage": pl.String, "created_at": UTCDT},
    )


def test_cases_by_hand() -> None:
    t = TIMES
    history = _history(
        [
            ("a", "X", "MQL", t[0]),
            ("a", None, "SAL", t[1]),  # general and later: applies to X and Y
            ("b", "Y", "MQL", t[2]),
            ("b", "Y", "Recycled", t[2]),  # same time: the later stage name wins
            ("c", "X", "SQL", t[4]),  # after as-of: ignored, c has no history
            ("e", "X", "MQL", t[0]),  # not a lead
        ]
    )
    leads = _leads(
        [
            ("a", None, t[0] - timedelta(days=10)),
            ("b", "SAL", t[0] - timedelta(days=400)),
            ("c", "SQL", t[0]),
            ("d", None, t[0]),
        ]
    )
    rows = pl.DataFrame(
        {
            "lead_id": ["a", "a", "b", "b", "c", "d", "e", None, "a"],
            "product_group": ["X", "Y", "Y", "X", "X", "Y", "X", "X", None],
        }
    )
    _same(rows, history, leads)
    got = _direct(rows.with_row_index("_i"), history, leads).sort("_i")
    assert got["current_stage"].to_list() == [
        "SAL",
        "SAL",
        "Recycled",
        "Inquiry",  # b has history elsewhere: X has not started
        "SQL",  # no history at all: the lead's own stage
        "Inquiry",  # no history, no stage
        None,  # not in the leads table
        None,
        None,  # no product group
    ]


@settings(max_examples=150, deadline=None)
@given(
    history=st.lists(
        st.tuples(
            st.sampled_from([*IDS, "zz", None]),
            st.sampled_from([*GROUPS, None]),
            st.sampled_from(STAGES),
            st.sampled_from(TIMES),
        ),
        max_size=14,
    ),
    leads=st.lists(
        st.tuples(st.sampled_from(IDS), st.sampled_from(STAGES), st.sampled_from(TIMES)),
        max_size=4,
        unique_by=lambda r: r[0],
    ),
    rows=st.lists(
        st.tuples(st.sampled_from([*IDS, "zz", None]), st.sampled_from([*GROUPS, None])),
        max_size=10,
        unique=True,
    ),
)
def test_same_as_current_stages(
    history: list[tuple[str | None, str | None, str | None, datetime]],
    leads: list[tuple[str, str | None, datetime]],
    rows: list[tuple[str | None, str | None]],
) -> None:
    frame = pl.DataFrame(
        {"lead_id": [r[0] for r in rows], "product_group": [r[1] for r in rows]},
        schema={"lead_id": pl.String, "product_group": pl.String},
    )
    _same(frame, _history(history), _leads(leads))
