"""The archive's own papers: each meeting's 会议记录 and each problem's file as Word documents in
the official layout (with their photos), the 述学 records and the commitments as workbooks.
Rendering only: the builder hands in what was read."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from handlers.archive.blank import new_paper
from handlers.core.formats import full_date
from handlers.core.i18n import Translator
from handlers.problems.views import history_line, status_text
from handlers.reports.documents import official_docx as paper
from handlers.reports.documents.photo_appendix import Photo, add_photos
from handlers.reports.documents.printable_sheet import fit_rows, make_printable
from storage.models import Commitment, CommitmentReport, Meeting, Problem, ShuxueAnswer
from storage.repositories.meetings import Seat
from storage.repositories.problems import HistoryLine


@dataclass(frozen=True)
class FileLine:
    """A file of a record as the paper lists it: its name and where it is in the archive (None:
    not kept, with why)."""

    name: str
    path: str | None
    state: str  # 已保存 / 正在取回 / 未能取回


def _file_lines(t: Translator, files: Sequence[FileLine]) -> list[str]:
    return [t("archive.file_line", n=n, name=f.name, where=f.path or f.state)
            for n, f in enumerate(files, start=1)]


def meeting_record(t: Translator, branch: str, meeting: Meeting, seats: Sequence[Seat],
                   made_up: set[int], missing: list[str], files: Sequence[FileLine],
                   photos: Sequence[Photo]) -> bytes:
    """会议记录: the 四必有 fields, attendance, absences and make-ups, the record, its files."""
    doc = new_paper(t("archive.meeting_title", branch=branch, kind=meeting.kind))
    paper.add_title(doc, t("archive.meeting_title", branch=branch, kind=meeting.kind))
    paper.add_subtitle(doc, f"（{full_date(meeting.day)}）")
    members = [s for s in seats if not s.guest]
    present = [s for s in members if s.present]
    absent = [s for s in members if not s.present]
    guests = [s for s in seats if s.guest]
    time = f"{meeting.starts}-{meeting.ends}" if meeting.starts and meeting.ends else ""
    kind = t("meeting.kind_group", kind=meeting.kind, group=meeting.party_group) \
        if meeting.party_group else meeting.kind
    rows = [(t("meeting.kind"), kind), (t("meeting.date"), full_date(meeting.day)),
            (t("meeting.time"), time), (t("meeting.place"), meeting.place or ""),
            (t("meeting.topic"), meeting.topic or ""), (t("meeting.study_item"), meeting.study_item or ""),
            (t("meeting.host"), meeting.host or ""), (t("meeting.recorder"), meeting.recorder or ""),
            (t("meeting.lecturer"), meeting.lecturer or ""),
            (t("archive.turnout"), t("archive.turnout_value", expected=len(members),
                                     present=len(present), absent=len(absent)))]
    paper.add_table(doc, (t("archive.field"), t("archive.value")), rows, (1, 3))
    paper.add_body(doc, t("archive.musts_missing", missing="、".join(missing)) if missing
                   else t("archive.musts_ok"), lead=t("archive.musts") + "：")
    paper.add_heading(doc, 1, t("archive.attendance"))
    paper.add_body(doc, "、".join(s.name for s in present) or t("archive.none"),
                   lead=t("archive.present") + "：")
    paper.add_body(doc, "、".join(f"{s.name}（{s.reason or t('archive.no_reason')}）"
                                  for s in absent) or t("archive.none"),
                   lead=t("archive.absent") + "：")
    if guests:
        paper.add_body(doc, "、".join(s.name for s in guests), lead=t("archive.guests") + "：")
    if absent:
        paper.add_heading(doc, 1, t("archive.makeups"))
        for seat in absent:
            done = t("archive.made_up") if seat.member_id in made_up else t("archive.not_made_up")
            paper.add_body(doc, f"{seat.name}：{done}")
    paper.add_heading(doc, 1, t("meeting.procedure"))
    paper.add_body(doc, meeting.procedure or t("archive.none"))
    paper.add_heading(doc, 1, t("meeting.record"))
    paper.add_body(doc, meeting.record_text or (t("archive.record_in_files") if files
                                                else t("archive.none")))
    _files_section(t, doc, files)
    add_photos(doc, t("archive.meeting_photos"), photos)
    return paper.to_bytes(doc)


def problem_file(t: Translator, branch: str, problem: Problem, reporter: str,
                 history: Sequence[HistoryLine], files: Sequence[FileLine],
                 photos: Sequence[Photo], as_of: date, tz: ZoneInfo) -> bytes:
    """A problem's file: what it is, its measures and deadline, every change, its evidence."""
    doc = new_paper(t("archive.problem_title", id=problem.id))
    paper.add_title(doc, t("archive.problem_title", id=problem.id))
    paper.add_subtitle(doc, f"（{branch}）")
    rows = [(t("problem.description"), problem.description), (t("problem.source"), problem.source),
            (t("problem.kind"), problem.kind), (t("archive.reporter"), reporter),
            (t("problem.owner"), problem.owner_name), (t("problem.measures"), problem.measures),
            (t("problem.deadline"), full_date(problem.deadline)),
            (t("archive.found_on"), full_date(problem.created_at.astimezone(tz).date())),
            (t("archive.status"), status_text(t, problem, as_of))]
    paper.add_table(doc, (t("archive.field"), t("archive.value")), rows, (1, 3))
    paper.add_heading(doc, 1, t("archive.history"))
    for entry in history:
        paper.add_body(doc, history_line(t, entry, tz))
    _files_section(t, doc, files)
    add_photos(doc, t("archive.evidence_photos"), photos)
    return paper.to_bytes(doc)


