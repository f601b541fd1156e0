"""An inline keyboard made straight as the JSON the Bot API takes.

python-telegram-bot's ``InlineKeyboardButton`` objects cost about 10 µs a button to make and as
much again to be turned back into that JSON when the request is built (``to_dict``). A dialog's
keyboard is new at every step (its buttons carry the step's nonce), so that was paid on nearly
every message: a tenth of the bot's CPU per update. This markup holds the JSON itself and is an
``InlineKeyboardMarkup`` to PTB (its requests, its type checks); it has no button objects of its
own (``inline_keyboard`` is empty): nothing here reads them.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup

ButtonJson = dict[str, str]  # {"text": …, "callback_data": …} or {"text": …, "url": …}


class InlineKeyboardJson(InlineKeyboardMarkup):
    __slots__ = ("_rows",)

    def __init__(self, rows: list[list[ButtonJson]]) -> None:
        super().__init__(())
        with self._unfrozen():
            self._rows = rows
            self._id_attrs = (tuple(tuple(tuple(button.items()) for button in row) for row in rows),)

    def to_dict(self, recursive: bool = True) -> dict[str, Any]:
        return {"inline_keyboard": self._rows}
