"""Share one pool of routing units among the reps who can take them, without a loop over leads.

Every rep offers one *slot* per lead it can still take (remaining capacity). Each distribution
mode is an ordering of those slots; the first n slots go to the n units in priority order:

- round_robin: weighted round robin (a rep of weight w appears w times per cycle), starting
  after the rep served last (state carried across nights); reps at capacity drop out.
- load_balanced: water-filling on open load / capacity, so the least-loaded rep is served next.
- value_balanced: the number of units per rep comes from water-filling on expected value
  (carried-over balance + tonight), then each rep's picks are spread evenly over the units
  sorted by value, so high-propensity leads are spread rather than stacked on one rep.

A unit may hold several leads (account mode, one owner per lead); such a unit needs room for
all of them, so a few rounds re-offer what did not fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

Mode = str  # "round_robin" | "load_balanced" | "value_balanced"
_MAX_ROUNDS = 8

POOL_REP_COLUMNS = [
    "rep_id",
    "remaining",
    "weight",
    "open_leads",
    "capacity",
    "balance_value",
    "balance_count",
]


@dataclass
class Shared:
    """The outcome of one pool: unit_id → rep_id, and the rep served last (round-robin state)."""

    placed: pl.DataFrame  # unit_id, rep_id
    last_rep: str | None


def _rotation(reps: pl.DataFrame, last_rep: str | None) -> pl.DataFrame:
    """reps sorted by id with `rot`: 0 for the rep after `last_rep`, then onwards (wrapping)."""
    reps = reps.sort("rep_id").with_row_index("_pos")
    m = reps.height
    if last_rep is None or m == 0:
        start = 0
    else:
        after = reps.filter(pl.col("rep_id") > last_rep)
        start = int(after["_pos"][0]) if after.height else 0
    return reps.with_columns(((pl.col("_pos").cast(pl.Int64) - start) % m).alias("rot"))


def _slots(reps: pl.DataFrame, n: int) -> pl.DataFrame:
    """One row per (rep, k) for k < min(remaining, n): the rep's k-th slot tonight."""
    return (
        reps.filter(pl.col("remaining") > 0)
        .with_columns(pl.int_ranges(0, pl.min_horizontal("remaining", pl.lit(n))).alias("k"))
        .explode("k")
        .with_columns(pl.col("k").cast(pl.Int64))
    )


