"""storage.queries.sender on SQLite and PostgreSQL: the member and the dialog state of a platform
user in one statement, each found without the other."""

from __future__ import annotations

from datetime import timedelta

from storage.db import create_engine, session_factory
from storage.models import OrgKind
from storage.queries.sender import sender
from storage.repositories.dialogs import DialogRepository
from storage.repositories.members import MemberRepository
from storage.repositories.orgs import OrgRepository
from storage.types import utcnow


async def test_member_and_state_each_with_or_without_the_other(db_url: str) -> None:
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            org = await OrgRepository(session).add("机关第一党支部", kind=OrgKind.branch, books=["《选读》"])
            members = MemberRepository(session)
            li = await members.add(org, "李娜")
            await members.bind(li, platform="telegram", user_id="1", display_name=None)
            wang = await members.add(org, "王建国")
            await members.bind(wang, platform="telegram", user_id="2", display_name=None)
            gone = await members.add(org, "张伟")
            await members.bind(gone, platform="telegram", user_id="3", display_name=None)
            gone.active = False
            dialogs = DialogRepository(session)
            expires = utcnow() + timedelta(hours=1)
            for user in ("1", "3", "9"):  # a member, one no longer active, someone not bound
                await dialogs.put("telegram", user, dialog="study", step="form",
                                  data={"form": "自学"}, expires_at=expires, offered=[{"s": "1"}])
        async with sessions() as session:
            member, state = await sender(session, "telegram", "1")
            assert member is not None and member.name == "李娜" and member.org.required_books == ["《选读》"]
            assert state is not None and (state.dialog, state.step, state.data, state.offered) == (
                "study", "form", {"form": "自学"}, [{"s": "1"}])
            assert state.expires_at == expires
            member, state = await sender(session, "telegram", "2")
            assert member is not None and member.name == "王建国" and state is None
            member, state = await sender(session, "telegram", "3")
            assert member is None and state is not None  # no member any more: their state stays theirs
            member, state = await sender(session, "telegram", "9")
            assert member is None and state is not None and state.user_id == "9"
            assert await sender(session, "telegram", "404") == (None, None)
            assert (await sender(session, "wecom", "1")) == (None, None)  # another platform's user 1
    finally:
        await engine.dispose()
