"""Where each lead stands in the waterfall, per product group, derived from stage history."""

from __future__ import annotations

from datetime import date

import polars as pl

from leadctl.config.lifecycle import LifecycleConfig


def current_stages(
    stage_history: pl.LazyFrame,
    leads: pl.LazyFrame,
    product_groups: list[str],
    cfg: LifecycleConfig,
    as_of: date,
) -> pl.LazyFrame:
    """One row per (lead, product group): stage, entered_at, days_in_stage, reason, changed_by.

    History rows after `as_of` are ignored (point in time). A history row without a product
    group applies to every group. A lead with no history at all takes its own `stage` column
    (else the initial stage); a group without history of a lead that has history elsewhere is at
    the initial stage. Both count as entered at the lead's created_at.
    """
    cutoff = pl.lit(as_of).cast(pl.Datetime("us", "UTC")) + pl.duration(days=1)
    groups = pl.DataFrame({"product_group": product_groups}).lazy()
    hist = stage_history.filter(pl.col("changed_at") < cutoff)
    with_group = hist.filter(pl.col("product_group").is_not_null())
    general = (
        hist.filter(pl.col("product_group").is_null())
        .drop("product_group")
        .join(groups, how="cross")
    )
    events = pl.concat(
        [
            with_group.select(
                "lead_id", "product_group", "stage", "changed_at", "changed_by", "reason"
            ),
            general.select(
                "lead_id", "product_group", "stage", "changed_at", "changed_by", "reason"
            ),
        ]
    )
    latest = (
        events.sort(["lead_id", "product_group", "changed_at", "stage"])
        .group_by(["lead_id", "product_group"], maintain_order=True)
        .last()
        .rename({"changed_at": "entered_at"})
    )
    base = leads.select(
        "lead_id",
        pl.col("stage").fill_null(cfg.initial_stage).alias("lead_stage"),
        pl.col("created_at"),
    ).join(groups, how="cross")
    with_history = (
        events.select("lead_id").unique().with_columns(pl.lit(True).alias("_has_history"))
    )
    as_of_dt = pl.lit(as_of).cast(pl.Datetime("us", "UTC"))
    # A group without history of its own: the lead's CRM stage only when the lead has no
    # history at all (single-product CRMs); otherwise that group has not started yet.
    fallback = (
        pl.when(pl.col("_has_history"))
        .then(pl.lit(cfg.initial_stage))
        .otherwise(pl.col("lead_stage"))
    )
    return (
        base.join(latest, on=["lead_id", "product_group"], how="left")
        .join(with_history, on="lead_id", how="left")
        .with_columns(pl.col("_has_history").fill_null(False))
        .with_columns(
            pl.col("stage").fill_null(fallback),
            pl.col("entered_at").fill_null(pl.col("created_at")),
        )
        .with_columns(
            ((as_of_dt - pl.col("entered_at")).dt.total_days())
            .clip(lower_bound=0)
            .alias("days_in_stage")
        )
        .select(
            "lead_id",
            "product_group",
            "stage",
            "entered_at",
            "days_in_stage",
            "reason",
            "changed_by",
        )
        .sort(["lead_id", "product_group"])
    )


def open_load(current: pl.LazyFrame, leads: pl.LazyFrame, cfg: LifecycleConfig) -> pl.LazyFrame:
    """Open leads per rep: (lead, product group) pairs a rep owns in an MQL or sales stage.

    `current` is the output of `current_stages`; ownership is the lead's CRM owner.
    """
    working = [cfg.mql_stage, cfg.override_stage, *cfg.active_sales_stages]
    return (
        current.filter(pl.col("stage").is_in(working))
        .join(leads.select("lead_id", "owner_id"), on="lead_id", how="inner")
        .filter(pl.col("owner_id").is_not_null())
        .group_by("owner_id")
        .agg(pl.len().cast(pl.Int64).alias("open_leads"))
        .rename({"owner_id": "rep_id"})
        .sort("rep_id")
    )
