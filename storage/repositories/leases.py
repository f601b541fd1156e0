"""Leases: a named thing one process holds at a time, for a while, renewed while it lives."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.inserts import insert_new
from storage.models import Lease


class LeaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def take(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """Hold ``name`` until ``until`` if it is free, lapsed or ``holder``'s already (then it
        is renewed); False while another holds it. One conditional statement each way, so two
        processes asking at once cannot both get it."""
        renewed = await self.session.execute(
            update(Lease).where(Lease.name == name,
                                or_(Lease.holder == holder, Lease.expires_at <= now))
            .values(holder=holder, expires_at=until))
        if renewed.rowcount:  # type: ignore[attr-defined]
            return True
        return await insert_new(self.session, Lease.__table__, name=name, holder=holder,
                                expires_at=until) is not None

    async def give_up(self, name: str, holder: str) -> None:
        await self.session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))
