"""Current stage of each rated row, straight from the stage history (no leads x groups grid).

`lifecycle.current_stages` builds one row per lead and product group (a cross join of every
lead with every group, joined and sorted), and rate then joins that grid back onto its rows.
Rate only needs the stage of the rows it rates, so this module derives the same values for
exactly those rows: the latest history row per (lead, group), the latest row without a group
per lead (it applies to every group), and the lead's own stage and created_at as the fallback.

Same rules as `current_stages` (tests compare the two): history after `as_of` is ignored; the
latest change wins, ties on the time broken by the stage name; a group without history of a
lead that has history elsewhere is at the initial stage, a lead without any history takes its
own `stage` column; both count as entered at the lead's created_at. A row whose lead is not in
the leads table (or has no product group) gets no stage (rate then treats it as the initial one).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from leadctl.config.lifecycle import LifecycleConfig
from leadctl.stages.lifecycle import scan_identity, shared

UTC = pl.Datetime("us", "UTC")
KEYS = ["lead_id", "product_group"]
# The columns `rate.prepare` adds from the current stage.
STAGE_COLUMNS = ["current_stage", "_entered_at", "_days_in_stage", "_stage_reason"]


def _latest(events: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """The last event per key by (changed_at, stage); equal times and stages: the later row."""
    return events.sort(["changed_at", "stage"], maintain_order=True, nulls_last=False).unique(
        keys, keep="last", maintain_order=False
    )


def history_latest(stage_history: pl.LazyFrame, as_of: date) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(latest row per lead and group: KEYS + _s_*, latest row without a group per lead:
    lead_id + _g_*), from history up to the end of as_of."""
    cutoff = pl.lit(as_of).cast(UTC) + pl.duration(days=1)
    hist = (
        stage_history.filter(pl.col("changed_at") < cutoff)
        .select(
            pl.col("lead_id").cast(pl.String),
            pl.col("product_group").cast(pl.String),
            pl.col("stage").cast(pl.String),
            pl.col("changed_at").cast(UTC),
            pl.col("reason").cast(pl.String),
        )
        .filter(pl.col("lead_id").is_not_null())
    )
    by_group = _latest(hist.filter(pl.col("product_group").is_not_null()), KEYS).select(
        *KEYS,
        pl.col("stage").alias("_s_stage"),
        pl.col("changed_at").alias("_s_at"),
        pl.col("reason").alias("_s_reason"),
    )
    general = _latest(hist.filter(pl.col("product_group").is_null()), ["lead_id"]).select(
        "lead_id",
        pl.col("stage").alias("_g_stage"),
        pl.col("changed_at").alias("_g_at"),
        pl.col("reason").alias("_g_reason"),
    )
    return by_group, general


