"""Who the pushes can reach on a platform: branches with their rhythm and groups, members with a
private chat, holidays and leaves."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    GroupChat,
    Holiday,
    Identity,
    Leave,
    Member,
    Organization,
    OrgKind,
    Role,
    ShuxueSchedule,
)


@dataclass(frozen=True)
class Reachable:
    """An active member with a private chat on the platform."""

    member_id: int
    name: str
    role: Role
    org_id: int
    chat_id: str


@dataclass
class AudienceRows:
    branches: list[Organization]  # in creation order
    schedules: dict[int, ShuxueSchedule]  # by org id: the branches that set a rhythm
    groups: list[tuple[int, str]]  # (org id, chat id) of the bound group chats
    people: list[Reachable]  # in roster order
    holidays: frozenset[date]
    leaves: dict[int, list[tuple[date, date]]]  # by member: (first, last day) of leave not over


async def audience_rows(session: AsyncSession, platform: str, today: date) -> AudienceRows:
    branches = list(await session.scalars(
        select(Organization).where(Organization.kind == OrgKind.branch).order_by(Organization.id)))
    schedules = {s.org_id: s for s in await session.scalars(select(ShuxueSchedule))}
    groups = list((await session.execute(
        select(GroupChat.org_id, GroupChat.chat_id).where(GroupChat.platform == platform)
        .order_by(GroupChat.id))).tuples())
    people = [Reachable(*row) for row in (await session.execute(
        select(Member.id, Member.name, Member.role, Member.org_id, Identity.platform_user_id)
        .join(Identity, Identity.member_id == Member.id)
        .where(Identity.platform == platform, Member.active).order_by(Member.id))).tuples()]
    holidays = frozenset(await session.scalars(select(Holiday.day)))
    leaves: dict[int, list[tuple[date, date]]] = defaultdict(list)
    for member_id, start, until in (await session.execute(
            select(Leave.member_id, Leave.start, Leave.until).where(Leave.until >= today))).tuples():
        leaves[member_id].append((start, until))
    return AudienceRows(branches, schedules, groups, people, holidays, dict(leaves))
