"""Business-hours SLA arithmetic: weekends, holidays, time zones, DST, business days, touches."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from pydantic import ValidationError

from leadctl.config.assign import AssignConfig, HolidayCalendar
from leadctl.stages.sla import (
    Calendar,
    add_business_hours,
    days_off,
    nth_working_day,
    sla_deadlines,
    touch_schedule,
)

NY = ZoneInfo("America/New_York")
WEEKDAYS = frozenset(range(5))


def cal(
    tz: str = "America/New_York",
    hours: tuple[int, int] = (9 * 60, 17 * 60),
    off: set[date] | None = None,
) -> Calendar:
    return Calendar(tz, hours[0], hours[1], WEEKDAYS, frozenset(off or set()))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def clocks(rows: list[tuple[str, str, str | None, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "time_zone": pl.String,
            "working_hours": pl.String,
            "holiday_country": pl.String,
            "sla_tier": pl.String,
        },
        orient="row",
    )


def test_hours_within_one_day() -> None:
    start = datetime(2026, 11, 18, 10, 0, tzinfo=NY)  # Wednesday
    assert add_business_hours(start, 4, cal()) == datetime(2026, 11, 18, 14, 0, tzinfo=NY)


def test_before_opening_starts_at_opening() -> None:
    start = datetime(2026, 11, 18, 6, 30, tzinfo=NY)
    assert add_business_hours(start, 1.5, cal()) == datetime(2026, 11, 18, 10, 30, tzinfo=NY)


def test_friday_afternoon_rolls_over_the_weekend() -> None:
    start = datetime(2026, 11, 20, 15, 0, tzinfo=NY)  # Friday 15:00, two hours left that day
    assert add_business_hours(start, 4, cal()) == datetime(2026, 11, 23, 11, 0, tzinfo=NY)


def test_saturday_start_waits_for_monday() -> None:
    start = datetime(2026, 11, 21, 12, 0, tzinfo=NY)
    assert add_business_hours(start, 2, cal()) == datetime(2026, 11, 23, 11, 0, tzinfo=NY)


def test_holiday_is_skipped() -> None:
    thanksgiving = date(2026, 11, 26)
    start = datetime(2026, 11, 25, 15, 0, tzinfo=NY)  # Wednesday before Thanksgiving
    assert add_business_hours(start, 4, cal(off={thanksgiving})) == datetime(
        2026, 11, 27, 11, 0, tzinfo=NY
    )
    # Without the holiday the deadline is on Thursday.
    assert add_business_hours(start, 4, cal()) == datetime(2026, 11, 26, 11, 0, tzinfo=NY)


def test_dst_start_shifts_the_utc_deadline() -> None:
    """US clocks go forward on 2026-03-08: 09:00 local is 14:00 UTC before, 13:00 UTC after."""
    before = add_business_hours(utc(2026, 3, 6), 4, cal())  # Friday, EST
    after = add_business_hours(utc(2026, 3, 9), 4, cal())  # Monday, EDT
    assert before == utc(2026, 3, 6, 18)
    assert after == utc(2026, 3, 9, 17)


def test_span_across_dst_counts_working_time_not_wall_time() -> None:
    start = datetime(2026, 3, 6, 16, 0, tzinfo=NY)  # Friday 16:00 EST, 1 h left
    due = add_business_hours(start, 2, cal())
    assert due == datetime(2026, 3, 9, 10, 0, tzinfo=NY)  # Monday 10:00 EDT
    assert due == utc(2026, 3, 9, 14)


def test_dst_end_in_europe() -> None:
    """Europe/London goes back on 2026-10-25: 09:00 local is 08:00 UTC before, 09:00 after."""
    london = cal("Europe/London")
    assert add_business_hours(utc(2026, 10, 23), 4, london) == utc(2026, 10, 23, 12)
    assert add_business_hours(utc(2026, 10, 26), 4, london) == utc(2026, 10, 26, 13)


def test_working_hours_past_midnight_end() -> None:
    late = cal(hours=(20 * 60, 24 * 60))
    start = datetime(2026, 11, 18, 22, 0, tzinfo=NY)
    assert add_business_hours(start, 3, late) == datetime(2026, 11, 19, 21, 0, tzinfo=NY)


def test_nth_working_day_skips_weekend_and_holidays() -> None:
    c = cal(off={date(2026, 11, 26)})
    assert nth_working_day(date(2026, 11, 25), 0, c) == date(2026, 11, 25)
    assert nth_working_day(date(2026, 11, 25), 1, c) == date(2026, 11, 27)
    assert nth_working_day(date(2026, 11, 25), 2, c) == date(2026, 11, 30)


def test_days_off_uses_country_calendar_extras_and_removals() -> None:
    cfg = AssignConfig(
        holiday_calendars={
            "US": HolidayCalendar(
                extra_dates=[date(2026, 11, 27)], removed_dates=[date(2026, 10, 12)]
            )
        }
    )
    off = days_off("US", cfg, range(2026, 2027))
    assert date(2026, 11, 26) in off  # Thanksgiving
    assert date(2026, 11, 27) in off  # company day off
    assert date(2026, 10, 12) not in off  # Columbus Day worked
    assert days_off(None, cfg, range(2026, 2027)) == frozenset()
    gb = days_off(
        "GB",
        AssignConfig(holiday_calendars={"GB": HolidayCalendar(subdivision="ENG")}),
        range(2026, 2027),
    )
    assert date(2026, 8, 31) in gb  # Summer bank holiday (England)


def test_sla_deadlines_per_time_zone_and_tier() -> None:
    cfg = AssignConfig(holiday_countries={"America/New_York": "US", "Asia/Singapore": "SG"})
    frame = clocks(
        [
            ("America/New_York", "09:00-17:00", "US", "fast_track"),
            ("Asia/Singapore", "10:00-18:00", "SG", "fast_track"),
            ("Europe/London", "09:00-17:00", None, "standard"),
            ("America/New_York", "09:00-17:00", "US", "fast_track"),  # duplicates collapse
        ]
    )
    out = sla_deadlines(frame, cfg, date(2026, 11, 20)).sort("time_zone")
    assert out.height == 3
    due = dict(zip(out["time_zone"].to_list(), out["sla_due_at"].to_list(), strict=True))
    # Friday 2026-11-20 00:00 UTC: New York is still Thursday evening; opens 09:00 EST = 14:00 UTC.
    assert due["America/New_York"] == utc(2026, 11, 20, 18)
    # Singapore (UTC+8) is already Friday 08:00; opens 10:00 = 02:00 UTC.
    assert due["Asia/Singapore"] == utc(2026, 11, 20, 6)
    # Standard: 2 business days = 16 working hours, Friday 09:00 → Monday 17:00 London.
    assert due["Europe/London"] == utc(2026, 11, 23, 17)


def test_business_days_use_the_owner_day_length() -> None:
    cfg = AssignConfig()
    frame = clocks([("UTC", "08:00-12:00", None, "standard")])  # 4-hour days
    out = sla_deadlines(frame, cfg, date(2026, 11, 18))  # Wednesday
    assert out["sla_due_at"][0] == utc(2026, 11, 19, 12)  # two 4-hour days: Thursday close


def test_holiday_country_moves_the_deadline() -> None:
    cfg = AssignConfig(holiday_countries={"America/New_York": "US"})
    frame = clocks(
        [
            ("America/New_York", "09:00-17:00", "US", "fast_track"),
            ("America/New_York", "09:00-17:00", None, "fast_track"),
        ]
    )
    out = sla_deadlines(frame, cfg, date(2026, 11, 26)).sort("holiday_country", nulls_last=True)
    assert out["sla_due_at"].to_list() == [utc(2026, 11, 27, 18), utc(2026, 11, 26, 18)]


def test_touch_schedule_offsets_in_working_days() -> None:
    cfg = AssignConfig(holiday_countries={"America/New_York": "US"})
    frame = clocks([("America/New_York", "09:00-17:00", "US", "fast_track")])
    out = touch_schedule(frame, cfg, date(2026, 11, 25))
    plan = cfg.pursuit_plans["fast_track"]
    assert out["touch_number"].to_list() == list(range(1, len(plan.touches) + 1))
    assert out["channel"].to_list() == [t.channel for t in plan.touches]
    # Day 0: the first-touch deadline (Wed 13:00 EST); day 1 skips Thanksgiving → Friday close.
    assert out["due_at"][0] == utc(2026, 11, 25, 18)
    assert out["due_date"][2] == date(2026, 11, 27)
    assert out["due_at"][2] == utc(2026, 11, 27, 22)
    assert out["due_date"][4] == date(2026, 12, 1)  # day 3: Fri → Mon, Tue


def test_unknown_time_zone_and_empty_week_are_config_errors() -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        AssignConfig(default_time_zone="Mars/Olympus")
    with pytest.raises(ValidationError, match="working_days"):
        AssignConfig(working_days=[])
    with pytest.raises(ValidationError, match="no holiday calendar"):
        AssignConfig(holiday_countries={"UTC": "XX"})
    with pytest.raises(ValidationError, match="exactly one"):
        AssignConfig.model_validate({"sla_tiers": {"x": {"business_hours": 2, "business_days": 1}}})
