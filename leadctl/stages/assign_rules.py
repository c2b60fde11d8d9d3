"""Routing units and the rule kinds: account owner, continuity and territory (team selection).

A *unit* is what gets one owner: a (lead, product group) row by default, a whole lead when the
config says one owner per lead, or every verified lead of one account in account mode. The
unit's representative (its highest-propensity row) decides team and rule matching.

Each rule evaluation returns, per pending unit: matched, outcome (assigned | overflow |
not_matched), owner_id, team, detail (why) and, for overflow, the reason.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from leadctl.config.assign import AssignConfig, RoutingRule, Team

KEYS = ["lead_id", "product_group"]
EVAL_SCHEMA = pl.Schema(
    {
        "unit_id": pl.String,
        "matched": pl.Boolean,
        "outcome": pl.String,
        "owner_id": pl.String,
        "team": pl.String,
        "detail": pl.String,
        "overflow_reason": pl.String,
    }
)


def segment_expr(cfg: AssignConfig) -> pl.Expr:
    """Company-size segment from `employees`: the segment with the largest min_employees reached."""
    expr: pl.Expr = pl.lit("Unknown")
    for seg in sorted(cfg.segments, key=lambda s: s.min_employees):
        expr = (
            pl.when(pl.col("employees") >= seg.min_employees).then(pl.lit(seg.name)).otherwise(expr)
        )
    return pl.when(pl.col("employees").is_null()).then(pl.lit("Unknown")).otherwise(expr)


def unit_key(cfg: AssignConfig) -> pl.Expr:
    """Which rows share one owner tonight."""
    per_group = cfg.owner_scope == "product_group"
    lead_key = pl.concat_str([pl.lit("L:"), pl.col("lead_id")])
    if per_group:
        lead_key = pl.concat_str([lead_key, pl.lit("|"), pl.col("product_group")])
    if not cfg.account_mode:
        return lead_key
    account_key = pl.concat_str([pl.lit("A:"), pl.col("matched_account_id")])
    if per_group:
        account_key = pl.concat_str([account_key, pl.lit("|"), pl.col("product_group")])
    return pl.when(pl.col("matched_account_id").is_not_null()).then(account_key).otherwise(lead_key)


def build_units(rows: pl.DataFrame, all_rows: pl.DataFrame, cfg: AssignConfig) -> pl.DataFrame:
    """One row per unit to route, in priority order (expected value, then unit id).

    `rows`: the verified rows still to route, with unit_id; `all_rows`: every verified row with
    unit_id, prev_owner_id and prev_owner_at (an owner of any member counts for the unit).
    """
    rep = (
        rows.sort(
            ["unit_id", "propensity", *KEYS],
            descending=[False, True, False, False],
            nulls_last=True,
        )
        .group_by("unit_id", maintain_order=True)
        .agg(
            pl.all().first(),
            pl.col("propensity").fill_null(0.0).sum().alias("value"),
            pl.len().cast(pl.Int64).alias("n_leads"),
            pl.col("lead_id").first().alias("rep_lead_id"),
        )
        .drop("prev_owner_id", "prev_owner_at", strict=False)
    )
    previous = (
        all_rows.filter(pl.col("prev_owner_id").is_not_null())
        .sort(["unit_id", "prev_owner_at", "prev_owner_id"])
        .group_by("unit_id", maintain_order=True)
        .last()
        .select("unit_id", "prev_owner_id", "prev_owner_at")
    )
    return (
        rep.join(previous, on="unit_id", how="left")
        .with_columns(segment_expr(cfg).alias("segment"))
        .sort(["value", "unit_id"], descending=[True, False])
        .with_row_index("_order")
    )


def rule_applies(rule: RoutingRule) -> pl.Expr:
    """The rule's product-group / action / rating filters (empty: no filter)."""
    cond = pl.lit(True)
    if rule.product_groups:
        cond = cond & pl.col("product_group").is_in(rule.product_groups)
    if rule.actions:
        cond = cond & pl.col("action").is_in(rule.actions).fill_null(False)
    if rule.ratings:
        cond = cond & pl.col("rating").is_in(rule.ratings).fill_null(False)
    return cond


def filter_text(rule: RoutingRule) -> str:
    parts = []
    for label, values in (
        ("product groups", rule.product_groups),
        ("actions", rule.actions),
        ("ratings", rule.ratings),
    ):
        if values:
            parts.append(f"{label} {values}")
    return "rule applies to " + " and ".join(parts) + " only"


