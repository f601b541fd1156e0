"""The DingTalk transport against the fake DingTalk on loopback: the real Stream client over a
real WebSocket, the real API client over real HTTP."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from bot.adapters.dingtalk.api import CredentialsRefused, DingTalkApi, DingTalkError, RateLimited
from bot.adapters.dingtalk.events import (
    CardPress, ConversationType, Incoming, RobotMessage, SessionWebhook, StreamGap,
)
from bot.adapters.dingtalk.limits import RobotLimits, SendLimiter
from bot.adapters.dingtalk.messages import (
    ActionCard, CardButton, File, LinkButton, Markdown, MessageTooLong, Text, ToGroup, ToUser,
    choice_card, send_back_url,
)
from bot.adapters.dingtalk.stream import Backoff, SeenEvents, StreamClient
from tests.fakes.dingtalk import TEMPLATE_ID, FakeDingTalk

FAST = Backoff(base=0.02, cap=0.1)
GROUP = "cidGroupOne=="


class Recorder:
    """The handler: keeps each event; answers card presses with what ``answer`` says."""

    def __init__(self) -> None:
        self.events: asyncio.Queue[Incoming] = asyncio.Queue()
        self.handled: list[Incoming] = []
        self.gate: asyncio.Event | None = None  # set by a test to hold the handler
        self.fail_next = False

    async def __call__(self, event: Incoming) -> dict[str, object] | None:
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("handler broke")
        self.handled.append(event)
        await self.events.put(event)
        if isinstance(event, CardPress):
            return {"cardData": {"cardParamMap": {"chosen": event.params["value"], "buttons": "[]"}}}
        return None

    async def next(self, timeout: float = 5.0) -> Incoming:
        return await asyncio.wait_for(self.events.get(), timeout)


@pytest.fixture
async def dingtalk() -> AsyncIterator[FakeDingTalk]:
    async with FakeDingTalk() as fake:
        yield fake


@pytest.fixture
async def recorder() -> Recorder:
    return Recorder()


async def _running(client: StreamClient) -> asyncio.Task[None]:
    task = asyncio.create_task(client.run())
    await asyncio.wait_for(client.connected.wait(), 5)
    return task


@pytest.fixture
async def stream(dingtalk: FakeDingTalk, recorder: Recorder) -> AsyncIterator[StreamClient]:
    client = StreamClient(dingtalk.config(), recorder, backoff=FAST)
    task = await _running(client)
    yield client
    await client.stop()
    await asyncio.wait_for(task, 10)


@pytest.fixture
async def api(dingtalk: FakeDingTalk) -> AsyncIterator[DingTalkApi]:
    client = DingTalkApi(dingtalk.config())
    yield client
    await client.close()


# --- connecting ------------------------------------------------------------------------------

async def test_connects_with_a_ticket_and_subscribes_to_messages_and_cards(
        dingtalk: FakeDingTalk, stream: StreamClient) -> None:
    connection = await dingtalk.gateway.wait_connections(1)
    assert dingtalk.gateway.opens == 1
    assert {(s["type"], s["topic"]) for s in connection.subscriptions} == {
        ("CALLBACK", "/v1.0/im/bot/messages/get"), ("CALLBACK", "/v1.0/card/instances/callback")}


async def test_bad_credentials_are_refused_at_once_and_not_retried(dingtalk: FakeDingTalk,
                                                                   recorder: Recorder) -> None:
    client = StreamClient(dingtalk.config(client_secret="wrong"), recorder, backoff=FAST)
    with pytest.raises(CredentialsRefused, match="invalidClientIdOrSecret"):
        await asyncio.wait_for(client.run(), 5)
    assert dingtalk.gateway.refused_opens == 1 and not dingtalk.gateway.connections

    api = DingTalkApi(dingtalk.config(client_id="nobody"))
    with pytest.raises(CredentialsRefused, match="invalidClientIdOrSecret"):
        await api.send(ToUser("staff1"), Text("你好"))
    await api.close()
    assert [c.status for c in dingtalk.api.calls] == [400] and not dingtalk.api.sent


async def test_a_ticket_opens_one_connection_only(dingtalk: FakeDingTalk, recorder: Recorder) -> None:
    client = StreamClient(dingtalk.config(), recorder)
    endpoint, ticket = await client.open_connection()
    async with connect(f"{endpoint}?ticket={ticket}"):
        with pytest.raises(InvalidStatus, match="401"):
            async with connect(f"{endpoint}?ticket={ticket}"):
                pass
    await client.client.aclose()


# --- receiving -------------------------------------------------------------------------------

async def test_private_message_arrives_typed_and_is_acked(dingtalk: FakeDingTalk, stream: StreamClient,
                                                          recorder: Recorder) -> None:
    pushed = await dingtalk.say("staff1", "/study", nick="张三")
    message = await recorder.next()
    assert isinstance(message, RobotMessage)
    assert (message.msg_id, message.sender_staff_id, message.sender_nick, message.text) == (
        pushed.msg_id, "staff1", "张三", "/study")
    assert message.conversation_type is ConversationType.PRIVATE and not message.is_group
    assert message.session_webhook is not None
    assert message.session_webhook.valid_at(datetime.now(UTC))
    assert message.session_webhook.expires_at > datetime.now(UTC) + timedelta(minutes=89)
    ack = await dingtalk.gateway.ack_for(pushed.message_id)
    assert (ack.code, ack.data, ack.content_type) == (200, {"response": None}, "application/json")
    assert not dingtalk.gateway.bad_acks


async def test_group_message_arrives_only_with_the_robot_mentioned(
        dingtalk: FakeDingTalk, stream: StreamClient, recorder: Recorder) -> None:
    assert not (await dingtalk.say("staff2", "大家好", group=GROUP, at_robot=False)).delivered
    await dingtalk.say("staff2", "/bindgroup", group=GROUP)
    message = await recorder.next()
    assert isinstance(message, RobotMessage) and message.is_group
    assert (message.conversation_id, message.text, message.is_in_at_list, message.conversation_title) == (
        GROUP, "/bindgroup", True, "第一党支部")
    assert recorder.events.empty()


async def test_file_message_carries_its_download_code(dingtalk: FakeDingTalk, stream: StreamClient,
                                                      recorder: Recorder, api: DingTalkApi) -> None:
    code = dingtalk.api.add_file("整改照片.jpg", b"\xff\xd8 jpeg bytes")
    await dingtalk.say("staff1", "", msgtype="file", content={"downloadCode": code, "fileName": "整改照片.jpg"})
    message = await recorder.next()
    assert isinstance(message, RobotMessage) and message.text is None
    (attachment,) = message.attachments
    assert (attachment.kind, attachment.file_name) == ("file", "整改照片.jpg")
    assert await api.download(attachment.download_code) == b"\xff\xd8 jpeg bytes"
    with pytest.raises(DingTalkError, match="downloadCode"):
        await api.download("no-such-code")


async def test_redelivered_message_is_acked_but_handled_once(dingtalk: FakeDingTalk, stream: StreamClient,
                                                             recorder: Recorder) -> None:
    pushed = await dingtalk.say("staff1", "一次")
    await recorder.next()
    again = await dingtalk.redeliver(pushed)
    other_frame = await dingtalk.redeliver(pushed, new_message_id=True)  # same msgId, new frame id
    assert (await dingtalk.gateway.ack_for(again.message_id, count=2)).code == 200
    assert (await dingtalk.gateway.ack_for(other_frame.message_id)).code == 200
    assert len(recorder.handled) == 1 and recorder.events.empty()


async def test_duplicate_arriving_while_the_first_is_handled_waits_for_it(
        dingtalk: FakeDingTalk, stream: StreamClient, recorder: Recorder) -> None:
    recorder.gate = asyncio.Event()
    pushed = await dingtalk.say("staff1", "慢")
    await dingtalk.redeliver(pushed)
    await asyncio.sleep(0.1)
    assert not dingtalk.gateway.acks  # nothing ACKed while the handler still works
    recorder.gate.set()
    await dingtalk.gateway.ack_for(pushed.message_id, count=2)
    assert len(recorder.handled) == 1


async def test_bad_frames_and_failing_handler_leave_the_stream_up(
        dingtalk: FakeDingTalk, stream: StreamClient, recorder: Recorder) -> None:
    await dingtalk.gateway.live[-1].ws.send_str("not json at all")
    broken = await dingtalk.say("staff1", "x")
    data = json.loads(broken.frame["data"])
    del data["senderStaffId"]
    bad = dict(broken.frame, headers={**broken.frame["headers"], "messageId": "bad-1"},
               data=json.dumps(data))
    await dingtalk.gateway.push(bad)
    assert (await dingtalk.gateway.ack_for("bad-1")).code == 400
    await recorder.next()  # the well-formed one

    recorder.fail_next = True
    failing = await dingtalk.say("staff1", "会失败")
    assert (await dingtalk.gateway.ack_for(failing.message_id)).code == 500
    retried = await dingtalk.redeliver(failing)  # a failed event is not marked seen
    assert (await dingtalk.gateway.ack_for(retried.message_id, count=2)).code == 200
    assert isinstance(event := await recorder.next(), RobotMessage) and event.text == "会失败"
    assert len(dingtalk.gateway.connections) == 1


async def test_ping_is_answered_with_its_opaque(dingtalk: FakeDingTalk, stream: StreamClient) -> None:
    ack = await dingtalk.gateway.ping()
    assert ack.code == 200 and ack.data == {"opaque": ack.message_id}


# --- reconnecting ----------------------------------------------------------------------------

async def test_disconnect_notice_reconnects_before_the_close_without_a_gap(
        dingtalk: FakeDingTalk, stream: StreamClient, recorder: Recorder) -> None:
    old = await dingtalk.gateway.announce_disconnect(grace=1.0)
    await dingtalk.gateway.wait_connections(2)
    assert not old.closed.is_set()  # the new connection came up while the old one was still open
    await old.closed.wait()
    await dingtalk.say("staff1", "换了连接")
    assert isinstance(event := await recorder.next(), RobotMessage) and event.text == "换了连接"
    assert not dingtalk.gateway.lost and dingtalk.gateway.opens == 2
    assert not any(isinstance(e, StreamGap) for e in recorder.handled)


async def test_broken_connection_reconnects_with_backoff_and_reports_the_gap(
        dingtalk: FakeDingTalk, recorder: Recorder) -> None:
    client = StreamClient(dingtalk.config(), recorder, backoff=Backoff(base=0.4, cap=0.4))
    task = await _running(client)
    await dingtalk.say("staff1", "之前")
    await recorder.next()
    dropped_at = datetime.now(UTC)
    await dingtalk.gateway.drop()
    lost = await dingtalk.say("staff1", "断线时发的")  # DingTalk pushes it once: lost
    assert not lost.delivered and len(dingtalk.gateway.lost) == 1
    await dingtalk.gateway.wait_connections(2)
    gap = await recorder.next()
    assert isinstance(gap, StreamGap)
    assert gap.since <= dropped_at + timedelta(seconds=0.1) and gap.seconds >= 0.2
    await dingtalk.say("staff1", "之后")
    assert isinstance(event := await recorder.next(), RobotMessage) and event.text == "之后"
    await client.stop()
    await asyncio.wait_for(task, 10)


async def test_reconnect_retries_while_the_gateway_is_unreachable(dingtalk: FakeDingTalk,
                                                                  recorder: Recorder) -> None:
    unreachable = dingtalk.config(api_base_url="http://127.0.0.1:9")
    client = StreamClient(unreachable, recorder, backoff=FAST)
    task = asyncio.create_task(client.run())
    await asyncio.sleep(0.3)
    assert not task.done() and not client.connected.is_set()  # still trying, not crashed
    await client.stop()
    await asyncio.wait_for(task, 5)


def test_backoff_grows_with_jitter_up_to_its_cap() -> None:
    backoff = Backoff(base=1.0, cap=60.0)
    for attempt, ceiling in [(0, 1.0), (3, 8.0), (10, 60.0), (99, 60.0)]:
        delays = {backoff.delay(attempt) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays) and len(delays) > 1


def test_seen_events_keep_bounded_memory() -> None:
    seen = SeenEvents(size=3)
    for number in range(5):
        seen.add(("message", number), None)
    assert len(seen) == 3 and ("message", 0) not in seen and ("message", 4) in seen


# --- interactive cards -----------------------------------------------------------------------

async def test_card_is_delivered_and_a_press_comes_back_typed_and_updates_it(
        dingtalk: FakeDingTalk, stream: StreamClient, recorder: Recorder, api: DingTalkApi) -> None:
    card = choice_card(TEMPLATE_ID, "track-1", "问题整改", "是否通过？",
                       (CardButton("通过", "approve:7"), CardButton("退回", "reject:7")))
    await api.send_card(ToUser("secretary1"), card)
    sent = dingtalk.api.cards["track-1"]
    assert (sent.space_type, sent.space_id, json.loads(sent.params["buttons"])) == (
        "IM_ROBOT", "secretary1", [{"text": "通过", "value": "approve:7"}, {"text": "退回", "value": "reject:7"}])
    await dingtalk.press("secretary1", "track-1", "approve:7")
    press = await recorder.next()
    assert isinstance(press, CardPress)
    assert (press.out_track_id, press.user_id, press.params, press.space_type) == (
        "track-1", "secretary1", {"value": "approve:7"}, "IM_ROBOT")
    assert sent.params["chosen"] == "approve:7" and sent.params["buttons"] == "[]"

    await api.update_card("track-1", {"chosen": "已通过"})
    assert sent.params["chosen"] == "已通过" and sent.params["title"] == "问题整改"
    with pytest.raises(DingTalkError, match="card.instance.notExist"):
        await api.update_card("no-such-track", {"chosen": "x"})


async def test_card_to_a_group_and_a_refused_template(dingtalk: FakeDingTalk, api: DingTalkApi) -> None:
    dingtalk.api.groups.add(GROUP)
    await api.send_card(ToGroup(GROUP), choice_card(TEMPLATE_ID, "track-g", "t", "x", (CardButton("好", "ok"),)))
    assert dingtalk.api.cards["track-g"].space_type == "IM_GROUP"
    with pytest.raises(DingTalkError, match="cardTemplateId"):
        await api.send_card(ToGroup(GROUP), choice_card("unknown.schema", "track-h", "t", "x", ()))


# --- sending ---------------------------------------------------------------------------------

async def test_sends_reach_the_fake_with_the_right_json(dingtalk: FakeDingTalk, api: DingTalkApi) -> None:
    dingtalk.api.groups.add(GROUP)
    receipt = await api.send(ToUser("staff1"), Text("请填写本周学习时长"))
    assert receipt.via == "openapi" and receipt.process_query_key
    await api.send(ToGroup(GROUP), Markdown("本周进度", "### 第一党支部\n- 学习 12 小时"))
    buttons = tuple(LinkButton(label, send_back_url(label)) for label in ("1 学习", "2 走访", "3 问题"))
    await api.send(ToUser("staff1"), ActionCard("请选择", "要填报什么？", buttons))
    batch = [c for c in dingtalk.api.calls if c.path == "/v1.0/robot/oToMessages/batchSend"][0]
    assert batch.body["userIds"] == ["staff1"] and batch.body["robotCode"] == dingtalk.config().robot_code
    assert [(s.to, s.kind) for s in dingtalk.api.sent] == [
        ("staff1", "sampleText"), (GROUP, "sampleMarkdown"), ("staff1", "sampleActionCard3")]
    assert dingtalk.api.sent[0].param == {"content": "请填写本周学习时长"}
    card = dingtalk.api.sent[2].param
    assert (card["actionTitle2"], card["actionURL2"]) == (
        "2 走访", "dtmd://dingtalkclient/sendMessage?content=2+%E8%B5%B0%E8%AE%BF")


async def test_file_is_uploaded_then_sent(dingtalk: FakeDingTalk, api: DingTalkApi) -> None:
    media_id = await api.upload("台账.xlsx", b"PK\x03\x04 xlsx")
    assert dingtalk.api.uploads[media_id] == ("台账.xlsx", b"PK\x03\x04 xlsx")
    await api.reply(ToUser("staff1"), File(media_id, "台账.xlsx"), None)
    (sent,) = dingtalk.api.sent
    assert (sent.kind, sent.param) == ("sampleFile", {"mediaId": media_id, "fileName": "台账.xlsx",
                                                      "fileType": "xlsx"})


async def test_reply_uses_the_session_webhook_while_valid_else_the_openapi(
        dingtalk: FakeDingTalk, stream: StreamClient, recorder: Recorder, api: DingTalkApi) -> None:
    await dingtalk.say("staff1", "/study")
    message = await recorder.next()
    assert isinstance(message, RobotMessage)
    webhook = message.session_webhook
    assert (await api.reply(ToUser("staff1"), Text("学习了多少小时？"), webhook)).via == "webhook"
    assert dingtalk.api.sent[-1].via == "webhook" and dingtalk.api.sent[-1].param == {"content": "学习了多少小时？"}

    dingtalk.api.expire_sessions()  # DingTalk refuses it: sent by the OpenAPI instead
    assert (await api.reply(ToUser("staff1"), Text("第二条"), webhook)).via == "openapi"
    assert dingtalk.api.sent[-1].via == "openapi"

    calls = len(dingtalk.api.calls)
    stale = SessionWebhook(webhook.url if webhook else "", datetime.now(UTC) + timedelta(seconds=30))
    assert (await api.reply(ToUser("staff1"), Text("第三条"), stale)).via == "openapi"
    assert not any(c.path == "/robot/sendBySession" for c in dingtalk.api.calls[calls:])


async def test_token_is_cached_renewed_when_refused_and_when_expiring(dingtalk: FakeDingTalk,
                                                                      api: DingTalkApi) -> None:
    await api.send(ToUser("staff1"), Text("一"))
    await api.send(ToUser("staff1"), Text("二"))
    assert dingtalk.api.token_fetches == 1
    dingtalk.api.expire_tokens()
    await api.send(ToUser("staff1"), Text("三"))
    assert dingtalk.api.token_fetches == 2 and len(dingtalk.api.sent) == 3
    assert [c.code for c in dingtalk.api.calls if c.code] == ["InvalidAuthentication"]

    dingtalk.api.token_lifetime = 1  # renewed after half its life when shorter than the margin
    dingtalk.api.expire_tokens()
    await api.send(ToUser("staff1"), Text("四"))
    fetches = dingtalk.api.token_fetches
    await asyncio.sleep(0.6)
    await api.send(ToUser("staff1"), Text("五"))
    assert dingtalk.api.token_fetches == fetches + 1


async def test_unreachable_and_flow_controlled_members(dingtalk: FakeDingTalk, api: DingTalkApi) -> None:
    dingtalk.api.gone.add("left1")
    with pytest.raises(DingTalkError, match="invalidStaffId") as gone:
        await api.send(ToUser("left1"), Text("x"))
    assert not gone.value.temporary
    dingtalk.api.flow_controlled.add("busy1")
    with pytest.raises(RateLimited) as limited:
        await api.send(ToUser("busy1"), Text("x"))
    assert limited.value.temporary and not dingtalk.api.sent


async def test_too_long_message_is_refused_before_any_call(dingtalk: FakeDingTalk, api: DingTalkApi) -> None:
    with pytest.raises(MessageTooLong):
        await api.send(ToUser("staff1"), Text("学" * 5001))  # 15,003 bytes of UTF-8
    assert not dingtalk.api.calls
    with pytest.raises(ValueError, match="1 to 5 buttons"):
        ActionCard("t", "x", tuple(LinkButton(str(n), send_back_url(str(n))) for n in range(6)))


# --- limits ----------------------------------------------------------------------------------

async def test_limiter_keeps_a_group_within_its_window(dingtalk: FakeDingTalk) -> None:
    dingtalk.api.groups.add(GROUP)
    dingtalk.api.group_limit, dingtalk.api.group_window = 3, 0.5
    limited = DingTalkApi(dingtalk.config(), limiter=SendLimiter(RobotLimits(per_group_minute=3, minute=0.5)))
    started = time.monotonic()
    for number in range(7):
        await limited.send(ToGroup(GROUP), Text(f"第{number}条"))
    assert time.monotonic() - started >= 1.0  # two full windows waited
    assert len(dingtalk.api.sent) == 7 and not any(c.code for c in dingtalk.api.calls)
    await limited.close()

    unlimited = DingTalkApi(dingtalk.config(), limiter=SendLimiter(RobotLimits(per_group_minute=100)))
    with pytest.raises(RateLimited, match="send.too.fast"):
        for _ in range(4):
            await unlimited.send(ToGroup(GROUP), Text("刷屏"))
    await unlimited.close()


async def test_limiter_counts_sends_under_way_and_pauses_when_told() -> None:
    now = [0.0]
    limiter = SendLimiter(RobotLimits(per_user_minute=2, minute=60), clock=lambda: now[0])
    first = await limiter.acquire(ToUser("a"))
    second = await limiter.acquire(ToUser("a"))
    third = asyncio.create_task(limiter.acquire(ToUser("a")))
    await asyncio.sleep(0.05)
    assert not third.done()  # two under way: no third, however long they take
    await limiter.acquire(ToUser("b"))  # another member is not held up
    await limiter.release(first)
    now[0] = 61.0
    await limiter.release(second)
    await asyncio.wait_for(third, 1)
    limiter.pause(ToUser("b"), 30)
    blocked = asyncio.create_task(limiter.acquire(ToUser("b")))
    await asyncio.sleep(0.05)
    assert not blocked.done()
    blocked.cancel()


# --- which buttons work ----------------------------------------------------------------------

async def test_send_back_link_answers_in_private_but_never_reaches_the_robot_in_a_group(
        dingtalk: FakeDingTalk, stream: StreamClient, recorder: Recorder) -> None:
    tapped = await dingtalk.tap("staff1", send_back_url("2 走访"))
    assert tapped.delivered
    assert isinstance(event := await recorder.next(), RobotMessage) and event.text == "2 走访"
    in_group = await dingtalk.tap("staff1", send_back_url("2 走访"), group=GROUP)
    assert not in_group.delivered  # no @ of the robot: DingTalk never pushes it
    await asyncio.sleep(0.1)
    assert recorder.events.empty()


async def test_httpx_errors_surface_as_they_are(dingtalk: FakeDingTalk) -> None:
    api = DingTalkApi(dingtalk.config(api_base_url="http://127.0.0.1:9"))
    with pytest.raises(httpx.ConnectError):
        await api.send(ToUser("staff1"), Text("x"))
    await api.close()
