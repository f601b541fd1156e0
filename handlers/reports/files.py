"""Report files (xlsx ledgers, the docx stage summary, PNG charts) for a scope and a period.

Shared by /report in the chat and ``branchbot report``. Data is read in short sessions; the
rendering runs in worker threads, so the event loop stays free for other users.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from handlers.core.events import OutDocument
from handlers.core.i18n import Translator
from handlers.reports import charts, ledgers, stage_summary
from handlers.reports.periods import Period
from handlers.reports.summary import rollup, summary
from storage.db import Sessions
from storage.queries import figures
from storage.queries.scope import Scope
from storage.repositories.orgs import OrgRepository

FORMATS: tuple[str, ...] = ("xlsx", "docx", "png")
FORMAT_WORDS: dict[str, str] = {
    "xlsx": "xlsx", "excel": "xlsx", "台账": "xlsx", "表格": "xlsx",
    "docx": "docx", "word": "docx", "总结": "docx", "文档": "docx",
    "png": "png", "图表": "png", "图": "png", "chart": "png",
}


@dataclass(frozen=True)
class Request:
    scope: Scope
    title: str  # the member, branch or bureau the files speak for
    period: Period
    tz: ZoneInfo
    formats: tuple[str, ...] = FORMATS
    side_by_side: bool = False  # the office's: every branch in the scope compared
    texts: Translator = field(kw_only=True)  # the requester's language


def file_name(request: Request, fmt: str) -> str:
    kind = {"xlsx": "report.file_xlsx", "docx": "report.file_docx", "png": "report.file_png"}[fmt]
    return request.texts(kind, title=request.title, start=request.period.start.strftime("%Y%m%d"),
             end=request.period.end.strftime("%Y%m%d")) + f".{fmt}"


async def produce(sessions: Sessions,
                  request: Request) -> AsyncIterator[tuple[str, OutDocument | None]]:
    """Yields (progress text, None) before each step and (caption, document) for each file."""
    t = request.texts
    yield t("report.progress_figures"), None
    async with sessions() as session:
        found = await summary(session, request.scope, request.title, request.period, request.tz,
                              compare=False)
        by_form = await figures.hours_by_form(session, request.scope, request.period)
        side = (await rollup(session, request.period, request.tz, request.scope.org_ids)
                if request.side_by_side else [])
    for fmt in request.formats:
        yield t(f"report.progress_{fmt}"), None
        if fmt == "xlsx":
            content = await ledgers.workbook(t, sessions, request.scope, request.period, request.tz,
                                             found.totals, found.papers)
            caption = ledgers.caption(t, found.totals)
        elif fmt == "docx":
            data = stage_summary.StageData(request.title, request.period, found.totals, by_form,
                                           found.not_reported, side, found.papers)
            content = await asyncio.to_thread(stage_summary.render, t, data)
            caption = t("report.docx_caption")
        else:
            async with sessions() as session:
                series = await figures.weekly(session, request.scope, request.period)
                flow = await figures.problem_flow(session, request.scope, request.period, request.tz)
                branches = await OrgRepository(session).branches(request.scope.org_ids)
            order = {row.org_id: i for i, row in enumerate(side)}
            branches.sort(key=lambda branch: order.get(branch[0], 0))
            data = charts.ChartData(request.title, branches, series["hours"], series["visits"], flow)
            content = await asyncio.to_thread(charts.render, t, data)
            caption = t("report.png_caption")
        yield caption, OutDocument(file_name(request, fmt), content)
