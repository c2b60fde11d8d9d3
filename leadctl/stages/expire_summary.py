"""The expire summary: counts per team and rep for the console, `--json` and the manifest."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from leadctl.stages.expire_common import NO_REP, NO_TEAM
from leadctl.stages.expire_rules import RULE_ORDER

METRICS = [
    *(f"expired_{rule}" for rule in RULE_ORDER),
    "feedback_recycle",
    "feedback_disqualify",
    "sla_breaches",
    "persistence_breaches",
    "zombies",
    "missing_reason",
    "unknown_reason",
    "data_fix",
    "suppressions",
    "illegal_transitions",
    "reassign",
]


def _metric_rows(frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """One row per counted item: rep_id, team, metric."""
    rule = pl.col("rule")
    parts = [
        frames["stage_updates"].select(
            pl.col("owner_id").alias("rep_id"),
            "team",
            pl.when(rule.is_in(RULE_ORDER))
            .then(pl.lit("expired_") + rule)
            .otherwise(rule)
            .alias("metric"),
        ),
        frames["sla_breaches"].select(
            pl.col("owner_id").alias("rep_id"), "team", pl.lit("sla_breaches").alias("metric")
        ),
        frames["persistence_breaches"].select(
            "rep_id", "team", pl.lit("persistence_breaches").alias("metric")
        ),
        frames["zombies"].select(
            pl.col("owner_id").alias("rep_id"), "team", pl.lit("zombies").alias("metric")
        ),
        frames["feedback_issues"].select("rep_id", "team", pl.col("issue").alias("metric")),
        frames["suppression"].select(
            pl.col("owner_id").alias("rep_id"), "team", pl.lit("suppressions").alias("metric")
        ),
        frames["illegal_transitions"].select(
            pl.col("changed_by").alias("rep_id"),
            "team",
            pl.lit("illegal_transitions").alias("metric"),
        ),
        frames["reassign"].select(
            pl.col("previous_owner_id").alias("rep_id"), "team", pl.lit("reassign").alias("metric")
        ),
    ]
    return pl.concat([p.cast(pl.String) for p in parts]).with_columns(
        pl.col("rep_id").fill_null(NO_REP).replace("", NO_REP),
        pl.col("team").fill_null(NO_TEAM).replace("", NO_TEAM),
    )


def _zeroes() -> dict[str, int]:
    return dict.fromkeys(METRICS, 0)


def summarize(frames: dict[str, pl.DataFrame], as_of: date) -> dict[str, Any]:
    """Totals, counts per team and per rep within the team, and row counts per output file.

    Items are attributed to the owner (expirations, SLA breaches, zombies, suppressions,
    reassignments) or to the rep who logged the stage change (feedback issues, persistence
    breaches, illegal transitions).
    """
    counts = (
        _metric_rows(frames)
        .group_by("team", "rep_id", "metric")
        .agg(pl.len().cast(pl.Int64).alias("n"))
        .with_columns(pl.col("metric").cast(pl.Enum(METRICS)))
    )
    # One row per team x rep with a column per metric (0 where none), in team, rep order.
    wide = (
        counts.pivot(on="metric", index=["team", "rep_id"], values="n")
        .with_columns(
            pl.lit(0, dtype=pl.Int64).alias(m)
            for m in METRICS
            if m not in counts.get_column("metric").cast(pl.String).unique().to_list()
        )
        .select("team", "rep_id", *[pl.col(m).fill_null(0) for m in METRICS])
        .sort("team", "rep_id")
    )
    team_sums = wide.group_by("team").agg(pl.col(METRICS).sum()).sort("team")
    totals = _zeroes()
    totals.update(wide.select(pl.col(METRICS).sum()).row(0, named=True))
    teams: dict[str, dict[str, Any]] = {
        row.pop("team"): {"totals": row, "reps": {}} for row in team_sums.to_dicts()
    }
    for row in wide.to_dicts():  # one row per team x rep (thousands, not items)
        team = teams[row.pop("team")]
        team["reps"][row.pop("rep_id")] = row
    expired = sum(totals[f"expired_{rule}"] for rule in RULE_ORDER)
    return {
        "as_of": as_of.isoformat(),
        "expired": expired,
        "totals": totals,
        "teams": teams,
        "rows": {name: frame.height for name, frame in frames.items()},
    }
