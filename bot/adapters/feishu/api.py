"""An async client for Feishu's OpenAPI (httpx): the tenant_access_token, sending, replying,
updating a card, downloading a message's image or file. Every message request first waits for
room in the ``FeishuLimiter``. Errors come back as ``FeishuError`` with Feishu's code; the JSON
``code`` is read whatever the HTTP status, since Feishu answers errors with 400, 401 or 429."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import Message
from pathlib import PurePath
from typing import Any, Literal, TypeVar

import httpx

from bot.adapters.feishu.messages import Card, Outgoing, message_body, patch_body
from bot.adapters.feishu.rate_limit import FeishuLimiter

JSON = dict[str, Any]
T = TypeVar("T")
ReceiveIdType = Literal["open_id", "user_id", "union_id", "chat_id", "email"]

TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"
MESSAGES_PATH = "/open-apis/im/v1/messages"
FILES_PATH = "/open-apis/im/v1/files"
TOKEN_INVALID = frozenset({99991663, 99991664})  # tenant_access_token invalid or expired
RATE_LIMITED = frozenset({99991400, 230020})  # the gateway's limit; im's "frequency limit"
SERVER_BUSY = frozenset({-1, 1, 99991401})
TOKEN_MARGIN = 600.0  # seconds before expiry when a cached token is renewed
DEFAULT_RETRY_AFTER = 1.0
MAX_DOWNLOAD = 30 * 1024 * 1024
MAX_UPLOAD = 30 * 1024 * 1024  # im/v1/files: at most 30 MB, never empty
FILE_TYPES = {".pdf": "pdf", ".doc": "doc", ".docx": "doc", ".xls": "xls", ".xlsx": "xls",
              ".ppt": "ppt", ".pptx": "ppt", ".mp4": "mp4", ".opus": "opus"}


class FeishuError(Exception):
    def __init__(self, code: int, msg: str, *, status: int = 200,
                 retry_after: float | None = None) -> None:
        super().__init__(f"Feishu code {code}: {msg}")
        self.code, self.msg, self.status, self.retry_after = code, msg, status, retry_after

    @property
    def rate_limited(self) -> bool:
        return self.code in RATE_LIMITED or self.status == 429

    @property
    def temporary(self) -> bool:
        """Worth trying again later: a limit, a busy or failing server. Anything else (no such
        user, the bot not in the group, bad content) is final."""
        return self.rate_limited or self.code in SERVER_BUSY or self.status >= 500


@dataclass(frozen=True)
class SentMessage:
    message_id: str
    chat_id: str | None


@dataclass(frozen=True)
class Download:
    content: bytes
    file_name: str | None
    content_type: str | None


def _retry_after(response: httpx.Response) -> float | None:
    reset = response.headers.get("x-ogw-ratelimit-reset", "")
    return float(reset) if reset.isascii() and reset.isdigit() else None


def _error(response: httpx.Response) -> FeishuError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("code"), int):
        code, msg = int(body["code"]), str(body.get("msg", ""))
    else:
        code, msg = -response.status_code, response.reason_phrase
    error = FeishuError(code, msg, status=response.status_code,
                        retry_after=_retry_after(response))
    if error.rate_limited and error.retry_after is None:
        error.retry_after = DEFAULT_RETRY_AFTER
    return error


def _checked(response: httpx.Response) -> JSON:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict) or body.get("code") != 0:
        raise _error(response)
    return body


def _file_name(disposition: str | None) -> str | None:
    if not disposition:
        return None
    header = Message()
    header["content-disposition"] = disposition
    return header.get_filename()


class FeishuApi:
    def __init__(self, base_url: str, app_id: str, app_secret: str, *,
                 client: httpx.AsyncClient | None = None,
                 limiter: FeishuLimiter | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.app_id, self.app_secret = app_id, app_secret
        self.client = client or httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))
        self.limiter = limiter or FeishuLimiter()
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        await self.client.aclose()

    async def token(self) -> str:
        async with self._lock:
            if self._token is None or time.monotonic() >= self._expires:
                body = _checked(await self.client.post(
                    self.base_url + TOKEN_PATH,
                    json={"app_id": self.app_id, "app_secret": self.app_secret}))
                self._token = str(body["tenant_access_token"])
                lifetime = float(body.get("expire", 7200))
                self._expires = time.monotonic() + max(lifetime - TOKEN_MARGIN, lifetime / 2)
            return self._token

    def _forget(self, token: str) -> None:
        if self._token == token:
            self._token = None

    async def _with_token(self, call: Callable[[str], Awaitable[T]]) -> T:
        """``call`` with the tenant token, once more with a new token if Feishu says it expired;
        a rate limit pauses every request until Feishu's reset time."""
        for attempt in range(2):
            token = await self.token()
            try:
                return await call(token)
            except FeishuError as error:
                if error.code in TOKEN_INVALID and attempt == 0:
                    self._forget(token)
                    continue
                if error.rate_limited:
                    self.limiter.pause(error.retry_after or DEFAULT_RETRY_AFTER)
                raise
        raise AssertionError("unreachable")

    async def _json_call(self, method: str, path: str, body: JSON,
                         params: dict[str, str] | None = None) -> JSON:
        async def call(token: str) -> JSON:
            return _checked(await self.client.request(
                method, self.base_url + path, json=body, params=params,
                headers={"Authorization": f"Bearer {token}"}))
        return await self._with_token(call)

    async def _message_call(self, method: str, path: str, body: JSON, *,
                            params: dict[str, str] | None = None, chat: str | None = None,
                            updated_message: str | None = None) -> JSON:
        await self.limiter.acquire(chat=chat, updated_message=updated_message)
        return await self._json_call(method, path, body, params)

    async def send(self, receive_id_type: ReceiveIdType, receive_id: str, message: Outgoing,
                   *, uuid: str | None = None) -> SentMessage:
        """Send to a user (open_id …) or a chat (chat_id). ``uuid`` makes a retry of the same
        send within an hour deliver once."""
        body = message_body(message, receive_id=receive_id, **({"uuid": uuid} if uuid else {}))
        data = (await self._message_call("POST", MESSAGES_PATH, body,
                                         params={"receive_id_type": receive_id_type},
                                         chat=f"{receive_id_type}:{receive_id}"))["data"]
        return SentMessage(str(data["message_id"]), data.get("chat_id"))

    async def reply(self, message_id: str, message: Outgoing, *, chat_id: str,
                    uuid: str | None = None) -> SentMessage:
        """Reply to ``message_id``, which is in ``chat_id`` (counted against that chat's limit)."""
        body = message_body(message, **({"uuid": uuid} if uuid else {}))
        data = (await self._message_call("POST", f"{MESSAGES_PATH}/{message_id}/reply", body,
                                         chat=f"chat_id:{chat_id}"))["data"]
        return SentMessage(str(data["message_id"]), data.get("chat_id"))

    async def patch_card(self, message_id: str, card: Card) -> None:
        """Replace a card the bot sent (within 14 days), for everyone who sees it."""
        await self._message_call("PATCH", f"{MESSAGES_PATH}/{message_id}", patch_body(card),
                                 updated_message=message_id)

    async def upload_file(self, file_name: str, content: bytes) -> str:
        """Upload a file (a ledger, a summary) for a ``File`` message; its ``file_key``."""
        if not 0 < len(content) <= MAX_UPLOAD:
            raise FeishuError(-413, f"a file must have 1 to {MAX_UPLOAD} bytes", status=413)
        file_type = FILE_TYPES.get(PurePath(file_name).suffix.lower(), "stream")

        async def call(token: str) -> str:
            body = _checked(await self.client.post(
                self.base_url + FILES_PATH,
                data={"file_type": file_type, "file_name": file_name},
                files={"file": (file_name, content)},
                headers={"Authorization": f"Bearer {token}"}))
            return str(body["data"]["file_key"])
        return await self._with_token(call)

    async def download(self, message_id: str, file_key: str, kind: Literal["image", "file"],
                       *, max_bytes: int = MAX_DOWNLOAD) -> Download:
        """An image or file of a message someone sent; one over ``max_bytes`` is refused."""
        url = f"{self.base_url}{MESSAGES_PATH}/{message_id}/resources/{file_key}"

        async def call(token: str) -> Download:
            async with self.client.stream("GET", url, params={"type": kind},
                                          headers={"Authorization": f"Bearer {token}"}) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise _error(response)
                content = bytearray()
                async for chunk in response.aiter_bytes():
                    content += chunk
                    if len(content) > max_bytes:
                        raise FeishuError(-413, f"file over {max_bytes} bytes", status=413)
                return Download(bytes(content),
                                _file_name(response.headers.get("content-disposition")),
                                response.headers.get("content-type"))
        return await self._with_token(call)
