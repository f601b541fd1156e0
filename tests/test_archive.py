"""资料归档 (issue 18 item 4), on SQLite and PostgreSQL: the zip holds a folder per branch with its
ledger, stage summary, meeting records (四必有, attendance, absences, make-ups, photos), problem
files (history, evidence), 述学 and commitments; 目录.xlsx lists every record and every file of
the database exactly once, each file's sha256 matching the bytes in the zip; the same data gives
the same bytes; the Word papers open again with their photos inside."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
from openpyxl import load_workbook
from sqlalchemy import select

from bot.runtime.app import App
from handlers.archive.builder import ArchiveRequest, ArchiveResult, Progress, build_archive
from handlers.core.i18n import DEFAULT_TEXTS as t
from storage.db import session_factory
from storage.models import Attachment, AttachmentOwner, Member, Visit
from tests.archive_support import PERIOD, fill
from tests.conftest import Branch

TZ = ZoneInfo("Asia/Shanghai")


async def _archive(app: App, out: Path) -> tuple[ArchiveResult, list[Progress]]:
    request = ArchiveRequest(out, PERIOD, TZ, t)
    progress: list[Progress] = []
    result = None
    async for step in build_archive(session_factory(app.engine), app.files.store, request):
        if isinstance(step, Progress):
            progress.append(step)
        else:
            result = step
    assert result is not None
    return result, progress


def _sheet(book: bytes, title: str) -> list[dict[str, object]]:
    rows = list(load_workbook(io.BytesIO(book), read_only=True)[title].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


async def test_the_archive_holds_every_record_and_file_once(app: App, branch: Branch,
                                                            tmp_path: Path) -> None:
    expected = await fill(app, branch)
    result, progress = await _archive(app, tmp_path / "主题教育资料归档.zip")
    assert [(p.done, p.total) for p in progress] == [(1, 2), (2, 2)]
    archive = zipfile.ZipFile(result.path)
    names = archive.namelist()
    root = "机关第一党支部"
    for paper in ("台账.xlsx", "阶段性总结.docx", "述学记录.xlsx", "承诺践诺.xlsx"):
        assert f"{root}/{paper}" in names and f"机关第二党支部/{paper}" in names
    index = archive.read("目录.xlsx")

    records = _sheet(index, t("archive.index_records"))
    found: dict[str, set[int]] = {}
    for row in records:
        if row["支部"] == root:
            assert int(row["编号"]) not in found.setdefault(str(row["类别"]), set())  # once
            found[str(row["类别"])].add(int(row["编号"]))
            assert row["归档位置"] in names
    assert found == expected
    assert result.records == len(records)
    (meeting_row,) = [r for r in records if r["类别"] == t("archive.kind_meeting")
                      and r["支部"] == root]
    lines = str(meeting_row["附件（文件名 → 归档位置）"]).split("\n")
    assert len(lines) == 4 and lines[1].startswith("签到表.pdf → 机关第一党支部/会议记录/")
    assert lines[1].split(" → ")[1] in names and lines[3] == "还在下载.jpg → 正在从平台取回"

    listed = _sheet(index, t("archive.index_files"))
    async with session_factory(app.engine)() as session:
        attachments = list(await session.scalars(select(Attachment).order_by(Attachment.id)))
    (problem_id,) = expected[t("archive.kind_problem")]
    owners = {AttachmentOwner.meeting_record: t("archive.kind_meeting"),
              AttachmentOwner.problem_evidence: t("archive.kind_problem")}
    assert sorted((row["类别"], row["编号"], row["原文件名"] or "") for row in listed) == sorted(
        (owners[a.owner_kind], a.owner_id if a.owner_kind is AttachmentOwner.meeting_record
         else problem_id, a.original_name or "") for a in attachments)
    assert result.files == len(attachments) == 7
    for row in listed:
        if row["状态"] == t("archive.state_stored"):
            content = archive.read(str(row["归档位置"]))
            assert hashlib.sha256(content).hexdigest() == row["SHA-256"]
            assert len(content) == row["大小（字节）"]
        else:
            assert row["归档位置"] is None and row["原文件名"] == "还在下载.jpg"
            assert row["状态"] == t("archive.state_pending")
    # every workbook of the archive prints as the ledgers do: A4 landscape, one page wide, the
    # header on every page, the grid drawn
    for book_name in ("目录.xlsx", f"{root}/述学记录.xlsx", f"{root}/承诺践诺.xlsx"):
        for sheet in load_workbook(io.BytesIO(archive.read(book_name))).worksheets:
            setup = sheet.page_setup
            assert (setup.orientation, setup.paperSize, setup.fitToWidth, setup.fitToHeight) == (
                "landscape", 9, 1, 0), book_name
            assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.print_options.gridLines
            assert sheet.print_title_rows == "$1:$1", book_name
            for number, cells in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
                if any(isinstance(v, str) and "\n" in v for v in cells):  # wrapped: as tall as it needs
                    assert (sheet.row_dimensions[number].height or 0) >= 30, (book_name, number)
    copied = [n for n in names if "/附件/" in n or "/佐证材料/" in n]
    assert len(copied) == 6 and len(set(copied)) == 6
    assert sum(1 for n in names if n.endswith("会议现场.jpg")) == 2  # once per record it is of

    # the meeting record: 四必有, attendance, the absent member's reason and make-up, photos
    (record_name,) = [n for n in names if n.endswith("会议记录.docx")]
    assert "/会议记录/2026-10-09_支部党员大会_" in record_name
    paper = docx.Document(io.BytesIO(archive.read(record_name)))
    text = "\n".join(p.text for p in paper.paragraphs) + "\n".join(
        c.text for table in paper.tables for row in table.rows for c in row.cells)
    assert t("archive.musts_ok") in text and "刘洋（病假）" in text and "刘洋：已补学" in text
    assert "应到 2 人，实到 1 人，缺席 1 人" in text and "签到表.pdf" in text
    assert len(paper.inline_shapes) == 2  # the two photos; the PDF is listed
    problem = docx.Document(io.BytesIO(archive.read(
        next(n for n in names if n.endswith("问题档案.docx")))))
    assert len(problem.inline_shapes) == 2 and "同意销号" in "\n".join(
        p.text for p in problem.paragraphs)
    summary = docx.Document(io.BytesIO(archive.read(f"{root}/阶段性总结.docx")))
    assert len(summary.inline_shapes) == 2  # the closed problem's photos, appended
    assert t("archive.closed_photos") in "\n".join(p.text for p in summary.paragraphs)


async def test_the_same_data_gives_the_same_archive(app: App, branch: Branch,
                                                    tmp_path: Path) -> None:
    await fill(app, branch)
    first, _ = await _archive(app, tmp_path / "a.zip")
    second, _ = await _archive(app, tmp_path / "b.zip")
    assert first.path.read_bytes() == second.path.read_bytes()
    async with session_factory(app.engine)() as session, session.begin():
        (member,) = await session.scalars(select(Member).where(Member.name == "刘洋"))
        session.add(Visit(member_id=member.id, org_id=member.org_id, kind="走访",
                          visit_date=PERIOD.end - timedelta(days=1), place="城北", whom="社区",
                          heard="停车难"))
    third, _ = await _archive(app, tmp_path / "c.zip")
    assert third.path.read_bytes() != first.path.read_bytes() and third.records == first.records + 1