def latest_frames(stage_history: pl.LazyFrame, as_of: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`history_latest`, collected; inside `leadctl run` computed once for rate and assign.

    Both read the canonical stage history with the same as-of, so the second stage reuses the
    first one's frames (about 2 CPU-s at 1 M leads; ~55 MB held until the run ends).
    """
    identity = scan_identity(stage_history)
    key = None if identity is None else ("history_latest", identity, as_of)

    def compute() -> tuple[pl.DataFrame, pl.DataFrame]:
        # Tried: the latest per pair by `lifecycle.order_pairs` (hash order) instead of the
        # unique on the two string keys: 3.5 against 1.6-2.0 CPU-s at 3.9 M rows; kept this.
        by_group, general = pl.collect_all(history_latest(stage_history, as_of), engine="in-memory")
        return by_group, general

    return shared(key, compute)


def lead_frame(
    leads: pl.LazyFrame,
    stage_history: pl.LazyFrame,
    lifecycle: LifecycleConfig,
    as_of: date,
    extra: list[pl.Expr] | None = None,
    latest: tuple[pl.DataFrame, pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """`lead_stages` with `extra`, collected, in the order of the leads table (`latest`: the
    caller's `latest_frames`, else they are computed here).

    The part without `extra` is shared inside `leadctl run` (rate and assign need it for the
    same leads, history and as-of: ~1 CPU-s at 1 M leads, ~50 MB held until the run ends);
    `extra` (rate's override flags, assign's owner) is read from the leads table on its own and
    put beside it (same file, same row order; a join if the ids do not line up).
    """
    ids = (scan_identity(leads), scan_identity(stage_history))
    key = None if None in ids else ("lead_frame", *ids, as_of, lifecycle.initial_stage)

    def compute() -> pl.DataFrame:
        by_group, general = latest or latest_frames(stage_history, as_of)
        return lead_stages(leads, by_group.lazy(), general.lazy(), lifecycle).collect(
            engine="in-memory"
        )

    base = shared(key, compute)
    if not extra:
        return base
    more = leads.select(pl.col("lead_id").cast(pl.String).alias("_lead_key"), *extra).collect(
        engine="in-memory"
    )
    if more.get_column("_lead_key").equals(base.get_column("lead_id"), check_names=False):
        return base.hstack(more.drop("_lead_key").get_columns())
    return base.join(
        more.unique("_lead_key", keep="first", maintain_order=True),
        left_on="lead_id",
        right_on="_lead_key",
        how="left",
        nulls_equal=True,
        maintain_order="left",
    )


def lead_stages(
    leads: pl.LazyFrame,
    by_group: pl.LazyFrame,
    general: pl.LazyFrame,
    lifecycle: LifecycleConfig,
    extra: list[pl.Expr] | None = None,
) -> pl.LazyFrame:
    """Per lead of the leads table, in its order: what its rows' stages need (LEAD_COLUMNS),
    plus `extra` expressions evaluated on the leads table (rate joins everything per lead at
    once)."""
    with_history = (
        pl.concat([by_group.select("lead_id"), general.select("lead_id")])
        .unique()
        .with_columns(pl.lit(True).alias("_has_history"))
    )
    return (
        leads.select(
            pl.col("lead_id").cast(pl.String),
            pl.col("stage").cast(pl.String).fill_null(lifecycle.initial_stage).alias("_lead_stage"),
            pl.col("created_at").cast(UTC).alias("_created_at"),
            pl.lit(True).alias("_in_leads"),
            *(extra or []),
        )
        .join(with_history, on="lead_id", how="left", maintain_order="left")
        .join(general, on="lead_id", how="left", maintain_order="left")
        .with_columns(pl.col("_has_history").fill_null(False))
    )


LEAD_COLUMNS = [
    "_lead_stage",
    "_created_at",
    "_in_leads",
    "_has_history",
    "_g_stage",
    "_g_at",
    "_g_reason",
]
GROUP_COLUMNS = ["_s_stage", "_s_at", "_s_reason"]


def stage_steps(lifecycle: LifecycleConfig, as_of: date) -> list[list[pl.Expr]]:
    """Two `with_columns` steps turning LEAD_COLUMNS + GROUP_COLUMNS into STAGE_COLUMNS."""
    # The general row wins where it is later (same time: the later stage name, as a sort would).
    general_wins = pl.col("_g_at").is_not_null() & (
        pl.col("_s_at").is_null()
        | (pl.col("_g_at") > pl.col("_s_at"))
        | (
            (pl.col("_g_at") == pl.col("_s_at"))
            # A sort puts a missing stage first, so a named stage comes later.
            & (pl.col("_g_stage") > pl.col("_s_stage")).fill_null(
                pl.col("_s_stage").is_null() & pl.col("_g_stage").is_not_null()
            )
        )
    )
    known = pl.col("_in_leads").fill_null(False) & pl.col("product_group").is_not_null()
    fallback = (
        pl.when(pl.col("_has_history"))
        .then(pl.lit(lifecycle.initial_stage))
        .otherwise(pl.col("_lead_stage"))
    )
    entered = pl.when(general_wins).then(pl.col("_g_at")).otherwise(pl.col("_s_at"))
    as_of_dt = pl.lit(as_of).cast(UTC)
    return [
        [
            pl.when(known)
            .then(
                pl.when(general_wins)
                .then(pl.col("_g_stage"))
                .otherwise(pl.col("_s_stage"))
                .fill_null(fallback)
            )
            .alias("current_stage"),
            pl.when(known).then(entered.fill_null(pl.col("_created_at"))).alias("_entered_at"),
        ],
        [
            (as_of_dt - pl.col("_entered_at"))
            .dt.total_days()
            .clip(lower_bound=0)
            .alias("_days_in_stage"),
            pl.when(known)
            .then(
                pl.when(general_wins)
                .then(pl.col("_g_reason"))
                .when(pl.col("_s_at").is_not_null())
                .then(pl.col("_s_reason"))
            )
            .alias("_stage_reason"),
        ],
    ]


def stages_for(
    rows: pl.LazyFrame,
    latest: pl.LazyFrame,
    per_lead: pl.LazyFrame | None,
    lifecycle: LifecycleConfig,
    as_of: date,
) -> pl.LazyFrame:
    """`rows` plus STAGE_COLUMNS, from `history_latest`'s latest per group and `lead_stages`
    (per_lead None: the rows carry LEAD_COLUMNS already)."""
    out = rows.join(latest, on=KEYS, how="left")
    if per_lead is not None:
        out = out.join(per_lead, on="lead_id", how="left")
    for step in stage_steps(lifecycle, as_of):
        out = out.with_columns(step)
    return out.drop(*GROUP_COLUMNS, *LEAD_COLUMNS)


def with_current_stages(
    rows: pl.LazyFrame,
    stage_history: pl.LazyFrame,
    leads: pl.LazyFrame,
    lifecycle: LifecycleConfig,
    as_of: date,
) -> pl.LazyFrame:
    """`rows` (lead_id, product_group as String) plus STAGE_COLUMNS.

    Equal, for every row, to joining `lifecycle.current_stages(...)` on (lead_id, product_group)
    and renaming as `rate.prepare` does, without `current_stage` filled in (prepare fills it).
    """
    by_group, general = history_latest(stage_history, as_of)
    per_lead = lead_stages(leads, by_group, general, lifecycle)
    return stages_for(rows, by_group, per_lead, lifecycle, as_of)
