"""The AI bot's long-connection transport against the fake WeCom AI-bot server on loopback:
handshake, refusal, heartbeats, typed events, replies in the right frames, reconnection with
dedupe, displacement."""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import AsyncIterator

import pytest

from bot.adapters.wecom_bot.backoff import Backoff
from bot.adapters.wecom_bot.connection import (
    AiBotConnection, AiBotError, ConnectionLost, NotLive, State, SubscribeRefused)
from bot.adapters.wecom_bot.events import (
    CardEvent, ChatType, Displaced, EnterChat, OtherMessage, TextMessage, strip_mention)
from bot.adapters.wecom_bot.outgoing import (
    CardButton, ReplyCard, ReplyMarkdown, SendCard, SendMarkdown, TemplateCard, UpdateCard,
    Welcome)
from bot.adapters.wecom_bot.recent import RecentIds
from tests.fakes.wecom_aibot import BOT_ID, BOT_NAME, SECRET, FakeAiBot, Received

USER = "lina"
GROUP = "wrkSFfCgAAtMQKg4xox5XBsBh-8Ib5lw"
CARD = TemplateCard(task_id="bb_study_1", title="本周学习", desc="请选择",
                    buttons=(CardButton("已完成", "study:done"), CardButton("稍后", "study:later")))


@pytest.fixture
async def fake() -> AsyncIterator[FakeAiBot]:
    async with FakeAiBot(displaced_close_after=0.05) as server:
        yield server


def connect(fake: FakeAiBot, secret: str = SECRET, **options: object) -> AiBotConnection:
    settings: dict[str, object] = {"heartbeat": 0.05, "ack_timeout": 1.0,
                                   "backoff": Backoff(0.01, 0.05, random.Random(1)),
                                   "stable_after": 0.0}
    settings.update(options)
    return AiBotConnection(BOT_ID, secret, fake.url, **settings)  # type: ignore[arg-type]


async def live(connection: AiBotConnection, timeout: float = 2.0) -> None:
    async with asyncio.timeout(timeout):
        await connection.wait_live()


async def next_event(connection: AiBotConnection, timeout: float = 2.0) -> object:
    async with asyncio.timeout(timeout):
        return await connection.next_event()


async def no_event(connection: AiBotConnection, wait: float = 0.2) -> None:
    with pytest.raises(TimeoutError):
        await next_event(connection, wait)


def answer_to(fake: FakeAiBot, cmd: str, req_id: str) -> Received:
    return next(r for r in fake.frames(cmd) if r.req_id == req_id)


# --- handshake and heartbeat ---------------------------------------------------------------------


async def test_subscribes_with_the_bot_id_and_secret(fake: FakeAiBot) -> None:
    async with connect(fake) as connection:
        await live(connection)
        assert connection.state is State.LIVE
        [subscribe] = fake.frames("aibot_subscribe")
        assert subscribe.body == {"bot_id": BOT_ID, "secret": SECRET}
        assert subscribe.req_id.startswith("aibot_subscribe_") and subscribe.errcode == 0
        assert fake.live == subscribe.connection
    assert connection.state is State.CLOSED
    with pytest.raises(NotLive):
        await live(connection)


async def test_a_wrong_secret_is_refused_once_and_the_socket_closed(fake: FakeAiBot) -> None:
    async with connect(fake, secret="wrong") as connection:
        with pytest.raises(SubscribeRefused) as refused:
            await live(connection)
        assert refused.value.errcode == 853000 and connection.state is State.REFUSED
        await asyncio.sleep(0.2)  # many backoff periods: no second try
        assert [r.errcode for r in fake.frames("aibot_subscribe")] == [853000]
        assert fake.open_connections == []  # WeCom leaves it open; the client closed it
        with pytest.raises(NotLive):
            await connection.deliver(SendMarkdown(USER, "你好"))


async def test_a_transient_refusal_is_retried(fake: FakeAiBot) -> None:
    fake.fail_next("aibot_subscribe", 45009, "api freq out of limit")
    async with connect(fake) as connection:
        await live(connection)
        assert [r.errcode for r in fake.frames("aibot_subscribe")] == [45009, 0]


