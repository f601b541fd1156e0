"""Members, their roles, and their platform identities."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage.models import Identity, Member, Organization, Role

# Built once: it runs for every incoming message.
_BY_IDENTITY = (select(Member).join(Identity)
                .where(Identity.platform == bindparam("platform"),
                       Identity.platform_user_id == bindparam("user_id"), Member.active)
                .options(joinedload(Member.org)))


class MemberRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_identity(self, platform: str, user_id: str) -> Member | None:
        return await self.session.scalar(_BY_IDENTITY, {"platform": platform, "user_id": user_id})

    async def by_name(self, name: str, org: Organization | None = None) -> list[Member]:
        query = select(Member).where(Member.name == name, Member.active).options(joinedload(Member.org))
        if org is not None:
            query = query.where(Member.org_id == org.id)
        return list(await self.session.scalars(query.order_by(Member.id)))

    async def active_in(self, org_id: int) -> list[Member]:
        """The branch's active members, in roster order."""
        return list(await self.session.scalars(
            select(Member).where(Member.org_id == org_id, Member.active).order_by(Member.id)))

    async def binder_for(self, org_id: int) -> int | None:
        """Who stands as having bound a branch's group when the office sets it up: the branch's
        first active secretary, else the office's first active member."""
        return await self.session.scalar(select(Member.id).where(
            Member.org_id == org_id, Member.role == Role.secretary, Member.active)
            .order_by(Member.id)) or await self.session.scalar(select(Member.id).where(
                Member.role == Role.office, Member.active).order_by(Member.id))

    async def unclaimed_in(self, org: Organization, name: str, platform: str) -> Member | None:
        """A roster entry of ``org`` with this name that has no identity on ``platform`` yet."""
        claimed = select(Identity.member_id).where(Identity.platform == platform)
        return await self.session.scalar(
            select(Member)
            .where(Member.org_id == org.id, Member.name == name, Member.active,
                   Member.id.not_in(claimed))
            .order_by(Member.id)
            .limit(1)
        )

    async def add(self, org: Organization, name: str, role: Role = Role.member) -> Member:
        member = Member(org_id=org.id, name=name, role=role)
        self.session.add(member)
        await self.session.flush()
        member.org = org
        return member

    async def bind(self, member: Member, *, platform: str, user_id: str,
                   display_name: str | None) -> Identity:
        identity = Identity(member_id=member.id, platform=platform, platform_user_id=user_id,
                            display_name=display_name)
        self.session.add(identity)
        await self.session.flush()
        return identity
