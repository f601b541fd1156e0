"""The Feishu adapter end to end against the fake Feishu: spoilt HTTP callbacks refused before
anything is handled, an event delivered again (to this process, or to another after a restart)
answered once, pushes and final refusals, and `branchbot run` as its own process with its
one-line refusals."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from bot.adapters.feishu.api import FeishuApi
from bot.adapters.feishu.files import FeishuFiles
from bot.adapters.feishu.run import FeishuAdapter
from bot.adapters.feishu.sender import FeishuSender
from bot.runtime.app import App
from bot.runtime.delivery import PermanentFailure, TemporaryFailure
from handlers.core.events import OutDocument, Reply
from handlers.core.file_source import FileGone
from handlers.core.i18n import DEFAULT_TEXTS as t
from tests import feishu_support as fs
from tests.conftest import Branch
from tests.fakes.feishu.server import APP_ID, APP_SECRET, FakeFeishu
from tests.joining import approve
from tests.test_cli import cli, run_process, said


async def _joined(fake: FakeFeishu, bot_app: App, served: FeishuAdapter, branch: Branch) -> fs.Chat:
    chat = fs.Chat(fake, served)
    await chat.say(f"/join {branch.org.invite_code}")
    await chat.say("李娜")
    assert "已同意" in await approve(bot_app, fs.USER, "feishu")
    return chat


@pytest.mark.parametrize("spoil, status", [
    ({"signature": "0" * 64}, 403), ({"encrypt_key": "another key"}, 400),
    ({"signed": False}, 401), ({"timestamp": "1600000000"}, 403)])
async def test_spoilt_callbacks_are_refused_and_nothing_is_handled(
        db_url: str, branch: Branch, spoil: dict[str, object], status: int) -> None:
    async with FakeFeishu() as fake, fs.serving(db_url, fake, mode="http"):
        assert (await fake.challenge()).status == 200
        assert (await fake.challenge(token="guessed")).status == 403
        posted = await fake.post_callback(
            fake.message_event(f"/join {branch.org.invite_code}", sender=fs.USER), **spoil)  # type: ignore[arg-type]
        wrong_token = await fake.post_callback(
            fake.message_event(f"/join {branch.org.invite_code}", sender=fs.USER, token="guessed"))
        assert (posted.status, wrong_token.status) == (status, 403)
        assert fake.sent == {}  # nobody was answered


async def test_an_event_delivered_again_is_answered_once_even_by_another_process(
        db_url: str, branch: Branch) -> None:
    async with FakeFeishu() as fake:
        async with fs.serving(db_url, fake) as (bot_app, served):
            chat = await _joined(fake, bot_app, served, branch)
            event = fake.message_event("/study", sender=fs.USER)
            first = await chat._after(fake.push(event))
            again = await chat._after(fake.push({**event, "header": {**event["header"],
                                                                     "event_id": "retry-1"}}))
            assert "请选择学习形式" in fs.texts(first) and again == []
        # Feishu sends a long-connection event to one random client: another process (here the
        # next one, after a restart) that gets it again does not answer it twice.
        async with fs.serving(db_url, fake) as (_, served):
            chat = fs.Chat(fake, served)
            assert await chat._after(fake.push({**event, "header": {**event["header"],
                                                                    "event_id": "retry-2"}})) == []
            assert "请选择学习形式" not in fs.texts(await chat.say("/cancel"))


async def test_a_press_in_a_group_card_is_the_pressers(db_url: str, branch: Branch) -> None:
    """A card sent to a group, pressed by a member: the press is theirs (their open_id, from
    Feishu), and a dialog-opening button starts the dialog in their private chat."""
    async with FakeFeishu() as fake, fs.serving(db_url, fake) as (bot_app, served):
        await _joined(fake, bot_app, served, branch)
        group = fs.Chat(fake, served, group=fs.GROUP)
        assert fs.texts(await group.say("怎么填述学？")) == t("help.group")  # an @, no command
        await group.say("/visit")
        private = fs.Chat(fake, served)
        before = len(private.items())
        await group.press("私聊填报")
        assert "走访" in fs.texts(private.items()[before:])


async def test_pushes_reach_members_and_groups_and_final_refusals_are_final(
        db_url: str, branch: Branch) -> None:
    async with FakeFeishu() as fake, fs.serving(db_url, fake) as (_, served):
        sender = FeishuSender(served.bot)
        await sender.send(fs.GROUP, Reply("📣 本周述学提醒"))
        await sender.send(fs.USER, Reply("提醒：本周还没有登记学习"))
        shown = [(s.chat_id, s.content["text"]) for s in fake.sent.values()]
        assert shown == [(fs.GROUP, "📣 本周述学提醒"), (fake.p2p_chat(fs.USER), "提醒：本周还没有登记学习")]
        with pytest.raises(PermanentFailure):
            await sender.send(fs.USER, Reply("台账", document=OutDocument("空.xlsx", b"")))  # Feishu takes no empty file
        fake.force_rate_limit(3)
        with pytest.raises(TemporaryFailure):
            await sender.send(fs.USER, Reply("再提醒一次"))


def _env(fake: FakeFeishu, db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANCHBOT_")}
    env.update({"BRANCHBOT_DATABASE_URL": db_url, "BRANCHBOT_PLATFORM": "feishu",
                "BRANCHBOT_FEISHU_APP_ID": APP_ID, "BRANCHBOT_FEISHU_APP_SECRET": APP_SECRET,
                "BRANCHBOT_FEISHU_API_BASE_URL": fake.base_url,
                "PYTHONPATH": str(Path(__file__).resolve().parents[1]), **extra})
    return env


async def test_run_serves_feishu_as_its_own_process(db_url: str, branch: Branch, tmp_path: Path) -> None:
    async with FakeFeishu() as fake:
        async with run_process(tmp_path, _env(fake, db_url)):
            await fake.wait_connected(timeout=30)
            await fake.push_message(f"/join {branch.org.invite_code}", sender=fs.USER)
            for _ in range(200):
                if fake.sent:
                    break
                await asyncio.sleep(0.05)
            assert "请确认你的真实姓名" in fs.texts(list(fake.sent.values()))


async def test_run_refuses_a_missing_key_and_wrong_credentials_in_one_line(tmp_path: Path) -> None:
    async with FakeFeishu() as fake:
        db = f"sqlite+aiosqlite:///{tmp_path / 'bb.db'}"
        assert (await asyncio.to_thread(cli, tmp_path, "db", "upgrade")).returncode == 0
        missing = {k: v for k, v in _env(fake, db).items() if k != "BRANCHBOT_FEISHU_APP_SECRET"}
        bad_id = _env(fake, db, BRANCHBOT_FEISHU_APP_ID="a1b2c3")
        http_unsigned = _env(fake, db, BRANCHBOT_FEISHU_EVENT_MODE="http")
        wrong = _env(fake, db, BRANCHBOT_FEISHU_APP_SECRET="wrong")
        results = await asyncio.gather(*(asyncio.to_thread(cli, tmp_path, "run", env=env)
                                         for env in (missing, bad_id, http_unsigned, wrong)))
    for result, named in zip(results, ("BRANCHBOT_FEISHU_APP_SECRET", "BRANCHBOT_FEISHU_APP_ID",
                                       "BRANCHBOT_FEISHU_VERIFICATION_TOKEN", "1000040344")):
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert len(said(result.stderr)) == 1 and named in said(result.stderr)[0], result.stderr


async def test_a_press_answered_too_late_updates_its_card_by_the_api(db_url: str, branch: Branch) -> None:
    """Feishu drops a press's answer after 3 seconds: a core slower than that (here: a deadline of
    nothing) updates the pressed card by the API instead, and what follows still comes."""
    async with FakeFeishu() as fake, fs.serving(db_url, fake) as (bot_app, served):
        chat = await _joined(fake, bot_app, served, branch)
        await chat.say("/study")
        served.bot.card_deadline = 0.0
        (card, *after) = await chat.press("自学")
        answer = fake.answers[next(reversed(fake.answers))][-1]
        assert answer.code == 200 and not (answer.data or {}).get("card")
        assert "✅ 自学" in fs.text_of(card) and fs.buttons(card) == {}  # patched by the API
        assert "哪天学习的" in fs.texts(after)


async def test_a_file_a_member_sent_is_fetched_and_an_unknown_one_is_gone() -> None:
    async with FakeFeishu() as fake:
        api = FeishuApi(fake.base_url, APP_ID, APP_SECRET)
        try:
            fake.add_resource("om_photo1", "file_v2_abc", b"\xff\xd8photo", "走访照片.jpg")
            assert await FeishuFiles(api).fetch("om_photo1:file:file_v2_abc") == b"\xff\xd8photo"
            for unknown in ("om_photo1:file:file_v2_none", "garbage"):
                with pytest.raises(FileGone):
                    await FeishuFiles(api).fetch(unknown)
        finally:
            await api.close()
