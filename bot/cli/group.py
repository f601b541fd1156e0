"""`branchbot group`: branch group chats (the WeCom group robot)."""

from __future__ import annotations

import click

from bot.adapters.wecom import PLATFORM
from bot.adapters.wecom.bot import is_webhook_url, robot_chat_id
from bot.cli.common import CliError, load_settings, run_async, texts, with_session
from bot.runtime.app import build_app
from handlers.core.i18n import DEFAULT_TEXTS
from storage.db import Session
from storage.models import OrgKind
from storage.repositories.members import MemberRepository
from storage.repositories.orgs import OrgRepository


@click.group(help=DEFAULT_TEXTS("cli.help_group"))
def group() -> None:
    """The ``group`` command group (its help: ``help=``)."""


@group.command("set-webhook", help=DEFAULT_TEXTS("cli.help_group_set_webhook"))
@click.argument("branch")
@click.argument("url")
@run_async
async def group_set_webhook(branch: str, url: str) -> None:
    t = texts()
    if not is_webhook_url(url):
        raise CliError(t("wecom.bad_webhook"))

    async def work(session: Session) -> None:
        org = await OrgRepository(session).by_name(branch.strip())
        if org is None or org.kind is not OrgKind.branch:
            raise CliError(t("cli.no_such_branch", name=branch))
        binder = await MemberRepository(session).binder_for(org.id)
        if binder is None:
            raise CliError(t("wecom.no_binder", org=org.name))
        await OrgRepository(session).set_group_webhook(
            org.id, platform=PLATFORM, chat_id=robot_chat_id(org.id), webhook_url=url,
            by_member_id=binder)

    await with_session(build_app(load_settings()), work)
    click.echo(t("wecom.webhook_set", org=branch.strip()))
