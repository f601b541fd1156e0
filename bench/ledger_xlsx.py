"""Memory and time of the Excel ledger for a large branch over a whole year.

    .venv/bin/python bench/ledger_xlsx.py [--members 300] [--out FILE]

Rows are generated lazily (as the integration pages them out of the database), so the peak RSS
measured is the writer's own plus the interpreter's. Last line:
``ledger: rows=… peak_rss_mb=… seconds=…``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from handlers.core.i18n import DEFAULT_TEXTS  # noqa: E402
from handlers.reports.documents.ledger_xlsx import (  # noqa: E402
    CommitmentRow,
    Kind,
    LedgerTitle,
    MeetingRow,
    ProblemRow,
    ShuxueRow,
    StudyRow,
    SummaryRow,
    VisitRow,
    problem_number,
    write_ledger,
)

YEAR_START = date(2023, 1, 1)
DAYS = 365
BRANCH = "机关第一党支部"
TEXT = ("深入学习《习近平新时代中国特色社会主义思想专题摘编》第三专题，结合本职工作交流体会，"
        "围绕群众急难愁盼问题提出改进措施，")


def _name(i: int) -> str:
    return f"党员{i:03d}"


def study(members: int) -> Iterator[StudyRow]:
    for d in range(DAYS):
        day = YEAR_START + timedelta(days=d)
        for m in range(members):
            if (m + d) % 2 == 0:  # every member every other day: half a year of records each
                yield StudyRow(day, _name(m), "自学", 1.5, "《习近平著作选读》第一卷", TEXT * 2, "本人登记")


def visits(members: int) -> Iterator[VisitRow]:
    for d in range(0, DAYS, 7):
        day = YEAR_START + timedelta(days=d)
        for m in range(members):
            yield VisitRow(day, _name(m), "结对居村", "祝桥镇星光村", "村党总支书记", TEXT * 3, m % 3, "河道长效管理")


def problems(members: int) -> Iterator[ProblemRow]:
    for i in range(members * 3):
        day = YEAR_START + timedelta(days=i * DAYS // (members * 3))
        yield ProblemRow(problem_number(BRANCH, i + 1), day, _name(i % members), TEXT, "调研", "限期整改",
                         _name((i + 1) % members), day + timedelta(days=30), TEXT * 2, "整改中", TEXT,
                         0.5, None, False)


def commitments(members: int) -> Iterator[CommitmentRow]:
    for m in range(members):
        yield CommitmentRow(YEAR_START + timedelta(days=m * 30 // members), _name(m), TEXT, "仍在推进", TEXT * 2,
                            YEAR_START + timedelta(days=60))


def shuxue(members: int) -> Iterator[ShuxueRow]:
    for week in range(52):
        day = YEAR_START + timedelta(weeks=week)
        for m in range(members):
            yield ShuxueRow(day, _name(m), TEXT, TEXT, TEXT, day + timedelta(days=1))


def meetings(members: int) -> Iterator[MeetingRow]:
    for week in range(52):
        day = YEAR_START + timedelta(weeks=week, days=2)
        yield MeetingRow(day, "14:30", "16:30", "支部党员大会", "三楼会议室", TEXT, "王书记", "李娜", members,
                         members - 3, 1, "张三（公差）、李四（病假）、王五（事假）", "张三已补学；李四、王五未补学",
                         "齐全")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    title = LedgerTitle(BRANCH, YEAR_START, YEAR_START + timedelta(days=DAYS - 1), date(2024, 1, 2))
    summary = [SummaryRow("学习时长（小时）", 12345.5, Kind.hours, "全年登记学习时长"),
               SummaryRow("整改率", 0.3333, Kind.percent, "已销号 ÷ 已确认")]
    with tempfile.TemporaryDirectory() as folder:
        out = args.out or Path(folder) / "ledger.xlsx"
        started = time.perf_counter()
        written = write_ledger(DEFAULT_TEXTS, out, title, summary=summary, study=study(args.members),
                               visits=visits(args.members), problems=problems(args.members),
                               commitments=commitments(args.members), shuxue=shuxue(args.members),
                               meetings=meetings(args.members))
        seconds = time.perf_counter() - started
        size_mb = out.stat().st_size / 2**20
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes
    for sheet, n in written.items():
        print(f"  {sheet}: {n} rows")
    print(f"  file: {size_mb:.1f} MB")
    print(f"ledger: rows={sum(written.values())} peak_rss_mb={peak_mb:.0f} seconds={seconds:.1f}")


if __name__ == "__main__":
    main()
