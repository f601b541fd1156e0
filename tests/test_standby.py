"""The lease that lets one process hold the AI bot's connection while others stand by: held by
one at a time on SQLite and PostgreSQL, renewed by its holder, taken over once it lapses."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.runtime.app import App
from bot.runtime.standby import Lease
from storage.types import utcnow


async def test_one_holder_at_a_time_and_a_takeover_when_it_lapses(app: App) -> None:
    clock = [utcnow()]
    ttl = timedelta(seconds=30)

    def lease(holder: str) -> Lease:
        return Lease(app.core.sessions, "wecom_bot:aib1", ttl=ttl, holder=holder,
                     now=lambda: clock[0])

    first, second, other_bot = lease("a"), lease("b"), Lease(
        app.core.sessions, "wecom_bot:aib2", ttl=ttl, holder="b", now=lambda: clock[0])
    assert await first.acquire() and not await second.acquire()
    assert await other_bot.acquire()  # another bot's lease is another thing
    clock[0] += timedelta(seconds=20)
    assert await first.acquire() and not await second.acquire()  # renewed: 30 s from now
    clock[0] += timedelta(seconds=29)
    assert not await second.acquire()
    clock[0] += timedelta(seconds=2)  # the first stopped renewing (it died): the lease lapsed
    assert await second.acquire() and not await first.acquire()
    await second.release()
    assert await first.acquire()
    assert first.renew_every == 10.0


async def test_two_asking_at_once_get_one_lease(app: App) -> None:
    leases = [Lease(app.core.sessions, "wecom_bot:aib1", holder=f"p{i}") for i in range(6)]
    got = await asyncio.gather(*(lease.acquire() for lease in leases))
    assert sum(got) == 1
