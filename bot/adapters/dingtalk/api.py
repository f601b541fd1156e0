"""An async client for the DingTalk robot OpenAPI (httpx): the app access token, sends to a
member or a group (by the message's session webhook while it is valid, else the OpenAPI),
interactive cards, and files both ways. Every send waits for its place in the ``SendLimiter``.

Errors: the new API (api.dingtalk.com) answers 4xx/5xx with ``{"code", "message", "requestid"}``;
the old one (oapi.dingtalk.com) and session webhooks answer 200 with ``{"errcode", "errmsg"}``.
Both become ``DingTalkError`` with ``temporary`` telling whether trying later can help.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from bot.adapters.dingtalk.config import DingTalkConfig
from bot.runtime import platforms
from bot.adapters.dingtalk.events import SessionWebhook
from bot.adapters.dingtalk.limits import SendLimiter
from bot.adapters.dingtalk.messages import Card, Message, Target, ToGroup, ToUser

log = logging.getLogger(__name__)
JSON = dict[str, Any]

TOKEN_MARGIN = 300.0  # seconds before expiry when a cached token is renewed
TOKEN_INVALID = frozenset({"InvalidAuthentication", "40014", "42001"})
WEBHOOK_TOO_FAST = frozenset({130101, 660026})  # "send too fast, exceed 20 times per minute"
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


class DingTalkError(Exception):
    def __init__(self, status: int, code: str, message: str, *, temporary: bool = False) -> None:
        super().__init__(f"DingTalk {status} {code}: {message}")
        self.status, self.code, self.message, self.temporary = status, code, message, temporary


class CredentialsRefused(DingTalkError, platforms.CredentialsRefused):
    """The client id or secret is wrong: nothing will work until the configuration is fixed."""


class RateLimited(DingTalkError):
    def __init__(self, status: int, code: str, message: str, retry_after: float) -> None:
        super().__init__(status, code, message, temporary=True)
        self.retry_after = retry_after


@dataclass(frozen=True)
class SendReceipt:
    via: Literal["webhook", "openapi"]
    process_query_key: str | None = None  # the OpenAPI's handle for recall and read status


def api_error(response: httpx.Response) -> DingTalkError:
    """A new-API refusal: ``{"code", "message", "requestid"}`` with a 4xx or 5xx status."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    code, message = str(body.get("code", response.status_code)), str(body.get("message", response.text[:200]))
    if response.status_code == 429 or code.startswith("Forbidden.AccessDenied.Qps"):
        return RateLimited(response.status_code, code, message, retry_after=1.0)
    return DingTalkError(response.status_code, code, message, temporary=response.status_code >= 500)


def _old_api_body(response: httpx.Response) -> JSON:
    """An old-style answer (oapi, session webhook): errcode 0, or a DingTalkError."""
    if response.status_code >= 400:
        raise DingTalkError(response.status_code, str(response.status_code), response.text[:200],
                            temporary=response.status_code >= 500)
    body: JSON = response.json()
    errcode = int(body.get("errcode", 0))
    if errcode == 0:
        return body
    sub_code = str(body.get("sub_code", ""))
    if errcode in WEBHOOK_TOO_FAST:
        raise RateLimited(response.status_code, str(errcode), str(body.get("errmsg", "")), retry_after=60.0)
    raise DingTalkError(response.status_code, sub_code or str(errcode), str(body.get("errmsg", "")))