def _files_section(t: Translator, doc: object, files: Sequence[FileLine]) -> None:
    if files:
        paper.add_heading(doc, 1, t("archive.files"))
        for line in _file_lines(t, files):
            paper.add_body(doc, line)


def _sheet(book: Workbook, title: str, headers: Sequence[tuple[str, int]],
           rows: Sequence[Sequence[object]], first: bool) -> None:
    sheet = book.active if first else book.create_sheet()
    sheet.title = title
    sheet.append([h for h, _ in headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column, (_, width) in zip(sheet.columns, headers, strict=True):
        sheet.column_dimensions[column[0].column_letter].width = width
    for row in rows:
        sheet.append(list(row))
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    fit_rows(sheet, [width for _, width in headers])
    make_printable(sheet)


def _workbook_bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def shuxue_book(t: Translator, answers: Sequence[tuple[ShuxueAnswer, str]], tz: ZoneInfo) -> bytes:
    book = Workbook()
    headers = [(t("archive.col_period"), 14), (t("archive.col_member"), 10),
               (t("archive.col_self_study"), 40), (t("archive.col_research"), 40),
               (t("archive.col_deeds"), 40), (t("archive.col_answered"), 18)]
    _sheet(book, t("archive.shuxue_sheet"), headers,
           [(a.period_start, name, a.self_study, a.research, a.deeds, _local(a.answered_at, tz))
            for a, name in answers], first=True)
    return _workbook_bytes(book)


def commitments_book(t: Translator,
                     commitments: Sequence[tuple[Commitment, str, list[CommitmentReport]]],
                     tz: ZoneInfo) -> bytes:
    book = Workbook()
    yes, no = t("archive.yes"), t("archive.no")
    _sheet(book, t("archive.commitment_sheet"),
           [(t("archive.col_member"), 10), (t("archive.col_commitment"), 50),
            (t("archive.col_kept"), 10), (t("archive.col_made"), 18)],
           [(name, c.content, yes if c.kept else no, _local(c.created_at, tz))
            for c, name, _ in commitments], first=True)
    _sheet(book, t("archive.report_sheet"),
           [(t("archive.col_member"), 10), (t("archive.col_commitment"), 40),
            (t("archive.col_date"), 12), (t("archive.col_report"), 50), (t("archive.col_kept"), 10)],
           [(name, c.content, r.report_date, r.text, yes if r.kept else no)
            for c, name, reports in commitments for r in reports], first=False)
    return _workbook_bytes(book)


def _local(at: datetime, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
