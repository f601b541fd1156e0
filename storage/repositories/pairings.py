"""结对居村: which cadre is paired with which village or community."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Pairing


class PairingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def places_of(self, member_id: int) -> list[str]:
        """The member's paired places, in the order they were paired."""
        return list(await self.session.scalars(
            select(Pairing.place).where(Pairing.member_id == member_id).order_by(Pairing.id)))

    async def add(self, member_id: int, place: str) -> bool:
        """Pair the member with the place; False when they already were."""
        found = await self.session.scalar(select(Pairing.id).where(
            Pairing.member_id == member_id, Pairing.place == place))
        if found is not None:
            return False
        self.session.add(Pairing(member_id=member_id, place=place))
        await self.session.flush()
        return True
