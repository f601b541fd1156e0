"""How a neutral ``Reply`` looks through the AI bot: the WeCom app's card limits and numbered
text (``bot.adapters.wecom.render``) as the long connection's frames; a long one-line text fits
a card, cut after its first sentence. Markdown pieces of at most 4,096 bytes; a file cannot be sent over the
long connection, so a document becomes a line saying where to get it."""

from __future__ import annotations

import uuid
from dataclasses import replace

from bot.adapters import split
from bot.adapters.wecom import render as app_render
from bot.adapters.wecom_bot.outgoing import MARKDOWN_BYTES, CardButton, TemplateCard
from handlers.core.events import Answered, Reply
from handlers.core.i18n import Translator

Part = str | TemplateCard  # a markdown message, or a card
DONE_KEY = "bb_done"  # the one button of a card already answered: pressing it does nothing
BUTTON_CHARS = 40


def new_task_id() -> str:
    return f"bb_{uuid.uuid4().hex}"


def parts(t: Translator, reply: Reply) -> list[Part]:
    """The messages one reply becomes."""
    text = reply.text
    if reply.document is not None:
        text = "\n".join(filter(None, (text, t("wecom_bot.no_files",
                                                 name=reply.document.file_name))))
    reply = replace(reply, text=text, document=None)
    made = card(t, reply)
    if made is not None:
        return [made]
    content = app_render.numbered(t, reply) if reply.buttons else text
    return [piece for piece in split.pieces(content, MARKDOWN_BYTES, split.utf8_bytes)
            if piece.strip()]


def card(t: Translator, reply: Reply) -> TemplateCard | None:
    """The reply as a card, if its buttons and text fit one."""
    flat = [b for row in reply.buttons for b in row]
    keys = [app_render.button_key(b) for b in flat]
    if not 0 < len(flat) <= app_render.CARD_BUTTONS or len(set(keys)) != len(keys) or any(
            len(key.encode()) > app_render.KEY_BYTES for key in keys):
        return None
    title, body = _title_and_body(reply.text.strip())
    if len(title) > app_render.TITLE_CHARS or len(body) > app_render.BODY_CHARS:
        return None
    buttons = tuple(CardButton(b.label[:BUTTON_CHARS], key) for b, key in zip(flat, keys))
    return TemplateCard(new_task_id(), title or t("wecom.choose"), buttons, sub_title=body)


def _title_and_body(text: str) -> tuple[str, str]:
    """The first line and the rest; a first line too long for a title is cut after its first
    sentence (the title a card shows in bold)."""
    title, _, body = (part.strip() for part in text.partition("\n"))
    if len(title) > app_render.TITLE_CHARS:
        ends = [i for i, char in enumerate(title[:app_render.TITLE_CHARS]) if char in "。！？；"]
        if ends:
            title, rest = title[:ends[0] + 1], title[ends[0] + 1:].strip()
            body = "\n".join(filter(None, (rest, body)))
    return title, body


def answered_card(t: Translator, task_id: str, answered: Answered | None) -> TemplateCard:
    """The pressed card once answered: its question, and the answer on its only button."""
    question = (answered.question if answered else "").strip().partition("\n")[0]
    answer = answered.answer if answered else t("wecom.card_done")
    return TemplateCard(task_id, question[:app_render.TITLE_CHARS] or t("wecom.card_done"),
                        (CardButton(answer[:BUTTON_CHARS] or t("wecom.card_done"), DONE_KEY,
                                    style=2),))
