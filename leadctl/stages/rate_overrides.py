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


def _account_columns(accounts: pl.LazyFrame) -> pl.LazyFrame:
    return accounts.select(
        pl.col("account_id").cast(pl.String),
        pl.col("named_account").cast(pl.Boolean, strict=False).fill_null(False).alias("_named"),
        pl.col("target_account").cast(pl.Boolean, strict=False).fill_null(False).alias("_target"),
    )


def _account_flag(cond: AccountCondition) -> pl.Expr:
    """On a lead joined with its account (`_account_columns`): the condition holds."""
    flag = pl.col("account_id").is_not_null()
    if cond.named is not None:
        flag = flag & (pl.col("_named").fill_null(False) == cond.named)
    if cond.target is not None:
        flag = flag & (pl.col("_target").fill_null(False) == cond.target)
    if cond.account_ids:
        wanted = [a.strip() for a in cond.account_ids]
        flag = flag & pl.col("account_id").str.strip_chars().is_in(wanted)
    return flag.fill_null(False)


@dataclass(frozen=True)
class OverridePlan:
    """The rules as columns: conditions on lead fields and accounts are evaluated once per lead
    (`lead_flags`, joined on lead_id), activity conditions as small frames of matching keys,
    conditions on the rated row's own columns directly; `choose` then picks the first rule."""

    rules: list[OverrideRule]
    lead_exprs: list[pl.Expr]  # evaluated on the leads table, one flag column each
    account_exprs: list[pl.Expr]  # evaluated on leads joined with their accounts
    activity_frames: list[tuple[pl.LazyFrame, list[str]]]  # (keys + a flag, keys)
    matches: list[pl.Expr]  # per rule: all its conditions hold
    flag_columns: list[str]

    def lead_flags(self, leads: pl.LazyFrame, accounts: pl.LazyFrame) -> pl.LazyFrame | None:
        """lead_id + one flag per lead-field and account condition (None: there are none)."""
        if not self.lead_exprs and not self.account_exprs:
            return None
        frame = leads.select(pl.col("lead_id").cast(pl.String), *self.lead_columns()).filter(
            pl.col("lead_id").is_not_null()
        )
        return self.add_account_flags(frame, accounts)

    def lead_columns(self) -> list[pl.Expr]:
        """What to select from the leads table for `add_account_flags` (with lead_id)."""
        account = [pl.col("account_id").cast(pl.String)] if self.account_exprs else []
        return [*self.lead_exprs, *account]

    def add_account_flags(self, frame: pl.LazyFrame, accounts: pl.LazyFrame) -> pl.LazyFrame:
        """A per-lead frame with `lead_columns` gets the account flags (and loses account_id)."""
        if not self.account_exprs:
            return frame
        return (
            frame.join(_account_columns(accounts), on="account_id", how="left")
            .with_columns(self.account_exprs)
            .drop("account_id", "_named", "_target")
        )

    def choose(self) -> list[pl.Expr]:
        """`_ov_rule`, `_ov_action`, `_ov_sla` of the first matching rule (null: none)."""

        def first(values: list[str | None]) -> pl.Expr:
            out = pl.lit(None, pl.String)
            for match, value in reversed(list(zip(self.matches, values, strict=True))):
                out = pl.when(match).then(pl.lit(value, pl.String)).otherwise(out)
            return out

        return [
            first([r.name for r in self.rules]).alias("_ov_rule"),
            first([r.action for r in self.rules]).alias("_ov_action"),
            first([r.sla_tier for r in self.rules]).alias("_ov_sla"),
        ]


def plan_overrides(
    rules: list[OverrideRule],
    row_schema: pl.Schema,
    lead_schema: pl.Schema,
    activities: pl.LazyFrame,
    as_of: date,
) -> OverridePlan:
    """Field conditions read the row's score columns first, then the lead's columns."""
    lead_exprs: list[pl.Expr] = []
    account_exprs: list[pl.Expr] = []
    frames: list[tuple[pl.LazyFrame, list[str]]] = []
    flag_cols: list[str] = []
    matches: list[pl.Expr] = []
    for i, rule in enumerate(rules):
        exprs: list[pl.Expr] = []
        for j, cond in enumerate(rule.conditions):
            name = f"_ovc_{i}_{j}"
            if isinstance(cond, FieldCondition):
                if cond.field in row_schema and not cond.field.startswith("_"):
                    exprs.append(_field_expr(cond.field, row_schema[cond.field], cond, rule.name))
                    continue
                if cond.field not in lead_schema:
                    known = sorted(set(row_schema) | set(lead_schema))
                    known = [k for k in known if not k.startswith("_")]
                    raise ConfigError(
                        f"rate.overrides '{rule.name}': field '{cond.field}' is not a column of "
                        f"the scores or the leads table; columns are: {', '.join(known)}"
                    )
                # A lead missing from the leads table has null fields: no condition holds.
                lead_exprs.append(
                    _field_expr(cond.field, lead_schema[cond.field], cond, rule.name).alias(name)
                )
            elif isinstance(cond, ActivityCondition):
                frames.append(_activity_matches(activities, cond, as_of, name))
            else:
                account_exprs.append(_account_flag(cond).alias(name))
            flag_cols.append(name)
            exprs.append(pl.col(name).fill_null(False))
        matches.append(pl.all_horizontal(exprs))
    return OverridePlan(
        rules=rules,
        lead_exprs=lead_exprs,
        account_exprs=account_exprs,
        activity_frames=frames,
        matches=matches,
        flag_columns=flag_cols,
    )


def no_override() -> list[pl.Expr]:
    return [
        pl.lit(None, pl.String).alias("_ov_rule"),
        pl.lit(None, pl.String).alias("_ov_action"),
        pl.lit(None, pl.String).alias("_ov_sla"),
    ]


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
    `rate.prepare` uses the same plan but joins the lead flags together with the lead's stage.
    """
    if not rules:
        return rows.with_columns(no_override())
    plan = plan_overrides(rules, rows.collect_schema(), leads.collect_schema(), activities, as_of)
    flags = plan.lead_flags(leads, accounts)
    if flags is not None:
        rows = rows.join(flags, on="lead_id", how="left")
    for frame, keys in plan.activity_frames:
        rows = rows.join(frame, on=keys, how="left")
    return rows.with_columns(plan.choose()).drop(plan.flag_columns)
