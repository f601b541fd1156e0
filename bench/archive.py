"""Time and memory of 资料归档 for a year of 60 branches with 20,000 photos.

    .venv/bin/python bench/archive.py [--branches 60] [--files 20000] [--keep DIR]

Generates a SQLite database (a year: 30 members a branch, 4 meetings a month with photos, 20
problems a branch with evidence photos, weekly study records and 述学, monthly visits and
commitment reports) and a local file store of small generated JPEGs, then runs
``branchbot archive`` as its own process and measures that process: its wall time and its peak
RSS (``ru_maxrss`` of the child). Last line:
``archive: records=<n> files=<n> seconds=<s> peak_rss_mb=<m> zip_mb=<z>``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from openpyxl import load_workbook  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from storage.db import create_engine  # noqa: E402
from storage.files.store import key_for  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

START = date(2025, 1, 1)
DAYS = 365
MEMBERS = 30
MEETINGS_PER_MONTH = 4
PROBLEMS = 20
TEXT = "深入学习《习近平著作选读》，结合本职工作交流体会，围绕群众急难愁盼问题提出改进措施。"


def photo(n: int, rng: random.Random) -> bytes:
    """A small JPEG, different for every ``n`` (its bits drawn in the corner)."""
    image = Image.new("RGB", (96, 72), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(3):
        x, y = rng.randrange(80), rng.randrange(56)
        draw.rectangle((x, y, x + 16, y + 16), fill=tuple(rng.randrange(256) for _ in range(3)))
    for bit in range(16):
        draw.point((bit, 0), fill=(255, 255, 255) if n >> bit & 1 else (0, 0, 0))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    return out.getvalue()


def at(day: date, hour: int = 10) -> str:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc).isoformat(" ")


class Rows:
    """Executemany batches per table, ids counted here."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.ids: dict[str, int] = {}

    def next_id(self, table: str) -> int:
        self.ids[table] = self.ids.get(table, 0) + 1
        return self.ids[table]

    def insert(self, table: str, rows: list[dict[str, object]]) -> None:
        if rows:
            columns = list(rows[0])
            self.db.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                f"({', '.join('?' for _ in columns)})", [tuple(r[c] for c in columns) for r in rows])


