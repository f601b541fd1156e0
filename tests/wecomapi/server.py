"""A fake WeCom on loopback, for tests: the server API the bot calls (gettoken, message/send,
message/update_template_card, media/upload, media/get, group robot webhook/send), and the
user side, which POSTs encrypted callbacks to the bot the way WeCom does.

It records every call (``calls``), keeps what each user and robot was sent, hands out response
codes for interactive cards and honours each once, enforces a robot's 20 messages a minute, and
can be told to answer a method with an errcode (``fail_next``) or to expire the access token.
Simplification: a card's response code does not expire after 72 h (``expire_codes`` does that).

``host`` and ``prefix`` serve it as a private deployment does (政务微信: its own host name and
API path): a request to another Host or path is refused, so the bot must use the configured base.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from bot.adapters.wecom.crypto import MsgCrypt, signature

JSON = dict[str, Any]
TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"  # WeCom's published sample values
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
CORP_ID = "ww1436e0e65a779aee"
SECRET = "app-secret"
AGENT_ID = 1000002
OUTPUT = frozenset({"message/send", "message/update_template_card", "webhook/send"})


@dataclass
class Call:
    method: str  # the path after /cgi-bin/
    query: dict[str, str]
    body: JSON
    errcode: int = 0

    @property
    def touser(self) -> str | None:
        return self.body.get("touser")

    @property
    def text(self) -> str:
        msgtype = self.body.get("msgtype")
        if msgtype == "text":
            return str(self.body["text"]["content"])
        if msgtype == "template_card":
            card = self.body["template_card"]
            return "\n".join([card["main_title"]["title"], card.get("sub_title_text", "")]).strip()
        return ""

    def labels(self) -> list[str]:
        if self.body.get("msgtype") != "template_card":
            return []
        return [b["text"] for b in self.body["template_card"]["button_list"]]


@dataclass
class Upload:
    media_id: str
    file_name: str
    content: bytes


@dataclass
class _Card:
    userid: str
    keys: dict[str, str]  # label -> key
    task_id: str
    response_code: str
    used: bool = False


@dataclass
class FakeWeCom:
    secret: str = SECRET
    calls: list[Call] = field(default_factory=list)
    uploads: dict[str, Upload] = field(default_factory=dict)
    callback_url: str = ""  # the bot's, set by the test
    crypt: MsgCrypt = field(default_factory=lambda: MsgCrypt(TOKEN, AES_KEY, CORP_ID))
    host: str = "127.0.0.1"  # the Host it answers to (it listens on 127.0.0.1)
    prefix: str = "/cgi-bin"

    def __post_init__(self) -> None:
        self._port = 0
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self._tokens: set[str] = set()
        self._numbers = itertools.count(1)
        self._cards: dict[str, _Card] = {}  # response code -> card
        self._last_card: dict[str, _Card] = {}  # userid -> newest card
        self._failures: dict[str, deque[int]] = {}
        self._robot_sent: dict[str, deque[float]] = {}
        self.robot_limit = 20
        self.token_fetches = 0
        self.media: dict[str, tuple[str, str, bytes]] = {}  # what users sent: id -> (name, type, bytes)

    # --- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> FakeWeCom:
        app = web.Application(middlewares=[self._only_our_host])
        app.router.add_get(f"{self.prefix}/gettoken", self._gettoken)
        app.router.add_get(f"{self.prefix}/media/get", self._media_get)
        app.router.add_post(f"{self.prefix}/{{method:.+}}", self._method)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._client = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._port}{self.prefix}"

    @web.middleware
    async def _only_our_host(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.host != f"{self.host}:{self._port}":
            return web.Response(status=421, text="misdirected request")
        return await handler(request)

    def robot_url(self, key: str) -> str:
        return f"{self.base_url}/webhook/send?key={key}"

    # --- the API ---------------------------------------------------------------------------

    async def _gettoken(self, request: web.Request) -> web.Response:
        self.token_fetches += 1
        if request.query.get("corpid") != CORP_ID or request.query.get("corpsecret") != self.secret:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        token = f"token-{next(self._numbers)}"
        self._tokens.add(token)
        return web.json_response({"errcode": 0, "errmsg": "ok", "access_token": token,
                                  "expires_in": 7200})

    async def _media_get(self, request: web.Request) -> web.StreamResponse:
        """A temporary media file (what a user sent, or one uploaded): its bytes with its type,
        as WeCom answers; an errcode in JSON for an unknown or expired media_id."""
        query = dict(request.query)
        call = Call("media/get", query, {})
        self.calls.append(call)
        if query.get("access_token") not in self._tokens:
            call.errcode = 42001 if query.get("access_token", "").startswith("token-") else 40014
            return web.json_response({"errcode": call.errcode, "errmsg": "access_token expired"})
        injected = self._failures.get("media/get")
        if injected:
            call.errcode = injected.popleft()
            if 500 <= call.errcode < 600:  # an HTTP failure, not a WeCom errcode
                return web.Response(status=call.errcode, text="bad gateway")
            return web.json_response({"errcode": call.errcode, "errmsg": "injected"})
        media_id = query.get("media_id", "")
        if media_id in self.uploads:
            upload = self.uploads[media_id]
            name, mime, content = upload.file_name, "application/octet-stream", upload.content
        elif media_id in self.media:
            name, mime, content = self.media[media_id]
        else:
            call.errcode = 40007
            return web.json_response({"errcode": 40007, "errmsg": "invalid media_id"})
        return web.Response(body=content, content_type=mime, headers={
            "Content-disposition": f'attachment; filename="{media_id}"'})

    def add_media(self, name: str, mime: str, content: bytes) -> str:
        """A file a user is about to send: its (temporary) media_id."""
        media_id = f"user-media{next(self._numbers)}"
        self.media[media_id] = (name, mime, content)
        return media_id

    def expire_media(self, media_id: str) -> None:
        """Three days have passed: the media_id is gone (40007)."""
        self.media.pop(media_id, None)

    async def send_file(self, userid: str, name: str, content: bytes, *, kind: str = "file",
                        mime: str = "application/octet-stream") -> list[Call]:
        """As ``userid``, send a photo (``kind="image"``) or a file; the bot's answer."""
        media_id = self.add_media(name, mime, content)
        since = len(self.calls)
        assert await self.deliver(self.media_xml(userid, kind, media_id, name,
                                                 next(self._numbers) + 10**9)) == 200
        return await self.settle(since)

    @staticmethod
    def media_xml(userid: str, kind: str, media_id: str, name: str, msg_id: int) -> str:
        extra = (f"<PicUrl><![CDATA[http://example.invalid/{media_id}]]></PicUrl>"
                 if kind == "image" else f"<FileName><![CDATA[{name}]]></FileName>")
        return (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA["
                f"{userid}]]></FromUserName><CreateTime>{int(time.time())}</CreateTime>"
                f"<MsgType><![CDATA[{kind}]]></MsgType>{extra}<MediaId><![CDATA[{media_id}]]>"
                f"</MediaId><MsgId>{msg_id}</MsgId><AgentID>{AGENT_ID}</AgentID></xml>")

    async def _method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        query = dict(request.query)
        if request.content_type.startswith("multipart/"):
            body: JSON = {}
            async for part in await request.multipart():
                if part.name == "media":
                    body = {"file_name": part.filename,
                            "content": bytes(await part.read())}  # type: ignore[union-attr]
        else:
            body = json.loads(await request.read() or b"{}")
        call = Call(method, query, body)
        self.calls.append(call)
        if method != "webhook/send" and query.get("access_token") not in self._tokens:
            call.errcode = 42001 if query.get("access_token", "").startswith("token-") else 40014
            return web.json_response({"errcode": call.errcode, "errmsg": "access_token expired"})
        injected = self._failures.get(method)
        if injected:
            call.errcode = injected.popleft()
            return web.json_response({"errcode": call.errcode, "errmsg": "injected"})
        handler = {"message/send": self._send, "message/update_template_card": self._update,
                   "media/upload": self._upload, "webhook/send": self._robot}.get(method)
        if handler is None:
            call.errcode = 404
            return web.json_response({"errcode": 404, "errmsg": "no such method"})
        result = handler(call)
        call.errcode = int(result.get("errcode", 0))
        return web.json_response(result)

    def _send(self, call: Call) -> JSON:
        body = call.body
        if body.get("agentid") != AGENT_ID or not body.get("touser"):
            return {"errcode": 40056, "errmsg": "invalid agentid"}
        if body.get("touser", "").startswith("gone"):
            return {"errcode": 81013, "errmsg": "user & party & tag all invalid"}
        if body.get("msgtype") == "file" and body["file"]["media_id"] not in self.uploads:
            return {"errcode": 40007, "errmsg": "invalid media_id"}
        result: JSON = {"errcode": 0, "errmsg": "ok", "msgid": f"msg{next(self._numbers)}"}
        if body.get("msgtype") == "template_card":
            template = body["template_card"]
            keys = [b["key"] for b in template["button_list"]]
            if len(keys) > 6 or any(len(k.encode()) > 1024 for k in keys):
                return {"errcode": 40058, "errmsg": "invalid template_card"}
            code = f"code{next(self._numbers)}"
            card = _Card(body["touser"], {b["text"]: b["key"] for b in template["button_list"]},
                         template["task_id"], code)
            self._cards[code] = card
            self._last_card[body["touser"]] = card
            result["response_code"] = code
        return result

    def _update(self, call: Call) -> JSON:
        card = self._cards.get(call.body.get("response_code", ""))
        if card is None or card.used:
            return {"errcode": 40139, "errmsg": "invalid response_code"}
        card.used = True
        return {"errcode": 0, "errmsg": "ok"}

    def _upload(self, call: Call) -> JSON:
        if call.query.get("type") != "file" or "content" not in call.body:
            return {"errcode": 40004, "errmsg": "invalid media type"}
        media_id = f"media{next(self._numbers)}"
        self.uploads[media_id] = Upload(media_id, call.body["file_name"], call.body["content"])
        call.body = {"file_name": call.body["file_name"], "size": len(call.body["content"])}
        return {"errcode": 0, "errmsg": "ok", "type": "file", "media_id": media_id}

    def _robot(self, call: Call) -> JSON:
        sent = self._robot_sent.setdefault(call.query.get("key", ""), deque())
        now = time.monotonic()
        while sent and sent[0] <= now - 60:
            sent.popleft()
        if len(sent) >= self.robot_limit:
            return {"errcode": 45009, "errmsg": "api freq out of limit"}
        sent.append(now)
        return {"errcode": 0, "errmsg": "ok"}

    # --- control ---------------------------------------------------------------------------

    def fail_next(self, method: str, errcode: int, times: int = 1) -> None:
        self._failures.setdefault(method, deque()).extend([errcode] * times)

    def expire_tokens(self) -> None:
        self._tokens.clear()

    def expire_codes(self) -> None:
        for card in self._cards.values():
            card.used = True

    def sent_to(self, userid: str) -> list[Call]:
        return [c for c in self.calls if c.method == "message/send" and c.errcode == 0
                and c.touser == userid]

    def robot_messages(self, key: str) -> list[str]:
        return [c.body["text"]["content"] for c in self.calls
                if c.method == "webhook/send" and c.errcode == 0 and c.query.get("key") == key]

    # --- the user side: encrypted callbacks --------------------------------------------------

    def envelope(self, plain: str, timestamp: int | None = None, nonce: str = "1597212914",
                 ) -> tuple[dict[str, str], bytes]:
        """Query and body of a POST as WeCom would send ``plain``."""
        ts = str(timestamp if timestamp is not None else int(time.time()))
        encrypted = self.crypt.encrypt(plain)
        query = {"msg_signature": signature(TOKEN, ts, nonce, encrypted), "timestamp": ts,
                 "nonce": nonce}
        body = (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA["
                f"{encrypted}]]></Encrypt><AgentID><![CDATA[{AGENT_ID}]]></AgentID></xml>")
        return query, body.encode()

    async def post(self, query: dict[str, str], body: bytes) -> int:
        assert self._client is not None
        async with self._client.post(self.callback_url, params=query, data=body) as response:
            await response.read()
            return response.status

    async def deliver(self, plain: str) -> int:
        return await self.post(*self.envelope(plain))

    @staticmethod
    def text_xml(userid: str, text: str, msg_id: int) -> str:
        return (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA["
                f"{userid}]]></FromUserName><CreateTime>{int(time.time())}</CreateTime>"
                f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>"
                f"<MsgId>{msg_id}</MsgId><AgentID>{AGENT_ID}</AgentID></xml>")

    @staticmethod
    def card_event_xml(userid: str, card: _Card, key: str, created: int) -> str:
        return (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA["
                f"{userid}]]></FromUserName><CreateTime>{created}</CreateTime>"
                f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event>"
                f"<EventKey><![CDATA[{key}]]></EventKey><TaskId><![CDATA[{card.task_id}]]></TaskId>"
                f"<CardType><![CDATA[button_interaction]]></CardType><ResponseCode><![CDATA["
                f"{card.response_code}]]></ResponseCode><AgentID>{AGENT_ID}</AgentID></xml>")

    async def say(self, userid: str, text: str) -> list[Call]:
        """Send ``text`` as ``userid``; the bot's answer (its API calls, once they settle)."""
        since = len(self.calls)
        assert await self.deliver(self.text_xml(userid, text, next(self._numbers) + 10**9)) == 200
        return await self.settle(since)

    async def press(self, userid: str, label: str) -> list[Call]:
        """Press a button of the newest card sent to ``userid``."""
        card = self._last_card[userid]
        assert label in card.keys, f"no button {label!r}; have {list(card.keys)}"
        since = len(self.calls)
        plain = self.card_event_xml(userid, card, card.keys[label], int(time.time()))
        assert await self.deliver(plain) == 200
        return await self.settle(since)

    def last_card(self, userid: str) -> _Card:
        return self._last_card[userid]

    async def settle(self, since: int, quiet: float = 0.15, timeout: float = 10.0) -> list[Call]:
        """Wait for the bot's output after ``since``, until it has been quiet for ``quiet``."""
        loop = asyncio.get_running_loop()
        deadline, seen, last_change = loop.time() + timeout, since, loop.time()
        while loop.time() < deadline:
            await asyncio.sleep(0.02)
            if len(self.calls) != seen:
                seen, last_change = len(self.calls), loop.time()
            elif seen > since and loop.time() - last_change >= quiet:
                break
        return [c for c in self.calls[since:] if c.method in OUTPUT and c.errcode == 0]
