"""Organizations (the tree: 局党委 → 总支 → 支部) and their group chats."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import GroupChat, Member, Organization, OrgKind

_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes (0/o, 1/l/i)


def new_invite_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))


@dataclass(frozen=True)
class OrgRow:
    org: Organization
    depth: int
    members: int


class OrgRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, org_id: int) -> Organization | None:
        return await self.session.get(Organization, org_id)

    async def by_name(self, name: str) -> Organization | None:
        return await self.session.scalar(select(Organization).where(Organization.name == name))

    async def by_invite_code(self, code: str) -> Organization | None:
        return await self.session.scalar(
            select(Organization).where(Organization.invite_code == code.strip().lower())
        )

    async def add(self, name: str, *, kind: OrgKind, parent: Organization | None = None,
                  books: list[str] | None = None) -> Organization:
        org = Organization(
            name=name, kind=kind, parent_id=parent.id if parent else None,
            invite_code=new_invite_code() if kind is OrgKind.branch else None,
            required_books=list(books or []),
        )
        self.session.add(org)
        await self.session.flush()
        return org

    async def branches(self, only: tuple[int, ...] | None = None) -> list[tuple[int, str]]:
        """(id, name) of every branch (of those ``only``), in creation order."""
        query = select(Organization.id, Organization.name).where(Organization.kind == OrgKind.branch)
        if only is not None:
            query = query.where(Organization.id.in_(only))
        return list((await self.session.execute(query.order_by(Organization.id))).tuples())

    async def tree(self) -> list[OrgRow]:
        """Every organization, parents before children, with its active member count."""
        counts = dict(
            (await self.session.execute(
                select(Member.org_id, func.count()).where(Member.active).group_by(Member.org_id)
            )).tuples().all()
        )
        orgs = list(await self.session.scalars(select(Organization).order_by(Organization.id)))
        children: dict[int | None, list[Organization]] = {}
        for org in orgs:
            children.setdefault(org.parent_id, []).append(org)
        rows: list[OrgRow] = []

        def walk(parent: int | None, depth: int) -> None:
            for org in children.get(parent, []):
                rows.append(OrgRow(org, depth, counts.get(org.id, 0)))
                walk(org.id, depth + 1)

        walk(None, 0)
        return rows

    async def group_for(self, platform: str, chat_id: str) -> GroupChat | None:
        return await self.session.scalar(
            select(GroupChat).where(GroupChat.platform == platform, GroupChat.chat_id == chat_id)
        )

    async def set_group_webhook(self, org_id: int, *, platform: str, chat_id: str,
                                webhook_url: str, by_member_id: int) -> GroupChat:
        """Store (or change) where a branch group's pushes go when the platform reaches the group
        through a webhook (a WeCom group robot, chat id ``robot:<branch id>``)."""
        group = await self.group_for(platform, chat_id)
        if group is None:
            group = GroupChat(platform=platform, chat_id=chat_id, org_id=org_id,
                              bound_by_id=by_member_id)
            self.session.add(group)
        group.webhook_url = webhook_url
        await self.session.flush()
        return group

    async def first_bureau_name(self) -> str | None:
        return await self.session.scalar(select(Organization.name).where(
            Organization.kind == OrgKind.bureau).order_by(Organization.id).limit(1))

    async def branch_invites(self) -> list[tuple[str, str]]:
        """(name, invite code) of every branch, in creation order."""
        rows = await self.session.execute(select(Organization.name, Organization.invite_code)
                                          .where(Organization.kind == OrgKind.branch)
                                          .order_by(Organization.id))
        return [(name, code or "") for name, code in rows.tuples()]

    async def bind_group(self, org: Organization, *, platform: str, chat_id: str,
                         title: str | None, by: Member) -> GroupChat:
        group = await self.group_for(platform, chat_id)
        if group is None:
            group = GroupChat(platform=platform, chat_id=chat_id)
            self.session.add(group)
        group.org_id, group.title, group.bound_by_id = org.id, title, by.id
        await self.session.flush()
        return group
