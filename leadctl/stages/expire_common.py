"""Shared building blocks of `expire`: the clock, history per group, owners and touch counts.

Time comes only from `as_of`: whole days are counted from midnight UTC of as-of (as
`current_stages` does), and everything logged on the as-of day itself is known (events before
the next midnight).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import polars as pl

UTC_DT = pl.Datetime("us", "UTC")
PAIR = ["lead_id", "product_group"]
# expire numbers the rows of its per-pair state once (UInt32); frames derived from the state
# carry the number, and joins between two such frames use it instead of the two strings.
ROW = "_row"
NO_TEAM = "(no team)"
NO_REP = "(unowned)"

# The assignment log the assign stage appends to (state/assignments_log/<as-of>.parquet).
ASSIGNMENT_SCHEMA: dict[str, pl.DataType] = {
    "lead_id": pl.String(),
    "product_group": pl.String(),
    "owner_id": pl.String(),
    "team": pl.String(),
    "sla_tier": pl.String(),
    "action": pl.String(),
    "assigned_at": UTC_DT,
    "sla_due_at": UTC_DT,
    # Persistence promised at assignment time (optional: null when the log lacks them).
    "min_attempts": pl.Int64(),
    "persistence_days": pl.Int64(),
    # The night that logged the row (from the file name <date>.parquet).
    "logged_on": pl.Date(),
}


def row_of(frame: pl.LazyFrame) -> list[str]:
    """[ROW] when `frame` carries the state's row number, else []."""
    return [ROW] if ROW in frame.collect_schema() else []


def pair_key(*frames: pl.LazyFrame) -> list[str]:
    """The join key between frames derived from the same state: its row number when every
    frame carries it (one integer, one row per pair), else the (lead_id, product_group)."""
    return [ROW] if all(row_of(f) for f in frames) else PAIR


def empty_assignments() -> pl.LazyFrame:
    """An assignment log with no rows (no assign run yet)."""
    return pl.DataFrame(schema=ASSIGNMENT_SCHEMA).lazy()


def reference(as_of: date) -> datetime:
    """Midnight UTC of as-of: the point whole days are counted back from."""
    return datetime.combine(as_of, time(), tzinfo=UTC)


def cutoff(as_of: date) -> datetime:
    """Midnight UTC after as-of: events before it are known on the night of as-of."""
    return reference(as_of) + timedelta(days=1)


def days_since(col: str | pl.Expr, as_of: date) -> pl.Expr:
    """Whole days from a timestamp to midnight of as-of (0 for anything on the as-of day)."""
    expr = pl.col(col) if isinstance(col, str) else col
    return (pl.lit(reference(as_of), dtype=UTC_DT) - expr).dt.total_days().clip(lower_bound=0)


def within_lookback(col: str, as_of: date, lookback_days: int) -> pl.Expr:
    """Rows dated within the last `lookback_days` (0: the whole history)."""
    if lookback_days <= 0:
        return pl.lit(True)
    start = reference(as_of) - timedelta(days=lookback_days)
    return pl.col(col) >= pl.lit(start, dtype=UTC_DT)


def norm_text(expr: pl.Expr) -> pl.Expr:
    """Reasons compare case- and space-insensitively ("not a fit " == "Not a fit")."""
    return expr.str.strip_chars().str.replace_all(r"\s+", " ").str.to_lowercase()


def norm_py(text: str) -> str:
    """`norm_text` for a config value."""
    return " ".join(text.split()).lower()


def expand_history(history: pl.LazyFrame, product_groups: list[str], as_of: date) -> pl.LazyFrame:
    """Stage events per (lead, product group) known on as-of; group-less rows apply to all groups.

    The same expansion `current_stages` uses, so events and current stages agree.
    """
    groups = pl.DataFrame({"product_group": product_groups}).lazy()
    cols = ["lead_id", "product_group", "stage", "changed_at", "changed_by", "reason"]
    known = history.filter(pl.col("changed_at") < pl.lit(cutoff(as_of), dtype=UTC_DT))
    with_group = known.filter(pl.col("product_group").is_in(product_groups)).select(cols)
    general = (
        known.filter(pl.col("product_group").is_null())
        .drop("product_group")
        .join(groups, how="cross")
        .select(cols)
    )
    return pl.concat([with_group, general]).sort([*PAIR, "changed_at", "stage"])


