"""The WeCom adapter (企业微信自建应用): callbacks in, neutral events to the core, replies out
through the app message API; pushes to members by the app, to branch groups by their robot.

Members talk to the app in a 1:1 chat (an app receives nothing from group chats). A branch group
is a ``GroupChat`` with chat id ``robot:<branch id>`` and the robot's ``webhook_url``, set with
``branchbot group set-webhook``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx

from bot.adapters import replies
from bot.adapters.wecom import PLATFORM, render
from bot.adapters.wecom.api import WeComApi, WeComError
from bot.adapters.wecom.callback import Callback
from bot.runtime.delivery import PermanentFailure
from bot.runtime.in_order import Background
from handlers.core.events import Incoming, Reply
from handlers.core.i18n import Translator
from handlers.core.router import Core

log = logging.getLogger(__name__)
ROBOT_PREFIX = "robot:"


def robot_chat_id(org_id: int) -> str:
    return f"{ROBOT_PREFIX}{org_id}"


class WeComBot:
    """Handles callbacks (each user's in order, off the request) and sends through the app."""

    def __init__(self, core: Core, api: WeComApi) -> None:
        self.core, self.api = core, api
        self._work = Background()

    @property
    def t(self) -> Translator:
        """What the adapter writes itself, in the core's language."""
        return self.core.config.texts

    async def accept(self, callback: Callback) -> None:
        """Queue a callback; the HTTP answer does not wait for it."""
        self._work.start(callback.event.user_id, lambda: self._logged(callback))

    async def drain(self) -> None:
        """Wait for the callbacks being handled (at shutdown, and in tests)."""
        await self._work.drain()

    async def _logged(self, callback: Callback) -> None:
        try:
            await self.handle(callback)
        except (WeComError, httpx.HTTPError) as error:
            log.warning("WeCom API error answering %s: %s", callback.event.user_id, error)
        except Exception:
            log.exception("failed to answer %s", callback.event)

    async def handle(self, callback: Callback) -> None:
        event = callback.event
        if event.callback_data is not None and event.callback_data.startswith("/"):
            event = render.from_key(event, event.callback_data, None)
        outcome = await self.core.handle(event)
        code = callback.response_code
        if outcome.notice:
            await self.send_private(event.user_id, Reply(outcome.notice))
        for reply in outcome.replies:
            code = await self.render(event, reply, code)
        if code is not None and event.callback_data is not None and outcome.replies:
            await self._settle_card(event.user_id, code, None)
        if outcome.followup is not None:
            await self.follow(event, outcome.followup)

    async def render(self, event: Incoming, reply: Reply, code: str | None) -> str | None:
        """Send one reply; returns the pressed card's response code if it is still unused."""
        target = reply.chat_id or event.chat_id
        if target != event.chat_id:  # someone else told (a secretary, say): not this user's loss
            try:
                await self.send(target, reply)
            except (WeComError, httpx.HTTPError, PermanentFailure) as error:
                log.warning("could not tell %s: %s", target, error)
            return code
        answer = reply.answered.answer if reply.answered is not None else None
        if code is not None and (answer is not None or reply.edit):
            await self._settle_card(event.user_id, code, answer)
            code = None
        rest = render.following(reply)
        if rest is not None:
            await self.send_private(event.user_id, rest)
        return code

    async def _settle_card(self, userid: str, code: str, answer: str | None) -> None:
        """Show the choice on the pressed card; a used or expired code (once, 72 h) is no loss:
        what follows comes as a new message anyway."""
        try:
            await self.api.update_card(userid, code, (answer or self.t("wecom.card_done"))[:40])
        except (WeComError, httpx.HTTPError) as error:
            log.info("could not update the pressed card of %s: %s", userid, error)

    async def follow(self, event: Incoming, followup: AsyncIterator[Reply]) -> None:
        """A long job (a report): a WeCom text message cannot be edited."""
        await replies.follow(followup, lambda reply: self.send_private(event.user_id, reply))

    async def send_private(self, userid: str, reply: Reply) -> None:
        if reply.document is not None:
            if reply.text:
                await self._texts(userid, reply.text)
            media_id = await self.api.upload(reply.document.file_name, reply.document.content)
            await self.api.send({"touser": userid, "msgtype": "file", "file": {"media_id": media_id}})
            if not reply.buttons:
                return
            reply = Reply(self.t("wecom.choose"), buttons=reply.buttons)
        if not reply.buttons:
            await self._texts(userid, reply.text)
        elif render.fits_card(reply):
            await self.api.send(render.card(userid, reply))
        else:
            await self._texts(userid, render.numbered(self.t, reply))

    async def _texts(self, userid: str, content: str) -> None:
        for message in render.texts(userid, content):
            await self.api.send(message)

    async def send(self, chat_id: str, reply: Reply) -> None:
        """To a member by the app, or to a branch group by its robot."""
        if not chat_id.startswith(ROBOT_PREFIX):
            await self.send_private(chat_id, reply)
            return
        webhook_url = await self.core.group_webhook(PLATFORM, chat_id)
        if webhook_url is None:
            raise PermanentFailure(f"no robot webhook for {chat_id}")
        for message in render.robot_texts(self.t, reply):
            await self.api.robot(webhook_url, message)


def is_webhook_url(url: str) -> bool:
    parts = urlsplit(url)
    return (parts.scheme in ("https", "http") and bool(parts.netloc) and len(url) <= 300
            and "key=" in parts.query)