async def test_heartbeats_are_sent_and_answered(fake: FakeAiBot) -> None:
    async with connect(fake) as connection:
        await live(connection)
        await fake.wait_for(lambda r: r.cmd == "ping" and len(fake.frames("ping")) >= 3)
        pings = fake.frames("ping")
        assert all(p.req_id.startswith("ping_") and p.errcode == 0 and p.body == {}
                   for p in pings)
        assert len({p.req_id for p in pings}) == len(pings)
        assert connection.state is State.LIVE and fake.subscriptions == 1


async def test_unanswered_heartbeats_mean_a_dead_connection_and_a_new_one(
        fake: FakeAiBot) -> None:
    async with connect(fake, missed_pings=2) as connection:
        await live(connection)
        fake.silent.add("ping")
        await fake.wait_subscriptions(2)
        first, second = (r.connection for r in fake.frames("aibot_subscribe"))
        assert first != second and first not in fake.open_connections
        assert len([p for p in fake.frames("ping") if p.connection == first]) == 2
        await live(connection)


async def test_the_client_connects_once_the_server_is_up() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    connection = AiBotConnection(BOT_ID, SECRET, f"ws://127.0.0.1:{port}",
                                 backoff=Backoff(0.02, 0.05, random.Random(2)))
    async with connection:
        await asyncio.sleep(0.15)  # refused, refused… backing off
        assert connection.state is State.CONNECTING
        async with FakeAiBot(port=port) as fake:
            await live(connection)
            assert fake.subscriptions == 1


# --- events ------------------------------------------------------------------------------------


async def test_messages_and_events_arrive_typed(fake: FakeAiBot) -> None:
    async with connect(fake) as connection:
        await live(connection)

        pushed = await fake.push_text(USER, "/join ABC123")
        event = await next_event(connection)
        assert event == TextMessage(req_id=pushed.req_id, msgid=pushed.msgid, user_id=USER,
                                    chat_type=ChatType.SINGLE, chat_id=None,
                                    text="/join ABC123", msgtype="text")
        assert isinstance(event, TextMessage) and event.conversation_id == USER

        await fake.push_text(USER, "/bindgroup K7Q2", chat_id=GROUP)
        event = await next_event(connection)
        assert isinstance(event, TextMessage)
        assert (event.chat_type, event.chat_id, event.text) == (ChatType.GROUP, GROUP,
                                                                "/bindgroup K7Q2")
        assert event.conversation_id == GROUP

        await fake.push_mixed(USER, ["学习了", "2 小时"])
        event = await next_event(connection)
        assert isinstance(event, TextMessage) and (event.msgtype, event.text) == (
            "mixed", "学习了\n2 小时")

        await fake.push_voice(USER, "学习两小时")
        event = await next_event(connection)
        assert isinstance(event, TextMessage) and (event.msgtype, event.text) == (
            "voice", "学习两小时")

        await fake.push_image(USER)
        event = await next_event(connection)
        assert isinstance(event, OtherMessage) and event.msgtype == "image"

        pushed = await fake.push_card_event(USER, "study:done", "bb_study_1", chat_id=GROUP)
        event = await next_event(connection)
        assert event == CardEvent(req_id=pushed.req_id, msgid=pushed.msgid, user_id=USER,
                                  chat_type=ChatType.GROUP, chat_id=GROUP, key="study:done",
                                  task_id="bb_study_1", card_type="button_interaction")

        pushed = await fake.push_enter_chat(USER)
        assert await next_event(connection) == EnterChat(
            req_id=pushed.req_id, msgid=pushed.msgid, user_id=USER, chat_type=ChatType.SINGLE,
            chat_id=None)


async def test_the_bot_name_strips_its_mention_anywhere(fake: FakeAiBot) -> None:
    async with connect(fake, bot_name=BOT_NAME) as connection:
        await live(connection)
        await fake.push_text(USER, f"学习 @{BOT_NAME} 2 小时", chat_id=GROUP)
        event = await next_event(connection)
        assert isinstance(event, TextMessage) and event.text == "学习 2 小时"


