"""Benchmark: summaries and report files on a year of data, in SQLite and in PostgreSQL.

    python bench/reports.py [--records 1000000] [--branches 60] [--members 5000] [--iterations 40]
                            [--postgres-url URL] [--skip-postgres]

Generates --records records (study 65%, visits 20%, 述学 10%, problems 4%, the rest commitments;
problems also get their history events) for --members members in --branches branches over the year
ending today, bulk-inserted (sqlite3 executemany; PostgreSQL COPY) into a migrated schema. Then,
through the core as a secretary would (an Incoming into Core.handle), it times:

- a branch's `/summary 全程` (the whole year: the heaviest period) on each database, p50/p99;
- the office roll-up `/summary all 全程` on PostgreSQL, p50;
- the full-branch Excel export (`branchbot report --format xlsx`, a year) as its own process:
  peak RSS in MB;
- the Word stage summary of the whole bureau, seconds.

The last line is:

    reports: sqlite_p50_ms=… sqlite_p99_ms=… pg_p50_ms=… pg_p99_ms=… rollup_pg_p50_ms=… xlsx_peak_mb=… docx_s=…
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.app import build_app  # noqa: E402
from bot.config import Settings  # noqa: E402
from handlers.events import Incoming  # noqa: E402
from handlers.vocabulary import PROBLEM_KINDS, PROBLEM_SOURCES, STUDY_FORMS, VISIT_KINDS  # noqa: E402
from storage.db import create_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

DEFAULT_PG = os.environ.get("BRANCHBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
UTC = timezone.utc


def plan(records: int, branches: int, members: int, today: date, seed: int = 5) -> dict[str, list[tuple]]:
    """Every row to insert, as tuples in the column order of ``COLUMNS``."""
    rng = random.Random(seed)
    start = today - timedelta(days=364)
    now = datetime.now(UTC)
    orgs = [(1, "基准局党委", "bureau", None, None, "[]", now)]
    orgs += [(1 + b, f"第{b:02d}党支部", "branch", 1, uuid.uuid4().hex[:10], "[]", now) for b in range(1, branches + 1)]
    people = [(1, 1, "办公室主任", "office", True, now)]
    branch_of: list[int] = []
    for m in range(members):
        org_id = 2 + m % branches
        role = "secretary" if m < branches else "member"
        people.append((2 + m, org_id, f"党员{m:05d}", role, True, now))
        branch_of.append(org_id)
    identities = [(i, member_id, "bench", f"u{member_id}", None, now)
                  for i, (member_id, *_rest) in enumerate(people, start=1)]

    def when() -> tuple[date, datetime]:
        day = start + timedelta(days=rng.randrange(365))
        return day, datetime(day.year, day.month, day.day, rng.randrange(24), tzinfo=UTC)

    def who() -> tuple[int, int]:
        m = rng.randrange(members)
        return 2 + m, branch_of[m]

    n_study, n_visit = int(records * 0.65), int(records * 0.20)
    n_shuxue, n_problem = int(records * 0.10), int(records * 0.04)
    n_commit = records - n_study - n_visit - n_shuxue - n_problem
    study, visits, problems, events, shuxue, commits = [], [], [], [], [], []
    for i in range(1, n_study + 1):
        member_id, org_id = who()
        day, at = when()
        study.append((i, at, at, None, member_id, org_id, rng.choice(STUDY_FORMS), day,
                      rng.choice((30, 45, 60, 90, 120)), "《习近平著作选读》", None))
    for i in range(1, n_visit + 1):
        member_id, org_id = who()
        day, at = when()
        visits.append((i, at, at, None, member_id, org_id, rng.choice(VISIT_KINDS), day, "幸福社区",
                       "居民代表", "反映停车难", rng.randrange(3), rng.choice((None, "老旧小区改造", "营商环境"))))
    statuses = ("pending", "rectifying", "closure_requested", "closed", "closed", "rejected")
    event_id = 0
    for i in range(1, n_problem + 1):
        member_id, org_id = who()
        day, at = when()
        status = rng.choice(statuses)
        problems.append((i, at, at, None, member_id, org_id, "问题描述", rng.choice(PROBLEM_SOURCES),
                         rng.choice(PROBLEM_KINDS), "责任人", member_id, day + timedelta(days=30), "整改措施",
                         status, None))
        path = ["pending"] + {"pending": [], "rejected": ["rejected"], "rectifying": ["rectifying"],
                              "closure_requested": ["rectifying", "closure_requested"],
                              "closed": ["rectifying", "closure_requested", "closed"]}[status]
        for step, to_status in enumerate(path):
            event_id += 1
            events.append((event_id, i, member_id, "move", None, to_status, at + timedelta(days=3 * step)))
    weeks = [start + timedelta(days=7 * w) for w in range(52)]
    seen: set[tuple[int, date]] = set()
    while len(shuxue) < n_shuxue:
        member_id, org_id = who()
        week = rng.choice(weeks)
        if (member_id, week) in seen:
            continue
        seen.add((member_id, week))
        at = datetime(week.year, week.month, week.day, 20, tzinfo=UTC)
        shuxue.append((len(shuxue) + 1, member_id, org_id, week, "自学", "调研", "实事", at))
    for i in range(1, n_commit + 1):
        member_id, org_id = who()
        commits.append((i, now, now, None, member_id, org_id, "承诺内容", rng.random() < 0.4))
    return {"organizations": orgs, "members": people, "identities": identities, "study_records": study,
            "visits": visits, "problems": problems, "problem_events": events, "shuxue_answers": shuxue,
            "commitments": commits}


COLUMNS: dict[str, tuple[str, ...]] = {
    "organizations": ("id", "name", "kind", "parent_id", "invite_code", "required_books", "created_at"),
    "members": ("id", "org_id", "name", "role", "active", "created_at"),
    "identities": ("id", "member_id", "platform", "platform_user_id", "display_name", "created_at"),
    "study_records": ("id", "created_at", "updated_at", "deleted_at", "member_id", "org_id", "form",
                      "study_date", "minutes", "content", "reflection"),
    "visits": ("id", "created_at", "updated_at", "deleted_at", "member_id", "org_id", "kind", "visit_date",
               "place", "whom", "heard", "solved_count", "topic"),
    "problems": ("id", "created_at", "updated_at", "deleted_at", "reporter_id", "org_id", "description",
                 "source", "kind", "owner_name", "owner_id", "deadline", "measures", "status", "visit_id"),
    "problem_events": ("id", "problem_id", "actor_id", "action", "from_status", "to_status", "at"),
    "shuxue_answers": ("id", "member_id", "org_id", "period_start", "self_study", "research", "deeds",
                       "answered_at"),
    "commitments": ("id", "created_at", "updated_at", "deleted_at", "member_id", "org_id", "content", "kept"),
}


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _chunks(rows: list[tuple], size: int = 50_000) -> Iterator[list[tuple]]:
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def load_sqlite(path: Path, rows: dict[str, list[tuple]]) -> None:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA synchronous=OFF")
        for table, columns in COLUMNS.items():
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            for chunk in _chunks(rows[table]):
                db.executemany(sql, [tuple(_sqlite_value(v) for v in row) for row in chunk])
        db.execute("ANALYZE")


async def load_postgres(dsn: str, rows: dict[str, list[tuple]]) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        for table, columns in COLUMNS.items():
            records = rows[table]
            if table == "organizations":
                records = [(*r[:5], "[]", r[6]) for r in records]
            await connection.copy_records_to_table(table, records=records, columns=list(columns))
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def time_summaries(url: str, branches: int, iterations: int, text: str,
                         office: bool = False) -> list[float]:
    app = build_app(Settings(_env_file=None, database_url=url, platform="console"))  # type: ignore[call-arg]
    rng = random.Random(7)
    times: list[float] = []
    try:
        for i in range(iterations + 2):
            member_id = 1 if office else 2 + rng.randrange(branches)  # the office, or a secretary
            event = Incoming(platform="bench", user_id=f"u{member_id}", user_name="x",
                             chat_id=f"u{member_id}", is_private=True, text=text)
            started = time.perf_counter()
            outcome = await app.core.handle(event)
            elapsed = time.perf_counter() - started
            assert outcome.replies and outcome.replies[0].text.startswith("📊"), outcome.replies
            if i >= 2:  # the first two warm the caches
                times.append(elapsed * 1000)
    finally:
        await app.close()
    return times


def export_peak(url: str, out: Path) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of `branchbot report --format xlsx` for one branch, a year."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANCHBOT_")}
    env.update(BRANCHBOT_DATABASE_URL=url, PYTHONPATH=str(ROOT))
    script = ("import resource, runpy, sys; sys.argv = sys.argv[1:]\n"
              "try:\n    runpy.run_module('bot.cli', run_name='__main__')\n"
              "except SystemExit:\n    pass\n"
              "print('peak_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script, "branchbot", "report", "--branch", "第01党支部",
                           "--period", "全程", "--format", "xlsx", "--out", str(out)],
                          env=env, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    peak_kb = int(done.stderr.rsplit("peak_kb", 1)[1].split()[0])
    return seconds, peak_kb / 1024


async def docx_seconds(url: str) -> float:
    from handlers.reports.figures import Scope
    from handlers.reports.files import Request, produce
    from handlers.reports.periods import campaign
    from storage.db import session_factory

    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    engine = create_engine(url)
    try:
        today = datetime.now(settings.tz).date()
        request = Request(Scope(None), "基准局党委", campaign(today - timedelta(days=364), today), settings.tz,
                          ("docx",), side_by_side=True)
        started = time.perf_counter()
        async for _text, document in produce(session_factory(engine), request):
            if document is not None:
                assert document.content.startswith(b"PK")
        return time.perf_counter() - started
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--branches", type=int, default=60)
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--iterations", type=int, default=40)
    parser.add_argument("--postgres-url", default=DEFAULT_PG)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()

    today = datetime.now(UTC).date()
    started = time.perf_counter()
    rows = plan(args.records, args.branches, args.members, today)
    counted = sum(len(rows[t]) for t in ("study_records", "visits", "problems", "shuxue_answers", "commitments"))
    print(f"planned {counted} records (+{len(rows['problem_events'])} problem events) "
          f"in {time.perf_counter() - started:.1f}s", flush=True)
    figures: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        await migrate(sqlite_url)
        started = time.perf_counter()
        load_sqlite(Path(tmp) / "bench.db", rows)
        print(f"sqlite: loaded in {time.perf_counter() - started:.1f}s", flush=True)
        times = await time_summaries(sqlite_url, args.branches, args.iterations, "/summary 全程")
        figures["sqlite_p50_ms"] = f"{statistics.median(times):.0f}"
        figures["sqlite_p99_ms"] = f"{percentile(times, 0.99):.0f}"
        rollup = await time_summaries(sqlite_url, args.branches, max(5, args.iterations // 4),
                                      "/summary all 全程", office=True)
        print(f"sqlite: branch summary p50 {figures['sqlite_p50_ms']} ms, p99 {figures['sqlite_p99_ms']} ms; "
              f"roll-up p50 {statistics.median(rollup):.0f} ms", flush=True)
        xlsx_s, xlsx_mb = export_peak(sqlite_url, Path(tmp) / "branch.xlsx")
        print(f"sqlite: full-branch xlsx {xlsx_s:.1f}s, peak {xlsx_mb:.0f} MB "
              f"({(Path(tmp) / 'branch.xlsx').stat().st_size // 1024} KB)", flush=True)
        figures["xlsx_peak_mb"] = f"{xlsx_mb:.0f}"
        figures["docx_s"] = f"{await docx_seconds(sqlite_url):.2f}"

        if not args.skip_postgres:
            admin = make_url(args.postgres_url).set(drivername="postgresql")
            name = f"bb_bench_{uuid.uuid4().hex[:8]}"
            admin_dsn = admin.render_as_string(hide_password=False)
            connection = await asyncpg.connect(admin_dsn)
            await connection.execute(f'CREATE DATABASE "{name}"')
            await connection.close()
            try:
                pg_url = make_url(args.postgres_url).set(database=name).render_as_string(hide_password=False)
                await migrate(pg_url)
                started = time.perf_counter()
                await load_postgres(admin.set(database=name).render_as_string(hide_password=False), rows)
                print(f"postgresql: loaded in {time.perf_counter() - started:.1f}s", flush=True)
                times = await time_summaries(pg_url, args.branches, args.iterations, "/summary 全程")
                figures["pg_p50_ms"] = f"{statistics.median(times):.0f}"
                figures["pg_p99_ms"] = f"{percentile(times, 0.99):.0f}"
                rollup = await time_summaries(pg_url, args.branches, max(5, args.iterations // 4),
                                              "/summary all 全程", office=True)
                figures["rollup_pg_p50_ms"] = f"{statistics.median(rollup):.0f}"
                xlsx_s, xlsx_mb = export_peak(pg_url, Path(tmp) / "branch_pg.xlsx")
                print(f"postgresql: full-branch xlsx {xlsx_s:.1f}s, peak {xlsx_mb:.0f} MB", flush=True)
                figures["xlsx_peak_mb"] = f"{max(float(figures['xlsx_peak_mb']), xlsx_mb):.0f}"
            finally:
                connection = await asyncpg.connect(admin_dsn)
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await connection.close()
    order = ("sqlite_p50_ms", "sqlite_p99_ms", "pg_p50_ms", "pg_p99_ms", "rollup_pg_p50_ms", "xlsx_peak_mb",
             "docx_s")
    print("reports: " + " ".join(f"{key}={figures.get(key, 'n/a')}" for key in order))


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE))
    asyncio.run(main())
