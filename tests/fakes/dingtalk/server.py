"""A fake DingTalk on loopback: the Stream gateway (``gateway``), the OpenAPI (``api``), and the
members' side, which pushes robot messages and card presses the way DingTalk does.

    async with FakeDingTalk() as dingtalk:
        config = dingtalk.config()              # a DingTalkConfig pointing here
        pushed = await dingtalk.say("staff1", "/study")
        ack = await dingtalk.gateway.ack_for(pushed.message_id)

One server answers for both hosts (api.dingtalk.com and oapi.dingtalk.com): their paths differ.
A group message reaches the robot only when it @-mentions the robot, as on DingTalk; so a
``dtmd://`` send-back link tapped in a group sends a message the robot never receives.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp import web

from bot.adapters.dingtalk.config import DingTalkConfig
from tests.fakes.dingtalk.gateway import Gateway
from tests.fakes.dingtalk.openapi import OpenApi

JSON = dict[str, Any]
CLIENT_ID = "dingfakeclient0001"
CLIENT_SECRET = "fake-client-secret"
ROBOT_CODE = CLIENT_ID  # an internal app's robot code is its AppKey
TEMPLATE_ID = "b5f1c9a0-choice.schema"
CORP_ID = "dingcorpfake"
TOPIC_MESSAGE = "/v1.0/im/bot/messages/get"
TOPIC_CARD = "/v1.0/card/instances/callback"


@dataclass(frozen=True)
class Pushed:
    """A frame the fake sent (or tried to): what the test needs to follow it up."""

    message_id: str  # the frame's headers.messageId, which its ACK carries
    frame: JSON
    delivered: bool
    msg_id: str = ""  # a robot message's own msgId


class FakeDingTalk:
    def __init__(self) -> None:
        self.gateway = Gateway(CLIENT_ID, CLIENT_SECRET)
        self.api = OpenApi(CLIENT_ID, CLIENT_SECRET, ROBOT_CODE, TEMPLATE_ID)
        self.webhook_seconds = 5400.0  # DingTalk's session webhooks last 90 minutes
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._numbers = itertools.count(1)

    async def __aenter__(self) -> FakeDingTalk:
        app = web.Application()
        self.gateway.routes(app)
        self.api.routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.gateway.endpoint = f"ws://127.0.0.1:{self._port}/connect"
        self.api.base_url = self.base_url
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for connection in self.gateway.connections:
            await connection.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def config(self, **overrides: Any) -> DingTalkConfig:
        values = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "robot_code": ROBOT_CODE,
                  "api_base_url": self.base_url, "oapi_base_url": self.base_url,
                  "card_template_id": TEMPLATE_ID, **overrides}
        return DingTalkConfig(_env_file=None, **values)  # type: ignore[call-arg]

    # --- the members' side ---------------------------------------------------------------------

    @staticmethod
    def _frame(topic: str, data: JSON, message_id: str) -> JSON:
        return {"specVersion": "1.0", "type": "CALLBACK",
                "headers": {"appId": "fake-app", "contentType": "application/json",
                            "messageId": message_id, "time": str(int(time.time() * 1000)),
                            "topic": topic},
                "data": json.dumps(data, ensure_ascii=False)}

    def private_conversation(self, staff_id: str) -> str:
        return f"cidp{staff_id}=="

    async def say(self, staff_id: str, text: str, *, group: str | None = None, at_robot: bool = True,
                  nick: str = "", msgtype: str = "text", content: JSON | None = None) -> Pushed:
        """``staff_id`` writes to the robot: 1:1, or in ``group`` (reaching the robot only with @)."""
        conversation = group or self.private_conversation(staff_id)
        if group is not None:
            self.api.groups.add(group)
            if not at_robot:
                return Pushed("", {}, delivered=False)
        webhook, expires = self.api.session_webhook(conversation, self.webhook_seconds)
        msg_id = f"msg{uuid.uuid4().hex[:16]}=="
        data: JSON = {
            "conversationId": conversation, "chatbotCorpId": CORP_ID, "chatbotUserId": "$:LWCP_v1:$robot",
            "msgId": msg_id, "senderNick": nick or staff_id, "isAdmin": False, "senderStaffId": staff_id,
            "sessionWebhookExpiredTime": expires, "createAt": int(time.time() * 1000),
            "senderCorpId": CORP_ID, "conversationType": "2" if group else "1",
            "senderId": f"$:LWCP_v1:${staff_id}", "sessionWebhook": webhook, "robotCode": ROBOT_CODE,
            "msgtype": msgtype}
        if msgtype == "text":
            data["text"] = {"content": f" {text}" if group else text}  # DingTalk keeps the space after @
        else:
            data["content"] = content or {}
        if group:
            data |= {"conversationTitle": "第一党支部", "isInAtList": True,
                     "atUsers": [{"dingtalkId": "$:LWCP_v1:$robot"}]}
        message_id = f"{uuid.uuid4().hex[:8]}_{next(self._numbers)}"
        frame = self._frame(TOPIC_MESSAGE, data, message_id)
        return Pushed(message_id, frame, await self.gateway.push(frame), msg_id)

    async def redeliver(self, pushed: Pushed, *, new_message_id: bool = False) -> Pushed:
        """The same event once more (a new frame messageId if asked, as a retry may carry)."""
        frame = json.loads(json.dumps(pushed.frame))
        if new_message_id:
            frame["headers"]["messageId"] = f"{uuid.uuid4().hex[:8]}_{next(self._numbers)}"
        return Pushed(frame["headers"]["messageId"], frame, await self.gateway.push(frame), pushed.msg_id)

    async def press(self, staff_id: str, out_track_id: str, value: str) -> Pushed:
        """``staff_id`` presses the button of card ``out_track_id`` that sends back ``value``; the
        ACK's response (cardData) updates the card, as DingTalk does."""
        card = self.api.cards[out_track_id]
        values = [b["value"] for b in json.loads(card.params.get("buttons", "[]"))]
        assert value in values, f"no button sends {value!r}; the card has {values}"
        if card.space_type == "IM_ROBOT":
            assert card.space_id == staff_id, "a 1:1 card is seen only by its member"
        message_id = f"{uuid.uuid4().hex[:8]}_{next(self._numbers)}"
        content = {"cardPrivateData": {"actionIds": ["choice"], "params": {"value": value}}}
        frame = self._frame(TOPIC_CARD, {
            "outTrackId": out_track_id, "corpId": CORP_ID, "userId": staff_id, "type": "actionCallback",
            "spaceType": card.space_type, "spaceId": card.space_id, "userIdType": 1,
            "content": json.dumps(content), "extension": "{}"}, message_id)
        pushed = Pushed(message_id, frame, await self.gateway.push(frame))
        if pushed.delivered:
            ack = await self.gateway.ack_for(message_id)
            card_data = ((ack.data.get("response") or {}).get("cardData") or {}).get("cardParamMap")
            if ack.code == 200 and isinstance(card_data, dict):
                self.api.apply(card, {str(k): str(v) for k, v in card_data.items()}, by_key=True)
        return pushed

    async def tap(self, staff_id: str, url: str, *, group: str | None = None) -> Pushed:
        """``staff_id`` taps a link of a message: a ``dtmd://dingtalkclient/sendMessage`` link sends
        its content as the member's own message, which in a group carries no @ of the robot."""
        parts = urlsplit(url)
        assert parts.scheme == "dtmd" and parts.netloc == "dingtalkclient" and parts.path == "/sendMessage", url
        content = parse_qs(parts.query)["content"][0]
        return await self.say(staff_id, content, group=group, at_robot=False)
