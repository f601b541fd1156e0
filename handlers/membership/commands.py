"""/start, /join, /help, /cancel and /bindgroup: getting in, finding one's way, the group chat."""

from __future__ import annotations

from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.policy import leads
from handlers.dialogs import engine
from handlers.membership import join
from storage.repositories.orgs import OrgRepository


async def start(ctx: Context, payload: str) -> list[Reply]:
    """``/start``; ``/start <command>`` from a button into the private chat; ``/start <code>``
    from an invite link."""
    linked = ctx.registry.commands.get(payload)
    if linked is not None and linked.deep_link:
        return await ctx.registry.command(ctx, payload, "")
    if payload:
        return await join_command(ctx, payload)
    if ctx.member is None:
        return [Reply(ctx.t("start.stranger"))]
    return [Reply(ctx.t("start.member", name=ctx.member.name, org=ctx.member.org.name) + "\n\n"
                  + ctx.registry.help_text(ctx.t, ctx.member))]


async def join_command(ctx: Context, code: str) -> list[Reply]:
    if not ctx.event.is_private:
        return [Reply(ctx.t("join.private_only"))]
    if not code:
        return [Reply(ctx.t("join.need_code"))]
    if ctx.member is not None:
        return [Reply(ctx.t("join.already_in", org=ctx.member.org.name))]
    org = await OrgRepository(ctx.session).by_invite_code(code)
    if org is None:
        return [Reply(ctx.t("join.bad_code"))]
    return await join.begin(ctx, org)


async def help_command(ctx: Context, _args: str) -> list[Reply]:
    if not ctx.event.is_private:
        return [Reply(ctx.t("help.group"))]
    if ctx.member is None:
        return [Reply(ctx.t("start.stranger"))]
    return [Reply(ctx.registry.help_text(ctx.t, ctx.member))]


async def cancel(ctx: Context, _args: str) -> list[Reply]:
    cancelled = await engine.cancel(ctx)
    return [Reply(ctx.t("dialog.cancelled" if cancelled else "dialog.nothing_to_cancel"))]


async def bindgroup(ctx: Context, code: str) -> list[Reply]:
    """Bind this group chat as the branch's (支部群): its secretary, or the office."""
    ev = ctx.event
    org = await OrgRepository(ctx.session).by_invite_code(code) if code else None
    if org is None:
        return [Reply(ctx.t("bindgroup.bad_code"))]
    member = ctx.member
    if member is None or not leads(member, org.id):
        return [Reply(ctx.t("bindgroup.not_secretary", org=org.name))]
    await OrgRepository(ctx.session).bind_group(org, platform=ev.platform, chat_id=ev.chat_id,
                                                title=ev.chat_title, by=member)
    return [Reply(ctx.t("bindgroup.done", org=org.name))]
