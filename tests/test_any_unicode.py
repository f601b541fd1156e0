"""Issue 11's acceptance: every typed step of every dialog, given arbitrary Unicode (NUL, other
controls, lone surrogates, right-to-left and invisible characters, superscripts, 10,000
characters), on PostgreSQL: no internal error, no stuck dialog, nothing saved that breaks a
field's rule.

Each example reaches its step as a member would (the command, then the buttons a member would
press), types the text there, and then goes on pressing the first choice of every step (or typing
a plain answer) until the dialog is over. The steps come from the features' declarations: a new
typed step without a way in here fails ``test_every_typed_step_is_walked``.

``BRANCHBOT_UNICODE_EXAMPLES`` sets the examples per step (default 8);
``pytest --hypothesis-show-statistics`` shows how many texts each step took and asked again.
"""

from __future__ import annotations

import itertools
import os
import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from bot.runtime.app import App
from handlers.core.buttons import DialogChoice
from handlers.core.i18n import DEFAULT_TEXTS as t
from handlers.dialogs.engine import CONFIRM, FIELDS, MENU
from handlers.problems.lifecycle import ACTION_TEXT
from storage.db import session_factory
from storage.models import (
    Commitment,
    DialogState,
    Identity,
    Meeting,
    MeetingAttendance,
    Member,
    Problem,
    ProblemEvidence,
)
from storage.models import ProblemStatus as S
from storage.repositories.records import RecordRepository
from tests.chat_driver import CoreChat
from tests.conftest import Branch
from tests.joining import bound_chat
from tests.test_field_limits import COLUMNS
from tests.test_problem_lifecycle import add_problem, today

EXAMPLES = int(os.environ.get("BRANCHBOT_UNICODE_EXAMPLES", "8"))
MEMBER, SECRETARY = "1001", "7"
NAME_COLUMNS = {Member.name, Problem.owner_name, Meeting.host, Meeting.recorder, Meeting.lecturer}
UNSTORABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")

SPECIAL = ("\x00", "\x07", "\x1f", "\x7f", "\x85", "\t", "\n", "\r", "\u200b", "\u200f", "\u202d",
           "\u202e", "\u2060", "\ufeff", "\u3164", "\u115f", "\u2800", "\u0301", "²", "³", "①",
           "½", "Ａ", "ａ", "２", "A", "1", "#", "＃", "确认", "跳过", "取消", "完成", "今天", "自学",
           "两小时", "1.5", "0", "-", "😀", "👨\u200d👩\u200d👧", "שלום", "李娜", " ", "\u3000")
TEXTS = st.one_of(
    st.text(max_size=60),  # anything but lone surrogates
    st.lists(st.sampled_from(SPECIAL), max_size=12).map("".join),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3),
    st.builds(lambda piece, n: piece * n, st.sampled_from(["字", "a", "\x00", "\u200f", "²", "😀",
                                                           "长文本 "]),
              st.integers(1, 10_000)),
)


@dataclass
class World:
    app: App
    code: str  # the branch's invite code
    member: CoreChat
    secretary: CoreChat
    problems: dict[S, int]  # one problem in each state an action starts from
    strangers: itertools.count


Entry = Callable[[World], Awaitable[CoreChat]]


async def _seed(app: App, branch: Branch) -> World:
    member = await bound_chat(app, branch.roster_only, MEMBER)
    secretary = await bound_chat(app, branch.secretary, SECRETARY)
    problems = {status: await add_problem(app, branch.roster_only, status=status,
                                          deadline=today() + timedelta(days=5 + i))
                for i, status in enumerate((S.pending, S.rectifying, S.closure_requested, S.closed))}
    async with session_factory(app.engine)() as session, session.begin():
        await RecordRepository(session).create(Commitment, branch.roster_only,
                                               {"content": "带头学习"})
    await secretary.say("/meeting")  # one meeting the member attended, for /meeting's 有异议
    await secretary.press(t("meeting.new"))
    for press in ("支部党员大会", "昨天", "09:00-11:00"):
        await secretary.press(press)
    for typed in ("党员活动室", "主题", "王书记", "王书记"):
        await secretary.say(typed)
    for _ in range(3):
        await secretary.press("跳过")
    await secretary.press("✅ 确认")
    await secretary.press(t("meeting.board_done"))
    return World(app, branch.org.invite_code or "", member, secretary, problems, itertools.count())


