"""Tiny inline frames for the verify tests: one good lead, overridable field by field."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import polars as pl

from leadctl.config.verify import VerifyConfig, load_reference_lists
from leadctl.schemas import columns_of, empty_frame
from leadctl.stages.verify import VerifyResult, verify

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
AS_OF = date(2026, 3, 1)


def _frame(table: str, rows: list[dict[str, Any]]) -> pl.LazyFrame:
    if not rows:
        return empty_frame(table).lazy()
    dtypes = {c.name: c.dtype for c in columns_of(table)}
    names = list(dict.fromkeys(k for r in rows for k in r))
    schema = {n: dtypes.get(n, pl.String) for n in names}
    return pl.DataFrame(
        [{n: r.get(n) for n in names} for r in rows], schema=schema, orient="row"
    ).lazy()


def lead(lead_id: str, **fields: Any) -> dict[str, Any]:
    """A lead that passes every default check, unless a field says otherwise."""
    base: dict[str, Any] = {
        "lead_id": lead_id,
        "email": f"{lead_id.lower()}@acme.com",
        "first_name": "Pat",
        "last_name": f"Lee {lead_id}",
        "title": "IT Director",
        "company": "Acme Inc.",
        "country": "United States",
        "state": "CA",
        "phone": "+1 415 555 2671",
        "industry": "Technology",
        "employees": 500,
        "created_at": T0,
        "owner_id": "U9",
        "do_not_contact": False,
        "unsubscribed": False,
        "consent": None,
    }
    base.update(fields)
    return base


def account(account_id: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "account_id": account_id,
        "name": "Acme, Inc.",
        "domain": "https://www.acme.com/",
        "country": "USA",
        "owner_id": "U1",
        "named_account": False,
        "industry": "Technology",
        "employees": 800,
    }
    base.update(fields)
    return base


def rating(
    lead_id: str, group: str = "Analytics", action: str = "standard", **fields: Any
) -> dict[str, Any]:
    base: dict[str, Any] = {
        "lead_id": lead_id,
        "product_group": group,
        "fit_score": 80.0,
        "rating": "A1",
        "action": action,
        "sla_tier": "hot",
        "is_mql": True,
        "reasons_for": ["title"],
    }
    base.update(fields)
    return base


def ratings_frame(rows: list[dict[str, Any]]) -> pl.LazyFrame:
    schema = {
        "lead_id": pl.String,
        "product_group": pl.String,
        "fit_score": pl.Float64,
        "rating": pl.String,
        "action": pl.String,
        "sla_tier": pl.String,
        "is_mql": pl.Boolean,
        "reasons_for": pl.List(pl.String),
    }
    return pl.DataFrame(rows, schema=schema, orient="row").lazy()


def run(
    leads: list[dict[str, Any]],
    ratings: list[dict[str, Any]] | None = None,
    accounts: list[dict[str, Any]] | None = None,
    opportunities: list[dict[str, Any]] | None = None,
    activities: list[dict[str, Any]] | None = None,
    cfg: VerifyConfig | None = None,
    as_of: date = AS_OF,
) -> VerifyResult:
    """verify() on inline rows; ratings default to one standard MQL row per lead."""
    cfg = cfg or VerifyConfig(
        competitor_domains=["rivalsoft.com"], partner_domains=["partnerco.com"]
    )
    ratings = ratings if ratings is not None else [rating(r["lead_id"]) for r in leads]
    return verify(
        ratings_frame(ratings),
        _frame("leads", leads),
        _frame("accounts", accounts or []),
        _frame("opportunities", opportunities or []),
        _frame("activities", activities or []),
        cfg,
        load_reference_lists(cfg),
        as_of=as_of,
    )


def failed(result: VerifyResult) -> dict[str, str]:
    """lead_id → failed_checks (for rows of one product group)."""
    return dict(
        zip(
            result.failures["lead_id"].to_list(),
            result.failures["failed_checks"].to_list(),
            strict=True,
        )
    )


def verified_ids(result: VerifyResult) -> list[str]:
    return result.verified["lead_id"].to_list()
