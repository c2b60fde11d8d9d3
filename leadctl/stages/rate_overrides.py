"""Override rules: which rules still apply tonight, and which rule (if any) each row matches.

A rule is a list of conditions that must all hold; the first matching rule (config order)
wins. Conditions read lead and score fields, the lead's activities and its account. Rules past
their `review_by` date stop applying: they are reported, never silently kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl

from leadctl.config.rating import (
    AccountCondition,
    ActivityCondition,
    FieldCondition,
    OverrideRule,
)
from leadctl.errors import ConfigError

UTC = pl.Datetime("us", "UTC")


@dataclass(frozen=True)
class RuleReview:
    """Tonight's rules: those that apply, those past review_by, those due for review soon."""

    active: list[OverrideRule]
    expired: list[dict[str, object]] = field(default_factory=list)
    due_soon: list[dict[str, object]] = field(default_factory=list)


def review_rules(rules: list[OverrideRule], as_of: date, warn_days: int = 14) -> RuleReview:
    """Split rules by their review date: a rule applies up to and including review_by."""
    active, expired, due = [], [], []
    for rule in rules:
        info = {"name": rule.name, "owner": rule.owner, "review_by": rule.review_by.isoformat()}
        if rule.review_by < as_of:
            expired.append({**info, "days_overdue": (as_of - rule.review_by).days})
            continue
        active.append(rule)
        if rule.review_by <= as_of + timedelta(days=warn_days):
            due.append({**info, "days_left": (rule.review_by - as_of).days})
    return RuleReview(active=active, expired=expired, due_soon=due)


def _day_end(as_of: date) -> pl.Expr:
    """Midnight UTC after as_of: everything strictly before it happened by the end of as_of."""
    return pl.lit(as_of).cast(UTC) + pl.duration(days=1)


def _norm(expr: pl.Expr, case_sensitive: bool) -> pl.Expr:
    text = expr.cast(pl.String).str.strip_chars()
    return text if case_sensitive else text.str.to_lowercase()


def _equals(expr: pl.Expr, dtype: pl.DataType, value: object, case_sensitive: bool) -> pl.Expr:
    """One value against one column: numbers numerically, booleans and text as trimmed text."""
    if isinstance(value, bool):
        if dtype == pl.Boolean:
            return expr == value
        return _norm(expr, False) == ("true" if value else "false")
    if isinstance(value, int | float):
        return expr.cast(pl.Float64, strict=False) == float(value)
    wanted = str(value).strip()
    return _norm(expr, case_sensitive) == (wanted if case_sensitive else wanted.lower())


def _field_match(expr: pl.Expr, dtype: pl.DataType, cond: FieldCondition, rule: str) -> pl.Expr:
    """The condition's operator applied to one (non-list) column or list element."""
    if cond.equals is not None:
        return _equals(expr, dtype, cond.equals, cond.case_sensitive)
    if cond.in_ is not None:
        parts = [_equals(expr, dtype, v, cond.case_sensitive) for v in cond.in_]
        return pl.any_horizontal(parts) if parts else pl.lit(False)
    if cond.regex is not None:
        flags = "" if cond.case_sensitive else "(?i)"
        return expr.cast(pl.String).str.contains(flags + cond.regex)
    if dtype.is_temporal():
        raise ConfigError(
            f"rate.overrides '{rule}': field '{cond.field}' is a date/time; min/max need numbers"
        )
    number = expr if dtype.is_numeric() else expr.cast(pl.Float64, strict=False)
    out = pl.lit(True)
    if cond.min is not None:
        out = out & (number >= cond.min)
    if cond.max is not None:
        out = out & (number <= cond.max)
    return out


def _field_expr(column: str, dtype: pl.DataType, cond: FieldCondition, rule: str) -> pl.Expr:
    if isinstance(dtype, pl.List):
        inner = dtype.inner if isinstance(dtype.inner, pl.DataType) else pl.String()
        element = _field_match(pl.element(), inner, cond, rule).fill_null(False)
        return pl.col(column).list.eval(element).list.any().fill_null(False)
    if isinstance(dtype, pl.Struct | pl.Array | pl.Object):
        raise ConfigError(f"rate.overrides '{rule}': field '{cond.field}' cannot be compared")
    return _field_match(pl.col(column), dtype, cond, rule).fill_null(False)


def _activity_matches(
    activities: pl.LazyFrame, cond: ActivityCondition, as_of: date, name: str
) -> tuple[pl.LazyFrame, list[str]]:
    """(keys, flag column) of rows whose lead did what the condition asks, up to as_of."""
    end = _day_end(as_of)
    acts = activities.filter(pl.col("occurred_at") < end, pl.col("lead_id").is_not_null())
    if cond.within_days is not None:
        acts = acts.filter(pl.col("occurred_at") >= end - pl.duration(days=cond.within_days))
    if cond.types:
        wanted = [t.strip().lower() for t in cond.types]
        acts = acts.filter(_norm(pl.col("activity_type"), False).is_in(wanted))
    if cond.assets:
        wanted = [a.strip().lower() for a in cond.assets]
        acts = acts.filter(_norm(pl.col("asset_id"), False).is_in(wanted))
    if cond.asset_regex is not None:
        acts = acts.filter(pl.col("asset_id").str.contains("(?i)" + cond.asset_regex))
    keys = ["lead_id", "product_group"] if cond.same_product_group else ["lead_id"]
    if cond.same_product_group:
        acts = acts.filter(pl.col("product_group").is_not_null())
    matched = (
        acts.group_by(keys)
        .agg(pl.len().alias("_n"))
        .filter(pl.col("_n") >= cond.min_count)
        .select(*[pl.col(k).cast(pl.String) for k in keys], pl.lit(True).alias(name))
    )
    return matched, keys


