"""`branchbot member`: the roster."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.common import CliError, load_settings, run_async, texts, with_session
from bot.runtime.app import build_app
from handlers.core.i18n import DEFAULT_TEXTS
from handlers.membership.roster import RosterError, import_roster


@click.group(help=DEFAULT_TEXTS("cli.help_member"))
def member() -> None:
    """The ``member`` command group (its help: ``help=``)."""


@member.command("import", help=DEFAULT_TEXTS("cli.help_member_import"))
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@run_async
async def member_import(path: Path) -> None:
    t = texts()
    try:
        added = await with_session(build_app(load_settings()), lambda s: import_roster(t, s, path))
    except RosterError as error:
        raise CliError(t("cli.roster_refused", problems=str(error))) from error
    click.echo(t("cli.roster_imported", added=added))
