"""The same dialogs end to end on Telegram, the WeCom app, the WeCom AI bot (1:1, and started in
the branch group with a hand-off to the 1:1 chat), DingTalk (with interactive cards, and with
ActionCard links where no card template is set up) and Feishu (long connection and HTTP
callback), each through its loopback fake speaking the platform's wire format, so a change to a
dialog is tested on every platform; and the same group chat script (a personal command handed
off to the private chat, /bindgroup by the secretary, a push to the bound group) on every
platform that reads group chats."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import pytest

from handlers.core.i18n import DEFAULT_TEXTS as t
from storage.models import Commitment, Problem, StudyRecord, Visit
from tests import dingtalk_support, feishu_support, telegram_support, wecom_bot_support, wecom_support
from tests.botapi import FakeBotApi
from tests.conftest import Branch
from tests.fakes.dingtalk.server import FakeDingTalk
from tests.fakes.feishu.server import FakeFeishu
from tests.fakes.wecom_aibot.server import FakeAiBot
from tests.joining import approve
from bot.adapters.dingtalk.sender import DingTalkSender
from bot.adapters.feishu.sender import FeishuSender
from bot.adapters.telegram.sender import TelegramSender
from handlers.core.events import Reply
from storage.models import GroupChat
from tests.conftest import SECRETARY_TELEGRAM_USERNAME
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


async def _joined(chat: Chat, code: str, approved: Callable[[], Awaitable[str]],
                  name: str = "李娜") -> None:
    """``/join`` on a platform whose roster accounts the test roster does not carry: the member
    names themselves and the request is approved (as the office would)."""
    said = await chat.say(f"/join {code}")
    assert "请确认你的真实姓名" in said
    said = await chat.press(f"我是 {name}") if f"我是 {name}" in said else await chat.say(name)
    assert f"已提交申请：以“{name}”加入“机关第一党支部”" in said
    assert "已同意" in await approved()


@pytest.fixture(params=["telegram", "wecom", "wecom_bot", "wecom_bot_group", "dingtalk",
                        "dingtalk_links", "feishu", "feishu_http"])
async def chat(request: pytest.FixtureRequest, db_url: str, branch: Branch) -> AsyncIterator[Chat]:
    """A member of ``branch`` who has just joined, on each platform."""
    code = branch.org.invite_code
    if request.param == "telegram":
        async with FakeBotApi() as api:
            async for _ in telegram_support.polling_bot(db_url, api):
                await telegram_support.join(api, code)
                yield _chat(lambda text: api.say(telegram_support.USER, text),
                            lambda label: api.press(telegram_support.USER, label),
                            telegram_support.texts)
        return
    if request.param.startswith("wecom_bot"):
        async with FakeAiBot() as aibot, wecom_bot_support.running(db_url, aibot) as adapter:
            private = wecom_bot_support.Chat(aibot, adapter)
            await wecom_bot_support.join(private, code)
            yield Chat(private.say, private.press) if request.param == "wecom_bot" \
                else _group_first(private)
        return
    if request.param.startswith("dingtalk"):
        async with FakeDingTalk() as fake, dingtalk_support.serving(
                db_url, fake, cards=request.param == "dingtalk") as (bot_app, _):
            member = dingtalk_support.Chat(fake, dingtalk_support.USER, "李娜")
            chat = _chat(member.say, member.press, dingtalk_support.texts)
            await _joined(chat, code, lambda: approve(bot_app, dingtalk_support.USER, "dingtalk"))
            yield chat
        return
    if request.param.startswith("feishu"):
        mode = "http" if request.param == "feishu_http" else "ws"
        async with FakeFeishu() as fake, feishu_support.serving(db_url, fake, mode=mode) as (
                bot_app, served):
            member = feishu_support.Chat(fake, served)
            chat = _chat(member.say, member.press, feishu_support.texts)
            await _joined(chat, code, lambda: approve(bot_app, feishu_support.USER, "feishu"))
            yield chat
        return
    async with FakeWeCom() as fake, wecom_support.serving(db_url, fake):
        await wecom_support.join(fake, code)
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


@dataclass(frozen=True)
class Group:
    """A branch's group chat on one platform, with the member and the secretary in it."""

    member_says: Callable[[str], Awaitable[str]]
    secretary_says: Callable[[str], Awaitable[str]]
    open_private: Callable[[str], Awaitable[str]]  # the member presses a go-private button
    push: Callable[[str], Awaitable[str]]  # the robot posts to the group: what the group shows


