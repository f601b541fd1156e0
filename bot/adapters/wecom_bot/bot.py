"""Answering the AI bot's callbacks through the core.

A message is answered on its own ``req_id`` (several replies may quote it); a card press only
allows updating the pressed card, so what follows goes out as active sends (``aibot_send_msg``)
to the same chat. A reply that cannot use its ``req_id`` (stale after a reconnect: 846605, or
the connection down for a moment) falls back to an active send once the connection is back.

In a group the bot hears only messages that @ it. A button that opens a dialog (``/start …``)
pressed in the group hands the member over to the 1:1 chat: the dialog starts there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import replace

from bot.adapters.wecom import render as app_render
from bot.adapters.wecom_bot import PLATFORM, render
from bot.adapters.wecom_bot.connection import AiBotConnection, AiBotError, ConnectionLost, NotLive
from bot.adapters.wecom_bot.events import (
    AiBotEvent,
    Callback,
    CardEvent,
    ChatType,
    EnterChat,
    OtherMessage,
    TextMessage,
)
from bot.adapters.wecom_bot.outgoing import (
    Outgoing,
    ReplyCard,
    ReplyMarkdown,
    SendCard,
    SendMarkdown,
    UpdateCard,
    Welcome,
)
from bot.adapters.wecom_bot.render import Part
from bot.runtime.in_order import Background
from handlers.core.events import Account, Incoming, Reply
from handlers.core.i18n import Translator
from handlers.core.router import Core

log = logging.getLogger(__name__)
Unsent = (AiBotError, NotLive, ConnectionLost, TimeoutError)  # what a send may fail with


def to_incoming(event: TextMessage | CardEvent) -> Incoming:
    """The core's event; a press of a button that opens a dialog, in a group, is the member's
    own private ``/start …`` (the hand-off)."""
    private = event.chat_type is ChatType.SINGLE
    incoming = Incoming(platform=PLATFORM, user_id=event.user_id, user_name=event.user_id,
                        chat_id=event.conversation_id, is_private=private,
                        event_id=event.msgid, accounts=(Account("wecom", event.user_id),))
    if isinstance(event, TextMessage):  # in a group, only a message that @s the bot comes
        return replace(incoming, text=event.text, addressed=not private)
    pressed = app_render.from_key(incoming, event.key, event.task_id)
    if pressed.text is not None and not private:
        return replace(pressed, chat_id=event.user_id, is_private=True)
    return pressed


class WeComAiBot:
    def __init__(self, core: Core, connection: AiBotConnection, *,
                 live_wait: float = 30.0) -> None:
        self.core, self.connection, self.live_wait = core, connection, live_wait
        self.work = Background()

    @property
    def t(self) -> Translator:
        return self.core.config.texts

    def accept(self, event: AiBotEvent) -> None:
        """Handle ``event`` in the background, each user's events in order."""
        self.work.start(event.user_id if isinstance(event, Callback) else "",
                        lambda: self._logged(event))

    async def _logged(self, event: AiBotEvent) -> None:
        user = event.user_id if isinstance(event, Callback) else ""
        try:
            await self.handle(event)
        except Unsent as error:
            log.warning("could not answer %s on the AI bot: %s", user, error)
        except Exception:
            log.exception("failed to answer %s", event)

    async def handle(self, event: AiBotEvent) -> None:
        if isinstance(event, EnterChat):
            await self.connection.deliver(Welcome(event.req_id, self.t("wecom_bot.welcome")))
        elif isinstance(event, OtherMessage):
            await self._out(event, event.conversation_id, self.t("wecom_bot.text_only"))
        elif isinstance(event, CardEvent) and event.key == render.DONE_KEY:
            return
        elif isinstance(event, TextMessage | CardEvent):
            await self._answer(event)

    async def _answer(self, event: TextMessage | CardEvent) -> None:
        incoming = to_incoming(event)
        outcome = await self.core.handle(incoming)
        # A press on a card in the 1:1 chat shows its answer there; a group's card (a 述学
        # prompt, a hand-off) stays as everyone else sees it.
        pending_card = event if isinstance(event, CardEvent) and incoming.chat_id == \
            event.conversation_id and incoming.is_private else None
        if outcome.notice:
            await self._out(event, incoming.chat_id, outcome.notice)
        for reply in outcome.replies:
            target = reply.chat_id or incoming.chat_id
            if pending_card is not None and target == incoming.chat_id and (
                    reply.answered is not None or reply.edit):
                await self._settle(pending_card, reply)
                pending_card = None
            rest = app_render.following(reply) if target == incoming.chat_id else reply
            for part in render.parts(self.t, rest) if rest is not None else ():
                await self._out(event, target, part)
        if pending_card is not None and outcome.replies:
            await self._settle(pending_card, None)
        if outcome.followup is not None:
            await self._follow(event, incoming.chat_id, outcome.followup)

    async def _settle(self, event: CardEvent, reply: Reply | None) -> None:
        """The pressed card shows the answer; a card that can no longer be updated is no loss."""
        answered = reply.answered if reply is not None else None
        try:
            await self.connection.deliver(UpdateCard(
                event.req_id, render.answered_card(self.t, event.task_id, answered)))
        except Unsent as error:
            log.info("could not update the pressed card of %s: %s", event.user_id, error)

    async def _follow(self, event: Callback, chat_id: str,
                      followup: AsyncIterator[Reply]) -> None:
        """A long job: its results as they come, of its progress lines only the last."""
        progress: Reply | None = None
        async for reply in followup:
            if reply.edit and reply.document is None:
                progress = replace(reply, edit=False)
                continue
            for part in render.parts(self.t, replace(reply, edit=False)):
                await self._out(event, chat_id, part)
        for part in render.parts(self.t, progress) if progress is not None else ():
            await self._out(event, chat_id, part)

    async def _out(self, event: Callback, chat_id: str, part: Part) -> None:
        """On the message's own req_id when it answers it in its chat, else (or when that
        fails) an active send."""
        if isinstance(event, TextMessage | OtherMessage) and chat_id == event.conversation_id:
            answer: Outgoing = ReplyMarkdown(event.req_id, part) if isinstance(part, str) \
                else ReplyCard(event.req_id, part)
            try:
                await self.connection.deliver(answer)
                return
            except Unsent as error:
                log.info("reply on %s failed (%s): sending it instead", event.req_id, error)
        await self.send(chat_id, part)

    async def send(self, chat_id: str, part: Part) -> None:
        """An active send to a user (1:1) or a group, waiting a little for a connection that
        is coming back."""
        outgoing: Outgoing = SendMarkdown(chat_id, part) if isinstance(part, str) \
            else SendCard(chat_id, part)
        try:
            await self.connection.deliver(outgoing)
        except (NotLive, ConnectionLost):
            await asyncio.wait_for(self.connection.wait_live(), self.live_wait)
            await self.connection.deliver(outgoing)
