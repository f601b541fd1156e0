"""Meetings as the rules have them (issue 13, item 1), through /meeting as a secretary, a 支委
and the office would use it, on SQLite and PostgreSQL: who is expected by type (支委会: the
committee; 党小组会: one 党小组 from the roster's column; the rest: every member), hours credited
by a 支委会 or 党小组会 only with a study item, guests as 列席 outside 应到, the office choosing the
branch (/meeting and /schedule), the card's 四必有 warning before 确认, the 支委 among the name
buttons, no 补课补学 line without absentees; and the bad inputs (an unknown 党小组, a typed kind,
a 党小组 emptied from the roster)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from bot.runtime.app import App
from handlers.core.i18n import DEFAULT_TEXTS as t
from handlers.membership.roster import RosterError, import_roster
from storage.db import session_factory
from storage.models import (
    Meeting,
    Member,
    Organization,
    OutboxMessage,
    Role,
    ShuxueSchedule,
    StudyRecord,
)
from storage.queries.org_life import meeting_rows
from storage.queries.scope import DateRange, Scope
from storage.repositories.meetings import MeetingRepository
from storage.repositories.members import MemberRepository
from tests.chat_driver import CoreChat
from tests.conftest import Branch
from tests.test_dialogs import rows

ROSTER = """姓名,支部,角色,党小组
王书记,机关第一党支部,支部书记,第一党小组
张伟,机关第一党支部,支委,第一党小组
李娜,机关第一党支部,党员,第一党小组
刘洋,机关第一党支部,党员,第二党小组
陈静,机关第一党支部,党员,第二党小组
杨帆,机关第一党支部,党员,
"""
PEOPLE = {"王书记": "s", "张伟": "c", "李娜": "m", "刘洋": "l", "陈静": "j", "杨帆": "y"}


async def _branch_with_groups(app: App, branch: Branch, tmp_path: Path) -> dict[str, CoreChat]:
    """The roster (with its 党小组 column) imported, and everyone joined; 赵敏 of the second
    branch and the office too."""
    roster = tmp_path / "名册.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    async with session_factory(app.engine)() as session, session.begin():
        assert await import_roster(t, session, roster) == 4  # 王书记 and 李娜 were there
        members = MemberRepository(session)
        for name, user in PEOPLE.items():
            (member,) = await members.by_name(name)
            await members.bind(member, platform="test", user_id=user, display_name=None)
        zhao = await members.add(branch.other, "赵敏")
        await members.bind(zhao, platform="test", user_id="g", display_name=None)
        office = await members.add(await session.get(Organization, branch.org.parent_id), "马主任",
                                   Role.office)
        await members.bind(office, platform="test", user_id="o", display_name=None)
    chats = {name: CoreChat(app.core, user, name) for name, user in PEOPLE.items()}
    chats["赵敏"] = CoreChat(app.core, "g", "赵敏")
    chats["马主任"] = CoreChat(app.core, "o", "马主任")
    return chats


async def _fill(chat: CoreChat, kind: str, *, study: str | None = None, full: bool = True,
                host: str = "王书记") -> list[str]:
    """/meeting → 记录新会议 → … up to the confirmation card (``full``: every 四必有 item);
    returns the name buttons the host step offered."""
    await chat.say("/meeting")
    await chat.press(t("meeting.new"))
    await chat.press(kind)
    await chat.press("今天")
    await chat.say("14:30-16:30")
    await chat.say("党员活动室")
    await chat.say("学习贯彻党的二十大精神")
    if study is not None:
        assert t("meeting.ask_study_item") in chat.text
        await (chat.say(study) if study else chat.press("跳过"))
    names = chat.labels
    await chat.press(host)
    await chat.press(host)
    await chat.press("跳过")
    if full:
        await chat.say("1.传达学习 2.交流发言 3.总结")
        await chat.say("记录见附件")
    else:
        await chat.press("跳过")
        await chat.press("跳过")
    return names


async def _seated(app: App, meeting_id: int) -> list[tuple[str, bool, bool]]:
    async with session_factory(app.engine)() as session:
        seats = await MeetingRepository(session).seats(meeting_id)
    return [(s.name, s.present, s.guest) for s in seats]


async def _credited(app: App) -> list[str]:
    credits = await rows(app, StudyRecord, StudyRecord.meeting_id.is_not(None),
                         StudyRecord.deleted_at.is_(None))
    names = {m.id: m.name for m in await rows(app, Member)}
    return sorted(names[c.member_id] for c in credits)


async def _meeting(app: App) -> Meeting:
    return (await rows(app, Meeting, Meeting.deleted_at.is_(None)))[-1]


async def test_a_committee_meeting_is_the_committee_and_credits_only_with_study(
        app: App, branch: Branch, tmp_path: Path) -> None:
    chats = await _branch_with_groups(app, branch, tmp_path)
    sec = chats["王书记"]
    names = await _fill(sec, "支委会", study="")
    assert names[:2] == ["王书记", "张伟"]  # the recorder, then the branch's 支委
    assert t("meeting.no_credit") in sec.text and t("meeting.musts_ok") in sec.text  # before 确认
    await sec.press("✅ 确认")
    assert "实到 2/应到 2" in sec.text and t("meeting.saved", expected=2) in sec.text
    meeting = await _meeting(app)
    assert await _seated(app, meeting.id) == [("王书记", True, False), ("张伟", True, False)]
    await sec.press("✅ 张伟")
    await sec.press("公差")
    await sec.press("完成")
    assert t("meeting.no_credit") in sec.text
    assert t("meeting.told_makeups") not in sec.text and t("meeting.told_credits") not in sec.text
    assert await _credited(app) == []
    notes = await rows(app, OutboxMessage, OutboxMessage.kind == "meeting")
    assert not any("补课补学" in n.payload["text"] or "已为你记录" in n.payload["text"] for n in notes)
    async with session_factory(app.engine)() as session:  # nothing to make up: no study item
        (zhang,) = await MemberRepository(session).by_name("张伟")
        assert await MeetingRepository(session).pending_makeups(zhang.id) == []
        assert await MeetingRepository(session).absentees_since(date(2000, 1, 1)) == []

    # with a 第一议题: the committee is credited, and an ordinary member of the branch may 列席
    zhang = chats["张伟"]  # a 支委 records too
    await _fill(zhang, "支委会", study="第一议题：习近平总书记最新重要讲话", host="张伟")
    assert t("meeting.no_credit") not in zhang.text
    await zhang.press("✅ 确认")
    assert "同一时段已记录了" in zhang.text
    await zhang.press(t("meeting.overlap_save"))
    await zhang.press(t("meeting.add_guest"))
    assert zhang.labels[0] == "机关第一党支部"  # the branch's own first: some of it are not listed
    await zhang.press("机关第一党支部")
    assert "李娜" in zhang.labels and "王书记" not in zhang.labels
    await zhang.press("李娜")
    assert "实到 2/应到 2，列席 1" in zhang.text
    await zhang.press("完成")
    assert t("meeting.told_credits") in zhang.text and t("meeting.told_makeups") not in zhang.text
    assert await _credited(app) == ["张伟", "李娜", "王书记"]
    credit = (await rows(app, StudyRecord, StudyRecord.meeting_id.is_not(None)))[0]
    assert credit.content == "第一议题：习近平总书记最新重要讲话" and credit.form == "三会一课"
    await zhang.say("/meeting")
    await zhang.press("1")
    assert "学习内容：第一议题" in zhang.text and "列席：李娜" in zhang.text


async def test_a_party_group_meeting_is_one_party_group(app: App, branch: Branch,
                                                        tmp_path: Path) -> None:
    chats = await _branch_with_groups(app, branch, tmp_path)
    sec = chats["王书记"]
    await sec.say("/meeting")
    await sec.press(t("meeting.new"))
    assert {"党小组会（第一党小组）", "党小组会（第二党小组）"} <= set(sec.labels)
    assert "党小组会" not in sec.labels
    await sec.say("党小组会（第三党小组）")
    assert t("meeting.unknown_party_group", group="第三党小组") in sec.text
    assert t("meeting.ask_kind") in sec.text  # the same question again
    await sec.say("党小组会")
    assert t("meeting.pick_party_group") in sec.text
    await sec.say("座谈会")
    assert t("meeting.bad_kind") in sec.text
    await sec.say("党小组会（第二党小组）")  # typed as the button reads
    await sec.press("今天")
    await sec.say("9:00-10:30")
    await sec.say("二楼会议室")
    await sec.say("交流学习体会")
    await sec.say("《习近平著作选读》第一卷")
    await sec.press("王书记")
    await sec.press("王书记")
    await sec.press("跳过")
    await sec.press("跳过")
    await sec.press("跳过")
    assert "会议类型：党小组会（第二党小组）" in sec.text
    assert t("meeting.musts_missing", missing="程序、记录") in sec.text  # warned before 确认
    await sec.press("✅ 确认")
    assert "实到 2/应到 2" in sec.text
    meeting = await _meeting(app)
    assert meeting.party_group == "第二党小组" and meeting.study_item == "《习近平著作选读》第一卷"
    assert [name for name, *_ in await _seated(app, meeting.id)] == ["刘洋", "陈静"]
    await sec.press("完成")
    assert await _credited(app) == ["刘洋", "陈静"]

    # the roster no longer has anyone in 第二党小组: saving an edit is refused, nothing changes
    async with session_factory(app.engine)() as session, session.begin():
        for member in await session.scalars(select(Member).where(Member.party_group == "第二党小组")):
            member.party_group = "第一党小组"
    await sec.say("/meeting")
    await sec.press("1")
    await sec.press(t("meeting.action_edit"))
    await sec.press("✅ 确认")
    assert sec.text.endswith(t("meeting.party_group_empty", group="第二党小组"))
    assert await _credited(app) == ["刘洋", "陈静"]


async def test_without_party_groups_there_is_no_party_group_meeting(app: App, branch: Branch) -> None:
    async with session_factory(app.engine)() as session, session.begin():
        await MemberRepository(session).bind(branch.secretary, platform="test", user_id="s",
                                             display_name=None)
    sec = CoreChat(app.core, "s", "王书记")
    await sec.say("/meeting")
    await sec.press(t("meeting.new"))
    assert not any(label.startswith("党小组会") for label in sec.labels)
    await sec.say("党小组会")
    assert t("meeting.pick_party_group") in sec.text and t("meeting.ask_kind") in sec.text


async def test_guests_are_listed_never_expected(app: App, branch: Branch, tmp_path: Path) -> None:
    chats = await _branch_with_groups(app, branch, tmp_path)
    sec = chats["王书记"]
    await _fill(sec, "联组学习")
    await sec.press("✅ 确认")
    for name, reason in (("刘洋", "病假"), ("陈静", "事假")):
        await sec.press(f"✅ {name}")
        await sec.press(reason)
    await sec.press(t("meeting.add_guest"))
    assert sec.labels[0] == "机关第二党支部"  # the whole branch is listed: no own-branch choice
    await sec.press("机关第二党支部")
    await sec.press("赵敏")
    assert "实到 4/应到 6，列席 1" in sec.text
    await sec.press("完成")
    assert "实到 4/应到 6，列席 1，出席 4 人，缺席 2 人" in sec.text
    assert t("meeting.told_makeups") in sec.text
    meeting = await _meeting(app)
    found = [row async for chunk in meeting_rows(session_factory(app.engine), Scope(None),
                                                 DateRange(meeting.day, meeting.day))
             for row in chunk]
    assert [(r.present, r.expected, r.guests, len(r.absent)) for r in found] == [(4, 6, 1, 2)]
    await sec.say("/meeting")
    assert "实到 4/应到 6，列席 1" in sec.text
    assert len(await _credited(app)) == 5  # the guest is credited, in their own branch

    # everyone there: no 补课补学 line
    await _fill(sec, "主题党日")
    await sec.press("✅ 确认")
    await sec.press(t("meeting.overlap_save"))
    await sec.press("完成")
    assert t("meeting.told_credits") in sec.text and t("meeting.told_makeups") not in sec.text


async def test_changing_the_type_moves_the_seats_and_the_credits(app: App, branch: Branch,
                                                                tmp_path: Path) -> None:
    chats = await _branch_with_groups(app, branch, tmp_path)
    sec = chats["王书记"]
    await _fill(sec, "支部党员大会")
    await sec.press("✅ 确认")
    await sec.press("完成")
    assert len(await _credited(app)) == 6
    await sec.say("/meeting")
    await sec.press("1")
    await sec.press(t("meeting.action_edit"))
    await sec.press("✏️ 修改")
    await sec.press(t("meeting.kind"))
    await sec.press("支委会")
    assert "学习内容：" in sec.text and t("meeting.no_credit") in sec.text  # the new field shows
    await sec.press("✏️ 修改")
    await sec.press(t("meeting.study_item"))
    await sec.say("第一议题")
    await sec.press("✅ 确认")
    assert t("meeting.updated", changed=4).split("\n")[0] in sec.text
    meeting = await _meeting(app)
    assert [name for name, *_ in await _seated(app, meeting.id)] == ["王书记", "张伟"]
    assert await _credited(app) == ["张伟", "王书记"]
    told = await rows(app, OutboxMessage, OutboxMessage.chat_id == "y")
    assert any("学时已撤销" in m.payload["text"] for m in told)


async def test_the_lecturer_is_a_member_when_the_name_is_one(app: App, branch: Branch,
                                                             tmp_path: Path) -> None:
    chats = await _branch_with_groups(app, branch, tmp_path)
    sec = chats["王书记"]
    await sec.say("/meeting")
    await sec.press(t("meeting.new"))
    await sec.press("党课")
    await sec.press("今天")
    await sec.say("14:30-16:30")
    await sec.say("党员活动室")
    await sec.say("书记讲党课")
    await sec.press("王书记")
    await sec.press("张伟")
    assert "王书记" in sec.labels and "张伟" in sec.labels  # the lecturer's buttons
    await sec.press("王书记")
    await sec.press("跳过")
    await sec.press("跳过")
    await sec.press("✅ 确认")
    meeting = await _meeting(app)
    assert (meeting.lecturer, meeting.lecturer_id) == ("王书记", branch.secretary.id)


async def test_the_office_records_for_a_branch_and_sets_its_schedule(app: App, branch: Branch,
                                                                    tmp_path: Path) -> None:
    chats = await _branch_with_groups(app, branch, tmp_path)
    office = chats["马主任"]
    await office.say("/meeting")
    await office.press(t("meeting.new"))
    assert t("meeting.ask_branch") in office.text
    assert office.labels[:2] == ["机关第一党支部", "机关第二党支部"]
    await office.press("机关第一党支部")
    await office.press("支部党员大会")
    await office.press("今天")
    await office.say("14:30-16:30")
    await office.say("党员活动室")
    await office.say("学习贯彻党的二十大精神")
    assert office.labels[:2] == ["王书记", "张伟"] and "马主任" in office.labels  # the branch's 支委
    await office.press("王书记")
    await office.press("张伟")
    await office.press("跳过")
    await office.press("跳过")
    await office.press("跳过")
    assert "支部：机关第一党支部" in office.text
    await office.press("✅ 确认")
    assert "实到 6/应到 6" in office.text
    meeting = await _meeting(app)
    assert meeting.org_id == branch.org.id
    await office.press("完成")
    await office.say("/meeting")
    assert "机关第一党支部 " in office.text  # the office's list names the branch
    await office.say("/summary 机关第一党支部 本月")
    assert "支部党员大会 0/1" in office.text  # it counts in the branch's spot check
    credits = await rows(app, StudyRecord, StudyRecord.meeting_id == meeting.id)
    assert {c.org_id for c in credits} == {branch.org.id} and len(credits) == 6

    # /schedule: the office says which branch, and sets that branch's rhythm
    await office.say("/schedule")
    assert t("schedule.ask_branch") in office.text
    await office.press("机关第二党支部")
    assert "【机关第二党支部】" in office.text and t("schedule.default") in office.text
    await office.press("周三")
    await office.press("14:30")
    await office.press(t("schedule.biweekly"))
    await office.press(t("schedule.remind_next_evening"))
    await office.press("✅ 确认")
    (schedule,) = await rows(app, ShuxueSchedule)
    assert (schedule.org_id, schedule.weekday, schedule.time, schedule.every_weeks) == (
        branch.other.id, 2, "14:30", 2)

    # a secretary still sets their own branch's only, with no branch step
    sec = chats["王书记"]
    await sec.say("/schedule")
    assert t("schedule.ask_branch") not in sec.text and t("schedule.ask_weekday") in sec.text
    member = chats["李娜"]
    await member.say("/schedule")
    assert t("schedule.only_secretary") in member.text


async def test_a_roster_with_an_overlong_party_group_is_refused(app: App, branch: Branch,
                                                               tmp_path: Path) -> None:
    roster = tmp_path / "名册.csv"
    roster.write_text("姓名,支部,角色,党小组\n刘洋,机关第一党支部,党员," + "长" * 51 + "\n",
                      encoding="utf-8")
    async with session_factory(app.engine)() as session:
        try:
            await import_roster(t, session, roster)
        except RosterError as error:
            assert error.problems == [t("roster.bad_party_group", line=2, max=50)]
        else:
            raise AssertionError("an overlong 党小组 was accepted")
    assert [m.name for m in await rows(app, Member)] == ["王书记", "李娜"]
    # a roster without the column leaves the 党小组 as they are
    roster.write_text(ROSTER, encoding="utf-8")
    async with session_factory(app.engine)() as session, session.begin():
        await import_roster(t, session, roster)
    roster.write_text("姓名,支部,角色\n李娜,机关第一党支部,党员\n", encoding="utf-8")
    async with session_factory(app.engine)() as session, session.begin():
        await import_roster(t, session, roster)
    (lina,) = await rows(app, Member, Member.name == "李娜")
    assert lina.party_group == "第一党小组"
