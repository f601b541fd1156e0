"""Incoming events already handled, by the platform's id: a redelivered one is recognised. The
same table is the inbox: an update a webhook acknowledged is stored (``store``) before the
answer and claimed in the transaction of its effects (``claim_next``), by whichever worker."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.event_session import rollback
from storage.models import HandledEvent
from storage.prepared import Prepared
from storage.types import utcnow

log = logging.getLogger(__name__)

TABLE = HandledEvent.__table__
_HANDLED = Prepared(insert(TABLE))  # compiled once: it runs for every event
_PENDING = TABLE.c.handled_at.is_(None)
# The member's oldest update not handled yet, taken: the one to handle now, whoever stored it.
_CLAIM_NEXT = (
    update(TABLE)
    .where(TABLE.c.id == select(TABLE.c.id)
           .where(TABLE.c.platform == bindparam("p"), TABLE.c.user_id == bindparam("u"), _PENDING)
           .order_by(TABLE.c.id).limit(1).scalar_subquery(), _PENDING)
    .values(handled_at=bindparam("now"))
    .returning(TABLE.c.id, TABLE.c.payload))


def _store(insert_: Any) -> Any:
    return (insert_(TABLE).on_conflict_do_nothing(index_elements=["platform", "event_id"])
            .returning(TABLE.c.id))


# Runs before every webhook answer: built once, on a bare connection (no ORM session).
_STORE = {"postgresql": _store(postgresql.insert), "sqlite": _store(sqlite.insert)}


async def store_update(connection: AsyncConnection, platform: str, event_id: str, user_id: str,
                       payload: dict[str, Any]) -> int | None:
    """``HandledEventRepository.store`` on a connection (the caller commits)."""
    result = await connection.execute(
        _STORE[connection.dialect.name], {"platform": platform, "event_id": event_id,
                                          "user_id": user_id, "payload": payload, "at": utcnow()})
    return result.scalar()


@dataclass(frozen=True)
class Stored:
    """An update from the inbox: its row and what the platform sent."""

    id: int
    payload: dict[str, Any]


class HandledEventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_delivery(self, platform: str, event_id: str) -> bool:
        """Record the event as handled (committed with its effects); False if it already was,
        and then this session's transaction is rolled back."""
        now = utcnow()
        try:
            await _HANDLED.run(self.session, {"platform": platform, "event_id": event_id,
                                              "at": now, "handled_at": now})
        except IntegrityError:
            await rollback(self.session)
            log.info("dropped redelivered %s event %s", platform, event_id)
            return False
        return True

    async def store(self, platform: str, event_id: str, user_id: str,
                    payload: dict[str, Any]) -> int | None:
        """Keep an update to handle (the caller commits before acknowledging it); its row id, or
        None when this update was stored before (a redelivery)."""
        return await store_update(await self.session.connection(), platform, event_id, user_id,
                                  payload)

    async def claim_next(self, platform: str, user_id: str) -> Stored | None:
        """Mark the member's oldest pending update handled (undone if the transaction is) and
        return it; None when none is pending. Under the member's lock this is arrival order."""
        row = (await self.session.execute(_CLAIM_NEXT, {"p": platform, "u": user_id,
                                                        "now": utcnow()})).first()
        return None if row is None else Stored(row[0], row[1])

    async def pending_members(self, platform: str, received_before: datetime,
                              limit: int = 100) -> list[tuple[str, int]]:
        """Members with an update stored before ``received_before`` and not handled (its worker
        died, or failed on it), with their newest such row."""
        rows = await self.session.execute(
            select(TABLE.c.user_id, TABLE.c.id)
            .where(TABLE.c.platform == platform, _PENDING, TABLE.c.at < received_before)
            .order_by(TABLE.c.id).limit(limit))
        newest: dict[str, int] = {}
        for user_id, row_id in rows:
            newest[user_id] = row_id
        return list(newest.items())

    async def give_up(self, row_id: int) -> None:
        """Mark one stored update handled without its effects (it failed for good)."""
        await self.session.execute(update(TABLE).where(TABLE.c.id == row_id)
                                   .values(handled_at=utcnow()))

    async def forget_before(self, at: datetime) -> int:
        """Forget handled events older than ``at`` (a redelivery comes within minutes); what is
        still to handle stays."""
        result = await self.session.execute(
            delete(TABLE).where(TABLE.c.at < at, TABLE.c.handled_at.is_not(None)))
        return result.rowcount or 0  # type: ignore[attr-defined]
