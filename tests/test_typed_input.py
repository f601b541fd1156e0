"""Issue 11 item 3, through the real adapters: what a member types is what is saved.

The console by script (and as a process, for ``²``), WeCom's callbacks over loopback, Telegram
against the loopback Bot API: a typed number at a step that takes numbers is that number; lists
and their buttons share numbers; typing a button's label presses it; a push never takes the
dialog's numbers; WeCom's typed choices survive a restart.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from telegram.ext import Application

from bot.adapters.console import PLATFORM as CONSOLE
from bot.adapters.console.chat import ConsoleChat
from bot.adapters.console.sender import ConsoleSender
from bot.runtime.app import App
from bot.runtime.delivery import Deliverer
from handlers.core.buttons import RemindAgain
from handlers.core.events import Button, payload
from handlers.core.i18n import DEFAULT_TEXTS as t
from storage.db import session_factory
from storage.models import Meeting, Member, StudyRecord, Visit
from storage.repositories.members import MemberRepository
from storage.repositories.outbox import OutboxRepository, Planned
from storage.types import utcnow
from tests.botapi import FakeBotApi
from tests.conftest import SECRETARY_TELEGRAM_USERNAME, Branch
from tests.joining import bound_chat
from tests.telegram_support import USER as TG_USER
from tests.telegram_support import join as tg_join
from tests.telegram_support import scalar_count
from tests.test_cli import cli
from tests.wecom_support import USER, join, serving, texts
from tests.wecomapi import FakeWeCom

SECRETARY = 1007  # 王书记's Telegram account: the roster has its @username


async def _rows(app: App, model: type, *where: object) -> list:
    async with session_factory(app.engine)() as session:
        return list(await session.scalars(select(model).where(*where).order_by(model.id)))


class Console:
    """A console chat fed one line at a time, its output kept (as a terminal shows it)."""

    def __init__(self, app: App, user_id: str, name: str) -> None:
        self.out = io.StringIO()
        self.chat = ConsoleChat(app.core, user_id=user_id, user_name=name, out=self.out)

    @classmethod
    async def bound(cls, app: App, member: Member, user_id: str) -> Console:
        """The console of a roster member the operator bound (as ``chat --as`` does)."""
        await bound_chat(app, member, user_id, platform=CONSOLE)
        return cls(app, user_id, member.name)

    async def type(self, *lines: str) -> str:
        """The output of these lines only."""
        start = len(self.out.getvalue())
        for line in lines:
            self.chat._print(f"👤 {line}")
            await self.chat.send(line)
        return self.out.getvalue()[start:]


async def test_console_numbers_typed_at_number_steps_are_values(app: App, branch: Branch) -> None:
    lina = await Console.bound(app, branch.roster_only, "c1")
    out = await lina.type("/study", "2", "A")  # 自学 (buttons only: 2), 今天 (a dated step: A)
    assert "[A] 0.5小时  [B] 1小时" in out and t("select.letters") in out
    out = await lina.type("2", "党章", "跳过")  # "2" at 时长 is 2 hours, not the second button
    assert "学习时长：2小时" in out
    out = await lina.type("确认")  # the label typed works like the button
    assert t("study.saved") in out
    await lina.type("/visit", "2", "A", "幸福社区", "张大爷", "助餐点远")
    out = await lina.type("2", "跳过", "✅确认")  # "2" problems solved, not button 2 ("1")
    assert "现场解决问题数：2" in out and t("visit.saved") in out
    (record,) = await _rows(app, StudyRecord)
    (visit,) = await _rows(app, Visit)
    assert record.minutes == 120 and visit.solved_count == 2


async def test_console_lists_and_their_buttons_share_numbers(app: App, branch: Branch) -> None:
    lina = await Console.bound(app, branch.roster_only, "c1")
    for content in ("第一篇", "第二篇", "第三篇", "第四篇"):
        await lina.type("/study", "2", "A", "1", content, "跳过", "1")
    out = await lina.type("/mine")
    assert "4. 学习" in out and "[4]" in out
    fourth = next(line for line in out.splitlines() if "4. 学习" in line)
    out = await lina.type("4")  # line 4 of the list, whatever the buttons are
    assert fourth.split("：")[-1] in out and "[1] ✏️ 修改  [2] 🗑 删除  [3] 返回" in out
    out = await lina.type("删除", "确认删除")  # labels typed
    assert t("mine.deleted") in out
    live = await _rows(app, StudyRecord, StudyRecord.deleted_at.is_(None))
    assert {r.content for r in live} == {"第二篇", "第三篇", "第四篇"}  # the oldest, line 4, went


async def test_console_a_push_mid_dialog_leaves_the_numbers_alone(app: App, branch: Branch) -> None:
    """The issue's case: a secretary choosing a meeting type when the 述学 digest arrives."""
    lina = await Console.bound(app, branch.roster_only, "c1")
    secretary = await Console.bound(app, branch.secretary, "c7")
    out = await secretary.type("/meeting", "1")
    assert "[A] 支部党员大会" in out
    period = date.today() - timedelta(days=date.today().weekday())
    digest = payload("📋 述学情况：已填 0/2。",
                     ((Button(t("push.nudge_again"), data=RemindAgain(branch.org.id, period).pack()),),))
    async with session_factory(app.engine)() as session, session.begin():
        await OutboxRepository(session).enqueue([Planned(
            "digest-test", "shuxue_digest", "console", "c7", digest, utcnow(), False,
            branch.org.id, branch.secretary.id)])
    assert await Deliverer(app.core.sessions, ConsoleSender(secretary.chat)).drain() == 1
    assert f"[#1] {t('push.nudge_again')}" in secretary.out.getvalue()
    assert t("select.push") in secretary.out.getvalue()
    out = await secretary.type("A")  # still the dialog's A
    assert "  ✓ 支部党员大会" in out and t("meeting.ask_date") in out
    out = await secretary.type("#1")  # the push's own button
    assert t("push.renudged", count=2) in out
    out = await secretary.type("#2")
    assert t("button.stale") in out
    out = await secretary.type("A", "14:30-16:30")  # the dialog went on where it was
    assert t("meeting.ask_place") in out


