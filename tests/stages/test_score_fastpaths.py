"""The vectorised paths of score agree with the straightforward ones they replace."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from leadctl.models.calibration import apply_calibrator, calibrate, plateau_position
from leadctl.stages.score import _by_lead_and_group

_ids = st.lists(st.text("abcXYZ019", min_size=1, max_size=4), min_size=0, max_size=30)
_groups = st.lists(
    st.sampled_from(["Cloud", "Analytics", "Security", "Data", "Édge"]), min_size=1, max_size=4
)


def _parts(ids: list[str], groups: list[str], seed: int) -> list[tuple[str, pl.DataFrame]]:
    rng = np.random.default_rng(seed)
    return [
        (
            g,
            pl.DataFrame(
                {
                    "lead_id": ids,
                    "product_group": [g] * len(ids),
                    "score": rng.uniform(0, 100, len(ids)),
                    "reasons_for": [[f"{g}-{i}"] for i in range(len(ids))],
                },
                schema_overrides={"reasons_for": pl.List(pl.String)},
            ),
        )
        for g in groups
    ]


def _sorted(parts: list[tuple[str, pl.DataFrame]]) -> pl.DataFrame:
    return pl.concat([p for _, p in parts]).sort(["lead_id", "product_group"])


@settings(max_examples=60, deadline=None)
@given(ids=_ids, groups=_groups, seed=st.integers(0, 1000))
def test_interleaving_equals_the_sort(ids: list[str], groups: list[str], seed: int) -> None:
    unique_groups = list(dict.fromkeys(groups))
    sorted_ids = sorted(set(ids))
    parts = _parts(sorted_ids, unique_groups, seed)
    got = _by_lead_and_group(parts, pl.Series("lead_id", sorted_ids, dtype=pl.String))
    assert_frame_equal(got, _sorted(parts))


@settings(max_examples=40, deadline=None)
@given(ids=_ids, groups=_groups, seed=st.integers(0, 1000))
def test_unsorted_or_duplicate_ids_fall_back_to_the_sort(
    ids: list[str], groups: list[str], seed: int
) -> None:
    """Unsorted ids, duplicate ids or duplicate groups: still sorted by (lead_id, group)."""
    parts = _parts(ids, groups, seed)
    got = _by_lead_and_group(parts, pl.Series("lead_id", ids, dtype=pl.String))
    want = _sorted(parts)
    # Ties (duplicate id and group) may come in any order: compare as sorted multisets.
    key = ["lead_id", "product_group", "score"]
    assert_frame_equal(got.sort(key), want.sort(key))
    assert got.select("lead_id", "product_group").equals(want.select("lead_id", "product_group"))


@settings(max_examples=60, deadline=None)
@given(
    knots=st.lists(st.floats(0, 1), min_size=1, max_size=12),
    levels=st.lists(st.floats(0, 1), min_size=1, max_size=12),
    raw=st.lists(st.floats(-0.5, 1.5), min_size=0, max_size=50),
)
def test_calibrate_equals_apply_and_position(
    knots: list[float], levels: list[float], raw: list[float]
) -> None:
    m = min(len(knots), len(levels))
    cal = {"method": "isotonic", "x": sorted(knots[:m]), "y": sorted(levels[:m])}
    r = np.asarray(raw, dtype=np.float64)
    probs, position = calibrate(cal, r)
    np.testing.assert_array_equal(probs, apply_calibrator(cal, r))
    want = plateau_position(cal, r)
    assert position is not None and want is not None
    np.testing.assert_array_equal(position, want)


def test_calibrate_platt_has_no_position() -> None:
    cal = {"method": "platt", "a": 1.2, "b": -0.3}
    r = np.array([0.1, 0.5, 0.9])
    probs, position = calibrate(cal, r)
    np.testing.assert_array_equal(probs, apply_calibrator(cal, r))
    assert position is None
