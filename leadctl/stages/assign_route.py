"""The routing loop: rules in order over the pending units, booking capacity as owners are found.

Owner rules (account owner, continuity) name one person; a territory rule picks a team per unit,
groups the units by the exact set of reps who may take them (a pool) and lets the team's
distribution share each pool. Whatever matched a team but found no rep goes to overflow with the
reason; units no rule matched go to overflow too. Never dropped, never handed to a default user.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from leadctl.config.assign import AssignConfig, RoutingRule
from leadctl.stages.assign_distribute import distribute
from leadctl.stages.assign_rules import (
    EVAL_SCHEMA,
    filter_text,
    first_team,
    owner_rule,
    pool_eligibility,
    rule_applies,
    territory_text,
)

REASON_TEXT = {
    "no_rep_in_team": "has no members",
    "no_rep_covers_territory": "has no rep covering this territory and product group",
    "all_reps_inactive": "has only inactive reps covering this territory",
    "all_reps_out_of_office": "has every rep covering this territory out of office",
    "all_reps_at_capacity": "has every rep covering this territory at capacity",
    "only_previous_owner": "has no rep covering this territory but the released previous owner",
}


def consume(roster: pl.DataFrame, taken: pl.DataFrame) -> pl.DataFrame:
    """Book units (owner_id, n_leads, value) against their reps' capacity and balance."""
    took = taken.group_by("owner_id").agg(
        pl.col("n_leads").sum().alias("_leads"),
        pl.col("value").sum().alias("_value"),
        pl.col("n_leads").sum().cast(pl.Float64).alias("_count"),
    )
    return (
        roster.join(took, left_on="rep_id", right_on="owner_id", how="left")
        .with_columns(
            (pl.col("remaining") - pl.col("_leads").fill_null(0))
            .clip(lower_bound=0)
            .alias("remaining"),
            (pl.col("open_leads") + pl.col("_leads").fill_null(0)).alias("open_leads"),
            (pl.col("balance_value") + pl.col("_value").fill_null(0.0)).alias("balance_value"),
            (pl.col("balance_count") + pl.col("_count").fill_null(0.0)).alias("balance_count"),
            (pl.col("tonight_leads") + pl.col("_leads").fill_null(0)).alias("tonight_leads"),
            (pl.col("tonight_value") + pl.col("_value").fill_null(0.0)).alias("tonight_value"),
        )
        .drop("_leads", "_value", "_count")
        .sort("rep_id")
    )


@dataclass
class Routing:
    roster: pl.DataFrame
    members: pl.DataFrame
    homes: pl.DataFrame
    pointers: dict[str, str]


def _territory(
    units: pl.DataFrame, rule: RoutingRule, ctx: Routing, cfg: AssignConfig
) -> pl.DataFrame:
    """Pick a team per unit, then let the team's distribution pick the rep (or overflow)."""
    by_name = {t.name: t for t in cfg.teams}
    teams = [by_name[n] for n in rule.teams] if rule.teams else list(cfg.teams)
    with_team = units.with_columns(
        first_team(teams).alias("_team"), territory_text().alias("_where")
    )
    no_team = with_team.filter(pl.col("_team").is_null()).select(
        "unit_id",
        pl.lit(False).alias("matched"),
        pl.lit("not_matched").alias("outcome"),
        pl.lit(None, dtype=pl.String).alias("owner_id"),
        pl.lit(None, dtype=pl.String).alias("team"),
        pl.concat_str([pl.lit("no team matches "), pl.col("_where")]).alias("detail"),
        pl.lit(None, dtype=pl.String).alias("overflow_reason"),
    )
    parts = [no_team.cast(EVAL_SCHEMA)]
    pending = (
        with_team.filter(pl.col("_team").is_not_null())
        .rename({"_team": "team"})
        .with_columns(pl.col("team").alias("_home"), pl.lit("").alias("_tried"))
    )
    fallback = {t.name: t.overflow_to for t in cfg.teams}
    order = {t.name: i for i, t in enumerate(cfg.teams)}
    for hop in range(len(cfg.teams) + 1):
        if pending.height == 0:
            break
        placed, left = _place(pending, ctx, cfg, order)
        parts.extend(placed)
        nxt = {home: chain[hop] for home, chain in fallback.items() if len(chain) > hop}
        left = left.with_columns(
            pl.col("_home")
            .replace_strict(nxt, default=None, return_dtype=pl.String)
            .alias("_next"),
            pl.concat_str([pl.col("_tried"), pl.lit(", "), pl.col("team")]).alias("_tried"),
        )
        stop = left.filter(pl.col("_next").is_null())
        parts.append(_overflow(stop.with_columns(pl.col("_home").alias("team")), pl.col("_reason")))
        pending = (
            left.filter(pl.col("_next").is_not_null())
            .with_columns(pl.col("_next").alias("team"))
            .drop("_next", "_reason", "pool", "n_eligible", "no_rep_reason")
        )
    return pl.concat(parts)


