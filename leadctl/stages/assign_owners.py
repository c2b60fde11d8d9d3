"""Who owns a lead now, who owned it before, and how many open leads each rep carries.

Two sources tell ownership: the CRM (the lead's owner and its stage) and leadctl's own
assignments log from earlier nights (the CRM import may lag a night). A logged assignment stands
while the lead's stage has not changed since it was made; after that the CRM is the truth.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from leadctl.config.lifecycle import LifecycleConfig
from leadctl.schemas import UTC_DATETIME

KEYS = ["lead_id", "product_group"]
LOG_COLUMNS = pl.Schema(
    {
        "lead_id": pl.String(),
        "product_group": pl.String(),
        "owner_id": pl.String(),
        "assigned_at": UTC_DATETIME,
    }
)


def working_stages(cfg: LifecycleConfig) -> list[str]:
    """Stages in which a lead is in a rep's hands (MQL, override and the active sales stages)."""
    return [cfg.mql_stage, cfg.override_stage, *cfg.active_sales_stages]


def latest_log(log: pl.DataFrame) -> pl.DataFrame:
    """The most recent logged assignment per (lead, product group)."""
    return (
        log.select(list(LOG_COLUMNS))
        .cast(LOG_COLUMNS)
        .sort([*KEYS, "assigned_at", "owner_id"])
        .group_by(KEYS, maintain_order=True)
        .last()
    )


def _logged_open(log_latest: pl.DataFrame, current: pl.DataFrame) -> pl.DataFrame:
    """Logged assignments with no stage change since: still with the logged owner."""
    return (
        log_latest.join(current.select(*KEYS, "entered_at"), on=KEYS, how="left")
        .filter(pl.col("entered_at").is_null() | (pl.col("entered_at") <= pl.col("assigned_at")))
        .select(*KEYS, "owner_id", "assigned_at")
    )


def current_load(
    crm_load: pl.DataFrame,
    log_latest: pl.DataFrame,
    current: pl.DataFrame,
    crm_owner: pl.DataFrame,
    cfg: LifecycleConfig,
) -> pl.DataFrame:
    """rep_id, open_leads: the CRM's open load plus logged assignments the CRM does not show yet.

    `crm_load` is `lifecycle.open_load`; `crm_owner` is lead_id, owner_id from the leads table.
    """
    in_crm = (
        current.filter(pl.col("stage").is_in(working_stages(cfg)))
        .join(crm_owner.select("lead_id", pl.col("owner_id").alias("_crm")), on="lead_id")
        .select(*KEYS, "_crm")
    )
    pending = (
        _logged_open(log_latest, current)
        .join(in_crm, on=KEYS, how="left")
        .filter(pl.col("_crm").is_null() | (pl.col("_crm") != pl.col("owner_id")))
        .group_by("owner_id")
        .agg(pl.len().cast(pl.Int64).alias("_pending"))
        .rename({"owner_id": "rep_id"})
    )
    return (
        crm_load.select("rep_id", pl.col("open_leads").cast(pl.Int64))
        .join(pending, on="rep_id", how="full", coalesce=True)
        .select(
            "rep_id",
            (pl.col("open_leads").fill_null(0) + pl.col("_pending").fill_null(0)).alias(
                "open_leads"
            ),
        )
        .sort("rep_id")
    )


