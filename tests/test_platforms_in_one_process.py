"""Several platforms in one process (BRANCHBOT_PLATFORMS): the WeCom app and the WeCom AI bot run
by the real runner over one database, planner and outbox. A member known on both gets each push
once, on the platform they used last or chose; a setting names an unknown platform clearly."""

from __future__ import annotations

import asyncio
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import delete, select, update

from bot.adapters.wecom.bot import robot_chat_id
from bot.adapters.wecom.run import WeComAdapter
from bot.adapters.wecom_bot.run import WeComAiBotAdapter
from bot.runtime.app import build_app
from bot.runtime.multi import serve
from bot.runtime.platforms import platform
from bot.runtime.pushes import plan_config
from handlers.core.i18n import DEFAULT_TEXTS as t
from handlers.schedule.planner import plan
from storage.db import session_factory
from storage.models import GroupChat, Member, OutboxMessage, OutboxStatus, ShuxueSchedule
from storage.repositories.recipients import RecipientRepository
from storage.types import utcnow
from tests import wecom_bot_support, wecom_support
from tests.conftest import Branch, make_settings
from tests.fakes.wecom_aibot.server import FakeAiBot
from tests.test_cli import cli, query
from tests.test_telegram_e2e import free_port
from tests.wecomapi import AES_KEY, AGENT_ID, CORP_ID, TOKEN, FakeWeCom


def test_the_platforms_setting_names_what_it_cannot_run() -> None:
    settings = make_settings("sqlite+aiosqlite://", platforms=" wecom , wecom_bot ")
    assert settings.platform_names == ("wecom", "wecom_bot")
    assert make_settings("sqlite+aiosqlite://", platform="wecom").platform_names == ("wecom",)
    for wrong, says in (("wecom,whatsapp", "no adapter for platform 'whatsapp'"),
                        ("wecom,wecom", "named twice"), ("console,wecom", "console runs alone"),
                        ("../wecom", "no adapter")):
        with pytest.raises(ValidationError, match=says):
            make_settings("sqlite+aiosqlite://", platforms=wrong)
    assert platform("wecom_bot").missing(settings) == ["BRANCHBOT_WECOM_BOT_ID",
                                                       "BRANCHBOT_WECOM_BOT_SECRET"]


async def test_two_adapters_in_one_process_send_a_member_known_on_both_one_push(
        db_url: str, branch: Branch, fake: FakeWeCom) -> None:
    async with FakeAiBot() as aibot:
        settings = make_settings(
            db_url, platforms="wecom,wecom_bot", quiet_hours="00:00-00:00",
            wecom_corp_id=CORP_ID, wecom_agent_id=AGENT_ID, wecom_secret=fake.secret,
            wecom_token=TOKEN, wecom_aes_key=AES_KEY, wecom_port=free_port(),
            wecom_api_base_url=fake.base_url, wecom_bot_id=wecom_bot_support.BOT_ID,
            wecom_bot_secret=wecom_bot_support.SECRET, wecom_bot_ws_url=aibot.url)
        app = build_app(settings)
        adapters = [platform(name).build(app) for name in settings.platform_names]
        app_adapter, bot_adapter = adapters
        assert isinstance(app_adapter, WeComAdapter) and isinstance(bot_adapter, WeComAiBotAdapter)
        stop = asyncio.Event()
        running = asyncio.create_task(serve(app, adapters, stop))
        try:
            await asyncio.wait_for(bot_adapter.connection.wait_live(), 30)
            fake.callback_url = f"http://127.0.0.1:{settings.wecom_port}{settings.wecom_path}"
            await wecom_support.join(fake, branch.org.invite_code)  # 李娜 on the app
            chat = wecom_bot_support.Chat(aibot, bot_adapter)
            await wecom_bot_support.join(chat, branch.org.invite_code)  # …then on the AI bot
            local = (utcnow() - timedelta(minutes=30)).astimezone(settings.tz)
            async with app.core.sessions() as session, session.begin():
                session.add(ShuxueSchedule(  # prompt half an hour ago, reminder just now
                    org_id=branch.org.id, weekday=local.weekday(),
                    time=f"{local.hour:02d}:{local.minute:02d}", every_weeks=1,
                    remind_after_days=0, remind_time=f"{local.hour:02d}:{local.minute:02d}"))
            async with app.core.sessions() as session, session.begin():
                await plan(session, utcnow(), plan_config(app, settings.platform_names))
            assert app.core.on_enqueue is not None
            app.core.on_enqueue()  # as the scheduler's minute does: the deliverers wake
            async with asyncio.timeout(30):
                while True:
                    async with app.core.sessions() as session:
                        rows = list(await session.scalars(select(OutboxMessage).where(
                            OutboxMessage.member_id == branch.roster_only.id)))
                    if rows and all(r.status is OutboxStatus.sent for r in rows):
                        break
                    await asyncio.sleep(0.1)
            assert [(r.kind, r.platform, r.chat_id) for r in rows] == [
                ("shuxue_remind", "wecom_bot", "LiNa")]  # once, where she wrote last
            reminder = t("push.shuxue_remind", period=f"{local.month}月{local.day}日")
            assert [f for f in aibot.frames("aibot_send_msg")
                    if f.body["chatid"] == "LiNa" and reminder in str(f.body)]
            assert not [c for c in fake.sent_to("LiNa") if reminder in c.text]
            # She writes on the app now: that is where she is told things next.
            await fake.say(wecom_support.USER, "/help")
            async with app.core.sessions() as session:
                find = RecipientRepository(session).find
                (told,) = await find(settings.platform_names, members=[branch.roster_only.id])
                assert (told.platform, told.chat_id) == ("wecom", "LiNa")
        finally:
            stop.set()
            await running
    # Her own choice comes first; a platform not running is passed over.
    bot_app = build_app(make_settings(db_url))
    try:
        async with session_factory(bot_app.engine)() as session:
            await session.execute(update(Member).where(Member.id == branch.roster_only.id)
                                  .values(preferred_platform="wecom_bot"))
            find = RecipientRepository(session).find
            (told,) = await find(("wecom", "wecom_bot"), members=[branch.roster_only.id])
            assert told.platform == "wecom_bot"
            (told,) = await find(("wecom",), members=[branch.roster_only.id])
            assert told.platform == "wecom"
            assert await find(("telegram",), members=[branch.roster_only.id]) == []
    finally:
        await bot_app.close()