def _ordered_slots(reps: pl.DataFrame, n: int, mode: Mode, mean_value: float) -> pl.DataFrame:
    slots = _slots(reps, n)
    if mode == "round_robin":
        w = pl.col("weight").round(0).clip(lower_bound=1).cast(pl.Int64)
        keys = [pl.col("k") // w, pl.col("k") % w, pl.col("rot")]
    elif mode == "load_balanced":
        keys = [
            (pl.col("open_leads") + pl.col("k") + 1) / pl.col("capacity").clip(lower_bound=1),
            pl.col("rot"),
        ]
    else:
        unit = mean_value if mean_value > 0 else 1.0
        keys = [
            (pl.col("balance_value") + (pl.col("k") + 0.5) * unit) / pl.col("weight"),
            (pl.col("balance_count") + pl.col("k")) / pl.col("weight"),
            pl.col("rot"),
        ]
    names = [f"_key{i}" for i in range(len(keys))]
    return (
        slots.with_columns([k.alias(name) for k, name in zip(keys, names, strict=True)])
        .sort([*names, "rep_id", "k"])
        .head(n)
    )


def _interleave(first: pl.DataFrame, reps: pl.DataFrame) -> pl.DataFrame:
    """Order the chosen slots so each rep's picks are spread evenly over the value-sorted units.

    A rep with n slots picks at fractions (j + 0.5) / n of the sequence, so every rep samples the
    whole value range in proportion to its count (its total lands near count × mean value, the
    level step 1 balanced). Ties alternate direction by pick number, poorest rep first on even
    picks, so no rep is always first.
    """
    counts = first.group_by("rep_id").agg(pl.len().alias("_n"))
    order = (
        reps.join(counts, on="rep_id")
        .with_columns((pl.col("balance_value") / pl.col("weight")).alias("_level"))
        .sort("_level", "rot", "rep_id")
        .with_row_index("_p")
        .with_columns(pl.int_ranges(0, pl.col("_n")).alias("_j"))
        .explode("_j")
    )
    return order.with_columns(
        ((pl.col("_j").cast(pl.Float64) + 0.5) / pl.col("_n")).alias("_at"),
        pl.when(pl.col("_j") % 2 == 0)
        .then(pl.col("_p").cast(pl.Int64))
        .otherwise(-pl.col("_p").cast(pl.Int64))
        .alias("_side"),
    ).sort("_at", "_side")


def _one_round(
    units: pl.DataFrame, reps: pl.DataFrame, mode: Mode
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Place as many units as the slots allow; returns (placed with n_leads, the chosen slots)."""
    n = units.height
    mean_value = float(units["value"].fill_null(0.0).sum()) / max(units.height, 1)
    chosen = _ordered_slots(reps, n, mode, mean_value)
    seq = _interleave(chosen, reps) if mode == "value_balanced" else chosen
    seq = seq.select("rep_id").with_row_index("_i")
    placed = units.with_row_index("_i").join(seq, on="_i", how="inner").sort("_i")
    return placed, chosen


def distribute(units: pl.DataFrame, reps: pl.DataFrame, mode: Mode, last_rep: str | None) -> Shared:
    """Assign `units` (unit_id, value, n_leads; in priority order) to `reps` (POOL_REP_COLUMNS).

    No rep receives more leads than its `remaining`; units that find no room are left out of
    `placed` (the caller sends them to overflow).
    """
    reps = _rotation(reps.select(POOL_REP_COLUMNS), last_rep)
    todo = units.select("unit_id", "value", "n_leads")
    placed_parts: list[pl.DataFrame] = []
    served_last = last_rep
    for _ in range(_MAX_ROUNDS):
        if todo.height == 0 or reps.filter(pl.col("remaining") > 0).height == 0:
            break
        placed, chosen = _one_round(todo, reps, mode)
        if chosen.height:
            served_last = str(chosen["rep_id"][-1])
        # A unit of several leads fits only if the rep's running total stays within remaining.
        placed = (
            placed.join(reps.select("rep_id", "remaining"), on="rep_id")
            .with_columns(pl.col("n_leads").cum_sum().over("rep_id", order_by="_i").alias("_total"))
            .filter(pl.col("_total") <= pl.col("remaining"))
        )
        if placed.height == 0:
            break
        placed_parts.append(placed.select("unit_id", "rep_id"))
        took = placed.group_by("rep_id").agg(
            pl.col("n_leads").sum().alias("_leads"),
            pl.col("value").sum().alias("_value"),
            pl.len().alias("_units"),
        )
        reps = (
            reps.join(took, on="rep_id", how="left")
            .with_columns(
                (pl.col("remaining") - pl.col("_leads").fill_null(0)).alias("remaining"),
                (pl.col("open_leads") + pl.col("_leads").fill_null(0)).alias("open_leads"),
                (pl.col("balance_value") + pl.col("_value").fill_null(0.0)).alias("balance_value"),
                (pl.col("balance_count") + pl.col("_units").fill_null(0)).alias("balance_count"),
            )
            .drop("_leads", "_value", "_units")
        )
        todo = todo.join(placed.select("unit_id"), on="unit_id", how="anti")
    schema = pl.Schema({"unit_id": pl.String, "rep_id": pl.String})
    placed_all = pl.concat(placed_parts) if placed_parts else pl.DataFrame(schema=schema)
    return Shared(placed=placed_all.cast(schema), last_rep=served_last)
