"""Scheduled pushes in a real `branchbot run` process: a fan-out killed midway and restarted
reaches everyone, nobody twice but the one message in flight; the planner runs at start-up."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.runtime.app import App
from storage.db import session_factory
from storage.models import GroupChat, OutboxMessage, OutboxStatus, ShuxueSchedule
from storage.repositories.outbox import OutboxRepository, Planned
from storage.types import utcnow
from tests.botapi import FakeBotApi
from tests.conftest import Branch
from tests.test_telegram_e2e import BotProcess

RECIPIENTS = 150


def delivered(api: FakeBotApi) -> Counter[int]:
    return Counter(c.chat_id for c in api.calls if c.method == "sendMessage" and c.error is None
                   and c.chat_id is not None)


async def wait_until(condition, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_a_fan_out_killed_midway_reaches_everyone_once(app: App, db_url: str, api: FakeBotApi,
                                                             tmp_path: Path) -> None:
    api.enforce_limits()
    now = utcnow()
    async with session_factory(app.engine)() as session, session.begin():
        await OutboxRepository(session).enqueue([
            Planned(f"fanout:{i}", "shuxue_remind", "telegram", str(20_000 + i),
                    {"text": "本期述学还没有填写"}, now) for i in range(RECIPIENTS)])
    bot = BotProcess(db_url, api, tmp_path, BRANCHBOT_PUSHES_ENABLED="true")
    await bot.start(api, "deleteWebhook")
    await wait_until(lambda: sum(delivered(api).values()) >= RECIPIENTS // 3)
    bot.kill()  # SIGKILL in the middle of the fan-out
    await bot.start(api, "deleteWebhook")
    await wait_until(lambda: len(delivered(api)) == RECIPIENTS)
    await asyncio.sleep(0.5)
    assert await bot.interrupt() == 0
    counts = delivered(api)
    assert set(counts) == {20_000 + i for i in range(RECIPIENTS)}  # nobody skipped
    assert sum(counts.values()) - RECIPIENTS <= 1  # at most the one in flight, twice
    assert api.limit_violations == 0
    async with session_factory(app.engine)() as session:
        rows = list(await session.scalars(select(OutboxMessage)))
    unmarked = [m for m in rows if m.status is not OutboxStatus.sent]
    # The one in flight at the kill reached its chat but was not marked: it stays leased (pending)
    # until its lease runs out, then goes again (the one duplicate allowed). Nothing else is open.
    assert len(unmarked) <= 1 and all(m.status is OutboxStatus.pending for m in unmarked)
    assert all(counts[int(m.chat_id)] == 1 for m in unmarked)


async def test_start_up_sends_a_prompt_due_within_the_grace_window(app: App, db_url: str,
                                                                   api: FakeBotApi, branch: Branch,
                                                                   tmp_path: Path) -> None:
    """A prompt that fell due an hour ago (the bot was down) goes out once when the bot starts."""
    local = (utcnow() - timedelta(hours=1)).astimezone(app.settings.tz)
    async with session_factory(app.engine)() as session, session.begin():
        session.add(ShuxueSchedule(org_id=branch.org.id, weekday=local.weekday(),
                                   time=f"{local.hour:02d}:{local.minute:02d}", every_weeks=1,
                                   remind_after_days=6, remind_time="23:59"))
        session.add(GroupChat(org_id=branch.org.id, platform="telegram", chat_id="-300",
                              bound_by_id=branch.secretary.id))
    bot = BotProcess(db_url, api, tmp_path, BRANCHBOT_PUSHES_ENABLED="true",
                     BRANCHBOT_QUIET_HOURS="00:00-00:00")
    await bot.start(api, "deleteWebhook")
    prompt = await api.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == -300, timeout=30)
    assert "述学" in (prompt.text or "")
    assert prompt.buttons() == [[{"text": "填写述学",
                                  "url": "https://t.me/branchbot_test_bot?start=shuxue"}]]
    for _ in range(100):  # recorded as sent (killing before that is the in-flight case)
        async with session_factory(app.engine)() as session:
            if await session.scalar(select(OutboxMessage.id).where(
                    OutboxMessage.status == OutboxStatus.sent)) is not None:
                break
        await asyncio.sleep(0.05)
    bot.kill()
    await bot.start(api, "deleteWebhook")  # started again: planned again, sent nothing new
    await asyncio.sleep(1.5)
    assert await bot.interrupt() == 0
    assert delivered(api)[-300] == 1
