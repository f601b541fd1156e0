"""`branchbot summary` and `branchbot report`: the figures as text, and the report files."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click

from bot.cli.common import CliError, load_settings, run_async, with_session
from bot.runtime.app import build_app, require_current_schema
from handlers.core.i18n import t
from handlers.core.parsing import InvalidInput
from handlers.reports.files import FORMATS, Request, produce
from handlers.reports.periods import Period, campaign, parse_period
from handlers.reports.summary import rollup
from handlers.reports.summary import summary as branch_summary
from handlers.reports.text import branch_text, pages, rollup_text
from storage.db import Session, session_factory
from storage.queries import figures
from storage.queries.scope import Scope
from storage.repositories.orgs import OrgRepository
from storage.types import utcnow


def _report_period(today: date, first: date | None, start: str | None, end: str | None,
                   word: str | None, default: str) -> Period:
    words = [w for w in (start, end) if w] if (start or end) else ([word] if word else [])
    if start and not end:
        words = [start, today.isoformat()]
    elif end and not start:
        raise CliError(t("cli.report_need_from"))
    try:
        if not words and default == "campaign":
            return campaign(first, today)
        return parse_period(words, today, first)
    except InvalidInput as error:
        raise CliError(str(error)) from error


async def _report_target(session: Session, branch: str | None) -> tuple[Scope, str, bool]:
    """(scope, title, side by side) for one named branch, or for every branch."""
    if branch is None:
        bureau = await OrgRepository(session).first_bureau_name()
        return Scope(None), bureau or t("cli.report_all_title"), True
    for org_id, name in await OrgRepository(session).branches():
        if name == branch:
            return Scope((org_id,)), name, False
    raise CliError(t("cli.report_no_branch", name=branch))


_PERIOD_OPTIONS = [
    click.option("--branch", default=None, help="支部名称；不填则为全部支部。"),
    click.option("--from", "start", default=None, help="开始日期，如 2023-10-01。"),
    click.option("--to", "end", default=None, help="结束日期，如 2023-10-31（不填为今天）。"),
    click.option("--period", "word", default=None, help="本周、上周、本月、上月、全程。"),
]


def _period_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_PERIOD_OPTIONS):
        func = option(func)
    return func


@click.command()
@_period_options
@run_async
async def summary(branch: str | None, start: str | None, end: str | None, word: str | None) -> None:
    """汇总：各支部对照（进度慢的在前），或 --branch 一个支部的逐人情况。"""
    settings = load_settings()

    async def work(session: Session) -> str:
        today = utcnow().astimezone(settings.tz).date()
        period = _report_period(today, await figures.first_day(session), start, end, word, "this_month")
        scope, title, everyone = await _report_target(session, branch)
        if everyone:
            rows = await rollup(session, period, settings.tz)
            header = t("report.rollup_header", period=period.shown())
            return "\n".join(rollup_text(rows, header, page) for page in range(1, pages(len(rows)) + 1))
        found = await branch_summary(session, scope, title, period, settings.tz)
        return "\n".join(branch_text(found, page) for page in range(1, pages(len(found.members)) + 1))

    click.echo(await with_session(build_app(settings), work))


@click.command()
@_period_options
@click.option("--format", "formats", multiple=True, type=click.Choice(["xlsx", "docx", "png"]),
              help="xlsx（台账）、docx（阶段性总结）、png（图表）；可写多次，不写为全部。")
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("."),
              help="输出文件（一种格式时）或文件夹。")
@run_async
async def report(branch: str | None, start: str | None, end: str | None, word: str | None,
                 formats: tuple[str, ...], out: Path) -> None:
    """生成报表文件：Excel 台账、Word 阶段性总结、PNG 图表。"""
    settings = load_settings()
    app = build_app(settings)
    try:
        await require_current_schema(app.engine)
        sessions = session_factory(app.engine)
        async with sessions() as session:
            today = utcnow().astimezone(settings.tz).date()
            period = _report_period(today, await figures.first_day(session), start, end, word, "campaign")
            scope, title, everyone = await _report_target(session, branch)
        request = Request(scope, title, period, settings.tz, formats or FORMATS, side_by_side=everyone)
        one_file = len(request.formats) == 1 and out.suffix.lower() == f".{request.formats[0]}"
        if not one_file:
            out.mkdir(parents=True, exist_ok=True)
        async for text, document in produce(sessions, request):
            if document is None:
                click.echo(f"… {text}", err=True)
                continue
            path = out if one_file else out / document.file_name
            path.write_bytes(document.content)
            click.echo(str(path))
    finally:
        await app.close()

