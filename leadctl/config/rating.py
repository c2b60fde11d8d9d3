"""Rating config: cutoffs, the action matrix, hysteresis, override rules and --suggest (rate)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

import polars as pl
from pydantic import ConfigDict, Field, field_validator, model_validator

from leadctl.config.base import StrictModel

FIT_GRADES = ("A", "B", "C", "D")
ENGAGEMENT_GRADES = (1, 2, 3, 4)
RATINGS = tuple(f"{f}{e}" for f in FIT_GRADES for e in ENGAGEMENT_GRADES)
Action = Literal["fast_track", "standard", "nurture", "disqualify"]
# Actions that send a lead to sales: the row becomes an MQL.
MQL_ACTIONS: tuple[str, ...] = ("fast_track", "standard")


def _check_regex(pattern: str) -> str:
    """Validate with polars' own (Rust) regex engine, which is what the stage runs."""
    try:
        pl.Series([""], dtype=pl.String).str.contains(pattern)
    except pl.exceptions.ComputeError as exc:
        detail = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        raise ValueError(f"invalid regex {pattern!r}: {detail}") from None
    return pattern


class Cutoffs(StrictModel):
    """How fit_score / engagement_score become a letter (A-D) and a number (1-4).

    method fixed: the three values are the minimum score for A, B, C (and 1, 2, 3), descending;
    method share: the three values are the share of the product group's scored leads that get
    A, B, C (1, 2, 3), best scores first; D / 4 is the rest. Ties share a grade.
    """

    method: Literal["fixed", "share"] = "share"
    fit: list[float] = Field(default_factory=lambda: [0.10, 0.20, 0.30])
    engagement: list[float] = Field(default_factory=lambda: [0.10, 0.20, 0.30])

    @model_validator(mode="after")
    def _shape(self) -> Cutoffs:
        for name in ("fit", "engagement"):
            values: list[float] = getattr(self, name)
            if len(values) != 3:
                raise ValueError(
                    f"{name} needs 3 values (for grades above the lowest), got {values}"
                )
            if self.method == "fixed":
                if any(a < b for a, b in zip(values, values[1:], strict=False)):
                    raise ValueError(f"fixed {name} cutoffs must not increase: {values}")
            else:
                if any(v < 0 for v in values) or sum(values) > 1 + 1e-9:
                    raise ValueError(
                        f"share {name} cutoffs must be >= 0 and sum to at most 1: {values}"
                    )
        return self


class MatrixCell(StrictModel):
    """What one rating means: the action, the SLA tier, an optional propensity floor."""

    action: Action = "nurture"
    sla_tier: str | None = None
    min_propensity: float | None = Field(default=None, ge=0, le=1)


def _default_matrix() -> dict[str, MatrixCell]:
    fast = {"A1", "A2", "B1"}
    standard = {"A3", "B2", "C1"}
    disqualify = {"D3", "D4"}
    out = {}
    for rating in RATINGS:
        if rating in fast:
            out[rating] = MatrixCell(action="fast_track", sla_tier="fast_track")
        elif rating in standard:
            out[rating] = MatrixCell(action="standard", sla_tier="standard")
        elif rating in disqualify:
            out[rating] = MatrixCell(action="disqualify")
        else:
            out[rating] = MatrixCell(action="nurture")
    return out


class Hysteresis(StrictModel):
    """Keeps an MQL from bouncing out on small score moves (either rule keeps it)."""

    margin: float = Field(default=5.0, ge=0)  # score points added before re-checking an MQL
    propensity_margin: float = Field(default=0.01, ge=0, le=1)  # same, for min_propensity
    min_stay_days: int = Field(default=7, ge=0)  # an MQL stays at least this many days


class FieldCondition(StrictModel):
    """A lead / score field: exactly one of equals, in, regex, or a numeric range (min/max)."""

    kind: Literal["field"]
    field: str = Field(min_length=1)
    equals: str | float | bool | None = None
    in_: list[str | float | bool] | None = Field(default=None, alias="in")
    regex: str | None = None
    min: float | None = None
    max: float | None = None
    case_sensitive: bool = False  # text comparisons (equals / in / regex) ignore case by default

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)

    @field_validator("regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        return None if value is None else _check_regex(value)

    @model_validator(mode="after")
    def _one_operator(self) -> FieldCondition:
        given = [
            name
            for name, present in (
                ("equals", self.equals is not None),
                ("in", self.in_ is not None),
                ("regex", self.regex is not None),
                ("min/max", self.min is not None or self.max is not None),
            )
            if present
        ]
        if len(given) != 1:
            raise ValueError(
                f"field condition on '{self.field}' needs exactly one of equals, in, regex, "
                f"min/max (got {given or 'none'})"
            )
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"field condition on '{self.field}': min {self.min} > max {self.max}")
        return self


