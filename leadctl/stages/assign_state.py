"""What the distribution remembers between nights, as one small frame per as-of date.

Rows with record = "rep" hold each rep's cumulative assigned count and expected value, plus the
*balance* the value-balanced distribution compares (the same totals, halved every
`balance_half_life_days` so old nights weigh less and a returning rep is not flooded). Rows with
record = "team" hold the rep each team's round robin served last. A night reads the latest
snapshot strictly before its as-of date and writes its own, so re-running a night starts from
the same memory and cannot advance it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

STATE_SCHEMA = pl.Schema(
    {
        "record": pl.String,
        "team": pl.String,
        "rep_id": pl.String,
        "assigned_count": pl.Int64,
        "assigned_value": pl.Float64,
        "balance_count": pl.Float64,
        "balance_value": pl.Float64,
        "as_of": pl.Date,
    }
)
BALANCE_COLUMNS = ["rep_id", "assigned_count", "assigned_value", "balance_count", "balance_value"]


def empty_state() -> pl.DataFrame:
    return pl.DataFrame(schema=STATE_SCHEMA)


@dataclass
class Memory:
    """The previous snapshot, decayed to tonight: per-rep balances and round-robin pointers."""

    balance: pl.DataFrame  # BALANCE_COLUMNS
    pointers: dict[str, str]


def carry_over(prior: pl.DataFrame, as_of: date, half_life_days: float) -> Memory:
    """Read a snapshot (any earlier as-of) and decay its balances to `as_of`."""
    prior = prior.select(list(STATE_SCHEMA)).cast(STATE_SCHEMA)
    reps = prior.filter(pl.col("record") == "rep")
    days = (pl.lit(as_of, dtype=pl.Date) - pl.col("as_of")).dt.total_days().clip(lower_bound=0)
    factor = pl.lit(0.5).pow(days.cast(pl.Float64) / half_life_days)
    balance = reps.select(
        "rep_id",
        "assigned_count",
        "assigned_value",
        (pl.col("balance_count") * factor).alias("balance_count"),
        (pl.col("balance_value") * factor).alias("balance_value"),
    ).sort("rep_id")
    teams = prior.filter(pl.col("record") == "team").sort("team")
    pointers = dict(zip(teams["team"].to_list(), teams["rep_id"].to_list(), strict=True))
    return Memory(balance=balance, pointers=pointers)


def next_state(
    memory: Memory,
    roster: pl.DataFrame,
    tonight: pl.DataFrame,
    pointers: dict[str, str],
    as_of: date,
) -> pl.DataFrame:
    """Tonight's snapshot: every rep of the roster or of the old memory, and every pointer.

    `roster` carries the balances after tonight's distribution (rep_id, balance_count,
    balance_value); `tonight` is rep_id, n (units), value.
    """
    totals = (
        memory.balance.select("rep_id", "assigned_count", "assigned_value")
        .join(tonight.select("rep_id", "n", "value"), on="rep_id", how="full", coalesce=True)
        .select(
            "rep_id",
            (pl.col("assigned_count").fill_null(0) + pl.col("n").fill_null(0))
            .cast(pl.Int64)
            .alias("assigned_count"),
            (pl.col("assigned_value").fill_null(0.0) + pl.col("value").fill_null(0.0)).alias(
                "assigned_value"
            ),
        )
    )
    balances = pl.concat(
        [
            roster.select("rep_id", "balance_count", "balance_value"),
            memory.balance.join(roster.select("rep_id"), on="rep_id", how="anti").select(
                "rep_id", "balance_count", "balance_value"
            ),
        ]
    )
    reps = (
        balances.join(totals, on="rep_id", how="full", coalesce=True)
        .with_columns(
            pl.lit("rep").alias("record"),
            pl.lit(None, dtype=pl.String).alias("team"),
            pl.col("assigned_count").fill_null(0),
            pl.col("assigned_value").fill_null(0.0),
            pl.col("balance_count").fill_null(0.0),
            pl.col("balance_value").fill_null(0.0),
            pl.lit(as_of, dtype=pl.Date).alias("as_of"),
        )
        .select(list(STATE_SCHEMA))
    )
    merged = {**memory.pointers, **pointers}
    teams = pl.DataFrame(
        {"team": list(merged), "rep_id": list(merged.values())},
        schema={"team": pl.String, "rep_id": pl.String},
    ).with_columns(pl.lit("team").alias("record"), pl.lit(as_of, dtype=pl.Date).alias("as_of"))
    teams = teams.with_columns(
        pl.lit(None, dtype=pl.Int64).alias("assigned_count"),
        pl.lit(None, dtype=pl.Float64).alias("assigned_value"),
        pl.lit(None, dtype=pl.Float64).alias("balance_count"),
        pl.lit(None, dtype=pl.Float64).alias("balance_value"),
    ).select(list(STATE_SCHEMA))
    return pl.concat([reps.cast(STATE_SCHEMA), teams.cast(STATE_SCHEMA)]).sort(
        ["record", "team", "rep_id"], nulls_last=True
    )
