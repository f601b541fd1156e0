"""Benchmark: complete /study dialogs through the loopback Bot API server, against the floor.

    python bench/dialogs.py [--users 8] [--dialogs 15] [--rounds 5] [--database-url URL]
                            [--postgres-url URL | --skip-postgres]

Simulated members (each waiting for the bot's answer before the next tap, as a person does) run
complete /study dialogs against four bots in turn, each its own process with its own Bot API
server (the servers and the members share this process):

- branchbot: `branchbot run`, state and records in a SQLite file (or --database-url);
- floor: the protocol's floor (bench/floor_bot.py), a bare python-telegram-bot Application that
  for each update of the same stream makes exactly the Bot API calls branchbot made for it (same
  methods, same payloads, recorded from branchbot's warm-up round and replayed), with no database
  and no core, on branchbot's own Application builder (HTTP transport, per-user order);
- echo: a bare echo bot (bench/echo_bot.py), one call per update;
- pg: branchbot again, on a fresh PostgreSQL database (made and dropped here).

Rounds alternate among the bots so that the machine's ups and downs fall on all alike; figures are
medians over the rounds:

- throughput: --users members at once, --dialogs dialogs each: updates per second at saturation;
- time per update: one member alone: from the update being available to the bot until the bot's
  last API call for it (answerCallbackQuery for a tap, the reply for a text), p99 over all rounds;
- CPU: the bot process's own CPU time per update in the busy rounds (from /proc), which the
  machine's load disturbs less than throughput does; printed for each bot, not in the last line;
- core_ms: the core's own CPU per update, in-process, over the same /study script on a SQLite file
  (bench/core_cpu.py's measure: median of its rounds).

The last line is:

    dialogs: updates_per_s=<x> floor_updates_per_s=<f> floor_ratio=<x/f> echo_updates_per_s=<e>
    ratio=<x/e> p99_ms=<p> core_ms=<c> pg_updates_per_s=<g>
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import floor_bot  # noqa: E402
from bench.core_cpu import STUDY  # noqa: E402
from bench.core_cpu import measure as core_cpu  # noqa: E402
from bench.reports import DEFAULT_PG, postgres_database  # noqa: E402
from tests.botapi import FakeBotApi  # noqa: E402
from tests.botapi.server import Call  # noqa: E402

# Each update of a round as pushed: (its chat, "say" or "press", the text or the data, how many
# calls the server had recorded just before it).
Pushed = tuple[int, str, str, int]


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    updates: int = 0
    seconds: float = 0.0
    calls: int = 0  # Bot API calls to the members' chats
    cpu: float = 0.0  # seconds of CPU the bot's process spent in the round (user and system)

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds


@dataclass
class Bot:
    name: str
    api: FakeBotApi
    command: list[str]
    env: dict[str, str]
    echo: bool = False  # taps carry "echo", any reply ends an update
    busy: list[Run] = field(default_factory=list)
    alone: list[Run] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None


async def _step(api: FakeBotApi, user: int, kind: str, text: str, echo: bool,
                pushed: list[Pushed] | None) -> float:
    """One update and the wait for the bot's last call for it; returns the latency in seconds."""
    since = len(api.calls)
    if kind == "press":
        message = api.last_message(user)
        data = "echo" if echo else next(b["callback_data"] for row in message.buttons() for b in row
                                        if b.get("text") == text and "callback_data" in b)
        if pushed is not None:
            pushed.append((user, kind, data, since))
        started = time.perf_counter()
        api.push_callback(user, data, message_id=message.message_id)
        done = lambda c: c.method == "answerCallbackQuery" and c.chat_id == user  # noqa: E731
    else:
        if pushed is not None:
            pushed.append((user, kind, text, since))
        started = time.perf_counter()
        api.push_message(user, text, first_name=f"成员{user}")
        if echo or text == "/study":
            done = lambda c: c.method == "sendMessage" and c.chat_id == user  # noqa: E731
        else:  # a typed answer is followed by the next question
            done = lambda c: c.method == "sendMessage" and c.chat_id == user and bool(c.reply_markup)  # noqa: E731
    await api.wait_for(done, since=since, timeout=30)
    return time.perf_counter() - started


async def _member(api: FakeBotApi, user: int, dialogs: int, run: Run, echo: bool,
                  pushed: list[Pushed] | None) -> None:
    for _ in range(dialogs):
        for kind, text in STUDY:
            run.latencies.append(await _step(api, user, kind, text, echo, pushed))
            run.updates += 1


