"""Benchmark: the core's CPU time per update, in-process (no platform, no network).

    python bench/core_cpu.py [--members 8] [--dialogs 25] [--rounds 5]

Members of one branch (SQLite file, migrated) run complete /study dialogs one update at a time,
round robin, straight through ``Core.handle``, each update with an event id of its own (as a
Telegram update has, so the redelivery check runs); ``time.process_time`` (every thread of the
process, the database driver's included) is summed over those calls only. The figure is the
median over the rounds of CPU milliseconds per update. The last line is:

    core_cpu: ms_per_update=<median> min_ms=<best round> updates=<per round>
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.runtime.app import build_app  # noqa: E402
from handlers.core.events import Incoming, Outcome  # noqa: E402
from storage.db import session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import OrgKind  # noqa: E402
from storage.repositories.members import MemberRepository  # noqa: E402
from storage.repositories.orgs import OrgRepository  # noqa: E402

PLATFORM = "bench"
BOOK = "《习近平著作选读》"
# One complete /study dialog: (kind, text) — "say" types, "press" taps the newest button.
STUDY: list[tuple[str, str]] = [
    ("say", "/study"), ("press", "集中学习"), ("press", "今天"), ("say", "1.5"),
    ("press", BOOK), ("say", "学深悟透，学以致用"), ("press", "✅ 确认"),
]


_EVENT_IDS = itertools.count(1)


def _event(user: str, **kwargs: object) -> Incoming:
    """A private message or press with a platform event id of its own (so the redelivery check
    runs, as for every Telegram update)."""
    return Incoming(platform=PLATFORM, user_id=user, user_name=user, chat_id=user,
                    is_private=True, event_id=str(next(_EVENT_IDS)), **kwargs)  # type: ignore[arg-type]


def _button(outcome: Outcome, label: str) -> str:
    for reply in outcome.replies:
        for row in reply.buttons:
            for button in row:
                if button.label == label and button.data is not None:
                    return button.data
    raise SystemExit(f"no button {label!r} in {outcome}")


async def _setup(url: str, members: int) -> list[str]:
    app = build_app(Settings(_env_file=None, database_url=url, platform="console",  # type: ignore[call-arg]
                             pushes_enabled=False))
    await upgrade(app.engine)
    users = [f"m{i}" for i in range(members)]
    async with session_factory(app.engine)() as session, session.begin():
        org = await OrgRepository(session).add("机关第一党支部", kind=OrgKind.branch, books=[BOOK])
        repo = MemberRepository(session)
        for user in users:
            member = await repo.add(org, user)
            await repo.bind(member, platform=PLATFORM, user_id=user, display_name=user)
    await app.close()
    return users


async def _round(url: str, users: list[str], dialogs: int) -> tuple[float, int]:
    """CPU seconds spent in Core.handle, and how many updates it handled."""
    app = build_app(Settings(_env_file=None, database_url=url, platform="console",  # type: ignore[call-arg]
                             pushes_enabled=False))
    last: dict[str, Outcome] = {}
    spent, updates = 0.0, 0
    try:
        for _ in range(dialogs):
            for kind, text in STUDY:
                for user in users:
                    if kind == "say":
                        event = _event(user, text=text)
                    else:
                        event = _event(user, callback_data=_button(last[user], text), message_id="1")
                    began = time.process_time()
                    last[user] = await app.core.handle(event)
                    spent += time.process_time() - began
                    updates += 1
    finally:
        await app.close()
    return spent, updates


async def measure(members: int, dialogs: int, rounds: int) -> tuple[list[float], int]:
    """CPU milliseconds per update of each round on a fresh SQLite file, and updates a round."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        users = await _setup(url, members)
        await _round(url, users, 2)  # warm up: imports, statement caches
        per_update = []
        updates = 0
        for _ in range(rounds):
            spent, updates = await _round(url, users, dialogs)
            per_update.append(spent / updates * 1000)
    return per_update, updates


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument("--dialogs", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    per_update, updates = await measure(args.members, args.dialogs, args.rounds)
    print(f"core_cpu: ms_per_update={statistics.median(per_update):.3f} "
          f"min_ms={min(per_update):.3f} updates={updates}")


if __name__ == "__main__":
    asyncio.run(main())
