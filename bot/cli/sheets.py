"""`branchbot pairing|topic|shuxue import FILE`: the office's sheets (handlers.imports.sheets)."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.common import CliError, load_settings, run_async, texts, with_session
from bot.runtime.app import build_app
from handlers.core.i18n import DEFAULT_TEXTS
from handlers.imports.sheets import PAIRINGS, SHUXUE, TOPICS, SheetKind, import_sheet
from handlers.imports.tables import Refused, read_path
from storage.db import Session
from storage.types import utcnow


def _group(kind: SheetKind, name: str) -> click.Group:
    group = click.Group(name, help=DEFAULT_TEXTS(f"cli.help_{kind.key}"))

    @group.command("import", help=DEFAULT_TEXTS(f"cli.help_{kind.key}_import"))
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @run_async
    async def run(path: Path) -> None:
        t, app = texts(), build_app(load_settings())
        tz = app.core.config.tz
        today = utcnow().astimezone(tz).date()

        async def job(session: Session) -> tuple[int, int]:
            return await import_sheet(t, session, kind, read_path(t, path), today=today, tz=tz)

        try:
            added, total = await with_session(app, job)
        except Refused as error:
            raise CliError(t("import.refused", what=t(kind.what), problems=str(error))) from error
        click.echo(t(kind.done, added=added, total=total))

    return group


pairing = _group(PAIRINGS, "pairing")
topic = _group(TOPICS, "topic")
shuxue = _group(SHUXUE, "shuxue")
