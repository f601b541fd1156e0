"""End to end over real HTTP: python-telegram-bot's own request stack and polling loop (or webhook)
against the loopback Bot API server, with state and records in SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select, update
from telegram.ext import Application

from bot.runtime.app import build_app
from handlers.core.i18n import DEFAULT_TEXTS as t
from storage.db import session_factory
from storage.models import DialogState, StudyRecord
from tests.botapi import FakeBotApi
from tests.conftest import Branch, make_settings
from tests.telegram_support import USER, join, scalar_count, texts


async def test_join_and_study_over_telegram(polling: Application, api: FakeBotApi, branch: Branch,
                                            db_url: str) -> None:
    await join(api, branch.org.invite_code)
    calls = await api.say(USER, "/study")
    assert calls[-1].button_labels()[:3] == ["集中学习", "自学", "读书班"]
    prompt_id = calls[-1].message_id
    calls = await api.press(USER, "集中学习")
    assert [c.method for c in calls] == ["editMessageText", "answerCallbackQuery"]
    shown = next(m for m in api.messages_in(USER) if m.message_id == prompt_id)
    assert "→ 集中学习\n\n哪天学习的？" in shown.text  # the answer, then the next question in place
    assert shown.button_labels()[:3] == ["今天", "昨天", "前天"]
    await api.press(USER, "今天")
    await api.say(USER, "１．５小时")
    await api.press(USER, "《习近平著作选读》")
    await api.press(USER, "跳过")
    card = api.last_message(USER)
    assert "学习时长：1.5小时" in card.text and card.button_labels() == ["✅ 确认", "✏️ 修改", "取消"]
    calls = await api.press(USER, "✅ 确认")
    assert t("study.saved") in texts(calls)
    assert await scalar_count(db_url, StudyRecord, StudyRecord.minutes == 90) == 1


async def test_edit_delete_cancel_and_expiry_over_telegram(polling: Application, api: FakeBotApi,
                                                           branch: Branch, db_url: str) -> None:
    await join(api, branch.org.invite_code)
    await api.say(USER, "/study")
    await api.press(USER, "自学")
    await api.press(USER, "今天")
    await api.press(USER, "2小时")
    await api.say(USER, "党章")
    await api.press(USER, "跳过")
    await api.press(USER, "✅ 确认")
    calls = await api.say(USER, "/mine")
    assert "党章" in calls[-1].text
    await api.press(USER, "1")
    await api.press(USER, "✏️ 修改")
    await api.press(USER, "✏️ 修改")
    await api.press(USER, "学习时长")
    await api.say(USER, "3小时")
    calls = await api.press(USER, "✅ 确认")
    assert t("record.updated") in texts(calls)
    assert await scalar_count(db_url, StudyRecord, StudyRecord.minutes == 180) == 1
    await api.say(USER, "/mine")
    await api.press(USER, "1")
    await api.press(USER, "🗑 删除")
    calls = await api.press(USER, t("mine.delete_yes"))
    assert t("mine.deleted") in texts(calls)
    assert await scalar_count(db_url, StudyRecord, StudyRecord.deleted_at.is_not(None)) == 1

    await api.say(USER, "/visit")
    calls = await api.say(USER, "/cancel")
    assert texts(calls) == t("dialog.cancelled")
    await api.say(USER, "/study")
    bot_app = build_app(make_settings(db_url))
    async with session_factory(bot_app.engine)() as session, session.begin():
        await session.execute(update(DialogState).values(
            expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    await bot_app.close()
    calls = await api.press(USER, "自学")  # a button of the expired dialog
    assert texts(calls[:-1]) == t("dialog.expired")
    assert calls[-1].method == "answerCallbackQuery"
    assert calls[-1].params.get("text") == t("button.stale")
    calls = await api.say(USER, "今天")
    assert texts(calls) == t("help.hint")


async def test_group_chat_hands_off_to_a_private_deep_link(polling: Application, api: FakeBotApi,
                                                           branch: Branch) -> None:
    await join(api, branch.org.invite_code)
    calls = await api.say(USER, "/study@branchbot_test_bot", chat_id=-100200, chat_type="group",
                          chat_title="第一支部群")
    (reply,) = calls
    assert reply.text == t("group.go_private")
    assert reply.buttons() == [[{"text": t("group.open_private"),
                                 "url": "https://t.me/branchbot_test_bot?start=study"}]]
    calls = await api.say(USER, "/start study")
    assert "请选择学习形式" in calls[-1].text


async def test_forged_callback_and_a_stranger(polling: Application, api: FakeBotApi,
                                              branch: Branch) -> None:
    await join(api, branch.org.invite_code)
    await api.say(USER, "/study")
    message_id = api.last_message(USER).message_id
    since = len(api.calls)
    api.push_callback(USER, "d:forged:0", message_id=message_id)
    answer = await api.wait_for(lambda c: c.method == "answerCallbackQuery", since=since)
    assert answer.params.get("text") == t("button.stale")
    calls = await api.say(2002, "/study", first_name="陌生人")
    assert texts(calls) == t("auth.not_member")


# --- a real process, killed mid-dialog, and webhook mode ---------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def wait_listening(port: int, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)
        else:
            writer.close()
            return


class BotProcess:
    """`branchbot run` as its own process, configured only by environment variables."""

    def __init__(self, db_url: str, api: FakeBotApi, tmp_path: Path, **env: str) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("BRANCHBOT_")}
        self.env.update({
            "BRANCHBOT_DATABASE_URL": db_url, "BRANCHBOT_TELEGRAM_TOKEN": api.token,
            "BRANCHBOT_TELEGRAM_BASE_URL": api.base_url,
            "BRANCHBOT_TELEGRAM_BASE_FILE_URL": api.base_file_url,
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
            "BRANCHBOT_PUSHES_ENABLED": "false", **env,
        })
        self.cwd, self.log = tmp_path, tmp_path / "bot.log"
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self, api: FakeBotApi, ready: str) -> None:
        """Start, and wait for the Bot API call ``ready`` (deleteWebhook: polling begins next;
        setWebhook: the webhook is registered)."""
        since = len(api.calls)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=self.cwd,
                                            env=self.env, stdout=log, stderr=subprocess.STDOUT)
        await api.wait_for(lambda c: c.method == ready, timeout=30, since=since)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    async def interrupt(self) -> int | None:
        """Ctrl-C, waited for without blocking the loop the fake server answers on."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        for _ in range(200):
            if self.process.poll() is not None:
                break
            await asyncio.sleep(0.1)
        return self.process.poll()


