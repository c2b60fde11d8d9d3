"""Canonical tables: the column names and types every stage works on, as pandera models.

A field typed `Optional[...]` may be absent from an export; a field with `nullable=False`
must be present and filled on every row (rows without it go to the rejects file).
Lazy validation checks names and types only; values are checked by the loader (io.mapping).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Optional

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
    email: Optional[str] = pa.Field(nullable=True)
    first_name: Optional[str] = pa.Field(nullable=True)
    last_name: Optional[str] = pa.Field(nullable=True)
    title: Optional[str] = pa.Field(nullable=True)
    company: Optional[str] = pa.Field(nullable=True)
    account_id: Optional[str] = pa.Field(nullable=True)
    country: Optional[str] = pa.Field(nullable=True)
    state: Optional[str] = pa.Field(nullable=True)
    phone: Optional[str] = pa.Field(nullable=True)
    industry: Optional[str] = pa.Field(nullable=True)
    employees: Optional[pl.Int64] = pa.Field(nullable=True)
    annual_revenue: Optional[pl.Float64] = pa.Field(nullable=True)
    lead_source: Optional[str] = pa.Field(nullable=True)
    created_at: UtcDatetime = pa.Field(nullable=False)
    stage: Optional[str] = pa.Field(nullable=True)
    owner_id: Optional[str] = pa.Field(nullable=True)
    do_not_contact: Optional[bool] = pa.Field(nullable=True)
    unsubscribed: Optional[bool] = pa.Field(nullable=True)
    consent: Optional[bool] = pa.Field(nullable=True)
    is_converted: Optional[bool] = pa.Field(nullable=True)
    converted_at: Optional[UtcDatetime] = pa.Field(nullable=True)


class Accounts(_Canonical):
    """One row per account (company)."""

    account_id: str = pa.Field(nullable=False)
    name: Optional[str] = pa.Field(nullable=True)
    domain: Optional[str] = pa.Field(nullable=True)
    industry: Optional[str] = pa.Field(nullable=True)
    employees: Optional[pl.Int64] = pa.Field(nullable=True)
    annual_revenue: Optional[pl.Float64] = pa.Field(nullable=True)
    country: Optional[str] = pa.Field(nullable=True)
    owner_id: Optional[str] = pa.Field(nullable=True)
    named_account: Optional[bool] = pa.Field(nullable=True)
    target_account: Optional[bool] = pa.Field(nullable=True)


class Activities(_Canonical):
    """Marketing activities: one row per thing a lead did."""

    lead_id: str = pa.Field(nullable=False)
    activity_type: str = pa.Field(nullable=False)
    occurred_at: UtcDatetime = pa.Field(nullable=False)
    asset_id: Optional[str] = pa.Field(nullable=True)
    product_group: Optional[str] = pa.Field(nullable=True)
    campaign: Optional[str] = pa.Field(nullable=True)


class Opportunities(_Canonical):
    """Sales opportunities: the outcome the models learn to predict."""

    opportunity_id: str = pa.Field(nullable=False)
    account_id: Optional[str] = pa.Field(nullable=True)
    lead_id: Optional[str] = pa.Field(nullable=True)
    product_group: Optional[str] = pa.Field(nullable=True)
    created_at: UtcDatetime = pa.Field(nullable=False)
    closed_at: Optional[UtcDatetime] = pa.Field(nullable=True)
    stage: Optional[str] = pa.Field(nullable=True)
    is_won: Optional[bool] = pa.Field(nullable=True)
    amount: Optional[pl.Float64] = pa.Field(nullable=True)


class Reps(_Canonical):
    """Salespeople: who can take leads, for which product groups and territories, and how many."""

    rep_id: str = pa.Field(nullable=False)
    name: Optional[str] = pa.Field(nullable=True)
    team: Optional[str] = pa.Field(nullable=True)
    role: Optional[str] = pa.Field(nullable=True)
    product_groups: Optional[str] = pa.Field(nullable=True)  # ";"-separated
    territories: Optional[str] = pa.Field(nullable=True)  # ";"-separated
    capacity: Optional[pl.Int64] = pa.Field(nullable=True)
    active: Optional[bool] = pa.Field(nullable=True)
    out_of_office_from: Optional[pl.Date] = pa.Field(nullable=True)
    out_of_office_to: Optional[pl.Date] = pa.Field(nullable=True)
    time_zone: Optional[str] = pa.Field(nullable=True)
    working_hours: Optional[str] = pa.Field(nullable=True)  # "09:00-17:00"
    manager_id: Optional[str] = pa.Field(nullable=True)


class StageHistory(_Canonical):
    """Every stage change of a lead (per product group), as the CRM logged it."""

    lead_id: str = pa.Field(nullable=False)
    product_group: Optional[str] = pa.Field(nullable=True)
    stage: str = pa.Field(nullable=False)
    changed_at: UtcDatetime = pa.Field(nullable=False)
    changed_by: Optional[str] = pa.Field(nullable=True)
    reason: Optional[str] = pa.Field(nullable=True)


class SalesTouches(_Canonical):
    """What reps logged: calls, e-mails, voicemails, social touches."""

    lead_id: str = pa.Field(nullable=False)
    rep_id: Optional[str] = pa.Field(nullable=True)
    channel: Optional[str] = pa.Field(nullable=True)
    occurred_at: UtcDatetime = pa.Field(nullable=False)
    outcome: Optional[str] = pa.Field(nullable=True)


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
