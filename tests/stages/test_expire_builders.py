"""Tiny canonical frames for the expire tests (no tests here: shared builders).

Times are given as whole days before AS_OF (plus an hour), so every test reads as
"entered SAL 30 days ago, last touch 14 days ago".
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl

from leadctl.config.expire import ExpireConfig, PersistenceCriteria, PersistenceRule
from leadctl.config.lifecycle import LifecycleConfig
from leadctl.schemas import empty_frame
from leadctl.stages.expire import ExpireInputs, expire
from leadctl.stages.expire_common import ASSIGNMENT_SCHEMA, empty_assignments

AS_OF = date(2026, 6, 30)
GROUPS = ["A"]
CRITERIA = PersistenceCriteria(
    tiers={
        "standard": PersistenceRule(min_attempts=3, min_channels=2, within_days=21),
        "fast_track": PersistenceRule(min_attempts=5, min_channels=2, within_days=10),
    },
    default_tier="standard",
)


def ago(days: float, hour: int = 0) -> datetime:
    """A UTC timestamp `days` whole days before AS_OF, at `hour` o'clock (negative: after)."""
    return datetime.combine(AS_OF, time(hour), tzinfo=UTC) - timedelta(days=days)


def _frame(table: str, rows: list[dict[str, Any]]) -> pl.LazyFrame:
    schema = empty_frame(table).schema
    return pl.DataFrame(rows, schema=schema).lazy() if rows else empty_frame(table).lazy()


def history(*rows: tuple[Any, ...]) -> pl.LazyFrame:
    """Rows: (lead_id, product_group, stage, days_ago[, changed_by[, reason]])."""
    out = []
    for row in rows:
        lead, group, stage, days = row[:4]
        by = row[4] if len(row) > 4 else "r1"
        reason = row[5] if len(row) > 5 else None
        out.append(
            {
                "lead_id": lead,
                "product_group": group,
                "stage": stage,
                "changed_at": ago(days),
                "changed_by": by,
                "reason": reason,
            }
        )
    return _frame("stage_history", out)


def touches(*rows: tuple[Any, ...]) -> pl.LazyFrame:
    """Rows: (lead_id, days_ago[, rep_id[, channel[, hour]]])."""
    out = []
    for row in rows:
        lead, days = row[:2]
        rep = row[2] if len(row) > 2 else "r1"
        channel = row[3] if len(row) > 3 else "Call"
        hour = row[4] if len(row) > 4 else 0
        out.append(
            {
                "lead_id": lead,
                "rep_id": rep,
                "channel": channel,
                "occurred_at": ago(days, hour),
                "outcome": "No Answer",
            }
        )
    return _frame("sales_touches", out)


def leads(*rows: tuple[Any, ...]) -> pl.LazyFrame:
    """Rows: (lead_id[, owner_id[, stage]]); created 400 days before AS_OF."""
    out = []
    for row in rows:
        out.append(
            {
                "lead_id": row[0],
                "owner_id": row[1] if len(row) > 1 else "r1",
                "stage": row[2] if len(row) > 2 else None,
                "created_at": ago(400),
            }
        )
    return _frame("leads", out)


def reps(*rows: tuple[Any, ...]) -> pl.LazyFrame:
    """Rows: (rep_id, team[, manager_id[, active]])."""
    out = [
        {
            "rep_id": row[0],
            "team": row[1],
            "manager_id": row[2] if len(row) > 2 else None,
            "active": row[3] if len(row) > 3 else True,
        }
        for row in rows
    ]
    return _frame("reps", out)


def assignments(*rows: tuple[Any, ...]) -> pl.LazyFrame:
    """Rows: (lead_id, group, owner_id, sla_tier, assigned_ago, due_ago[, team[, min_attempts[,
    persistence_days]]])."""
    if not rows:
        return empty_assignments()
    out = [
        {
            "lead_id": r[0],
            "product_group": r[1],
            "owner_id": r[2],
            "team": r[6] if len(r) > 6 else "T1",
            "sla_tier": r[3],
            "action": "standard",
            "assigned_at": ago(r[4]),
            "sla_due_at": ago(r[5]),
            "min_attempts": r[7] if len(r) > 7 else None,
            "persistence_days": r[8] if len(r) > 8 else None,
            "logged_on": ago(r[4]).date(),
        }
        for r in rows
    ]
    return pl.DataFrame(out, schema=ASSIGNMENT_SCHEMA).lazy()


DEFAULT_REPS = (("r1", "T1", "m1"), ("r2", "T1", "m1"), ("m1", "T1", None))


def make_inputs(
    hist: pl.LazyFrame,
    *,
    touch: pl.LazyFrame | None = None,
    lead: pl.LazyFrame | None = None,
    rep: pl.LazyFrame | None = None,
    assigned: pl.LazyFrame | None = None,
) -> ExpireInputs:
    """ExpireInputs; leads default to every lead in `hist`, owned by r1."""
    if lead is None:
        ids = sorted(set(hist.select("lead_id").collect()["lead_id"].to_list()))
        lead = leads(*[(i,) for i in ids])
    return ExpireInputs(
        stage_history=hist,
        sales_touches=touch if touch is not None else touches(),
        leads=lead,
        reps=rep if rep is not None else reps(*DEFAULT_REPS),
        assignments=assigned if assigned is not None else empty_assignments(),
    )


def run(
    inputs: ExpireInputs,
    *,
    cfg: ExpireConfig | None = None,
    lifecycle: LifecycleConfig | None = None,
    criteria: PersistenceCriteria = CRITERIA,
    groups: list[str] | None = None,
    as_of: date = AS_OF,
) -> dict[str, pl.DataFrame]:
    """Every expire output, collected."""
    result = expire(
        inputs,
        product_groups=groups or GROUPS,
        lifecycle=lifecycle or LifecycleConfig(),
        cfg=cfg or ExpireConfig(),
        criteria=criteria,
        as_of=as_of,
    )
    return {name: frame.collect() for name, frame in result.frames().items()}


def pairs(frame: pl.DataFrame, *cols: str) -> list[tuple[Any, ...]]:
    """Selected columns as a list of tuples, for compact asserts."""
    return [tuple(r) for r in frame.select(cols).rows()]