async def test_killed_mid_dialog_continues_after_restart(db_url: str, api: FakeBotApi,
                                                         branch: Branch, tmp_path: Path) -> None:
    bot = BotProcess(db_url, api, tmp_path)
    await bot.start(api, "deleteWebhook")
    await join(api, branch.org.invite_code)
    await api.say(USER, "/study")
    await api.press(USER, "专题党课")
    await api.press(USER, "今天")
    bot.kill()  # SIGKILL: no shutdown, no goodbye

    await bot.start(api, "deleteWebhook")
    calls = await api.say(USER, "两小时")  # the next message continues the same dialog
    assert "学习了什么" in calls[-1].text
    await api.press(USER, "《党的二十大报告辅导读本》")
    await api.press(USER, "跳过")
    await api.press(USER, "✅ 确认")
    assert await bot.interrupt() == 0
    assert await scalar_count(db_url, StudyRecord) == 1
    assert await scalar_count(db_url, StudyRecord, StudyRecord.minutes == 120,
                              StudyRecord.form == "专题党课") == 1
    assert "Traceback" not in bot.log.read_text(encoding="utf-8", errors="replace")


async def test_a_redelivered_update_is_handled_once(polling: Application, api: FakeBotApi,
                                                    branch: Branch, db_url: str) -> None:
    await join(api, branch.org.invite_code)
    await api.say(USER, "/study")
    await api.press(USER, "自学")
    await api.press(USER, "今天")
    update_id = api.push_message(USER, "2")
    await api.wait_for(lambda c: c.method == "sendMessage" and "学习了什么" in (c.text or ""))
    core = polling.handlers[0][0].callback  # the adapter's handler, fed the same update again
    from telegram import Update

    payload = {"update_id": update_id, "message": {
        "message_id": 999, "date": 0, "chat": {"id": USER, "type": "private"},
        "from": {"id": USER, "is_bot": False, "first_name": "李娜"}, "text": "2"}}
    since = len(api.calls)
    await core(Update.de_json(payload, polling.bot), None)  # type: ignore[arg-type]
    await asyncio.sleep(0.2)
    assert [c for c in api.calls[since:] if c.method == "sendMessage"] == []
    bot_app = build_app(make_settings(db_url))
    async with session_factory(bot_app.engine)() as session:
        state = await session.scalar(select(DialogState))
    await bot_app.close()
    assert state is not None and state.step == "content"  # not pushed on by the copy


