"""The WeCom AI bot end to end: the real adapter (lease, long connection, handling) against the
fake long-connection server on loopback. A connection dropped in the middle of a dialog, a
callback delivered again (after a reconnect, after a restart), /bindgroup and the 述学 prompt in
a WeCom group with its button, and a second process standing by."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.adapters.wecom_bot.connection import State
from bot.runtime.app import build_app
from bot.runtime.pushes import Pushes
from handlers.core.i18n import DEFAULT_TEXTS as t
from storage.db import session_factory
from storage.models import GroupChat, OutboxMessage, OutboxStatus, ShuxueSchedule, StudyRecord
from storage.types import utcnow
from tests.conftest import Branch
from tests.fakes.wecom_aibot.server import FakeAiBot
from tests.telegram_support import scalar_count
from tests.wecom_bot_support import (
    GROUP,
    SECRETARY,
    USER,
    Chat,
    adapter_for,
    aibot_settings,
    frame_text,
    join,
    running,
)


async def test_a_connection_dropped_mid_dialog_loses_nothing_and_handles_nothing_twice(
        db_url: str, branch: Branch) -> None:
    async with FakeAiBot() as fake, running(db_url, fake) as adapter:
        chat = Chat(fake, adapter)
        await join(chat, branch.org.invite_code)
        await chat.say("/study")
        await chat.press("专题党课")
        await chat.press("今天")
        # The answer to "两小时" is on its way when the network fails: WeCom never acknowledges it.
        fake.silent.add("aibot_respond_msg")
        since = len(fake.received)
        typed = await fake.push_text(USER, "两小时")
        chat.pushed[typed.req_id] = USER
        await fake.wait_for(lambda r: r.cmd == "aibot_respond_msg" and r.req_id == typed.req_id)
        await fake.drop()
        fake.silent.clear()
        await fake.wait_subscriptions(2)  # reconnected (with backoff)
        await chat.settle(since)
        resent = [f for f in chat.frames(since) if f.cmd == "aibot_send_msg"]
        assert [f.connection for f in resent] == [2]  # sent again once, on the new connection
        assert "学习了什么" in frame_text(resent[0].body)
        # WeCom delivers the same message again after the reconnect: dropped, not answered.
        since = len(fake.received)
        await fake.redeliver(typed)
        await chat.settle(since)
        assert chat.frames(since) == []
        await chat.press("《党的二十大报告辅导读本》")
        await chat.press("跳过")
        assert t("study.saved") in await chat.press("✅ 确认")
    assert await scalar_count(db_url, StudyRecord) == 1
    assert await scalar_count(db_url, StudyRecord, StudyRecord.minutes == 120,
                              StudyRecord.form == "专题党课") == 1


async def test_a_callback_delivered_again_to_a_restarted_bot_is_handled_once(
        db_url: str, branch: Branch) -> None:
    async with FakeAiBot() as fake:
        async with running(db_url, fake) as adapter:
            chat = Chat(fake, adapter)
            await join(chat, branch.org.invite_code)
            since = len(fake.received)
            first = await fake.push_text(USER, "/study")
            chat.pushed[first.req_id] = USER
            await chat.settle(since)
            assert "请选择学习形式" in "".join(frame_text(f.body) for f in chat.frames(since))
        async with running(db_url, fake) as restarted:  # a new process: its memory is empty
            chat = Chat(fake, restarted, pushed=chat.pushed)
            since = len(fake.received)
            again = await fake.redeliver(first)
            chat.pushed[again.req_id] = USER
            await chat.settle(since)
            assert chat.frames(since) == []  # the database remembers it was handled
            assert "哪天学习的" in await chat.press("自学")  # the dialog is where it was


async def test_bindgroup_and_the_shuxue_prompt_with_its_button_in_the_group(
        db_url: str, branch: Branch) -> None:
    async with FakeAiBot() as fake, running(db_url, fake, quiet_hours="00:00-00:00") as adapter:
        secretary = Chat(fake, adapter, user=SECRETARY)
        await join(secretary, branch.org.invite_code, name="王书记")
        in_group = secretary.where(GROUP)
        assert await in_group.say("/bindgroup 000000") == t("bindgroup.bad_code")
        assert await in_group.say(f"/bindgroup {branch.org.invite_code}") == t(
            "bindgroup.done", org=branch.org.name)
        assert await in_group.say("怎么填述学？") == t("help.group")  # an @ with no command: a hint
        member = Chat(fake, adapter)
        await join(member, branch.org.invite_code)
        app = build_app(aibot_settings(db_url, fake, quiet_hours="00:00-00:00"))
        local = (utcnow() - timedelta(minutes=30)).astimezone(app.settings.tz)
        async with session_factory(app.engine)() as session, session.begin():
            assert (await session.scalars(select(GroupChat.platform).where(
                GroupChat.chat_id == GROUP))).all() == ["wecom_bot"]
            session.add(ShuxueSchedule(org_id=branch.org.id, weekday=local.weekday(),
                                       time=f"{local.hour:02d}:{local.minute:02d}", every_weeks=1,
                                       remind_after_days=6, remind_time="23:59"))
        pushes = Pushes(app, (adapter.sender, adapter.limits))
        try:
            await pushes.tick()
            since = len(fake.received)
            assert await pushes.deliverers[0].drain() >= 1
        finally:
            await app.close()
        group = member.where(GROUP)
        (prompt,) = [f for f in group.frames(since)]
        assert prompt.cmd == "aibot_send_msg" and prompt.body["msgtype"] == "template_card"
        assert frame_text(prompt.body).startswith("📣 本周述学（") and "私聊填写" in frame_text(prompt.body)
        # The button in the group opens 述学 in the member's 1:1 chat; the group's card stays.
        since = len(fake.received)
        assert await group.press(t("push.shuxue_button")) == ""
        opened = "\n".join(frame_text(f.body) for f in member.frames(since))
        assert "1/3 自学情况" in opened
        assert [f for f in fake.frames("aibot_respond_update_msg")
                if group.pushed.get(f.req_id) == GROUP] == []


async def test_a_second_process_stands_by_until_the_first_lets_go(db_url: str,
                                                                  branch: Branch) -> None:
    async with FakeAiBot() as fake, running(db_url, fake) as first:
        second_app = build_app(aibot_settings(db_url, fake))
        second = adapter_for(second_app, fake)
        await second.start()
        try:
            await asyncio.sleep(1.0)  # two renewals of the first's lease
            assert fake.subscriptions == 1 and fake.live == 1  # no fight for the connection
            assert second.connection.state is not State.LIVE and not second.sender.ready
            await first.stop()  # lets go of its lease at once
            await fake.wait_subscriptions(2)
            await asyncio.wait_for(second.connection.wait_live(), 5)
            chat = Chat(fake, second)
            await join(chat, branch.org.invite_code)
        finally:
            await second.stop()
            await second_app.close()
        async with session_factory(second_app.engine)() as session:
            assert await session.scalar(select(OutboxMessage.id).where(
                OutboxMessage.status == OutboxStatus.failed)) is None
