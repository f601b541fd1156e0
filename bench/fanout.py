"""Benchmark: fan-out of the weekly 述学 push to 3,000 members in private and 60 groups.

    python bench/fanout.py [--members 3000] [--groups 60] [--database-url URL]

60 branches, each with a bound group chat and 50 members on Telegram. The planner, at the
branches' prompt time, plans the group prompt for every group and a private reminder for every
member (the reminder set to the same minute, so one fan-out carries both). The deliverer sends
them through the loopback Bot API server, which enforces Telegram's limits (30 messages/s overall,
1/s per chat, 20/min per group) and answers 429 beyond them. The last line is:

    fanout: rate_fraction=<achieved/allowed> http_429=<n> lost=<n> duplicates=<n>
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402
from telegram import Bot  # noqa: E402

from bot.adapters.telegram.sender import TelegramSender  # noqa: E402
from bot.runtime.delivery import TELEGRAM_LIMITS, Deliverer  # noqa: E402
from handlers.core.i18n import DEFAULT_TEXTS as t  # noqa: E402
from handlers.schedule.planner import PlanConfig, plan  # noqa: E402
from storage.db import create_engine, session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    GroupChat,
    OrgKind,
    OutboxMessage,
    OutboxStatus,
    ShuxueSchedule,
)
from storage.repositories.members import MemberRepository  # noqa: E402
from storage.repositories.orgs import OrgRepository  # noqa: E402
from tests.botapi import FakeBotApi  # noqa: E402

SH = ZoneInfo("Asia/Shanghai")
PROMPT = datetime(2023, 11, 13, 9, 0, tzinfo=SH).astimezone(timezone.utc)  # a Monday, 09:00
PLANNED_AT = PROMPT + timedelta(seconds=5)


async def prepare(url: str, members: int, groups: int) -> None:
    engine = create_engine(url)
    await upgrade(engine)
    async with session_factory(engine)() as session, session.begin():
        orgs, people = OrgRepository(session), MemberRepository(session)
        founder = None
        for g in range(groups):
            branch = await orgs.add(f"第{g + 1}党支部", kind=OrgKind.branch)
            session.add(ShuxueSchedule(org_id=branch.id, weekday=0, time="09:00", every_weeks=1,
                                       remind_after_days=0, remind_time="09:00"))
            for m in range(members // groups):
                member = await people.add(branch, f"成员{g}-{m}")
                founder = founder or member
                await people.bind(member, platform="telegram", user_id=str(100_000 + g * 1000 + m),
                                  display_name=None)
            assert founder is not None
            session.add(GroupChat(org_id=branch.id, platform="telegram", chat_id=str(-1_000 - g),
                                  bound_by_id=founder.id))
    await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=3000)
    parser.add_argument("--groups", type=int, default=60)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    url = args.database_url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'fanout.db'}"
    await prepare(url, args.members, args.groups)
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        result = await plan(session, PLANNED_AT,
                            PlanConfig(platforms=("telegram",), tz=SH, texts=t))
    expected = args.members + args.groups
    print(f"planned {result.added} messages ({args.groups} group prompts, "
          f"{result.added - args.groups} private reminders)")

    async with FakeBotApi() as api, Bot(api.token, base_url=api.base_url) as bot:
        api.enforce_limits()
        started = time.perf_counter()
        deliverer = Deliverer(sessions, TelegramSender(bot), limits=TELEGRAM_LIMITS,  # the campaign's
                              now=lambda: PLANNED_AT + timedelta(seconds=time.perf_counter() - started))
        while True:
            await deliverer.drain()
            async with sessions() as session:
                pending = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
                    OutboxMessage.status == OutboxStatus.pending))
            if not pending:
                break
            await asyncio.sleep(0.05)
        seconds = time.perf_counter() - started
        sent = [c for c in api.calls if c.method == "sendMessage" and c.error is None]
        counts = Counter(c.chat_id for c in sent)
        violations = api.limit_violations
    await engine.dispose()

    lost = expected - len(counts)
    duplicates = sum(n - 1 for n in counts.values())
    first, last = sent[0].at, sent[-1].at
    achieved = (len(sent) - 1) / (last - first) if len(sent) > 1 else 0.0
    allowed = TELEGRAM_LIMITS.per_second
    print(f"sent {len(sent)} messages to {len(counts)} chats in {seconds:.1f} s: "
          f"{achieved:.2f} messages/s against an allowed {allowed}/s")
    print(f"fanout: rate_fraction={achieved / allowed:.2f} http_429={violations} lost={lost} "
          f"duplicates={duplicates}")


if __name__ == "__main__":
    asyncio.run(main())