def owner_rule(
    units: pl.DataFrame, rule: RoutingRule, roster: pl.DataFrame, homes: pl.DataFrame, as_of: date
) -> pl.DataFrame:
    """account_owner / continuity: the unit goes to one named person if that person can take it."""
    who = pl.col("_cand")
    if "exclude_rep" not in units.columns:
        units = units.with_columns(pl.lit(None, dtype=pl.String).alias("exclude_rep"))
    if rule.kind == "account_owner":
        missing = (
            pl.when(pl.col("matched_account_id").is_null())
            .then(pl.lit("no matched account"))
            .when(pl.col("account_owner_id").is_null())
            .then(
                pl.concat_str(
                    [pl.lit("account "), pl.col("matched_account_id"), pl.lit(" has no owner")]
                )
            )
        )
        if rule.named_accounts_only:
            missing = missing.when(~pl.col("named_account").fill_null(False)).then(
                pl.concat_str(
                    [
                        pl.lit("account "),
                        pl.col("matched_account_id"),
                        pl.lit(" is not a named account"),
                    ]
                )
            )
        cand = units.with_columns(
            pl.col("account_owner_id").alias("_cand"), missing.alias("_missing")
        )
        found = pl.concat_str(
            [pl.lit("account "), pl.col("matched_account_id"), pl.lit(" owner "), who]
        )
    else:
        age = (pl.lit(as_of, dtype=pl.Date) - pl.col("prev_owner_at").dt.date()).dt.total_days()
        missing = (
            pl.when(pl.col("prev_owner_id").is_null())
            .then(pl.lit("no previous owner"))
            .when(age > rule.within_days)
            .then(
                pl.format(
                    "previous owner {} was {} days ago (window {} days)",
                    pl.col("prev_owner_id"),
                    age,
                    pl.lit(rule.within_days),
                )
            )
        )
        cand = units.with_columns(
            pl.col("prev_owner_id").alias("_cand"), missing.alias("_missing"), age.alias("_age")
        )
        found = pl.format("previous owner {} ({} days ago)", who, pl.col("_age"))
    cand = cand.join(
        roster.select("rep_id", "active", "out_of_office", "remaining", "capacity", "open_leads"),
        left_on="_cand",
        right_on="rep_id",
        how="left",
    ).with_columns(
        # Units per candidate in priority order: each needs room for all its leads.
        pl.when(pl.col("_missing").is_null())
        .then(pl.col("n_leads").cum_sum().over("_cand", order_by=["_order"]))
        .alias("_need")
    )
    full = pl.lit(rule.respect_capacity) & (pl.col("_need") > pl.col("remaining"))
    why = (
        pl.when(pl.col("_missing").is_not_null())
        .then(pl.col("_missing"))
        .when(pl.col("active").is_null())
        .then(pl.concat_str([found, pl.lit(" is not a known rep")]))
        .when(~pl.col("active"))
        .then(pl.concat_str([found, pl.lit(" is inactive")]))
        .when(pl.lit(rule.skip_out_of_office) & pl.col("out_of_office"))
        .then(pl.concat_str([found, pl.lit(" is out of office")]))
        .when((pl.col("_cand") == pl.col("exclude_rep")).fill_null(False))
        .then(pl.concat_str([found, pl.lit(" was released for reassignment")]))
        .when(full)
        .then(
            pl.format(
                "{} is at capacity ({} open of {})", found, pl.col("open_leads"), pl.col("capacity")
            )
        )
    )
    return (
        cand.with_columns(why.alias("_why"))
        .join(homes, left_on="_cand", right_on="rep_id", how="left")
        .select(
            "unit_id",
            pl.col("_why").is_null().alias("matched"),
            pl.when(pl.col("_why").is_null())
            .then(pl.lit("assigned"))
            .otherwise(pl.lit("not_matched"))
            .alias("outcome"),
            pl.when(pl.col("_why").is_null()).then(pl.col("_cand")).alias("owner_id"),
            pl.when(pl.col("_why").is_null()).then(pl.col("home_team")).alias("team"),
            pl.coalesce(pl.col("_why"), found).alias("detail"),
            pl.lit(None, dtype=pl.String).alias("overflow_reason"),
        )
        .cast(EVAL_SCHEMA)
    )


def _in(col: str, values: list[str], *, lower: bool = False) -> pl.Expr:
    if not values:
        return pl.lit(True)
    if lower:
        return pl.col(col).str.to_lowercase().is_in([v.lower() for v in values]).fill_null(False)
    return pl.col(col).is_in(values).fill_null(False)


