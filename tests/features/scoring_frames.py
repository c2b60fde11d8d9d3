"""Tiny canonical tables for feature, label and scoring tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl

from leadctl.features.snapshots import Tables, cutoff
from leadctl.schemas import empty_frame

AS_OF = date(2026, 6, 30)
SNAP = cutoff(AS_OF)  # 2026-07-01 00:00 UTC


def ts(days_before_snapshot: float, snap: datetime = SNAP) -> datetime:
    """A timestamp `days_before_snapshot` days before the snapshot (negative: after it)."""
    return snap - timedelta(days=days_before_snapshot)


def table(
    name: str, rows: list[dict[str, Any]], extra: dict[str, pl.DataType] | None = None
) -> pl.LazyFrame:
    """A canonical table with the given rows (missing columns null), plus extra typed columns."""
    schema = dict(empty_frame(name).schema)
    schema.update(extra or {})
    return pl.DataFrame(rows, schema=schema).lazy() if rows else pl.DataFrame(schema=schema).lazy()


def lead(lead_id: str, **kw: Any) -> dict[str, Any]:
    return {"lead_id": lead_id, "created_at": kw.pop("created_at", ts(400)), **kw}


def tables(
    leads: list[dict[str, Any]],
    *,
    accounts: list[dict[str, Any]] | None = None,
    activities: list[dict[str, Any]] | None = None,
    opportunities: list[dict[str, Any]] | None = None,
    stage_history: list[dict[str, Any]] | None = None,
    lead_extra: dict[str, pl.DataType] | None = None,
) -> Tables:
    return Tables(
        leads=table("leads", leads, lead_extra),
        accounts=table("accounts", accounts or []),
        activities=table("activities", activities or []),
        opportunities=table("opportunities", opportunities or []),
        stage_history=table("stage_history", stage_history or []),
    )


def act(
    lead_id: str,
    days: float,
    kind: str = "Visit Webpage",
    group: str | None = None,
    asset: str | None = None,
    snap: datetime = SNAP,
) -> dict[str, Any]:
    return {
        "lead_id": lead_id,
        "activity_type": kind,
        "occurred_at": ts(days, snap),
        "product_group": group,
        "asset_id": asset,
    }


def opp(
    opp_id: str,
    lead_id: str | None,
    created_days: float,
    group: str | None = "A",
    account_id: str | None = None,
    won: bool | None = None,
    closed_days: float | None = None,
    snap: datetime = SNAP,
) -> dict[str, Any]:
    return {
        "opportunity_id": opp_id,
        "lead_id": lead_id,
        "account_id": account_id,
        "product_group": group,
        "created_at": ts(created_days, snap),
        "is_won": won,
        "closed_at": None if closed_days is None else ts(closed_days, snap),
    }


def keys(lead_ids: list[str], groups: list[str], snaps: list[datetime]) -> pl.LazyFrame:
    rows = [
        {"lead_id": lid, "product_group": g, "snapshot_at": s}
        for lid in lead_ids
        for g in groups
        for s in snaps
    ]
    return pl.DataFrame(
        rows,
        schema={
            "lead_id": pl.String,
            "product_group": pl.String,
            "snapshot_at": pl.Datetime("us", "UTC"),
        },
    ).lazy()


def utc(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, tzinfo=UTC)