def _place(
    matched: pl.DataFrame, ctx: Routing, cfg: AssignConfig, order: dict[str, int]
) -> tuple[list[pl.DataFrame], pl.DataFrame]:
    """Offer units to their `team`: pools of eligible reps, the team's distribution in each.

    Returns the assignment rows and the units left over, with `_reason`.
    """
    by_name = {t.name: t for t in cfg.teams}
    combo_cols = ["team", "product_group", "region", "country_code", "state_code"]
    combos = matched.select(combo_cols).unique()
    pools = pool_eligibility(combos, ctx.members, ctx.roster, cfg)
    matched = _without_excluded(
        matched.join(pools, on=combo_cols, how="left", nulls_equal=True).sort("_order")
    )
    # A pool is a long string (every eligible rep id): group and filter units by a small id of
    # it instead. The distinct pools come from the few combos and the few narrowed units.
    distinct = sorted(
        set(pools["pool"].drop_nulls().to_list())
        | set(matched.filter(pl.col("exclude_rep").is_not_null())["pool"].drop_nulls().to_list())
    )
    ids = {pool: i for i, pool in enumerate(distinct)}
    matched = _pool_ids(matched, pools, combo_cols, ids)
    leftovers = [
        matched.filter(pl.col("pool").is_null()).with_columns(
            pl.col("no_rep_reason").alias("_reason")
        )
    ]
    parts: list[pl.DataFrame] = []
    pool_list = (
        matched.filter(pl.col("_pool_id").is_not_null())
        .select("team", "_pool_id", "n_eligible")
        .unique()
        .with_columns(
            pl.col("team").replace_strict(order, return_dtype=pl.Int64).alias("_t"),
            pl.col("_pool_id")
            .replace_strict(list(ids.values()), list(ids), return_dtype=pl.String)
            .alias("pool"),
        )
        .sort("_t", "n_eligible", "pool")
    )
    via = (
        pl.when(pl.col("_home") != pl.col("team"))
        .then(pl.format(", overflow from {}", pl.col("_home")))
        .otherwise(pl.lit(""))
    )
    for team_name, pool, pool_id in pool_list.select("team", "pool", "_pool_id").rows():
        team = by_name[team_name]
        pool_units = matched.filter((pl.col("team") == team_name) & (pl.col("_pool_id") == pool_id))
        reps = ctx.roster.filter(pl.col("rep_id").is_in(pool.split(",")))
        shared = distribute(pool_units, reps, team.distribution, ctx.pointers.get(team_name))
        if shared.last_rep is not None:
            ctx.pointers[team_name] = shared.last_rep
        placed = pool_units.join(shared.placed, on="unit_id", how="inner").sort("_order")
        ctx.roster = consume(
            ctx.roster, placed.select(pl.col("rep_id").alias("owner_id"), "n_leads", "value")
        )
        parts.append(
            placed.select(
                "unit_id",
                pl.lit(True).alias("matched"),
                pl.lit("assigned").alias("outcome"),
                pl.col("rep_id").alias("owner_id"),
                "team",
                pl.format(
                    "team {} ({}{}): {}",
                    pl.col("team"),
                    pl.lit(team.distribution),
                    via,
                    pl.col("_where"),
                ).alias("detail"),
                pl.lit(None, dtype=pl.String).alias("overflow_reason"),
            ).cast(EVAL_SCHEMA)
        )
        left = pool_units.join(shared.placed, on="unit_id", how="anti").sort("_order")
        leftovers.append(left.with_columns(pl.lit("all_reps_at_capacity").alias("_reason")))
    rest = pl.concat(leftovers, how="vertical_relaxed").sort("_order").drop("_pool_id")
    return parts, rest


