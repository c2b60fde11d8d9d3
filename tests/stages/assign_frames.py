"""Tiny inline frames for the assign tests: reps, verified rows, leads, history, and a runner."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import polars as pl

from leadctl.config.assign import AssignConfig, Team
from leadctl.config.lifecycle import LifecycleConfig
from leadctl.schemas import empty_frame
from leadctl.stages.assign import AssignInputs, AssignResult, assign
from leadctl.stages.assign_state import empty_state

AS_OF = date(2026, 11, 18)  # a Wednesday
CREATED = datetime(2026, 1, 5, 12, tzinfo=UTC)


def canonical(table: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Rows padded to the canonical columns of `table` with the canonical types."""
    empty = empty_frame(table)
    if not rows:
        return empty
    frame = pl.DataFrame(rows, infer_schema_length=None)
    return pl.concat(
        [empty, frame.cast({c: empty.schema[c] for c in frame.columns if c in empty.schema})],
        how="diagonal_relaxed",
    )


def rep(rep_id: str, team: str = "A NA", **kw: Any) -> dict[str, Any]:
    row = {
        "rep_id": rep_id,
        "team": team,
        "role": "AE",
        "product_groups": None,
        "territories": None,
        "capacity": 10,
        "active": True,
        "time_zone": "America/New_York",
        "working_hours": "09:00-17:00",
    }
    row.update(kw)
    return row


def lead(lead_id: str, **kw: Any) -> dict[str, Any]:
    row = {
        "lead_id": lead_id,
        "product_group": "A",
        "action": "standard",
        "rating": "B2",
        "sla_tier": None,
        "stage_to_set": "MQL",
        "propensity": 0.5,
        "region": "NA",
        "country_code": "US",
        "state_code": None,
        "industry": "Retail",
        "employees": 300,
        "matched_account_id": None,
        "account_owner_id": None,
        "named_account": None,
        "owner_id": None,
    }
    row.update(kw)
    return row


def verified(rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = {
        "lead_id": pl.String,
        "product_group": pl.String,
        "action": pl.String,
        "rating": pl.String,
        "sla_tier": pl.String,
        "stage_to_set": pl.String,
        "propensity": pl.Float64,
        "region": pl.String,
        "country_code": pl.String,
        "state_code": pl.String,
        "industry": pl.String,
        "employees": pl.Int64,
        "matched_account_id": pl.String,
        "account_owner_id": pl.String,
        "named_account": pl.Boolean,
        "owner_id": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def leads_for(rows: pl.DataFrame, extra: list[dict[str, Any]] | None = None) -> pl.DataFrame:
    """One canonical lead per verified lead id (owner = the verified owner_id), plus `extra`."""
    base = rows.select("lead_id", "owner_id").unique("lead_id", keep="first").sort("lead_id")
    items = [{"lead_id": lid, "owner_id": own, "created_at": CREATED} for lid, own in base.rows()]
    items += extra or []
    return canonical("leads", items)


def config(**kw: Any) -> AssignConfig:
    """Two product groups (A, B), teams per region; rules: account owner, continuity, territory."""
    data: dict[str, Any] = {
        "teams": [
            Team(
                name="A NA",
                product_groups=["A"],
                regions=["NA", "LATAM"],
                time_zone="America/New_York",
            ),
            Team(name="A EMEA", product_groups=["A"], regions=["EMEA"], time_zone="Europe/London"),
            Team(name="B NA", product_groups=["B"], regions=["NA"], time_zone="America/Chicago"),
        ],
        "holiday_countries": {"America/New_York": "US", "Europe/London": "GB"},
    }
    data.update(kw)
    return AssignConfig(**data)


def run(
    rows: pl.DataFrame,
    reps: list[dict[str, Any]],
    cfg: AssignConfig | None = None,
    *,
    leads: pl.DataFrame | None = None,
    history: list[dict[str, Any]] | None = None,
    log: pl.DataFrame | None = None,
    state: pl.DataFrame | None = None,
    as_of: date = AS_OF,
) -> AssignResult:
    inputs = AssignInputs(
        verified=rows.lazy(),
        reps=canonical("reps", reps).lazy(),
        leads=(leads if leads is not None else leads_for(rows)).lazy(),
        stage_history=canonical("stage_history", history or []).lazy(),
        log=log if log is not None else pl.DataFrame(),
        state=state if state is not None else empty_state(),
    )
    return assign(
        inputs,
        cfg=cfg or config(),
        lifecycle=LifecycleConfig(),
        product_groups=["A", "B"],
        as_of=as_of,
    )


def owners(result: AssignResult) -> dict[tuple[str, str], str]:
    return {
        (a, b): c
        for a, b, c in result.assignments.select("lead_id", "product_group", "owner_id").rows()
    }


def overflow_reasons(result: AssignResult) -> dict[str, str]:
    return dict(result.overflow.select("lead_id", "reason").rows())
