"""Assignment config: routing rules, teams, distribution, SLA tiers and pursuit plans (assign)."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import Field, field_validator, model_validator

from leadctl.config.base import StrictModel

RuleKind = Literal["account_owner", "continuity", "territory"]
Distribution = Literal["round_robin", "load_balanced", "value_balanced"]
Channel = Literal["call", "email", "voicemail", "social"]
OwnerScope = Literal["product_group", "lead"]
Weekday = Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
WEEKDAYS: list[str] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


def valid_time_zone(name: str) -> bool:
    """True when zoneinfo knows the IANA time zone `name`."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def parse_working_hours(text: str) -> tuple[int, int] | None:
    """'09:00-17:00' → (540, 1020) minutes after midnight; None when malformed or empty."""
    match = _HOURS.match(text.strip())
    if not match:
        return None
    start = int(match[1]) * 60 + int(match[2])
    end = int(match[3]) * 60 + int(match[4])
    if end > 24 * 60 or end <= start:
        return None
    return start, end


class RoutingRule(StrictModel):
    """One named routing rule; rules are tried in order and the first that matches wins.

    account_owner: the lead's matched account has an owner who can take it.
    continuity: the lead had an owner within `within_days` who can take it again.
    territory: the first team (of `teams`, default all) whose selectors match; the team's
    distribution then picks the rep, or the lead goes to overflow with the reason.
    """

    name: str
    kind: RuleKind
    # Filters: the rule is only tried for these product groups / actions / ratings (empty: all).
    product_groups: list[str] = Field(default_factory=list)
    actions: list[str] = Field(default_factory=list)
    ratings: list[str] = Field(default_factory=list)
    # account_owner: only accounts flagged as named accounts.
    named_accounts_only: bool = True
    # continuity: how recent the previous ownership must be.
    within_days: int = Field(default=90, ge=0)
    # account_owner / continuity: skip owners at capacity or out of office (then the next rule).
    respect_capacity: bool = True
    skip_out_of_office: bool = True
    # territory: teams to try, in order (empty: every team in `teams` order).
    teams: list[str] = Field(default_factory=list)


class Segment(StrictModel):
    """A company-size segment: companies with at least `min_employees` employees."""

    name: str
    min_employees: int = Field(ge=0)


class Team(StrictModel):
    """A sales team: which leads it takes (selectors, empty = any) and how it shares them."""

    name: str
    product_groups: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)  # ISO 3166-1 alpha-2
    states: list[str] = Field(default_factory=list)
    segments: list[str] = Field(default_factory=list)  # names from assign.segments, or "Unknown"
    industries: list[str] = Field(default_factory=list)
    # Members: these rep ids; empty: reps whose `team` column equals `name`.
    members: list[str] = Field(default_factory=list)
    distribution: Distribution = "value_balanced"
    # Only reps whose territories list the lead's region, country or state (reps listing none
    # cover the whole team territory).
    match_rep_territory: bool = True
    # Only reps whose product_groups list the lead's product group (reps listing none: all).
    match_rep_product_group: bool = True
    # Teams to offer the lead to, in order, when this team has no rep who can take it.
    overflow_to: list[str] = Field(default_factory=list)
    # SLA clock for reps without a usable time zone / working hours.
    time_zone: str | None = None
    working_hours: str | None = None

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is not None and parse_working_hours(value) is None:
            raise ValueError(f"working_hours must look like '09:00-17:00', not {value!r}")
        return value


class HolidayCalendar(StrictModel):
    """Public holidays of one country (python-holidays), plus company days off or on."""

    subdivision: str | None = None  # e.g. ENG for England, CA for California
    extra_dates: list[date] = Field(default_factory=list)  # company days off
    removed_dates: list[date] = Field(default_factory=list)  # holidays the company works


class Touch(StrictModel):
    """One planned touch of a pursuit plan."""

    channel: Channel
    day: int = Field(default=0, ge=0)  # business days after the first-touch deadline
    template: str


class PursuitPlan(StrictModel):
    """A sequence of touches and the persistence a rep owes the lead."""

    touches: list[Touch] = Field(min_length=1)
    min_attempts: int = Field(default=1, ge=0)  # persistence: at least this many attempts …
    within_days: int = Field(default=14, ge=1)  # … within this many days of assignment

    @model_validator(mode="after")
    def _ordered(self) -> PursuitPlan:
        days = [t.day for t in self.touches]
        if days != sorted(days):
            raise ValueError("touches must be listed in day order")
        return self


class SlaTier(StrictModel):
    """How soon the first touch is due: in business hours or business days (one of them)."""

    business_hours: float | None = Field(default=None, gt=0)
    business_days: float | None = Field(default=None, gt=0)  # × the owner's working-day length
    pursuit_plan: str | None = None

    @model_validator(mode="after")
    def _one_deadline(self) -> SlaTier:
        if (self.business_hours is None) == (self.business_days is None):
            raise ValueError("set exactly one of business_hours or business_days")
        return self


def _default_week() -> list[Weekday]:
    return ["Mon", "Tue", "Wed", "Thu", "Fri"]


def _default_rules() -> list[RoutingRule]:
    return [
        RoutingRule(name="named_account_owner", kind="account_owner"),
        RoutingRule(name="returning_lead", kind="continuity"),
        RoutingRule(name="territory", kind="territory"),
    ]


def _default_segments() -> list[Segment]:
    return [
        Segment(name="SMB", min_employees=0),
        Segment(name="Mid-Market", min_employees=200),
        Segment(name="Enterprise", min_employees=1000),
    ]


