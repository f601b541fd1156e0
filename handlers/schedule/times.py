"""Calendar arithmetic in the configured time zone. Pure functions: no database, no clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from handlers.calendar.workdays import WorkCalendar

WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


@dataclass(frozen=True)
class Rhythm:
    """A branch's 述学 rhythm (the defaults: weekly, Monday 09:00, reminder next day 18:00)."""

    weekday: int = 0
    at: time = time(9, 0)
    every_weeks: int = 1
    anchor: date | None = None
    remind_after_days: int = 1
    remind_at: time = time(18, 0)

    def is_prompt_day(self, day: date) -> bool:
        if day.weekday() != self.weekday:
            return False
        if self.every_weeks == 1 or self.anchor is None:
            return True
        return ((day - self.anchor).days // 7) % self.every_weeks == 0


def parse_hhmm(text: str) -> time:
    hours, _, minutes = text.strip().partition(":")
    return time(int(hours), int(minutes or 0))


def local_days(start: datetime, end: datetime, tz: ZoneInfo) -> Iterator[date]:
    day, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def at_local(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """``day`` at ``clock`` in ``tz``, as a UTC datetime."""
    return datetime.combine(day, clock, tzinfo=tz).astimezone(timezone.utc)


def prompt_periods(rhythm: Rhythm, start: datetime, end: datetime, tz: ZoneInfo,
                   calendar: WorkCalendar) -> Iterator[tuple[date, datetime]]:
    """(period, when to prompt) for every prompt due in [start, end].

    The period is the scheduled day (it names the 述学 round); a prompt that falls on a holiday
    goes out on the next workday (a make-up Saturday too) at the same time, still for that period.
    """
    for day in local_days(start - timedelta(days=14), end, tz):
        if rhythm.is_prompt_day(day):
            when = at_local(calendar.after_holiday(day), rhythm.at, tz)
            if start <= when <= end:
                yield day, when


def reminder_time(rhythm: Rhythm, period: date, tz: ZoneInfo, calendar: WorkCalendar) -> datetime:
    day = calendar.after_holiday(period + timedelta(days=rhythm.remind_after_days))
    return at_local(day, rhythm.remind_at, tz)


def current_period(rhythm: Rhythm, today: date) -> date:
    """The newest prompt day on or before ``today`` (the round a 述学 answer belongs to)."""
    day = today
    for _ in range(7 * max(rhythm.every_weeks, 1) + 1):
        if rhythm.is_prompt_day(day):
            return day
        day -= timedelta(days=1)
    return today - timedelta(days=today.weekday())


def after_quiet_hours(moment: datetime, tz: ZoneInfo, quiet_start: time, quiet_end: time) -> datetime:
    """``moment``, or the end of the quiet hours it falls in (e.g. 22:00–08:00 → 08:00)."""
    local = moment.astimezone(tz)
    clock = local.timetz().replace(tzinfo=None)
    wraps = quiet_start > quiet_end
    quiet = (clock >= quiet_start or clock < quiet_end) if wraps else (quiet_start <= clock < quiet_end)
    if not quiet:
        return moment
    day = local.date() + timedelta(days=1) if wraps and clock >= quiet_start else local.date()
    return at_local(day, quiet_end, tz)