class ActivityCondition(StrictModel):
    """The lead did something: activity types and/or assets, optionally within N days of as-of."""

    kind: Literal["activity"]
    types: list[str] = Field(default_factory=list)  # activity_type, any of (case-insensitive)
    assets: list[str] = Field(default_factory=list)  # asset_id consumed, any of (case-insensitive)
    asset_regex: str | None = None  # asset_id matches this regex (case-insensitive)
    within_days: int | None = Field(default=None, ge=1)  # only the last N days up to as-of
    same_product_group: bool = True  # only activities tagged with the rated product group
    min_count: int = Field(default=1, ge=1)

    @field_validator("asset_regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        return None if value is None else _check_regex(value)

    @model_validator(mode="after")
    def _something(self) -> ActivityCondition:
        if not (self.types or self.assets or self.asset_regex):
            raise ValueError("activity condition needs types, assets or asset_regex")
        return self


class AccountCondition(StrictModel):
    """The lead's account (leads.account_id): named account, target list, or listed ids."""

    kind: Literal["account"]
    named: bool | None = None  # accounts.named_account must equal this
    target: bool | None = None  # accounts.target_account must equal this
    account_ids: list[str] = Field(default_factory=list)  # a target list kept in the config

    @model_validator(mode="after")
    def _something(self) -> AccountCondition:
        if self.named is None and self.target is None and not self.account_ids:
            raise ValueError("account condition needs named, target or account_ids")
        return self


Condition = Annotated[
    FieldCondition | ActivityCondition | AccountCondition, Field(discriminator="kind")
]


class OverrideRule(StrictModel):
    """A business rule that overrides the rating; every condition must hold (AND)."""

    name: str = Field(min_length=1)
    owner: str = Field(min_length=1)  # who answers for the rule and reviews it
    review_by: date  # after this date the rule stops applying and rate warns
    conditions: list[Condition] = Field(min_length=1)
    action: Action = "fast_track"
    sla_tier: str | None = None


class SuggestConfig(StrictModel):
    """`rate --suggest`: how rep capacity turns into a daily intake of new MQLs."""

    working_days_per_week: int = Field(default=5, ge=1, le=7)  # reps take new leads on these
    leads_per_rep_per_day: float | None = Field(default=3.0, gt=0)  # intake per rep per working day
    daily_capacity_share: float = Field(default=0.1, gt=0, le=1)  # else: share of free slots
    default_capacity: int = Field(default=0, ge=0)  # open-lead capacity of reps with none recorded
    factors: list[float] = Field(default_factory=lambda: [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0])

    @field_validator("factors")
    @classmethod
    def _positive(cls, value: list[float]) -> list[float]:
        if not value or any(v <= 0 for v in value):
            raise ValueError("factors must be a non-empty list of positive numbers")
        return sorted(set(value))


class RateConfig(StrictModel):
    """Cutoffs, action matrix, minimum propensity, hysteresis and override rules."""

    cutoffs: Cutoffs = Field(default_factory=Cutoffs)
    group_cutoffs: dict[str, Cutoffs] = Field(default_factory=dict)
    matrix: dict[str, MatrixCell] = Field(default_factory=_default_matrix)
    min_propensity: float = Field(default=0.0, ge=0, le=1)
    hysteresis: Hysteresis = Field(default_factory=Hysteresis)
    overrides: list[OverrideRule] = Field(default_factory=list)
    suggest: SuggestConfig = Field(default_factory=SuggestConfig)

    @field_validator("matrix")
    @classmethod
    def _ratings(cls, value: dict[str, MatrixCell]) -> dict[str, MatrixCell]:
        bad = [k for k in value if not re.fullmatch(r"[A-D][1-4]", k)]
        if bad:
            raise ValueError(f"matrix keys must be ratings A1..D4, not {bad}")
        return value

    @model_validator(mode="after")
    def _unique_rules(self) -> RateConfig:
        names = [r.name for r in self.overrides]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"override rule names must be unique: {dupes}")
        return self

    def cutoffs_for(self, group: str) -> Cutoffs:
        """The group's own cutoffs, else the default."""
        return self.group_cutoffs.get(group, self.cutoffs)

    def cell(self, rating: str) -> MatrixCell:
        """The matrix cell of a rating; ratings left out of the matrix are nurtured."""
        return self.matrix.get(rating, MatrixCell())