async def test_console_report_files_stay_in_their_folder(app: App, branch: Branch,
                                                         tmp_path: Path) -> None:
    """A member named like a path: the report's file lands in the console's folder."""
    async with session_factory(app.engine)() as session, session.begin():
        member = await MemberRepository(session).add(branch.org, "../../逃逸")
        await MemberRepository(session).bind(member, platform="console", user_id="c9",
                                             display_name="x")
    folder = tmp_path / "a" / "files"
    folder.mkdir(parents=True)
    out = io.StringIO()
    chat = ConsoleChat(app.core, user_id="c9", user_name="x", out=out, files_dir=str(folder))
    await chat.send("/report")
    written = sorted(p.name for p in folder.iterdir())
    assert written and all(name.startswith("逃逸") for name in written), out.getvalue()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]  # nothing written above it
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["files"]


def test_console_process_takes_a_superscript_without_a_traceback(tmp_path: Path) -> None:
    assert cli(tmp_path, "demo", "--no-chat").returncode == 0
    chat = cli(tmp_path, "chat", "--as", "李娜", stdin="²\n/study\n²\n1\n²\n/quit\n")
    assert chat.returncode == 0 and "Traceback" not in chat.stderr, chat.stderr
    assert chat.stdout.count(t("dialog.use_buttons")) >= 1  # ² is no form: asked again
    assert "没看懂这个日期" in chat.stdout  # ² is no date either


async def test_wecom_typed_numbers_labels_and_a_restart(fake: FakeWeCom, branch: Branch,
                                                        db_url: str) -> None:
    async with serving(db_url, fake):
        await join(fake, branch.org.invite_code)
        calls = await fake.say(USER, "/study")  # eleven forms: text with the core's numbers
        assert "[2] 自学" in calls[-1].text
    async with serving(db_url, fake):  # a new process: the numbers are in the database
        calls = await fake.say(USER, "2")
        assert "哪天学习的" in texts(calls)
        await fake.say(USER, "今天")  # a card's label typed instead of pressed
        calls = await fake.say(USER, "2")  # 时长: two hours
        assert "学习了什么" in texts(calls)
        await fake.say(USER, "党章")
        calls = await fake.say(USER, "²")  # no crash in rendering: just text
        assert "学习时长：2小时" in texts(calls) and "心得体会：²" in texts(calls)
        calls = await fake.say(USER, "确认")
        assert t("study.saved") in texts(calls)
        assert all(len(c.text.encode()) <= 2048 for c in fake.calls if c.method == "message/send")
    assert await scalar_count(db_url, StudyRecord, StudyRecord.minutes == 120,
                              StudyRecord.reflection == "²") == 1


async def test_wecom_callback_with_a_superscript_timestamp_is_refused(fake: FakeWeCom,
                                                                       branch: Branch,
                                                                       db_url: str) -> None:
    async with serving(db_url, fake):
        query, body = fake.envelope(fake.text_xml(USER, "/help", 5))
        for bad in ("²", "１２３", "12²"):
            assert await fake.post({**query, "timestamp": bad}, body) == 400


async def test_telegram_typed_numbers_and_labels(polling: Application, api: FakeBotApi,
                                                 branch: Branch, db_url: str) -> None:
    await tg_join(api, branch.org.invite_code)
    await api.say(TG_USER, "/study")
    await api.say(TG_USER, "自学")  # a form's label typed
    await api.say(TG_USER, "今天")
    calls = await api.say(TG_USER, "2")  # two hours, not the second button
    assert "学习了什么" in calls[-1].text
    await api.say(TG_USER, "党章")
    calls = await api.say(TG_USER, "跳过")
    assert "学习时长：2小时" in calls[-1].text
    calls = await api.say(TG_USER, "确认")
    assert t("study.saved") in calls[-1].text
    assert await scalar_count(db_url, StudyRecord, StudyRecord.minutes == 120,
                              StudyRecord.form == "自学") == 1


