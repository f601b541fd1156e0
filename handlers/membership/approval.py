"""Join requests: asked, heard by the approvers (privately, on every platform they use, with
同意 / 拒绝), decided once (the button, /pending, or ``branchbot member approve|reject``), and the
person told. Until a request is approved its identity is bound to nobody, so it has no role.

Who decides: the branch's secretary for its 党员 and for names not on the roster (the office
when the branch has no secretary on any platform yet); the office for rows with the role 支部书记,
支委 or 办公室 (``handlers.core.policy.approves_join``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from handlers.core.buttons import JoinDecision
from handlers.core.context import CoreConfig
from handlers.core.events import Button, payload
from handlers.core.i18n import Translator
from handlers.core.policy import office_approves
from handlers.schedule.times import after_quiet_hours
from storage.db import Session
from storage.models import JoinRequest, JoinStatus, Member, Organization, Role
from storage.repositories.accounts import AccountRepository
from storage.repositories.audit import audit
from storage.repositories.join_requests import JoinRequestRepository, approvers
from storage.repositories.members import MemberRepository
from storage.repositories.orgs import OrgRepository
from storage.repositories.outbox import OutboxRepository, Planned
from storage.vocabulary import ROLE_NAMES

ENTITY = "join_request"
ROLE_SHOWN = {role: name for name, role in ROLE_NAMES.items()}
PLATFORM_NAMES = {"telegram": "join.platform_telegram", "wecom": "join.platform_wecom",
                  "wecom_bot": "join.platform_wecom_bot",
                  "console": "join.platform_console", "dingtalk": "join.platform_dingtalk",
                  "feishu": "join.platform_feishu"}
STATUS_SHOWN = {JoinStatus.pending: "join.status_pending", JoinStatus.approved: "join.status_approved",
                JoinStatus.rejected: "join.status_rejected",
                JoinStatus.superseded: "join.status_superseded"}


def send_time(config: CoreConfig, now: datetime) -> datetime:
    """When what joining tells someone goes out: now, or after the quiet hours."""
    return after_quiet_hours(now, config.tz, config.quiet_start, config.quiet_end)


def platform_name(t: Translator, platform: str) -> str:
    key = PLATFORM_NAMES.get(platform)
    return t(key) if key else platform


def applicant(t: Translator, request: JoinRequest) -> str:
    """Who asks, as the approver reads it: the platform's display name and account."""
    account = request.platform_user_id + (f" @{request.username}" if request.username else "")
    return t("join.applicant", name=request.display_name or "—",
             platform=platform_name(t, request.platform), account=account)


def decider(t: Translator, row: Member | None) -> str:
    return t("join.decider_office" if office_approves(row.role if row else None)
             else "join.decider_secretary")


def snapshot(request: JoinRequest) -> dict[str, object]:
    return {"org_id": request.org_id, "member_id": request.member_id, "name": request.name,
            "platform": request.platform, "platform_user_id": request.platform_user_id,
            "display_name": request.display_name, "username": request.username,
            "status": request.status.value}


async def _asking_text(t: Translator, session: Session, request: JoinRequest, org: Organization,
                       row: Member | None) -> str:
    who = applicant(t, request)
    if row is None:
        return t("join.ask_decide_new", org=org.name, who=who, name=request.name)
    registered = await AccountRepository(session).of(row.id)
    note = t("join.note_accounts", kinds="、".join(t(f"join.kind_{kind.value}") for kind in registered)) \
        if registered else ""
    return t("join.ask_decide", org=org.name, who=who, name=row.name, role=ROLE_SHOWN[row.role],
             note=note)


async def listing_line(t: Translator, session: Session, request: JoinRequest,
                       config: CoreConfig) -> str:
    """A pending request as ``branchbot member pending`` lists it."""
    org = await OrgRepository(session).get(request.org_id)
    row = await MemberRepository(session).get(request.member_id) if request.member_id else None
    return t("join.listing", id=request.id, org=org.name if org else "—", who=applicant(t, request),
             name=request.name,
             row=t("join.listing_row", role=ROLE_SHOWN[row.role]) if row else t("join.listing_new"),
             decider=decider(t, row),
             at=request.created_at.astimezone(config.tz).strftime("%Y-%m-%d %H:%M"))


def decision_buttons(t: Translator, request_id: int) -> tuple[tuple[Button, ...], ...]:
    return ((Button(t("join.approve"), data=JoinDecision(request_id, True).pack()),
             Button(t("join.reject"), data=JoinDecision(request_id, False).pack())),)


async def asking_message(t: Translator, session: Session,
                         request: JoinRequest) -> tuple[str, tuple[tuple[Button, ...], ...]]:
    """The request as its approvers read it, with 同意 / 拒绝."""
    org = await OrgRepository(session).get(request.org_id)
    assert org is not None
    row = await MemberRepository(session).get(request.member_id) if request.member_id else None
    return await _asking_text(t, session, request, org, row), decision_buttons(t, request.id)


async def tell_approvers(t: Translator, session: Session, request: JoinRequest, row: Member | None,
                         send_at: datetime) -> int:
    """Put the request in the outbox for each of its approvers, on each of their platforms."""
    text, buttons = await asking_message(t, session, request)
    planned = [Planned(f"join_request:{request.id}:{to.member_id}:{to.platform}", "join_request",
                       to.platform, to.chat_id, payload(text, buttons), send_at, False, to.org_id,
                       to.member_id)
               for to in await approvers(session, request.org_id,
                                         office_only=office_approves(row.role if row else None))]
    return await OutboxRepository(session).enqueue(planned)


