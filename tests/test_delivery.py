"""The deliverer against the loopback Bot API server enforcing Telegram's limits, with failures
injected: every message delivered or marked failed with its reason, none twice, no 429 earned."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.adapters.telegram.sender import TelegramSender
from bot.runtime.app import App
from bot.runtime.delivery import LEASE, Deliverer, Limits
from handlers.core.events import Reply
from storage.db import session_factory
from storage.models import OutboxMessage, OutboxStatus
from storage.repositories.outbox import OutboxRepository, Planned
from storage.types import utcnow
from tests.botapi import FakeBotApi

FAST_GROUPS = Limits(per_group_minute=3, group_window=1.5)


async def fill(app: App, chats: list[tuple[str, bool]]) -> None:
    now = utcnow()
    planned = [Planned(f"test:{i}:{chat}", "test", "telegram", chat, {"text": f"消息{i}"},
                       now, is_group) for i, (chat, is_group) in enumerate(chats)]
    async with session_factory(app.engine)() as session, session.begin():
        assert await OutboxRepository(session).enqueue(planned) == len(planned)
        assert await OutboxRepository(session).enqueue(planned) == 0  # same keys: stored once


async def deliver_all(deliverer: Deliverer, app: App, timeout: float = 20) -> None:
    async def until_empty() -> None:
        while True:
            await deliverer.drain()
            async with session_factory(app.engine)() as session:
                pending = await session.scalar(select(OutboxMessage.id).where(
                    OutboxMessage.status == OutboxStatus.pending).limit(1))
            if pending is None:
                return
            await asyncio.sleep(0.05)
    await asyncio.wait_for(until_empty(), timeout)


async def test_limits_retries_and_refusals(app: App, api: FakeBotApi) -> None:
    api.enforce_limits(per_group_minute=3, group_window=1.5)
    api.blocked_chats.add(5001)
    api.gone_chats.add(5002)
    private = [(str(4000 + i), False) for i in range(40)]
    chats = private + [("-200", True)] * 6 + [("5001", False), ("5002", False)]
    await fill(app, chats)
    api.fail_next("sendMessage", error_code=429, description="Too Many Requests: retry after 1",
                  retry_after=1)
    api.fail_next("sendMessage", error_code=502, description="Bad Gateway")
    api.fail_next("sendMessage", error_code=504, description="Gateway Timeout", delay=1.0)
    request = HTTPXRequest(read_timeout=0.3)  # the delayed answer comes too late: a timeout
    async with Bot(api.token, base_url=api.base_url, request=request) as bot:
        deliverer = Deliverer(app.core.sessions, TelegramSender(bot), limits=FAST_GROUPS)
        await deliver_all(deliverer, app)
    delivered = Counter(c.chat_id for c in api.calls if c.method == "sendMessage" and c.error is None)
    assert all(delivered[int(chat)] == 1 for chat, _ in private)
    assert delivered[-200] == 6  # all six, three per window
    assert api.limit_violations == 0  # our own limiter kept within Telegram's limits
    async with session_factory(app.engine)() as session:
        rows = {m.chat_id: m for m in await session.scalars(select(OutboxMessage))}
        failed = {m.chat_id: m.last_error for m in await session.scalars(
            select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.failed))}
    assert set(failed) == {"5001", "5002"}
    assert "blocked" in (failed["5001"] or "") and "not found" in (failed["5002"] or "").lower()
    # the 429, the 502 and the timeout each cost one more attempt
    assert sum(m.attempts for m in rows.values()) == len(rows) + 3
    group_times = sorted(c.at for c in api.calls if c.method == "sendMessage" and c.chat_id == -200)
    assert group_times[3] - group_times[0] >= 1.5  # the fourth waited for the group's window


async def test_gives_up_after_max_attempts(app: App, api: FakeBotApi) -> None:
    await fill(app, [("4100", False)])
    api.fail_next("sendMessage", error_code=500, description="Internal Server Error", times=3)
    async with Bot(api.token, base_url=api.base_url) as bot:
        clock = {"seconds": 0.0}  # a clock that jumps 10 minutes at every look: past any backoff

        def later() -> float:
            clock["seconds"] += 600
            return clock["seconds"]

        deliverer = Deliverer(app.core.sessions, TelegramSender(bot), max_attempts=3,
                              now=lambda: utcnow() + timedelta(seconds=later()),
                              monotonic=lambda: clock["seconds"])
        for _ in range(3):
            await deliverer.drain()
    async with session_factory(app.engine)() as session:
        (row,) = await session.scalars(select(OutboxMessage))
    assert row.status is OutboxStatus.failed and row.attempts == 3 and "gave up" in (row.last_error or "")
    assert [c for c in api.calls if c.method == "sendMessage" and c.error is None] == []


class NoSender:
    platform = "telegram"

    async def send(self, chat_id: str, reply: Reply) -> None:
        raise AssertionError("only counting here")


async def test_a_message_a_killed_deliverer_had_in_flight_counts_as_sent(app: App) -> None:
    """Killed between the platform taking a message and marking it sent, a deliverer leaves it
    leased with no ``sent_at``: the next one (a new leader) counts it in its windows as sent
    just now, until the lease's holder writes an outcome."""
    await fill(app, [("4200", False), ("4201", False), ("4202", False)])
    now = utcnow()
    async with session_factory(app.engine)() as session, session.begin():
        outbox = OutboxRepository(session)
        in_flight, given_back = await outbox.claim(now, "telegram", now + LEASE, limit=2)
        assert await outbox.defer(given_back.id, now + LEASE, now)  # not sent: given back
    clock = {"seconds": 100.0}
    deliverer = Deliverer(app.core.sessions, NoSender(), limits=Limits(per_second=1),
                          monotonic=lambda: clock["seconds"])
    await deliverer.count_recent()
    limiter = deliverer.limiter
    assert limiter.chat_wait(in_flight.chat_id, is_group=False) == pytest.approx(1.05)
    assert limiter.overall_wait() == pytest.approx(1.05)  # the overall window counts it too
    assert limiter.chat_wait(given_back.chat_id, is_group=False) == 0
    assert limiter.chat_wait("4202", is_group=False) == 0  # never taken

    async with session_factory(app.engine)() as session, session.begin():
        await OutboxRepository(session).mark_sent(in_flight.id, now - timedelta(seconds=5))
    await deliverer.count_recent()  # now counted as sent when it was: out of the second's window
    assert deliverer.limiter.overall_wait() == 0
    assert deliverer.limiter.chat_wait(in_flight.chat_id, is_group=False) == 0
    async with session_factory(app.engine)() as session:
        assert await OutboxRepository(session).in_flight("telegram", now - LEASE) == []


