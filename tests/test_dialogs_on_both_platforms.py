"""The same dialogs end to end on Telegram, on the WeCom app and on the WeCom AI bot (1:1, and
started in the branch group with a hand-off to the 1:1 chat), each through its loopback
server, so a change to a dialog is tested on every platform."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import pytest

from handlers.core.i18n import DEFAULT_TEXTS as t
from storage.models import Commitment, Problem, StudyRecord, Visit
from tests import telegram_support, wecom_bot_support, wecom_support
from tests.botapi import FakeBotApi
from tests.conftest import Branch
from tests.fakes.wecom_aibot.server import FakeAiBot
from tests.telegram_support import scalar_count
from tests.wecomapi import FakeWeCom

T = TypeVar("T")


@dataclass(frozen=True)
class Chat:
    """A member's chat on one platform: what the bot said back, joined into one text."""

    say: Callable[[str], Awaitable[str]]
    press: Callable[[str], Awaitable[str]]


def _chat(say: Callable[[str], Awaitable[list[T]]], press: Callable[[str], Awaitable[list[T]]],
          texts: Callable[[list[T]], str]) -> Chat:
    async def said(text: str) -> str:
        return texts(await say(text))

    async def pressed(label: str) -> str:
        return texts(await press(label))

    return Chat(said, pressed)


def _group_first(private: wecom_bot_support.Chat) -> Chat:
    """Commands said in the branch group (where the bot answers only an @): one that opens a
    dialog offers 私聊填报, pressed there, and the dialog goes on in the 1:1 chat."""
    group = private.where(wecom_bot_support.GROUP)

    async def say(text: str) -> str:
        if not text.startswith("/"):
            return await private.say(text)
        said = await group.say(text)
        if t("group.open_private") not in said_labels(group):
            return said
        since = len(private.fake.received)
        await group.press(t("group.open_private"))
        return "\n".join(wecom_bot_support.frame_text(f.body) for f in private.frames(since))

    return Chat(say, private.press)


def said_labels(chat: wecom_bot_support.Chat) -> list[str]:
    frames = chat.frames()
    return list(wecom_bot_support.card_keys(frames[-1].body)) if frames else []


@pytest.fixture(params=["telegram", "wecom", "wecom_bot", "wecom_bot_group"])
async def chat(request: pytest.FixtureRequest, db_url: str, branch: Branch) -> AsyncIterator[Chat]:
    """A member of ``branch`` who has just joined, on each platform."""
    if request.param == "telegram":
        async with FakeBotApi() as api:
            async for _ in telegram_support.polling_bot(db_url, api):
                await telegram_support.join(api, branch.org.invite_code)
                yield _chat(lambda text: api.say(telegram_support.USER, text),
                            lambda label: api.press(telegram_support.USER, label),
                            telegram_support.texts)
        return
    if request.param.startswith("wecom_bot"):
        async with FakeAiBot() as aibot, wecom_bot_support.running(db_url, aibot) as adapter:
            private = wecom_bot_support.Chat(aibot, adapter)
            await wecom_bot_support.join(private, branch.org.invite_code)
            yield Chat(private.say, private.press) if request.param == "wecom_bot" \
                else _group_first(private)
        return
    async with FakeWeCom() as fake, wecom_support.serving(db_url, fake):
        await wecom_support.join(fake, branch.org.invite_code)
        yield _chat(lambda text: fake.say(wecom_support.USER, text),
                    lambda label: wecom_support.choose(fake, label), wecom_support.texts)


async def test_visit_problem_and_commitment(chat: Chat, db_url: str) -> None:
    await chat.say("/visit")
    await chat.press("走访")
    await chat.press("昨天")
    for text in ("城南街道", "街道办和两家企业", "企业反映用工难", "1", "优化营商环境"):
        await chat.say(text)
    assert t("visit.ask_found") in await chat.press("✅ 确认")
    await chat.press(t("visit.found_yes"))
    await chat.say("企业招工信息发布渠道少")
    await chat.press("调研")
    await chat.press("需上级协调")
    await chat.press("我本人（李娜）")
    await chat.press("两周内")
    await chat.say("联系人社部门举办专场招聘会")
    assert t("problem.saved") in await chat.press("✅ 确认")
    await chat.say("/commit")
    await chat.say("帮助一家企业解决一件实事")
    assert t("commit.saved") in await chat.press("✅ 确认")
    assert await scalar_count(db_url, Visit) == 1
    assert await scalar_count(db_url, Problem, Problem.visit_id.is_not(None)) == 1
    assert await scalar_count(db_url, Commitment) == 1


async def test_study_then_edit_and_delete_it(chat: Chat, db_url: str) -> None:
    await chat.say("/study")
    await chat.press("自学")
    await chat.press("今天")
    await chat.press("2小时")
    await chat.say("党章")
    await chat.press("跳过")
    assert t("study.saved") in await chat.press("✅ 确认")
    assert "党章" in await chat.say("/mine")
    await chat.press("1")
    await chat.press("✏️ 修改")
    await chat.press("✏️ 修改")
    await chat.press("学习时长")
    await chat.say("3小时")
    assert t("record.updated") in await chat.press("✅ 确认")
    assert await scalar_count(db_url, StudyRecord, StudyRecord.minutes == 180) == 1
    await chat.say("/mine")
    await chat.press("1")
    await chat.press("🗑 删除")
    assert t("mine.deleted") in await chat.press(t("mine.delete_yes"))
    assert await scalar_count(db_url, StudyRecord, StudyRecord.deleted_at.is_not(None)) == 1
    assert await chat.say("/cancel") == t("dialog.nothing_to_cancel")