def _account_flags(
    leads: pl.LazyFrame, accounts: pl.LazyFrame, cond: AccountCondition, name: str
) -> pl.LazyFrame:
    """(lead_id, flag): the lead's account_id meets every part of the condition."""
    acc = accounts.select(
        pl.col("account_id").cast(pl.String),
        pl.col("named_account").cast(pl.Boolean, strict=False).fill_null(False).alias("_named"),
        pl.col("target_account").cast(pl.Boolean, strict=False).fill_null(False).alias("_target"),
    )
    joined = leads.select(
        pl.col("lead_id").cast(pl.String), pl.col("account_id").cast(pl.String)
    ).join(acc, on="account_id", how="left")
    flag = pl.col("account_id").is_not_null()
    if cond.named is not None:
        flag = flag & (pl.col("_named").fill_null(False) == cond.named)
    if cond.target is not None:
        flag = flag & (pl.col("_target").fill_null(False) == cond.target)
    if cond.account_ids:
        wanted = [a.strip() for a in cond.account_ids]
        flag = flag & pl.col("account_id").str.strip_chars().is_in(wanted)
    return joined.filter(pl.col("lead_id").is_not_null(), flag).select(
        "lead_id", pl.lit(True).alias(name)
    )


def apply_overrides(
    rows: pl.LazyFrame,
    rules: list[OverrideRule],
    *,
    leads: pl.LazyFrame,
    activities: pl.LazyFrame,
    accounts: pl.LazyFrame,
    as_of: date,
) -> pl.LazyFrame:
    """Add `_ov_rule`, `_ov_action`, `_ov_sla`: the first active rule each row matches, or null.

    Field conditions read the row's score columns first, then the lead's columns (leads must be
    unique by lead_id, as the canonical loader guarantees; so must accounts by account_id).
    """
    none = [
        pl.lit(None, pl.String).alias("_ov_rule"),
        pl.lit(None, pl.String).alias("_ov_action"),
        pl.lit(None, pl.String).alias("_ov_sla"),
    ]
    if not rules:
        return rows.with_columns(none)
    row_schema = rows.collect_schema()
    lead_schema = leads.collect_schema()
    lead_fields: dict[str, str] = {}
    flag_cols: list[str] = []
    rule_flags: list[list[pl.Expr]] = []
    for i, rule in enumerate(rules):
        exprs: list[pl.Expr] = []
        for j, cond in enumerate(rule.conditions):
            name = f"_ovc_{i}_{j}"
            if isinstance(cond, FieldCondition):
                if cond.field in row_schema and not cond.field.startswith("_"):
                    exprs.append(_field_expr(cond.field, row_schema[cond.field], cond, rule.name))
                elif cond.field in lead_schema:
                    alias = lead_fields.setdefault(cond.field, f"_lead_{cond.field}")
                    exprs.append(_field_expr(alias, lead_schema[cond.field], cond, rule.name))
                else:
                    known = sorted(set(row_schema) | set(lead_schema))
                    known = [k for k in known if not k.startswith("_")]
                    raise ConfigError(
                        f"rate.overrides '{rule.name}': field '{cond.field}' is not a column of "
                        f"the scores or the leads table; columns are: {', '.join(known)}"
                    )
                continue
            if isinstance(cond, ActivityCondition):
                matched, keys = _activity_matches(activities, cond, as_of, name)
            else:
                matched, keys = _account_flags(leads, accounts, cond, name), ["lead_id"]
            rows = rows.join(matched, on=keys, how="left")
            flag_cols.append(name)
            exprs.append(pl.col(name).fill_null(False))
        rule_flags.append(exprs)
    if lead_fields:
        extra = leads.select(
            pl.col("lead_id").cast(pl.String), *[pl.col(f).alias(a) for f, a in lead_fields.items()]
        )
        rows = rows.join(extra, on="lead_id", how="left")
    matches = [pl.all_horizontal(exprs) for exprs in rule_flags]

    def first(values: list[str | None]) -> pl.Expr:
        out = pl.lit(None, pl.String)
        for match, value in reversed(list(zip(matches, values, strict=True))):
            out = pl.when(match).then(pl.lit(value, pl.String)).otherwise(out)
        return out

    return rows.with_columns(
        first([r.name for r in rules]).alias("_ov_rule"),
        first([r.action for r in rules]).alias("_ov_action"),
        first([r.sla_tier for r in rules]).alias("_ov_sla"),
    ).drop([*flag_cols, *lead_fields.values()])
