"""/start, /join, /help, /cancel, /pending (join requests), the 同意 / 拒绝 buttons, and
/bindgroup: getting in, finding one's way, the group chat."""

from __future__ import annotations

from handlers.core.buttons import JoinDecision
from handlers.core.context import Context
from handlers.core.events import Outcome, Reply
from handlers.core.policy import approves_join, leads, sees_every_branch
from handlers.dialogs import engine
from handlers.membership import approval, join
from storage.repositories.audit import audit
from storage.repositories.join_requests import JoinRequestRepository
from storage.repositories.members import MemberRepository
from storage.repositories.orgs import OrgRepository

PENDING_SHOWN = 10  # requests /pending shows at once, each a message with its buttons


async def start(ctx: Context, payload: str) -> list[Reply]:
    """``/start``; ``/start <command>`` from a button into the private chat; ``/start <code>``
    from an invite link."""
    linked = ctx.registry.commands.get(payload)
    if linked is not None and linked.deep_link:
        return await ctx.registry.command(ctx, payload, "")
    if payload:
        return await join_command(ctx, payload)
    if ctx.member is None:
        if not ctx.event.is_private:
            return [Reply(ctx.t("start.stranger"))]
        return (await join.bind_by_account(ctx) or await join.pending_status(ctx)
                or [Reply(ctx.t("start.stranger"))])
    return [Reply(ctx.t("start.member", name=ctx.member.name, org=ctx.member.org.name) + "\n\n"
                  + ctx.registry.help_text(ctx.t, ctx.member))]


async def join_command(ctx: Context, code: str) -> list[Reply]:
    if not ctx.event.is_private:
        return [Reply(ctx.t("join.private_only"))]
    if not code:
        return [Reply(ctx.t("join.need_code"))]
    if ctx.member is not None:
        return [Reply(ctx.t("join.already_in", org=ctx.member.org.name))]
    waiting = await join.pending_status(ctx)
    if waiting is not None:
        return waiting
    org = await OrgRepository(ctx.session).by_invite_code(code)
    if org is None:
        return [Reply(ctx.t("join.bad_code"))]
    return await join.bind_by_account(ctx) or await join.begin(ctx, org)


async def help_command(ctx: Context, _args: str) -> list[Reply]:
    if not ctx.event.is_private:
        return [Reply(ctx.t("help.group"))]
    if ctx.member is None:
        return await join.pending_status(ctx) or [Reply(ctx.t("start.stranger"))]
    return [Reply(ctx.registry.help_text(ctx.t, ctx.member))]


async def cancel(ctx: Context, _args: str) -> list[Reply]:
    cancelled = await engine.cancel(ctx)
    return [Reply(ctx.t("dialog.cancelled" if cancelled else "dialog.nothing_to_cancel"))]


async def pending(ctx: Context, _args: str) -> list[Reply]:
    """/pending: the join requests the sender may decide, each with 同意 / 拒绝."""
    member = ctx.member
    assert member is not None
    scope = None if sees_every_branch(member) else (member.org_id,)
    requests, members = JoinRequestRepository(ctx.session), MemberRepository(ctx.session)
    mine = []
    for request in await requests.pending(scope):
        row = await members.get(request.member_id) if request.member_id else None
        if approves_join(member, request.org_id, row.role if row else None):
            mine.append(request)
    if not mine:
        return [Reply(ctx.t("join.pending_none"))]
    replies = [Reply(ctx.t("join.pending_head", count=len(mine)))]
    for request in mine[:PENDING_SHOWN]:
        text, buttons = await approval.asking_message(ctx.t, ctx.session, request)
        replies.append(Reply(text, buttons=buttons))
    if len(mine) > PENDING_SHOWN:
        replies.append(Reply(ctx.t("join.pending_more", count=len(mine) - PENDING_SHOWN)))
    return replies


async def on_decision(ctx: Context, pressed: JoinDecision) -> Outcome:
    """同意 / 拒绝 under a request: only one who may decide it, once."""
    request = await JoinRequestRepository(ctx.session).get(pressed.request_id)
    if request is None:
        return Outcome(notice=ctx.t("button.stale"))
    row = await MemberRepository(ctx.session).get(request.member_id) if request.member_id else None
    if ctx.member is None or not approves_join(ctx.member, request.org_id, row.role if row else None):
        return Outcome(notice=ctx.t("join.not_decider"))
    decided = await approval.decide(ctx.t, ctx.session, request, approve=pressed.approve,
                                    by=ctx.member, now=ctx.now, send_at=join.send_at(ctx))
    ctx.enqueued |= decided.enqueued
    return Outcome([Reply(decided.text, edit=True)])


async def bindgroup(ctx: Context, code: str) -> list[Reply]:
    """Bind this group chat as the branch's (支部群): its secretary, or the office. A group bound
    to another branch moves only for one who leads that branch too (the office)."""
    ev = ctx.event
    orgs = OrgRepository(ctx.session)
    org = await orgs.by_invite_code(code) if code else None
    if org is None:
        return [Reply(ctx.t("bindgroup.bad_code"))]
    member = ctx.member
    if member is None or not leads(member, org.id):
        return [Reply(ctx.t("bindgroup.not_secretary", org=org.name))]
    bound = await orgs.group_for(ev.platform, ev.chat_id)
    if bound is not None and bound.org_id != org.id and not leads(member, bound.org_id):
        current = await orgs.get(bound.org_id)
        return [Reply(ctx.t("bindgroup.bound_elsewhere", org=current.name if current else "—"))]
    before = None if bound is None else {"org_id": bound.org_id, "title": bound.title}
    group = await orgs.bind_group(org, platform=ev.platform, chat_id=ev.chat_id,
                                  title=ev.chat_title, by=member)
    await audit(ctx.session, actor_id=member.id, action="bind" if before is None else "rebind",
                entity="group_chat", entity_id=group.id, before=before,
                after={"org_id": org.id, "title": group.title, "chat_id": ev.chat_id})
    return [Reply(ctx.t("bindgroup.done", org=org.name))]