def test_mentions_are_stripped() -> None:
    assert strip_mention("@党建助手 /study") == "/study"
    assert strip_mention("@党建助手\u2005/study") == "/study"  # WeCom's four-per-em space
    assert strip_mention("@党建助手") == ""
    assert strip_mention("/study @张三") == "/study @张三"  # a mention later is the member's
    assert strip_mention("@党建助手 /study", "党建助手") == "/study"
    assert strip_mention("@党建助手2 你好", "党建助手") == "@党建助手2 你好"  # another bot
    assert strip_mention("你好 @党建助手", "党建助手") == "你好"


async def test_a_card_event_in_the_flat_form_is_read_too(fake: FakeAiBot) -> None:
    async with connect(fake) as connection:
        await live(connection)
        await fake.push_raw('{"cmd":"aibot_event_callback","headers":{"req_id":"r1"},"body":'
                            '{"msgid":"m1","chattype":"single","from":{"userid":"lina"},'
                            '"msgtype":"event","event":{"eventtype":"template_card_event",'
                            '"event_key":"k","task_id":"t"}}}')
        event = await next_event(connection)
        assert isinstance(event, CardEvent) and (event.key, event.task_id) == ("k", "t")


async def test_frames_that_make_no_sense_are_ignored(fake: FakeAiBot) -> None:
    async with connect(fake) as connection:
        await live(connection)
        for junk in ("not json", "[1, 2]", '{"cmd": "aibot_msg_callback"}',
                     '{"cmd":"aibot_msg_callback","headers":{"req_id":"r"},"body":{}}',
                     '{"cmd":"aibot_msg_callback","headers":{"req_id":"r"},"body":'
                     '{"msgid":"m","chattype":"group","from":{"userid":"u"},"msgtype":"text",'
                     '"text":{"content":"no chat id"}}}',
                     '{"cmd":"aibot_event_callback","headers":{"req_id":"r"},"body":'
                     '{"msgid":"m2","msgtype":"event","event":{"eventtype":"feedback_event"}}}'):
            await fake.push_raw(junk)
        pushed = await fake.push_text(USER, "还在")
        event = await next_event(connection)
        assert isinstance(event, TextMessage) and event.msgid == pushed.msgid
        assert connection.state is State.LIVE


# --- replies -------------------------------------------------------------------------------------


async def test_replies_reach_the_fake_in_the_right_frames(fake: FakeAiBot) -> None:
    async with connect(fake) as connection:
        await live(connection)
        message = await fake.push_text(USER, "/study", chat_id=GROUP)
        await next_event(connection)
        await connection.deliver(ReplyMarkdown(message.req_id, "**已记录** 2 小时",
                                               stream_id="s1"))
        await connection.deliver(ReplyCard(message.req_id, CARD))
        first, second = [r for r in fake.frames("aibot_respond_msg")
                         if r.req_id == message.req_id]
        assert first.body == {"msgtype": "stream", "stream": {
            "id": "s1", "finish": True, "content": "**已记录** 2 小时"}}
        assert second.body == {"msgtype": "template_card", "template_card": {
            "card_type": "button_interaction", "task_id": "bb_study_1",
            "main_title": {"title": "本周学习", "desc": "请选择"},
            "button_list": [{"text": "已完成", "style": 1, "key": "study:done"},
                            {"text": "稍后", "style": 1, "key": "study:later"}]}}
        assert first.errcode == second.errcode == 0

        press = await fake.push_card_event(USER, "study:done", "bb_study_1", chat_id=GROUP)
        await next_event(connection)
        done = TemplateCard("bb_study_1", "本周学习 → 已完成", (CardButton("查看", "view"),))
        await connection.deliver(UpdateCard(press.req_id, done, userids=(USER,)))
        update = answer_to(fake, "aibot_respond_update_msg", press.req_id)
        assert update.body["response_type"] == "update_template_card"
        assert update.body["userids"] == [USER]
        assert update.body["template_card"]["main_title"] == {"title": "本周学习 → 已完成"}

        entered = await fake.push_enter_chat(USER)
        await next_event(connection)
        await connection.deliver(Welcome(entered.req_id, "欢迎使用党建助手"))
        welcome = answer_to(fake, "aibot_respond_welcome_msg", entered.req_id)
        assert welcome.body == {"msgtype": "text", "text": {"content": "欢迎使用党建助手"}}

        await connection.deliver(SendMarkdown(GROUP, "本周述学：请发送学习时长"))
        await connection.deliver(SendCard(USER, CARD))
        group_push, user_push = fake.frames("aibot_send_msg")
        assert group_push.body == {"chatid": GROUP, "msgtype": "markdown",
                                   "markdown": {"content": "本周述学：请发送学习时长"}}
        assert user_push.body["chatid"] == USER and user_push.body["msgtype"] == "template_card"
        assert group_push.req_id.startswith("aibot_send_msg_")
        assert group_push.req_id != user_push.req_id
        assert all(r.errcode == 0 for r in fake.received)