def generate(db_path: Path, store: Path, branches: int, files: int) -> None:
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{db_path}"))
    rng = random.Random(2023)
    db = sqlite3.connect(db_path)
    rows = Rows(db)
    now = at(START)
    rows.insert("organizations", [{"id": 1, "name": "示例局党委", "kind": "bureau",
                                   "required_books": "[]", "created_at": now}])
    org_ids, members = [], {}
    for b in range(branches):
        org_id = b + 2
        org_ids.append(org_id)
        rows.insert("organizations", [{"id": org_id, "name": f"第{b + 1:02d}党支部", "kind": "branch",
                                       "parent_id": 1, "required_books": "[]", "created_at": now}])
        members[org_id] = []
        for m in range(MEMBERS):
            member_id = rows.next_id("members")
            members[org_id].append(member_id)
            rows.insert("members", [{"id": member_id, "org_id": org_id, "name": f"党员{member_id:04d}",
                                     "role": "secretary" if m == 0 else "member", "active": True,
                                     "created_at": now}])
    meetings_total = branches * 12 * MEETINGS_PER_MONTH
    problems_total = branches * PROBLEMS
    per_meeting = files // 2 // meetings_total
    per_problem = (files - per_meeting * meetings_total) // problems_total
    extra = files - per_meeting * meetings_total - per_problem * problems_total
    made = 0

    def keep(owner_kind: str, owner_id: int, member_id: int, day: date) -> None:
        nonlocal made
        content = photo(made, rng)
        sha = hashlib.sha256(content).hexdigest()
        path = store / key_for(sha)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        file_id = rows.next_id("stored_files")
        rows.insert("stored_files", [{"id": file_id, "sha256": sha, "size": len(content),
                                      "mime": "image/jpeg", "store_key": key_for(sha),
                                      "created_at": at(day)}])
        rows.insert("attachments", [{"owner_kind": owner_kind, "owner_id": owner_id,
                                     "member_id": member_id, "platform": "telegram",
                                     "platform_file_id": f"tg-{made}",
                                     "original_name": f"照片{made}.jpg", "received_at": at(day),
                                     "status": "stored", "attempts": 1,
                                     "next_attempt_at": at(day), "stored_file_id": file_id,
                                     "stored_at": at(day)}])
        made += 1

    for org_id in org_ids:
        people = members[org_id]
        secretary = people[0]
        for month in range(12):
            for k in range(MEETINGS_PER_MONTH):
                day = date(START.year, month + 1, 3 + 7 * k)
                meeting_id = rows.next_id("meetings")
                rows.insert("meetings", [{
                    "id": meeting_id, "org_id": org_id, "kind": "支部党员大会" if k == 0 else "党小组会",
                    "day": day.isoformat(), "starts": "14:30", "ends": "16:30", "place": "党员活动室",
                    "topic": "学习贯彻党的二十大精神", "host": "党员", "recorder": "党员",
                    "procedure": "1.传达学习 2.交流发言 3.书记总结", "record_text": TEXT * 3,
                    "created_by_id": secretary, "created_at": at(day), "updated_at": at(day)}])
                rows.insert("meeting_attendance", [{
                    "meeting_id": meeting_id, "member_id": m, "present": i % 10 != 3,
                    "absence_reason": "公差" if i % 10 == 3 else None, "guest": False}
                    for i, m in enumerate(people)])
                for _ in range(per_meeting + (1 if extra > 0 else 0)):
                    keep("meeting_record", meeting_id, secretary, day)
                extra -= 1 if extra > 0 else 0
        for p in range(PROBLEMS):
            day = START + timedelta(days=rng.randrange(300))
            problem_id = rows.next_id("problems")
            owner = people[p % MEMBERS]
            rows.insert("problems", [{
                "id": problem_id, "reporter_id": owner, "org_id": org_id,
                "description": f"群众反映问题{problem_id}：小区停车难", "source": "走访",
                "kind": "本单位", "owner_name": "党员", "owner_id": owner,
                "deadline": (day + timedelta(days=30)).isoformat(), "measures": TEXT,
                "status": "closed" if p % 2 else "rectifying", "created_at": at(day),
                "updated_at": at(day)}])
            event_id = rows.next_id("problem_events")
            rows.insert("problem_events", [{"id": event_id, "problem_id": problem_id,
                                            "actor_id": owner, "action": "update",
                                            "to_status": "rectifying", "note": TEXT,
                                            "percent": 50, "at": at(day + timedelta(days=5))}])
            for _ in range(per_problem):
                evidence_id = rows.next_id("problem_evidence")
                rows.insert("problem_evidence", [{
                    "id": evidence_id, "problem_id": problem_id, "event_id": event_id,
                    "platform": "telegram", "file_id": f"tg-e{evidence_id}",
                    "file_name": "整改照片.jpg", "uploaded_by_id": owner,
                    "at": at(day + timedelta(days=5))}])
                keep("problem_evidence", evidence_id, owner, day + timedelta(days=5))
        for member_id in people:
            rows.insert("study_records", [{
                "member_id": member_id, "org_id": org_id, "form": "自学",
                "study_date": (START + timedelta(days=w * 7 + member_id % 7)).isoformat(),
                "minutes": 90, "content": "《习近平著作选读》第一卷", "reflection": TEXT,
                "created_at": now, "updated_at": now} for w in range(52)])
            rows.insert("shuxue_answers", [{
                "member_id": member_id, "org_id": org_id,
                "period_start": (START + timedelta(days=w * 7)).isoformat(),
                "self_study": TEXT, "research": TEXT, "deeds": TEXT, "answered_at": now}
                for w in range(52)])
            rows.insert("visits", [{
                "member_id": member_id, "org_id": org_id, "kind": "走访",
                "visit_date": date(START.year, month + 1, 15).isoformat(), "place": "星光村",
                "whom": "村党总支书记", "heard": TEXT, "solved_count": 1, "created_at": now,
                "updated_at": now} for month in range(12)])
            commitment_id = rows.next_id("commitments")
            rows.insert("commitments", [{"id": commitment_id, "member_id": member_id,
                                         "org_id": org_id, "content": "每月走访结对社区两次",
                                         "kept": False, "created_at": now, "updated_at": now}])
            rows.insert("commitment_reports", [{
                "commitment_id": commitment_id, "member_id": member_id,
                "report_date": date(START.year, month + 1, 28).isoformat(), "text": TEXT,
                "kept": True, "created_at": now, "updated_at": now} for month in range(12)])
        db.commit()
    db.close()


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def run_archive(db_path: Path, store: Path, out: Path) -> tuple[float, float, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANCHBOT_")}
    env.update({"BRANCHBOT_DATABASE_URL": f"sqlite+aiosqlite:///{db_path}",
                "BRANCHBOT_FILES_DIR": str(store), "PYTHONPATH": str(ROOT)})
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "bot.cli", "archive", "--out", str(out),
                              "--from", START.isoformat(),
                              "--to", (START + timedelta(days=DAYS - 1)).isoformat()],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    stdout, _ = child.communicate()
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"branchbot archive failed ({child.returncode}): {stdout}")
    # the largest resident set of a waited-for child: the archive's (the only child)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, peak_kb / 1024, stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--branches", type=int, default=60)
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--keep", type=Path, default=None, help="keep the data and zip here")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-archive-"))
    folder.mkdir(parents=True, exist_ok=True)
    db_path, store, out = folder / "bench.db", folder / "files", folder / "主题教育资料归档.zip"
    if not db_path.exists():
        began = time.perf_counter()
        generate(db_path, store, args.branches, args.files)
        print(f"generated in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    out.unlink(missing_ok=True)
    seconds, peak_mb, stdout = run_archive(db_path, store, out)
    with sqlite3.connect(db_path) as db:
        files = db.execute("select count(*) from attachments").fetchone()[0]
    with zipfile.ZipFile(out) as archive:
        index = load_workbook(io.BytesIO(archive.read("目录.xlsx")), read_only=True)
        records = sum(1 for _ in index["记录"].iter_rows(min_row=2))
        listed = sum(1 for _ in index["文件"].iter_rows(min_row=2))
    assert listed == files, (listed, files)
    print(stdout.strip(), file=sys.stderr)
    print(f"archive: records={records} files={listed} seconds={seconds:.1f} "
          f"peak_rss_mb={peak_mb:.0f} zip_mb={out.stat().st_size / 1024 / 1024:.1f}")


if __name__ == "__main__":
    main()
