"""The rep roster for one night: who can take leads, how many more, and their SLA clock.

Everything a routing rule or the distribution needs about a rep is resolved here once:
availability (active, not out of office on the as-of date), remaining capacity (capacity minus
current open load), weight, the carried-over balance from earlier nights, and a usable time zone
and working hours (invalid values fall back to the team's or the defaults and are reported).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from leadctl.config.assign import AssignConfig, parse_working_hours, valid_time_zone

ROSTER_SCHEMA = pl.Schema(
    {
        "rep_id": pl.String(),
        "rep_team": pl.String(),
        "role": pl.String(),
        "rep_product_groups": pl.List(pl.String()),
        "rep_territories": pl.List(pl.String()),
        "capacity": pl.Int64(),
        "open_leads": pl.Int64(),
        "remaining": pl.Int64(),
        "active": pl.Boolean(),
        "out_of_office": pl.Boolean(),
        "available": pl.Boolean(),
        "weight": pl.Float64(),
        "rep_time_zone": pl.String(),
        "rep_working_hours": pl.String(),
        "balance_value": pl.Float64(),
        "balance_count": pl.Float64(),
    }
)


def _tokens(col: str, upper: bool) -> pl.Expr:
    """';'-separated text → list of trimmed, non-empty tokens."""
    expr = pl.col(col).fill_null("").str.split(";").list.eval(pl.element().str.strip_chars())
    if upper:
        expr = expr.list.eval(pl.element().str.to_uppercase())
    return expr.list.eval(pl.element().filter(pl.element() != "")).cast(pl.List(pl.String))


def _column(frame: pl.DataFrame, name: str, dtype: pl.DataType | type[pl.DataType]) -> pl.Expr:
    return pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype=dtype)


def build_roster(
    reps: pl.DataFrame,
    load: pl.DataFrame,
    balance: pl.DataFrame,
    cfg: AssignConfig,
    as_of: date,
) -> tuple[pl.DataFrame, list[str]]:
    """One row per rep (ROSTER_SCHEMA) and warnings naming reps with unusable clock settings.

    `load`: rep_id, open_leads. `balance`: rep_id, balance_value, balance_count (from state).
    """
    day = pl.lit(as_of, dtype=pl.Date)
    starts = _column(reps, "out_of_office_from", pl.Date)
    ends = _column(reps, "out_of_office_to", pl.Date)
    ooo = (
        (starts.is_not_null() | ends.is_not_null())
        & (starts.is_null() | (starts <= day))
        & (ends.is_null() | (ends >= day))
    )
    role = _column(reps, "role", pl.String)
    weight = pl.col("rep_id").replace_strict(cfg.rep_weights, default=None, return_dtype=pl.Float64)
    role_weight = role.replace_strict(cfg.role_weights, default=1.0, return_dtype=pl.Float64)
    base = reps.select(
        pl.col("rep_id").cast(pl.String),
        _column(reps, "team", pl.String).alias("rep_team"),
        role.alias("role"),
        _column(reps, "product_groups", pl.String).alias("_pgs"),
        _column(reps, "territories", pl.String).alias("_terr"),
        _column(reps, "capacity", pl.Int64)
        .fill_null(cfg.default_capacity)
        .clip(lower_bound=0)
        .alias("capacity"),
        _column(reps, "active", pl.Boolean).fill_null(True).alias("active"),
        ooo.fill_null(False).alias("out_of_office"),
        weight.fill_null(role_weight).alias("weight"),
        _column(reps, "time_zone", pl.String).str.strip_chars().alias("_tz"),
        _column(reps, "working_hours", pl.String).str.strip_chars().alias("_hours"),
    ).with_columns(
        _tokens("_pgs", upper=False).alias("rep_product_groups"),
        _tokens("_terr", upper=True).alias("rep_territories"),
    )
    zones = {z: valid_time_zone(z) for z in base["_tz"].drop_nulls().unique().to_list()}
    hours = {
        h: parse_working_hours(h) is not None
        for h in base["_hours"].drop_nulls().unique().to_list()
    }
    good_tz = pl.col("_tz").replace_strict(zones, default=False, return_dtype=pl.Boolean)
    good_hours = pl.col("_hours").replace_strict(hours, default=False, return_dtype=pl.Boolean)
    roster = (
        base.with_columns(
            pl.when(good_tz).then(pl.col("_tz")).alias("rep_time_zone"),
            pl.when(good_hours).then(pl.col("_hours")).alias("rep_working_hours"),
        )
        .join(load.select("rep_id", "open_leads"), on="rep_id", how="left")
        .join(balance.select("rep_id", "balance_value", "balance_count"), on="rep_id", how="left")
        .with_columns(
            # A rep new to the memory starts level with the team, not at zero (no flood).
            pl.col("balance_value")
            .fill_null(pl.col("balance_value").mean().over("rep_team"))
            .fill_null(0.0),
            pl.col("balance_count")
            .fill_null(pl.col("balance_count").mean().over("rep_team"))
            .fill_null(0.0),
            pl.col("open_leads").fill_null(0).cast(pl.Int64),
            (pl.col("active") & ~pl.col("out_of_office")).alias("available"),
        )
        .with_columns(
            (pl.col("capacity") - pl.col("open_leads")).clip(lower_bound=0).alias("remaining")
        )
    )
    warnings = []
    bad_tz = roster.filter(pl.col("_tz").is_not_null() & ~good_tz)["rep_id"].sort().to_list()
    if bad_tz:
        warnings.append(f"assign: unknown time zone for rep(s) {bad_tz}; team or default used")
    bad_hours = (
        roster.filter(pl.col("_hours").is_not_null() & ~good_hours)["rep_id"].sort().to_list()
    )
    if bad_hours:
        warnings.append(
            f"assign: unreadable working_hours for rep(s) {bad_hours}; team or default used"
        )
    return roster.select(list(ROSTER_SCHEMA)).cast(ROSTER_SCHEMA).sort("rep_id"), warnings


def team_members(roster: pl.DataFrame, cfg: AssignConfig) -> pl.DataFrame:
    """(team, rep_id) for every configured team: its listed members, else reps of that team.

    Reps whose role is in `excluded_roles` (e.g. managers) take no leads from distribution.
    """
    parts = []
    pool = roster.filter(~pl.col("role").is_in(cfg.excluded_roles).fill_null(False))
    for team in cfg.teams:
        if team.members:
            ids = pool.filter(pl.col("rep_id").is_in(team.members)).select("rep_id")
        else:
            ids = pool.filter(pl.col("rep_team") == team.name).select("rep_id")
        parts.append(ids.with_columns(pl.lit(team.name).alias("team")))
    if not parts:
        return pl.DataFrame(schema={"team": pl.String, "rep_id": pl.String})
    return pl.concat(parts).select("team", "rep_id")


def home_team(roster: pl.DataFrame, members: pl.DataFrame, cfg: AssignConfig) -> pl.DataFrame:
    """rep_id → the team an assignment by owner (account owner, continuity) is credited to:
    the first configured team the rep belongs to, else the rep's own team column."""
    order = {t.name: i for i, t in enumerate(cfg.teams)}
    first = (
        members.with_columns(
            pl.col("team").replace_strict(order, return_dtype=pl.Int64).alias("_o")
        )
        .sort("_o", "rep_id")
        .group_by("rep_id", maintain_order=True)
        .first()
        .select("rep_id", pl.col("team").alias("_cfg_team"))
    )
    return (
        roster.select("rep_id", "rep_team")
        .join(first, on="rep_id", how="left")
        .select("rep_id", pl.coalesce("_cfg_team", "rep_team").alias("home_team"))
    )
