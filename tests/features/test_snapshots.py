"""Snapshot dates and labels: what counts as a positive, and who is an example."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from features.scoring_frames import AS_OF, SNAP, lead, opp, tables, ts

from leadctl.config.scoring import LabelConfig, SnapshotsConfig
from leadctl.errors import ConfigError
from leadctl.features.fit import account_keys
from leadctl.features.snapshots import cutoff, snapshot_dates, training_examples


def _labels(
    t, label: LabelConfig, groups=("A", "B"), dates=(AS_OF,)
) -> dict[tuple[str, str], bool]:
    frame = training_examples(
        t, list(groups), list(dates), label, account_keys(t.leads, t.accounts)
    ).collect()
    return {(r["lead_id"], r["product_group"]): r["label"] for r in frame.iter_rows(named=True)}


def test_snapshot_dates_end_horizon_days_before_as_of():
    dates = snapshot_dates(
        date(2026, 11, 20),
        LabelConfig(horizon_days=90),
        SnapshotsConfig(count=3, every_days=30, holdout=1),
    )
    assert dates == [date(2026, 6, 23), date(2026, 7, 23), date(2026, 8, 22)]
    assert snapshot_dates(
        date(2026, 11, 20),
        LabelConfig(source="outcome_column", outcome_column="x"),
        SnapshotsConfig(),
    ) == [date(2026, 11, 20)]
    assert cutoff(date(2026, 6, 30)) == SNAP


def test_opportunity_labels_window_group_and_exclusions():
    t = tables(
        [
            lead("in_window"),
            lead("too_late"),
            lead("before"),
            lead("other_group"),
            lead("untagged"),
            lead("none"),
            lead("future_lead", created_at=ts(-5)),
        ],
        opportunities=[
            opp("o1", "in_window", created_days=-10),  # 10 days after the snapshot: positive
            opp("o2", "too_late", created_days=-95),  # after H = 90 days: negative
            opp("o3", "before", created_days=5),  # before the snapshot: not an example
            opp("o4", "other_group", created_days=-10, group="B"),
            opp("o5", "untagged", created_days=-20, group=None),  # no group: counts for every group
        ],
    )
    got = _labels(t, LabelConfig(horizon_days=90))
    assert got[("in_window", "A")] is True and got[("in_window", "B")] is False
    assert got[("too_late", "A")] is False
    assert ("before", "A") not in got and got[("before", "B")] is False
    assert got[("other_group", "A")] is False and got[("other_group", "B")] is True
    assert got[("untagged", "A")] is True and got[("untagged", "B")] is True
    assert got[("none", "A")] is False
    assert not any(k[0] == "future_lead" for k in got)


def test_won_event_and_account_mode():
    t = tables(
        [lead("l1", account_id="acc1"), lead("l2", account_id="acc1"), lead("l3")],
        accounts=[{"account_id": "acc1"}],
        opportunities=[
            opp("o1", "l1", created_days=-5, won=True, closed_days=-30),
            opp("o2", None, created_days=-8, account_id="acc1", won=False, closed_days=-20),
            opp("o3", "l3", created_days=-5, won=False, closed_days=-10),
        ],
    )
    won = _labels(t, LabelConfig(event="won"), groups=("A",))
    assert won == {("l1", "A"): True, ("l2", "A"): False, ("l3", "A"): False}
    accounts = _labels(t, LabelConfig(account_mode=True), groups=("A",))
    assert accounts == {("l1", "A"): True, ("l2", "A"): True, ("l3", "A"): True}


def test_lead_conversion_labels():
    t = tables(
        [
            lead("c1", is_converted=True, converted_at=ts(-30)),
            lead("c2", is_converted=True, converted_at=ts(10)),  # converted before: not an example
            lead("c3", is_converted=False),
        ]
    )
    got = _labels(t, LabelConfig(source="lead_conversion"), groups=("all",))
    assert got == {("c1", "all"): True, ("c3", "all"): False}


def test_several_snapshots_label_each_date():
    t = tables([lead("l1")], opportunities=[opp("o1", "l1", created_days=-40)])
    d1, d2 = date(2026, 5, 31), AS_OF  # 30 days apart; the opportunity is 40 days after d2
    frame = training_examples(
        t, ["A"], [d1, d2], LabelConfig(horizon_days=60), account_keys(t.leads, t.accounts)
    ).collect()
    assert frame["label"].to_list() == [False, True]  # 70 days after d1 (> 60), 40 after d2


@pytest.mark.parametrize(
    ("dtype", "values"),
    [
        (pl.Boolean, [True, False, None]),
        (pl.String, ["Yes", "no", "maybe"]),
        (pl.Int64, [1, 0, None]),
    ],
)
def test_outcome_column_labels(dtype, values):
    t = tables(
        [lead(f"l{i}", converted=v) for i, v in enumerate(values)], lead_extra={"converted": dtype}
    )
    got = _labels(
        t, LabelConfig(source="outcome_column", outcome_column="converted"), groups=("all",)
    )
    assert got == {("l0", "all"): True, ("l1", "all"): False}  # unknown outcomes are not examples


def test_outcome_column_must_exist():
    t = tables([lead("l1")])
    with pytest.raises(
        ConfigError, match="outcome_column 'won' is not a column of the leads table"
    ):
        _labels(t, LabelConfig(source="outcome_column", outcome_column="won"), groups=("all",))


def test_label_config_validation():
    with pytest.raises(ValueError, match="needs label.outcome_column"):
        LabelConfig(source="outcome_column")
    with pytest.raises(ValueError, match="must be below snapshots.count"):
        SnapshotsConfig(count=3, holdout=3)
