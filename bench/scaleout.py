"""Benchmark: several webhook workers on one PostgreSQL, members tapping ahead, faults on.

    .venv/bin/python bench/scaleout.py [--workers 3] [--members 20] [--dialogs 10]
                                       [--no-kill] [--no-terminate] [--server-url URL]

On loopback: the fake Telegram Bot API server (tests/botapi, POSTing each update to the webhook
and retrying one the webhook did not take, as Telegram does), --workers `branchbot run` webhook
processes (each its own port, one fresh PostgreSQL database, `branchbot db upgrade` run once
before), and a round-robin reverse proxy in front whose URL every worker registers. --members
members each run --dialogs /study dialogs, each dialog one burst of typed answers sent without
waiting for the bot (bench/scaleout_rig/workload.py). Meanwhile one worker is SIGKILLed and
restarted when half the dialogs have begun, and every 4 s `pg_terminate_backend` ends the bot's
database connections. Then every saved study record is checked against what its dialog meant
(bench/scaleout_rig/checks.py). A second run with a single worker and no faults gives one
process's throughput. Updates per second: what the members sent, over the time from the first
update to the bot's last Bot API call to a member; dialogs the members gave up on (no card within
--patience seconds of the bot's last move) count their waiting in. The last line is:

    scaleout: workers=<n> dialogs=<n> saved=<n> wrong=<n> lost=<n> duplicates=<n>
              error_replies=<n> updates_per_s=<x> single_worker_updates_per_s=<y>
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.scaleout_rig.checks import (  # noqa: E402
    Tally,
    error_replies,
    saved_records,
    tally,
    wrong_records,
)
from bench.scaleout_rig.database import DEFAULT_SERVER, ConnectionKiller, fresh_database  # noqa: E402
from bench.scaleout_rig.fleet import WEBHOOK_PATH, Fleet, base_env  # noqa: E402
from bench.scaleout_rig.project import add_members, upgrade_schema  # noqa: E402
from bench.scaleout_rig.proxy import RoundRobinProxy  # noqa: E402
from bench.scaleout_rig.workload import Members, bot_today, intents  # noqa: E402
from tests.botapi import FakeBotApi  # noqa: E402

FIRST_USER = 30_001


@dataclass(frozen=True)
class Faults:
    kill: bool
    terminate_every: float | None  # seconds between pg_terminate_backend rounds; None: off


@dataclass(frozen=True)
class Outcome:
    workers: int
    tally: Tally
    updates: int
    seconds: float
    notes: list[str]

    @property
    def updates_per_s(self) -> float:
        return self.updates / self.seconds if self.seconds > 0 else 0.0


async def scenario(workers: int, members: int, dialogs: int, faults: Faults, server_url: str,
                   patience: float) -> Outcome:
    users = list(range(FIRST_USER, FIRST_USER + members))
    planned = intents(users, dialogs)
    logs = Path(tempfile.mkdtemp(prefix="bb-scaleout-"))
    async with fresh_database(server_url) as database:
        upgrade_schema(base_env(database.url))
        await add_members(database.url, users)
        async with FakeBotApi() as api:
            api.retry_failed_webhooks(delay=0.5, attempts=60)
            proxy = RoundRobinProxy()
            await proxy.start()
            fleet = Fleet(workers, database.url, api, proxy.url(WEBHOOK_PATH), logs)
            proxy.upstream_ports = fleet.ports
            killer = (ConnectionKiller(database, faults.terminate_every)
                      if faults.terminate_every else None)
            notes: list[str] = []
            restart: list[asyncio.Task[None]] = []
            crowd = Members(api, planned, patience=patience,
                            on_dialog_started=_kill_midway(fleet, len(planned), restart, notes)
                            if faults.kill else None)
            try:
                await fleet.start()
                if killer is not None:
                    await killer.start()
                await crowd.run()
                await asyncio.gather(*restart)
                chats = set(users)
                answered = [c.at for c in api.calls if c.chat_id in chats]
                seconds = max(answered, default=0.0) - (crowd.traffic.first_at or 0.0)
            finally:
                if killer is not None:
                    await killer.stop()
                await asyncio.sleep(1.0)  # let anything still in flight land
                await fleet.stop()
                await proxy.stop()
            records = await saved_records(database.plain_url)
            today = bot_today()
            result = tally(planned, records, today, error_replies(api))
            notes += _notes(api, crowd, proxy, fleet, killer, logs)
            notes += [f"wrong record of {user}: {form} {day} {minutes} min, content "
                      f"{content!r}, reflection {reflection!r}"
                      for user, form, day, minutes, content, reflection
                      in wrong_records(planned, records, today)[:3]]
    return Outcome(workers, result, crowd.traffic.updates, seconds, notes)


def _notes(api: FakeBotApi, crowd: Members, proxy: RoundRobinProxy, fleet: Fleet,
           killer: ConnectionKiller | None, logs: Path) -> list[str]:
    """What happened on the way, for reading the figures."""
    traffic = crowd.traffic
    failed = sum(1 for d in api.webhook_deliveries if d.error is not None)
    restarts = sum(w.failed_starts for w in fleet.workers)
    notes = [
        f"members gave up waiting for a card {traffic.gave_up} times; "
        f"确认 answered with a notice or not at all {traffic.stale_presses} times",
        f"proxy: {sum(proxy.stats.forwarded.values())} forwarded, "
        f"{sum(proxy.stats.skipped.values())} skipped a refusing worker, "
        f"{proxy.stats.bad_gateway} answered 502; webhook deliveries not taken "
        f"(then retried): {failed}",
        f"worker logs: {_counted(fleet.log_errors()) or 'no exceptions'}; starts that failed "
        f"and were tried again: {restarts} (logs in {logs})",
    ]
    if killer is not None:
        notes.append(f"pg_terminate_backend: {killer.terminated} connections in "
                     f"{killer.rounds} rounds")
    return notes + traffic.stories[:6]


def _kill_midway(fleet: Fleet, total: int, restart: list[asyncio.Task[None]],
                 notes: list[str]) -> Callable[[int], Awaitable[None]]:
    """Once half the dialogs have begun: SIGKILL the second worker and start it again."""
    number = 1 % len(fleet.workers)

    async def on_dialog_started(started: int) -> None:
        if started == total // 2 + 1 and not restart:
            loop = asyncio.get_running_loop()
            began = loop.time()

            async def kill_and_restart() -> None:
                await fleet.kill_and_restart(number)
                notes.append(f"worker {number} SIGKILLed at dialog {started} of {total}, "
                             f"listening again {loop.time() - began:.1f} s later")

            restart.append(asyncio.create_task(kill_and_restart()))

    return on_dialog_started


def _counted(names: dict[str, int]) -> str:
    return ", ".join(f"{name}×{n}" for name, n in sorted(names.items(), key=lambda p: -p[1]))


def report(outcome: Outcome) -> None:
    t = outcome.tally
    print(f"{outcome.workers} worker(s): {t.dialogs} dialogs, {outcome.updates} updates in "
          f"{outcome.seconds:.1f} s ({outcome.updates_per_s:.1f} updates/s); saved {t.saved}, "
          f"wrong {t.wrong}, lost {t.lost}, duplicates {t.duplicates}, "
          f"error replies {t.error_replies}")
    for note in outcome.notes:
        print(f"  {note}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=3, help="webhook workers behind the proxy")
    parser.add_argument("--members", type=int, default=20, help="members tapping at once")
    parser.add_argument("--dialogs", type=int, default=10, help="/study dialogs per member")
    parser.add_argument("--no-kill", action="store_true", help="do not SIGKILL a worker midway")
    parser.add_argument("--no-terminate", action="store_true",
                        help="do not pg_terminate_backend the bot's connections every 4 s")
    parser.add_argument("--patience", type=float, default=10.0,
                        help="seconds a member waits for the bot's next move before giving up")
    parser.add_argument("--server-url", default=DEFAULT_SERVER,
                        help="a PostgreSQL database to create the run's databases from")
    args = parser.parse_args()

    faults = Faults(kill=not args.no_kill and args.workers > 1,
                    terminate_every=None if args.no_terminate else 4.0)
    many = await scenario(args.workers, args.members, args.dialogs, faults, args.server_url,
                          args.patience)
    report(many)
    single = await scenario(1, args.members, args.dialogs, Faults(False, None), args.server_url,
                            args.patience)
    report(single)
    t = many.tally
    print(f"scaleout: workers={args.workers} dialogs={t.dialogs} saved={t.saved} wrong={t.wrong} "
          f"lost={t.lost} duplicates={t.duplicates} error_replies={t.error_replies} "
          f"updates_per_s={many.updates_per_s:.1f} "
          f"single_worker_updates_per_s={single.updates_per_s:.1f}")


if __name__ == "__main__":
    asyncio.run(main())