def test_the_operator_sets_where_a_members_pushes_go(tmp_path: Path) -> None:
    assert cli(tmp_path, "demo", "--no-chat").returncode == 0
    chosen = cli(tmp_path, "member", "prefer", "李娜", "console")
    assert chosen.returncode == 0 and chosen.stdout.strip() == t(
        "cli.prefer_set", name="李娜", platform="console")
    assert query(tmp_path, "SELECT preferred_platform FROM members WHERE name = '李娜'") == [
        ("console",)]
    for args, says in ((("李娜", "wecom_bot"), t("cli.prefer_not_there", name="李娜",
                                                   platform="wecom_bot")),
                       (("无此人", "wecom"), t("cli.no_such_member", name="无此人"))):
        refused = cli(tmp_path, "member", "prefer", *args)
        assert refused.returncode == 1 and refused.stderr.strip().endswith(says)
        assert "Traceback" not in refused.stderr
    assert cli(tmp_path, "member", "prefer", "李娜", "auto").returncode == 0
    assert query(tmp_path, "SELECT preferred_platform FROM members WHERE name = '李娜'") == [
        (None,)]


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    assert cli(tmp_path, "db", "upgrade").returncode == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli(tmp_path, "run", env={
            "BRANCHBOT_PLATFORM": "wecom", "BRANCHBOT_WECOM_CORP_ID": CORP_ID,
            "BRANCHBOT_WECOM_AGENT_ID": str(AGENT_ID), "BRANCHBOT_WECOM_SECRET": "s",
            "BRANCHBOT_WECOM_TOKEN": TOKEN, "BRANCHBOT_WECOM_AES_KEY": AES_KEY,
            "BRANCHBOT_WECOM_PORT": str(port), "BRANCHBOT_PUSHES_ENABLED": "false"})
    assert result.returncode == 1 and "无法启动" in result.stderr
    assert "Traceback" not in result.stderr


async def test_a_branch_group_bound_two_ways_reads_each_prompt_once(db_url: str, branch: Branch) -> None:
    """The branch's 支部群 holds both the WeCom group robot and the AI bot: the 述学 prompt goes
    there once, through the first of the running platforms; the other branch's group still gets
    its own."""
    bot_app = build_app(make_settings(db_url, quiet_hours="00:00-00:00"))
    try:
        local = (utcnow() - timedelta(minutes=30)).astimezone(bot_app.settings.tz)
        async with session_factory(bot_app.engine)() as session, session.begin():
            for org in (branch.org, branch.other):
                session.add(ShuxueSchedule(org_id=org.id, weekday=local.weekday(),
                                           time=f"{local.hour:02d}:{local.minute:02d}", every_weeks=1))
            session.add_all([
                GroupChat(org_id=branch.org.id, platform="wecom", chat_id=robot_chat_id(branch.org.id),
                          bound_by_id=branch.secretary.id,
                          webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k1"),
                GroupChat(org_id=branch.org.id, platform="wecom_bot", chat_id="wrkBranchGroup",
                          bound_by_id=branch.secretary.id),
                GroupChat(org_id=branch.other.id, platform="wecom", chat_id=robot_chat_id(branch.other.id),
                          bound_by_id=branch.secretary.id,
                          webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k2")])
        for platforms, theirs in ((("wecom_bot", "wecom"), ("wecom_bot", "wrkBranchGroup")),
                                  (("wecom", "wecom_bot"), ("wecom", robot_chat_id(branch.org.id)))):
            async with session_factory(bot_app.engine)() as session, session.begin():
                await session.execute(delete(OutboxMessage))
                await plan(session, utcnow(), plan_config(bot_app, platforms))
            async with session_factory(bot_app.engine)() as session:
                prompts = sorted((r.org_id, r.platform, r.chat_id) for r in await session.scalars(
                    select(OutboxMessage).where(OutboxMessage.kind == "shuxue_prompt")))
            assert prompts == sorted([(branch.org.id, *theirs),
                                      (branch.other.id, "wecom", robot_chat_id(branch.other.id))])
    finally:
        await bot_app.close()
