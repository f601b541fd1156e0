"""The office's sheets besides the roster: 结对居村 (pairings), 调研课题 (research topics) and past
述学 (for a campaign that began before the bot). Each is checked whole before anything is written:
one bad line refuses the file, every bad line named.

Columns (first row; any of the names):
- 结对: 支部, 姓名, 结对居村
- 课题: 支部, 课题, 负责人, 结题日期 (optional)
- 述学: 支部, 姓名, 述学日期 (the period's first day), 自学情况, 调研情况, 为民办实事情况
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from handlers.core.i18n import Translator
from handlers.imports.tables import Refused, Table, columns, day, rows
from storage.db import Session
from storage.models import Member, Organization, OrgKind
from storage.repositories.members import MemberRepository
from storage.repositories.orgs import OrgRepository
from storage.repositories.pairings import PairingRepository
from storage.repositories.shuxue import ShuxueRepository
from storage.repositories.topics import TopicRepository

BRANCH = ("支部", "所在支部", "branch")
NAME = ("姓名", "干部", "name")
MAX_PLACE, MAX_TITLE, MAX_TEXT = 100, 100, 2000


@dataclass
class _Lookups:
    """Branches and members by name, read once per file."""

    session: Session
    branches: dict[str, Organization | None]
    members: dict[tuple[int, str], list[Member]]

    async def branch(self, name: str) -> Organization | None:
        if name not in self.branches:
            org = await OrgRepository(self.session).by_name(name)
            self.branches[name] = org if org is not None and org.kind is OrgKind.branch else None
        return self.branches[name]

    async def member(self, org: Organization, name: str) -> list[Member]:
        if (org.id, name) not in self.members:
            self.members[(org.id, name)] = await MemberRepository(self.session).by_name(name, org)
        return self.members[(org.id, name)]


async def _who(t: Translator, look: _Lookups, line: int, values: dict[str, str],
               problems: list[str], *, column: str = "name") -> tuple[Organization, Member | None] | None:
    """The line's branch and member (by name in that branch), or the problem said."""
    if not values["branch"]:
        problems.append(t("roster.no_branch", line=line))
        return None
    org = await look.branch(values["branch"])
    if org is None:
        problems.append(t("import.unknown_branch", line=line, branch=values["branch"]))
        return None
    name = values[column]
    if not name:
        problems.append(t("import.no_name", line=line))
        return None
    found = await look.member(org, name)
    if not found:
        problems.append(t("import.unknown_member", line=line, name=name, branch=org.name))
        return None
    if len(found) > 1:
        problems.append(t("import.ambiguous_member", line=line, name=name, branch=org.name))
        return None
    return org, found[0]


def _text(t: Translator, line: int, label: str, value: str, limit: int, problems: list[str]) -> bool:
    if not value:
        problems.append(t("import.empty_cell", line=line, column=label))
        return False
    if len(value) > limit:
        problems.append(t("import.too_long", line=line, column=label, max=limit))
        return False
    return True


Check = Callable[[Translator, _Lookups, int, dict[str, str], list[str], date], Awaitable[Any]]
Store = Callable[[Session, list[Any], ZoneInfo], Awaitable[int]]


@dataclass(frozen=True)
class SheetKind:
    """One kind of sheet: its columns, how a line is checked (a row to write, or problems
    added), how the checked rows are written (how many were new)."""

    key: str
    what: str  # catalogue key: how the file is named in messages ("结对名单")
    required: dict[str, tuple[str, ...]]
    optional: dict[str, tuple[str, ...]]
    check: Check
    store: Store
    unique: Callable[[Any], tuple[Any, ...]]  # a row's identity: two lines with one are refused
    done: str  # catalogue key of the reply: {added}, {total}


async def _pairing(t: Translator, look: _Lookups, line: int, v: dict[str, str], problems: list[str],
                   _today: date) -> tuple[int, str, int] | None:
    who = await _who(t, look, line, v, problems)
    if who is None or not _text(t, line, t("import.col_place"), v["place"], MAX_PLACE, problems):
        return None
    assert who[1] is not None
    return line, v["place"], who[1].id


async def _store_pairings(session: Session, checked: list[tuple[int, str, int]], _tz: ZoneInfo) -> int:
    repo = PairingRepository(session)
    return sum([await repo.add(member_id, place) for _, place, member_id in checked])


