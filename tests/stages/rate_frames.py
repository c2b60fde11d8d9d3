"""Tiny inline frames for the rate tests: scores, canonical tables and a one-call runner."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import polars as pl

from leadctl.config.lifecycle import LifecycleConfig
from leadctl.config.rating import Cutoffs, Hysteresis, RateConfig
from leadctl.schemas import columns_of
from leadctl.stages.lifecycle import current_stages
from leadctl.stages.rate import SCORE_COLUMNS, RateInputs, rate

AS_OF = date(2026, 11, 20)


def ts(day: str, hour: int = 12) -> datetime:
    """A UTC timestamp on `day` (YYYY-MM-DD)."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def scores(*rows: dict[str, Any]) -> pl.DataFrame:
    """Score rows with contract columns; unspecified values get harmless defaults."""
    defaults: dict[str, Any] = {
        "product_group": "Cloud",
        "fit_score": 10.0,
        "engagement_score": 10.0,
        "propensity": 0.5,
        "score": 50.0,
        "model_kind": "points",
        "model_version": "v1",
        "reasons_for": ["title: VP"],
        "reasons_against": [],
    }
    full = [{**defaults, **row} for row in rows]
    return pl.DataFrame(full, schema=SCORE_COLUMNS)


def table(name: str, *rows: dict[str, Any]) -> pl.DataFrame:
    """A canonical table with every canonical column; rows fill the ones they name."""
    schema = {c.name: c.dtype for c in columns_of(name)}
    extra = {k: pl.String for row in rows for k in row if k not in schema}
    return (
        pl.DataFrame(list(rows), schema={**schema, **extra}, orient="row")
        if rows
        else pl.DataFrame(schema=schema)
    )


def leads_for(frame: pl.DataFrame, **columns: dict[str, Any]) -> pl.DataFrame:
    """One lead per distinct lead_id in `frame`, created 2026-01-01; `columns` per lead id."""
    ids = sorted({i for i in frame["lead_id"].to_list() if i is not None} | set(columns))
    return table(
        "leads",
        *[{"lead_id": i, "created_at": ts("2026-01-01"), **columns.get(i, {})} for i in ids],
    )


def config(**overrides: Any) -> RateConfig:
    """Fixed cutoffs 75/50/25 for both dimensions, no propensity floor, no hysteresis."""
    base: dict[str, Any] = {
        "cutoffs": Cutoffs(method="fixed", fit=[75, 50, 25], engagement=[75, 50, 25]),
        "min_propensity": 0.0,
        "hysteresis": Hysteresis(margin=0, propensity_margin=0, min_stay_days=0),
    }
    return RateConfig.model_validate({**base, **overrides})


def run(
    score_rows: pl.DataFrame,
    cfg: RateConfig | None = None,
    *,
    leads: pl.DataFrame | None = None,
    activities: pl.DataFrame | None = None,
    accounts: pl.DataFrame | None = None,
    opportunities: pl.DataFrame | None = None,
    history: pl.DataFrame | None = None,
    previous: pl.DataFrame | None = None,
    lifecycle: LifecycleConfig | None = None,
    as_of: date = AS_OF,
) -> dict[str, pl.DataFrame]:
    """Run the rate stage on inline frames; returns ratings, nurture, state and cutoffs."""
    lifecycle = lifecycle or LifecycleConfig()
    leads = leads if leads is not None else leads_for(score_rows)
    groups = sorted({g for g in score_rows["product_group"].to_list() if g is not None}) or [
        "Cloud"
    ]
    hist = history if history is not None else table("stage_history")
    current = current_stages(hist.lazy(), leads.lazy(), groups, lifecycle, as_of)
    inputs = RateInputs(
        scores=score_rows.lazy(),
        leads=leads.lazy(),
        activities=(activities if activities is not None else table("activities")).lazy(),
        accounts=(accounts if accounts is not None else table("accounts")).lazy(),
        opportunities=(
            opportunities if opportunities is not None else table("opportunities")
        ).lazy(),
        current=current,
        previous=previous.lazy() if previous is not None else None,
    )
    result = rate(inputs, cfg or config(), lifecycle, as_of)
    ratings, nurture, state, cutoffs = pl.collect_all(
        [result.ratings, result.nurture, result.state, result.cutoffs]
    )
    return {"ratings": ratings, "nurture": nurture, "state": state, "cutoffs": cutoffs}


def by_lead(frame: pl.DataFrame, column: str) -> dict[str, Any]:
    """{lead_id: value} for single-group frames."""
    return dict(zip(frame["lead_id"].to_list(), frame[column].to_list(), strict=True))
