"""Calendar arithmetic in Asia/Shanghai: week boundaries, near midnight, holidays, quiet hours."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from handlers.schedule.times import (
    Rhythm,
    after_quiet_hours,
    current_period,
    prompt_periods,
    reminder_time,
)

SH = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc
NONE: frozenset[date] = frozenset()


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)


def test_weekly_prompt_is_monday_nine_local_even_though_utc_is_the_day_before() -> None:
    rhythm = Rhythm(weekday=0, at=time(0, 30))  # Monday 00:30 Shanghai = Sunday 16:30 UTC
    found = list(prompt_periods(rhythm, sh(2023, 11, 12, 0, 0), sh(2023, 11, 20, 23, 59), SH, NONE))
    assert found == [(date(2023, 11, 13), sh(2023, 11, 13, 0, 30)),
                     (date(2023, 11, 20), sh(2023, 11, 20, 0, 30))]
    assert found[0][1] == datetime(2023, 11, 12, 16, 30, tzinfo=UTC)


def test_every_two_weeks_follows_the_anchor() -> None:
    rhythm = Rhythm(weekday=0, every_weeks=2, anchor=date(2023, 11, 6))
    periods = [p for p, _ in prompt_periods(rhythm, sh(2023, 11, 1), sh(2023, 12, 10), SH, NONE)]
    assert periods == [date(2023, 11, 6), date(2023, 11, 20), date(2023, 12, 4)]


def test_a_prompt_on_a_holiday_moves_to_the_next_working_day_keeping_its_period() -> None:
    holidays = frozenset({date(2023, 10, 2), date(2023, 10, 3)})
    found = list(prompt_periods(Rhythm(), sh(2023, 10, 1), sh(2023, 10, 5), SH, holidays))
    assert found == [(date(2023, 10, 2), sh(2023, 10, 4, 9, 0))]
    assert reminder_time(Rhythm(), date(2023, 10, 2), SH, holidays) == sh(2023, 10, 4, 18, 0)


def test_current_period_across_the_week_boundary() -> None:
    assert current_period(Rhythm(), date(2023, 11, 19)) == date(2023, 11, 13)  # Sunday
    assert current_period(Rhythm(), date(2023, 11, 20)) == date(2023, 11, 20)  # Monday


def test_quiet_hours_hold_until_morning() -> None:
    quiet = (time(22, 0), time(8, 0))
    assert after_quiet_hours(sh(2023, 11, 9, 23, 59), SH, *quiet) == sh(2023, 11, 10, 8, 0)
    assert after_quiet_hours(sh(2023, 11, 10, 0, 1), SH, *quiet) == sh(2023, 11, 10, 8, 0)
    assert after_quiet_hours(sh(2023, 11, 10, 7, 59), SH, *quiet) == sh(2023, 11, 10, 8, 0)
    noon = sh(2023, 11, 10, 12, 0)
    assert after_quiet_hours(noon, SH, *quiet) == noon
    assert after_quiet_hours(sh(2023, 11, 10, 22, 0) - timedelta(seconds=1), SH, *quiet) \
        == sh(2023, 11, 10, 21, 59, 59)
