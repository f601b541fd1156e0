"""How a neutral ``Reply`` looks in DingTalk (the choice is explained in PROTOCOL.md §7 and the
README):

- buttons, with a card template configured: an interactive card (高级版) whose buttons send the
  key back on the stream (``bot.adapters.replies.button_key``), in 1:1 and in groups alike;
- buttons in a 1:1 chat without a template: an ActionCard whose buttons are ``dtmd://`` links
  that send the button's selector (or ``/start …``) as the member's own message;
- anything else: text, the buttons as the core's numbered lines in 1:1, and in a group (where a
  typed line never reaches the robot without an @) only the buttons that open a private dialog,
  as a line saying what to send the robot in private.
"""

from __future__ import annotations

import uuid

from bot.adapters import split
from bot.adapters.dingtalk.messages import (
    MAX_ACTION_BUTTONS, ActionCard, Card, CardButton, LinkButton, Text, choice_card, send_back_url,
)
from bot.adapters.replies import START, button_key, flat
from handlers.core.events import Reply
from handlers.core.i18n import Translator

TEXT_BYTES = 6000  # a text piece (DingTalk takes more; long ones are hard to read on a phone)
CARD_BUTTONS = 16  # buttons on one interactive card (the template lists them one under another)
CARD_TEXT_BYTES = 3000
TITLE_CHARS = 40


def texts(content: str) -> list[Text]:
    return [Text(piece) for piece in split.pieces(content, TEXT_BYTES, split.utf8_bytes)]


def _title(text: str) -> tuple[str, str]:
    title, _, body = text.partition("\n")
    if len(title) > TITLE_CHARS:
        return title[:TITLE_CHARS - 1] + "…", text
    return title, body.strip()


def fits_card(reply: Reply) -> bool:
    return (0 < len(flat(reply)) <= CARD_BUTTONS
            and len(reply.text.encode()) <= CARD_TEXT_BYTES)


def card(template_id: str, reply: Reply) -> Card:
    title, body = _title(reply.text)
    buttons = tuple(CardButton(b.label, button_key(b)) for b in flat(reply))
    return choice_card(template_id, f"bb_{uuid.uuid4().hex}", title, body, buttons)


def _send_back(button_selector: str | None, label: str, start: str | None) -> str:
    return f"{START} {start}" if start is not None else button_selector or label


def fits_action_card(reply: Reply) -> bool:
    return (0 < len(flat(reply)) <= MAX_ACTION_BUTTONS
            and len(reply.text.encode()) <= CARD_TEXT_BYTES)


def action_card(reply: Reply) -> ActionCard:
    """Each button a link that sends back what typing would: its selector, its label, or the
    ``/start`` command of a button that opens a dialog."""
    title, body = _title(reply.text)
    return ActionCard(title, body or title, tuple(
        LinkButton(b.label, send_back_url(_send_back(b.selector, b.label, b.start)))
        for b in flat(reply)))


def group_text(t: Translator, reply: Reply) -> str:
    """A reply in a group without cards: its text, and what to send in private for each button
    that opens a dialog (a typed choice in a group never reaches the robot)."""
    lines = [reply.text] + [t("chat.private_start", label=b.label, command=f"{START} {b.start}")
                            for b in flat(reply) if b.start is not None]
    return "\n".join(lines)
