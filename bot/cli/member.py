"""`branchbot member`: the roster."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.common import CliError, load_settings, run_async, with_session
from bot.runtime.app import build_app
from handlers.core.i18n import t
from handlers.membership.roster import RosterError, import_roster


@click.group()
def member() -> None:
    """党员名册。"""


@member.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@run_async
async def member_import(path: Path) -> None:
    """导入名册（.xlsx 或 .csv；列：姓名、支部、角色）。有错误时整份不导入。"""
    try:
        added = await with_session(build_app(load_settings()), lambda s: import_roster(s, path))
    except RosterError as error:
        raise CliError(t("cli.roster_refused", problems=str(error))) from error
    click.echo(t("cli.roster_imported", added=added))
