"""Who the pushes go to: branches, their groups and members on the running platforms (a member
on one of them only), leave, and the working days (statutory holidays, 调休, the office's days off)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from handlers.calendar.workdays import WorkCalendar
from handlers.schedule.times import Rhythm, parse_hhmm
from storage.db import Session
from storage.models import Organization, Role, ShuxueSchedule
from storage.queries.audience import audience_rows


@dataclass(frozen=True)
class Person:
    member_id: int
    name: str
    role: Role
    org_id: int
    platform: str  # where they are reached (their preferred platform of those running)
    chat_id: str  # their private chat with the bot there


@dataclass
class Branch:
    org: Organization
    rhythm: Rhythm
    groups: list[tuple[str, str]] = field(default_factory=list)  # (platform, chat id)
    people: list[Person] = field(default_factory=list)

    @property
    def secretaries(self) -> list[Person]:
        return [p for p in self.people if p.role is Role.secretary]


def rhythm_of(schedule: ShuxueSchedule | None) -> Rhythm | None:
    """The branch's rhythm; the defaults when it set none; None when it switched 述学 off."""
    if schedule is None:
        return Rhythm()
    if not schedule.enabled:
        return None
    return Rhythm(weekday=schedule.weekday, at=parse_hhmm(schedule.time),
                  every_weeks=schedule.every_weeks, anchor=schedule.anchor,
                  remind_after_days=schedule.remind_after_days,
                  remind_at=parse_hhmm(schedule.remind_time))


@dataclass
class Audience:
    branches: list[Branch]
    offices: list[Person]
    calendar: WorkCalendar
    leaves: dict[int, list[tuple[date, date]]]

    def on_leave(self, member_id: int, day: date) -> bool:
        return any(start <= day <= until for start, until in self.leaves.get(member_id, []))

    def person(self, member_id: int) -> Person | None:
        return self._people.get(member_id)

    def secretaries_of(self, org_id: int) -> list[Person]:
        branch = self._branches.get(org_id)
        return branch.secretaries if branch else []

    def __post_init__(self) -> None:
        self._people = {p.member_id: p for b in self.branches for p in b.people}
        self._branches = {b.org.id: b for b in self.branches}


async def load_audience(session: Session, platforms: Sequence[str], today: date) -> Audience:
    rows = await audience_rows(session, platforms, today)
    branches = {org.id: Branch(org, rhythm) for org in rows.branches
                if (rhythm := rhythm_of(rows.schedules.get(org.id))) is not None}
    for org_id, platform, chat_id in rows.groups:
        if org_id in branches:
            branches[org_id].groups.append((platform, chat_id))
    offices: list[Person] = []
    for row in rows.people:
        person = Person(row.member_id, row.name, row.role, row.org_id, row.platform, row.chat_id)
        if row.role is Role.office:
            offices.append(person)
        elif row.org_id in branches:
            branches[row.org_id].people.append(person)
    return Audience(list(branches.values()), offices, WorkCalendar(rows.holidays), rows.leaves)
