"""A sample bureau for trying the bot: branches (one with 党小组), members, a month of records,
organization life (a 支委会 with a 第一议题 and one without, a 联组学习 with 列席 guests, the
secretary's 党课 with an absentee, a 支部党员大会 without its record and a make-up) and the campaign's
dates and coming milestones in its calendar; what the office's papers count: 结对居村 with visits,
调研课题 with their owners and research trips, 读书班 days (one a half day), 中心组学习, 述学 from
before the bot (imported as the office imports a sheet) and after; problems along their lifecycle.

Its members are bound on the console by the demo data itself (the operator binding roster rows,
as ``branchbot chat --as`` does), so anyone can try the bot without an account; a few rows carry
sample platform accounts; and a newcomer's join request waits for 王建国's approval
(``branchbot demo --as 王建国``, then ``/pending``).
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.adapters.console import PLATFORM as CONSOLE
from handlers.core.i18n import DEFAULT_TEXTS
from handlers.imports.sheets import PAIRINGS, SHUXUE, TOPICS, import_sheet
from handlers.meetings.rules import credits_hours, duration, form_of
from storage.db import Session
from storage.models import (
    AccountKind,
    Campaign,
    Commitment,
    Meeting,
    Member,
    Milestone,
    OrgKind,
    Problem,
    ProblemStatus,
    Role,
    ShuxueAnswer,
    StudyRecord,
    Visit,
)
from storage.repositories.accounts import AccountRepository
from storage.repositories.audit import audit
from storage.repositories.calendar import CalendarRepository
from storage.repositories.join_requests import JoinRequestRepository
from storage.repositories.meetings import MeetingRepository
from storage.repositories.members import MemberRepository
from storage.repositories.orgs import OrgRepository
from storage.repositories.problems import ProblemRepository
from storage.repositories.records import RecordRepository
from storage.repositories.topics import TopicRepository
from storage.vocabulary import (
    DEFAULT_BOOKS,
    HALF_DAY_MINUTES,
    RESEARCH_VISIT,
    MEETING_TYPE,
    PROBLEM_KINDS,
    PROBLEM_SOURCES,
    STUDY_FORMS,
    VISIT_KINDS,
)

BUREAU = "示例局党委"
BRANCHES: dict[str, list[tuple[str, Role]]] = {
    "机关第一党支部": [("王建国", Role.secretary), ("李娜", Role.member), ("张伟", Role.committee),
                   ("刘洋", Role.member), ("陈静", Role.member), ("杨帆", Role.member)],
    "机关第二党支部": [("赵敏", Role.secretary), ("孙磊", Role.member), ("周婷", Role.member),
                   ("吴刚", Role.member), ("郑丽", Role.member)],
    "事业单位党支部": [("黄海", Role.secretary), ("何芳", Role.member), ("林峰", Role.member),
                   ("高远", Role.member)],
}
OFFICE = ("马主任", Role.office)
DEMO_MEMBER = "李娜"
# Sample roster accounts (as ``branchbot member import`` reads them): someone writing from one
# of these accounts is bound at once.
ACCOUNTS = {"王建国": ((AccountKind.wecom, "wangjianguo"), (AccountKind.phone, "+8613800000001")),
            "赵敏": ((AccountKind.telegram_username, "zhaomin_demo"),)}
# On the roster, not on the console yet, and asking to join: the request 王建国 decides.
NEWCOMER = ("孙晓", "机关第一党支部")
NEWCOMER_ACCOUNT = "visitor-1"
PLACES = ("幸福社区", "东湖村", "城南街道", "XX科技公司", "滨江社区", "红星村")
CONTENTS = ("二十大报告第三部分", "关于调查研究的论述", "党章第二章", "主题教育应知应会")
# 机关第一党支部's 党小组 (the roster's column)
PARTY_GROUPS = {"王建国": "第一党小组", "李娜": "第一党小组", "张伟": "第一党小组",
                "刘洋": "第二党小组", "陈静": "第二党小组", "杨帆": "第二党小组"}
CAMPAIGN_DAYS = 30  # the campaign began this many days before today
S = ProblemStatus
DEMO_TZ = ZoneInfo("Asia/Shanghai")  # when the imported 述学 were "answered" (noon of their day)

async def has_demo(session: Session) -> bool:
    return await OrgRepository(session).by_name(BUREAU) is not None

def console_account(member: Member) -> str:
    """The console account a sample member is bound to (``branchbot chat --as`` uses it)."""
    return f"member-{member.id}"


async def _on_console(session: Session, member: Member) -> Member:
    await MemberRepository(session).bind(member, platform=CONSOLE, user_id=console_account(member),
                                         display_name=member.name)
    for kind, value in ACCOUNTS.get(member.name, ()):
        await AccountRepository(session).set(member.id, kind, value)
    return member


async def _newcomer_asks(session: Session) -> None:
    name, branch_name = NEWCOMER
    branch = await OrgRepository(session).by_name(branch_name)
    assert branch is not None
    row = await MemberRepository(session).add(branch, name)
    request = await JoinRequestRepository(session).add(
        org_id=branch.id, member_id=row.id, name=name, platform=CONSOLE, user_id=NEWCOMER_ACCOUNT,
        display_name=name, username=None)
    assert request is not None
    audit(session, actor_id=None, action="request", entity="join_request", entity_id=request.id,
          after={"member_id": row.id, "platform": CONSOLE, "platform_user_id": NEWCOMER_ACCOUNT})


async def create_demo(session: Session, today: date, seed: int = 2023) -> None:
    """Create the sample bureau with 30 days of records ending ``today`` (repeatable by ``seed``)."""
    rng = random.Random(seed)
    orgs, members_repo, records = OrgRepository(session), MemberRepository(session), RecordRepository(session)
    bureau = await orgs.add(BUREAU, kind=OrgKind.bureau)
    await _on_console(session, await members_repo.add(bureau, *OFFICE))
    for branch_name, people in BRANCHES.items():
        branch = await orgs.add(branch_name, kind=OrgKind.branch, parent=bureau, books=list(DEFAULT_BOOKS))
        for name, role in people:
            member = await _on_console(session, await members_repo.add(branch, name, role))
            member.party_group = PARTY_GROUPS.get(name) if branch_name == "机关第一党支部" else None
            for _ in range(rng.randint(3, 8)):
                await records.create(StudyRecord, member, {
                    "form": rng.choice(STUDY_FORMS), "study_date": today - timedelta(rng.randint(0, 29)),
                    "minutes": rng.choice((30, 60, 90, 120, 180)),
                    "content": rng.choice(DEFAULT_BOOKS + CONTENTS), "reflection": None})
            for _ in range(rng.randint(0, 3)):
                await records.create(Visit, member, {
                    "kind": rng.choice(VISIT_KINDS), "visit_date": today - timedelta(rng.randint(0, 29)),
                    "place": rng.choice(PLACES), "whom": "社区书记和居民代表",
                    "heard": "反映小区停车难、老年人助餐点不足", "solved_count": rng.randint(0, 2),
                    "topic": None})
            if rng.random() < 0.3:
                await records.create(Problem, member, {
                    "description": rng.choice(("老旧小区加装电梯推进慢", "12345工单回复不及时",
                                               "社区助餐点覆盖不足")),
                    "source": rng.choice(PROBLEM_SOURCES), "kind": rng.choice(PROBLEM_KINDS),
                    "owner_name": member.name, "owner_id": member.id,
                    "deadline": today + timedelta(rng.randint(7, 60)),
                    "measures": "1.制定整改计划\n2.明确责任人\n3.按期销号",
                    "visit_id": None})
            if rng.random() < 0.5:
                await records.create(Commitment, member, {"content": "每月走访结对社区两次，帮助解决一件实事"})
    await CalendarRepository(session).replace([], [], Campaign(
        name="主题教育", start=today - timedelta(days=CAMPAIGN_DAYS),
        end=today + timedelta(days=60), reading_class_days=7))
    await _meetings(session, today)
    await _papers(session, today, rng)
    await _progress(session, today)
    await _newcomer_asks(session)


async def _meeting(session: Session, by: Member, kind: str, day: date, guests: list[Member],
                   absent: tuple[tuple[str, str], ...] = (), **values: str | int | None) -> Meeting:
    """A meeting of ``by``'s branch with those its type expects present but the ``absent``
    (name, reason), and ``guests`` (列席)."""
    repo = MeetingRepository(session)
    rules = MEETING_TYPE[kind]
    expected = await repo.expected(by.org_id, rules.attendance, values.get("party_group"))
    meeting = await repo.create(by, by.org_id, {
        "kind": kind, "day": day, "starts": "14:30", "ends": "16:00", "place": "党员活动室",
        "host": by.name, "recorder": by.name, "procedure": "1.学习 2.讨论 3.总结",
        "record_text": "会议记录（示例）", **values}, [m.id for m in expected])
    for guest in guests:
        await repo.add_guest(meeting, guest.id, by)
    for name, reason in absent:
        (member,) = [m for m in expected if m.name == name]
        await repo.set_presence(meeting, member.id, False, reason, by)
    await repo.sync_credits(meeting, form_of(kind), duration(meeting), by,
                            credited=credits_hours(kind, meeting.study_item))
    return meeting


async def _meetings(session: Session, today: date) -> None:
    """机关第一党支部's organization life: two 支委会 (one with a 第一议题: hours credited, one
    without: none), a 党小组会, and a 联组学习 with two 列席 from 机关第二党支部."""
    members = MemberRepository(session)
    (secretary,) = await members.by_name("王建国")
    guests = [m for name in ("赵敏", "孙磊") for m in await members.by_name(name)]
    await _meeting(session, secretary, "支委会", today - timedelta(days=20), [],
                   topic="研究主题教育推进安排", study_item="第一议题：习近平总书记最新重要讲话")
    await _meeting(session, secretary, "支委会", today - timedelta(days=6), [],
                   topic="研究发展党员工作")
    await _meeting(session, secretary, "党小组会", today - timedelta(days=4), [],
                   topic="交流学习体会", party_group="第二党小组",
                   study_item="《习近平著作选读》第一卷")
    await _meeting(session, secretary, "联组学习", today - timedelta(days=2), guests,
                   topic="学习《关于城市工作论述摘编》")
    (second,) = await members.by_name("赵敏")
    (absentee,) = await members.by_name("吴刚")
    meeting = await _meeting(session, second, "支部党员大会", today - timedelta(days=9), [], (("吴刚", "病假"),),
                             topic="主题教育专题学习", record_text=None)
    await RecordRepository(session).create(StudyRecord, absentee, {
        "form": form_of("支部党员大会"), "study_date": today - timedelta(days=7), "minutes": 90,
        "content": "补学支部党员大会内容", "reflection": None, "makeup_for_id": meeting.id})


MILESTONES = ((9, "读书班全部7天集中学习"), (20, "调研课题结题"), (35, "专题组织生活会"),
              (55, "主题教育总结评估"))


async def _progress(session: Session, today: date) -> None:
    """What a month of campaign leaves besides records: 述学 answered weekly in two branches (机关第二
    党支部 not yet), problems along their lifecycle (accepted, reported on, closure asked, closed,
    回潮, one overdue), and the calendar's coming milestones."""
    members = MemberRepository(session)
    monday = today - timedelta(days=today.weekday())
    imported = set((await session.execute(select(ShuxueAnswer.member_id, ShuxueAnswer.period_start))).tuples())
    for branch in ("机关第一党支部", "事业单位党支部"):
        for name, _ in BRANCHES[branch]:
            (member,) = await members.by_name(name)
            for weeks in range(1, 4):
                start = monday - timedelta(weeks=weeks)
                if (member.id, start) in imported:
                    continue
                session.add(ShuxueAnswer(member_id=member.id, org_id=member.org_id, period_start=start,
                                         self_study="学习《习近平著作选读》相关篇目", research="走访结对社区",
                                         deeds="协调解决居民反映的问题",
                                         answered_at=datetime.combine(start, time(12), timezone.utc)))
    problems = ProblemRepository(session)
    (office,) = await members.by_name(OFFICE[0])
    found = list(await session.scalars(select(Problem).order_by(Problem.id)))
    steps: list[list[tuple[str, ProblemStatus, ProblemStatus, dict[str, object]]]] = [
        [("accept", S.pending, S.rectifying, {})],
        [("accept", S.pending, S.rectifying, {}),
         ("update", S.rectifying, S.rectifying, {"note": "已完成摸底，制定推进计划", "percent": 60})],
        [("accept", S.pending, S.rectifying, {}),
         ("request_closure", S.rectifying, S.closure_requested, {"note": "已全部完成", "percent": 100})],
        [("accept", S.pending, S.rectifying, {}), ("request_closure", S.rectifying, S.closure_requested, {}),
         ("approve", S.closure_requested, S.closed, {})],
        [("accept", S.pending, S.rectifying, {}), ("request_closure", S.rectifying, S.closure_requested, {}),
         ("approve", S.closure_requested, S.closed, {}),
         ("reopen", S.closed, S.rectifying, {"note": "群众再次反映，问题回潮"})],
        [("accept", S.pending, S.rectifying, {"changes": {"deadline": today - timedelta(days=3)}})],
    ]
    for problem, path in zip(found, steps, strict=False):
        for action, expected, to, extra in path:
            await problems.apply(problem, action=action, actor=office, expected=expected, to=to, **extra)  # type: ignore[arg-type]
    for days, name in MILESTONES:
        session.add(Milestone(key=f"demo-{days}", name=name, due=today + timedelta(days=days),
                              remind_days=[7, 3, 1, 0]))