def test_a_members_minute_and_hour_limits_hold_on_wecom() -> None:
    """WeCom's app and AI bot: at most 30 messages a minute and 1,000 an hour to a member; a
    group robot 20 a minute. Counted on a clock that moves only when told."""
    from bot.adapters.wecom.sender import WECOM_LIMITS
    from bot.adapters.wecom_bot.run import AIBOT_LIMITS
    from bot.runtime.delivery import RateLimiter

    for limits in (WECOM_LIMITS, AIBOT_LIMITS):
        now = [0.0]
        limiter = RateLimiter(limits, lambda: now[0])
        sent: list[float] = []
        while now[0] < 2 * 3600:  # two hours of a member who is sent all the bot can
            wait = limiter.chat_wait("LiNa", is_group=False)
            if wait > 0:
                now[0] += wait
                continue
            limiter.record("LiNa")
            sent.append(now[0])
        for i, at in enumerate(sent):
            in_minute = sum(1 for other in sent[i:i + 40] if other < at + 60)
            in_hour = sum(1 for other in sent[i:i + 1100] if other < at + 3600)
            assert in_minute <= 30 and in_hour <= 1000
        assert 1900 <= len(sent) <= 2000  # and not much slower than that
        now[0], group = 0.0, []
        for _ in range(60):
            wait = limiter.chat_wait("robot:1", is_group=True)
            now[0] += wait
            limiter.record("robot:1")
            group.append(now[0])
        assert all(sum(1 for other in group if at <= other < at + 60) <= 20 for at in group)
