"""Calendar arithmetic in Asia/Shanghai: week boundaries, near midnight, holidays, quiet hours."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from handlers.calendar.workdays import WorkCalendar
from handlers.schedule.times import (
    Rhythm,
    after_quiet_hours,
    current_period,
    prompt_periods,
    reminder_time,
)

SH = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc
NONE = WorkCalendar()  # the statutory calendar only


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
    # 国庆节 2023: 9月29日–10月6日 off, Saturday 10月7日 and Sunday 10月8日 worked (调休), with
    # nobody typing it: the prompt of Monday 10月2日 goes out on the make-up Saturday
    found = list(prompt_periods(Rhythm(), sh(2023, 10, 1), sh(2023, 10, 9, 12), SH, NONE))
    assert found == [(date(2023, 10, 2), sh(2023, 10, 7, 9, 0)),
                     (date(2023, 10, 9), sh(2023, 10, 9, 9, 0))]
    assert reminder_time(Rhythm(), date(2023, 10, 2), SH, NONE) == sh(2023, 10, 7, 18, 0)
    # the office's own day off on top: Monday 11月13日 moves to Tuesday
    office = WorkCalendar(frozenset({date(2023, 11, 13)}))
    found = list(prompt_periods(Rhythm(), sh(2023, 11, 12), sh(2023, 11, 15), SH, office))
    assert found == [(date(2023, 11, 13), sh(2023, 11, 14, 9, 0))]
    # a rhythm set on Saturday stays on an ordinary Saturday
    saturday = Rhythm(weekday=5)
    found = list(prompt_periods(saturday, sh(2023, 11, 17), sh(2023, 11, 19), SH, NONE))
    assert found == [(date(2023, 11, 18), sh(2023, 11, 18, 9, 0))]


def test_workdays_follow_the_statutory_calendar_and_the_file() -> None:
    calendar = WorkCalendar(frozenset({date(2023, 10, 7)}))  # the office gives the 调休 day off
    assert not NONE.is_workday(date(2023, 10, 2)) and NONE.is_holiday(date(2023, 10, 2))
    assert NONE.is_workday(date(2023, 10, 7)) and NONE.is_makeup_workday(date(2023, 10, 7))
    assert not NONE.is_workday(date(2023, 11, 18)) and not NONE.is_holiday(date(2023, 11, 18))
    assert not calendar.is_workday(date(2023, 10, 7)) and calendar.is_holiday(date(2023, 10, 7))
    assert NONE.next_workday(date(2023, 9, 29)) == date(2023, 10, 7)
    assert NONE.last_workday(date(2023, 10, 6)) == date(2023, 9, 28)
    # a year the package has no data for yet: weekends only
    assert NONE.is_workday(date(2099, 10, 1)) is (date(2099, 10, 1).weekday() < 5)


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
