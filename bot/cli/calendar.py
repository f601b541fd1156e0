"""`branchbot calendar`: the campaign calendar file."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.common import CliError, load_settings, run_async, texts, with_session
from bot.runtime.app import build_app
from handlers.calendar.file import (
    CalendarError,
    calendar_lines,
    load_calendar,
    loaded_text,
)
from handlers.core.i18n import DEFAULT_TEXTS


@click.group(help=DEFAULT_TEXTS("cli.help_calendar"))
def calendar() -> None:
    """The ``calendar`` command group (its help: ``help=``)."""


@calendar.command("load", help=DEFAULT_TEXTS("cli.help_calendar_load"))
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@run_async
async def calendar_load(path: Path) -> None:
    t = texts()
    try:
        loaded = await with_session(build_app(load_settings()), lambda s: load_calendar(t, s, path))
    except CalendarError as error:
        raise CliError(t("calendar.refused", problems=str(error))) from error
    click.echo(loaded_text(t, loaded))


@calendar.command("show", help=DEFAULT_TEXTS("cli.help_calendar_show"))
@run_async
async def calendar_show() -> None:
    t = texts()
    lines = await with_session(build_app(load_settings()), lambda s: calendar_lines(t, s))
    click.echo("\n".join(lines) if lines else t("calendar.empty"))
