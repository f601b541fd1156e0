"""Joining in tests that run the core in-process (no platform vouches for an account there): a
join is a request, approved as the operator approves one (``branchbot member approve``)."""

from __future__ import annotations

from sqlalchemy import select

from bot.runtime.app import App
from handlers.core.i18n import DEFAULT_TEXTS as t
from handlers.membership.approval import decide, send_time
from storage.db import session_factory
from storage.models import Member, Organization, OutboxMessage, Role
from storage.repositories.join_requests import JoinRequestRepository
from storage.repositories.members import MemberRepository
from storage.types import utcnow
from tests.chat_driver import CoreChat
from tests.conftest import Branch


async def approve(app: App, user_id: str, platform: str = "test", *, yes: bool = True) -> str:
    """Decide the account's pending request as the operator; what the decision said."""
    async with session_factory(app.engine)() as session, session.begin():
        request = await JoinRequestRepository(session).open_for(platform, user_id)
        assert request is not None, f"no pending request of {platform} {user_id}"
        now = utcnow()
        decided = await decide(t, session, request, approve=yes, by=None, now=now,
                               send_at=send_time(app.core.config, now))
    return decided.text


async def told(app: App, chat_id: str) -> list[str]:
    """What the outbox holds for a private chat, oldest first."""
    async with session_factory(app.engine)() as session:
        return [m.payload["text"] for m in await session.scalars(
            select(OutboxMessage).where(OutboxMessage.chat_id == chat_id).order_by(OutboxMessage.id))]


async def join_approved(app: App, code: str | None, user_id: str, name: str,
                        org: str | None = None) -> CoreChat:
    """Open the invite, give ``name`` (the button with the platform's name, or typed), and have
    the request approved; the member is told they have joined."""
    chat = CoreChat(app.core, user_id, name)
    await chat.say(f"/start {code}")
    assert "请确认你的真实姓名" in chat.text
    if f"我是 {name}" in chat.labels:
        await chat.press(f"我是 {name}")
    else:
        await chat.say(name)
    joining = f"“{org}”" if org else "“"
    assert f"已提交申请：以“{name}”加入{joining}" in chat.text
    assert "已同意" in await approve(app, user_id)
    assert any(f"{name}，你已加入{joining}" in text for text in await told(app, user_id))
    return chat


async def bound_chat(app: App, member: Member, user_id: str, platform: str = "test") -> CoreChat:
    """A chat of a member the operator bound (as the demo data and ``chat --as`` do)."""
    async with session_factory(app.engine)() as session, session.begin():
        await MemberRepository(session).bind(member, platform=platform, user_id=user_id,
                                             display_name=member.name)
    return CoreChat(app.core, user_id, member.name, platform=platform)


async def add_member(app: App, org_id: int, name: str, role: Role = Role.member) -> Member:
    async with session_factory(app.engine)() as session, session.begin():
        org = await session.get(Organization, org_id)
        assert org is not None
        return await MemberRepository(session).add(org, name, role)


async def office_member(app: App, branch: Branch, name: str = "马主任") -> Member:
    """Someone of the campaign office (in the bureau above the branches)."""
    assert branch.org.parent_id is not None
    return await add_member(app, branch.org.parent_id, name, Role.office)