def cpu_seconds(process: subprocess.Popen[bytes] | None) -> float:
    """The CPU time a process has used so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rpartition(")")[2].split()
    except (AttributeError, OSError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


async def drive(api: FakeBotApi, users: list[int], dialogs: int, echo: bool,
                pushed: list[Pushed] | None = None,
                process: subprocess.Popen[bytes] | None = None) -> Run:
    run = Run()
    first = len(api.calls)
    cpu = cpu_seconds(process)
    started = time.perf_counter()
    await asyncio.gather(*(_member(api, u, dialogs, run, echo, pushed) for u in users))
    run.seconds = time.perf_counter() - started
    run.cpu = cpu_seconds(process) - cpu
    run.calls = sum(1 for c in api.calls[first:] if c.chat_id in users)
    return run


def recording(calls: list[Call], pushed: list[Pushed]) -> dict[str, list[tuple[str, dict]]]:
    """Per update pushed, the calls the bot made to its chat until that chat's next update."""
    recorded: dict[str, list[tuple[str, dict]]] = {}
    for user in {chat for chat, *_ in pushed}:
        mine = [p for p in pushed if p[0] == user]
        ends = [p[3] for p in mine[1:]] + [len(calls)]
        for (_, kind, content, since), end in zip(mine, ends, strict=True):
            recorded.setdefault(floor_bot.key(user, kind, content), [
                (c.method, c.params) for c in calls[since:end] if c.chat_id == user])
    return recorded


async def start_bot(bot: Bot, logs: Path) -> None:
    """Start the bot's process (its log in ``logs``) and wait for its first poll."""
    since = len(bot.api.calls)
    with open(logs / f"{bot.name}.log", "wb") as log:
        bot.process = subprocess.Popen(bot.command, cwd=ROOT, env=bot.env,
                                       stdout=subprocess.DEVNULL, stderr=log)
    await bot.api.wait_for(lambda c: c.method == "getUpdates", since=since, timeout=60)


async def stop_bot(bot: Bot) -> None:
    if bot.process is None:
        return
    bot.process.terminate()
    while bot.process.poll() is None:
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


def bot_env(url: str, api: FakeBotApi, **extra: str) -> dict[str, str]:
    """A bot's environment; no scheduled pushes (what it sends is its answers to the stream)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANCHBOT_")}
    env.update(BRANCHBOT_DATABASE_URL=url, BRANCHBOT_TELEGRAM_TOKEN=api.token,
               BRANCHBOT_TELEGRAM_BASE_URL=api.base_url,
               BRANCHBOT_TELEGRAM_BASE_FILE_URL=api.base_file_url, PYTHONPATH=str(ROOT),
               BRANCHBOT_PUSHES_ENABLED="false", **extra)
    return env


def merged(runs: list[Run]) -> Run:
    return Run(latencies=[x for r in runs for x in r.latencies])


def cpu_ms(bot: Bot) -> float:
    """The median over the busy rounds of the bot process's CPU milliseconds per update."""
    return statistics.median(1000 * r.cpu / r.updates for r in bot.busy)


def median_rate(bot: Bot | None) -> float:
    return statistics.median(r.per_second for r in bot.busy) if bot is not None else float("nan")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=8, help="members tapping at the same time")
    parser.add_argument("--dialogs", type=int, default=15, help="complete /study dialogs per member")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per bot")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--postgres-url", default=DEFAULT_PG, help="the server the pg bot's database is made on")
    parser.add_argument("--skip-postgres", action="store_true", help="no pg bot (pg_updates_per_s=nan)")
    args = parser.parse_args()
    users = list(range(10_001, 10_001 + args.users))
    workdir = Path(tempfile.mkdtemp(prefix="bb-bench-"))
    url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    await prepare_database(url, users)
    pg_name = f"bb_bench_{uuid.uuid4().hex[:8]}"
    pg_url = None
    if not args.skip_postgres:
        from sqlalchemy.engine import make_url

        await postgres_database(args.postgres_url, pg_name, create=True)
        pg_url = make_url(args.postgres_url).set(database=pg_name).render_as_string(hide_password=False)
        await prepare_database(pg_url, users)
    try:
        bots = await rounds(args, users, url, pg_url, workdir)
    finally:
        if pg_url is not None:
            await postgres_database(args.postgres_url, pg_name, create=False)
    ms, _ = await core_cpu(members=args.users, dialogs=25, rounds=args.rounds)
    report(args, users, bots, statistics.median(ms))