def _pool_ids(
    units: pl.DataFrame, pools: pl.DataFrame, combo_cols: list[str], ids: dict[str, int]
) -> pl.DataFrame:
    """`_pool_id` of each unit's pool (null without one): by combo, or by the narrowed pool."""
    by_combo = pools.select(
        *combo_cols,
        pl.col("pool").replace_strict(ids, default=None, return_dtype=pl.Int64).alias("_combo_id"),
    )
    narrowed = pl.col("exclude_rep").is_not_null() & pl.col("pool").is_not_null()
    units = units.with_row_index("_pid_row")
    few = units.filter(narrowed).select(
        "_pid_row",
        pl.col("pool").replace_strict(ids, return_dtype=pl.Int64).alias("_narrow_id"),
    )
    return (
        units.join(by_combo, on=combo_cols, how="left", nulls_equal=True)
        .join(few, on="_pid_row", how="left")
        .sort("_pid_row")
        .with_columns(
            pl.when(narrowed)
            .then(pl.col("_narrow_id"))
            .when(pl.col("pool").is_not_null())
            .then(pl.col("_combo_id"))
            .alias("_pool_id")
        )
        .drop("_pid_row", "_combo_id", "_narrow_id")
    )


def _without_excluded(units: pl.DataFrame) -> pl.DataFrame:
    """Take a unit's excluded rep (its owner released by expire) out of its pool."""
    narrowed = (
        pl.col("pool")
        .str.split(",")
        .list.set_difference(pl.concat_list(pl.col("exclude_rep")))
        .list.sort()
    )
    has = pl.col("exclude_rep").is_not_null() & pl.col("pool").is_not_null()
    # Split only the pools of units that have an excluded rep: pools are long strings.
    units = units.with_row_index("_wx_row")
    few = units.filter(has).select("_wx_row", narrowed.alias("_narrow"))
    units = (
        units.join(few, on="_wx_row", how="left")
        .sort("_wx_row")
        .drop("_wx_row")
        .with_columns(pl.when(has).then(pl.col("_narrow")).alias("_narrow"))
    )
    emptied = pl.col("_narrow").list.len() == 0
    return units.with_columns(
        pl.when(has & emptied)
        .then(pl.lit("only_previous_owner"))
        .otherwise("no_rep_reason")
        .alias("no_rep_reason"),
        pl.when(~has)
        .then(pl.col("pool"))
        .when(~emptied)
        .then(pl.col("_narrow").list.join(","))
        .alias("pool"),
        pl.when(has).then(pl.col("_narrow").list.len()).otherwise("n_eligible").alias("n_eligible"),
    ).drop("_narrow")


