"""The Feishu adapter's bot side: messages and card presses in as the core's ``Incoming``,
replies out as text and interactive cards (JSON 1.0) by the OpenAPI, pressed cards replaced in
the press's answer.

Chat ids: a member's 1:1 chat is their ``open_id`` (``ou_…``, sent to with ``receive_id_type
open_id``); a group is its ``chat_id`` (``oc_…``). A button's value is ``{"k": <key>}`` (the
core's data, or ``/start …``), with ``"g": "1"`` on a card sent to a group; Feishu sends it back
with the presser's open_id, so a press is never taken from the card's content. A dialog-opening
button pressed in a group starts the dialog in the presser's 1:1 chat.

``on_message`` only queues the work (Feishu waits 3 s for the answer); a press is answered with
the updated card, and what follows it is sent after, in the member's turn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Mapping
from typing import Any
from dataclasses import dataclass, field, replace

import httpx

from bot.adapters import replies, split
from bot.adapters.feishu import PLATFORM
from bot.adapters.feishu.api import FeishuApi, FeishuError
from bot.adapters.feishu.dispatch import CARD_DEADLINE
from bot.adapters.feishu.events import CardAction, MessageEvent, UserIds
from bot.adapters.feishu.messages import (
    MAX_CARD_BODY, Button, Card, CardAnswer, File, MessageTooLarge, Text,
)
from bot.runtime.in_order import InOrder
from handlers.core.events import Account, Answered, FileRef, Incoming, Outcome, Reply
from handlers.core.i18n import Translator
from handlers.core.router import Core

log = logging.getLogger(__name__)
GROUP_PREFIX = "oc_"
TEXT_BYTES = 8000  # a text piece (Feishu takes 150 KB; a phone screen far less)
CARD_TEXT_BYTES = MAX_CARD_BODY // 2  # the rest of 30 KB is for buttons and JSON
Failure = (FeishuError, MessageTooLarge, httpx.HTTPError)


def is_group(chat_id: str) -> bool:
    return chat_id.startswith(GROUP_PREFIX)


def addressed_text(message: MessageEvent) -> str | None:
    """The text without the @-mentions it starts with (the bot's, in a group), others as @name."""
    text = message.text
    if text is None:
        return None
    keys = {m.key: m.name for m in message.mentions}
    words = text.split()
    while words and words[0] in keys:
        words.pop(0)
    return " ".join(f"@{keys[w]}" if w in keys else w for w in words)


def user_account(ids: UserIds) -> tuple[Account, ...]:
    """The tenant-wide user_id Feishu put in the event (only for an app with the permission to
    read user ids), as it authenticated the sender; none without it."""
    return (Account("feishu", ids.user_id),) if ids.user_id else ()


def incoming(message: MessageEvent) -> Incoming:
    group = message.chat_type == "group"
    attachment = message.attachment
    file = None
    if attachment is not None:
        file = FileRef(f"{message.message_id}:{attachment.resource_type}:{attachment.key}",
                       attachment.file_name)
    return Incoming(platform=PLATFORM, user_id=message.sender.open_id, user_name="",
                    chat_id=message.chat_id if group else message.sender.open_id,
                    is_private=not group, text=addressed_text(message), file=file,
                    event_id=message.message_id, addressed=group and bool(message.mentions),
                    accounts=user_account(message.sender))


def pressed(action: CardAction) -> Incoming:
    value = action.value if isinstance(action.value, Mapping) else {}
    key = str(value.get("k", ""))
    in_group = value.get("g") == "1" and not key.startswith(replies.START)
    user = action.operator.open_id
    event = Incoming(platform=PLATFORM, user_id=user, user_name="",
                     chat_id=action.open_chat_id or user if in_group else user,
                     is_private=not in_group, event_id=action.header.event_id,
                     accounts=user_account(action.operator))
    return replies.from_key(event, key, action.open_message_id)


def buttons_card(reply: Reply, in_group: bool) -> Card:
    extra = {"g": "1"} if in_group else {}
    rows = tuple(tuple(Button(b.label, {"k": replies.button_key(b), **extra}) for b in row)
                 for row in reply.buttons)
    return Card(body=reply.text or "…", rows=rows)


def answered_card(answered: Answered) -> Card:
    return Card(body=answered.question or "…", note=f"✅ {answered.answer}")


@dataclass
class _Settled:
    """What a press's answer shows on the pressed card, and what is sent after it."""

    card: Card | None = None
    rest: list[tuple[str, Reply]] = field(default_factory=list)


class FeishuBot:
    def __init__(self, core: Core, api: FeishuApi, *, card_deadline: float = CARD_DEADLINE) -> None:
        self.core, self.api, self.card_deadline = core, api, card_deadline
        self._users = InOrder()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def t(self) -> Translator:
        return self.core.config.texts

    async def drain(self) -> None:
        """Wait for the work queued so far (at shutdown, and in tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- in ------------------------------------------------------------------------------------

    async def on_message(self, message: MessageEvent) -> None:
        """Queued in the sender's turn; the long connection's answer does not wait for it."""
        if message.sender_type not in ("user", ""):
            return  # another bot, or the system
        self._later(message.sender.open_id, self._message(incoming(message)))

    async def on_card_action(self, action: CardAction) -> CardAnswer | None:
        user = action.operator.open_id
        event = pressed(action)
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with self._users.turn(user):
            outcome = await self.core.handle(event)
            settled = self._settle(event, outcome)
            late = loop.time() - started > self.card_deadline - 0.3
            if late and settled.card is not None:  # the answer would come too late: by the API
                self._later(user, self._patch(action.open_message_id, settled.card))
            self._later(user, self._send_rest(event, settled.rest, outcome))
        if late:
            return None
        return CardAnswer(toast=outcome.notice, card=settled.card)

    def _later(self, user: str, work: Coroutine[Any, Any, None]) -> None:
        """``work`` (a coroutine) in ``user``'s turn, after what is queued for them already."""
        async def in_turn() -> None:
            try:
                async with self._users.turn(user):
                    await work
            except Failure as error:
                log.warning("Feishu API error answering %s: %s", user, error)
            except Exception:
                log.exception("failed to answer %s", user)

        task = asyncio.create_task(in_turn())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _message(self, event: Incoming) -> None:
        outcome = await self.core.handle(event)
        if outcome.notice:
            await self._tell(event.user_id, Reply(outcome.notice))
        for reply in outcome.replies:
            await self._to(event, reply)
        if outcome.followup is not None:
            await replies.follow(outcome.followup, lambda reply: self.deliver(event.chat_id, reply))

    async def _to(self, event: Incoming, reply: Reply) -> None:
        chat = reply.chat_id or event.chat_id
        if chat != event.chat_id:  # someone else told: not this member's loss if it fails
            await self._tell(chat, reply)
        else:
            await self.deliver(chat, reply)

    def _settle(self, event: Incoming, outcome: Outcome) -> _Settled:
        """The pressed card becomes the question and its answer, or the edited reply itself (its
        text and buttons); the rest goes as new messages."""
        settled = _Settled()
        for reply in outcome.replies:
            mine = (reply.chat_id or event.chat_id) == event.chat_id
            if mine and settled.card is None and reply.document is None:
                if reply.answered is not None:
                    settled.card = answered_card(reply.answered)
                    rest = replies.following(reply)
                    if rest is not None:
                        settled.rest.append((event.chat_id, rest))
                    continue
                if reply.edit and self._fits_card(reply):
                    settled.card = buttons_card(reply, is_group(event.chat_id))
                    continue
            settled.rest.append((reply.chat_id or event.chat_id, reply))
        return settled

    async def _send_rest(self, event: Incoming, rest: list[tuple[str, Reply]],
                         outcome: Outcome) -> None:
        for chat, reply in rest:
            await self._to(event, replace(reply, chat_id=chat))
        if outcome.followup is not None:
            await replies.follow(outcome.followup, lambda reply: self.deliver(event.chat_id, reply))

    async def _patch(self, message_id: str, card: Card) -> None:
        await self.api.patch_card(message_id, card)

    # --- out -----------------------------------------------------------------------------------

    async def _tell(self, chat_id: str, reply: Reply) -> None:
        try:
            await self.deliver(chat_id, reply)
        except Failure as error:
            log.warning("could not tell %s: %s", chat_id, error)

    @staticmethod
    def _fits_card(reply: Reply) -> bool:
        return bool(reply.buttons) and len(reply.text.encode()) <= CARD_TEXT_BYTES

    async def deliver(self, chat_id: str, reply: Reply) -> None:
        """One reply to a member (by open_id) or a group (by chat_id)."""
        if reply.document is not None:
            await self._texts(chat_id, reply.text)
            file_key = await self.api.upload_file(reply.document.file_name, reply.document.content)
            await self._send(chat_id, File(file_key))
            if not reply.buttons:
                return
            reply = Reply(self.t("chat.choose"), buttons=reply.buttons)
        if not reply.buttons:
            await self._texts(chat_id, reply.text)
            return
        if not self._fits_card(reply):
            await self._texts(chat_id, reply.text)
            reply = Reply(self.t("chat.choose"), buttons=reply.buttons)
        await self._send(chat_id, buttons_card(reply, is_group(chat_id)))

    async def _texts(self, chat_id: str, content: str) -> None:
        for piece in split.pieces(content, TEXT_BYTES, split.utf8_bytes):
            await self._send(chat_id, Text(piece))

    async def _send(self, chat_id: str, message: Text | Card | File) -> None:
        await self.api.send("chat_id" if is_group(chat_id) else "open_id", chat_id, message)
