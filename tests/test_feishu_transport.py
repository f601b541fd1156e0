"""The Feishu transport against the fake Feishu on loopback: the long connection (protobuf
frames, answers, pings, reconnects, redelivery), the HTTP callback (challenge, encryption,
signature, token), the OpenAPI client (token, send, reply, card update, download) and the limits.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from bot.adapters.feishu import frames
from bot.adapters.feishu.api import FeishuApi, FeishuError
from bot.adapters.feishu.crypto import decrypt
from bot.adapters.feishu.dispatch import Dispatcher, RecentIds
from bot.adapters.feishu.events import CardAction, MessageEvent
from bot.adapters.feishu.http_callback import callback_app, callback_server
from bot.adapters.feishu.messages import (
    MAX_CARD_BODY,
    Button,
    Card,
    CardAnswer,
    File,
    MessageTooLarge,
    Text,
)
from bot.adapters.feishu.rate_limit import FeishuLimiter
from bot.adapters.feishu.settings import FeishuConfigError, load_feishu_settings
from bot.adapters.feishu.ws import FeishuConnectError, LongConnection
from tests.fakes.feishu import (
    APP_ID,
    APP_SECRET,
    ENCRYPT_KEY,
    VERIFICATION_TOKEN,
    FakeFeishu,
)

CARD = Card("选择学习形式", title="学习登记",
            rows=((Button("个人自学", {"d": "c:1:a"}, "primary"), Button("取消", {"d": "x"})),))


class Recorder:
    """The bot's side: records what it was handed, can fail, be slow, or answer a card."""

    def __init__(self) -> None:
        self.messages: list[MessageEvent] = []
        self.actions: list[CardAction] = []
        self.failures = 0
        self.card_delay = 0.0
        self.card_answer: CardAnswer | None = CardAnswer(toast="已选择", card=CARD)

    async def on_message(self, event: MessageEvent) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the core fell over")
        self.messages.append(event)

    async def on_card_action(self, action: CardAction) -> CardAnswer | None:
        await asyncio.sleep(self.card_delay)
        self.actions.append(action)
        return self.card_answer

    def dispatcher(self, **options: float) -> Dispatcher:
        return Dispatcher(self.on_message, self.on_card_action, **options)  # type: ignore[arg-type]


@pytest.fixture
async def fake() -> AsyncIterator[FakeFeishu]:
    async with FakeFeishu() as server:
        yield server


@asynccontextmanager
async def connected(fake: FakeFeishu, dispatcher: Dispatcher,
                    secret: str = APP_SECRET) -> AsyncIterator[LongConnection]:
    connection = LongConnection(fake.base_url, APP_ID, secret, dispatcher, backoff_base=0.05)
    task = asyncio.create_task(connection.run())
    try:
        await fake.wait_connected()
        yield connection
    finally:
        await connection.stop()
        await asyncio.wait_for(task, 5)
        await connection.client.aclose()