def ownership(
    verified: pl.DataFrame,
    current: pl.DataFrame,
    history: pl.DataFrame,
    log_latest: pl.DataFrame,
    roster: pl.DataFrame,
    cfg: LifecycleConfig,
    as_of: date,
) -> pl.DataFrame:
    """Per verified (lead, product group): the current owner, whether that owner still holds it
    (`owned`: an active rep in a working stage), and the most recent previous owner.

    `current`: lead_id, product_group, stage, entered_at (lifecycle.current_stages).
    `history`: canonical stage history. Previous-owner evidence, most recent wins: the assignments
    log, moves into a sales stage made by a known rep, and the CRM owner of a lead that was once
    in a working stage (dated when the lead entered its current stage).
    """
    working = working_stages(cfg)
    cutoff = pl.lit(as_of, dtype=pl.Date).cast(UTC_DATETIME) + pl.duration(days=1)
    groups = verified.select("product_group").unique()
    hist = history.filter(pl.col("changed_at") < cutoff).with_columns(
        pl.col("product_group").cast(pl.String), pl.col("changed_by").cast(pl.String)
    )
    # History rows without a product group apply to every group.
    hist = pl.concat(
        [
            hist.filter(pl.col("product_group").is_not_null()),
            hist.filter(pl.col("product_group").is_null())
            .drop("product_group")
            .join(groups, how="cross"),
        ],
        how="diagonal_relaxed",
    ).join(verified.select(KEYS), on=KEYS, how="semi")
    was_worked = hist.filter(pl.col("stage").is_in(working)).select(KEYS).unique()
    rep_ids = roster.select("rep_id")
    # A rep who moved the lead into a sales stage worked it (creating an inquiry does not count).
    sales = hist.filter(pl.col("stage").is_in(cfg.active_sales_stages))
    by_rep = sales.join(rep_ids, left_on="changed_by", right_on="rep_id", how="semi").select(
        *KEYS,
        pl.col("changed_by").alias("_who"),
        pl.col("changed_at").alias("_when"),
        pl.lit(1).alias("_src"),
    )
    base = (
        verified.select(*KEYS, pl.col("owner_id").cast(pl.String).alias("crm_owner_id"))
        .join(current.select(*KEYS, "stage", "entered_at"), on=KEYS, how="left")
        .join(
            _logged_open(log_latest, current).rename({"owner_id": "_log_owner"}),
            on=KEYS,
            how="left",
        )
        .join(was_worked.with_columns(pl.lit(True).alias("_worked")), on=KEYS, how="left")
    )
    active = roster.filter(pl.col("active")).select("rep_id")
    base = base.with_columns(
        pl.when(pl.col("_log_owner").is_not_null())
        .then(pl.col("_log_owner"))
        .otherwise(pl.col("crm_owner_id"))
        .alias("current_owner_id"),
        pl.when(pl.col("_log_owner").is_not_null())
        .then(pl.col("assigned_at"))
        .otherwise(pl.col("entered_at"))
        .alias("owned_since"),
        (
            pl.col("_log_owner").is_not_null() | pl.col("stage").is_in(working).fill_null(False)
        ).alias("_open"),
    ).with_columns(
        (
            pl.col("_open")
            & pl.col("current_owner_id").is_in(active["rep_id"].implode()).fill_null(False)
        ).alias("owned")
    )
    evidence = pl.concat(
        [
            log_latest.select(
                *KEYS,
                pl.col("owner_id").alias("_who"),
                pl.col("assigned_at").alias("_when"),
                pl.lit(2).alias("_src"),
            ).join(verified.select(KEYS), on=KEYS, how="semi"),
            by_rep,
            base.filter(
                pl.col("_worked").fill_null(False) & pl.col("crm_owner_id").is_not_null()
            ).select(
                *KEYS,
                pl.col("crm_owner_id").alias("_who"),
                pl.col("entered_at").alias("_when"),
                pl.lit(0).alias("_src"),
            ),
        ],
        how="vertical_relaxed",
    ).filter(pl.col("_who").is_not_null() & pl.col("_when").is_not_null())
    previous = (
        evidence.sort([*KEYS, "_when", "_src", "_who"])
        .group_by(KEYS, maintain_order=True)
        .last()
        .select(
            *KEYS, pl.col("_who").alias("prev_owner_id"), pl.col("_when").alias("prev_owner_at")
        )
    )
    return (
        base.join(previous, on=KEYS, how="left")
        .select(*KEYS, "current_owner_id", "owned", "owned_since", "prev_owner_id", "prev_owner_at")
        .sort(KEYS)
    )
