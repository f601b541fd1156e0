"""A sample bureau for trying the bot: branches (one with 党小组), members, a month of records,
organization life (a 支委会 with a 第一议题 and one without, a 联组学习 with 列席 guests) and the
campaign's dates in its calendar.

Its members are bound on the console by the demo data itself (the operator binding roster rows,
as ``branchbot chat --as`` does), so anyone can try the bot without an account; a few rows carry
sample platform accounts; and a newcomer's join request waits for 王建国's approval
(``branchbot demo --as 王建国``, then ``/pending``).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from bot.adapters.console import PLATFORM as CONSOLE
from bot.demo.evidence import add_sample_evidence
from handlers.meetings.rules import credits_hours, duration, form_of
from storage.db import Session
from storage.files.store import FileStore
from storage.models import (
    AccountKind,
    Campaign,
    Commitment,
    Member,
    OrgKind,
    Problem,
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
from storage.repositories.records import RecordRepository
from storage.types import utcnow
from storage.vocabulary import (
    DEFAULT_BOOKS,
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
                    "deadline": today + timedelta(rng.randint(7, 60)), "measures": "制定计划，明确责任，按期销号",
                    "visit_id": None})
            if rng.random() < 0.5:
                await records.create(Commitment, member, {"content": "每月走访结对社区两次，帮助解决一件实事"})
    await CalendarRepository(session).replace([], [], Campaign(
        name="主题教育", start=today - timedelta(days=CAMPAIGN_DAYS),
        end=today + timedelta(days=60), reading_class_days=7))
    await _meetings(session, today)
    if store is not None:
        await add_sample_evidence(session, store, utcnow())
    await _newcomer_asks(session)


async def _meeting(session: Session, by: Member, kind: str, day: date, guests: list[Member],
                   **values: str | None) -> None:
    """A meeting of ``by``'s branch with those its type expects present, and ``guests`` (列席)."""
    repo = MeetingRepository(session)
    rules = MEETING_TYPE[kind]
    expected = await repo.expected(by.org_id, rules.attendance, values.get("party_group"))
    meeting = await repo.create(by, by.org_id, {
        "kind": kind, "day": day, "starts": "14:30", "ends": "16:00", "place": "党员活动室",
        "host": by.name, "recorder": by.name, "procedure": "1.学习 2.讨论 3.总结",
        "record_text": "会议记录（示例）", **values}, [m.id for m in expected])
    for guest in guests:
        await repo.add_guest(meeting, guest.id, by)
    await repo.sync_credits(meeting, form_of(kind), duration(meeting), by,
                            credited=credits_hours(kind, meeting.study_item))


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

async def branch_invites(session: Session) -> list[tuple[str, str]]:
    return await OrgRepository(session).branch_invites()
