"""`branchbot calendar`: the campaign calendar file."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.common import CliError, load_settings, run_async, with_session
from bot.runtime.app import build_app
from handlers.calendar.file import CalendarError, calendar_lines, load_calendar
from handlers.core.i18n import t


@click.group()
def calendar() -> None:
    """主题教育日历：时间节点、节假日、述学安排。"""


@calendar.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@run_async
async def calendar_load(path: Path) -> None:
    """导入日历文件（.toml）。有错误时整份不导入。"""
    try:
        counts = await with_session(build_app(load_settings()), lambda s: load_calendar(s, path))
    except CalendarError as error:
        raise CliError(t("calendar.refused", problems=str(error))) from error
    click.echo(t("calendar.loaded", milestones=counts[0], holidays=counts[1], schedules=counts[2]))


@calendar.command("show")
@run_async
async def calendar_show() -> None:
    """列出日历中的时间节点和节假日。"""
    lines = await with_session(build_app(load_settings()), calendar_lines)
    click.echo("\n".join(lines) if lines else t("calendar.empty"))