async def test_an_error_answer_is_raised_with_its_code(fake: FakeAiBot) -> None:
    async with connect(fake) as connection:
        await live(connection)
        press = await fake.push_card_event(USER, "k", "t")
        await next_event(connection)
        with pytest.raises(AiBotError) as wrong_command:  # a press takes only the card update
            await connection.deliver(ReplyMarkdown(press.req_id, "收到"))
        assert wrong_command.value.errcode == 846605
        fake.fail_next("aibot_send_msg", 45009, "api freq out of limit")
        with pytest.raises(AiBotError) as limited:
            await connection.deliver(SendMarkdown(USER, "提醒"))
        assert (limited.value.errcode, limited.value.errmsg) == (45009, "api freq out of limit")
        await connection.deliver(SendMarkdown(USER, "提醒"))  # the next one goes through


async def test_no_answer_in_time_or_a_lost_connection_is_an_error(fake: FakeAiBot) -> None:
    async with connect(fake, ack_timeout=0.2) as connection:
        await live(connection)
        fake.silent.add("aibot_send_msg")
        with pytest.raises(TimeoutError):
            await connection.deliver(SendMarkdown(USER, "提醒"))
        sending = asyncio.create_task(connection.deliver(SendMarkdown(USER, "再提醒")))
        await fake.wait_for(lambda r: r.body.get("markdown", {}).get("content") == "再提醒")
        await fake.drop()
        with pytest.raises(ConnectionLost):
            await sending


async def test_replies_on_one_req_id_wait_for_each_answer(fake: FakeAiBot) -> None:
    async with connect(fake) as connection:
        await live(connection)
        message = await fake.push_text(USER, "/help")
        await next_event(connection)
        await asyncio.gather(*(connection.deliver(ReplyMarkdown(message.req_id, f"第{i}段"))
                               for i in range(5)))
        replies = [r.body["stream"]["content"] for r in fake.frames("aibot_respond_msg")]
        assert replies == [f"第{i}段" for i in range(5)]


# --- reconnection and dedupe ---------------------------------------------------------------------


async def test_a_dropped_connection_reconnects_and_a_redelivery_is_handled_once(
        fake: FakeAiBot) -> None:
    async with connect(fake) as connection:
        await live(connection)
        first = await fake.push_text(USER, "学习 2 小时")
        assert isinstance(await next_event(connection), TextMessage)

        await fake.drop()
        await fake.wait_subscriptions(2)
        await live(connection)
        assert fake.live != first.connection

        again = await fake.redeliver(first)
        assert again.msgid == first.msgid and again.req_id != first.req_id
        await no_event(connection)
        with pytest.raises(AiBotError) as stale:  # a req_id from the old connection
            await connection.deliver(ReplyMarkdown(first.req_id, "已记录"))
        assert stale.value.errcode == 846605

        second = await fake.push_text(USER, "走访 1 次")
        event = await next_event(connection)
        assert isinstance(event, TextMessage) and event.msgid == second.msgid
        await connection.deliver(ReplyMarkdown(event.req_id, "已记录"))


