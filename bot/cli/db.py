"""`branchbot db`: the schema and the derived tallies."""

from __future__ import annotations

import click

from bot.cli.common import load_settings, run_async, texts, with_session
from bot.runtime.app import build_app
from handlers.core.i18n import DEFAULT_TEXTS
from storage.migrate import upgrade
from storage.tallies import recount_all


@click.group(help=DEFAULT_TEXTS("cli.help_db"))
def db() -> None:
    """The ``db`` command group (its help: ``help=``)."""


@db.command("upgrade", help=DEFAULT_TEXTS("cli.help_db_upgrade"))
@run_async
async def db_upgrade() -> None:
    t = texts()
    app = build_app(load_settings())
    try:
        await upgrade(app.engine)
    finally:
        await app.close()
    click.echo(t("cli.db_upgraded"))


@db.command("recount", help=DEFAULT_TEXTS("cli.help_db_recount"))
@run_async
async def db_recount() -> None:
    t = texts()
    app = build_app(load_settings())
    days = await with_session(app, lambda session: session.run_sync(
        lambda sync: recount_all(sync.connection())))
    click.echo(t("cli.db_recounted", days=days))
