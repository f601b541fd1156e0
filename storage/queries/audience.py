"""Who the pushes can reach on the running platforms: branches with their rhythm and groups,
members with a private chat (one platform each: ``storage.queries.reach``), holidays and leaves."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    GroupChat,
    Holiday,
    Leave,
    Member,
    Organization,
    OrgKind,
    Role,
    ShuxueSchedule,
)
from storage.queries.reach import choose, identities_on, names, one_platform_per_branch


@dataclass(frozen=True)
class Reachable:
    """An active member with a private chat on one of the platforms."""

    member_id: int
    name: str
    role: Role
    org_id: int
    platform: str
    chat_id: str


@dataclass
class AudienceRows:
    branches: list[Organization]  # in creation order
    schedules: dict[int, ShuxueSchedule]  # by org id: the branches that set a rhythm
    groups: list[tuple[int, str, str]]  # (org id, platform, chat id) of the bound group chats
    people: list[Reachable]  # in roster order
    holidays: frozenset[date]
    leaves: dict[int, list[tuple[date, date]]]  # by member: (first, last day) of leave not over


async def audience_rows(session: AsyncSession, platforms: Sequence[str],
                        today: date) -> AudienceRows:
    branches = list(await session.scalars(
        select(Organization).where(Organization.kind == OrgKind.branch).order_by(Organization.id)))
    schedules = {s.org_id: s for s in await session.scalars(select(ShuxueSchedule))}
    groups = one_platform_per_branch((await session.execute(
        select(GroupChat.org_id, GroupChat.platform, GroupChat.chat_id)
        .where(GroupChat.platform.in_(names(platforms))).order_by(GroupChat.id))).tuples(), platforms)
    reach = choose((await session.execute(identities_on(platforms))).tuples(), platforms)
    people = [Reachable(m.id, m.name, m.role, m.org_id, reach[m.id].platform, reach[m.id].chat_id)
              for m in await session.scalars(
                  select(Member).where(Member.id.in_(list(reach))).order_by(Member.id))]
    holidays = frozenset(await session.scalars(select(Holiday.day)))
    leaves: dict[int, list[tuple[date, date]]] = defaultdict(list)
    for member_id, start, until in (await session.execute(
            select(Leave.member_id, Leave.start, Leave.until).where(Leave.until >= today))).tuples():
        leaves[member_id].append((start, until))
    return AudienceRows(branches, schedules, groups, people, holidays, dict(leaves))
