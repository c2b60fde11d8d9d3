"""Canonical tables: the column names and types every stage works on, as pandera models.

A field typed `X | None` may be absent from an export; a field with `nullable=False`
must be present and filled on every row (rows without it go to the rejects file).
Lazy validation checks names and types only; values are checked by the loader (io.mapping).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import pandera.polars as pa
import polars as pl

UTC_DATETIME = pl.Datetime("us", "UTC")
UtcDatetime = Annotated[pl.Datetime, "us", "UTC"]


class _Canonical(pa.DataFrameModel):
    class Config:
        strict = False  # extra (custom) columns are kept
        coerce = False


class Leads(_Canonical):
    """One row per lead or contact."""

    lead_id: str = pa.Field(nullable=False)
    email: str | None = pa.Field(nullable=True)
    first_name: str | None = pa.Field(nullable=True)
    last_name: str | None = pa.Field(nullable=True)
    title: str | None = pa.Field(nullable=True)
    company: str | None = pa.Field(nullable=True)
    account_id: str | None = pa.Field(nullable=True)
    country: str | None = pa.Field(nullable=True)
    state: str | None = pa.Field(nullable=True)
    phone: str | None = pa.Field(nullable=True)
    industry: str | None = pa.Field(nullable=True)
    employees: pl.Int64 | None = pa.Field(nullable=True)
    annual_revenue: pl.Float64 | None = pa.Field(nullable=True)
    lead_source: str | None = pa.Field(nullable=True)
    created_at: UtcDatetime = pa.Field(nullable=False)
    stage: str | None = pa.Field(nullable=True)
    owner_id: str | None = pa.Field(nullable=True)
    do_not_contact: bool | None = pa.Field(nullable=True)
    unsubscribed: bool | None = pa.Field(nullable=True)
    consent: bool | None = pa.Field(nullable=True)
    is_converted: bool | None = pa.Field(nullable=True)
    converted_at: UtcDatetime | None = pa.Field(nullable=True)


class Accounts(_Canonical):
    """One row per account (company)."""

    account_id: str = pa.Field(nullable=False)
    name: str | None = pa.Field(nullable=True)
    domain: str | None = pa.Field(nullable=True)
    industry: str | None = pa.Field(nullable=True)
    employees: pl.Int64 | None = pa.Field(nullable=True)
    annual_revenue: pl.Float64 | None = pa.Field(nullable=True)
    country: str | None = pa.Field(nullable=True)
    owner_id: str | None = pa.Field(nullable=True)
    named_account: bool | None = pa.Field(nullable=True)
    target_account: bool | None = pa.Field(nullable=True)


class Activities(_Canonical):
    """Marketing activities: one row per thing a lead did."""

    lead_id: str = pa.Field(nullable=False)
    activity_type: str = pa.Field(nullable=False)
    occurred_at: UtcDatetime = pa.Field(nullable=False)
    asset_id: str | None = pa.Field(nullable=True)
    product_group: str | None = pa.Field(nullable=True)
    campaign: str | None = pa.Field(nullable=True)


class Opportunities(_Canonical):
    """Sales opportunities: the outcome the models learn to predict."""

    opportunity_id: str = pa.Field(nullable=False)
    account_id: str | None = pa.Field(nullable=True)
    lead_id: str | None = pa.Field(nullable=True)
    product_group: str | None = pa.Field(nullable=True)
    created_at: UtcDatetime = pa.Field(nullable=False)
    closed_at: UtcDatetime | None = pa.Field(nullable=True)
    stage: str | None = pa.Field(nullable=True)
    is_won: bool | None = pa.Field(nullable=True)
    amount: pl.Float64 | None = pa.Field(nullable=True)


class Reps(_Canonical):
    """Salespeople: who can take leads, for which product groups and territories, and how many."""

    rep_id: str = pa.Field(nullable=False)
    name: str | None = pa.Field(nullable=True)
    team: str | None = pa.Field(nullable=True)
    role: str | None = pa.Field(nullable=True)
    product_groups: str | None = pa.Field(nullable=True)  # ";"-separated
    territories: str | None = pa.Field(nullable=True)  # ";"-separated
    capacity: pl.Int64 | None = pa.Field(nullable=True)
    active: bool | None = pa.Field(nullable=True)
    out_of_office_from: pl.Date | None = pa.Field(nullable=True)
    out_of_office_to: pl.Date | None = pa.Field(nullable=True)
    time_zone: str | None = pa.Field(nullable=True)
    working_hours: str | None = pa.Field(nullable=True)  # "09:00-17:00"
    manager_id: str | None = pa.Field(nullable=True)


class StageHistory(_Canonical):
    """Every stage change of a lead (per product group), as the CRM logged it."""

    lead_id: str = pa.Field(nullable=False)
    product_group: str | None = pa.Field(nullable=True)
    stage: str = pa.Field(nullable=False)
    changed_at: UtcDatetime = pa.Field(nullable=False)
    changed_by: str | None = pa.Field(nullable=True)
    reason: str | None = pa.Field(nullable=True)


class SalesTouches(_Canonical):
    """What reps logged: calls, e-mails, voicemails, social touches."""

    lead_id: str = pa.Field(nullable=False)
    rep_id: str | None = pa.Field(nullable=True)
    channel: str | None = pa.Field(nullable=True)
    occurred_at: UtcDatetime = pa.Field(nullable=False)
    outcome: str | None = pa.Field(nullable=True)


TABLES: dict[str, type[_Canonical]] = {
    "leads": Leads,
    "accounts": Accounts,
    "activities": Activities,
    "opportunities": Opportunities,
    "reps": Reps,
    "stage_history": StageHistory,
    "sales_touches": SalesTouches,
}

# The primary key of each table, where it has one (duplicates are rejected on load).
PRIMARY_KEYS: dict[str, str] = {
    "leads": "lead_id",
    "accounts": "account_id",
    "opportunities": "opportunity_id",
    "reps": "rep_id",
}


@dataclass(frozen=True)
class ColumnSpec:
    """What the loader needs to know about one canonical column."""

    name: str
    dtype: pl.DataType
    required: bool  # must be in the export and filled on every row


def columns_of(table: str) -> list[ColumnSpec]:
    """The canonical columns of `table`, in declaration order."""
    schema = TABLES[table].to_schema()
    out = []
    for name, column in schema.columns.items():
        dtype = column.dtype.type
        if isinstance(dtype, type):
            dtype = dtype()
        out.append(ColumnSpec(name=name, dtype=dtype, required=bool(column.required)))
    return out


def empty_frame(table: str) -> pl.DataFrame:
    """An empty frame with every canonical column of `table` (for tables a config leaves out)."""
    return pl.DataFrame(schema={c.name: c.dtype for c in columns_of(table)})
