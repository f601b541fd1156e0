"""`branchbot group`: branch group chats (the WeCom group robot)."""

from __future__ import annotations

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.adapters.wecom.bot import is_webhook_url, set_robot
from bot.cli.common import CliError, load_settings, run_async, with_session
from bot.runtime.app import build_app
from handlers.core.i18n import t
from storage.models import Member, OrgKind, Role
from storage.repositories.orgs import OrgRepository


@click.group()
def group() -> None:
    """支部群（企业微信群机器人）。"""


@group.command("set-webhook")
@click.argument("branch")
@click.argument("url")
@run_async
async def group_set_webhook(branch: str, url: str) -> None:
    """设置支部群的企业微信群机器人地址（Webhook），述学提醒等推送到该群。"""
    if not is_webhook_url(url):
        raise CliError(t("wecom.bad_webhook"))

    async def work(session: AsyncSession) -> None:
        org = await OrgRepository(session).by_name(branch.strip())
        if org is None or org.kind is not OrgKind.branch:
            raise CliError(t("cli.no_such_branch", name=branch))
        active = (Member.active.is_(True),)
        binder = await session.scalar(select(Member.id).where(
            Member.org_id == org.id, Member.role == Role.secretary, *active).order_by(Member.id)) \
            or await session.scalar(select(Member.id).where(
                Member.role == Role.office, *active).order_by(Member.id))
        if binder is None:
            raise CliError(t("wecom.no_binder", org=org.name))
        await set_robot(session, org.id, url, binder)

    await with_session(build_app(load_settings()), work)
    click.echo(t("wecom.webhook_set", org=branch.strip()))
