"""Fit and engagement feature values, custom features, and point-in-time correctness."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest
from features.scoring_frames import SNAP, act, keys, lead, opp, tables, ts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from leadctl.config.scoring import CustomFeature, FeaturesConfig
from leadctl.errors import ConfigError
from leadctl.features import engagement as E
from leadctl.features.build import build_features
from leadctl.features.engagement import activity_vocabulary, type_slugs

TYPES = ["Request Demo", "Visit Webpage", "Unsubscribe Email"]
CFG = FeaturesConfig(
    windows_days=[7, 30],
    half_life_days=10,
    lookback_days=100,
    negative_activity_types=["Unsubscribe Email"],
    activity_weights={"Request Demo": 2},
)


def _world(extra_acts=(), extra_opps=(), extra_hist=()):
    return tables(
        [
            lead(
                "L1",
                title="VP Finance",
                email="jo@acme.com",
                account_id="ACC",
                country="USA",
                employees=1500,
                phone="+1 555 0100",
                lead_source=" Web ",
                created_at=ts(50),
            ),
            lead("L2", title="Student", email="kid@gmail.com", created_at=ts(10)),
            lead("L3", email="boss@acme.com", created_at=ts(20)),  # matched to ACC by e-mail domain
        ],
        accounts=[
            {
                "account_id": "ACC",
                "domain": "https://www.acme.com/",
                "industry": "Finance",
                "employees": 9000,
                "named_account": True,
                "country": "Germany",
            }
        ],
        activities=[
            act("L1", 2, "Request Demo", "A", "demo"),
            act("L1", 12, "Visit Webpage", None, "home"),
            act("L1", 12.5, "Visit Webpage", "B", "pricing"),
            act("L1", 40, "Unsubscribe Email"),
            act("L1", 150, "Visit Webpage"),  # beyond lookback: ignored
            act("L3", 5, "Visit Webpage", "A", "home"),
            *extra_acts,
        ],
        opportunities=[opp("o1", "L3", created_days=30, group="B", account_id="ACC"), *extra_opps],
        stage_history=[
            {"lead_id": "L2", "product_group": None, "stage": "Recycled", "changed_at": ts(3)},
            {"lead_id": "L2", "product_group": "A", "stage": "Disqualified", "changed_at": ts(2)},
            *extra_hist,
        ],
    )


def _features(t, cfg=CFG, snaps=(SNAP,), lead_ids=("L1", "L2", "L3")):
    k = keys(list(lead_ids), ["A", "B"], list(snaps))
    frames = build_features(t, k, list(snaps), TYPES, cfg)
    base = frames.base.sort(["lead_id", "snapshot_at"]).collect()
    per_group = frames.per_group.sort(["lead_id", "product_group", "snapshot_at"]).collect()
    return base, per_group


def _row(frame, lead_id, group=None):
    f = frame.filter(pl.col("lead_id") == lead_id)
    if group is not None:
        f = f.filter(pl.col("product_group") == group)
    return f.row(0, named=True)


def test_fit_features_from_lead_and_account():
    base, _ = _features(_world())
    l1, l2, l3 = (_row(base, x) for x in ("L1", "L2", "L3"))
    assert (l1["seniority"], l1["job_function"], l1["email_domain_type"]) == (
        "VP",
        "Finance",
        "corporate",
    )
    assert (l1["industry"], l1["company_size"], l1["country"], l1["region"]) == (
        "Finance",
        "1,000-4,999",
        "US",
        "NA",
    )
    assert (l1["lead_source"], l1["has_account"], l1["named_account"], l1["has_phone"]) == (
        "Web",
        1.0,
        1.0,
        1.0,
    )
    assert (l2["seniority"], l2["email_domain_type"], l2["has_account"], l2["company_size"]) == (
        "Student",
        "free",
        0.0,
        None,
    )
    # L3 has no account id but a corporate address at the account's domain: firmographics inherited.
    assert (l3["has_account"], l3["company_size"], l3["country"], l3["named_account"]) == (
        1.0,
        "5,000+",
        "DE",
        1.0,
    )


def test_engagement_counts_recency_decay():
    base, _ = _features(_world())
    l1 = _row(base, "L1")
    assert (l1["n_request_demo_7d"], l1["n_request_demo_30d"]) == (1.0, 1.0)
    assert (l1["n_visit_webpage_7d"], l1["n_visit_webpage_30d"]) == (0.0, 2.0)
    assert l1["days_since_request_demo"] == 2.0 and l1["days_since_visit_webpage"] == 12.0
    assert l1["days_since_last_activity"] == 2.0  # the unsubscribe is not "activity"
    assert l1["negative_signals"] == 1.0 and l1["n_unsubscribe_email_30d"] == 0.0
    expected = 2 * 0.5 ** (2 / 10) + 0.5 ** (12 / 10) + 0.5 ** (12.5 / 10)  # unsubscribe weighs 0
    assert l1["decayed_engagement"] == pytest.approx(expected)
    assert l1["distinct_assets_30d"] == 3.0
    assert l1["lead_age_days"] == 50.0
    l2 = _row(base, "L2")
    assert l2["days_since_last_activity"] is None and l2["decayed_engagement"] == 0.0
    assert l2["n_request_demo_30d"] == 0.0


def test_buying_group_and_prior_opportunities():
    base, _ = _features(_world())
    # L1 and L3 are both at ACC and both active in the last 30 days.
    assert _row(base, "L1")["colleagues_engaged_30d"] == 1.0
    assert _row(base, "L3")["colleagues_engaged_30d"] == 1.0
    assert _row(base, "L2")["colleagues_engaged_30d"] == 0.0
    # Colleagues count whether or not they are examples themselves (training keys are a subset).
    only_l1, _ = _features(_world(), lead_ids=("L1",))
    assert _row(only_l1, "L1")["colleagues_engaged_30d"] == 1.0
    several, _ = _features(_world(), snaps=(SNAP - timedelta(days=1), SNAP), lead_ids=("L1",))
    assert several["colleagues_engaged_30d"].to_list() == [1.0, 1.0]
    # o1 (L3, 30 days before) counts for L3 and, through the account, for L1.
    assert (_row(base, "L1")["prior_opportunities"], _row(base, "L3")["prior_opportunities"]) == (
        1.0,
        1.0,
    )
    assert _row(base, "L2")["prior_opportunities"] == 0.0


def test_group_features():
    _, pg = _features(_world())
    a, b = _row(pg, "L1", "A"), _row(pg, "L1", "B")
    assert (a["pg_activities_7d"], a["pg_days_since_last"], a["pg_share"]) == (1.0, 2.0, 0.5)
    assert (b["pg_activities_7d"], b["pg_activities_30d"], b["pg_days_since_last"]) == (
        0.0,
        1.0,
        12.0,
    )
    assert a["pg_decayed_engagement"] == pytest.approx(2 * 0.5**0.2)
    l2a, l2b = _row(pg, "L2", "A"), _row(pg, "L2", "B")
    assert (l2a["times_recycled"], l2a["times_disqualified"]) == (
        1.0,
        1.0,
    )  # general row + group row
    assert (l2b["times_recycled"], l2b["times_disqualified"]) == (1.0, 0.0)
    assert l2a["pg_share"] is None and l2a["pg_days_since_last"] is None


def test_custom_features_numeric_and_categorical():
    t = tables(
        [
            lead("L1", budget="$12,500", occupation=" Consultant "),
            lead("L2", budget="n/a", occupation=""),
        ],
        lead_extra={"budget": pl.String, "occupation": pl.String},
    )
    cfg = FeaturesConfig(
        custom=[CustomFeature(column="budget", kind="numeric"), CustomFeature(column="occupation")]
    )
    base, _ = _features(t, cfg, lead_ids=("L1", "L2"))
    assert base["budget"].to_list() == [12500.0, None]
    assert base["occupation"].to_list() == ["Consultant", None]


def test_custom_feature_errors():
    t = tables([lead("L1")], lead_extra={"industry_x": pl.String})
    with pytest.raises(
        ConfigError, match=r"names \['budget'\], which the leads table does not have"
    ):
        _features(t, FeaturesConfig(custom=[CustomFeature(column="budget")]), lead_ids=("L1",))
    with pytest.raises(ConfigError, match="clash with built-in feature names"):
        _features(t, FeaturesConfig(custom=[CustomFeature(column="industry")]), lead_ids=("L1",))


def test_vocabulary_and_slugs():
    t = _world()
    assert activity_vocabulary(t.activities, FeaturesConfig(max_activity_types=1), SNAP) == [
        "Visit Webpage"
    ]
    assert activity_vocabulary(
        t.activities, FeaturesConfig(activity_types=["X", "X", "Y"]), SNAP
    ) == ["X", "Y"]
    assert type_slugs(["Request Demo", "request-demo", "%%"]) == {
        "Request Demo": "request_demo",
        "request-demo": "request_demo_2",
        "%%": "type",
    }


def test_several_snapshots_see_only_their_past():
    earlier = SNAP - timedelta(days=10)
    base, _ = _features(_world(), snaps=(earlier, SNAP), lead_ids=("L1",))
    first, second = base.row(0, named=True), base.row(1, named=True)
    assert first["snapshot_at"] == earlier
    assert first["n_request_demo_30d"] == 0.0 and second["n_request_demo_30d"] == 1.0
    assert first["days_since_visit_webpage"] == 2.0  # 12 days before SNAP = 2 days before `earlier`


# --- point in time: nothing on or after the snapshot changes any feature value ------------------

_future_days = st.floats(
    min_value=-400, max_value=0, allow_nan=False
)  # 0 = exactly at the snapshot


@given(
    acts=st.lists(
        st.tuples(
            st.sampled_from(["L1", "L2", "L3"]),
            _future_days,
            st.sampled_from(TYPES),
            st.sampled_from([None, "A", "B"]),
        ),
        max_size=6,
    ),
    opps=st.lists(st.tuples(st.sampled_from(["L1", "L2", "L3", None]), _future_days), max_size=3),
    hist=st.lists(
        st.tuples(
            st.sampled_from(["L1", "L2", "L3"]),
            _future_days,
            st.sampled_from(["Recycled", "Disqualified", "SAL"]),
        ),
        max_size=3,
    ),
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_adding_future_events_changes_no_feature(acts, opps, hist):
    before_base, before_pg = _features(_world())
    after_base, after_pg = _features(
        _world(
            extra_acts=[act(lid, d, kind, g) for lid, d, kind, g in acts],
            extra_opps=[opp(f"f{i}", lid, d, account_id="ACC") for i, (lid, d) in enumerate(opps)],
            extra_hist=[
                {"lead_id": lid, "product_group": None, "stage": s, "changed_at": ts(d)}
                for lid, d, s in hist
            ],
        )
    )
    assert_frame_equal(before_base, after_base)
    assert_frame_equal(before_pg, after_pg)


def test_adding_past_events_does_change_features():
    """The property above must be able to fail: an activity before the snapshot shows up."""
    before, _ = _features(_world())
    after, _ = _features(_world(extra_acts=[act("L2", 1, "Request Demo", "A")]))
    assert _row(before, "L2")["n_request_demo_7d"] == 0.0
    assert _row(after, "L2")["n_request_demo_7d"] == 1.0


# --- integer lead keys: the same frames as the string-keyed build --------------------------------

_days = st.floats(min_value=-20, max_value=200, allow_nan=False)
_who = st.sampled_from(["L1", "L2", "L3", "LX"])  # LX: in no table but activities/opps/history


def _both(t, lead_ids, snaps):
    k = keys(list(lead_ids), ["A", "B"], list(snaps))
    out = []
    for integer_keys in (False, True):
        frames = build_features(t, k, list(snaps), TYPES, CFG, integer_keys=integer_keys)
        assert frames.ordered == integer_keys
        base, per_group = frames.base.collect(), frames.per_group.collect()
        if integer_keys:  # ordered: already sorted as promised
            assert_frame_equal(base, base.sort(["lead_id", "snapshot_at"]))
            assert_frame_equal(
                per_group, per_group.sort(["product_group", "lead_id", "snapshot_at"])
            )
        out.append(
            (
                base.sort(["lead_id", "snapshot_at"]),
                per_group.sort(["product_group", "lead_id", "snapshot_at"]),
            )
        )
    return out


@given(
    acts=st.lists(
        st.tuples(_who, _days, st.sampled_from(TYPES), st.sampled_from([None, "A", "B"])),
        max_size=8,
    ),
    opps=st.lists(st.tuples(st.sampled_from(["L1", "L2", "L3", "LX", None]), _days), max_size=3),
    hist=st.lists(
        st.tuples(
            _who,
            _days,
            st.sampled_from(["Recycled", "Disqualified", "SAL"]),
            st.sampled_from([None, "A"]),
        ),
        max_size=4,
    ),
    lead_ids=st.sampled_from([("L1", "L2", "L3"), ("L1", "L3"), ("L2", "LZ")]),
    several=st.booleans(),
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_integer_lead_keys_give_the_string_keyed_frames(acts, opps, hist, lead_ids, several):
    """LZ is keyed but not in the leads table; LX has events but is no lead."""
    t = _world(
        extra_acts=[act(lid, d, kind, g, f"a{i % 3}") for i, (lid, d, kind, g) in enumerate(acts)],
        extra_opps=[opp(f"f{i}", lid, d, account_id="ACC") for i, (lid, d) in enumerate(opps)],
        extra_hist=[
            {"lead_id": lid, "product_group": g, "stage": s, "changed_at": ts(d)}
            for lid, d, s, g in hist
        ],
    )
    snaps = (SNAP - timedelta(days=10), SNAP) if several else (SNAP,)
    (base_s, pg_s), (base_i, pg_i) = _both(t, lead_ids, snaps)
    assert_frame_equal(base_s, base_i, check_exact=True)
    assert_frame_equal(pg_s, pg_i, check_exact=True)


@given(
    acts=st.lists(
        st.tuples(
            st.integers(0, 5),
            _days,
            st.sampled_from([*TYPES, None]),
            st.sampled_from([None, "A", "B"]),
        ),
        max_size=12,
    )
)
@settings(max_examples=40, deadline=None)
def test_packed_type_summary_is_the_four_key_summary(acts):
    """The one-integer-key summary (numbered leads, one snapshot) has the plain one's rows."""
    events = pl.DataFrame(
        {
            "lead_id": [a[0] for a in acts],
            "activity_type": [a[2] for a in acts],
            "occurred_at": [ts(a[1]) for a in acts],
            "product_group": [a[3] for a in acts],
            "asset_id": ["x"] * len(acts),
        },
        schema={
            "lead_id": pl.UInt32,
            "activity_type": pl.Categorical,
            "occurred_at": pl.Datetime("us", "UTC"),
            "product_group": pl.Categorical,
            "asset_id": pl.String,
        },
    )
    codes = E.summary_codes(events)
    assert codes is not None
    seen = E.point_in_time_events(events.lazy(), events.lazy(), [SNAP], CFG.lookback_days)
    order = [*E.KEYS, "activity_type", "product_group"]
    plain = E.type_summary(seen, CFG).collect().sort(order)
    packed = E.type_summary(seen, CFG, codes=codes, snapshot=SNAP).collect().sort(order)
    assert_frame_equal(plain, packed, check_exact=True)
    assert E.summary_codes(events.with_columns(pl.col("lead_id").cast(pl.String))) is None


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 10**13), min_size=2, max_size=20),
    st.sampled_from([E.DECAY_UNIT, 86_400_000_000.0, 14.0, 30.0, 7.0]),
)
def test_unit_conversion_has_the_same_bits_in_one_row_and_many(
    values: list[int], divisor: float
) -> None:
    """polars divides a one-row column by a constant exactly and longer ones by the reciprocal:
    features must not depend on how rows were chunked (the decayed engagement did)."""
    many = pl.DataFrame({"v": values}).select(E.per(pl.col("v"), divisor))["v"].to_list()
    alone = [pl.DataFrame({"v": [v]}).select(E.per(pl.col("v"), divisor))["v"][0] for v in values]
    assert many == alone
