"""Joining a branch with its invite code: confirm the real name, match the roster."""

from __future__ import annotations

from typing import Any

from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.dialogs import engine
from handlers.dialogs.engine import Choice, Dialog
from handlers.dialogs.fields import text_step
from storage.models import Organization
from storage.repositories.members import MemberRepository
from storage.repositories.orgs import OrgRepository

ORG_ID = "org_id"


async def begin(ctx: Context, org: Organization) -> list[Reply]:
    return await engine.start(ctx, JOIN, {ORG_ID: org.id, "org_name": org.name})


async def _own_name(ctx: Context, _data: dict[str, Any]) -> list[Choice]:
    name = ctx.event.user_name.strip()
    return [Choice(ctx.t("join.its_me", name=name), name)] if 0 < len(name) <= 50 else []


async def finish(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    ev = ctx.event
    repo = MemberRepository(ctx.session)
    if await repo.by_identity(ev.platform, ev.user_id) is not None:
        return [Reply(ctx.t("join.already"))]
    org = await OrgRepository(ctx.session).get(data[ORG_ID])
    if org is None:
        return [Reply(ctx.t("join.bad_code"))]
    member = await repo.unclaimed_in(org, data["name"], ev.platform)
    matched = member is not None
    if member is None:
        member = await repo.add(org, data["name"])
    await repo.bind(member, platform=ev.platform, user_id=ev.user_id, display_name=ev.user_name)
    key = "join.welcome_roster" if matched else "join.welcome"
    return [Reply(ctx.t(key, name=member.name, org=org.name) + "\n\n" + ctx.registry.help_text(ctx.t, member))]


JOIN = Dialog(
    name="join",
    title="join.title",
    steps=(text_step("name", "join.name", lambda data, t: t("join.ask_name", org=data["org_name"]),
                     max_len=50, choices=_own_name),),
    finish=finish,
    confirm=False,
)
