"""/meeting in-process on SQLite and PostgreSQL: who may record, forgiving time input, guests
credited in their own branch, deletion and edits moving credits (audited), a member's view and
dispute, a hand-logged session linked instead of counted twice, and the overlap kept as typed."""

from __future__ import annotations

from sqlalchemy import select

from bot.runtime.app import App
from handlers.core.i18n import DEFAULT_TEXTS as t
from storage.db import session_factory
from storage.models import (
    AuditLog,
    Meeting,
    Member,
    Organization,
    OutboxMessage,
    Role,
    StudyRecord,
)
from storage.repositories.members import MemberRepository
from tests.chat_driver import CoreChat
from tests.conftest import Branch
from tests.test_dialogs import rows, study_at_hours


async def _chats(app: App, branch: Branch) -> tuple[CoreChat, CoreChat, CoreChat]:
    """The secretary, 李娜 (a member) and 赵敏 of the second branch, each with an identity."""
    async with session_factory(app.engine)() as session, session.begin():
        members = MemberRepository(session)
        zhao = await members.add(branch.other, "赵敏")
        for member, user in ((branch.secretary, "s"), (branch.roster_only, "m"), (zhao, "g")):
            await members.bind(member, platform="test", user_id=user, display_name=None)
    return (CoreChat(app.core, "s", "王书记"), CoreChat(app.core, "m", "李娜"),
            CoreChat(app.core, "g", "赵敏"))


async def _fill(sec: CoreChat, kind: str) -> None:
    """/meeting up to its confirmation card."""
    await sec.say("/meeting")
    await sec.press(t("meeting.new"))
    await sec.press(kind)
    await sec.press("今天")
    await sec.say("16:00-14:30")
    assert t("meeting.bad_time") in sec.text and t("meeting.ask_time") in sec.text  # asked again
    await sec.say("下午2点半到4点")
    for answer in ("党员活动室", "学习《关于城市工作论述摘编》"):
        await sec.say(answer)
    await sec.press("王书记")
    await sec.press("王书记")
    await sec.press("跳过")
    await sec.say("领学、交流、总结")
    await sec.say("记录见附件")
    assert "起止时间：14:30-16:00" in sec.text


async def _record(sec: CoreChat, kind: str = "联组学习") -> None:
    await _fill(sec, kind)
    await sec.press("✅ 确认")
    assert "实到 2/应到 2" in sec.text


async def _log_by_hand(chat: CoreChat, hours: str, content: str) -> None:
    await study_at_hours(chat, "三会一课")
    await chat.press(hours)
    await chat.say(content)
    await chat.press("跳过")
    await chat.press("✅ 确认")


async def test_guests_deletion_and_permissions(app: App, branch: Branch) -> None:
    sec, lina, zhao = await _chats(app, branch)
    await lina.say("/meeting")
    assert lina.text == t("meeting.mine_none")  # a member records nothing, sees their own
    group = CoreChat(app.core, "s", "王书记", chat_id="-100", private=False)
    await group.say("/meeting")
    assert t("group.go_private") in group.text

    await _record(sec)
    await sec.press(t("meeting.add_guest"))
    await sec.press("机关第二党支部")
    await sec.press("赵敏")
    assert "✅ 赵敏" in sec.labels and "实到 2/应到 2，列席 1" in sec.text
    await sec.press("完成")
    office = CoreChat(app.core, "o", "局办公室")
    async with session_factory(app.engine)() as session, session.begin():
        members = MemberRepository(session)
        staff = await members.add(await session.get(Organization, branch.org.parent_id), "局办公室",
                                  Role.office)
        await members.bind(staff, platform="test", user_id="o", display_name=None)
    await office.say("/summary all 本月")
    assert t("meeting.spot_head") in office.text
    assert "· 机关第一党支部 " in office.text and "联组学习 1/1" in office.text
    credits = await rows(app, StudyRecord, StudyRecord.deleted_at.is_(None))
    assert sorted((c.org_id, c.minutes, c.form) for c in credits) == sorted(
        [(branch.org.id, 90, "联组学习")] * 2 + [(branch.other.id, 90, "联组学习")])

    await lina.say("/meeting")
    assert "1.5 小时" in lina.text
    await lina.press("1")
    await lina.say("我只参加了前半场")
    assert lina.text.endswith(t("meeting.dispute_sent"))
    (dispute,) = [m for m in await rows(app, OutboxMessage, OutboxMessage.chat_id == "s")
                  if "有异议" in m.payload["text"]]
    assert "李娜" in dispute.payload["text"] and "前半场" in dispute.payload["text"]
    await lina.say("/mine")
    await lina.press("1")  # a credit opens to no action: it follows its meeting
    assert lina.text.endswith(t("meeting.credit_locked"))

    await sec.say("/meeting")
    await sec.press("1")
    await sec.press(t("meeting.action_delete"))
    await sec.press(t("mine.delete_yes"))
    assert sec.text.endswith(t("meeting.deleted", count=3))
    assert await rows(app, StudyRecord, StudyRecord.deleted_at.is_(None)) == []
    audit = await rows(app, AuditLog, AuditLog.action == "delete")
    assert sorted(a.entity for a in audit) == ["meeting"] + ["study"] * 3
    removed = await rows(app, OutboxMessage, OutboxMessage.chat_id == "g")
    assert any("已撤销" in m.payload["text"] for m in removed)


async def test_a_session_is_never_counted_twice(app: App, branch: Branch) -> None:
    sec, lina, _ = await _chats(app, branch)
    async with session_factory(app.engine)() as session, session.begin():
        (member,) = await session.scalars(select(Member).where(Member.name == "王书记"))
        member.role = Role.committee  # a committee member records too
    # 李娜 logged the session herself before the secretary recorded it: hers becomes the credit
    await _log_by_hand(lina, "1小时", "我的学习笔记")
    await _record(sec, "支部党员大会")
    mine = await rows(app, StudyRecord, StudyRecord.deleted_at.is_(None),
                      StudyRecord.content == "我的学习笔记")
    assert [(r.meeting_id is not None, r.minutes) for r in mine] == [(True, 90)]
    assert len(await rows(app, StudyRecord, StudyRecord.deleted_at.is_(None))) == 2
    await sec.press("完成")
    (note,) = await rows(app, OutboxMessage, OutboxMessage.chat_id == "m")
    assert "合并为一条" in note.payload["text"] and "1.5 小时" in note.payload["text"]

    # logged again by hand afterwards: asked, and keeping her own replaces the credit
    await _log_by_hand(lina, "2小时", "会后补充的心得")
    assert "重复" in lina.text
    await lina.press(t("study.keep_mine"))
    assert lina.text.endswith(t("study.overlap_kept_mine"))
    kept = await rows(app, StudyRecord, StudyRecord.deleted_at.is_(None),
                      StudyRecord.member_id == branch.roster_only.id)
    assert [(r.content, r.minutes, r.meeting_id is not None) for r in kept] == [
        ("会后补充的心得", 90, True)]

    # the same session recorded again: the recorder is asked, and nothing is credited twice
    await _fill(sec, "支部党员大会")
    await sec.press("✅ 确认")
    assert "同一时段已记录了" in sec.text
    await sec.press(t("meeting.overlap_drop"))
    assert sec.text.endswith(t("meeting.overlap_dropped"))
    assert len(await rows(app, Meeting)) == 1