async def tell_of_claim(t: Translator, session: Session, row: Member, *, platform: str,
                        user_id: str, display_name: str | None, send_at: datetime) -> int:
    """Someone tried to claim a roster row already bound on their platform: its approvers hear
    of it once per (row, account), and the attempt is audited."""
    await audit(session, actor_id=None, action="claim_refused", entity="member", entity_id=row.id,
                after={"platform": platform, "platform_user_id": user_id, "display_name": display_name})
    org = await OrgRepository(session).get(row.org_id)
    assert org is not None
    account = t("join.applicant", name=display_name or "—", platform=platform_name(t, platform),
                account=user_id)
    text = t("join.claim_attempt", name=row.name, org=org.name, who=account)
    planned = [Planned(f"join_claim:{row.id}:{platform}:{user_id}:{to.member_id}:{to.platform}",
                       "join_claim", to.platform, to.chat_id, payload(text), send_at, False,
                       to.org_id, to.member_id)
               for to in await approvers(session, row.org_id, office_only=office_approves(row.role))]
    return await OutboxRepository(session).enqueue(planned)


def _to_requester(request: JoinRequest, kind: str, text: str, send_at: datetime,
                  member_id: int | None) -> Planned:
    return Planned(f"join_{kind}:{request.id}", f"join_{kind}", request.platform,
                   request.platform_user_id, payload(text), send_at, False, request.org_id, member_id)


async def _bound_member(session: Session, org: Organization, request: JoinRequest) -> Member | None:
    """The member ``request``'s account is now bound to: its roster row, or for a name not on
    the roster a new 党员; None when the row is gone or claimed on the platform, or the account
    is bound already."""
    members = MemberRepository(session)
    if request.member_id is not None:
        row = await members.get(request.member_id)
        if row is None or not row.active:
            return None
        return row if await members.bind_if_free(
            row.id, platform=request.platform, user_id=request.platform_user_id,
            display_name=request.display_name) else None
    if await members.by_identity(request.platform, request.platform_user_id) is not None:
        return None
    member = await members.add(org, request.name, Role.member)
    if await members.bind_if_free(member.id, platform=request.platform,
                                  user_id=request.platform_user_id, display_name=request.display_name):
        return member
    await members.remove_unbound(member)  # bound elsewhere a moment ago: no orphan roster row
    return None


@dataclass(frozen=True)
class Decided:
    """What deciding did: ``text`` tells the approver; ``enqueued``: someone is to be told."""

    text: str
    enqueued: bool = False


async def decide(t: Translator, session: Session, request: JoinRequest, *, approve: bool,
                 by: Member | None, now: datetime, send_at: datetime) -> Decided:
    """Approve or reject ``request`` once: the conditional update settles two approvers (or a
    doubled tap); approving binds the identity only if the row is still unclaimed on the
    platform and the account still unbound (unique constraints), else the request is void.
    The caller checked that ``by`` may decide (``by`` None: the operator)."""
    repo = JoinRequestRepository(session)
    org = await OrgRepository(session).get(request.org_id)
    assert org is not None
    who = applicant(t, request)
    status = JoinStatus.approved if approve else JoinStatus.rejected
    if not await repo.decide(request.id, status, by_id=by.id if by else None, at=now):
        await session.refresh(request)
        return Decided(t("join.decided_already", status=t(STATUS_SHOWN[request.status])))
    before = {**snapshot(request), "status": JoinStatus.pending.value}
    outbox = OutboxRepository(session)
    actor = by.id if by else None
    if not approve:
        await audit(session, actor_id=actor, action="reject", entity=ENTITY, entity_id=request.id,
                    before=before, after=snapshot(request))
        added = await outbox.enqueue([_to_requester(request, "rejected", t(
            "join.rejected_notice", name=request.name, org=org.name), send_at, None)])
        return Decided(t("join.decided_rejected", who=who, name=request.name, org=org.name), added > 0)
    member = await _bound_member(session, org, request)
    if member is None:
        await repo.settle(request.id, JoinStatus.superseded)
        await session.refresh(request)
        await audit(session, actor_id=actor, action="void", entity=ENTITY, entity_id=request.id,
                    before=before, after=snapshot(request))
        added = await outbox.enqueue([_to_requester(request, "superseded", t(
            "join.superseded_notice", name=request.name), send_at, None)])
        return Decided(t("join.decided_taken", name=request.name), added > 0)
    assert member is not None
    await audit(session, actor_id=actor, action="approve", entity=ENTITY, entity_id=request.id,
                before=before, after={**snapshot(request), "member_id": member.id})
    planned = [_to_requester(request, "approved", t("join.approved_notice", name=member.name,
                                                    org=org.name), send_at, member.id)]
    for other in await repo.others_for_row(member.id, request.platform, request.id):
        await repo.settle(other.id, JoinStatus.superseded)
        await audit(session, actor_id=actor, action="void", entity=ENTITY, entity_id=other.id,
                    before=snapshot(other), after={**snapshot(other), "status": JoinStatus.superseded.value})
        planned.append(_to_requester(other, "superseded", t("join.superseded_notice", name=other.name),
                                     send_at, None))
    added = await outbox.enqueue(planned)
    return Decided(t("join.decided_approved", who=who, name=member.name, org=org.name), added > 0)
