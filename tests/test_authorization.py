"""The authorization matrix (#11 acceptance): every role × every command and every kind of
button, including button data copied from another user's state, against one expected table,
checked in full on SQLite and PostgreSQL.

✓ the action ran (what it shows is the presser's to see); ✗ it was refused, and nothing changed.
A command or a button kind a feature adds fails ``test_the_table_covers_every_command_and_button``
until its row is written here.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.runtime.app import App
from handlers.core import buttons
from handlers.core.buttons import JoinDecision, RemindAgain, ReportPage
from handlers.core.features import discover
from handlers.core.i18n import DEFAULT_TEXTS as t
from handlers.reports.periods import this_month
from storage.db import session_factory
from storage.models import JoinRequest, JoinStatus, Role, StudyRecord
from tests.chat_driver import CoreChat
from tests.conftest import Branch
from tests.joining import add_member, bound_chat, office_member
from tests.test_dialogs import TODAY
from tests.test_shuxue import round_two_days_ago

ROLES = ("stranger", "pending", "党员", "支委", "书记A", "书记B", "办公室")
A, B = "机关第一党支部", "机关第二党支部"
SECRET = "甲秘密"  # a member of branch A, with a study record only A's readers may see

# row: what each of ROLES gets, in that order.
EXPECTED: dict[str, str] = {
    # commands, in the private chat
    "/start": "✓✓✓✓✓✓✓",
    "/join <A>": "✓✓✓✓✓✓✓",
    "/help": "✓✓✓✓✓✓✓",
    "/cancel": "✓✓✓✓✓✓✓",
    "/study": "✗✗✓✓✓✓✓",
    "/visit": "✗✗✓✓✓✓✓",
    "/problem": "✗✗✓✓✓✓✓",
    "/commit": "✗✗✓✓✓✓✓",
    "/mine": "✗✗✓✓✓✓✓",
    "/progress": "✗✗✓✓✓✓✓",
    "/shuxue": "✗✗✓✓✓✓✓",
    "/leave 下周五": "✗✗✓✓✓✓✓",
    "/meeting": "✗✗✓✓✓✓✓",
    "/summary": "✗✗✓✓✓✓✓",
    "/report": "✗✗✓✓✓✓✓",
    "/problems": "✗✗✗✓✓✓✓",  # a 支委 reads the list: another 支委 decides a secretary's own closure request
    "/schedule": "✗✗✗✗✓✓✓",
    "/pending": "✗✗✗✗✓✓✓",
    "/template 结对": "✗✗✗✗✓✓✓",
    "/summary all": "✗✗✗✗✗✗✓",
    "/summary <A>": "✗✗✗✗✗✗✓",
    "/report <A>": "✗✗✗✗✗✗✓",
    "/archive": "✗✗✗✗✗✗✓",  # 资料归档: the office's
    # in a group chat
    "/bindgroup <A> (an unbound group)": "✗✗✗✗✓✗✓",
    "/bindgroup <B> (A's group)": "✗✗✗✗✗✗✓",
    # what is shown: branch A's member and their record
    "/summary shows A's members": "✗✗✗✗✓✗✗",
    "/summary <A> shows A's members": "✗✗✗✗✗✗✓",
    "/report holds A's records": "✗✗✗✗✓✗✓",
    # buttons, their data copied from someone else's messages and state
    "DialogChoice from 书记A's /study": "✗✗✗✗✓✗✗",
    "ReportPage from 书记A's /summary": "✗✗✗✗✓✗✓",
    "ReportPage of every branch": "✗✗✗✗✗✗✓",
    "RemindAgain of A's round": "✗✗✗✗✓✗✓",
    "JoinDecision: a name not on A's roster": "✗✗✗✗✓✗✓",
    "JoinDecision: A's 支委 row": "✗✗✗✗✗✗✓",
    "JoinDecision: a name not on B's roster": "✗✗✗✗✗✓✓",
}
COMMAND_ROWS = {"start": "/start", "join": "/join <A>", "help": "/help", "cancel": "/cancel",
                "study": "/study", "visit": "/visit", "problem": "/problem", "commit": "/commit",
                "mine": "/mine", "progress": "/progress", "shuxue": "/shuxue",
                "leave": "/leave 下周五", "meeting": "/meeting", "summary": "/summary",
                "report": "/report", "problems": "/problems", "schedule": "/schedule",
                "pending": "/pending", "template": "/template 结对", "bindgroup": "/bindgroup <A> (an unbound group)",
                "archive": "/archive"}
BUTTON_ROWS = {buttons.DialogChoice: "DialogChoice from 书记A's /study",
               ReportPage: "ReportPage from 书记A's /summary", RemindAgain: "RemindAgain of A's round",
               JoinDecision: "JoinDecision: a name not on A's roster"}


def refusals() -> set[str]:
    """Every way the bot says no (a policy's text, a handler's own check, a stale button)."""
    keys = ("auth.not_member", "problem.board_not_allowed", "report.not_allowed",
            "report.office_only", "schedule.only_secretary", "join.not_decider",
            "push.not_your_branch", "button.stale", "upload.not_leader", "archive.not_allowed")
    return {t(k) for k in keys} | {t("bindgroup.not_secretary", org=org) for org in (A, B)} | {
        t("bindgroup.bound_elsewhere", org=org) for org in (A, B)}


@dataclass
class Cast:
    app: App
    branch: Branch
    chats: dict[str, CoreChat]
    members: dict[str, int]  # the member id of each role that has one
    copied: dict[str, str] = field(default_factory=dict)  # button data taken from a chat
    requests: dict[str, dict[str, int]] = field(default_factory=dict)  # a request per role

    def chat(self, role: str, **kwargs: object) -> CoreChat:
        base = self.chats[role]
        return CoreChat(self.app.core, base.user_id, base.name, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def cast(app: App, branch: Branch) -> Cast:
    """The seven roles: a stranger, someone whose request waits, a 党员, a 支委 and the
    secretary of branch A, the secretary of branch B, the office; A has enough members to page."""
    committee = await add_member(app, branch.org.id, "张委员", Role.committee)
    await add_member(app, branch.org.id, "李委员", Role.committee)  # on the roster, not joined
    secretary_b = await add_member(app, branch.other.id, "赵书记", Role.secretary)
    secret = await add_member(app, branch.org.id, SECRET)
    for n in range(8):
        await add_member(app, branch.org.id, f"党员{n}")
    async with session_factory(app.engine)() as session, session.begin():
        session.add(StudyRecord(member_id=secret.id, org_id=branch.org.id, form="自学",
                                study_date=TODAY(), minutes=60, content="甲秘密的学习", reflection=None))
    office = await office_member(app, branch)
    members = {"党员": branch.roster_only, "支委": committee, "书记A": branch.secretary,
               "书记B": secretary_b, "办公室": office}
    ids = {"党员": "member", "支委": "committee", "书记A": "secA", "书记B": "secB", "办公室": "office"}
    chats = {"stranger": CoreChat(app.core, "stranger", "陌生人"),
             "pending": CoreChat(app.core, "pending", "待审"),
             **{role: await bound_chat(app, member, ids[role]) for role, member in members.items()}}
    await chats["pending"].say(f"/join {branch.org.invite_code}")
    await chats["pending"].say("待审")
    assert "已提交申请" in chats["pending"].text
    await round_two_days_ago(app, branch)
    return Cast(app, branch, chats, {role: member.id for role, member in members.items()})


def verdict(chat: CoreChat, said: str = "") -> str:
    shown = [reply.text for reply in chat.replies] + ([chat.notice] if chat.notice else [])
    assert not any(t("error.internal") in text for text in shown), said
    no = refusals()
    return "✗" if any(refusal in text for text in shown for refusal in no) else "✓"


async def say(chat: CoreChat, text: str) -> str:
    await chat.say(text)
    return verdict(chat, text)


async def press(chat: CoreChat, data: str) -> str:
    await chat.press_data(data)
    return verdict(chat, data)


def _workbook_holds(content: bytes, secret: str) -> bool:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return any(secret in str(cell) for sheet in book.worksheets
               for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None)


async def shows(chat: CoreChat, text: str, secret: str) -> str:
    """Whether what ``text`` shows (its replies, its workbook) holds ``secret``."""
    await chat.say(text)
    verdict(chat, text)
    if any(secret in reply.text for reply in chat.replies):
        return "✓"
    files = [r.document for r in chat.replies if r.document is not None]
    return "✓" if any(_workbook_holds(f.content, secret) for f in files
                      if f.file_name.endswith(".xlsx")) else "✗"


async def requests_for(cast: Cast, org_id: int, label: str,
                       row_name: str | None) -> dict[str, int]:
    """A join request per role to decide (each role its own, so what was decided shows): for the
    roster row ``row_name``, or (None) for names not on the roster."""
    made: dict[str, int] = {}
    code = cast.branch.org.invite_code if org_id == cast.branch.org.id else cast.branch.other.invite_code
    for i, role in enumerate(ROLES):
        asker = CoreChat(cast.app.core, f"ask-{label}-{i}", f"申请人{i}")
        await asker.say(f"/join {code}")
        await asker.say(row_name or f"新人{label}{i}")
        async with session_factory(cast.app.engine)() as session:
            made[role] = (await session.scalars(select(JoinRequest.id).where(
                JoinRequest.platform_user_id == asker.user_id))).one()
    return made


async def decisions(cast: Cast, ids: dict[str, int]) -> dict[str, tuple[JoinStatus, int | None]]:
    """Each role's request: its status and who decided it."""
    async with session_factory(cast.app.engine)() as session:
        found = {row.id: (row.status, row.decided_by_id) for row in await session.scalars(
            select(JoinRequest).where(JoinRequest.id.in_(ids.values())))}
    return {role: found[request_id] for role, request_id in ids.items()}