async def rounds(args: argparse.Namespace, users: list[int], url: str, pg_url: str | None,
                 workdir: Path) -> dict[str, Bot]:
    """The warm-up round (branchbot's recorded for the floor), then the alternating rounds."""
    python, cli = sys.executable, [sys.executable, "-m", "bot.cli", "run"]
    calls_file = workdir / "floor_calls.json"
    async with FakeBotApi() as api, FakeBotApi(token="654321:FLOOR-TOKEN") as floor_api, \
            FakeBotApi(token="765432:ECHO-TOKEN") as echo_api, FakeBotApi(token="876543:PG-TOKEN") as pg_api:
        bots = {"branchbot": Bot("branchbot", api, cli, bot_env(url, api)),
                "floor": Bot("floor", floor_api, [python, str(ROOT / "bench" / "floor_bot.py")],
                             bot_env(url, floor_api, BENCH_FLOOR_CALLS=str(calls_file))),
                "echo": Bot("echo", echo_api, [python, str(ROOT / "bench" / "echo_bot.py")],
                            bot_env(url, echo_api), echo=True)}
        if pg_url is not None:
            bots["pg"] = Bot("pg", pg_api, cli, bot_env(pg_url, pg_api))
        try:
            ours = bots["branchbot"]
            await start_bot(ours, workdir)
            pushed: list[Pushed] = []
            await drive(api, users, 1, False, pushed)  # warm up, recorded
            await asyncio.sleep(0.5)  # anything the bot still sends after the last answer
            calls_file.write_text(json.dumps(recording(api.calls, pushed), ensure_ascii=False),
                                  encoding="utf-8")
            for bot in bots.values():
                if bot is not ours:
                    await start_bot(bot, workdir)
                    await drive(bot.api, users, 1, bot.echo)  # warm up
            for _ in range(args.rounds):
                for bot in bots.values():
                    bot.busy.append(await drive(bot.api, users, args.dialogs, bot.echo,
                                                process=bot.process))
                    bot.alone.append(await drive(bot.api, users[:1], args.dialogs, bot.echo))
        finally:
            for bot in bots.values():
                await stop_bot(bot)
    expected = len(users) + (len(users) + 1) * args.dialogs * args.rounds
    for name, database in (("branchbot", url), ("pg", pg_url)):
        if database is not None:
            saved = await count_records(database)
            print(f"{name}: records saved: {saved}, expected {expected}")
            if saved != expected:
                sys.exit(f"wrong number of records: {saved} != {expected}")
    return bots


def report(args: argparse.Namespace, users: list[int], bots: dict[str, Bot], core_ms: float) -> None:
    ours = bots["branchbot"]
    print(f"database: {ours.env['BRANCHBOT_DATABASE_URL'].split(':')[0]}; per round {len(users)} members "
          f"x {args.dialogs} dialogs ({ours.busy[0].updates} updates), then 1 member x {args.dialogs}; "
          f"{args.rounds} rounds")
    for bot in bots.values():
        each = " ".join(f"{r.per_second:.0f}" for r in bot.busy)
        single = merged(bot.alone)
        calls = sum(r.calls for r in bot.busy) / sum(r.updates for r in bot.busy)
        print(f"{bot.name:>9}: {median_rate(bot):6.1f} updates/s at {len(users)} members (rounds: {each}); "
              f"{calls:.2f} API calls and {cpu_ms(bot):.2f} ms of the bot's CPU per update; "
              f"one member alone: p50 {percentile_ms(single, 0.5):.1f} ms, p99 {p99_ms(single):.1f} ms")
    floor_calls = sum(r.calls for r in bots["floor"].busy)
    if floor_calls != sum(r.calls for r in ours.busy):
        sys.exit(f"the floor made {floor_calls} calls, branchbot {sum(r.calls for r in ours.busy)}")
    x, f, e = median_rate(ours), median_rate(bots["floor"]), median_rate(bots["echo"])
    print(f"core_cpu: {core_ms:.3f} ms per update (median of {args.rounds} rounds); the bot's CPU per "
          f"update over the floor's: {cpu_ms(bots['floor']) / cpu_ms(ours):.2f}")
    print(f"dialogs: updates_per_s={x:.1f} floor_updates_per_s={f:.1f} floor_ratio={x / f:.2f} "
          f"echo_updates_per_s={e:.1f} ratio={x / e:.2f} p99_ms={p99_ms(merged(ours.alone)):.1f} "
          f"core_ms={core_ms:.2f} pg_updates_per_s={median_rate(bots.get('pg')):.1f}")


if __name__ == "__main__":
    asyncio.run(main())
