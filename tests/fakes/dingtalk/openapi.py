"""The fake's HTTP API: the app token, robot sends to members and groups, session webhooks,
interactive cards, and files both ways. Every call is recorded; a missing or wrong token, a bad
parameter or too many messages are refused with DingTalk's JSON.

Assumed where DingTalk's published material says nothing precise (see PROTOCOL.md): a
throttled group send answers 429 ``send.too.fast``; an expired session webhook answers
errcode 300005.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.dingtalk.gateway import refusal

JSON = dict[str, Any]

# msgKey → the msgParam fields it needs (企业机器人发送消息的消息类型)
MSG_KEYS: dict[str, tuple[str, ...]] = {
    "sampleText": ("content",), "sampleMarkdown": ("title", "text"),
    "sampleFile": ("mediaId", "fileName", "fileType"),
    "sampleActionCard": ("title", "text", "singleTitle", "singleURL"),
    **{f"sampleActionCard{n}": ("title", "text", *(f"{kind}{i}" for i in range(1, n + 1)
                                                    for kind in ("actionTitle", "actionURL")))
       for n in range(2, 6)},
}
WEBHOOK_TYPES = {"text": ("content",), "markdown": ("title", "text"), "actionCard": ("title", "text")}
MAX_PARAM_BYTES = 15_000
SPACE = re.compile(r"^dtv1\.card//(IM_ROBOT|IM_GROUP)\.(.+)$")


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: JSON
    status: int = 200
    code: str = ""  # the refusal's code or errcode, empty when it went through


@dataclass(frozen=True)
class Sent:
    """A message that reached a member or a group, however it was sent."""

    via: str  # openapi or webhook
    to: str  # staff id or openConversationId
    kind: str  # msgKey (OpenAPI) or msgtype (webhook)
    param: JSON


@dataclass
class FakeCard:
    out_track_id: str
    space_type: str
    space_id: str
    params: dict[str, str]
    history: list[dict[str, str]] = field(default_factory=list)


@dataclass
class _Session:
    conversation: str
    expires_ms: int


class OpenApi:
    def __init__(self, client_id: str, client_secret: str, robot_code: str, template_id: str) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.robot_code, self.template_id = robot_code, template_id
        self.calls: list[Call] = []
        self.sent: list[Sent] = []
        self.timeline: list[Sent | FakeCard] = []  # messages and cards, in the order they came
        self.cards: dict[str, FakeCard] = {}
        self.uploads: dict[str, tuple[str, bytes]] = {}
        self.groups: set[str] = set()
        self.gone: set[str] = set()  # staff ids that left: invalidStaffIdList
        self.flow_controlled: set[str] = set()
        self.token_lifetime = 7200
        self.token_fetches = 0
        self.group_limit = 20  # per group and window
        self.group_window = 60.0  # seconds (shorter only in tests)
        self.base_url = ""  # set by the server once it listens
        self._tokens: set[str] = set()
        self._files: dict[str, tuple[str, bytes]] = {}
        self._sessions: dict[str, _Session] = {}
        self._group_sends: dict[str, deque[float]] = {}
        self._numbers = itertools.count(1)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1.0/oauth2/accessToken", self._token)
        app.router.add_post("/v1.0/robot/oToMessages/batchSend", self._batch_send)
        app.router.add_post("/v1.0/robot/groupMessages/send", self._group_send)
        app.router.add_post("/v1.0/card/instances/createAndDeliver", self._create_card)
        app.router.add_put("/v1.0/card/instances", self._update_card)
        app.router.add_post("/v1.0/robot/messageFiles/download", self._download)
        app.router.add_get("/files/{key}", self._file)
        app.router.add_post("/media/upload", self._upload)
        app.router.add_post("/robot/sendBySession", self._session_send)

    # --- plumbing ------------------------------------------------------------------------------

    async def _record(self, request: web.Request) -> Call:
        body: JSON = {}
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                body = {"_unreadable": True}
        call = Call(request.method, request.path, dict(request.query), body)
        self.calls.append(call)
        return call

    @staticmethod
    def _refuse(call: Call, status: int, code: str, message: str) -> web.Response:
        call.status, call.code = status, code
        return refusal(status, code, message)

    def _unauthorized(self, request: web.Request, call: Call) -> web.Response | None:
        token = request.headers.get("x-acs-dingtalk-access-token")
        if token is None:
            return self._refuse(call, 400, "AuthenticationFailed.MissingParameter",
                                "缺少参数：x-acs-dingtalk-access-token")
        if token not in self._tokens:
            return self._refuse(call, 400, "InvalidAuthentication", "不合法的access_token")
        return None

    def _bad_message(self, call: Call) -> web.Response | None:
        body = call.body
        if body.get("robotCode") != self.robot_code:
            return self._refuse(call, 400, "invalidParameter.robotCode.auth", "robotCode 与应用不匹配")
        fields = MSG_KEYS.get(str(body.get("msgKey")))
        if fields is None:
            return self._refuse(call, 400, "invalidParameter.msgKey.invalid", "msgKey 不合法")
        raw = body.get("msgParam")
        try:
            param = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            param = None
        if not isinstance(param, dict) or any(not isinstance(param.get(f), str) for f in fields):
            return self._refuse(call, 400, "invalidParameter.msgParam.invalid", "msgParam 须为 JSON")
        if len(raw.encode()) > MAX_PARAM_BYTES:  # type: ignore[union-attr]
            return self._refuse(call, 400, "invalidParameter.msgParam.invalid", "msgParam 超长")
        if body["msgKey"] == "sampleFile" and param["mediaId"] not in self.uploads:
            return self._refuse(call, 400, "invalidParameter.mediaId.invalid", "mediaId 不存在")
        return None

    # --- token ---------------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        call = await self._record(request)
        self.token_fetches += 1
        if call.body.get("appKey") != self.client_id or call.body.get("appSecret") != self.client_secret:
            return self._refuse(call, 400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
        token = f"token-{next(self._numbers)}"
        self._tokens.add(token)
        return web.json_response({"accessToken": token, "expireIn": self.token_lifetime})

    # --- robot sends ---------------------------------------------------------------------------

    async def _batch_send(self, request: web.Request) -> web.Response:
        call = await self._record(request)
        if (refused := self._unauthorized(request, call) or self._bad_message(call)) is not None:
            return refused
        users = call.body.get("userIds")
        if not isinstance(users, list) or not users:
            return self._refuse(call, 400, "invalidParameter.userIds.empty", "userIds 为空")
        if len(users) > 20:
            return self._refuse(call, 400, "invalidParameter.userIds.overMax", "userIds 超过上限")
        invalid = [u for u in users if u in self.gone]
        controlled = [u for u in users if u in self.flow_controlled and u not in invalid]
        param = json.loads(call.body["msgParam"])
        for user in users:
            if user not in invalid and user not in controlled:
                self._deliver(Sent("openapi", user, call.body["msgKey"], param))
        return web.json_response({"processQueryKey": f"pqk{next(self._numbers)}",
                                  "invalidStaffIdList": invalid, "flowControlledStaffIdList": controlled})

    def _too_fast(self, conversation: str) -> bool:
        sends = self._group_sends.setdefault(conversation, deque())
        now = time.monotonic()
        while sends and sends[0] <= now - self.group_window:
            sends.popleft()
        if len(sends) >= self.group_limit:
            return True
        sends.append(now)
        return False

    async def _group_send(self, request: web.Request) -> web.Response:
        call = await self._record(request)
        if (refused := self._unauthorized(request, call) or self._bad_message(call)) is not None:
            return refused
        group = call.body.get("openConversationId")
        if group not in self.groups:
            return self._refuse(call, 400, "invalid.openConversationId", "无效的openConversationId")
        if self._too_fast(group):
            return self._refuse(call, 429, "send.too.fast", "发送太快")
        self._deliver(Sent("openapi", group, call.body["msgKey"], json.loads(call.body["msgParam"])))
        return web.json_response({"processQueryKey": f"pqk{next(self._numbers)}"})

    def _deliver(self, sent: Sent) -> None:
        self.sent.append(sent)
        self.timeline.append(sent)

    def session_webhook(self, conversation: str, seconds: float) -> tuple[str, int]:
        """A new session webhook for ``conversation`` and its expiry (epoch milliseconds)."""
        session = f"s{next(self._numbers)}"
        expires = int((time.time() + seconds) * 1000)
        self._sessions[session] = _Session(conversation, expires)
        return f"{self.base_url}/robot/sendBySession?session={session}", expires

    def expire_sessions(self) -> None:
        for session in self._sessions.values():
            session.expires_ms = 0

    async def _session_send(self, request: web.Request) -> web.Response:
        call = await self._record(request)
        session = self._sessions.get(request.query.get("session", ""))
        if session is None or session.expires_ms < time.time() * 1000:
            call.code = "300005"
            return web.json_response({"errcode": 300005, "errmsg": "session 不存在或已过期"})
        kind = str(call.body.get("msgtype"))
        part = call.body.get(kind)
        if kind not in WEBHOOK_TYPES or not isinstance(part, dict) or any(
                not isinstance(part.get(f), str) for f in WEBHOOK_TYPES[kind]):
            call.code = "40035"
            return web.json_response({"errcode": 40035, "errmsg": "缺少参数 msgtype 或其内容"})
        if session.conversation in self.groups and self._too_fast(session.conversation):
            call.code = "660026"
            return web.json_response({"errcode": 660026, "errmsg": "sending too many messages per minute"})
        self._deliver(Sent("webhook", session.conversation, kind, part))
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    # --- interactive cards ---------------------------------------------------------------------

    async def _create_card(self, request: web.Request) -> web.Response:
        call = await self._record(request)
        if (refused := self._unauthorized(request, call)) is not None:
            return refused
        body = call.body
        params = (body.get("cardData") or {}).get("cardParamMap")
        space = SPACE.match(str(body.get("openSpaceId", "")))
        if body.get("cardTemplateId") != self.template_id:
            return self._refuse(call, 400, "param.cardTemplateId.invalid", "卡片模板不存在")
        if not body.get("outTrackId") or body["outTrackId"] in self.cards:
            return self._refuse(call, 400, "param.outTrackId.invalid", "outTrackId 为空或重复")
        if body.get("callbackType") != "STREAM" or space is None:
            return self._refuse(call, 400, "param.invalid", "callbackType 或 openSpaceId 不合法")
        if not isinstance(params, dict) or any(not isinstance(v, str) for v in params.values()):
            return self._refuse(call, 400, "param.cardParamMap.invalid", "cardParamMap 的值须为字符串")
        space_type, space_id = space.groups()
        model = body.get("imRobotOpenDeliverModel" if space_type == "IM_ROBOT" else "imGroupOpenDeliverModel")
        if not isinstance(model, dict) or model.get("robotCode") != self.robot_code:
            return self._refuse(call, 400, "param.robotCode.invalid", "robotCode 不合法")
        delivered = space_id not in self.gone and (space_type == "IM_ROBOT" or space_id in self.groups)
        if delivered:
            self.cards[body["outTrackId"]] = FakeCard(body["outTrackId"], space_type, space_id,
                                                      dict(params), [dict(params)])
            self.timeline.append(self.cards[body["outTrackId"]])
        return web.json_response({"success": True, "result": {
            "outTrackId": body["outTrackId"],
            "deliverResults": [{"spaceType": space_type, "spaceId": space_id, "success": delivered,
                                "errorMsg": "" if delivered else "接收者不存在",
                                "carrierId": f"carrier{next(self._numbers)}" if delivered else ""}]}})

    def apply(self, card: FakeCard, params: dict[str, str], by_key: bool) -> None:
        card.params = {**card.params, **params} if by_key else dict(params)
        card.history.append(dict(card.params))

    async def _update_card(self, request: web.Request) -> web.Response:
        call = await self._record(request)
        if (refused := self._unauthorized(request, call)) is not None:
            return refused
        card = self.cards.get(str(call.body.get("outTrackId")))
        params = (call.body.get("cardData") or {}).get("cardParamMap")
        if card is None:
            return self._refuse(call, 400, "card.instance.notExist", "卡片实例不存在")
        if not isinstance(params, dict) or any(not isinstance(v, str) for v in params.values()):
            return self._refuse(call, 400, "param.cardParamMap.invalid", "cardParamMap 的值须为字符串")
        self.apply(card, params, bool((call.body.get("cardUpdateOptions") or {}).get("updateCardDataByKey")))
        return web.json_response({"success": True, "result": True})

    # --- files ---------------------------------------------------------------------------------

    def add_file(self, file_name: str, content: bytes) -> str:
        """A file a member sends: its downloadCode."""
        code = f"dc{next(self._numbers)}"
        self._files[code] = (file_name, content)
        return code

    async def _download(self, request: web.Request) -> web.Response:
        call = await self._record(request)
        if (refused := self._unauthorized(request, call)) is not None:
            return refused
        if call.body.get("robotCode") != self.robot_code:
            return self._refuse(call, 400, "invalidParameter.robotCode.auth", "robotCode 与应用不匹配")
        code = str(call.body.get("downloadCode"))
        if code not in self._files:
            return self._refuse(call, 400, "invalidParameter.downloadCode.invalid", "downloadCode 不合法")
        return web.json_response({"downloadUrl": f"{self.base_url}/files/{code}"})

    async def _file(self, request: web.Request) -> web.Response:
        found = self._files.get(request.match_info["key"])
        if found is None:
            return web.Response(status=404)
        return web.Response(body=found[1], content_type="application/octet-stream")

    async def _upload(self, request: web.Request) -> web.Response:
        call = Call(request.method, request.path, dict(request.query), {})
        self.calls.append(call)
        if request.query.get("access_token") not in self._tokens:
            call.code = "40014"
            return web.json_response({"errcode": 40014, "errmsg": "不合法的access_token"})
        name, content = "", b""
        async for part in await request.multipart():
            if part.name == "media":
                name, content = str(part.filename), bytes(await part.read())  # type: ignore[union-attr]
        if request.query.get("type") != "file" or not content:
            call.code = "40004"
            return web.json_response({"errcode": 40004, "errmsg": "不合法的媒体文件类型"})
        media_id = f"@lAD{next(self._numbers)}"
        self.uploads[media_id] = (name, content)
        call.body = {"file_name": name, "size": len(content)}
        return web.json_response({"errcode": 0, "errmsg": "ok", "type": "file", "media_id": media_id,
                                  "created_at": int(time.time() * 1000)})

    # --- the test's side -----------------------------------------------------------------------

    def expire_tokens(self) -> None:
        self._tokens.clear()

    def sent_to(self, to: str) -> list[Sent]:
        return [s for s in self.sent if s.to == to]
