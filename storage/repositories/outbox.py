"""The outbox: messages the bot sends on its own, each stored once under its idempotency key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
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

    async def claim(self, now: datetime, platform: str, until: datetime,
                    limit: int = 20) -> list[OutboxMessage]:
        """Take up to ``limit`` due messages to send, leased until ``until`` (their ``not_before``:
        a lease never closed, its sender dead, runs out and the message is due again). Rows
        another deliverer is taking at this moment are skipped, not waited for (PostgreSQL's
        ``FOR UPDATE SKIP LOCKED``), so deliverers never take the same message."""
        due = (select(OutboxMessage.id)
               .where(OutboxMessage.status == OutboxStatus.pending, OutboxMessage.not_before <= now,
                      OutboxMessage.platform == platform)
               .order_by(OutboxMessage.not_before, OutboxMessage.id).limit(limit)
               .with_for_update(skip_locked=True))
        taken = await self.session.scalars(
            update(OutboxMessage).where(OutboxMessage.id.in_(due.scalar_subquery()))
            .values(not_before=until, claimed_at=now).returning(OutboxMessage),
            execution_options={"synchronize_session": False})
        return sorted(taken, key=lambda m: m.id)

    async def next_due(self, platform: str) -> datetime | None:
        return await self.session.scalar(
            select(func.min(OutboxMessage.not_before))
            .where(OutboxMessage.status == OutboxStatus.pending, OutboxMessage.platform == platform))

    async def sent_since(self, platform: str, since: datetime) -> list[tuple[str, datetime]]:
        """(chat, when) of the messages sent since ``since``: what the platform's windows still
        count, whichever process sent them."""
        rows = await self.session.execute(
            select(OutboxMessage.chat_id, OutboxMessage.sent_at)
            .where(OutboxMessage.platform == platform, OutboxMessage.status == OutboxStatus.sent,
                   OutboxMessage.sent_at >= since))
        return [(chat, at) for chat, at in rows if at is not None]

    async def in_flight(self, platform: str, since: datetime) -> list[str]:
        """The chats of messages taken for sending since ``since`` whose outcome was never
        written: a sender killed between the platform taking one and marking it sent leaves it
        so, and the platform's windows count it (whichever process took it)."""
        return list(await self.session.scalars(
            select(OutboxMessage.chat_id)
            .where(OutboxMessage.platform == platform, OutboxMessage.status == OutboxStatus.pending,
                   OutboxMessage.claimed_at >= since)))

    async def mark_sent(self, message_id: int, at: datetime) -> None:
        await self._set(message_id, status=OutboxStatus.sent, sent_at=at, claimed_at=None,
                        attempts=OutboxMessage.attempts + 1)

    async def retry_later(self, message_id: int, not_before: datetime, error: str) -> None:
        await self._set(message_id, not_before=not_before, last_error=error[:300],
                        claimed_at=None, attempts=OutboxMessage.attempts + 1)

    async def mark_failed(self, message_id: int, error: str) -> None:
        await self._set(message_id, status=OutboxStatus.failed, last_error=error[:300],
                        claimed_at=None, attempts=OutboxMessage.attempts + 1)

    async def defer(self, message_id: int, lease: datetime, not_before: datetime) -> bool:
        """Later, without counting an attempt (its chat is at its limit just now), and given back:
        only while the lease ``lease`` (its ``not_before`` when claimed) is still the message's,
        so a lease another deliverer took since is never shortened."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.pending,
                   OutboxMessage.not_before == lease)
            .values(not_before=not_before, claimed_at=None))
        return result.rowcount == 1  # type: ignore[attr-defined]

    async def prune(self, before: datetime) -> int:
        """Forget sent and failed messages created before ``before`` (the retention)."""
        result = await self.session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.status.in_((OutboxStatus.sent, OutboxStatus.failed)),
                OutboxMessage.created_at < before))
        return result.rowcount or 0  # type: ignore[attr-defined]

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