async def _world(app: App, branch: Branch, cache: dict[int, World]) -> World:
    if id(app) not in cache or cache[id(app)].app is not app:
        cache[id(app)] = await _seed(app, branch)
    world = cache[id(app)]
    async with session_factory(app.engine)() as session, session.begin():  # the same start each time
        await session.execute(update(Problem).where(Problem.id.not_in(world.problems.values()))
                              .values(status=S.rejected))
        for status, problem_id in world.problems.items():
            await session.execute(update(Problem).where(Problem.id == problem_id).values(
                status=status, deleted_at=None, deadline=today() + timedelta(days=10)))
        await session.execute(update(MeetingAttendance).values(present=True, absence_reason=None))
    return world


async def _press_starting(chat: CoreChat, prefix: str) -> None:
    await chat.press(next(label for label in chat.labels if label.startswith(prefix)))


def _problem_action(tab: str | None, action: str) -> Entry:
    """A problem's card from a /problems tab (the secretary) or /progress (the owner), then an
    action's button."""
    async def enter(world: World) -> CoreChat:
        chat = world.secretary if tab else world.member
        await chat.say("/problems" if tab else "/progress")
        if tab:
            await _press_starting(chat, tab)
        await chat.press("1")
        await chat.press(t(ACTION_TEXT[action]))
        return chat
    return enter


def _command(who: str, command: str, *presses: str) -> Entry:
    async def enter(world: World) -> CoreChat:
        chat = world.member if who == "member" else world.secretary
        await chat.say(command)
        for press in presses:
            await chat.press(press)
        return chat
    return enter


async def _commit(world: World) -> CoreChat:
    await world.member.say("/commit")
    if t("commit.do_edit") in world.member.labels:
        await world.member.press(t("commit.do_edit"))
        await world.member.press("✏️ 修改")
        await world.member.press(t("commit.content"))
    return world.member


async def _absence(world: World) -> CoreChat:
    chat = world.secretary
    await chat.say("/meeting")
    await chat.press("1")
    await chat.press(t("meeting.action_attendance"))
    await chat.press(t("meeting.seat_present", name="李娜"))
    return chat


async def _stranger(world: World) -> CoreChat:
    chat = CoreChat(world.app.core, f"s{next(world.strangers)}", "新同志")
    await chat.say(f"/start {world.code}")
    return chat


ENTRIES: dict[str, Entry] = {
    "study": _command("member", "/study"),
    "visit": _command("member", "/visit"),
    "problem": _command("member", "/problem"),
    "commit": _commit,
    "commit_report": _command("member", "/commit", t("commit.do_report")),
    "shuxue": _command("member", "/shuxue"),
    "schedule": _command("secretary", "/schedule"),
    "meeting": _command("secretary", "/meeting", t("meeting.new")),
    "meeting_dispute": _command("member", "/meeting", "1"),
    "meeting_absence": _absence,
    "join": _stranger,
    "problem_accept": _problem_action("待确认", "accept"),
    "problem_reason": _problem_action("待确认", "reject"),
    "problem_extend": _problem_action("整改中", "extend"),
    "problem_reopen": _problem_action("已销号", "reopen"),
    "problem_update": _problem_action(None, "update"),
    "problem_ask_extension": _problem_action(None, "request_extension"),
    "problem_closure": _problem_action(None, "request_closure"),
}


def _typed_steps(app_registry: object) -> list[tuple[str, str]]:
    return sorted((d.name, s.key) for d in app_registry.dialogs.values()  # type: ignore[attr-defined]
                  for s in d.steps if s.parse is not None)


def test_every_typed_step_is_walked() -> None:
    from handlers.core.features import Registry, discover

    assert {name for name, _ in _typed_steps(Registry(discover()))} == set(ENTRIES)


def _steps() -> list[tuple[str, str]]:
    from handlers.core.features import Registry, discover

    return _typed_steps(Registry(discover()))


async def _state(app: App, chat: CoreChat) -> DialogState | None:
    async with session_factory(app.engine)() as session:
        return await session.scalar(select(DialogState).where(
            DialogState.platform == chat.platform, DialogState.platform_user_id == chat.user_id))


def _check_answered(chat: CoreChat, state: DialogState | None) -> None:
    """Something was said, none of it the internal error, and a dialog in progress shows the
    buttons its state offers (so a member can always go on)."""
    said = [r.text for r in chat.replies] + ([chat.notice] if chat.notice else [])
    assert said and all(t("error.internal") not in text for text in said), said
    if state is not None and state.dialog != MENU:
        shown = [b for r in chat.replies for row in r.buttons for b in row]
        offered = [o["s"] for o in state.offered or ()]
        last = shown[len(shown) - len(offered):]
        assert offered and [b.selector for b in last] == offered, (said, offered)
        assert all(f":{state.nonce}:" in (b.data or "") for b in last), "not the state's buttons"