def latest_assignments(assignments: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """The latest assignment per (lead, group) made before the end of as-of."""
    return (
        assignments.filter(pl.col("assigned_at") < pl.lit(cutoff(as_of), dtype=UTC_DT))
        .sort([*PAIR, "assigned_at", "logged_on", "owner_id"], nulls_last=False)
        .group_by(PAIR, maintain_order=True)
        .last()
        .select(*PAIR, "owner_id", "team", "sla_tier", "assigned_at", "sla_due_at", "logged_on")
    )


def rep_directory(reps: pl.LazyFrame) -> pl.LazyFrame:
    """rep_id → rep_team, escalate_to (own manager, else the team's usual manager)."""
    team_manager = (
        reps.filter(pl.col("team").is_not_null() & pl.col("manager_id").is_not_null())
        .group_by("team", "manager_id")
        .agg(pl.len().alias("_n"))
        .sort(["team", "_n", "manager_id"], descending=[False, True, False])
        .group_by("team", maintain_order=True)
        .first()
        .select("team", pl.col("manager_id").alias("_team_manager"))
    )
    return (
        reps.select("rep_id", "team", "manager_id")
        .join(team_manager, on="team", how="left")
        .select(
            "rep_id",
            pl.col("team").alias("rep_team"),
            pl.coalesce("manager_id", "_team_manager").alias("escalate_to"),
        )
    )


def closer_columns(owner: str, owner_team: str) -> list[pl.Expr]:
    """rep_id and team answering for a stage change: `changed_by` when it is a known rep
    (`closer_is_rep`), else the owner (a CRM integration user answers for nothing)."""
    known = pl.col("closer_is_rep")
    return [
        pl.when(known).then(pl.col("changed_by")).otherwise(pl.col(owner)).alias("rep_id"),
        pl.when(known)
        .then(pl.coalesce("closer_team", owner_team))
        .otherwise(pl.col(owner_team))
        .alias("team"),
    ]


def known_touches(touches: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Sales touches logged before the end of as-of."""
    return touches.filter(pl.col("occurred_at") < pl.lit(cutoff(as_of), dtype=UTC_DT)).select(
        "lead_id", "rep_id", "channel", "occurred_at"
    )


def touches_for(frame: pl.LazyFrame, touches: pl.LazyFrame, touches_by: str) -> pl.LazyFrame:
    """Rows of `frame` (with lead_id and owner_id) joined to the touches that count for them.

    touches_by "anyone": every touch on the lead; "owner": only touches by the row's owner_id.
    """
    joined = frame.join(touches, on="lead_id", how="inner")
    if touches_by == "owner":
        joined = joined.filter(pl.col("rep_id") == pl.col("owner_id"))
    return joined


def touch_stats(
    state: pl.LazyFrame, touches: pl.LazyFrame, touches_by: str, as_of: date, window_days: int
) -> pl.LazyFrame:
    """(lead, group) → last_touch_at and touches_in_window (touches in the current stage during
    the last `window_days`, for the zombie check). Pairs without touches get null / 0."""
    start = pl.lit(reference(as_of) - timedelta(days=window_days), dtype=UTC_DT)
    window_start = pl.max_horizontal(pl.col("entered_at"), start)
    counted = touches_for(state.select(*PAIR, "owner_id", "entered_at"), touches, touches_by)
    stats = counted.group_by(PAIR).agg(
        pl.col("occurred_at").max().alias("last_touch_at"),
        (pl.col("occurred_at") >= window_start).sum().cast(pl.Int64).alias("touches_in_window"),
    )
    return (
        state.select(PAIR)
        .join(stats, on=PAIR, how="left")
        .with_columns(pl.col("touches_in_window").fill_null(0))
    )


def with_touch_stats(
    state: pl.DataFrame,
    touches: pl.DataFrame,
    touches_by: str,
    as_of: date,
    window_days: int,
    *,
    stages: list[str] | None = None,
) -> pl.DataFrame:
    """`state` (one row per pair, with owner_id and entered_at) plus `touch_stats`' columns,
    without joining every touch to every pair of its lead: the last touch is taken per lead
    (per lead and rep for touches_by "owner") before the join, and only the touches of the
    last `window_days` are joined to count the touches in the window.

    With `stages`, only pairs in those stages get their counts (the others: null / 0), and
    only their leads' touches are read.
    """
    if stages is not None:
        wanted = pl.col("stage").is_in(stages).fill_null(False)
        rest = state.filter(~wanted).with_columns(
            pl.lit(None, dtype=UTC_DT).alias("last_touch_at"),
            pl.lit(0, dtype=pl.Int64).alias("touches_in_window"),
        )
        some = state.filter(wanted)
        touches = touches.join(some.select("lead_id").unique(), on="lead_id", how="semi")
        counted = with_touch_stats(some, touches, touches_by, as_of, window_days)
        return pl.concat([counted, rest], how="vertical_relaxed")
    start = pl.lit(reference(as_of) - timedelta(days=window_days), dtype=UTC_DT)
    keys = ["lead_id"] if touches_by != "owner" else ["lead_id", "rep_id"]
    left_on, right_on = ["lead_id"], ["lead_id"]
    if touches_by == "owner":
        left_on, right_on = ["lead_id", "owner_id"], ["lead_id", "rep_id"]
    last = touches.group_by(keys).agg(pl.col("occurred_at").max().alias("last_touch_at"))
    recent = touches.filter(pl.col("occurred_at") >= start).select(*keys, "occurred_at")
    window_start = pl.max_horizontal(pl.col("entered_at"), start)
    counts = (
        state.select(*PAIR, "owner_id", "entered_at")
        .join(recent, how="inner", left_on=left_on, right_on=right_on)
        .filter(pl.col("occurred_at") >= window_start)
        .group_by(PAIR)
        .agg(pl.len().cast(pl.Int64).alias("touches_in_window"))
    )
    return (
        state.join(last, how="left", left_on=left_on, right_on=right_on)
        .join(counts, on=PAIR, how="left")
        .with_columns(pl.col("touches_in_window").fill_null(0))
    )
