"""A sample bureau for trying the bot: branches (one with 党小组), members, a month of records,
organization life (a 支委会 with a 第一议题 and one without, a 联组学习 with 列席 guests, the
secretary's 党课 with an absentee, a 支部党员大会 without its record and a make-up) and the campaign's
dates and coming milestones in its calendar; what the office's papers count: 结对居村 with visits,
调研课题 with their owners and research trips, 读书班 days (one a half day), 中心组学习, 述学 from
before the bot (imported as the office imports a sheet) and after; problems along their lifecycle.

Its members are bound on the console by the demo data itself (the operator binding roster rows,
as ``branchbot chat --as`` does), so anyone can try the bot without an account; a few rows carry
sample platform accounts; and a newcomer's join request waits for 王建国's approval
(``branchbot demo --as 王建国``, then ``/pending``). 王建国 is on the WeCom AI bot too, with
机关第一党支部's WeCom group bound there, and chose to get his pushes on the console
(``branchbot member prefer``): several platforms in one process.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import update

from bot.adapters.console import PLATFORM as CONSOLE
from bot.adapters.wecom_bot import PLATFORM as WECOM_BOT
from bot.demo.evidence import add_sample_evidence
from handlers.core.i18n import DEFAULT_TEXTS
from handlers.imports.sheets import PAIRINGS, SHUXUE, TOPICS, import_sheet
from handlers.meetings.rules import credits_hours, duration, form_of
from handlers.problems.lifecycle import Action, target
from storage.db import Session
from storage.files.store import FileStore
from storage.models import (
    AccountKind,
    Campaign,
    Commitment,
    Meeting,
    Member,
    Milestone,
    OrgKind,
    Problem,
    ProblemEvent,
    ProblemStatus,
    Role,
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
from storage.repositories.shuxue import ShuxueRepository
from storage.repositories.topics import TopicRepository
from storage.types import utcnow
from storage.vocabulary import (
    DEFAULT_BOOKS,
    HALF_DAY_MINUTES,
    MEETING_TYPE,
    RESEARCH_VISIT,
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
            "赵敏": ((AccountKind.telegram_username, "zhaomin_demo"),),
            "张伟": ((AccountKind.dingtalk, "zhangwei01"),),
            "黄海": ((AccountKind.feishu, "huanghai"),)}
# On the roster, not on the console yet, and asking to join: the request 王建国 decides.
NEWCOMER = ("孙晓", "机关第一党支部")
NEWCOMER_ACCOUNT = "visitor-1"
PLACES = ("幸福社区", "东湖村", "城南街道", "XX科技公司", "滨江社区", "红星村")
CONTENTS = ("二十大报告第三部分", "关于调查研究的论述", "党章第二章", "主题教育应知应会")
# 机关第一党支部's 党小组 (the roster's column)
PARTY_GROUPS = {"王建国": "第一党小组", "李娜": "第一党小组", "张伟": "第一党小组",
                "刘洋": "第二党小组", "陈静": "第二党小组", "杨帆": "第二党小组"}
CAMPAIGN_DAYS = 30  # the campaign began this many days before today
DEMO_WECOM_GROUP = "wrkDemoGroup0001"  # 机关第一党支部's group, as the AI bot knows it
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
    await audit(session, actor_id=None, action="request", entity="join_request", entity_id=request.id,
                after={"member_id": row.id, "platform": CONSOLE, "platform_user_id": NEWCOMER_ACCOUNT})


async def create_demo(session: Session, today: date, seed: int = 2023,
                      store: FileStore | None = None) -> None:
    """Create the sample bureau with 30 days of records ending ``today`` (repeatable by ``seed``);
    with ``store``, sample photos and files of a meeting and a problem kept in it."""
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
    await _problem_states(session, today)
    await _shuxue_rounds(session, today)
    await _milestones(session, today)
    if store is not None:
        await add_sample_evidence(session, store, utcnow())
    await _newcomer_asks(session)
    await _also_on_the_ai_bot(session)


async def _also_on_the_ai_bot(session: Session) -> None:
    members, orgs = MemberRepository(session), OrgRepository(session)
    (secretary,) = await members.by_name("王建国")
    await members.bind(secretary, platform=WECOM_BOT, user_id="wangjianguo", display_name=None)
    secretary.preferred_platform = CONSOLE
    await orgs.bind_group(secretary.org, platform=WECOM_BOT, chat_id=DEMO_WECOM_GROUP,
                          title="机关第一党支部", by=secretary)


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


async def _milestones(session: Session, today: date) -> None:
    """The calendar's coming milestones (the drafts' 下一步计划 names them)."""
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


# 机关第一党支部's problem list in every state: (owner, problem, deadline in days, the actions
# taken on it in order, each days before today, with the progress it reported).
PROBLEM_PATHS: tuple[tuple[str, str, int, tuple[tuple[Action, int, int | None], ...]], ...] = (
    ("刘洋", "群众办事材料多次提交", 20, ()),
    ("陈静", "社区养老服务站开放时间短", 30, ((Action.accept, 25, None), (Action.update, 10, 40))),
    ("杨帆", "12345工单超期未办结", -3, ((Action.accept, 28, None), (Action.update, 15, 60))),
    ("李娜", "窗口服务指引不清晰", 15, ((Action.accept, 26, None), (Action.update, 12, 90),
                                    (Action.request_closure, 2, 100))),
    ("张伟", "会议文件印发多、篇幅长", 10, ((Action.accept, 27, None), (Action.update, 18, 100),
                                      (Action.request_closure, 14, 100), (Action.approve, 12, None))),
    ("刘洋", "调研走过场、成果转化少", 25, ((Action.accept, 29, None), (Action.request_closure, 20, 100),
                                      (Action.approve, 18, None), (Action.reopen, 5, None))),
    ("陈静", "办公室空调温度设置过低", 30, ((Action.reject, 24, None),)),
)
PROBLEM_NOTES = {Action.update: "已制定整改方案，正在推进", Action.request_closure: "整改完成，附整改前后对比",
                 Action.approve: "经核实已整改到位，同意销号", Action.reopen: "群众反映问题反弹，重新整改"}


def _moment(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), tzinfo=timezone.utc)


async def _problem_states(session: Session, today: date) -> None:
    """机关第一党支部's problems: 待确认, 整改中 (one overdue), 申请销号, 已销号, 回潮 and 不属于问题,
    each moved through the lifecycle as its owner and the secretary would."""
    members, problems = MemberRepository(session), ProblemRepository(session)
    (secretary,) = await members.by_name("王建国")
    for owner_name, text, deadline_days, path in PROBLEM_PATHS:
        (owner,) = await members.by_name(owner_name)
        problem = await RecordRepository(session).create(Problem, owner, {
            "description": text, "source": PROBLEM_SOURCES[0], "kind": PROBLEM_KINDS[0],
            "owner_name": owner.name, "owner_id": owner.id,
            "deadline": today + timedelta(deadline_days), "measures": "梳理原因，制定整改措施，明确时限",
            "visit_id": None})
        problem.created_at = _moment(today - timedelta(days=30))
        await session.execute(update(ProblemEvent).where(  # reported when it was found
            ProblemEvent.problem_id == problem.id, ProblemEvent.action == "report")
            .values(at=problem.created_at))
        for action, days_ago, percent in path:
            to = target(problem.status, action)
            assert to is not None, (problem.status, action)
            actor = owner if action in (Action.update, Action.request_closure) else secretary
            event = await problems.apply(problem, action=action.value, actor=actor,
                                         expected=ProblemStatus(problem.status), to=to,
                                         note=PROBLEM_NOTES.get(action), percent=percent)
            assert event is not None
            event.at = _moment(today - timedelta(days=days_ago))


async def _shuxue_rounds(session: Session, today: date) -> None:
    """The weekly 述学 rounds (Mondays) of the last four weeks in two branches (机关第二党支部
    not yet: the drafts' 存在不足 names it), a few members missing each; a round imported from
    before the bot (``_papers``) is kept as it is."""
    orgs, members, shuxue = OrgRepository(session), MemberRepository(session), ShuxueRepository(session)
    monday = today - timedelta(days=today.weekday())
    for branch_name in ("机关第一党支部", "事业单位党支部"):
        branch = await orgs.by_name(branch_name)
        assert branch is not None
        people = await members.active_in(branch.id)
        for week in range(1, 5):
            period = monday - timedelta(weeks=week)
            for n, person in enumerate(people):
                if (n + week) % 4 == 0 or await shuxue.answer(person.id, period) is not None:
                    continue  # someone misses each round; an imported answer stays
                await shuxue.save_answer(
                    person, period, self_study=f"学习{CONTENTS[week % len(CONTENTS)]}，记笔记一篇",
                    research=f"到{PLACES[n % len(PLACES)]}走访，听取群众意见",
                    deeds="协调解决群众反映的一件实事", at=_moment(period + timedelta(days=1)))