# Where the first choice leads past a step the walk must reach: the choice to make instead
# (a 支部党员大会 credits its hours without a 学习内容; a 支委会 asks for one).
PREFERRED = {("meeting", "kind"): "支委会"}


async def _go_on(chat: CoreChat, state: DialogState) -> None:
    """What a member who just wants to be done does: the first real choice (or the one the walk
    needs, ``PREFERRED``), or a plain answer."""
    preferred = PREFERRED.get((state.dialog, state.step))
    for offer in state.offered or ():
        if preferred is not None and offer.get("l") == preferred:
            await chat.press_data(DialogChoice(state.nonce, offer["c"]).pack(), "m")
            return
    for offer in state.offered or ():
        if offer.get("c") not in ("x", "back") and not offer.get("t"):
            await chat.press_data(DialogChoice(state.nonce, offer["c"]).pack(), "m")
            return
    await chat.say("张三")


def _visible(char: str) -> bool:
    """Shows something: not a space, control, format character, lone mark, surrogate, unassigned
    code point or a letter that is blank by design (Hangul fillers, the blank braille cell)."""
    return (char not in "\u115f\u1160\u3164\uffa0\u2800" and unicodedata.category(char)
            not in ("Zs", "Zl", "Zp", "Cc", "Cf", "Mn", "Me", "Cs", "Cn"))


async def _check_saved(app: App) -> None:
    """Every value of a typed field: storable, with something visible, within its step's limit;
    names with a letter."""
    limits: dict[object, int] = {}
    for (dialog, step), column in COLUMNS.items():
        limit = app.core.registry.dialogs[dialog].step(step).max_len
        assert limit is not None
        limits[column] = max(limit, limits.get(column, limit))  # several steps may write it
    async with session_factory(app.engine)() as session:
        for column, limit in limits.items():
            if column.key == "payload":
                continue
            for value in await session.scalars(select(column).where(column.is_not(None))):
                assert not UNSTORABLE.search(value), (column, value)
                assert any(_visible(c) for c in value), (column, value)
                assert len(value) <= limit, (column, len(value))
                if column in NAME_COLUMNS:
                    assert any(unicodedata.category(c).startswith("L") for c in value), value
        for model, attr in ((ProblemEvidence, ProblemEvidence.file_name), (Identity, Identity.display_name)):
            for value in await session.scalars(select(attr).where(attr.is_not(None))):
                assert not UNSTORABLE.search(value) and len(value) <= 200, (model, value)


_WORLDS: dict[int, World] = {}


@pytest.mark.parametrize(("dialog", "step"), _steps())
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=TEXTS)
async def test_any_text_at_any_typed_step(app: App, branch: Branch, db_url: str, dialog: str,
                                          step: str, text: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("the acceptance's walk is on PostgreSQL (SQLite now keeps the same limits)")
    world = await _world(app, branch, _WORLDS)
    chat = await ENTRIES[dialog](world)
    for _ in range(15):  # to the step, as a member pressing the first choice would
        state = await _state(app, chat)
        assert state is not None and state.dialog == dialog, (dialog, chat.text)
        if state.step == step:
            break
        if state.step in (CONFIRM, FIELDS):  # an answer given before (述学): change that field
            wanted = "edit" if state.step == CONFIRM else next(
                o["c"] for o in state.offered or () if o.get("v") == step)
            await chat.press_data(DialogChoice(state.nonce, wanted).pack(), "m")
            continue
        await _go_on(chat, state)
    else:
        raise AssertionError(f"{dialog}.{step} not reached")

    await chat.say(text)
    state = await _state(app, chat)
    _check_answered(chat, state)
    asked_again = state is not None and state.dialog == dialog and state.step == step
    event("asked again" if asked_again else "taken")
    for _ in range(30):  # on to the end: no dialog may keep a member in it
        if state is None or state.dialog != dialog:
            break
        await _go_on(chat, state)
        state = await _state(app, chat)
        _check_answered(chat, state)
    else:
        raise AssertionError(f"{dialog} stuck at {state.step if state else None}: {chat.text}")
    await _check_saved(app)
