"""rate skips its final sort when the rows come in key order; the outputs do not change."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from stages.rate_frames import config, run, scores

from leadctl.stages.rate import KEYS, keys_in_order

KEY = st.none() | st.sampled_from(["", "L1", "L10", "L2", "l1", "ü", "Z"])
GROUP = st.none() | st.sampled_from(["", "Analytics", "Cloud", "cloud"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(KEY, GROUP), max_size=12), st.booleans())
def test_keys_in_order_is_what_a_stable_sort_leaves_in_place(
    keys: list[tuple[str | None, str | None]], sort_first: bool
) -> None:
    frame = pl.DataFrame(
        {"lead_id": [k[0] for k in keys], "product_group": [k[1] for k in keys]},
        schema={"lead_id": pl.String, "product_group": pl.String},
    ).with_row_index("_i")
    if sort_first:
        frame = frame.sort(KEYS, nulls_last=True, maintain_order=True)
    stable = frame.sort(KEYS, nulls_last=True, maintain_order=True)
    assert keys_in_order(frame) == frame.equals(stable)


def test_sorted_and_shuffled_scores_give_the_same_outputs() -> None:
    rows = scores(
        *[
            {
                "lead_id": lead,
                "product_group": group,
                "fit_score": float((i * 37) % 100),
                "engagement_score": float((i * 53) % 100),
            }
            for i, (lead, group) in enumerate(
                (lead, group)
                for lead in ["L1", "L10", "L2", "L3", None]
                for group in ["Analytics", "Cloud", None]
            )
        ]
    )
    ordered = rows.sort(KEYS, nulls_last=True)
    assert keys_in_order(ordered) and not keys_in_order(ordered.reverse())
    cfg = config()
    expected = run(ordered, cfg)
    for shuffled in (ordered.reverse(), ordered.sample(fraction=1.0, shuffle=True, seed=7)):
        got = run(shuffled, cfg)
        for name, frame in expected.items():
            assert got[name].equals(frame), name
    assert expected["ratings"].select(KEYS).equals(ordered.select(KEYS))
