"""The DingTalk adapter's bot side: Stream events in as the core's ``Incoming``, replies out by
the message's session webhook while it is valid (else the robot OpenAPI), cards, group pushes.

Chat ids: a member's 1:1 chat is their staff id (what every send API takes); a group is
``group:<openConversationId>``. A card press comes from DingTalk with the presser's staff id; a
pressed button that opens a dialog (``/start …``) starts it in the presser's 1:1 chat, also from
a card in a group. Each member's events are handled one after another.

Robot messages pushed while the stream was down are lost for good (DingTalk has no API to fetch
them): after a gap, every member who wrote to the robot within a dialog's lifetime is told, so
nobody waits for an answer to a message the bot never saw.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.adapters import replies
from bot.adapters.dingtalk import PLATFORM, render
from bot.adapters.dingtalk.api import DingTalkApi, DingTalkError
from bot.adapters.dingtalk.config import DingTalkConfig
from bot.adapters.dingtalk.events import CardPress, RobotMessage, SessionWebhook, StreamGap
from bot.adapters.dingtalk.events import Incoming as StreamEvent
from bot.adapters.dingtalk.messages import File, Target, Text, ToGroup, ToUser
from bot.runtime.in_order import InOrder
from handlers.core.events import Account, FileRef, Incoming, Reply
from handlers.core.i18n import Translator
from handlers.core.router import Core

log = logging.getLogger(__name__)
JSON = dict[str, Any]
GROUP_PREFIX = "group:"
REMEMBERED = 4096  # members whose last message is kept (name, webhook) for presses and gaps


def target_of(chat_id: str) -> Target:
    if chat_id.startswith(GROUP_PREFIX):
        return ToGroup(chat_id.removeprefix(GROUP_PREFIX))
    return ToUser(chat_id)


def chat_of(message: RobotMessage) -> str:
    return GROUP_PREFIX + message.conversation_id if message.is_group else message.sender_staff_id


def staff_account(staff_id: str) -> tuple[Account, ...]:
    """The sender's userid as DingTalk authenticated it (the Stream is the app's own connection,
    and a press carries the presser's userid from DingTalk, not from the card)."""
    return (Account("dingtalk", staff_id),)


def incoming(message: RobotMessage) -> Incoming:
    attachment = message.attachments[0] if message.attachments else None
    return Incoming(
        platform=PLATFORM, user_id=message.sender_staff_id, user_name=message.sender_nick,
        chat_id=chat_of(message), is_private=not message.is_group, text=message.text,
        file=FileRef(attachment.download_code, attachment.file_name) if attachment else None,
        chat_title=message.conversation_title, event_id=message.msg_id,
        addressed=message.is_group,  # a robot hears in a group only the messages that @ it
        accounts=staff_account(message.sender_staff_id))


def pressed(press: CardPress, name: str) -> Incoming:
    """A card press as the core's event; a dialog-opening key goes to the presser's 1:1 chat."""
    key = press.params.get("value", "")
    in_group = press.space_type == "IM_GROUP" and not key.startswith(replies.START)
    event = Incoming(platform=PLATFORM, user_id=press.user_id, user_name=name,
                     chat_id=GROUP_PREFIX + press.space_id if in_group else press.user_id,
                     is_private=not in_group, event_id=f"card:{press.message_id}",
                     accounts=staff_account(press.user_id))
    return replies.from_key(event, key, press.out_track_id)


@dataclass(frozen=True)
class _Seen:
    name: str
    webhook: SessionWebhook | None  # of their last 1:1 message
    at: datetime


