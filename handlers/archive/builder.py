"""资料归档: one zip with a folder per branch —

    <支部>/台账.xlsx, <支部>/阶段性总结.docx (closed problems' evidence photos appended)
    <支部>/会议记录/<日期>_<类型>_<编号>/会议记录.docx and 附件/<n>_<name>
    <支部>/问题整改/<编号>_<问题>/问题档案.docx and 佐证材料/<n>_<name>
    <支部>/述学记录.xlsx, <支部>/承诺践诺.xlsx
    目录.xlsx: every record and every file (its sha256), each exactly once

Branch by branch, record by record: each paper is rendered (in a worker thread), written and
forgotten; files are copied from the store in chunks. Only the index lines are kept until the
end, in openpyxl's write-only workbook (on disk). Entries, dates and order are fixed, so the same
data gives the same bytes.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from docx import Document

from handlers.archive import papers
from handlers.archive.index import Index, RecordRow
from handlers.archive.papers import FileLine
from handlers.archive.zipout import ArchiveZip, normalize_ooxml_file, normalized_ooxml
from handlers.core.formats import short
from handlers.core.i18n import Translator
from handlers.meetings.rules import missing_musts
from handlers.reports.documents.photo_appendix import Photo, add_photos, resized_jpeg
from handlers.reports.files import Request, produce
from handlers.reports.periods import Period
from storage.db import Sessions
from storage.files.attachments import AttachmentRepository, KeptFile
from storage.files.errors import FileMissing
from storage.files.names import sanitize_file_name
from storage.files.store import FileStore
from storage.models import AttachmentOwner, DownloadStatus, Meeting, ProblemStatus
from storage.queries import archive as rows
from storage.queries.scope import DateRange, Scope
from storage.repositories.meetings import MeetingRepository
from storage.repositories.orgs import OrgRepository
from storage.repositories.problems import ProblemRepository

PHOTO_BYTES_MAX = 30 * 1024 * 1024  # a larger "photo" is archived as a file, not put in a paper
CLOSED_PHOTOS_MAX = 100  # in the stage summary's appendix (every one is in the problems' files)


@dataclass(frozen=True)
class ArchiveRequest:
    out: Path
    period: DateRange
    tz: ZoneInfo
    texts: Translator
    branch_ids: tuple[int, ...] | None = None  # None: every branch


@dataclass(frozen=True)
class Progress:
    done: int  # branches archived
    total: int
    branch: str  # the one archived last


@dataclass(frozen=True)
class ArchiveResult:
    path: Path
    branches: int
    records: int
    files: int  # files listed (kept ones copied into the archive)
    size: int  # bytes of the zip


def folder(name: str, fallback: str = "_") -> str:
    """A path part made from user data (a branch's name, a meeting's type, a file's name)."""
    return (sanitize_file_name(name, 80) or fallback).replace("/", "_")


class _Branch:
    """One branch's part of the archive, written into ``zip`` and listed in ``index``."""

    def __init__(self, builder: ArchiveBuilder, org_id: int, name: str, root: str) -> None:
        self.b, self.org_id, self.name, self.root = builder, org_id, name, root
        self.t = builder.request.texts

    async def write(self) -> None:
        closed_photos = await self._problems()
        await self._meetings()
        await self._reports(closed_photos)
        await self._shuxue_and_commitments()
        for kind in ("study", "visit"):
            async for lines in rows.index_lines(self.b.sessions, kind, self.org_id,
                                                self.b.request.period):
                for line in lines:
                    self.b.index.record(RecordRow(self.name, self.t(f"archive.kind_{kind}"),
                                                  line.id, line.day, line.summary,
                                                  f"{self.root}/台账.xlsx", 0))

    async def _files(self, owner: AttachmentOwner, owner_ids: list[int], base: str, record: str,
                     record_id: int) -> tuple[list[FileLine], list[Photo]]:
        """Copy the record's kept files under ``base``; list each one in the index."""
        async with self.b.sessions() as session:
            files = await AttachmentRepository(session).files_of(owner, owner_ids)
        lines, photos = [], []
        for n, file in enumerate(files, start=1):
            name = file.file_name(self.t("archive.file_stem", n=n))
            path, state = None, self.b.state(file)
            if file.status is DownloadStatus.stored and file.key:
                path = f"{base}/{n:02d}_{folder(name)}"
                try:
                    await self.b.zip.add_stream(path, self.b.store.open(file.key))
                except FileMissing:
                    path, state = None, self.t("archive.state_missing")
                if path and (file.mime or "").startswith("image/") and \
                        (file.size or 0) <= PHOTO_BYTES_MAX:
                    photos.append(Photo(name, await self.b.store.read(file.key)))
            lines.append(FileLine(name, path, state))
            self.b.index.file(self.name, record, record_id, path, file, state,
                              self.b.sender(file.member_id))
        return lines, photos

    async def _meetings(self) -> None:
        t, period = self.t, self.b.request.period
        async with self.b.sessions() as session:
            meetings = await rows.meetings(session, self.org_id, period)
        for meeting in meetings:
            async with self.b.sessions() as session:
                repo = MeetingRepository(session)
                seats, made_up = await repo.seats(meeting.id), await repo.made_up(meeting.id)
            base = (f"{self.root}/会议记录/{meeting.day.isoformat()}_{folder(meeting.kind)}_"
                    f"{meeting.id}")
            kind = t("archive.kind_meeting")
            files, photos = await self._files(AttachmentOwner.meeting_record, [meeting.id],
                                              f"{base}/附件", kind, meeting.id)
            content = await asyncio.to_thread(
                papers.meeting_record, t, self.name, meeting, seats, made_up,
                missing_musts(t, meeting), files, photos)
            self.b.add_paper(f"{base}/会议记录.docx", content)
            self.b.index.record(RecordRow(self.name, kind, meeting.id, meeting.day,
                                          _meeting_summary(meeting), f"{base}/会议记录.docx",
                                          len(files), _listed(files)))

    async def _problems(self) -> list[Photo]:
        """Each problem's file; the photos of those closed, for the stage summary's appendix."""
        t, b = self.t, self.b
        async with b.sessions() as session:
            problems = await rows.problems(session, self.org_id, b.request.period, b.request.tz)
            evidence = await rows.evidence_of(session, [p.id for p in problems])
        closed: list[Photo] = []
        for problem in problems:
            async with b.sessions() as session:
                history = await ProblemRepository(session).history(problem.id)
            base = f"{self.root}/问题整改/{problem.id:05d}_{folder(short(problem.description, 20))}"
            kind = t("archive.kind_problem")
            files, photos = await self._files(AttachmentOwner.problem_evidence,
                                              evidence[problem.id], f"{base}/佐证材料", kind,
                                              problem.id)
            content = await asyncio.to_thread(
                papers.problem_file, t, self.name, problem, b.sender(problem.reporter_id),
                history, files, photos, b.request.period.end, b.request.tz)
            b.add_paper(f"{base}/问题档案.docx", content)
            b.index.record(RecordRow(self.name, kind, problem.id,
                                     problem.created_at.astimezone(b.request.tz).date(),
                                     short(problem.description, 60), f"{base}/问题档案.docx",
                                     len(files), _listed(files)))
            if problem.status is ProblemStatus.closed:
                closed += await asyncio.to_thread(_small, t("archive.problem_title", id=problem.id),
                                                  photos[:CLOSED_PHOTOS_MAX - len(closed)])
        return closed

    async def _reports(self, closed_photos: list[Photo]) -> None:
        b = self.b
        period = Period(b.request.period.start, b.request.period.end, "range")
        request = Request(Scope((self.org_id,)), self.name, period, b.request.tz,
                          ("xlsx", "docx"), texts=self.t, today=b.request.period.end)
        async for _, document in produce(b.sessions, request):
            if document is None:
                continue
            if document.file_name.endswith(".xlsx"):
                b.add_paper(f"{self.root}/台账.xlsx", document.content)
            else:
                content = await asyncio.to_thread(
                    _with_photos, document.content, self.t("archive.closed_photos"), closed_photos)
                b.add_paper(f"{self.root}/阶段性总结.docx", content)

    async def _shuxue_and_commitments(self) -> None:
        t, b = self.t, self.b
        async with b.sessions() as session:
            answers = await rows.shuxue(session, self.org_id, b.request.period)
            commitments = await rows.commitments(session, self.org_id, b.request.period,
                                                 b.request.tz)
        path = f"{self.root}/述学记录.xlsx"
        b.add_paper(path, await asyncio.to_thread(papers.shuxue_book, t, answers, b.request.tz))
        for answer, name in answers:
            b.index.record(RecordRow(self.name, t("archive.kind_shuxue"), answer.id,
                                     answer.period_start, name, path, 0))
        path = f"{self.root}/承诺践诺.xlsx"
        b.add_paper(path, await asyncio.to_thread(papers.commitments_book, t, commitments,
                                                  b.request.tz))
        for commitment, name, reports in commitments:
            b.index.record(RecordRow(self.name, t("archive.kind_commitment"), commitment.id,
                                     commitment.created_at.astimezone(b.request.tz).date(),
                                     f"{name}：{short(commitment.content, 40)}", path, 0))
            for report in reports:
                b.index.record(RecordRow(self.name, t("archive.kind_commitment_report"),
                                         report.id, report.report_date,
                                         f"{name}：{short(report.text, 40)}", path, 0))


class ArchiveBuilder:
    def __init__(self, sessions: Sessions, store: FileStore, request: ArchiveRequest) -> None:
        self.sessions, self.store, self.request = sessions, store, request
        self.index = Index(request.texts, request.tz)
        self.zip = ArchiveZip(request.out)
        self.names: dict[int, str] = {}

    def add_paper(self, path: str, content: bytes) -> None:
        self.zip.add(path, normalized_ooxml(content, self.request.period.end))

    def sender(self, member_id: int) -> str:
        return self.names.get(member_id, "")

    def state(self, file: KeptFile) -> str:
        return self.request.texts(f"archive.state_{file.status.value}")

    def _add_index(self) -> None:
        """目录.xlsx, last: written to a temporary file and copied in, never whole in memory."""
        with tempfile.TemporaryDirectory(prefix="archive-index-") as folder:
            written, fixed = Path(folder) / "written.xlsx", Path(folder) / "fixed.xlsx"
            self.index.save(written)
            normalize_ooxml_file(written, fixed, self.request.period.end)
            self.zip.add_file("目录.xlsx", fixed)

    async def build(self) -> AsyncIterator[Progress | ArchiveResult]:
        async with self.sessions() as session:
            branches = await OrgRepository(session).branches(self.request.branch_ids)
            self.names = await rows.member_names(session)
        roots = _roots(branches)
        try:
            for done, (org_id, name) in enumerate(branches, start=1):
                await _Branch(self, org_id, name, roots[org_id]).write()
                yield Progress(done, len(branches), name)
            await asyncio.to_thread(self._add_index)
        finally:
            self.zip.close()
        yield ArchiveResult(self.request.out, len(branches), self.index.records,
                            self.index.files, self.request.out.stat().st_size)


def build_archive(sessions: Sessions, store: FileStore, request: ArchiveRequest
                  ) -> AsyncIterator[Progress | ArchiveResult]:
    """Progress after each branch, then the result."""
    return ArchiveBuilder(sessions, store, request).build()


def _roots(branches: Sequence[tuple[int, str]]) -> dict[int, str]:
    """Each branch's folder: its name, made safe; two branches of one name told apart by id."""
    names = [folder(name) for _, name in branches]
    return {org_id: f"{safe}_{org_id}" if names.count(safe) > 1 else safe
            for (org_id, _), safe in zip(branches, names, strict=True)}


def _listed(files: list[FileLine]) -> str:
    """A record's files for its index line: "name → place in the archive" (or its state)."""
    return "\n".join(f"{f.name} → {f.path or f.state}" for f in files)


def _meeting_summary(meeting: Meeting) -> str:
    return "　".join(part for part in (meeting.kind, meeting.topic or "") if part)


def _with_photos(content: bytes, heading: str, photos: list[Photo]) -> bytes:
    """The stage summary with the closed problems' evidence photos as its appendix."""
    if not photos:
        return content
    doc = Document(io.BytesIO(content))
    add_photos(doc, heading, photos)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()



def _small(title: str, photos: list[Photo]) -> list[Photo]:
    """The photos resized (kept until the stage summary: a few hundred KB each, not megabytes)."""
    small = []
    for photo in photos:
        resized = resized_jpeg(photo.content)
        if resized is not None:
            small.append(Photo(f"{title}：{photo.caption}", resized[0]))
    return small