def team_selector(team: Team) -> pl.Expr:
    """True where a unit's representative row falls inside the team's territory."""
    return (
        _in("product_group", team.product_groups)
        & _in("region", team.regions)
        & _in("country_code", [c.upper() for c in team.countries])
        & _in("state_code", [s.upper() for s in team.states])
        & _in("segment", team.segments)
        & _in("industry", team.industries, lower=True)
    )


def first_team(teams: list[Team]) -> pl.Expr:
    """The name of the first team (in order) whose selectors match, else null."""
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for team in reversed(teams):
        expr = pl.when(team_selector(team)).then(pl.lit(team.name)).otherwise(expr)
    return expr


def territory_text() -> pl.Expr:
    """What the territory rules looked at, for the audit trail."""
    return pl.format(
        "product group {}, region {}, country {}, state {}, segment {}, industry {}",
        *[
            pl.col(c).cast(pl.String).fill_null("?")
            for c in (
                "product_group",
                "region",
                "country_code",
                "state_code",
                "segment",
                "industry",
            )
        ],
    )


def pool_eligibility(
    combos: pl.DataFrame, members: pl.DataFrame, roster: pl.DataFrame, cfg: AssignConfig
) -> pl.DataFrame:
    """Per (team, product group, region, country, state): who may take such a lead, and if
    nobody, why. Returns the combo columns + pool (sorted eligible rep ids, ','-joined; null if
    none), n_eligible, no_rep_reason."""
    flags = {t.name: (t.match_rep_territory, t.match_rep_product_group) for t in cfg.teams}
    terr_flag = pl.col("team").replace_strict(
        {k: v[0] for k, v in flags.items()}, return_dtype=pl.Boolean
    )
    pg_flag = pl.col("team").replace_strict(
        {k: v[1] for k, v in flags.items()}, return_dtype=pl.Boolean
    )
    places = pl.concat_list(
        [
            pl.col(c).cast(pl.String).str.to_uppercase()
            for c in ("region", "country_code", "state_code")
        ]
    ).list.drop_nulls()
    combo_cols = ["team", "product_group", "region", "country_code", "state_code"]
    joined = (
        combos.join(members, on="team", how="left")
        .join(
            roster.select(
                "rep_id", "rep_product_groups", "rep_territories", "active", "out_of_office"
            ),
            on="rep_id",
            how="left",
        )
        .with_columns(
            (
                ~terr_flag
                | (pl.col("rep_territories").list.len() == 0)
                | (pl.col("rep_territories").list.set_intersection(places).list.len() > 0)
            )
            .fill_null(False)
            .alias("_terr_ok"),
            (
                ~pg_flag
                | (pl.col("rep_product_groups").list.len() == 0)
                | pl.col("rep_product_groups").list.contains(pl.col("product_group"))
            )
            .fill_null(False)
            .alias("_pg_ok"),
        )
        .with_columns((pl.col("_terr_ok") & pl.col("_pg_ok")).alias("_covers"))
        .with_columns((pl.col("_covers") & pl.col("active")).fill_null(False).alias("_active"))
        .with_columns((pl.col("_active") & ~pl.col("out_of_office")).fill_null(False).alias("_ok"))
    )
    agg = joined.group_by(combo_cols).agg(
        pl.col("rep_id").is_not_null().sum().alias("_n_members"),
        pl.col("_covers").sum().alias("_n_covers"),
        pl.col("_active").sum().alias("_n_active"),
        pl.col("rep_id").filter(pl.col("_ok")).sort().alias("_eligible"),
    )
    reason = (
        pl.when(pl.col("_n_members") == 0)
        .then(pl.lit("no_rep_in_team"))
        .when(pl.col("_n_covers") == 0)
        .then(pl.lit("no_rep_covers_territory"))
        .when(pl.col("_n_active") == 0)
        .then(pl.lit("all_reps_inactive"))
        .when(pl.col("_eligible").list.len() == 0)
        .then(pl.lit("all_reps_out_of_office"))
    )
    return agg.select(
        *combo_cols,
        pl.when(pl.col("_eligible").list.len() > 0)
        .then(pl.col("_eligible").list.join(","))
        .alias("pool"),
        pl.col("_eligible").list.len().cast(pl.Int64).alias("n_eligible"),
        reason.alias("no_rep_reason"),
    )