async def until(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


# ------------------------------------------------------------------ wire format


def test_frames_are_byte_identical_to_lark_oapi_pbbp2() -> None:
    """Golden bytes made with lark-oapi 1.7.5's generated ``pbbp2_pb2.Frame`` (same fields)."""
    data = frames.new_frame(frames.FrameMethod.DATA, 3, {
        "type": "event", "message_id": "m1", "sum": "1", "seq": "0", "trace_id": "t1"},
        b'{"a":1}', seq_id=7, log_id=9).SerializeToString()
    assert data.hex() == (
        "08071009180320012a0d0a047479706512056576656e742a100a0a6d6573736167655f696412026d31"
        "2a080a0373756d1201312a080a037365711201302a0e0a0874726163655f69641202743142077b2261"
        "223a317d")
    assert frames.ping(42).hex() == "08001000182a20002a0c0a0474797065120470696e67"


def test_decrypt_matches_feishus_documented_example() -> None:
    """The example of Feishu's event-decryption guide: key "test key" → "hello world"."""
    assert decrypt("test key", "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=") == b"hello world"


def test_recent_ids_forget_the_oldest_beyond_capacity() -> None:
    ids = RecentIds(capacity=3)
    ids.add(["a", "b", "c", "d"])
    assert "a" not in ids and "d" in ids and len(ids) == 3


# ------------------------------------------------------------------ long connection


async def test_long_connection_delivers_typed_messages_and_answers_each(fake: FakeFeishu) -> None:
    bot = Recorder()
    async with connected(fake, bot.dispatcher()):
        answer = await fake.push_message("/study", sender="ou_lina")
        group = await fake.push_message(
            "@_user_1 /bindgroup 8K3D", sender="ou_secretary", chat_type="group",
            chat_id="oc_group1",
            mentions=[{"key": "@_user_1", "id": {"open_id": "ou_bot", "union_id": "on_bot"},
                       "name": "支部助手", "tenant_key": "t"}])
    assert answer is not None and answer.code == 200 and answer.data is None
    assert "biz_rt" in answer.headers and answer.headers["type"] == "event"
    assert group is not None and group.code == 200
    private, in_group = bot.messages
    assert (private.text, private.chat_type, private.sender.open_id) == ("/study", "p2p", "ou_lina")
    assert private.chat_id == fake.p2p_chat("ou_lina")
    assert in_group.chat_type == "group" and in_group.chat_id == "oc_group1"
    assert in_group.mentions_user("ou_bot")
    assert in_group.text_for_bot("ou_bot") == "/bindgroup 8K3D"
    assert fake.pings >= 1  # a ping goes out as soon as the connection opens


async def test_files_and_rich_text_are_typed_and_bad_events_dropped(fake: FakeFeishu) -> None:
    bot = Recorder()
    post = {"title": "心得", "content": [[{"tag": "text", "text": "第一段"}],
                                        [{"tag": "a", "text": "链接", "href": "https://x"}]]}
    broken = fake.message_event("/study")
    del broken["event"]["message"]["chat_id"]
    other = fake.message_event("x")
    other["header"]["event_type"] = "im.chat.member.bot.added_v1"
    async with connected(fake, bot.dispatcher()):
        await fake.push_message(None, message_type="image", content={"image_key": "img_v2_1"})
        await fake.push_message(None, message_type="file",
                                content={"file_key": "file_v2_1", "file_name": "台账.xlsx"})
        await fake.push_message(None, message_type="post", content=post)
        answers = [await fake.push(broken), await fake.push(other)]
    image, file, rich = bot.messages
    assert image.attachment is not None and image.attachment.resource_type == "image"
    assert (file.attachment and (file.attachment.key, file.attachment.file_name)) == (
        "file_v2_1", "台账.xlsx")
    assert rich.text == "心得\n第一段\n链接" and image.text is None
    assert [a.code for a in answers if a is not None] == [200, 200] and len(bot.messages) == 3


async def test_a_card_press_is_answered_with_toast_and_new_card(fake: FakeFeishu) -> None:
    bot = Recorder()
    async with connected(fake, bot.dispatcher()):
        answer = await fake.push_card_action({"d": "c:1:a"}, open_message_id="om_card1",
                                             operator="ou_lina")
    assert answer is not None and answer.code == 200 and answer.data is not None
    assert answer.data["toast"] == {"type": "info", "content": "已选择"}
    assert answer.data["card"]["type"] == "raw"
    card = answer.data["card"]["data"]
    assert card["config"]["update_multi"] is True
    button = card["elements"][1]["actions"][0]
    assert button["text"]["content"] == "个人自学" and button["value"] == {"d": "c:1:a"}
    (action,) = bot.actions
    assert action.value == {"d": "c:1:a"} and action.open_message_id == "om_card1"
    assert action.operator.open_id == "ou_lina" and action.token.startswith("c-")


async def test_a_slow_card_handler_is_answered_empty_in_time_and_keeps_running(
        fake: FakeFeishu) -> None:
    bot = Recorder()
    bot.card_delay = 0.5
    async with connected(fake, bot.dispatcher(card_deadline=0.1)):
        started = time.monotonic()
        answer = await fake.push_card_action({"d": "slow"}, open_message_id="om_card2")
        answered_after = time.monotonic() - started
        other = await fake.push_message("still here")  # the loop was never blocked
        await until(lambda: len(bot.actions) == 1)
    assert answer is not None and answer.code == 200 and answer.data == {}
    assert answered_after < 0.4
    assert other is not None and other.code == 200 and bot.messages[0].text == "still here"


async def test_an_event_split_over_frames_is_put_together(fake: FakeFeishu) -> None:
    bot = Recorder()
    long_text = "学习心得：" + "认真学习，" * 400
    async with connected(fake, bot.dispatcher()):
        answer = await fake.push_message(long_text, split=3)
    assert answer is not None and answer.code == 200
    assert [m.text for m in bot.messages] == [long_text]


async def test_drop_reconnect_redelivery_is_handled_once(fake: FakeFeishu) -> None:
    bot = Recorder()
    dispatcher = bot.dispatcher()
    async with connected(fake, dispatcher) as connection:
        event = fake.message_event("/visit", sender="ou_lina")
        assert await fake.push(event, drop_before_answer=True) is None
        await fake.wait_connected(count=2)
        await fake.answered(event["header"]["event_id"])
        again = fake.message_event("/visit", sender="ou_lina",
                                   message_id=event["event"]["message"]["message_id"])
        second = await fake.push(again)  # the same message under a new event id
        after = await fake.push_message("/mine", sender="ou_lina")
    assert fake.endpoint_calls == 2  # a fresh endpoint and ticket for the reconnect
    assert [m.text for m in bot.messages] == ["/visit", "/mine"]
    assert (dispatcher.handled, dispatcher.duplicates) == (2, 2) and connection.sessions == 2
    assert fake.answers[event["header"]["event_id"]][0].code == 200
    assert second is not None and second.code == 200
    assert after is not None and after.code == 200


async def test_a_failed_handling_answers_500_and_the_redelivery_is_handled(
        fake: FakeFeishu) -> None:
    bot = Recorder()
    bot.failures = 1
    async with connected(fake, bot.dispatcher()):
        event = fake.message_event("/study")
        first = await fake.push(event)
        second = await fake.push(event)
    assert first is not None and first.code == 500
    assert second is not None and second.code == 200
    assert [m.text for m in bot.messages] == ["/study"]


async def test_pong_with_client_config_changes_the_ping_interval(fake: FakeFeishu) -> None:
    fake.pong_config = {"PingInterval": 1, "ReconnectInterval": 9, "ReconnectNonce": 2}
    bot = Recorder()
    async with connected(fake, bot.dispatcher()) as connection:
        await until(lambda: connection.config.ping_interval == 1)
        await until(lambda: fake.pings >= 2, timeout=3)
    assert (connection.config.reconnect_interval, connection.config.reconnect_nonce) == (9, 2)


async def test_refused_credentials_end_the_connection_in_one_line(fake: FakeFeishu) -> None:
    connection = LongConnection(fake.base_url, APP_ID, "wrong", Recorder().dispatcher())
    with pytest.raises(FeishuConnectError, match="BRANCHBOT_FEISHU_APP_SECRET") as caught:
        await asyncio.wait_for(connection.run(), 5)
    await connection.client.aclose()
    assert "\n" not in str(caught.value) and fake.connections == 0


async def test_refused_handshakes_are_retried_until_one_succeeds(fake: FakeFeishu) -> None:
    fake.refuse_handshakes(2)
    bot = Recorder()
    async with connected(fake, bot.dispatcher()):
        answer = await fake.push_message("/help")
    assert fake.refused_handshakes == 2 and fake.endpoint_calls == 3
    assert answer is not None and answer.code == 200


async def test_a_server_that_keeps_failing_exhausts_reconnect_count(fake: FakeFeishu) -> None:
    fake.client_config = {"ReconnectCount": 2, "ReconnectInterval": 1, "ReconnectNonce": 0,
                          "PingInterval": 120}
    fake.refuse_handshakes(5)
    connection = LongConnection(fake.base_url, APP_ID, APP_SECRET, Recorder().dispatcher(),
                                backoff_base=0.01)
    with pytest.raises(FeishuConnectError, match="2 reconnect attempts"):
        await asyncio.wait_for(connection.run(), 5)
    await connection.client.aclose()
    assert fake.refused_handshakes == 3 and fake.connections == 0


async def test_a_forbidden_handshake_is_final(fake: FakeFeishu) -> None:
    fake.refuse_handshakes(1, status="403")
    connection = LongConnection(fake.base_url, APP_ID, APP_SECRET, Recorder().dispatcher())
    with pytest.raises(FeishuConnectError, match="refused the WebSocket"):
        await asyncio.wait_for(connection.run(), 5)
    await connection.client.aclose()
    assert fake.refused_handshakes == 1


# ------------------------------------------------------------------ HTTP callback


@asynccontextmanager
async def callback_serving(fake: FakeFeishu, dispatcher: Dispatcher) -> AsyncIterator[None]:
    app = callback_app("/feishu/events", VERIFICATION_TOKEN, ENCRYPT_KEY, dispatcher)
    server = callback_server(app, "127.0.0.1", 0)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    fake.callback_url = f"http://127.0.0.1:{port}/feishu/events"
    try:
        yield
    finally:
        server.should_exit = True
        await task


async def test_http_callback_challenge_and_encrypted_events(fake: FakeFeishu) -> None:
    bot = Recorder()
    async with callback_serving(fake, bot.dispatcher()):
        check = await fake.challenge()
        message = fake.message_event("/study", sender="ou_lina")
        posted = await fake.post_callback(message)
        again = await fake.post_callback(message)  # Feishu's retry of the same event
        pressed = await fake.post_callback(
            fake.card_action_event({"d": "c:1:a"}, open_message_id="om_c"))
    assert check.status == 200 and set(check.body) == {"challenge"}
    assert posted.status == 200 and again.status == 200
    assert [m.text for m in bot.messages] == ["/study"]
    assert pressed.status == 200 and pressed.body["toast"]["content"] == "已选择"
    assert pressed.body["card"]["data"]["elements"][0]["text"]["content"] == "选择学习形式"


@pytest.mark.parametrize("spoil, status", [
    ({"signature": "0" * 64}, 403),
    ({"encrypt_key": "another key"}, 400),
    ({"signed": False}, 401),
    ({"timestamp": "1600000000"}, 403),
    ({"raw_body": b'{"schema": "2.0", "header": {}}'}, 400),
    ({"raw_body": b"not json"}, 400),
])
async def test_http_callback_refuses_spoilt_requests(fake: FakeFeishu, spoil: dict[str, object],
                                                     status: int) -> None:
    bot = Recorder()
    async with callback_serving(fake, bot.dispatcher()):
        posted = await fake.post_callback(fake.message_event("/study"), **spoil)  # type: ignore[arg-type]
    assert posted.status == status and bot.messages == []


async def test_http_callback_refuses_a_wrong_verification_token(fake: FakeFeishu) -> None:
    bot = Recorder()
    async with callback_serving(fake, bot.dispatcher()):
        event = await fake.post_callback(fake.message_event("/study", token="guessed"))
        check = await fake.challenge(token="guessed")
    assert (event.status, check.status) == (403, 403) and bot.messages == []


# ------------------------------------------------------------------ OpenAPI


@pytest.fixture
async def api(fake: FakeFeishu) -> AsyncIterator[FeishuApi]:
    client = FeishuApi(fake.base_url, APP_ID, APP_SECRET)
    yield client
    await client.close()


async def test_sends_replies_and_card_updates_reach_feishu_as_its_json(
        fake: FakeFeishu, api: FeishuApi) -> None:
    text = await api.send("open_id", "ou_lina", Text("你好，李娜"), uuid="u-1")
    card = await api.send("chat_id", "oc_group1", CARD)
    user_message = fake.message_event("/study", sender="ou_lina")["event"]["message"]
    reply = await api.reply(user_message["message_id"], Text("请选择"),
                            chat_id=user_message["chat_id"])
    await api.patch_card(card.message_id, Card("已选择：个人自学", title="学习登记"))
    send_text, send_card, replied, patched = fake.message_calls()
    assert send_text.query == {"receive_id_type": "open_id"}
    assert send_text.json == {"receive_id": "ou_lina", "uuid": "u-1", "msg_type": "text",
                              "content": json.dumps({"text": "你好，李娜"}, ensure_ascii=False,
                                                    separators=(",", ":"))}
    assert send_card.query == {"receive_id_type": "chat_id"}
    assert send_card.json is not None and send_card.json["msg_type"] == "interactive"
    assert send_card.content()["header"]["title"]["content"] == "学习登记"
    assert replied.path.endswith(f"/{user_message['message_id']}/reply")
    assert patched.method == "PATCH" and patched.path.endswith(f"/{card.message_id}")
    assert fake.sent[card.message_id].current["elements"][0]["text"]["content"] == "已选择：个人自学"
    assert text.chat_id == fake.p2p_chat("ou_lina") and reply.chat_id == user_message["chat_id"]
    assert {c.code for c in fake.calls} == {0}
    assert sum(c.path.endswith("tenant_access_token/internal") for c in fake.calls) == 1


async def test_an_expired_token_is_fetched_again_once(fake: FakeFeishu, api: FeishuApi) -> None:
    await api.send("open_id", "ou_lina", Text("一"))
    fake.expire_tokens()
    await api.send("open_id", "ou_lina", Text("二"))
    codes = [c.code for c in fake.message_calls()]
    assert codes == [0, 99991663, 0]
    assert sum(c.path.endswith("tenant_access_token/internal") for c in fake.calls) == 2


async def test_a_wrong_secret_is_feishus_error_code(fake: FakeFeishu) -> None:
    api = FeishuApi(fake.base_url, APP_ID, "wrong")
    with pytest.raises(FeishuError) as caught:
        await api.send("open_id", "ou_lina", Text("你好"))
    await api.close()
    assert caught.value.code == 10014 and not caught.value.temporary


async def test_a_rate_limit_answer_pauses_with_feishus_reset(fake: FakeFeishu,
                                                             api: FeishuApi) -> None:
    fake.force_rate_limit()
    with pytest.raises(FeishuError) as caught:
        await api.send("chat_id", "oc_group1", Text("一"))
    assert caught.value.rate_limited and caught.value.temporary
    assert caught.value.retry_after == 1.0
    started = time.monotonic()
    await api.send("chat_id", "oc_group1", Text("二"))
    assert time.monotonic() - started >= 0.9  # waited out x-ogw-ratelimit-reset


async def test_an_oversized_card_is_refused_before_sending(fake: FakeFeishu,
                                                           api: FeishuApi) -> None:
    with pytest.raises(MessageTooLarge) as caught:
        await api.send("chat_id", "oc_group1", Card("长" * MAX_CARD_BODY))
    assert caught.value.limit == MAX_CARD_BODY and fake.message_calls() == []


async def test_a_patch_of_a_card_not_sent_by_the_bot_is_refused(fake: FakeFeishu,
                                                                api: FeishuApi) -> None:
    with pytest.raises(FeishuError) as caught:
        await api.patch_card("om_someone_elses", CARD)
    assert caught.value.code == 230001 and not caught.value.temporary


async def test_download_gives_the_file_and_its_name(fake: FakeFeishu, api: FeishuApi) -> None:
    content = b"%PDF-1.4 evidence" * 100
    fake.add_resource("om_file1", "file_v2_abc", content, "整改报告.pdf", "application/pdf")
    got = await api.download("om_file1", "file_v2_abc", "file")
    assert (got.content, got.file_name, got.content_type) == (content, "整改报告.pdf",
                                                              "application/pdf")
    with pytest.raises(FeishuError):
        await api.download("om_file1", "file_v2_abc", "file", max_bytes=100)
    with pytest.raises(FeishuError) as missing:
        await api.download("om_file1", "no_such_key", "image")
    assert missing.value.code == 234003


async def test_a_ledger_is_uploaded_then_sent_as_a_file(fake: FakeFeishu, api: FeishuApi) -> None:
    ledger = b"PK\x03\x04 xlsx bytes" * 50
    file_key = await api.upload_file("学习台账.xlsx", ledger)
    await api.send("open_id", "ou_secretary", File(file_key))
    assert fake.uploads[file_key] == ("学习台账.xlsx", "xls", ledger)
    (sent,) = fake.sent_to(fake.p2p_chat("ou_secretary"))
    assert (sent.msg_type, sent.content) == ("file", {"file_key": file_key})
    with pytest.raises(FeishuError):
        await api.upload_file("空.pdf", b"")
    with pytest.raises(FeishuError) as unknown:
        await api.send("open_id", "ou_secretary", File("file_v3_never_uploaded"))
    assert unknown.value.code == 230001


async def test_twelve_messages_to_one_chat_keep_to_five_per_second(fake: FakeFeishu,
                                                                   api: FeishuApi) -> None:
    started = time.monotonic()
    await asyncio.gather(*(api.send("chat_id", "oc_group1", Text(f"第{i}条")) for i in range(12)))
    assert fake.limit_violations == []
    assert time.monotonic() - started >= 2.0  # 5 + 5 + 2: two full windows waited
    assert len(fake.sent_to("oc_group1")) == 12


# ------------------------------------------------------------------ limiter and settings


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_limiter_keeps_every_window_with_a_simulated_clock() -> None:
    clock = FakeClock()
    limiter = FeishuLimiter(clock=clock, sleep=clock.sleep, margin=0.0)
    times = []
    for i in range(120):
        await limiter.acquire(chat=f"oc_{i % 30}")
        times.append(clock.now)
    assert all(sum(1 for t in times if start <= t < start + 1.0) <= 50 for start in times)
    chat_0 = times[0::30]
    assert all(sum(1 for t in chat_0 if s <= t < s + 1.0) <= 5 for s in chat_0)
    assert times[50] >= 1.0  # the 51st waited for the app's second
    assert len(limiter.chats) <= 4 * 5 + 30


async def test_limiter_pause_holds_every_request() -> None:
    clock = FakeClock()
    limiter = FeishuLimiter(clock=clock, sleep=clock.sleep)
    limiter.pause(7)
    await limiter.acquire(updated_message="om_1")
    assert clock.now >= 7


def test_settings_http_mode_needs_token_and_key_in_one_line(monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.setenv("BRANCHBOT_FEISHU_APP_ID", APP_ID)
    monkeypatch.setenv("BRANCHBOT_FEISHU_APP_SECRET", APP_SECRET)
    assert load_feishu_settings(_env_file=None).event_mode == "ws"
    assert load_feishu_settings(_env_file=None).base_url == "https://open.feishu.cn"
    monkeypatch.setenv("BRANCHBOT_FEISHU_EVENT_MODE", "http")
    with pytest.raises(FeishuConfigError) as caught:
        load_feishu_settings(_env_file=None)
    assert "BRANCHBOT_FEISHU_VERIFICATION_TOKEN" in str(caught.value)
    assert "\n" not in str(caught.value)
    monkeypatch.setenv("BRANCHBOT_FEISHU_APP_ID", "not-an-app-id")
    with pytest.raises(FeishuConfigError, match="^BRANCHBOT_FEISHU_APP_ID: "):
        load_feishu_settings(_env_file=None)


async def test_an_unreachable_endpoint_is_retried_then_given_up() -> None:
    """Nothing listens: each attempt fails at connect; after ReconnectCount retries, one line."""
    connection = LongConnection("http://127.0.0.1:9", APP_ID, APP_SECRET,
                                Recorder().dispatcher(), backoff_base=0.01)
    connection.config = connection.config.updated({"ReconnectCount": 2, "ReconnectNonce": 0})
    with pytest.raises(FeishuConnectError, match="after 2 reconnect attempts"):
        await asyncio.wait_for(connection.run(), 5)
    await connection.client.aclose()
