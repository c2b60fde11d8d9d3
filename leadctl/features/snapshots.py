"""Training examples: (lead, product group, snapshot date) with the label that followed.

A snapshot date d stands for the night leads were scored on d: features see data up to the end
of d (`cutoff(d)`), the label looks at the H days after it. The latest snapshot is as_of - H, so
every label is complete; leads created later, or already in an opportunity, are not examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import polars as pl

from leadctl.config.scoring import LabelConfig, SnapshotsConfig
from leadctl.errors import ConfigError

UTC_DT = pl.Datetime("us", "UTC")
_TRUE = ["true", "yes", "y", "1", "t", "x", "won", "converted"]
_FALSE = ["false", "no", "n", "0", "f", "lost", "not converted"]


@dataclass
class Tables:
    """The canonical tables features and labels are built from (lazy scans)."""

    leads: pl.LazyFrame
    accounts: pl.LazyFrame
    activities: pl.LazyFrame
    opportunities: pl.LazyFrame
    stage_history: pl.LazyFrame


def cutoff(day: date) -> datetime:
    """End of `day` in UTC: everything strictly before it is known on the night of `day`."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)


def snapshot_dates(as_of: date, label: LabelConfig, snapshots: SnapshotsConfig) -> list[date]:
    """Regular snapshot dates ending H days before as_of (just as_of for an outcome column)."""
    if label.source == "outcome_column":
        return [as_of]
    last = as_of - timedelta(days=label.horizon_days)
    return sorted(last - timedelta(days=snapshots.every_days * k) for k in range(snapshots.count))


def _truthy(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """An outcome column as bool: booleans as they are, numbers != 0, yes/no words; else null."""
    if dtype == pl.Boolean:
        return expr
    if dtype.is_numeric():
        return expr != 0
    text = expr.cast(pl.String).str.strip_chars().str.to_lowercase()
    return pl.when(text.is_in(_TRUE)).then(True).when(text.is_in(_FALSE)).then(False)


def outcome_events(
    tables: Tables, groups: list[str], label: LabelConfig, account_keys: pl.LazyFrame
) -> pl.LazyFrame:
    """(lead_id, product_group, event_at, opened_at): when the outcome happened for each lead.

    opened_at is when the lead entered sales for the group (it stops being an example from then);
    an opportunity without a product group counts for every group.
    """
    group_frame = pl.DataFrame({"product_group": groups}).lazy()
    if label.source == "lead_conversion":
        conv = tables.leads.filter(
            pl.col("is_converted").fill_null(False) & pl.col("converted_at").is_not_null()
        ).select("lead_id", event_at=pl.col("converted_at"), opened_at=pl.col("converted_at"))
        return conv.join(group_frame, how="cross")
    opps = tables.opportunities.select(
        "lead_id",
        "account_id",
        "product_group",
        opened_at=pl.col("created_at"),
        event_at=(
            pl.col("created_at")
            if label.event == "created"
            else pl.when(pl.col("is_won").fill_null(False)).then(pl.col("closed_at"))
        ),
    )
    linked = [opps.filter(pl.col("lead_id").is_not_null()).drop("account_id")]
    if label.account_mode:
        by_account = (
            opps.filter(pl.col("account_id").is_not_null())
            .drop("lead_id")
            .join(
                account_keys.filter(pl.col("account_key").is_not_null()).select(
                    "lead_id", account_id=pl.col("account_key")
                ),
                on="account_id",
            )
            .drop("account_id")
        )
        linked.append(by_account.select("lead_id", "product_group", "opened_at", "event_at"))
    events = pl.concat(linked, how="vertical_relaxed")
    tagged = events.filter(pl.col("product_group").is_not_null())
    untagged = (
        events.filter(pl.col("product_group").is_null())
        .drop("product_group")
        .join(group_frame, how="cross")
    )
    cols = ["lead_id", "product_group", "event_at", "opened_at"]
    return pl.concat([tagged.select(cols), untagged.select(cols)]).filter(
        pl.col("product_group").is_in(groups)
    )


def training_examples(
    tables: Tables,
    groups: list[str],
    dates: list[date],
    label: LabelConfig,
    account_keys: pl.LazyFrame,
) -> pl.LazyFrame:
    """(lead_id, product_group, snapshot_at, label) for every lead known and not yet in sales."""
    if label.source == "outcome_column":
        return _outcome_column_examples(tables.leads, groups, dates[0], label)
    snaps = pl.DataFrame(
        {"snapshot_at": [cutoff(d) for d in dates]}, schema={"snapshot_at": UTC_DT}
    )
    keys = (
        tables.leads.select("lead_id", "created_at")
        .join(pl.DataFrame({"product_group": groups}).lazy(), how="cross")
        .join(snaps.lazy(), how="cross")
        .filter(pl.col("created_at") < pl.col("snapshot_at"))
        .drop("created_at")
    )
    horizon = timedelta(days=label.horizon_days)
    events = outcome_events(tables, groups, label, account_keys)
    flags = (
        keys.join(events, on=["lead_id", "product_group"], how="inner")
        .group_by(["lead_id", "product_group", "snapshot_at"])
        .agg(
            positive=(
                (pl.col("event_at") >= pl.col("snapshot_at"))
                & (pl.col("event_at") < pl.col("snapshot_at") + horizon)
            ).any(),
            already=(pl.col("opened_at") < pl.col("snapshot_at")).any(),
        )
    )
    return (
        keys.join(flags, on=["lead_id", "product_group", "snapshot_at"], how="left")
        .filter(~pl.col("already").fill_null(False))
        .select(
            "lead_id", "product_group", "snapshot_at", label=pl.col("positive").fill_null(False)
        )
        .sort(["product_group", "snapshot_at", "lead_id"])
    )


def _outcome_column_examples(
    leads: pl.LazyFrame, groups: list[str], as_of: date, label: LabelConfig
) -> pl.LazyFrame:
    """One flat export with an outcome column: one example per lead, as of the run date."""
    column = label.outcome_column or ""
    schema = leads.collect_schema()
    if column not in schema:
        raise ConfigError(
            f"train.label.outcome_column '{column}' is not a column of the leads table; declare "
            "it under inputs.tables.leads.extra_columns "
            "(e.g. converted: {source: Converted, type: bool})"
        )
    return (
        leads.select("lead_id", label=_truthy(pl.col(column), schema[column]))
        .filter(pl.col("label").is_not_null())
        .join(pl.DataFrame({"product_group": groups}).lazy(), how="cross")
        .with_columns(snapshot_at=pl.lit(cutoff(as_of), dtype=UTC_DT))
        .select("lead_id", "product_group", "snapshot_at", "label")
        .sort(["product_group", "snapshot_at", "lead_id"])
    )