Row = Callable[[Cast, str], Awaitable[str]]


def command_row(text: str) -> Row:
    async def run(cast: Cast, role: str) -> str:
        return await say(cast.chats[role], text.replace("<A>", cast.branch.org.invite_code
                                                        if text.startswith("/join") else A))
    return run


async def bindgroup_fresh(cast: Cast, role: str) -> str:
    group = cast.chat(role, chat_id=f"-{1000 + ROLES.index(role)}", private=False)
    return await say(group, f"/bindgroup {cast.branch.org.invite_code}")


async def bindgroup_move(cast: Cast, role: str) -> str:
    group_id = f"-{2000 + ROLES.index(role)}"
    await say(cast.chat("书记A", chat_id=group_id, private=False), f"/bindgroup {cast.branch.org.invite_code}")
    return await say(cast.chat(role, chat_id=group_id, private=False),
                     f"/bindgroup {cast.branch.other.invite_code}")


async def summary_shows(cast: Cast, role: str) -> str:
    return await shows(cast.chats[role], "/summary", SECRET)


async def named_summary_shows(cast: Cast, role: str) -> str:
    return await shows(cast.chats[role], f"/summary {A}", SECRET)


async def report_holds(cast: Cast, role: str) -> str:
    return await shows(cast.chats[role], "/report xlsx", "甲秘密的学习")