def test_recent_ids_stay_bounded() -> None:
    recent = RecentIds(capacity=3)
    assert [recent.first_time(i) for i in ("a", "b", "a", "c", "d")] == [
        True, True, False, True, True]
    assert len(recent) == 3
    assert recent.first_time("a") is False  # seen again after "b", so kept when "b" went
    assert recent.first_time("b") is True  # the oldest, forgotten
    assert len(recent) == 3


def test_backoff_grows_with_jitter_up_to_its_cap() -> None:
    backoff = Backoff(1.0, 30.0, random.Random(7))
    delays = [backoff.next_delay() for _ in range(10)]
    for n, delay in enumerate(delays):
        ceiling = min(30.0, 2.0 ** n)
        assert ceiling / 2 <= delay <= ceiling
    assert len(set(delays[5:])) == 5  # capped, yet not all the same
    backoff.reset()
    assert 0.5 <= backoff.next_delay() <= 1.0


# --- displacement ---------------------------------------------------------------------------------


async def test_a_displaced_connection_stands_by_and_does_not_fight(fake: FakeAiBot) -> None:
    async with connect(fake) as old:
        await live(old)
        async with connect(fake) as new:
            await live(new)
            assert isinstance(await next_event(old), Displaced)
            assert old.state is State.STANDBY and new.state is State.LIVE
            await asyncio.sleep(0.3)  # many backoff periods: the old one did not come back
            assert fake.subscriptions == 2 and fake.live == 2
            assert fake.open_connections == [2]
            with pytest.raises(NotLive):
                await old.deliver(SendMarkdown(USER, "我还在"))

            pushed = await fake.push_text(USER, "你好")
            event = await next_event(new)
            assert isinstance(event, TextMessage) and event.msgid == pushed.msgid
            await no_event(old)

            old.resume()  # e.g. this process took the bot's lock
            await live(old)
            assert isinstance(await next_event(new), Displaced)
            assert new.state is State.STANDBY and fake.live == 3


async def test_standing_by_survives_a_server_that_never_closes_the_old_socket() -> None:
    async with FakeAiBot(displaced_close_after=None) as fake, connect(fake) as old:
        await live(old)
        async with connect(fake) as new:
            await live(new)
            assert isinstance(await next_event(old), Displaced)
            await asyncio.sleep(0.2)
            assert fake.open_connections == [2]  # the displaced client closed its own socket
            assert fake.subscriptions == 2 and old.state is State.STANDBY


# --- what is sent is within WeCom's limits -------------------------------------------------


@pytest.mark.parametrize("build", [
    lambda: ReplyMarkdown("r", " \n"),
    lambda: ReplyMarkdown("r", "字" * 6827),  # 20481 bytes
    lambda: SendMarkdown(USER, "字" * 1366),  # 4098 bytes
    lambda: CardButton("好", "k" * 1025),
    lambda: CardButton("好", "k", style=5),
    lambda: TemplateCard("bad id!", "标题", (CardButton("好", "k"),)),
    lambda: TemplateCard("t" * 129, "标题", (CardButton("好", "k"),)),
    lambda: TemplateCard("t", "标题", ()),
    lambda: TemplateCard("t", "标题", tuple(CardButton(str(i), str(i)) for i in range(7))),
    lambda: TemplateCard("t", "标题", (CardButton("好", "k"), CardButton("好2", "k"))),
    lambda: Welcome("r", ""),
])
def test_what_wecom_would_refuse_is_not_built(build: object) -> None:
    with pytest.raises(ValueError):
        build()  # type: ignore[operator]


def test_the_largest_allowed_values_are_built() -> None:
    assert len(ReplyMarkdown("r", "字" * 6826).content.encode()) == 20478
    assert SendMarkdown(USER, "字" * 1365).body()["markdown"]["content"]
    TemplateCard("a_B-1@" + "t" * 122, "标题",
                 tuple(CardButton(str(i), "k" * 1023 + str(i)) for i in range(6)))
