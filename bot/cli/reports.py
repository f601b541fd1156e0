"""`branchbot summary` and `branchbot report`: the figures as text, and the report files."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from bot.cli.common import CliError, load_settings, run_async, texts, with_session
from bot.runtime.app import build_app, require_current_schema
from handlers.core.i18n import DEFAULT_TEXTS, Translator
from handlers.core.parsing import InvalidInput
from handlers.reports.files import FORMATS, Refused, Request, Step, produce
from handlers.reports.periods import (
    CampaignSpan,
    Period,
    campaign,
    campaign_span,
    parse_period,
)
from handlers.reports.summary import bureau as bureau_summary
from handlers.reports.summary import rollup
from handlers.reports.summary import summary as branch_summary
from handlers.reports.text import branch_text, pages, rollup_text
from storage.db import Session, session_factory
from storage.queries.scope import Scope
from storage.repositories.orgs import OrgRepository
from storage.types import utcnow


def _report_period(today: date, span: CampaignSpan, start: str | None, end: str | None,
                   word: str | None, default: str) -> Period:
    t = texts()
    words = [w for w in (start, end) if w] if (start or end) else ([word] if word else [])
    if start and not end:
        words = [start, today.isoformat()]
    elif end and not start:
        raise CliError(t("cli.report_need_from"))
    try:
        if not words and default == "campaign":
            return campaign(span, today)
        return parse_period(words, today, span)
    except InvalidInput as error:
        raise CliError(str(error)) from error


async def _report_target(session: Session, branch: str | None) -> tuple[Scope, str, bool]:
    """(scope, title, side by side) for one named branch, or for every branch."""
    t = texts()
    if branch is None:
        bureau = await OrgRepository(session).first_bureau_name()
        return Scope(None), bureau or t("cli.report_all_title"), True
    for org_id, name in await OrgRepository(session).branches():
        if name == branch:
            return Scope((org_id,)), name, False
    raise CliError(t("cli.report_no_branch", name=branch))


async def period_and_target(session: Session, tz: ZoneInfo, branch: str | None, start: str | None,
                            end: str | None, word: str | None = None, default: str = "campaign",
                            ) -> tuple[Period, Scope, str, bool]:
    """The period the options name (``default`` without any) and whose figures: (period, scope,
    title, side by side)."""
    today = utcnow().astimezone(tz).date()
    period = _report_period(today, await campaign_span(session), start, end, word, default)
    return (period, *await _report_target(session, branch))


_PERIOD_OPTIONS = [
    click.option("--branch", default=None, help=DEFAULT_TEXTS("cli.opt_branch")),
    click.option("--from", "start", default=None, help=DEFAULT_TEXTS("cli.opt_from")),
    click.option("--to", "end", default=None, help=DEFAULT_TEXTS("cli.opt_to")),
    click.option("--period", "word", default=None, help=DEFAULT_TEXTS("cli.opt_period")),
]


def _period_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_PERIOD_OPTIONS):
        func = option(func)
    return func


@click.command(help=DEFAULT_TEXTS("cli.help_summary"))
@_period_options
@run_async
async def summary(branch: str | None, start: str | None, end: str | None, word: str | None) -> None:
    t = texts()
    settings = load_settings()

    async def work(session: Session) -> str:
        today = utcnow().astimezone(settings.tz).date()
        period = _report_period(today, await campaign_span(session), start, end, word, "this_month")
        scope, title, everyone = await _report_target(session, branch)
        if everyone:
            rows = await rollup(session, period, settings.tz)
            header = t("report.rollup_header", period=period.shown(t))
            overall = await bureau_summary(session, rows, header, period, settings.tz)  # above page 1
            return "\n".join(rollup_text(t, rows, header, page, overall if page == 1 else None)
                             for page in range(1, pages(len(rows)) + 1))
        found = await branch_summary(session, scope, title, period, settings.tz)
        return "\n".join(branch_text(t, found, page) for page in range(1, pages(len(found.members)) + 1))

    click.echo(await with_session(build_app(settings), work))


@click.command(help=DEFAULT_TEXTS("cli.help_report"))
@_period_options
@click.option("--format", "formats", multiple=True, type=click.Choice(["xlsx", "docx", "png"]),
              help=DEFAULT_TEXTS("cli.opt_report_format"))
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("."),
              help=DEFAULT_TEXTS("cli.opt_report_out"))
@click.option("--template", "template", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help=DEFAULT_TEXTS("cli.opt_report_template"))
@run_async
async def report(branch: str | None, start: str | None, end: str | None, word: str | None,
                 formats: tuple[str, ...], out: Path, template: Path | None) -> None:
    settings = load_settings()
    t = Translator.of(settings.language)
    template = template or settings.report_template
    if template is not None and not template.is_file():
        raise CliError(t("cli.report_no_template", path=template))
    app = build_app(settings)
    try:
        await require_current_schema(app.engine)
        sessions = session_factory(app.engine)
        async with sessions() as session:
            period, scope, title, everyone = await period_and_target(
                session, settings.tz, branch, start, end, word)
        request = Request(scope, title, period, settings.tz, formats or FORMATS, side_by_side=everyone,
                          texts=t, today=utcnow().astimezone(settings.tz).date(), template=template,
                          target_hours=settings.study_target_hours)
        one_file = len(request.formats) == 1 and out.suffix.lower() == f".{request.formats[0]}"
        if not one_file:
            out.mkdir(parents=True, exist_ok=True)
        refused = []
        async for item in produce(sessions, request):
            if isinstance(item, Step):
                click.echo(f"… {item.text}", err=True)
            elif isinstance(item, Refused):
                refused.append(item.text)
            else:
                path = out if one_file else out / item.document.file_name
                path.write_bytes(item.document.content)
                click.echo(str(path))
        if refused:
            raise CliError("\n".join(refused))
    finally:
        await app.close()