async def copied_dialog_choice(cast: Cast, role: str) -> str:
    """书记A's /study offers 自学: everyone presses that very button data."""
    if "dialog" not in cast.copied:
        owner = cast.chats["书记A"]
        await owner.say("/study")
        cast.copied["dialog"] = owner.data_of("自学")
    return await press(cast.chats[role], cast.copied["dialog"])


async def copied_report_page(cast: Cast, role: str) -> str:
    """书记A's /summary of branch A has a second page: everyone presses its 下一页."""
    if "page" not in cast.copied:
        owner = cast.chats["书记A"]
        await owner.say("/summary")
        cast.copied["page"] = owner.data_of(t("report.next_page"))
    return await press(cast.chats[role], cast.copied["page"])


async def rollup_page(cast: Cast, role: str) -> str:
    period = this_month(TODAY())
    return await press(cast.chats[role], ReportPage(None, period.kind, period.start, period.end, 1).pack())


async def remind_again(cast: Cast, role: str) -> str:
    period = TODAY() - timedelta(days=2)  # the round pinned by the fixture
    return await press(cast.chats[role], RemindAgain(cast.branch.org.id, period).pack())


JOIN_ROWS = {"JoinDecision: a name not on A's roster": ("A", None),
             "JoinDecision: A's 支委 row": ("A", "李委员"),
             "JoinDecision: a name not on B's roster": ("B", None)}


