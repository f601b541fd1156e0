"""How a neutral ``Reply`` looks through the AI bot: the WeCom app's rules (a card when the
buttons fit one, else text with the core's selectors: ``bot.adapters.wecom.render``) as the
long connection's frames. Markdown pieces of at most 4,096 bytes; a file cannot be sent over the
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
    if reply.buttons and app_render.fits_card(reply):
        return [card(t, reply)]
    content = app_render.numbered(t, reply) if reply.buttons else text
    return [piece for piece in split.pieces(content, MARKDOWN_BYTES, split.utf8_bytes)
            if piece.strip()]


def card(t: Translator, reply: Reply) -> TemplateCard:
    title, _, body = reply.text.partition("\n")
    buttons = tuple(CardButton(b.label[:BUTTON_CHARS], app_render.button_key(b))
                    for row in reply.buttons for b in row)
    return TemplateCard(new_task_id(), title.strip() or t("wecom.choose"), buttons,
                        sub_title=body.strip())


def answered_card(t: Translator, task_id: str, answered: Answered | None) -> TemplateCard:
    """The pressed card once answered: its question, and the answer on its only button."""
    question = (answered.question if answered else "").strip().partition("\n")[0]
    answer = answered.answer if answered else t("wecom.card_done")
    return TemplateCard(task_id, question[:app_render.TITLE_CHARS] or t("wecom.card_done"),
                        (CardButton(answer[:BUTTON_CHARS] or t("wecom.card_done"), DONE_KEY,
                                    style=2),))