async def _topic(t: Translator, look: _Lookups, line: int, v: dict[str, str], problems: list[str],
                 today: date) -> tuple[int, int, str, Member, date | None] | None:
    before = len(problems)
    _text(t, line, t("import.col_topic"), v["title"], MAX_TITLE, problems)
    due = None
    if v.get("due"):
        due = day(v["due"], today)
        if due is None:
            problems.append(t("import.bad_date", line=line, value=v["due"]))
    who = await _who(t, look, line, v, problems, column="owner")
    if who is None or len(problems) > before:
        return None
    org, owner = who
    assert owner is not None
    return line, org.id, v["title"], owner, due


async def _store_topics(session: Session, checked: list[tuple[int, int, str, Member, date | None]],
                        _tz: ZoneInfo) -> int:
    repo = TopicRepository(session)
    return sum([await repo.put(org_id, title, owner_id=owner.id, owner_name=owner.name, due=due)
                for _, org_id, title, owner, due in checked])


async def _shuxue(t: Translator, look: _Lookups, line: int, v: dict[str, str], problems: list[str],
                  today: date) -> tuple[int, date, Member, str, str, str] | None:
    before = len(problems)
    period = day(v["period"], today) if v["period"] else None
    if period is None:
        problems.append(t("import.bad_date", line=line, value=v["period"] or t("roster.empty_role")))
    elif period > today:
        problems.append(t("import.future_date", line=line, value=v["period"]))
    for key in ("self_study", "research", "deeds"):
        _text(t, line, t(f"import.col_{key}"), v[key], MAX_TEXT, problems)
    who = await _who(t, look, line, v, problems)
    if who is None or len(problems) > before or period is None:
        return None
    assert who[1] is not None
    return line, period, who[1], v["self_study"], v["research"], v["deeds"]


async def _store_shuxue(session: Session, checked: list[tuple[int, date, Member, str, str, str]],
                        tz: ZoneInfo) -> int:
    repo = ShuxueRepository(session)
    added = 0
    for _, period, member, self_study, research, deeds in checked:
        added += await repo.answer(member.id, period) is None
        at = datetime.combine(period, time(12), tz)  # answered "that week": its first day's noon
        await repo.save_answer(member, period, self_study=self_study, research=research, deeds=deeds, at=at)
    return added


PAIRINGS = SheetKind("pairing", "import.what_pairing", {"branch": BRANCH, "name": NAME,
                                                        "place": ("结对居村", "居村", "结对村居", "place")},
                     {}, _pairing, _store_pairings, lambda row: (row[2], row[1]), "import.done_pairing")
TOPICS = SheetKind("topic", "import.what_topic",
                   {"branch": BRANCH, "title": ("课题", "调研课题", "课题名称", "topic"),
                    "owner": ("负责人", "课题负责人", "领题人", "owner")},
                   {"due": ("结题日期", "结题时间", "due")}, _topic, _store_topics,
                   lambda row: (row[1], row[2]), "import.done_topic")
SHUXUE = SheetKind("shuxue", "import.what_shuxue",
                   {"branch": BRANCH, "name": NAME, "period": ("述学日期", "期次", "日期", "period"),
                    "self_study": ("自学情况", "自学"), "research": ("调研情况", "调研"),
                    "deeds": ("为民办实事情况", "办实事情况", "为民办实事")},
                   {}, _shuxue, _store_shuxue, lambda row: (row[2].id, row[1]), "import.done_shuxue")
SHEETS: dict[str, SheetKind] = {kind.key: kind for kind in (PAIRINGS, TOPICS, SHUXUE)}


async def import_sheet(t: Translator, session: Session, kind: SheetKind, table: Table, *,
                       today: date, tz: ZoneInfo) -> tuple[int, int]:
    """Check every line, then write them all: (new rows, lines). Any problem raises ``Refused``
    before anything is written."""
    what = t(kind.what)
    if not table:
        raise Refused([t("import.empty", what=what)])
    where = columns(t, table[0], kind.required, kind.optional, what=what)
    look = _Lookups(session, {}, {})
    problems: list[str] = []
    checked: list[Any] = []
    first: dict[tuple[Any, ...], int] = {}
    for line, values in rows(table, where):
        for key in kind.optional:
            values.setdefault(key, "")
        row = await kind.check(t, look, line, values, problems, today)
        if row is None:
            continue
        seen = first.setdefault(kind.unique(row), line)
        if seen != line:
            problems.append(t("import.repeated", line=line, other=seen))
            continue
        checked.append(row)
    if problems:
        raise Refused(problems)
    if not checked:
        raise Refused([t("import.empty", what=what)])
    return await kind.store(session, checked, tz), len(checked)
