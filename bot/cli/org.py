"""`branchbot org`: branches and the organizations above them."""

from __future__ import annotations

import click

from bot.cli.common import CliError, load_settings, run_async, with_session
from bot.config import Settings
from bot.runtime.app import build_app
from handlers.core.i18n import t
from storage.db import Session
from storage.models import OrgKind
from storage.repositories.orgs import OrgRepository


@click.group()
def org() -> None:
    """组织：支部与上级党组织。"""


@org.command("add-branch")
@click.argument("name")
@click.option("--parent", help="上级党组织（党总支/党委）名称；不存在时自动创建。")
@run_async
async def org_add_branch(name: str, parent: str | None) -> None:
    """添加支部，打印邀请码和邀请链接。"""
    settings = load_settings()
    name = name.strip()
    if not name or len(name) > 100:
        raise CliError(t("cli.bad_org_name"))

    async def work(session: Session) -> tuple[str, str | None]:
        orgs = OrgRepository(session)
        if await orgs.by_name(name) is not None:
            raise CliError(t("cli.org_exists", name=name))
        above = None
        if parent:
            above = await orgs.by_name(parent) or await orgs.add(parent, kind=OrgKind.general)
        branch = await orgs.add(name, kind=OrgKind.branch, parent=above)
        return branch.invite_code or "", parent

    code, parent_name = await with_session(build_app(settings), work)
    click.echo(t("cli.branch_added", name=name, parent=parent_name or "—", code=code,
                 link=invite_link(settings, code)))


def invite_link(settings: Settings, code: str) -> str:
    username = settings.telegram_bot_username or t("cli.bot_username_placeholder")
    return f"https://t.me/{username}?start={code}"


@org.command("list")
@run_async
async def org_list() -> None:
    """以树形列出组织和人数。"""
    rows = await with_session(build_app(load_settings()), lambda s: OrgRepository(s).tree())
    if not rows:
        click.echo(t("cli.no_orgs"))
    for row in rows:
        code = f"  邀请码 {row.org.invite_code}" if row.org.invite_code else ""
        click.echo(f"{'  ' * row.depth}{row.org.name}（{row.members}人）{code}")