async def test_webhook_mode_checks_the_secret(db_url: str, api: FakeBotApi, branch: Branch,
                                              tmp_path: Path) -> None:
    import aiohttp

    port = free_port()
    url = f"http://127.0.0.1:{port}/tg/hook"
    bot = BotProcess(db_url, api, tmp_path, BRANCHBOT_TELEGRAM_WEBHOOK_URL=url,
                     BRANCHBOT_TELEGRAM_WEBHOOK_SECRET="s3cret-Token",
                     BRANCHBOT_TELEGRAM_WEBHOOK_PORT=str(port))
    await bot.start(api, "setWebhook")
    await wait_listening(port)  # PTB registers the webhook a moment before it listens
    try:
        assert api.webhook_url == url and api.webhook_secret == "s3cret-Token"
        await join(api, branch.org.invite_code)  # updates arrive by POST with the secret header
        calls = await api.say(USER, "/study")
        assert "请选择学习形式" in calls[-1].text
        async with aiohttp.ClientSession() as client:
            forged = {"update_id": 10**6, "message": {
                "message_id": 1, "date": 0, "chat": {"id": USER, "type": "private"},
                "from": {"id": USER, "is_bot": False, "first_name": "x"}, "text": "/cancel"}}
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with client.post(url, json=forged, headers=headers) as response:
                    assert response.status == 403
        await asyncio.sleep(0.2)
        assert await scalar_count(db_url, DialogState) == 1  # the forged /cancel did nothing
    finally:
        assert await bot.interrupt() == 0


async def test_keyboards_reach_telegram_as_ptbs_own_objects_would_send_them(api: FakeBotApi) -> None:
    """The adapter writes its inline keyboards straight as the Bot API's JSON
    (``bot.adapters.telegram.markup``): what the server receives over HTTP is what PTB's
    ``InlineKeyboardButton`` objects would have sent, a callback and a deep link alike."""
    import json

    from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

    from bot.adapters.telegram.adapter import keyboard
    from handlers.core.events import Button

    api.push_message(4242, "/start")  # a chat the fake knows
    buttons = ((Button("确认", data="d:abc:ok"), Button("取消", data="d:abc:no")),
               (Button("去私聊", start="study"),))
    ours = keyboard(buttons, "bb_bot")
    theirs = InlineKeyboardMarkup([[InlineKeyboardButton("确认", callback_data="d:abc:ok"),
                                    InlineKeyboardButton("取消", callback_data="d:abc:no")],
                                   [InlineKeyboardButton("去私聊", url="https://t.me/bb_bot?start=study")]])
    async with Bot(api.token, base_url=api.base_url) as bot:
        await bot.send_message(4242, "我们的", reply_markup=ours)
        await bot.send_message(4242, "PTB 的", reply_markup=theirs)
    sent = [c.reply_markup for c in api.calls if c.method == "sendMessage"][-2:]
    assert sent[0] == sent[1] == json.loads(json.dumps(theirs.to_dict()))
    assert ours == keyboard(buttons, "bb_bot") and ours != keyboard(buttons[:1], "bb_bot")