def _overflow(units: pl.DataFrame, reason: pl.Expr) -> pl.DataFrame:
    """A matched team that cannot take the unit: overflow with the reason, never dropped."""
    if units.height == 0:
        return pl.DataFrame(schema=EVAL_SCHEMA)
    units = units.with_columns(reason.cast(pl.String).alias("_reason"))
    text = pl.col("_reason").replace_strict(
        REASON_TEXT, default="cannot take it", return_dtype=pl.String
    )
    return units.select(
        "unit_id",
        pl.lit(True).alias("matched"),
        pl.lit("overflow").alias("outcome"),
        pl.lit(None, dtype=pl.String).alias("owner_id"),
        "team",
        pl.format(
            "team {} {}{}: {}",
            pl.col("team"),
            text,
            pl.when(pl.col("_tried").str.count_matches(",") > 1)
            .then(pl.format(" (also tried {})", pl.col("_tried").str.replace(r"^, [^,]*, ", "")))
            .otherwise(pl.lit("")),
            pl.col("_where"),
        ).alias("detail"),
        pl.col("_reason").alias("overflow_reason"),
    ).cast(EVAL_SCHEMA)


def route(
    units: pl.DataFrame, ctx: Routing, cfg: AssignConfig, as_of: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Run the rules in order. Returns (decision per unit, audit rows per unit × evaluated rule)."""
    pending = units
    decisions: list[pl.DataFrame] = []
    audit: list[pl.DataFrame] = []
    for order, rule in enumerate(cfg.rules, start=1):
        if pending.height == 0:
            break
        applies = rule_applies(rule)
        skipped = (
            pending.filter(~applies)
            .select(
                "unit_id",
                pl.lit(False).alias("matched"),
                pl.lit("not_matched").alias("outcome"),
                pl.lit(None, dtype=pl.String).alias("owner_id"),
                pl.lit(None, dtype=pl.String).alias("team"),
                pl.lit(filter_text(rule)).alias("detail"),
                pl.lit(None, dtype=pl.String).alias("overflow_reason"),
            )
            .cast(EVAL_SCHEMA)
        )
        candidates = pending.filter(applies)
        if rule.kind == "territory":
            evaluated = _territory(candidates, rule, ctx, cfg)
        else:
            evaluated = owner_rule(candidates, rule, ctx.roster, ctx.homes, as_of)
            taken = evaluated.filter(pl.col("outcome") == "assigned").join(
                units.select("unit_id", "n_leads", "value"), on="unit_id"
            )
            ctx.roster = consume(ctx.roster, taken)
        tagged = pl.concat([skipped, evaluated]).with_columns(
            pl.lit(order).alias("rule_order"),
            pl.lit(rule.name).alias("rule_name"),
            pl.lit(rule.kind).alias("rule_kind"),
        )
        audit.append(tagged)
        done = tagged.filter(pl.col("outcome") != "not_matched")
        decisions.append(done)
        pending = pending.join(done.select("unit_id"), on="unit_id", how="anti")
    has_territory = any(r.kind == "territory" for r in cfg.rules)
    reason = "no_team_matched" if has_territory else "no_rule_matched"
    rest = pending.select(
        "unit_id",
        pl.lit(False).alias("matched"),
        pl.lit("overflow").alias("outcome"),
        pl.lit(None, dtype=pl.String).alias("owner_id"),
        pl.lit(None, dtype=pl.String).alias("team"),
        pl.concat_str([pl.lit("no rule matched: "), territory_text()]).alias("detail"),
        pl.lit(reason).alias("overflow_reason"),
        pl.lit(None, dtype=pl.Int32).alias("rule_order"),
        pl.lit(None, dtype=pl.String).alias("rule_name"),
        pl.lit(None, dtype=pl.String).alias("rule_kind"),
    )
    decision_schema = pl.Schema(
        {
            **EVAL_SCHEMA,
            "rule_order": pl.Int32(),
            "rule_name": pl.String(),
            "rule_kind": pl.String(),
        }
    )
    decided = pl.concat([d.cast(decision_schema) for d in [*decisions, rest]])
    evaluated_audit = (
        pl.concat([a.cast(decision_schema) for a in audit])
        if audit
        else pl.DataFrame(schema=decision_schema)
    )
    return decided, evaluated_audit
