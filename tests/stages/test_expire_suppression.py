"""The one-pass suppression list equals the old plan (two lists, concat, keep each pair's first)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from leadctl.config.expire import ExpireConfig, SuppressionConfig
from leadctl.config.lifecycle import LifecycleConfig
from leadctl.stages.expire_common import PAIR, ROW, UTC_DT, pair_key, reference, row_of
from leadctl.stages.expire_suppression import SUPPRESSION_COLUMNS, suppression

AS_OF = date(2026, 11, 20)
STAGES = [None, "MQL", "SAL", "SQL", "Opportunity", "Disqualified", "Recycled"]


def old_suppression(classified, updates, lifecycle, cfg, as_of):
    """The plan before the one-pass version (reference)."""
    s = cfg.suppression
    after = (
        classified.filter(pl.col("in_scope"))
        .join(updates.select(*PAIR, "new_stage"), on=PAIR, how="left")
        .with_columns(
            pl.col("new_stage").is_not_null().alias("_updated"),
            pl.coalesce("new_stage", "stage").alias("stage"),
        )
    )
    parts = []
    if s.suppress_reasons:
        parts.append(
            after.filter(
                ~pl.col("_updated")
                & (pl.col("reason_status") == "known")
                & (pl.col("action") == "suppress")
            ).with_columns(
                pl.lit("reason").alias("source"),
                pl.col("reason_name").alias("reason"),
                pl.col("entered_at").alias("since"),
            )
        )
    stages = [*(lifecycle.active_sales_stages if s.active_sales_stages else []), *s.extra_stages]
    if stages:
        parts.append(
            after.filter(pl.col("stage").is_in(stages)).with_columns(
                pl.lit("stage").alias("source"),
                pl.lit(None, dtype=pl.String).alias("reason"),
                pl.when(pl.col("_updated"))
                .then(pl.lit(reference(as_of), dtype=UTC_DT))
                .otherwise(pl.col("entered_at"))
                .alias("since"),
            )
        )
    if not parts:
        return None
    return (
        pl.concat([p.select(SUPPRESSION_COLUMNS) for p in parts])
        .unique(subset=PAIR, keep="first", maintain_order=True)
        .sort(PAIR)
    )


row = st.fixed_dictionaries(
    {
        "stage": st.sampled_from(STAGES),
        "in_scope": st.booleans(),
        "reason_status": st.sampled_from(["missing", "unknown", "known"]),
        "action": st.sampled_from([None, "suppress", "recycle", "disqualify"]),
        "reason_name": st.sampled_from([None, "Competitor", "Not a fit"]),
        "day": st.integers(1, 28),
        "owner_id": st.sampled_from([None, "r1", "r2"]),
        "team": st.sampled_from([None, "t1"]),
        "new_stage": st.sampled_from([None, None, "MQL", "SAL", "Recycled"]),
    }
)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(row, max_size=30),
    active=st.booleans(),
    extra=st.sampled_from([[], ["Recycled"], ["MQL", "Disqualified"]]),
    by_reason=st.booleans(),
)
def test_one_pass_equals_concat_unique(rows, active, extra, by_reason):
    groups = ["A", "B"]
    pairs = [(f"L{i // 2:03d}", groups[i % 2]) for i in range(len(rows))]
    classified = pl.DataFrame(
        {
            "lead_id": [p[0] for p in pairs],
            "product_group": [p[1] for p in pairs],
            "stage": [r["stage"] for r in rows],
            "in_scope": [r["in_scope"] for r in rows],
            "reason_status": [r["reason_status"] for r in rows],
            "action": [r["action"] for r in rows],
            "reason_name": [r["reason_name"] for r in rows],
            "reason": [r["reason_name"] for r in rows],
            "entered_at": [datetime(2026, 10, r["day"], tzinfo=UTC) for r in rows],
            "owner_id": [r["owner_id"] for r in rows],
            "team": [r["team"] for r in rows],
        },
        schema_overrides={
            "lead_id": pl.String,
            "product_group": pl.String,
            "in_scope": pl.Boolean,
            "reason_status": pl.String,
            "stage": pl.String,
            "action": pl.String,
            "reason_name": pl.String,
            "reason": pl.String,
            "owner_id": pl.String,
            "team": pl.String,
            "entered_at": UTC_DT,
        },
    ).reverse()  # not in key order
    updates = pl.DataFrame(
        {
            "lead_id": [p[0] for p, r in zip(pairs, rows, strict=True) if r["new_stage"]],
            "product_group": [p[1] for p, r in zip(pairs, rows, strict=True) if r["new_stage"]],
            "new_stage": [r["new_stage"] for r in rows if r["new_stage"]],
        },
        schema={"lead_id": pl.String, "product_group": pl.String, "new_stage": pl.String},
    )
    cfg = ExpireConfig(
        suppression=SuppressionConfig(
            active_sales_stages=active, extra_stages=extra, suppress_reasons=by_reason
        )
    )
    lifecycle = LifecycleConfig()
    new = suppression(classified.lazy(), updates.lazy(), lifecycle, cfg, AS_OF).collect()
    old = old_suppression(classified.lazy(), updates.lazy(), lifecycle, cfg, AS_OF)
    # Keyed by the state's row number (as expire runs it): the same list.
    numbered = classified.with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias(ROW))
    keyed_updates = updates.join(numbered.select(*PAIR, ROW), on=PAIR, how="left")
    by_row = suppression(numbered.lazy(), keyed_updates.lazy(), lifecycle, cfg, AS_OF).collect()
    assert by_row.equals(new)
    if old is None:
        assert new.height == 0
        assert new.columns == SUPPRESSION_COLUMNS
    else:
        old = old.collect()
        assert new.equals(old)
        assert new.schema == old.schema


def test_pair_key_uses_row_number_only_when_every_frame_has_it():
    plain = pl.DataFrame({"lead_id": ["a"], "product_group": ["A"]}).lazy()
    numbered = plain.with_columns(pl.lit(0, dtype=pl.UInt32).alias(ROW))
    assert pair_key(numbered, numbered) == [ROW]
    assert pair_key(numbered, plain) == PAIR
    assert row_of(plain) == [] and row_of(numbered) == [ROW]
