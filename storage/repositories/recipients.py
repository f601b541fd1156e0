"""Who hears of something privately: active members with a chat on one of the running platforms
(one each: ``storage.queries.reach``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member, Role
from storage.queries.reach import choose, identities_on


@dataclass(frozen=True)
class Recipient:
    member_id: int
    org_id: int
    role: Role
    platform: str
    chat_id: str  # their private chat with the bot on ``platform``


class RecipientRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, platforms: Sequence[str], *, members: Iterable[int] = (),
                   secretaries_of: int | None = None, committee_of: int | None = None,
                   office: bool = False, exclude: int | None = None) -> list[Recipient]:
        """These members, the secretaries of branch ``secretaries_of``, the 支委 of branch
        ``committee_of`` and (with ``office``) the office, those of them who are active and have a
        chat on one of ``platforms`` (their preferred one), but not ``exclude`` (who did what they hear of), in roster order."""
        who: list[ColumnElement[bool]] = []
        member_ids = list(members)
        if member_ids:
            who.append(Member.id.in_(member_ids))
        if secretaries_of is not None:
            who.append(and_(Member.role == Role.secretary, Member.org_id == secretaries_of))
        if committee_of is not None:
            who.append(and_(Member.role == Role.committee, Member.org_id == committee_of))
        if office:
            who.append(Member.role == Role.office)
        if not who:
            return []
        query = identities_on(platforms).where(or_(*who))
        if exclude is not None:
            query = query.where(Member.id != exclude)
        reach = choose((await self.session.execute(query)).tuples(), platforms)
        rows = (await self.session.execute(
            select(Member.id, Member.org_id, Member.role).where(Member.id.in_(list(reach)))
            .order_by(Member.id))).tuples()
        return [Recipient(member_id, org_id, role, reach[member_id].platform,
                          reach[member_id].chat_id) for member_id, org_id, role in rows]
