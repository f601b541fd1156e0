"""An async client for the WeCom server API (httpx): the access token, app messages, template
card updates, media upload and group robot webhooks. Errors come back as ``WeComError`` with
WeCom's errcode; ``failure`` says what the outbox should make of one."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx

from bot.runtime.delivery import PermanentFailure, TemporaryFailure

log = logging.getLogger(__name__)
JSON = dict[str, Any]

TOKEN_EXPIRED = frozenset({40014, 42001})  # invalid / expired access_token: fetch a new one
BUSY = -1  # "system busy": try again at once
RATE_LIMITED = frozenset({45009, 45033, 45047})  # frequency, concurrency, daily quota
TOKEN_MARGIN = 300.0  # seconds before expiry when a cached token is renewed


class WeComError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeCom errcode {errcode}: {errmsg}")
        self.errcode, self.errmsg = errcode, errmsg


def failure(error: WeComError | httpx.HTTPError, *, app_wide: bool = True,
            ) -> TemporaryFailure | PermanentFailure:
    """Rate limits, a busy server and the network pass; everything else (unknown user, not in
    the app's visible range, IP not trusted (60020), bad content) is final and reported.
    The app's rate limit pauses all sending for a minute; one robot's (``app_wide=False``) only
    puts that message back."""
    if isinstance(error, httpx.HTTPError):
        return TemporaryFailure(f"{type(error).__name__}: {error}")
    if error.errcode in RATE_LIMITED:
        return TemporaryFailure(str(error), retry_after=60.0 if app_wide else None)
    if error.errcode == BUSY:
        return TemporaryFailure(str(error))
    return PermanentFailure(str(error))


def _checked(response: httpx.Response) -> JSON:
    response.raise_for_status()
    return _checked_json(response.json())


def _checked_json(body: JSON) -> JSON:
    errcode = int(body.get("errcode", 0))
    if errcode != 0:
        raise WeComError(errcode, str(body.get("errmsg", "")))
    return body


def _is_error_body(content_type: str, length: str | None) -> bool:
    """media/get answers an error as a small JSON body (application/json, or text/plain)."""
    kind = content_type.split(";")[0].strip().lower()
    small = length is not None and length.isdigit() and int(length) < 4096
    return kind == "application/json" or (kind == "text/plain" and small)


def _media_error(body: bytes) -> WeComError | None:
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("errcode"), int):
        return None
    return WeComError(parsed["errcode"], str(parsed.get("errmsg", ""))) if parsed["errcode"] else None


class WeComApi:
    def __init__(self, base_url: str, corp_id: str, secret: str, agent_id: int,
                 client: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.corp_id, self.secret, self.agent_id = corp_id, secret, agent_id
        self.client = client or httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        await self.client.aclose()

    async def token(self) -> str:
        async with self._lock:
            if self._token is None or time.monotonic() >= self._expires:
                body = _checked(await self.client.get(
                    f"{self.base_url}/gettoken", params={"corpid": self.corp_id,
                                                         "corpsecret": self.secret}))
                self._token = str(body["access_token"])
                lifetime = float(body.get("expires_in", 7200))
                self._expires = time.monotonic() + max(lifetime - TOKEN_MARGIN, lifetime / 2)
            return self._token

    def _forget(self, token: str) -> None:
        if self._token == token:
            self._token = None

    async def call(self, method: str, payload: JSON | None = None, *,
                   files: dict[str, tuple[str, bytes]] | None = None,
                   params: dict[str, str] | None = None) -> JSON:
        """POST ``method`` with the access token: renewed once when WeCom says it expired, and
        tried once more when WeCom is busy."""
        for attempt in range(3):
            token = await self.token()
            try:
                return _checked(await self.client.post(
                    f"{self.base_url}/{method}", params={"access_token": token, **(params or {})},
                    json=payload, files=files))
            except WeComError as error:
                if error.errcode in TOKEN_EXPIRED and attempt < 2:
                    self._forget(token)
                    continue
                if error.errcode == BUSY and attempt < 2:
                    await asyncio.sleep(0.5)
                    continue
                raise
        raise AssertionError("unreachable")

    async def send(self, message: JSON) -> JSON:
        """message/send with our agentid; the answer holds a template card's ``response_code``."""
        return await self.call("message/send", {**message, "agentid": self.agent_id})

    async def update_card(self, userid: str, response_code: str, replace_name: str) -> None:
        """Turn the pressed card's buttons into one line saying what was chosen."""
        await self.call("message/update_template_card", {
            "userids": [userid], "agentid": self.agent_id, "response_code": response_code,
            "button": {"replace_name": replace_name}})

    async def upload(self, file_name: str, content: bytes) -> str:
        body = await self.call("media/upload", files={"media": (file_name, content)},
                               params={"type": "file"})
        return str(body["media_id"])

    async def media(self, media_id: str) -> AsyncIterator[bytes]:
        """media/get: a temporary media file's content (a photo or file a member sent; WeCom
        keeps it 3 days), in chunks as it arrives. An error comes as a JSON body instead."""
        for attempt in range(3):
            token = await self.token()
            async with self.client.stream("GET", f"{self.base_url}/media/get", params={
                    "access_token": token, "media_id": media_id}) as response:
                response.raise_for_status()
                if _is_error_body(response.headers.get("content-type", ""),
                                  response.headers.get("content-length")):
                    body = await response.aread()
                    error = _media_error(body)
                    if error is not None and error.errcode in TOKEN_EXPIRED and attempt < 2:
                        self._forget(token)
                        continue
                    if error is not None:
                        raise error
                    yield body  # a small text file after all
                    return
                async for chunk in response.aiter_bytes():
                    yield chunk
                return

    async def robot(self, webhook_url: str, message: JSON) -> None:
        """A group robot (群机器人): its webhook URL carries its own key, no access token."""
        _checked(await self.client.post(webhook_url, json=message))