class DingTalkBot:
    def __init__(self, core: Core, api: DingTalkApi, config: DingTalkConfig, *,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.core, self.api, self.config, self.now = core, api, config, now
        self._users = InOrder()
        self._seen: OrderedDict[str, _Seen] = OrderedDict()
        self.gaps_told = 0

    @property
    def t(self) -> Translator:
        return self.core.config.texts

    async def handle(self, event: StreamEvent) -> JSON | None:
        """The stream's handler: what it returns is the ACK's response (a pressed card's update)."""
        if isinstance(event, StreamGap):
            await self._gap(event)
            return None
        try:
            if isinstance(event, RobotMessage):
                self._remember(event)
                async with self._users.turn(event.sender_staff_id):
                    await self._answer(incoming(event), event.session_webhook, None)
                return None
            seen = self._seen.get(event.user_id)
            async with self._users.turn(event.user_id):
                return await self._answer(pressed(event, seen.name if seen else ""), None, event)
        except (DingTalkError, httpx.HTTPError) as error:  # the answer could not be sent
            log.warning("DingTalk API error answering %s: %s", event, error)
            return None

    def _remember(self, message: RobotMessage) -> None:
        before = self._seen.get(message.sender_staff_id)
        webhook = None if message.is_group else message.session_webhook
        if webhook is None and before is not None:
            webhook = before.webhook
        self._seen[message.sender_staff_id] = _Seen(message.sender_nick, webhook, self.now())
        self._seen.move_to_end(message.sender_staff_id)
        while len(self._seen) > REMEMBERED:
            self._seen.popitem(last=False)

    def _webhook(self, chat_id: str, given: SessionWebhook | None) -> SessionWebhook | None:
        if given is not None or chat_id.startswith(GROUP_PREFIX):
            return given
        seen = self._seen.get(chat_id)
        return seen.webhook if seen is not None else None

    async def _answer(self, event: Incoming, webhook: SessionWebhook | None,
                      press: CardPress | None) -> JSON | None:
        outcome = await self.core.handle(event)
        chosen: str | None = None
        if outcome.notice:
            await self._tell(event.user_id, Reply(outcome.notice))
        for reply in outcome.replies:
            chat = reply.chat_id or event.chat_id
            if chat != event.chat_id:  # someone else told (a secretary, say): not this one's loss
                await self._tell(chat, reply)
                continue
            if press is not None and chosen is None and (reply.answered is not None or reply.edit):
                chosen = reply.answered.answer if reply.answered is not None else self.t("chat.card_done")
            rest = replies.following(reply)
            if rest is not None:
                await self.deliver(chat, rest, webhook)
        if outcome.followup is not None:
            await replies.follow(outcome.followup,
                                 lambda reply: self.deliver(event.chat_id, reply, webhook))
        if press is None or (chosen is None and not outcome.replies):
            return None
        return {"cardData": {"cardParamMap": {"chosen": chosen or self.t("chat.card_done")}},
                "cardUpdateOptions": {"updateCardDataByKey": True}}

    async def _tell(self, chat_id: str, reply: Reply) -> None:
        try:
            await self.deliver(chat_id, reply)
        except (DingTalkError, httpx.HTTPError) as error:
            log.warning("could not tell %s: %s", chat_id, error)

    async def deliver(self, chat_id: str, reply: Reply, webhook: SessionWebhook | None = None) -> None:
        """One reply to a member or a group, by the session webhook while it is valid."""
        to, webhook = target_of(chat_id), self._webhook(chat_id, webhook)
        if reply.document is not None:
            await self._texts(to, reply.text, webhook)
            media_id = await self.api.upload(reply.document.file_name, reply.document.content)
            await self.api.send(to, File(media_id, reply.document.file_name))
            if not reply.buttons:
                return
            reply = Reply(self.t("chat.choose"), buttons=reply.buttons)
        if not reply.buttons:
            await self._texts(to, reply.text, webhook)
        elif self.config.card_template_id and render.fits_card(reply):
            await self.api.send_card(to, render.card(self.config.card_template_id, reply))
        elif isinstance(to, ToGroup):
            await self._texts(to, render.group_text(self.t, reply), webhook)
        elif render.fits_action_card(reply):
            await self.api.reply(to, render.action_card(reply), webhook)
        else:
            await self._texts(to, replies.numbered(self.t, reply), webhook)

    async def _texts(self, to: Target, content: str, webhook: SessionWebhook | None) -> None:
        for message in render.texts(content):
            await self.api.reply(to, message, webhook)

    async def _gap(self, gap: StreamGap) -> None:
        """Tell who wrote lately that what they sent while the stream was down was not seen."""
        since = gap.until - self.core.config.dialog_timeout
        minutes = max(1, math.ceil(gap.seconds / 60))
        recent = [(staff, seen) for staff, seen in self._seen.items() if seen.at >= since]
        for staff, seen in recent:
            try:
                await self.api.reply(ToUser(staff), Text(self.t("dingtalk.gap", minutes=minutes)),
                                     seen.webhook)
                self.gaps_told += 1
            except (DingTalkError, httpx.HTTPError) as error:
                log.warning("could not tell %s of the gap: %s", staff, error)
