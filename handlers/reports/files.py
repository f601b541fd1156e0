"""Report files (xlsx ledgers, the docx stage summary, PNG charts) for a scope and a period.

Shared by /report in the chat and ``branchbot report``. Data is read in short sessions; the
rendering runs in worker threads, so the event loop stays free for other users.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from handlers.core.events import OutDocument
from handlers.core.i18n import Translator
from handlers.reports import charts, ledgers, stage_summary
from handlers.reports.documents.templates import TemplateProblem
from handlers.reports.periods import Period
from handlers.reports.summary import rollup, summary
from storage.db import Sessions
from storage.queries.scope import Scope

FORMATS: tuple[str, ...] = ("xlsx", "docx", "png")
FORMAT_WORDS: dict[str, str] = {
    "xlsx": "xlsx", "excel": "xlsx", "台账": "xlsx", "表格": "xlsx",
    "docx": "docx", "word": "docx", "总结": "docx", "文档": "docx",
    "png": "png", "图表": "png", "图": "png", "chart": "png",
}


@dataclass(frozen=True)
class Step:
    """A step begins (its progress text)."""

    text: str


@dataclass(frozen=True)
class Made:
    """A file is done, with the caption it is sent with."""

    caption: str
    document: OutDocument


@dataclass(frozen=True)
class Refused:
    """A file could not be made (an office template that does not fit): the Chinese message."""

    text: str


Produced = Step | Made | Refused


@dataclass(frozen=True)
class Request:
    scope: Scope
    title: str  # the member, branch or bureau the files speak for
    period: Period
    tz: ZoneInfo
    formats: tuple[str, ...] = FORMATS
    side_by_side: bool = False  # the office's: every branch in the scope compared
    texts: Translator = field(kw_only=True)  # the requester's language
    today: date = field(kw_only=True)  # the day the papers are dated
    template: Path | bytes | None = field(default=None, kw_only=True)  # the office's own .docx
    target_hours: int = field(default=32, kw_only=True)  # a member's yearly study target


def file_name(request: Request, fmt: str, kind: str | None = None) -> str:
    key = kind or {"xlsx": "report.file_xlsx", "docx": "report.file_docx", "png": "report.file_png"}[fmt]
    return request.texts(key, title=request.title, start=request.period.start.strftime("%Y%m%d"),
                         end=request.period.end.strftime("%Y%m%d")) + f".{fmt}"


async def produce(sessions: Sessions,
                  request: Request) -> AsyncIterator[Produced]:
    """Yields a ``Step`` before each step and ``Made`` for each file (``Refused`` for a draft
    the office's template cannot give)."""
    t = request.texts
    yield Step(t("report.progress_figures"))
    async with sessions() as session:
        found = await summary(session, request.scope, request.title, request.period, request.tz,
                              compare=False, members=not request.side_by_side)
        side = await rollup(session, request.period, request.tz, request.scope.org_ids)
    draft = stage_summary.DraftRequest(request.scope, request.title, request.period, request.tz,
                                       request.today, request.side_by_side, request.target_hours)
    for fmt in request.formats:
        yield Step(t(f"report.progress_{fmt}"))
        if fmt == "xlsx":
            content = await ledgers.workbook(t, sessions, request.scope, request.period, request.tz,
                                             found.totals, found.papers, title=request.title,
                                             made_on=request.today,
                                             by_branch=request.side_by_side)
            yield Made(ledgers.caption(t, found.totals), OutDocument(file_name(request, fmt), content))
        elif fmt == "docx":
            async with sessions() as session:
                context = await stage_summary.gather(t, session, draft, found, side)
            try:
                content = await asyncio.to_thread(stage_summary.render, t, context, request.template)
            except TemplateProblem as problem:
                yield Refused(t("report.template_failed", problem=str(problem)))
                continue
            personal = "report.file_docx_personal" if request.scope.member_id is not None else None
            yield Made(t("report.docx_caption"), OutDocument(file_name(request, fmt, personal), content))
        else:
            async with sessions() as session:
                chart = await charts.weekly(session, request.scope, request.title, request.period,
                                            request.today, side)
            content = await charts.weekly_png(t, chart)
            yield Made(t("report.png_caption"), OutDocument(file_name(request, fmt), content))
            if request.side_by_side and len(side) > 1:
                content = await charts.office(t, request.title, request.period, side)
                yield Made(t("report.png_office_caption"),
                           OutDocument(file_name(request, fmt, "report.file_png_office"), content))
