"""Joining a branch. A role never comes from typing a name:

- an account the platform authenticated (a WeCom or DingTalk userid, a Feishu user_id, a
  Telegram id, the @username Telegram reports now, the sender's own shared phone number) that is
  on the roster binds to that row at once (``bind_by_account``);
- otherwise the person gives their name (the join dialog) and that is a *request*
  (``handlers.membership.approval``): the approvers decide, and until then the identity has no
  role. A roster row already bound on the platform cannot be claimed again; its approvers hear
  of the attempt.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.dialogs import engine
from handlers.dialogs.engine import Choice, Dialog
from handlers.dialogs.fields import name_step
from handlers.membership import accounts, approval
from storage.models import AccountKind, JoinRequest, JoinStatus, Member, Organization
from storage.repositories.accounts import AccountRepository
from storage.repositories.audit import audit
from storage.repositories.join_requests import JoinRequestRepository
from storage.repositories.members import MemberRepository
from storage.repositories.orgs import OrgRepository

log = logging.getLogger(__name__)
ORG_ID = "org_id"
USERNAME_MAX = 64  # JoinRequest.username


def send_at(ctx: Context) -> datetime:
    return approval.send_time(ctx.config, ctx.now)


def welcome(ctx: Context, key: str, member: Member) -> Reply:
    return Reply(ctx.t(key, name=member.name, org=member.org.name,
                       platform=approval.platform_name(ctx.t, ctx.event.platform))
                 + "\n\n" + ctx.registry.help_text(ctx.t, member))


async def bind_by_account(ctx: Context) -> list[Reply] | None:
    """Bind the sender to the roster row holding an account the platform vouched for with this
    event; None when no row (or more than one) holds one of them."""
    ev = ctx.event
    claims = accounts.attested(ev)
    owners = await AccountRepository(ctx.session).owners(claims)
    if len(owners) != 1:
        if owners:
            log.warning("accounts of %s %s are on %d roster rows: not binding", ev.platform,
                        ev.user_id, len(owners))
        return None
    (member_id, kinds), = owners.items()
    members = MemberRepository(ctx.session)
    member = await members.get(member_id)
    assert member is not None
    if not await members.bind_if_free(member_id, platform=ev.platform, user_id=ev.user_id,
                                      display_name=ev.user_name):
        if await members.by_identity(ev.platform, ev.user_id) is not None:
            return [Reply(ctx.t("join.already"))]
        ctx.enqueued |= await approval.tell_of_claim(
            ctx.t, ctx.session, member, platform=ev.platform, user_id=ev.user_id,
            display_name=ev.user_name, send_at=send_at(ctx)) > 0
        return [Reply(ctx.t("join.row_taken", name=member.name))]
    repo = AccountRepository(ctx.session)
    for kind, value in claims:  # a Telegram username can change hands: keep the id it had now
        if kind is AccountKind.telegram:
            await repo.add_if_free(member_id, kind, value)
    await audit(ctx.session, actor_id=member_id, action="bind", entity="member", entity_id=member_id,
                after={"platform": ev.platform, "platform_user_id": ev.user_id,
                       "by": sorted(kind.value for kind in kinds)})
    await _close_own_request(ctx, member_id)
    return [welcome(ctx, "join.welcome_account", member)]


async def _close_own_request(ctx: Context, member_id: int) -> None:
    """The account's pending request no longer applies once it is bound by its account."""
    ev = ctx.event
    requests = JoinRequestRepository(ctx.session)
    pending = await requests.open_for(ev.platform, ev.user_id)
    if pending is not None and await requests.decide(pending.id, JoinStatus.superseded, by_id=None,
                                                      at=ctx.now):
        await audit(ctx.session, actor_id=member_id, action="void", entity=approval.ENTITY,
                    entity_id=pending.id, after=approval.snapshot(pending))


