"""Incoming events already handled, by the platform's id: a redelivered one is recognised."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import HandledEvent
from storage.prepared import Prepared
from storage.types import utcnow

log = logging.getLogger(__name__)

_HANDLED = Prepared(insert(HandledEvent.__table__))  # compiled once: it runs for every event


class HandledEventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_delivery(self, platform: str, event_id: str) -> bool:
        """Record the event as handled (committed with its effects); False if it already was,
        and then this session's transaction is rolled back."""
        try:
            await _HANDLED.run(self.session, {"platform": platform, "event_id": event_id,
                                              "at": utcnow()})
        except IntegrityError:
            await self.session.rollback()
            log.info("dropped redelivered %s event %s", platform, event_id)
            return False
        return True

    async def forget_before(self, at: datetime) -> None:
        await self.session.execute(delete(HandledEvent).where(HandledEvent.at < at))