def join_decision(row: str) -> Row:
    async def run(cast: Cast, role: str) -> str:
        branch, row_name = JOIN_ROWS[row]
        if row not in cast.requests:
            org = cast.branch.org if branch == "A" else cast.branch.other
            cast.requests[row] = await requests_for(cast, org.id, f"{branch}{len(cast.requests)}",
                                                    row_name)
        return await press(cast.chats[role], JoinDecision(cast.requests[row][role], True).pack())
    return run


ROWS: dict[str, Row] = {
    **{row: command_row(row) for row in EXPECTED if row.startswith("/") and "(" not in row
       and "shows" not in row and "holds" not in row},
    "/bindgroup <A> (an unbound group)": bindgroup_fresh,
    "/bindgroup <B> (A's group)": bindgroup_move,
    "/summary shows A's members": summary_shows,
    "/summary <A> shows A's members": named_summary_shows,
    "/report holds A's records": report_holds,
    "DialogChoice from 书记A's /study": copied_dialog_choice,
    "ReportPage from 书记A's /summary": copied_report_page,
    "ReportPage of every branch": rollup_page,
    "RemindAgain of A's round": remind_again,
    **{row: join_decision(row) for row in JOIN_ROWS},
}


def test_the_table_covers_every_command_and_button() -> None:
    features = discover()
    commands = {c.name for f in features for c in f.commands}
    kinds = {p.kind for f in features for p in f.presses} | {buttons.DialogChoice}
    assert set(COMMAND_ROWS) == commands and set(COMMAND_ROWS.values()) <= set(EXPECTED)
    assert set(BUTTON_ROWS) == kinds == set(buttons.ButtonData.__args__)  # type: ignore[attr-defined]
    assert set(ROWS) == set(EXPECTED) and all(len(v) == len(ROLES) for v in EXPECTED.values())


async def test_every_role_against_every_command_and_button(cast: Cast) -> None:
    got = {}
    for row, run in ROWS.items():
        got[row] = "".join([await run(cast, role) for role in ROLES])
    assert got == EXPECTED
    # What a refusal left as it was: each role's own request, decided only by those allowed
    # (the 支委 row's requests all claim one row: the office's approval voids the others).
    member_of = {role: cast.members[role] for role in ROLES if role in cast.members}
    for row, ids in cast.requests.items():
        allowed = {member_of[r] for r, mark in zip(ROLES, EXPECTED[row], strict=True) if mark == "✓"}
        shared = JOIN_ROWS[row][1] is not None
        for role, mark in zip(ROLES, EXPECTED[row], strict=True):
            status, by = (await decisions(cast, ids))[role]
            assert by is None or by in allowed, (row, role, by)
            if mark == "✓":
                assert status in (JoinStatus.approved, JoinStatus.superseded), (row, role, status)
            else:
                assert status is (JoinStatus.superseded if shared else JoinStatus.pending), (row, role)
    tried = len(ROWS) * len(ROLES)
    refused = sum(v.count("✗") for v in EXPECTED.values())
    print(f"authorization: tried={tried} refused={refused} allowed={tried - refused}, all as expected")
