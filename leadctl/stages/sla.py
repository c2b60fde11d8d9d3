"""Business-hours deadline arithmetic: SLA first-touch deadlines and pursuit-plan due dates.

A deadline depends only on (time zone, working hours, holiday country, tier, start), and a night
has few distinct combinations, so each combination is computed once in Python (zoneinfo does the
DST work) and joined back onto the leads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import polars as pl

from leadctl.config.assign import WEEKDAYS, AssignConfig, parse_working_hours
from leadctl.errors import ConfigError
from leadctl.schemas import UTC_DATETIME

# A deadline further out than this means the calendar has (almost) no working days.
_MAX_DAYS = 3660


@dataclass(frozen=True)
class Calendar:
    """When one owner works: local working window, working weekdays and days off."""

    time_zone: str
    start_min: int
    end_min: int
    working_days: frozenset[int]  # 0 = Monday
    days_off: frozenset[date]

    @property
    def day_hours(self) -> float:
        return (self.end_min - self.start_min) / 60

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.working_days and day not in self.days_off

    def window(self, day: date) -> tuple[datetime, datetime]:
        """The working window of a local day as UTC datetimes (DST-aware)."""
        zone = ZoneInfo(self.time_zone)

        def at(minutes: int) -> datetime:
            local_day = day + timedelta(days=minutes // 1440)
            m = minutes % 1440
            return datetime.combine(local_day, time(m // 60, m % 60), tzinfo=zone).astimezone(UTC)

        return at(self.start_min), at(self.end_min)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(self.time_zone)).date()


def add_business_hours(start: datetime, hours: float, cal: Calendar) -> datetime:
    """The moment `hours` of working time after `start` (an aware datetime), in UTC."""
    remaining = timedelta(hours=hours)
    day = cal.local_date(start)
    for _ in range(_MAX_DAYS):
        if cal.is_working_day(day):
            opens, closes = cal.window(day)
            if start < closes:
                begin = max(start, opens)
                available = closes - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        day += timedelta(days=1)
    raise ConfigError(
        f"no working time within {_MAX_DAYS} days in time zone {cal.time_zone}: "
        "check assign.working_days and holiday_calendars"
    )


def nth_working_day(day: date, n: int, cal: Calendar) -> date:
    """The n-th working day after `day` (n = 0: `day` itself)."""
    for _ in range(_MAX_DAYS):
        if n <= 0:
            return day
        day += timedelta(days=1)
        if cal.is_working_day(day):
            n -= 1
    raise ConfigError(f"no working day within {_MAX_DAYS} days in time zone {cal.time_zone}")


def days_off(country: str | None, cfg: AssignConfig, years: range) -> frozenset[date]:
    """Public holidays of `country` in `years`, plus the company's extra days, minus removed."""
    if not country:
        return frozenset()
    calendar = cfg.holiday_calendars.get(country)
    subdivision = calendar.subdivision if calendar else None
    found = set(holidays.country_holidays(country, subdiv=subdivision, years=list(years)))
    if calendar:
        found |= set(calendar.extra_dates)
        found -= set(calendar.removed_dates)
    return frozenset(found)


def assigned_at(as_of: date) -> datetime:
    """The moment a night's assignments start their SLA clock: the as-of date, 00:00 UTC."""
    return datetime.combine(as_of, time(0), tzinfo=UTC)


def _calendars(combos: pl.DataFrame, cfg: AssignConfig, as_of: date) -> dict[tuple, Calendar]:
    years = range(as_of.year - 1, as_of.year + 3)
    working = frozenset(WEEKDAYS.index(d) for d in cfg.working_days)
    cache: dict[str | None, frozenset[date]] = {}
    out: dict[tuple, Calendar] = {}
    for tz, hours, country in combos.select("time_zone", "working_hours", "holiday_country").rows():
        if country not in cache:
            cache[country] = days_off(country, cfg, years)
        parsed = parse_working_hours(hours)
        if parsed is None:  # callers resolve hours first; this is a programming error
            raise ValueError(f"unparsed working hours {hours!r}")
        out[(tz, hours, country)] = Calendar(tz, parsed[0], parsed[1], working, cache[country])
    return out


CLOCK_COLUMNS = ["time_zone", "working_hours", "holiday_country", "sla_tier"]


def sla_deadlines(clocks: pl.DataFrame, cfg: AssignConfig, as_of: date) -> pl.DataFrame:
    """First-touch deadline per distinct clock: CLOCK_COLUMNS + sla_due_at (UTC).

    `clocks` holds resolved (valid) time zones and working hours; tiers must be configured.
    """
    combos = clocks.select(CLOCK_COLUMNS).unique().sort(CLOCK_COLUMNS, nulls_last=True)
    cals = _calendars(combos, cfg, as_of)
    start = assigned_at(as_of)
    due = []
    for tz, hours, country, tier_name in combos.rows():
        tier = cfg.sla_tiers[tier_name]
        cal = cals[(tz, hours, country)]
        span = tier.business_hours if tier.business_hours is not None else 0.0
        if tier.business_days is not None:
            span = tier.business_days * cal.day_hours
        due.append(add_business_hours(start, span, cal))
    return combos.with_columns(pl.Series("sla_due_at", due, dtype=UTC_DATETIME))


def touch_schedule(clocks: pl.DataFrame, cfg: AssignConfig, as_of: date) -> pl.DataFrame:
    """Every planned touch per distinct clock: CLOCK_COLUMNS + pursuit_plan, touch_number,
    channel, template, due_date (owner's local date), due_at (UTC).

    Touch `day` 0 is due at the first-touch deadline; day d at the close of the d-th working day
    after it.
    """
    deadlines = sla_deadlines(clocks, cfg, as_of)
    cals = _calendars(deadlines, cfg, as_of)
    rows: list[tuple] = []
    for tz, hours, country, tier_name, due in deadlines.select(*CLOCK_COLUMNS, "sla_due_at").rows():
        plan_name = cfg.sla_tiers[tier_name].pursuit_plan
        if plan_name is None:
            continue
        cal = cals[(tz, hours, country)]
        first_day = cal.local_date(due)
        for number, touch in enumerate(cfg.pursuit_plans[plan_name].touches, start=1):
            if touch.day == 0:
                when, local_day = due, first_day
            else:
                local_day = nth_working_day(first_day, touch.day, cal)
                when = cal.window(local_day)[1]
            rows.append(
                (
                    tz,
                    hours,
                    country,
                    tier_name,
                    plan_name,
                    number,
                    touch.channel,
                    touch.template,
                    local_day,
                    when,
                )
            )
    schema = pl.Schema(
        {
            "time_zone": pl.String(),
            "working_hours": pl.String(),
            "holiday_country": pl.String(),
            "sla_tier": pl.String(),
            "pursuit_plan": pl.String(),
            "touch_number": pl.Int32(),
            "channel": pl.String(),
            "template": pl.String(),
            "due_date": pl.Date(),
            "due_at": UTC_DATETIME,
        }
    )
    return pl.DataFrame(rows, schema=schema, orient="row")
