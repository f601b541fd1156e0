"""Benchmark: complete /study dialogs through the loopback Bot API server.

    python bench/dialogs.py [--users 8] [--dialogs 15] [--rounds 5] [--database-url URL]

Simulated members (each waiting for the bot's answer before the next tap, as a person does) run
complete /study dialogs against `branchbot run` (state and records in SQLite by default), then the
same harness drives a bare python-telegram-bot echo bot, the floor of this stack, with the very same
updates (it answers each tap and echoes each text). Each bot is its own process with its own Bot API
server; the servers and the members share this process. Rounds alternate between the two bots so
that the machine's ups and downs fall on both alike; figures are medians over the rounds:

- throughput: --users members at once, --dialogs dialogs each: updates per second at saturation;
- time per update: one member alone: from the update being available to the bot until the bot's
  last API call for it (answerCallbackQuery for a tap, the reply for a text), p99 over all rounds.

The last line is:

    dialogs: updates_per_s=<x> echo_updates_per_s=<y> ratio=<x/y> p99_ms=<z>
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.botapi import FakeBotApi  # noqa: E402

# One complete /study dialog: (kind, text) — "say" types, "press" taps the newest button.
STUDY: list[tuple[str, str]] = [
    ("say", "/study"), ("press", "集中学习"), ("press", "今天"), ("say", "1.5"),
    ("press", "《习近平著作选读》"), ("say", "学深悟透，学以致用"), ("press", "✅ 确认"),
]


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    updates: int = 0
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds


async def _step(api: FakeBotApi, user: int, kind: str, text: str, echo: bool) -> float:
    """One update and the wait for the bot's last call for it; returns the latency in seconds."""
    since = len(api.calls)
    if kind == "press":
        message = api.last_message(user)
        data = "echo" if echo else next(b["callback_data"] for row in message.buttons() for b in row
                                        if b.get("text") == text and "callback_data" in b)
        started = time.perf_counter()
        api.push_callback(user, data, message_id=message.message_id)
        done = lambda c: c.method == "answerCallbackQuery" and c.chat_id == user  # noqa: E731
    else:
        started = time.perf_counter()
        api.push_message(user, text, first_name=f"成员{user}")
        if echo or text == "/study":
            done = lambda c: c.method == "sendMessage" and c.chat_id == user  # noqa: E731
        else:  # a typed answer is followed by the next question
            done = lambda c: c.method == "sendMessage" and c.chat_id == user and bool(c.reply_markup)  # noqa: E731
    await api.wait_for(done, since=since, timeout=30)
    return time.perf_counter() - started


async def _member(api: FakeBotApi, user: int, dialogs: int, script: list[tuple[str, str]],
                  run: Run, echo: bool) -> None:
    for _ in range(dialogs):
        for kind, text in script:
            run.latencies.append(await _step(api, user, kind, text, echo))
            run.updates += 1


async def drive(api: FakeBotApi, users: list[int], dialogs: int, echo: bool) -> Run:
    run = Run()
    started = time.perf_counter()
    await asyncio.gather(*(_member(api, u, dialogs, STUDY, run, echo) for u in users))
    run.seconds = time.perf_counter() - started
    return run


async def start_bot(api: FakeBotApi, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    since = len(api.calls)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    await api.wait_for(lambda c: c.method == "getUpdates", since=since, timeout=60)
    return process


async def stop_bot(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    while process.poll() is None:
        await asyncio.sleep(0.05)


async def prepare_database(url: str, users: list[int]) -> None:
    from storage.db import create_engine, session_factory
    from storage.migrate import upgrade
    from storage.models import OrgKind
    from storage.repositories.members import MemberRepository
    from storage.repositories.orgs import OrgRepository

    engine = create_engine(url)
    await upgrade(engine)
    async with session_factory(engine)() as session, session.begin():
        branch = await OrgRepository(session).add("基准测试党支部", kind=OrgKind.branch,
                                                  books=["《习近平著作选读》"])
        members = MemberRepository(session)
        for user in users:
            member = await members.add(branch, f"成员{user}")
            await members.bind(member, platform="telegram", user_id=str(user), display_name=None)
    await engine.dispose()


async def count_records(url: str) -> int:
    from sqlalchemy import func, select

    from storage.db import create_engine
    from storage.models import StudyRecord

    engine = create_engine(url)
    async with engine.connect() as connection:
        found = await connection.scalar(select(func.count()).select_from(StudyRecord))
    await engine.dispose()
    return int(found or 0)


def percentile_ms(run: Run, q: float) -> float:
    ordered = sorted(run.latencies)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def p99_ms(run: Run) -> float:
    return percentile_ms(run, 0.99)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=8, help="members tapping at the same time")
    parser.add_argument("--dialogs", type=int, default=15, help="complete /study dialogs per member")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per bot")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    users = list(range(10_001, 10_001 + args.users))
    workdir = Path(tempfile.mkdtemp(prefix="bb-bench-"))
    url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    await prepare_database(url, users)

    async with FakeBotApi() as api, FakeBotApi(token="654321:ECHO-TOKEN") as echo_api:
        ours_bot = await start_bot(api, [sys.executable, "-m", "bot.cli", "run"], bot_env(url, api))
        echo_bot = await start_bot(echo_api, [sys.executable, str(ROOT / "bench" / "echo_bot.py")],
                                   bot_env(url, echo_api))
        busy: dict[bool, list[Run]] = {False: [], True: []}
        alone: dict[bool, list[Run]] = {False: [], True: []}
        for echo, server in ((False, api), (True, echo_api)):  # warm up
            await drive(server, users, 1, echo)
        for _ in range(args.rounds):
            for echo, server in ((False, api), (True, echo_api)):
                busy[echo].append(await drive(server, users, args.dialogs, echo))
                alone[echo].append(await drive(server, users[:1], args.dialogs, echo))
        await stop_bot(ours_bot)
        await stop_bot(echo_bot)

    saved = await count_records(url)
    expected = (len(users) + (len(users) + 1) * args.dialogs * args.rounds)
    print(f"database: {url.split(':')[0]}; per round {len(users)} members x {args.dialogs} dialogs "
          f"({busy[False][0].updates} updates), then 1 member x {args.dialogs}; {args.rounds} rounds")
    rates = {echo: statistics.median(r.per_second for r in busy[echo]) for echo in busy}
    for echo, name in ((False, "branchbot"), (True, "echo bot ")):
        each = " ".join(f"{r.per_second:.0f}" for r in busy[echo])
        single = merged(alone[echo])
        print(f"{name}: {rates[echo]:6.1f} updates/s at {len(users)} members (rounds: {each}); "
              f"one member alone: p50 {percentile_ms(single, 0.5):.1f} ms, "
              f"p99 {p99_ms(single):.1f} ms per update")
    print(f"records saved: {saved}, expected {expected}")
    if saved != expected:
        sys.exit(f"wrong number of records: {saved} != {expected}")
    print(f"dialogs: updates_per_s={rates[False]:.1f} echo_updates_per_s={rates[True]:.1f} "
          f"ratio={rates[False] / rates[True]:.2f} p99_ms={p99_ms(merged(alone[False])):.1f}")


def bot_env(url: str, api: FakeBotApi) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANCHBOT_")}
    env.update(BRANCHBOT_DATABASE_URL=url, BRANCHBOT_TELEGRAM_TOKEN=api.token,
               BRANCHBOT_TELEGRAM_BASE_URL=api.base_url, PYTHONPATH=str(ROOT))
    return env


def merged(runs: list[Run]) -> Run:
    return Run(latencies=[x for r in runs for x in r.latencies])


if __name__ == "__main__":
    asyncio.run(main())
