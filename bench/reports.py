"""Benchmark: summaries and report files on a year of data, in SQLite and in PostgreSQL.

    python bench/reports.py [--records 1000000] [--branches 60] [--members 5000] [--iterations 40]
                            [--period 全程] [--postgres-url URL] [--skip-postgres]

Generates --records records (study 65%, visits 20%, 述学 10%, problems 4%, the rest commitments;
problems also get their history events) for --members members in --branches branches over the year
ending today, bulk-inserted (sqlite3 executemany; PostgreSQL COPY) into a migrated schema, and
their daily tallies counted as `branchbot db recount` does (the bot keeps them in step as it writes;
a bulk load goes around it). Then,
through the core as a user would (an Incoming into Core.handle), on each database it times:

- a secretary's `/summary` (本月) and `/summary 全程` (the whole year, the heaviest), p50/p99;
- the office roll-up `/summary all` for the same two periods, p50/p99;
- the full-branch Excel export (`branchbot report --format xlsx`, a year) as its own process:
  time and peak RSS (VmHWM);
- the Word stage summary of the whole bureau for the year, seconds.

The last line (the year's figures) is:

    reports: sqlite_p50_ms=… sqlite_p99_ms=… pg_p50_ms=… pg_p99_ms=… rollup_pg_p50_ms=… xlsx_peak_mb=… docx_s=…
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
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

from bot.config import Settings  # noqa: E402
from bot.runtime.app import build_app  # noqa: E402
from handlers.core.events import Incoming  # noqa: E402
from storage.db import create_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.tallies import recount_all  # noqa: E402
from storage.vocabulary import PROBLEM_KINDS, PROBLEM_SOURCES, STUDY_FORMS, VISIT_KINDS  # noqa: E402

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
                         1, status, None))
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
                 "source", "kind", "owner_name", "owner_id", "deadline", "measures", "measure_items", "status",
                 "visit_id"),
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


async def recount(url: str) -> float:
    """Seconds to count the daily tallies of the loaded records."""
    engine = create_engine(url)
    try:
        started = time.perf_counter()
        async with engine.begin() as connection:
            await connection.run_sync(recount_all)
        return time.perf_counter() - started
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
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from this (big) process.
    script = ("import runpy, sys; sys.argv = sys.argv[1:]\n"
              "try:\n    runpy.run_module('bot.cli', run_name='__main__')\n"
              "except SystemExit:\n    pass\n"
              "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
              "print('peak_kb', hwm.split()[1], file=sys.stderr)")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script, "branchbot", "report", "--branch", "第01党支部",
                           "--period", "全程", "--format", "xlsx", "--out", str(out)],
                          env=env, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    peak_kb = int(done.stderr.rsplit("peak_kb", 1)[1].split()[0])
    return seconds, peak_kb / 1024


async def docx_seconds(url: str) -> float:
    from handlers.core.i18n import Translator
    from handlers.reports.files import Made, Request, produce
    from handlers.reports.periods import CampaignSpan, campaign
    from storage.db import session_factory
    from storage.queries.scope import Scope

    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    engine = create_engine(url)
    try:
        today = datetime.now(settings.tz).date()
        request = Request(Scope(None), "基准局党委", campaign(CampaignSpan(today - timedelta(days=364)), today), settings.tz,
                          ("docx",), side_by_side=True, texts=Translator.of(settings.language), today=today)
        started = time.perf_counter()
        made = [item async for item in produce(session_factory(engine), request) if isinstance(item, Made)]
        assert len(made) == 1 and made[0].document.content.startswith(b"PK"), made
        return time.perf_counter() - started
    finally:
        await engine.dispose()


async def postgres_database(url: str, name: str, create: bool) -> None:
    admin = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"' if create
                                 else f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def analyze(sqlite_path: Path, pg_dsn: str | None) -> None:
    """Fresh statistics after the bulk load, as a database in service would have."""
    with sqlite3.connect(sqlite_path) as db:
        db.execute("ANALYZE")
    if pg_dsn is not None:
        connection = await asyncpg.connect(pg_dsn)
        try:
            await connection.execute("ANALYZE")
        finally:
            await connection.close()


async def measure(name: str, url: str, args: argparse.Namespace, tmp: Path) -> dict[str, float]:
    """The figures of one database; each line printed as it is known."""
    out: dict[str, float] = {}
    for label, text in (("month", "/summary"), ("year", f"/summary {args.period}")):
        times = await time_summaries(url, args.branches, args.iterations, text)
        out[f"{label}_p50"], out[f"{label}_p99"] = statistics.median(times), percentile(times, 0.99)
        rollup = await time_summaries(url, args.branches, max(5, args.iterations // 4),
                                      text.replace("/summary", "/summary all"), office=True)
        out[f"{label}_rollup_p50"], rollup_p99 = statistics.median(rollup), percentile(rollup, 0.99)
        print(f"{name}: {text!r}: branch p50 {out[f'{label}_p50']:.0f} ms, p99 {out[f'{label}_p99']:.0f} ms; "
              f"office roll-up p50 {out[f'{label}_rollup_p50']:.0f} ms, p99 {rollup_p99:.0f} ms", flush=True)
    seconds, out["xlsx_mb"] = export_peak(url, tmp / f"{name}.xlsx")
    print(f"{name}: full-branch xlsx (a year) {seconds:.1f}s, peak RSS {out['xlsx_mb']:.0f} MB, "
          f"{(tmp / f'{name}.xlsx').stat().st_size // 1024} KB", flush=True)
    out["docx_s"] = await docx_seconds(url)
    print(f"{name}: bureau stage summary docx (a year, {args.branches} branches) {out['docx_s']:.1f}s",
          flush=True)
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--branches", type=int, default=60)
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--iterations", type=int, default=40)
    parser.add_argument("--period", default="全程", help="the long period timed besides 本月")
    parser.add_argument("--postgres-url", default=DEFAULT_PG)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()

    today = datetime.now(UTC).date()
    started = time.perf_counter()
    rows = plan(args.records, args.branches, args.members, today)
    counted = sum(len(rows[t]) for t in ("study_records", "visits", "problems", "shuxue_answers", "commitments"))
    print(f"planned {counted} records (+{len(rows['problem_events'])} problem events) "
          f"in {time.perf_counter() - started:.1f}s", flush=True)
    pg_name = f"bb_bench_{uuid.uuid4().hex[:8]}"
    pg_url = make_url(args.postgres_url).set(database=pg_name).render_as_string(hide_password=False)
    pg_dsn = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        sqlite_url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        await migrate(sqlite_url)
        started = time.perf_counter()
        load_sqlite(tmp / "bench.db", rows)
        print(f"sqlite: loaded in {time.perf_counter() - started:.1f}s (executemany), "
              f"tallies counted in {await recount(sqlite_url):.1f}s", flush=True)
        if not args.skip_postgres:
            await postgres_database(args.postgres_url, pg_name, create=True)
        try:
            if not args.skip_postgres:
                await migrate(pg_url)
                started = time.perf_counter()
                await load_postgres(pg_dsn, rows)
                print(f"postgresql: loaded in {time.perf_counter() - started:.1f}s (COPY), "
                      f"tallies counted in {await recount(pg_url):.1f}s", flush=True)
            del rows
            gc.collect()  # the generated rows are gone: no full collections walking them while timing
            await analyze(tmp / "bench.db", None if args.skip_postgres else pg_dsn)
            lite = await measure("sqlite", sqlite_url, args, tmp)
            pg = {} if args.skip_postgres else await measure("postgresql", pg_url, args, tmp)
        finally:
            if not args.skip_postgres:
                await postgres_database(args.postgres_url, pg_name, create=False)
    figures = {
        "sqlite_p50_ms": f"{lite['year_p50']:.0f}", "sqlite_p99_ms": f"{lite['year_p99']:.0f}",
        "pg_p50_ms": f"{pg['year_p50']:.0f}" if pg else "n/a",
        "pg_p99_ms": f"{pg['year_p99']:.0f}" if pg else "n/a",
        "rollup_pg_p50_ms": f"{pg['year_rollup_p50']:.0f}" if pg else "n/a",
        "xlsx_peak_mb": f"{max(lite['xlsx_mb'], pg.get('xlsx_mb', 0)):.0f}",
        "docx_s": f"{max(lite['docx_s'], pg.get('docx_s', 0)):.2f}",
    }
    print(f"(the figures below are for {args.period!r}, the heaviest period; 本月 is above)")
    print("reports: " + " ".join(f"{key}={value}" for key, value in figures.items()))


if __name__ == "__main__":
    asyncio.run(main())