def _default_tiers() -> dict[str, SlaTier]:
    return {
        "fast_track": SlaTier(business_hours=4, pursuit_plan="fast_track"),
        "standard": SlaTier(business_days=2, pursuit_plan="standard"),
    }


def _default_plans() -> dict[str, PursuitPlan]:
    return {
        "fast_track": PursuitPlan(
            touches=[
                Touch(channel="call", day=0, template="fast_track_call_1"),
                Touch(channel="email", day=0, template="fast_track_email_1"),
                Touch(channel="call", day=1, template="fast_track_call_2"),
                Touch(channel="voicemail", day=1, template="fast_track_voicemail_1"),
                Touch(channel="social", day=3, template="fast_track_social_1"),
                Touch(channel="call", day=5, template="fast_track_call_3"),
            ],
            min_attempts=5,
            within_days=10,
        ),
        "standard": PursuitPlan(
            touches=[
                Touch(channel="email", day=0, template="standard_email_1"),
                Touch(channel="call", day=2, template="standard_call_1"),
                Touch(channel="email", day=5, template="standard_email_2"),
                Touch(channel="call", day=9, template="standard_call_2"),
            ],
            min_attempts=3,
            within_days=21,
        ),
    }


class AssignConfig(StrictModel):
    """Section `assign`: see configs/default.yaml for every key."""

    rules: list[RoutingRule] = Field(default_factory=_default_rules)
    teams: list[Team] = Field(default_factory=list)
    segments: list[Segment] = Field(default_factory=_default_segments)
    owner_scope: OwnerScope = "product_group"
    account_mode: bool = False
    default_capacity: int = Field(default=50, ge=0)
    excluded_roles: list[str] = Field(default_factory=list)
    role_weights: dict[str, float] = Field(default_factory=dict)
    rep_weights: dict[str, float] = Field(default_factory=dict)
    balance_half_life_days: float = Field(default=14.0, gt=0)
    tier_by_action: dict[str, str] = Field(
        default_factory=lambda: {"fast_track": "fast_track", "standard": "standard"}
    )
    default_tier: str = "standard"
    sla_tiers: dict[str, SlaTier] = Field(default_factory=_default_tiers)
    pursuit_plans: dict[str, PursuitPlan] = Field(default_factory=_default_plans)
    working_days: list[Weekday] = Field(default_factory=_default_week)
    default_time_zone: str = "UTC"
    default_working_hours: str = "09:00-17:00"
    holiday_countries: dict[str, str] = Field(default_factory=dict)
    holiday_calendars: dict[str, HolidayCalendar] = Field(default_factory=dict)

    @field_validator("default_working_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        if parse_working_hours(value) is None:
            raise ValueError(f"must look like '09:00-17:00', not {value!r}")
        return value

    @field_validator("role_weights", "rep_weights")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [k for k, v in value.items() if not v > 0]
        if bad:
            raise ValueError(f"weights must be > 0 (check {bad})")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> AssignConfig:
        names = [r.name for r in self.rules]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"rule names must be unique; repeated: {dup}")
        team_names = [t.name for t in self.teams]
        dup = sorted({n for n in team_names if team_names.count(n) > 1})
        if dup:
            raise ValueError(f"team names must be unique; repeated: {dup}")
        for rule in self.rules:
            unknown = [t for t in rule.teams if t not in team_names]
            if unknown:
                raise ValueError(f"rule {rule.name!r} names unknown team(s) {unknown}")
        for team in self.teams:
            unknown = [t for t in team.overflow_to if t not in team_names or t == team.name]
            if unknown:
                raise ValueError(
                    f"team {team.name!r} overflow_to names unknown team(s) or itself: {unknown}"
                )
        segment_names = {s.name for s in self.segments} | {"Unknown"}
        for team in self.teams:
            unknown = [s for s in team.segments if s not in segment_names]
            if unknown:
                raise ValueError(
                    f"team {team.name!r} names unknown segment(s) {unknown}; "
                    f"segments are {sorted(segment_names)}"
                )
        if not self.working_days:
            raise ValueError("working_days must list at least one day")
        zones = [self.default_time_zone, *self.holiday_countries]
        zones += [t.time_zone for t in self.teams if t.time_zone]
        bad_zones = sorted({z for z in zones if not valid_time_zone(z)})
        if bad_zones:
            raise ValueError(f"unknown time zone(s) {bad_zones}; use IANA names like Europe/London")
        supported = holidays.list_supported_countries()
        countries = {*self.holiday_countries.values(), *self.holiday_calendars}
        bad_countries = sorted(c for c in countries if c not in supported)
        if bad_countries:
            raise ValueError(f"no holiday calendar for country code(s) {bad_countries}")
        for code, calendar in self.holiday_calendars.items():
            subdivisions = supported.get(code, [])
            if calendar.subdivision is not None and calendar.subdivision not in subdivisions:
                raise ValueError(
                    f"holiday_calendars.{code}.subdivision {calendar.subdivision!r} is not one of "
                    f"{subdivisions}"
                )
        tiers = set(self.sla_tiers)
        if self.default_tier not in tiers:
            raise ValueError(
                f"default_tier {self.default_tier!r} is not in sla_tiers {sorted(tiers)}"
            )
        bad = {a: t for a, t in self.tier_by_action.items() if t not in tiers}
        if bad:
            raise ValueError(
                f"tier_by_action names unknown tier(s) {bad}; sla_tiers are {sorted(tiers)}"
            )
        for name, tier in self.sla_tiers.items():
            if tier.pursuit_plan is not None and tier.pursuit_plan not in self.pursuit_plans:
                raise ValueError(
                    f"sla_tiers.{name}.pursuit_plan {tier.pursuit_plan!r} is not in pursuit_plans"
                )
        return self
