"""Several `branchbot run` processes on one PostgreSQL (issue 15), as real processes: a member's
burst spread over two webhook workers is applied in order, an acknowledged update a dead worker
left is handled by another, one poller at a time with takeover, one pushes leader with failover,
the platform's limits held across processes and a restart. The workers and the round-robin
proxy are those of bench/scaleout.py (bench/scaleout_rig)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import subprocess
import sys

import aiohttp
import pytest
from sqlalchemy import text

from bench.scaleout_rig.fleet import SECRET, WEBHOOK_PATH, Fleet, Worker
from bench.scaleout_rig.proxy import RoundRobinProxy
from bot.adapters.telegram.webhook import SECRET_HEADER
from bot.runtime.app import App
from handlers.core.i18n import DEFAULT_TEXTS as t
from storage.db import session_factory
from storage.repositories.events import HandledEventRepository
from storage.repositories.members import MemberRepository
from storage.repositories.orgs import OrgRepository
from storage.repositories.outbox import OutboxRepository, Planned
from storage.models import OrgKind
from storage.types import utcnow
from tests.botapi import FakeBotApi
from tests.test_telegram_e2e import BotProcess

CONFIRM = t("dialog.confirm")
FIRST = 40_001


@pytest.fixture
def pg_url(db_url: str) -> str:
    if not db_url.startswith("postgresql"):
        pytest.skip("several processes share one PostgreSQL (SQLite: one process)")
    return db_url


async def add_members(app: App, users: list[int]) -> None:
    async with session_factory(app.engine)() as session, session.begin():
        branch = await OrgRepository(session).add("多进程测试支部", kind=OrgKind.branch)
        members = MemberRepository(session)
        for user in users:
            member = await members.add(branch, f"成员{user}")
            await members.bind(member, platform="telegram", user_id=str(user), display_name=None)


async def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.fixture
async def proxy() -> AsyncIterator[RoundRobinProxy]:
    running = RoundRobinProxy()
    await running.start()
    yield running
    await running.stop()


async def fleet_of(count: int, pg_url: str, api: FakeBotApi, proxy: RoundRobinProxy,
                   tmp_path: Path, **env: str) -> Fleet:
    fleet = Fleet(count, pg_url, api, proxy.url(WEBHOOK_PATH), tmp_path)
    for worker in fleet.workers:
        worker.env.update(env)
    proxy.upstream_ports = fleet.ports
    await fleet.start()
    await wait_until(lambda: api.webhook_url == proxy.url(WEBHOOK_PATH))
    return fleet


async def health(worker: Worker) -> dict[str, object]:
    async with aiohttp.ClientSession() as client, client.get(
            f"http://127.0.0.1:{worker.port}/healthz") as response:
        answer = await response.json()
        answer["status"] = response.status
        return answer


async def records(app: App) -> Counter[tuple[int, str, date, int, str, str | None]]:
    """Every live study record: (Telegram id, form, day, minutes, content, reflection)."""
    async with app.engine.connect() as connection:
        rows = await connection.execute(text(
            "SELECT i.platform_user_id, s.form, s.study_date, s.minutes, s.content, s.reflection "
            "FROM study_records s JOIN identities i ON i.member_id = s.member_id "
            "WHERE s.deleted_at IS NULL"))
        return Counter((int(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in rows)


async def burst_dialog(api: FakeBotApi, user: int, answers: list[str]) -> str | None:
    """Every answer sent without waiting for the bot, then 确认 pressed on the newest card;
    the notice of that press (None: saved)."""
    since = len(api.calls)
    for answer in answers:
        api.push_message(user, answer, first_name=f"成员{user}")
    await api.wait_for(lambda c: c.chat_id == user and CONFIRM in c.button_labels(),
                       timeout=30, since=since)
    await asyncio.sleep(0.5)  # the card is the last thing the bot sends for the burst
    card = next(m for m in reversed(api.messages_in(user)) if CONFIRM in m.button_labels())
    button = next(b for row in card.buttons() for b in row if b.get("text") == CONFIRM)
    pressed = len(api.calls)
    api.push_callback(user, button["callback_data"], message_id=card.message_id)
    answer = await api.wait_for(lambda c: c.method == "answerCallbackQuery" and c.chat_id == user,
                                timeout=30, since=pressed)
    return answer.params.get("text") or None


async def test_a_members_burst_over_two_workers_is_saved_in_order(
        app: App, pg_url: str, api: FakeBotApi, proxy: RoundRobinProxy, tmp_path: Path) -> None:
    """Round robin sends a member's consecutive updates to alternate workers; each is applied
    on the step its predecessor left, so every value lands in its field."""
    users = [FIRST + n for n in range(4)]
    await add_members(app, users)
    fleet = await fleet_of(2, pg_url, api, proxy, tmp_path)
    try:
        async def member(user: int) -> list[str | None]:
            notices = []
            for n, (form, day, hours) in enumerate((("自学", "今天", "1.5"), ("读书班", "昨天", "2"))):
                notices.append(await burst_dialog(api, user, [
                    "/study", form, day, hours, f"内容{user}-{n}", f"心得{user}-{n}"]))
            return notices

        notices = await asyncio.gather(*(member(user) for user in users))
    finally:
        await fleet.stop()
    assert notices == [[None, None]] * len(users)  # every 确认 saved, none stale
    today = datetime.now(app.settings.tz).date()
    expected = Counter()
    for user in users:
        expected[(user, "自学", today, 90, f"内容{user}-0", f"心得{user}-0")] += 1
        expected[(user, "读书班", today - timedelta(days=1), 120, f"内容{user}-1",
                  f"心得{user}-1")] += 1
    assert await records(app) == expected
    assert sum(proxy.stats.forwarded.values()) >= 7 * 2 * len(users)
    assert len(proxy.stats.forwarded) == 2  # both workers took updates
    assert not fleet.log_errors()


async def test_an_update_a_dead_worker_acknowledged_is_handled_by_another(
        app: App, pg_url: str, api: FakeBotApi, proxy: RoundRobinProxy, tmp_path: Path) -> None:
    """What a worker SIGKILLed between its 200 and the handling leaves: a stored, unhandled
    update. A live worker picks it up within seconds, once."""
    await add_members(app, [FIRST])
    payload = {"update_id": 990_001, "message": {
        "message_id": 1, "date": 0, "chat": {"id": FIRST, "type": "private", "first_name": "x"},
        "from": {"id": FIRST, "is_bot": False, "first_name": "x"}, "text": "/study",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
    async with session_factory(app.engine)() as session, session.begin():
        assert await HandledEventRepository(session).store(
            "telegram", "990001", str(FIRST), payload) is not None
    fleet = await fleet_of(2, pg_url, api, proxy, tmp_path)
    try:
        asked = await api.wait_for(lambda c: c.chat_id == FIRST and c.method == "sendMessage",
                                   timeout=20)
        assert "学习形式" in (asked.text or "")
        await asyncio.sleep(3)  # both workers scan again: nobody handles it a second time
    finally:
        await fleet.stop()
    assert [c for c in api.calls if c.chat_id == FIRST and c.method == "sendMessage"] == [asked]
    async with app.engine.connect() as connection:
        pending = await connection.scalar(text(
            "SELECT count(*) FROM handled_events WHERE handled_at IS NULL"))
        step = await connection.scalar(text("SELECT step FROM dialog_states"))
    assert pending == 0 and step == "form"


async def test_one_poller_the_second_stands_by_and_takes_over(
        app: App, pg_url: str, api: FakeBotApi, tmp_path: Path) -> None:
    await add_members(app, [FIRST])
    first = BotProcess(pg_url, api, tmp_path / "first")
    second = BotProcess(pg_url, api, tmp_path / "second")
    for bot in (first, second):
        bot.cwd.mkdir()
    await first.start(api, "deleteWebhook")
    second_started = asyncio.create_task(second.start(api, "deleteWebhook"))
    await wait_until(lambda: "standing by" in second.log.read_text(errors="replace")
                     if second.log.exists() else False)
    calls = await api.say(FIRST, "/help")
    assert len([c for c in calls if c.method == "sendMessage"]) == 1
    assert not second_started.done()  # it never polled
    both_ran = len(api.calls)
    first.kill()
    began = asyncio.get_running_loop().time()
    await second_started
    calls = await api.say(FIRST, "/help")
    assert len([c for c in calls if c.method == "sendMessage"]) == 1
    assert asyncio.get_running_loop().time() - began < 10  # taken over within seconds
    assert await second.interrupt() == 0
    # Never two long polls at once while both ran (Telegram would answer 409 Conflict)
    assert all(c.error is None or "Conflict" not in c.error for c in api.calls[:both_ran])


async def test_one_pushes_leader_and_failover(app: App, pg_url: str, api: FakeBotApi,
                                              proxy: RoundRobinProxy, tmp_path: Path) -> None:
    fleet = await fleet_of(2, pg_url, api, proxy, tmp_path, BRANCHBOT_PUSHES_ENABLED="true")
    try:
        async def roles() -> list[object]:
            return [(await health(w))["role"] for w in fleet.workers
                    if w.process is not None and w.process.poll() is None]

        for _ in range(100):
            if sorted(await roles()) == ["leader", "standby"]:
                break
            await asyncio.sleep(0.1)
        assert sorted(await roles()) == ["leader", "standby"]
        answers = [await health(w) for w in fleet.workers]
        assert all(a["status"] == 200 and a["ok"] is True and a["db"] == "ok" for a in answers)
        leader = next(w for w, a in zip(fleet.workers, answers, strict=True)
                      if a["role"] == "leader")
        other = next(w for w in fleet.workers if w is not leader)
        leader.kill()
        for _ in range(100):
            if (await health(other))["role"] == "leader":
                break
            await asyncio.sleep(0.1)
        assert (await health(other))["role"] == "leader"  # within 10 s
    finally:
        await fleet.stop()


async def test_limits_hold_across_processes_and_a_killed_leader(
        app: App, pg_url: str, api: FakeBotApi, proxy: RoundRobinProxy, tmp_path: Path) -> None:
    """Two workers that may both send pushes, the leader killed mid fan-out: everyone reached,
    at most the one message in flight twice, and never beyond Telegram's limits (the new leader
    counts what the dead one sent within the windows)."""
    api.enforce_limits()
    now = utcnow()
    count = 120
    async with session_factory(app.engine)() as session, session.begin():
        await OutboxRepository(session).enqueue([
            Planned(f"fanout:{i}", "shuxue_remind", "telegram", str(20_000 + i % 60),
                    {"text": f"本期述学还没有填写 {i}"}, now) for i in range(count)])
    fleet = await fleet_of(2, pg_url, api, proxy, tmp_path, BRANCHBOT_PUSHES_ENABLED="true")

    def sent() -> int:
        return sum(1 for c in api.calls if c.method == "sendMessage" and c.error is None
                   and c.chat_id is not None and c.chat_id >= 20_000)

    try:
        await wait_until(lambda: sent() >= count // 3)
        answers = [await health(w) for w in fleet.workers]
        leader = next(w for w, a in zip(fleet.workers, answers, strict=True)
                      if a["role"] == "leader")
        leader.kill()
        await wait_until(lambda: sent() >= count, timeout=90)
        await asyncio.sleep(1)
    finally:
        await fleet.stop()
    assert api.limit_violations == 0
    assert count <= sent() <= count + 1
    texts = Counter(c.text for c in api.calls if c.method == "sendMessage" and c.error is None
                    and c.chat_id is not None and c.chat_id >= 20_000)
    assert len(texts) == count


async def test_webhook_refuses_what_it_cannot_trust(app: App, pg_url: str, api: FakeBotApi,
                                                    proxy: RoundRobinProxy,
                                                    tmp_path: Path) -> None:
    """Issue 11 item 2 over loopback HTTP: a wrong secret 403, a body over 1 MiB 413 (declared
    or streamed), malformed JSON 400; the worker goes on taking good updates."""
    await add_members(app, [FIRST])
    fleet = await fleet_of(1, pg_url, api, proxy, tmp_path)
    url = f"http://127.0.0.1:{fleet.workers[0].port}/{WEBHOOK_PATH}"
    good = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    update = {"update_id": 5, "message": {
        "message_id": 1, "date": 0, "chat": {"id": FIRST, "type": "private", "first_name": "x"},
        "from": {"id": FIRST, "is_bot": False, "first_name": "x"}, "text": "/help"}}
    big = json.dumps({**update, "pad": "x" * (1024 * 1024)}).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 65536):
            yield big[start:start + 65536]

    try:
        async with aiohttp.ClientSession() as client:
            async def post(data: object, headers: dict[str, str]) -> int:
                async with client.post(url, data=data, headers=headers) as response:
                    return response.status

            assert await post(json.dumps(update), {}) == 403
            assert await post(json.dumps(update), {**good, SECRET_HEADER: "wrong"}) == 403
            assert await post(big, good) == 413
            assert await post(chunks(), good) == 413  # no Content-Length: cut at the limit
            assert await post(b"{not json", good) == 400
            assert await post(b"[1, 2]", good) == 400
            assert await post(json.dumps({"update_id": "x", "message": 7}), good) == 400
            assert await post(json.dumps(update), good) == 200
        await api.wait_for(lambda c: c.chat_id == FIRST and c.method == "sendMessage", timeout=10)
        assert (await health(fleet.workers[0]))["status"] == 200
    finally:
        await fleet.stop()
    assert not fleet.log_errors()


async def test_webhook_mode_without_a_secret_does_not_start(db_url: str, api: FakeBotApi,
                                                             tmp_path: Path) -> None:
    bot = BotProcess(db_url, api, tmp_path, BRANCHBOT_TELEGRAM_WEBHOOK_URL="http://127.0.0.1:9/h")
    with bot.log.open("ab") as log:
        code = subprocess.run([sys.executable, "-m", "bot.cli", "run"], cwd=bot.cwd, env=bot.env,
                              stdout=log, stderr=subprocess.STDOUT, timeout=60).returncode
    output = bot.log.read_text(encoding="utf-8").strip().splitlines()
    assert code != 0 and len(output) == 1 and "BRANCHBOT_TELEGRAM_WEBHOOK_SECRET" in output[0]
    assert "Traceback" not in bot.log.read_text(encoding="utf-8")
    assert not any(c.method == "setWebhook" for c in api.calls)