# 结对居村 (each member of 机关第一党支部 and two of 机关第二党支部), 调研课题 (their owners)
PAIRED = {"机关第一党支部": (("王建国", "东湖村"), ("李娜", "幸福社区"), ("李娜", "红星村"), ("张伟", "滨江社区"),
                        ("刘洋", "东湖村"), ("陈静", "红星村"), ("杨帆", "城南街道")),
          "机关第二党支部": (("赵敏", "祝桥村"), ("孙磊", "东明社区"))}
TOPICS_OWNED = {"机关第一党支部": (("老旧小区加装电梯推进", "王建国"), ("河道长效保洁机制", "张伟")),
                "机关第二党支部": (("企业环评审批提速", "赵敏"),),
                "事业单位党支部": (("监测数据服务群众", "黄海"),)}


async def _papers(session: Session, today: date, rng: random.Random) -> None:
    """What the papers count: pairings and their visits, topics and research trips, the 读书班
    (one day a half day), 中心组学习, a 党课 by the secretary, and 述学 from before the bot."""
    pairs = [["支部", "姓名", "结对居村"]] + [[b, n, p] for b, rows in PAIRED.items() for n, p in rows]
    topics = [["支部", "课题", "负责人", "结题日期"]] + [
        [b, title, owner, (today + timedelta(days=21)).isoformat()] for b, rows in TOPICS_OWNED.items()
        for title, owner in rows]
    first = today - timedelta(days=CAMPAIGN_DAYS)
    monday = first + timedelta(days=-first.weekday() % 7)  # the campaign's first Monday
    answers = [["支部", "姓名", "述学日期", "自学情况", "调研情况", "为民办实事情况"]] + [  # before the bot came
        ["机关第一党支部", name, (monday + timedelta(weeks=w)).isoformat(), "自学《习近平著作选读》",
         "走访结对社区", "协调解决居民停车难"] for w in range(3) for name in ("王建国", "李娜", "张伟")]
    for kind, table in ((PAIRINGS, pairs), (TOPICS, topics), (SHUXUE, answers)):
        await import_sheet(DEFAULT_TEXTS, session, kind, table, today=today, tz=DEMO_TZ)
    members, records = MemberRepository(session), RecordRepository(session)
    for branch, rows in PAIRED.items():
        for name, place in rows:
            (member,) = await members.by_name(name)
            for _ in range(rng.randint(1, 2)):
                await records.create(Visit, member, {
                    "kind": "结对居村", "visit_date": today - timedelta(rng.randint(0, 20)), "place": place,
                    "whom": "村（居）书记", "heard": "了解垃圾分类和河道保洁情况", "solved_count": rng.randint(0, 2),
                    "topic": None})
    for branch, rows in TOPICS_OWNED.items():
        for title, owner in rows:
            (member,) = await members.by_name(owner)
            topic = await TopicRepository(session).by_title(member.org_id, title)
            assert topic is not None
            for _ in range(2):
                await records.create(Visit, member, {
                    "kind": RESEARCH_VISIT, "visit_date": today - timedelta(rng.randint(0, 25)),
                    "place": rng.choice(PLACES), "whom": "企业负责人和居民代表", "heard": "课题调研：听取意见建议",
                    "solved_count": rng.randint(0, 1), "topic": title, "topic_id": topic.id})
    leaders = [m for name in ("王建国", "张伟", "李娜") for m in await members.by_name(name)]
    reading = [(today - timedelta(days=d), 360) for d in (12, 11)] + [(today - timedelta(days=10), HALF_DAY_MINUTES - 60)]
    sessions = [("读书班", day, minutes) for day, minutes in reading] + [("中心组学习", today - timedelta(days=15), 120)]
    for form, day, minutes in sessions:
        for member in leaders:
            await records.create(StudyRecord, member, {"form": form, "study_date": day, "minutes": minutes,
                                                       "content": DEFAULT_BOOKS[0], "reflection": None})
    (secretary,) = await members.by_name("王建国")
    await _meeting(session, secretary, "党课", today - timedelta(days=8), [], (("刘洋", "公差"),),
                   topic="书记讲党课：以学铸魂", lecturer=secretary.name, lecturer_id=secretary.id)


async def branch_invites(session: Session) -> list[tuple[str, str]]:
    return await OrgRepository(session).branch_invites()