async def test_telegram_a_reply_too_long_for_one_message_is_split(polling: Application,
                                                                  api: FakeBotApi, branch: Branch,
                                                                  db_url: str) -> None:
    """The issue's 2,000-character 议程 and 5,000-character 记录: the card fits one message, the
    dialog goes on to 确认 (nothing stuck), the whole record is saved."""
    await tg_join(api, branch.org.invite_code, user=SECRETARY, name="王书记",
                  username=SECRETARY_TELEGRAM_USERNAME)  # the roster's secretary
    await api.say(SECRETARY, "/meeting")
    await api.press(SECRETARY, t("meeting.new"))
    for press in ("支部党员大会", "今天", "14:30-16:30"):
        await api.press(SECRETARY, press)
    for typed in ("党员活动室", "主题", "王书记", "王书记", "王书记", "议" * 2000):
        await api.say(SECRETARY, typed)
    calls = await api.say(SECRETARY, "记" * 5000)
    assert "请核对" in calls[-1].text and all(len(c.text) <= 4096 for c in calls)
    calls = await api.press(SECRETARY, "✅ 确认")
    assert t("meeting.saved", expected=2) in texts_of(calls)
    (meeting,) = await _rows_at(db_url, Meeting)
    assert len(meeting.record_text or "") == 5000


def texts_of(calls: list) -> str:
    return "\n".join(c.text for c in calls if c.text)


async def _rows_at(db_url: str, model: type) -> list:
    from storage.db import create_engine

    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            return list(await session.scalars(select(model)))
    finally:
        await engine.dispose()


def test_outbox_push_buttons_carry_push_selectors() -> None:
    stored = payload("述学", ((Button("填写述学", start="shuxue"),
                              Button("再提醒", data="n:1:2024-01-01")),))
    assert [b["selector"] for b in stored["buttons"][0]] == ["#1", "#2"]


async def test_telegram_a_problem_card_with_sixty_long_file_names_fits(
        polling: Application, api: FakeBotApi, branch: Branch, db_url: str) -> None:
    """The issue's 60 evidence files with long names: the card names ten, cut, and fits."""
    from storage.db import create_engine
    from storage.models import Problem, ProblemEvent, ProblemEvidence
    from storage.repositories.records import RecordRepository

    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            problem = await RecordRepository(session).create(Problem, branch.secretary, {
                "description": "问" * 1000, "source": "群众反映", "kind": "限期整改",
                "owner_name": "王书记", "owner_id": branch.secretary.id,
                "deadline": date.today() + timedelta(days=30), "measures": "措" * 1000,
                "visit_id": None})
            event = ProblemEvent(problem_id=problem.id, actor_id=branch.secretary.id,
                                 action="edit", note="记" * 1000)
            session.add(event)
            await session.flush()
            session.add_all(ProblemEvidence(problem_id=problem.id, event_id=event.id,
                                            platform="telegram", file_id=f"f{n}",
                                            file_name=f"{n:02d}" + "长" * 190 + ".jpg",
                                            uploaded_by_id=branch.secretary.id)
                            for n in range(60))
    finally:
        await engine.dispose()
    await tg_join(api, branch.org.invite_code, user=SECRETARY, name="王书记",
                  username=SECRETARY_TELEGRAM_USERNAME)
    await api.say(SECRETARY, "/problems")
    await api.press(SECRETARY, "待确认（1）")
    calls = await api.press(SECRETARY, "1")
    (card,) = [c for c in calls if c.method == "editMessageText"]
    assert "佐证材料（60）" in card.text and len(card.text) <= 4096
    assert card.button_labels()[0] == t("problem.act_accept")


async def test_telegram_a_text_over_4096_goes_in_pieces_buttons_last(api: FakeBotApi) -> None:
    """What no reply of the core is, the adapter still never sends: the fake refuses it."""
    from telegram import Bot

    from bot.adapters.telegram.adapter import keyboard, send_text

    api.push_message(4242, "/start")  # a chat the fake knows
    async with Bot(api.token, base_url=api.base_url) as bot:
        markup = keyboard(((Button("确认", data="d:abc:ok"),),), "bb_bot")
        last = await send_text(bot, 4242, ("第一行\n" + "字" * 5000 + "\n") * 2 + "😀" * 3000, markup)
    sent = [c for c in api.calls if c.method == "sendMessage"]
    assert len(sent) >= 4 and all(c.error is None for c in sent)
    assert all(len(c.text.encode("utf-16-le")) // 2 <= 4096 for c in sent)
    assert [c.button_labels() for c in sent][-1] == ["确认"] and not any(
        c.button_labels() for c in sent[:-1])
    assert api.last_message(4242).message_id == last.message_id
