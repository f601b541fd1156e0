"""The office's campaign calendar (a TOML file): milestones, holidays and branches' 述学 rhythms.

Loading is all or nothing: every problem is reported with its line, and nothing is written unless
the whole file is right. Loading again replaces the milestones and holidays (milestones by key).

    [[milestone]]
    key = "dushuban"                 # stable id; a new key is a new milestone
    name = "读书班结束"
    date = 2023-11-10
    branches = ["机关第一党支部"]      # optional: default every branch
    roles = ["支部书记", "支委"]        # optional: 党员 支委 支部书记 办公室; default everyone
    remind_days = [7, 3, 1, 0]       # optional: days before; 0 = on the day

    [[holiday]]
    date = 2023-10-02
    name = "国庆节"

    [[schedule]]                     # a branch's 述学 rhythm
    branch = "机关第一党支部"
    weekday = "周一"
    time = "09:00"
    every_weeks = 2                  # optional, 1 or 2
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from handlers.core.i18n import Translator
from handlers.schedule.planner import DEFAULT_MILESTONE_DAYS
from handlers.schedule.times import WEEKDAYS
from storage.db import Session
from storage.models import Holiday, Milestone
from storage.repositories.calendar import CalendarRepository
from storage.repositories.orgs import OrgRepository
from storage.repositories.shuxue import ShuxueRepository
from storage.vocabulary import ROLE_NAMES


class CalendarError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MilestoneEntry(_Strict):
    key: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=100)
    date: date
    branches: list[str] = []
    roles: list[str] = []
    remind_days: list[int] = list(DEFAULT_MILESTONE_DAYS)

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, roles: list[str]) -> list[str]:
        unknown = [r for r in roles if r not in ROLE_NAMES]
        if unknown:
            raise ValueError(f"未知角色 {'、'.join(unknown)}（可用：{'、'.join(ROLE_NAMES)}）")
        return roles

    @field_validator("remind_days")
    @classmethod
    def _sane_days(cls, days: list[int]) -> list[int]:
        if any(d < 0 or d > 365 for d in days):
            raise ValueError("提前天数应在 0 到 365 之间")
        return sorted(set(days), reverse=True)


class HolidayEntry(_Strict):
    date: date
    name: str = Field(default="节假日", max_length=50)
    until: date | None = None  # a span of days off, inclusive


class ScheduleEntry(_Strict):
    branch: str
    weekday: str
    time: str = Field(default="09:00", pattern=r"^([01]?\d|2[0-3]):[0-5]\d$")
    every_weeks: int = Field(default=1, ge=1, le=2)

    @field_validator("weekday")
    @classmethod
    def _weekday(cls, value: str) -> str:
        if value not in WEEKDAYS:
            raise ValueError(f"应为 {'、'.join(WEEKDAYS)} 之一")
        return value


class CalendarFile(_Strict):
    milestone: list[MilestoneEntry] = []
    holiday: list[HolidayEntry] = []
    schedule: list[ScheduleEntry] = []


def _table_lines(text: str) -> dict[str, list[int]]:
    """Line numbers of each ``[[name]]`` header, in order, to name the entry a problem is in."""
    lines: dict[str, list[int]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = re.match(r"\s*\[\[\s*(\w+)\s*\]\]", line)
        if match:
            lines.setdefault(match.group(1), []).append(number)
    return lines


def parse_calendar(t: Translator, text: str) -> CalendarFile:
    try:
        raw: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CalendarError([t("calendar.syntax", error=str(error))]) from error
    try:
        return CalendarFile.model_validate(raw)
    except ValidationError as error:
        headers = _table_lines(text)
        problems = []
        for issue in error.errors():
            loc = issue["loc"]
            where = t("calendar.top")
            if len(loc) >= 2 and isinstance(loc[1], int) and str(loc[0]) in headers:
                line = headers[str(loc[0])][loc[1]]
                field = ".".join(str(part) for part in loc[2:]) or str(loc[0])
                where = t("calendar.where", line=line, table=loc[0], field=field)
            problems.append(f"{where}：{issue['msg'].removeprefix('Value error, ')}")
        raise CalendarError(problems) from error


async def load_calendar(t: Translator, session: Session, path: Path) -> tuple[int, int, int]:
    """Replace milestones and holidays with the file's, and set the named branches' rhythms.

    Returns (milestones, holiday days, schedules). Raises CalendarError, writing nothing."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CalendarError([t("calendar.unreadable", error=type(error).__name__)]) from error
    calendar = parse_calendar(t, text)
    headers = _table_lines(text)
    branches = {name: org_id for org_id, name in await OrgRepository(session).branches()}
    problems = []
    keys: set[str] = set()
    for i, entry in enumerate(calendar.milestone):
        line = headers["milestone"][i]
        if entry.key in keys:
            problems.append(t("calendar.duplicate_key", line=line, key=entry.key))
        keys.add(entry.key)
        problems += [t("calendar.unknown_branch", line=line, branch=b)
                     for b in entry.branches if b not in branches]
    for i, entry in enumerate(calendar.schedule):
        if entry.branch not in branches:
            problems.append(t("calendar.unknown_branch", line=headers["schedule"][i], branch=entry.branch))
    for i, entry in enumerate(calendar.holiday):
        if entry.until is not None and entry.until < entry.date:
            problems.append(t("calendar.bad_span", line=headers["holiday"][i]))
    if problems:
        raise CalendarError(problems)

    days: dict[date, str] = {}
    for h in calendar.holiday:
        day = h.date
        while day <= (h.until or h.date):
            days[day] = h.name
            day += timedelta(days=1)
    await CalendarRepository(session).replace(
        [Milestone(key=m.key, name=m.name, due=m.date, branches=m.branches, roles=m.roles,
                   remind_days=m.remind_days) for m in calendar.milestone],
        [Holiday(day=day, name=name) for day, name in sorted(days.items())])
    for s in calendar.schedule:
        await ShuxueRepository(session).set_schedule(
            branches[s.branch], weekday=WEEKDAYS.index(s.weekday), time=s.time,
            every_weeks=s.every_weeks, enabled=True)
    return len(calendar.milestone), len(days), len(calendar.schedule)


async def calendar_lines(t: Translator, session: Session) -> list[str]:
    lines = []
    calendar = CalendarRepository(session)
    for m in await calendar.milestones():
        scope = "、".join(m.branches) or t("calendar.all_branches")
        roles = "、".join(m.roles) or t("calendar.everyone")
        days = "、".join(str(d) for d in m.remind_days)
        lines.append(t("calendar.milestone_line", due=m.due.isoformat(), name=m.name, scope=scope,
                       roles=roles, days=days))
    for h in await calendar.holidays():
        lines.append(t("calendar.holiday_line", day=h.day.isoformat(), name=h.name))
    return lines