class DingTalkApi:
    def __init__(self, config: DingTalkConfig, client: httpx.AsyncClient | None = None,
                 limiter: SendLimiter | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.config, self.now = config, now
        self.client = client or httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))
        self.limiter = limiter or SendLimiter()
        self._token: str | None = None
        self._expires = 0.0
        self._token_lock = asyncio.Lock()

    async def close(self) -> None:
        await self.client.aclose()

    # --- the access token ----------------------------------------------------------------------

    async def token(self) -> str:
        async with self._token_lock:
            if self._token is None or time.monotonic() >= self._expires:
                response = await self.client.post(
                    f"{self.config.api}/v1.0/oauth2/accessToken",
                    json={"appKey": self.config.client_id, "appSecret": self.config.client_secret})
                if response.status_code >= 400:
                    error = api_error(response)
                    if response.status_code < 500 and not isinstance(error, RateLimited):
                        raise CredentialsRefused(error.status, error.code, error.message)
                    raise error
                body = response.json()
                lifetime = float(body.get("expireIn", 7200))
                self._token = str(body["accessToken"])
                self._expires = time.monotonic() + max(lifetime - TOKEN_MARGIN, lifetime / 2)
            return self._token

    def _forget(self, token: str) -> None:
        if self._token == token:
            self._token = None

    async def _call(self, method: str, path: str, body: JSON) -> JSON:
        """A new-API call with the token in its header; renewed once if DingTalk refuses it."""
        for attempt in (1, 2):
            token = await self.token()
            response = await self.client.request(
                method, f"{self.config.api}{path}", json=body,
                headers={"x-acs-dingtalk-access-token": token})
            if response.status_code < 400:
                return response.json() if response.content else {}
            error = api_error(response)
            if error.code in TOKEN_INVALID and attempt == 1:
                self._forget(token)
                continue
            raise error
        raise AssertionError("unreachable")

    # --- sending -------------------------------------------------------------------------------

    async def send(self, target: Target, message: Message) -> SendReceipt:
        """By the OpenAPI: oToMessages/batchSend to a member, groupMessages/send to a group."""
        common = {"robotCode": self.config.robot_code, "msgKey": message.msg_key,
                  "msgParam": message.msg_param()}
        stamps = await self.limiter.acquire(target)
        try:
            if isinstance(target, ToUser):
                body = await self._call("POST", "/v1.0/robot/oToMessages/batchSend",
                                        {**common, "userIds": [target.staff_id]})
                if target.staff_id in (body.get("flowControlledStaffIdList") or ()):
                    raise RateLimited(200, "flowControlled", f"{target.staff_id} is flow controlled",
                                      retry_after=self.limiter.limits.minute)
                if target.staff_id in (body.get("invalidStaffIdList") or ()):
                    raise DingTalkError(200, "invalidStaffId", f"{target.staff_id} cannot be reached")
            else:
                body = await self._call("POST", "/v1.0/robot/groupMessages/send",
                                        {**common, "openConversationId": target.open_conversation_id})
        except RateLimited as error:
            self.limiter.pause(target, error.retry_after)
            raise
        finally:
            await self.limiter.release(stamps)
        return SendReceipt("openapi", body.get("processQueryKey"))

    async def reply(self, target: Target, message: Message,
                    webhook: SessionWebhook | None) -> SendReceipt:
        """By the session webhook while it is valid and can carry the message, else the OpenAPI.
        A webhook that refuses (expired, closed) falls back; a timeout does not, since the message
        may have arrived."""
        body = message.webhook_body()
        if webhook is None or body is None or not webhook.valid_at(self.now()):
            return await self.send(target, message)
        stamps = await self.limiter.acquire(target)
        try:
            _old_api_body(await self.client.post(webhook.url, json=body))
            return SendReceipt("webhook")
        except RateLimited as error:
            self.limiter.pause(target, error.retry_after)
            raise
        except DingTalkError as error:
            if error.temporary:
                raise
            log.info("session webhook refused (%s), sending by the OpenAPI", error)
        finally:
            await self.limiter.release(stamps)
        return await self.send(target, message)

    # --- interactive cards (高级版, presses on the stream) --------------------------------------

    async def send_card(self, target: Target, card: Card) -> None:
        if isinstance(target, ToGroup):
            space: JSON = {"openSpaceId": f"dtv1.card//IM_GROUP.{target.open_conversation_id}",
                           "imGroupOpenSpaceModel": {"supportForward": False},
                           "imGroupOpenDeliverModel": {"robotCode": self.config.robot_code}}
        else:
            space = {"openSpaceId": f"dtv1.card//IM_ROBOT.{target.staff_id}",
                     "imRobotOpenSpaceModel": {"supportForward": False},
                     "imRobotOpenDeliverModel": {"spaceType": "IM_ROBOT", "robotCode": self.config.robot_code}}
        stamps = await self.limiter.acquire(target)
        try:
            body = await self._call("POST", "/v1.0/card/instances/createAndDeliver", {
                "cardTemplateId": card.template_id, "outTrackId": card.out_track_id,
                "callbackType": "STREAM", "userIdType": 1,
                "cardData": {"cardParamMap": dict(card.params)}, **space})
        finally:
            await self.limiter.release(stamps)
        failed = [r for r in (body.get("result") or {}).get("deliverResults") or () if not r.get("success")]
        if failed:
            raise DingTalkError(200, "deliverFailed", str(failed[0].get("errorMsg", "")))

    async def update_card(self, out_track_id: str, params: Mapping[str, str]) -> None:
        """Changes only the variables given (``updateCardDataByKey``)."""
        await self._call("PUT", "/v1.0/card/instances", {
            "outTrackId": out_track_id, "cardData": {"cardParamMap": dict(params)},
            "cardUpdateOptions": {"updateCardDataByKey": True}})

    # --- files ---------------------------------------------------------------------------------

    async def download(self, download_code: str, max_bytes: int = MAX_DOWNLOAD_BYTES) -> bytes:
        """A file the member sent: messageFiles/download gives a short-lived URL, then the bytes."""
        body = await self._call("POST", "/v1.0/robot/messageFiles/download",
                                {"downloadCode": download_code, "robotCode": self.config.robot_code})
        content = bytearray()
        async with self.client.stream("GET", str(body["downloadUrl"])) as response:
            if response.status_code >= 400:
                raise DingTalkError(response.status_code, "download", "file URL refused",
                                    temporary=response.status_code >= 500)
            async for chunk in response.aiter_bytes():
                content += chunk
                if len(content) > max_bytes:
                    raise DingTalkError(200, "tooLarge", f"file over {max_bytes} bytes")
        return bytes(content)

    async def upload(self, file_name: str, content: bytes) -> str:
        """The old API's media/upload (the new token works there too); its media_id for File."""
        for attempt in (1, 2):
            token = await self.token()
            try:
                body = _old_api_body(await self.client.post(
                    f"{self.config.oapi}/media/upload", params={"access_token": token, "type": "file"},
                    files={"media": (file_name, content)}))
                return str(body["media_id"])
            except DingTalkError as error:
                if error.code in TOKEN_INVALID and attempt == 1:
                    self._forget(token)
                    continue
                raise
        raise AssertionError("unreachable")