@pytest.fixture(params=["telegram", "dingtalk", "dingtalk_links", "feishu"])
async def group(request: pytest.FixtureRequest, db_url: str, branch: Branch) -> AsyncIterator[Group]:
    """Every platform whose bot reads group chats (a WeCom app receives nothing from groups)."""
    code = branch.org.invite_code
    if request.param == "telegram":
        async with FakeBotApi() as api:
            async for application in telegram_support.polling_bot(db_url, api):
                await telegram_support.join(api, code)
                await telegram_support.join(api, code, user=2002, name="王书记",
                                            username=SECRETARY_TELEGRAM_USERNAME)
                chat = {"chat_id": -100200, "chat_type": "group", "chat_title": "第一支部群"}

                async def member_says(text: str) -> str:
                    return telegram_support.texts(await api.say(telegram_support.USER, text, **chat))

                async def secretary_says(text: str) -> str:
                    return telegram_support.texts(await api.say(
                        2002, text, first_name="王书记", username=SECRETARY_TELEGRAM_USERNAME, **chat))

                async def open_private(label: str) -> str:
                    (url,) = [b["url"] for row in api.last_message(-100200).buttons() for b in row
                              if b["text"] == label]
                    return telegram_support.texts(await api.say(
                        telegram_support.USER, f"/start {url.split('start=')[1]}"))

                async def push(text: str) -> str:
                    await TelegramSender(application.bot).send("-100200", Reply(text))
                    return api.last_message(-100200).text or ""

                yield Group(member_says, secretary_says, open_private, push)
        return
    if request.param.startswith("dingtalk"):
        async with FakeDingTalk() as fake, dingtalk_support.serving(
                db_url, fake, cards=request.param == "dingtalk") as (bot_app, bot):
            for staff, name in ((dingtalk_support.USER, "李娜"), ("wangshuji", "王书记")):
                own = dingtalk_support.Chat(fake, staff, name)
                await _joined(_chat(own.say, own.press, dingtalk_support.texts), code,
                              lambda staff=staff: approve(bot_app, staff, "dingtalk"), name)
            member = dingtalk_support.Chat(fake, dingtalk_support.USER, "李娜", dingtalk_support.GROUP)
            secretary = dingtalk_support.Chat(fake, "wangshuji", "王书记", dingtalk_support.GROUP)
            private = dingtalk_support.Chat(fake, dingtalk_support.USER, "李娜")

            async def open_private(label: str) -> str:
                """A card's button; without cards the group says what to send in private."""
                before = len(private.items())
                shown = dingtalk_support.text_of(member.items()[-1])
                told = re.search(rf"{re.escape(label)}：请私聊我发送 (/start \S+)", shown)
                if told is not None:
                    return dingtalk_support.texts(await private.say(told.group(1)))
                said = dingtalk_support.texts(await member.press(label))
                return said + "\n" + dingtalk_support.texts(private.items()[before:])

            async def push(text: str) -> str:
                await DingTalkSender(bot).send(f"group:{dingtalk_support.GROUP}", Reply(text))
                return dingtalk_support.text_of(member.items()[-1])

            yield Group(lambda text: _texts_of(member.say(text), dingtalk_support.texts),
                        lambda text: _texts_of(secretary.say(text), dingtalk_support.texts),
                        open_private, push)
        return
    async with FakeFeishu() as fake, feishu_support.serving(db_url, fake) as (bot_app, served):
        secretary_id = "ou_wangshuji000001"
        for user, name in ((feishu_support.USER, "李娜"), (secretary_id, "王书记")):
            own = feishu_support.Chat(fake, served, user)
            await _joined(_chat(own.say, own.press, feishu_support.texts), code,
                          lambda user=user: approve(bot_app, user, "feishu"), name)
        member = feishu_support.Chat(fake, served, feishu_support.USER, feishu_support.GROUP)
        secretary = feishu_support.Chat(fake, served, secretary_id, feishu_support.GROUP)
        private = feishu_support.Chat(fake, served, feishu_support.USER)

        async def open_private_feishu(label: str) -> str:
            before = len(private.items())
            said = feishu_support.texts(await member.press(label))
            return said + "\n" + feishu_support.texts(private.items()[before:])

        async def push_feishu(text: str) -> str:
            await FeishuSender(served.bot).send(feishu_support.GROUP, Reply(text))
            return feishu_support.text_of(member.items()[-1])

        yield Group(lambda text: _texts_of(member.say(text), feishu_support.texts),
                    lambda text: _texts_of(secretary.say(text), feishu_support.texts),
                    open_private_feishu, push_feishu)


async def _texts_of(items: Awaitable[list[T]], texts: Callable[[list[T]], str]) -> str:
    return texts(await items)


async def test_a_group_chat(group: Group, db_url: str, branch: Branch) -> None:
    """In the branch's group: a personal command is handed to the private chat, where the dialog
    starts; a member cannot bind the group, the secretary can; then the robot posts to it."""
    assert t("group.go_private") in await group.member_says("/study")
    assert "请选择学习形式" in await group.open_private(t("group.open_private"))
    code = branch.org.invite_code
    assert t("bindgroup.not_secretary", org="机关第一党支部") in await group.member_says(f"/bindgroup {code}")
    assert t("bindgroup.done", org="机关第一党支部") in await group.secretary_says(f"/bindgroup {code}")
    assert await scalar_count(db_url, GroupChat, GroupChat.org_id == branch.org.id) == 1
    assert await group.push("📣 本周述学提醒") == "📣 本周述学提醒"
