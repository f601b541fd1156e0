"""`branchbot db`: the schema and the derived tallies."""

from __future__ import annotations

import click

from bot.cli.common import load_settings, run_async, with_session
from bot.runtime.app import build_app
from handlers.core.i18n import t
from storage.migrate import upgrade
from storage.tallies import recount_all


@click.group()
def db() -> None:
    """数据库。"""


@db.command("upgrade")
@run_async
async def db_upgrade() -> None:
    """把数据库结构升级到最新版本（首次运行时创建）。"""
    app = build_app(load_settings())
    try:
        await upgrade(app.engine)
    finally:
        await app.close()
    click.echo(t("cli.db_upgraded"))


@db.command("recount")
@run_async
async def db_recount() -> None:
    """按全部记录重新统计每日汇总（直接改动过数据库之后使用）。"""
    app = build_app(load_settings())
    days = await with_session(app, lambda session: session.run_sync(
        lambda sync: recount_all(sync.connection())))
    click.echo(t("cli.db_recounted", days=days))
