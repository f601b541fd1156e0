"""The outbox: messages the bot sends on its own, each stored once under its idempotency key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage, OutboxStatus

TABLE = OutboxMessage.__table__


@dataclass(frozen=True)
class Planned:
    """A message to send: ``key`` names what, to whom and for which occurrence."""

    key: str
    kind: str
    platform: str
    chat_id: str
    payload: dict[str, Any]
    not_before: datetime
    is_group: bool = False
    org_id: int | None = None
    member_id: int | None = None


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def enqueue(self, messages: list[Planned]) -> int:
        """Store the messages whose keys are new; returns how many were new."""
        if not messages:
            return 0
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        rows = [{"key": m.key, "kind": m.kind, "platform": m.platform, "chat_id": m.chat_id,
                 "is_group": m.is_group, "org_id": m.org_id, "member_id": m.member_id,
                 "payload": m.payload, "not_before": m.not_before, "status": OutboxStatus.pending,
                 "attempts": 0} for m in messages]
        added = 0
        for start in range(0, len(rows), 500):
            result = await self.session.execute(
                insert(TABLE).values(rows[start:start + 500]).on_conflict_do_nothing(
                    index_elements=["key"]).returning(TABLE.c.id))
            added += len(result.all())
        return added

    async def known(self, keys: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            found |= set(await self.session.scalars(
                select(TABLE.c.key).where(TABLE.c.key.in_(keys[start:start + 500]))))
        return found

    async def due(self, now: datetime, platform: str, limit: int = 100) -> list[OutboxMessage]:
        return list(await self.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.pending, OutboxMessage.not_before <= now,
                   OutboxMessage.platform == platform)
            .order_by(OutboxMessage.not_before, OutboxMessage.id).limit(limit)))

    async def next_due(self, platform: str) -> datetime | None:
        return await self.session.scalar(
            select(func.min(OutboxMessage.not_before))
            .where(OutboxMessage.status == OutboxStatus.pending, OutboxMessage.platform == platform))

    async def lease(self, message_id: int, now: datetime, until: datetime) -> bool:
        """Take the message to send it: False if another deliverer took it first. A lease that is
        never closed (the sender died) runs out at ``until`` and the message is due again."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.pending,
                   OutboxMessage.not_before <= now)
            .values(not_before=until))
        return result.rowcount == 1  # type: ignore[attr-defined]

    async def mark_sent(self, message_id: int, at: datetime) -> None:
        await self._set(message_id, status=OutboxStatus.sent, sent_at=at,
                        attempts=OutboxMessage.attempts + 1)

    async def retry_later(self, message_id: int, not_before: datetime, error: str) -> None:
        await self._set(message_id, not_before=not_before, last_error=error[:300],
                        attempts=OutboxMessage.attempts + 1)

    async def mark_failed(self, message_id: int, error: str) -> None:
        await self._set(message_id, status=OutboxStatus.failed, last_error=error[:300],
                        attempts=OutboxMessage.attempts + 1)

    async def defer(self, message_id: int, not_before: datetime) -> None:
        """Later, without counting an attempt (its chat is at its limit just now)."""
        await self._set(message_id, not_before=not_before)

    async def _set(self, message_id: int, **values: Any) -> None:
        await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values))

    async def failed_since(self, org_id: int, since: datetime) -> list[OutboxMessage]:
        """Messages of a branch the platform refused for good (for the secretary's summary)."""
        return list(await self.session.scalars(
            select(OutboxMessage).where(OutboxMessage.org_id == org_id,
                                        OutboxMessage.status == OutboxStatus.failed,
                                        OutboxMessage.created_at >= since)
            .order_by(OutboxMessage.id)))
