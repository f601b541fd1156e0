"""Members, their roles, and their platform identities."""

from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage.inserts import insert_new
from storage.models import Identity, Member, Organization, Role

DISPLAY_NAME_MAX = 100  # Identity.display_name: the platform's name, kept as far as it fits

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

    async def get(self, member_id: int) -> Member | None:
        return await self.session.scalar(select(Member).where(Member.id == member_id)
                                         .options(joinedload(Member.org)))

    async def roster_row(self, org_id: int, name: str, platform: str) -> Member | None:
        """The active roster entry of branch ``org_id`` with this name: the first one without an
        identity on ``platform`` if there is one, else the first (already bound) one."""
        claimed = select(Identity.member_id).where(Identity.platform == platform)
        return await self.session.scalar(
            select(Member)
            .where(Member.org_id == org_id, Member.name == name, Member.active)
            .order_by(Member.id.in_(claimed), Member.id)
            .options(joinedload(Member.org))
            .limit(1)
        )

    async def identity_on(self, member_id: int, platform: str) -> Identity | None:
        """The member's identity on ``platform``, if they have one."""
        return await self.session.scalar(select(Identity).where(
            Identity.member_id == member_id, Identity.platform == platform))

    async def add(self, org: Organization, name: str, role: Role = Role.member) -> Member:
        member = Member(org_id=org.id, name=name, role=role)
        self.session.add(member)
        await self.session.flush()
        member.org = org
        return member

    async def remove_unbound(self, member: Member) -> None:
        """Take back a member added a moment ago in this transaction, before anything refers to it."""
        await self.session.delete(member)
        await self.session.flush()

    async def bind(self, member: Member, *, platform: str, user_id: str,
                   display_name: str | None) -> Identity:
        """Bind the platform account to the member (the operator's act: the demo, tests, the
        console's ``--as``); raises if the account or the member's place on the platform is taken."""
        identity = Identity(member_id=member.id, platform=platform, platform_user_id=user_id,
                            display_name=_fit(display_name))
        self.session.add(identity)
        await self.session.flush()
        return identity

    async def bind_if_free(self, member_id: int, *, platform: str, user_id: str,
                           display_name: str | None) -> bool:
        """Bind the account to the member unless the account is bound already or the member has
        an identity on the platform (both held by unique constraints, so two workers binding
        at once bind once); False then. The platform they joined on is the one they used last."""
        bound = await insert_new(self.session, Identity.__table__, member_id=member_id,
                                 platform=platform, platform_user_id=user_id,
                                 display_name=_fit(display_name)) is not None
        if bound:
            await self.session.execute(update(Member).where(Member.id == member_id)
                                       .values(last_platform=platform))
        return bound


def _fit(display_name: str | None) -> str | None:
    return display_name[:DISPLAY_NAME_MAX] if display_name else display_name