async def pending_status(ctx: Context) -> list[Reply] | None:
    """What the sender is told while their request waits; None if they have none."""
    request = await JoinRequestRepository(ctx.session).open_for(ctx.event.platform, ctx.event.user_id)
    if request is None:
        return None
    org = await OrgRepository(ctx.session).get(request.org_id)
    row = await MemberRepository(ctx.session).get(request.member_id) if request.member_id else None
    assert org is not None
    return [Reply(ctx.t("join.request_pending", name=request.name, org=org.name,
                        decider=approval.decider(ctx.t, row)))]


async def begin(ctx: Context, org: Organization) -> list[Reply]:
    return await engine.start(ctx, JOIN, {ORG_ID: org.id, "org_name": org.name})


async def on_contact(ctx: Context) -> list[Reply]:
    """The sender shared their own contact (the platform vouches for the number)."""
    if ctx.member is not None:
        return [Reply(ctx.t("join.already"))]
    bound = await bind_by_account(ctx)
    if bound is not None:
        return bound
    waiting = await pending_status(ctx)
    return [Reply(ctx.t("join.contact_no_match"))] + (waiting or [Reply(ctx.t("start.stranger"))])


async def _own_name(ctx: Context, _data: dict[str, Any]) -> list[Choice]:
    name = ctx.event.user_name.strip()
    return [Choice(ctx.t("join.its_me", name=name), name)] if 0 < len(name) <= 50 else []


async def finish(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    """The name given: a request for that roster row (or, not on the roster, to join as 党员)."""
    ev = ctx.event
    members = MemberRepository(ctx.session)
    if await members.by_identity(ev.platform, ev.user_id) is not None:
        return [Reply(ctx.t("join.already"))]
    waiting = await pending_status(ctx)
    if waiting is not None:
        return waiting
    org = await OrgRepository(ctx.session).get(data[ORG_ID])
    if org is None:
        return [Reply(ctx.t("join.bad_code"))]
    row = await members.roster_row(org.id, data["name"], ev.platform)
    if row is not None and await members.identity_on(row.id, ev.platform) is not None:
        ctx.enqueued |= await approval.tell_of_claim(
            ctx.t, ctx.session, row, platform=ev.platform, user_id=ev.user_id,
            display_name=ev.user_name, send_at=send_at(ctx)) > 0
        return [Reply(ctx.t("join.row_taken", name=row.name))]
    request = await JoinRequestRepository(ctx.session).add(
        org_id=org.id, member_id=row.id if row else None, name=data["name"], platform=ev.platform,
        user_id=ev.user_id, display_name=(ev.user_name or None) and ev.user_name[:100],
        username=_username(ctx))
    if request is None:  # made a moment ago (a second worker, a doubled message)
        return await pending_status(ctx) or [Reply(ctx.t("join.already"))]
    return await _asked(ctx, request, org, row)


def _username(ctx: Context) -> str | None:
    for account in ctx.event.accounts:
        if account.kind == AccountKind.telegram_username.value:
            return account.value[:USERNAME_MAX]
    return None


async def _asked(ctx: Context, request: JoinRequest, org: Organization, row: Member | None) -> list[Reply]:
    await audit(ctx.session, actor_id=None, action="request", entity=approval.ENTITY, entity_id=request.id,
                after=approval.snapshot(request))
    ctx.enqueued |= await approval.tell_approvers(ctx.t, ctx.session, request, row, send_at(ctx)) > 0
    has_phone = row is not None and AccountKind.phone in await AccountRepository(ctx.session).of(row.id)
    return [Reply(ctx.t("join.requested", name=request.name, org=org.name,
                        decider=approval.decider(ctx.t, row)),
                  share_contact=ctx.t("join.share_contact") if has_phone else None)]


JOIN = Dialog(
    name="join",
    title="join.title",
    steps=(name_step("name", "join.name", lambda data, t: t("join.ask_name", org=data["org_name"]),
                     max_len=50, choices=_own_name),),
    finish=finish,
    confirm=False,
)
