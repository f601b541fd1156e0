"""The DingTalk adapter end to end against the fake DingTalk: duplicates, a lost stretch of the
stream, session webhooks against the OpenAPI, cards updated on a press, files, pushes through
the outbox, and `branchbot run` as its own process with its one-line refusals."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from bot.adapters.dingtalk.api import DingTalkApi
from bot.adapters.dingtalk.files import DingTalkFiles
from bot.adapters.dingtalk.sender import DingTalkSender
from bot.runtime.delivery import PermanentFailure
from handlers.core.events import OutDocument, Reply
from handlers.core.file_source import FileGone
from handlers.core.i18n import DEFAULT_TEXTS as t
from storage.models import StudyRecord
from tests import dingtalk_support as ds
from tests.conftest import Branch
from tests.fakes.dingtalk.server import CLIENT_ID, CLIENT_SECRET, ROBOT_CODE, FakeDingTalk
from tests.joining import approve
from tests.telegram_support import scalar_count
from tests.test_cli import cli, run_process, said


async def _joined(fake: FakeDingTalk, bot_app: object, branch: Branch) -> ds.Chat:
    chat = ds.Chat(fake, ds.USER, "李娜")
    await chat.say(f"/join {branch.org.invite_code}")
    await chat.press("我是 李娜")
    assert "已同意" in await approve(bot_app, ds.USER, "dingtalk")  # type: ignore[arg-type]
    return chat


async def test_a_message_delivered_twice_is_answered_once(db_url: str, branch: Branch) -> None:
    async with FakeDingTalk() as fake, ds.serving(db_url, fake) as (bot_app, _):
        chat = await _joined(fake, bot_app, branch)
        pushed = await fake.say(ds.USER, "/study", nick="李娜")
        await fake.gateway.ack_for(pushed.message_id)
        answers = len(chat.items())
        again = await fake.redeliver(pushed, new_message_id=True)
        assert (await fake.gateway.ack_for(again.message_id)).code == 200
        assert len(chat.items()) == answers  # acknowledged, not answered again


async def test_an_at_in_the_group_with_no_command_gets_the_groups_hint(db_url: str, branch: Branch) -> None:
    async with FakeDingTalk() as fake, ds.serving(db_url, fake) as (bot_app, _):
        await _joined(fake, bot_app, branch)
        group = ds.Chat(fake, ds.USER, "李娜", group=ds.GROUP)
        assert ds.texts(await group.say("怎么填述学？")) == t("help.group")


async def test_a_press_updates_its_card_and_a_stale_one_is_told(db_url: str, branch: Branch) -> None:
    async with FakeDingTalk() as fake, ds.serving(db_url, fake) as (bot_app, _):
        chat = await _joined(fake, bot_app, branch)
        await chat.say("/study")
        await chat.press("自学")
        (card,) = [item for item in chat.items() if ds.card_values(item).get("今天")]
        await chat.press("今天")
        assert card.params["chosen"] == "今天"  # the card shows the choice, its buttons gone
        assert ds.card_values(card) == {}
        before = len(chat.items())
        await fake.press(ds.USER, card.out_track_id, json.loads(card.params["buttons"])[1]["value"])
        assert ds.texts(chat.items()[before:]) == t("button.stale")


async def test_replies_go_by_the_openapi_once_the_session_webhook_expired(
        db_url: str, branch: Branch) -> None:
    async with FakeDingTalk() as fake, ds.serving(db_url, fake, cards=False) as (bot_app, _):
        chat = await _joined(fake, bot_app, branch)
        said = await chat.say("/help")
        assert {item.via for item in said} == {"webhook"}  # type: ignore[union-attr]
        fake.api.expire_sessions()
        fake.webhook_seconds = 30  # within the margin: not even tried
        said = await chat.say("/help")
        assert said and {item.via for item in said} == {"openapi"}  # type: ignore[union-attr]


async def test_a_lost_stretch_of_the_stream_is_told_to_who_wrote_lately(
        db_url: str, branch: Branch) -> None:
    async with FakeDingTalk() as fake, ds.serving(db_url, fake) as (bot_app, bot):
        chat = await _joined(fake, bot_app, branch)
        await fake.gateway.drop()
        lost = await fake.say(ds.USER, "/study", nick="李娜")
        assert not lost.delivered  # DingTalk pushes robot messages once: this one is gone
        await fake.gateway.wait_connections(2)
        for _ in range(200):
            if bot.gaps_told:
                break
            await asyncio.sleep(0.02)
        assert "这期间你发给我的消息可能没有收到" in ds.text_of(chat.items()[-1])
        assert "请重新发送" in ds.text_of(chat.items()[-1])


async def test_a_record_saved_through_cards_and_a_ledger_sent_as_a_file(db_url: str, branch: Branch) -> None:
    async with FakeDingTalk() as fake, ds.serving(db_url, fake) as (bot_app, bot):
        chat = await _joined(fake, bot_app, branch)
        await chat.say("/study")
        for label in ("自学", "今天", "2小时"):
            await chat.press(label)
        await chat.say("党章")
        await chat.press("跳过")
        assert t("study.saved") in ds.texts(await chat.press("✅ 确认"))
        assert await scalar_count(db_url, StudyRecord) == 1
        await bot.deliver(ds.USER, Reply("学习台账", document=OutDocument("台账.xlsx", b"PK\x03\x04ledger")))
        (media_id,) = fake.api.uploads
        assert fake.api.uploads[media_id] == ("台账.xlsx", b"PK\x03\x04ledger")
        assert ds.text_of(chat.items()[-1]) == "台账.xlsx"


async def test_pushes_reach_members_and_groups_and_final_refusals_are_final(
        db_url: str, branch: Branch) -> None:
    async with FakeDingTalk() as fake, ds.serving(db_url, fake) as (_, bot):
        sender = DingTalkSender(bot)
        fake.api.groups.add(ds.GROUP)
        await sender.send(f"group:{ds.GROUP}", Reply("📣 本周述学提醒", buttons=()))
        await sender.send(ds.USER, Reply("提醒：本周还没有登记学习"))
        assert [s.param["content"] for s in fake.api.sent] == ["📣 本周述学提醒", "提醒：本周还没有登记学习"]
        fake.api.gone.add("left01")
        try:
            await sender.send("left01", Reply("你好"))
        except PermanentFailure as error:
            assert "cannot be reached" in str(error)
        else:
            raise AssertionError("a member who left was sent to")


def _env(fake: FakeDingTalk, db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANCHBOT_")}
    env.update({"BRANCHBOT_DATABASE_URL": db_url, "BRANCHBOT_PLATFORM": "dingtalk",
                "BRANCHBOT_DINGTALK_CLIENT_ID": CLIENT_ID,
                "BRANCHBOT_DINGTALK_CLIENT_SECRET": CLIENT_SECRET,
                "BRANCHBOT_DINGTALK_ROBOT_CODE": ROBOT_CODE,
                "BRANCHBOT_DINGTALK_API_BASE_URL": fake.base_url,
                "BRANCHBOT_DINGTALK_OAPI_BASE_URL": fake.base_url,
                "PYTHONPATH": str(Path(__file__).resolve().parents[1]), **extra})
    return env


async def test_run_serves_dingtalk_as_its_own_process(db_url: str, branch: Branch, tmp_path: Path) -> None:
    async with FakeDingTalk() as fake:
        async with run_process(tmp_path, _env(fake, db_url)):
            await fake.gateway.wait_connections(1, timeout=30)
            chat = ds.Chat(fake, ds.USER, "李娜")
            said = ds.texts(await chat.say(f"/join {branch.org.invite_code}"))
            assert "请确认你的真实姓名" in said


async def test_run_refuses_a_missing_key_and_wrong_credentials_in_one_line(tmp_path: Path) -> None:
    async with FakeDingTalk() as fake:
        db = f"sqlite+aiosqlite:///{tmp_path / 'bb.db'}"
        missing = {k: v for k, v in _env(fake, db).items() if k != "BRANCHBOT_DINGTALK_ROBOT_CODE"}
        bad_url = _env(fake, db, BRANCHBOT_DINGTALK_API_BASE_URL="not a url")
        wrong = _env(fake, db, BRANCHBOT_DINGTALK_CLIENT_SECRET="wrong")
        assert (await asyncio.to_thread(cli, tmp_path, "db", "upgrade")).returncode == 0
        results = await asyncio.gather(*(asyncio.to_thread(cli, tmp_path, "run", env=env)
                                         for env in (missing, bad_url, wrong)))
    for result, named in zip(results, ("BRANCHBOT_DINGTALK_ROBOT_CODE",
                                       "BRANCHBOT_DINGTALK_API_BASE_URL", "invalidClientIdOrSecret")):
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert len(said(result.stderr)) == 1 and named in said(result.stderr)[0], result.stderr


async def test_a_file_a_member_sent_is_fetched_and_an_unknown_one_is_gone() -> None:
    async with FakeDingTalk() as fake:
        api = DingTalkApi(fake.config())
        try:
            code = fake.api.add_file("走访照片.jpg", b"\xff\xd8photo")
            assert await DingTalkFiles(api).fetch(code) == b"\xff\xd8photo"
            with pytest.raises(FileGone):
                await DingTalkFiles(api).fetch("dc-unknown")
        finally:
            await api.close()
