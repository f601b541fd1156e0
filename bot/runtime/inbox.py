"""Updates a webhook acknowledged: stored before the answer, then handled by whichever worker
takes the member's lock first, each member's in arrival order; what a dead worker stored and did
not handle is picked up by any other (or by itself restarted).

At least once in (stored before the 200, so never lost once acknowledged), exactly once in
effect (the row is marked handled in the transaction of its effects).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.core.events import Incoming, Outcome
from handlers.core.router import Core
from storage.db import Session, connection_lost
from storage.repositories.events import HandledEventRepository, Stored, store_update
from storage.types import utcnow

log = logging.getLogger(__name__)

ToEvent = Callable[[dict[str, Any]], Incoming | None]
Answer = Callable[[dict[str, Any], Incoming, Outcome], Awaitable[None]]  # payload, its event
ORPHANED_AFTER = timedelta(seconds=3)  # stored this long ago and not handled: its worker is gone
SCAN_EVERY = 2.0  # seconds between looks for such updates
HANDLING = 4  # updates one worker handles at once
STORE_ATTEMPTS = 3  # a connection lost while storing: at once on another (the pool pings it)


class Inbox:
    def __init__(self, core: Core, engine: AsyncEngine, platform: str, to_event: ToEvent,
                 answer: Answer, *, handling: int = HANDLING) -> None:
        self.core, self.engine, self.platform = core, engine, platform
        self.to_event, self.answer = to_event, answer
        # Updates handled at once by this worker: the work is CPU-bound, and fewer tasks ready
        # at once keep the webhook's store-and-answer quick (Telegram sends one update at a time).
        self._handling = asyncio.Semaphore(handling)
        self._targets: dict[str, int] = {}  # member → the newest row this worker stored for them
        self._drains: dict[str, asyncio.Task[None]] = {}

    async def store(self, event: Incoming, payload: dict[str, Any]) -> None:
        """Keep ``event`` (committed when this returns: the webhook may answer 200), then have it
        handled. A redelivery of one stored before is acknowledged and not stored again."""
        assert event.event_id is not None
        for attempt in range(STORE_ATTEMPTS):
            try:
                async with self.engine.begin() as connection:
                    row = await store_update(connection, self.platform, event.event_id,
                                             event.user_id, payload)
                break
            except Exception as error:
                if attempt + 1 == STORE_ATTEMPTS or not connection_lost(error):
                    raise
                log.info("storing %s again (%r)", event.event_id, error)
        if row is not None:
            self.handle(event.user_id, row)

    def handle(self, user_id: str, row: int) -> None:
        """Handle the member's stored updates up to ``row``, in the background."""
        self._targets[user_id] = max(row, self._targets.get(user_id, 0))
        if user_id not in self._drains:
            self._drains[user_id] = asyncio.create_task(self._drain(user_id),
                                                        name=f"inbox:{user_id}")

    @property
    def busy(self) -> int:
        return len(self._drains)

    async def _drain(self, user_id: str) -> None:
        try:
            while True:
                taken: list[Stored] = []
                async with self._handling:
                    handled = await self.core.handle_taken(
                        self.platform, user_id,
                        lambda session: self._take(session, user_id, taken))
                    if handled.event is not None and not handled.lost:
                        try:
                            await self.answer(taken[-1].payload, handled.event, handled.outcome)
                        except Exception:  # noqa: BLE001 - the reply failed; the effects stay
                            log.exception("could not answer %s", handled.event)
                # Taken nothing: another worker handled the rest. Lost: the database is away;
                # the scan tries again.
                if handled.event is None or handled.lost or taken[-1].id >= self._targets[user_id]:
                    return
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - one member's failure must not stop the others
            log.exception("inbox drain of %s failed", user_id)
        finally:
            del self._drains[user_id]
            self._targets.pop(user_id, None)

    async def _take(self, session: Session, user_id: str, taken: list[Stored]) -> Incoming | None:
        repository = HandledEventRepository(session)
        taken.clear()  # a try again starts over
        while (stored := await repository.claim_next(self.platform, user_id)) is not None:
            taken.append(stored)
            event = self.to_event(stored.payload)
            if event is not None:
                return event
            log.warning("stored update %s is not one the bot takes; skipped", stored.id)
        return None

    async def recover(self) -> int:
        """Handle what was stored a while ago and is still not handled (its worker died between
        the 200 and the handling, or the database was away): how many members it started."""
        async with self.core.sessions() as session:
            members = await HandledEventRepository(session).pending_members(
                self.platform, utcnow() - ORPHANED_AFTER)
        started = 0
        for user_id, row in members:
            if user_id not in self._drains:
                log.info("picking up stored updates of %s (up to %s)", user_id, row)
                started += 1
            self.handle(user_id, row)
        return started

    async def recover_forever(self) -> None:
        while True:
            try:
                await self.recover()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the database is away: look again later
                log.warning("could not look for stored updates: %r", error)
            await asyncio.sleep(SCAN_EVERY)

    async def finish(self, timeout: float) -> None:
        """Wait (up to ``timeout`` seconds) for the updates taken to be handled."""
        if self._drains:
            await asyncio.wait(list(self._drains.values()), timeout=timeout)
