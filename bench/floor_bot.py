"""The protocol's floor for branchbot's dialogs: a bare python-telegram-bot Application that, for
each update, makes exactly the Bot API calls branchbot made for it, replayed from a recording.

bench/dialogs.py records a branchbot round (per update: its chat, what was typed or the button
data pressed, and the calls with their parameters) into the JSON file named by BENCH_FLOOR_CALLS.
This bot answers the same stream with the same methods and payloads (only the ids that name the
pressed message and the query are today's), no database and no core, on the same Application
builder as branchbot (its HTTP transport, each user's updates in order: see
bot.adapters.telegram.run.application_builder).
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, ReplyKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes, TypeHandler

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.adapters.telegram.markup import InlineKeyboardJson  # noqa: E402
from bot.adapters.telegram.run import application_builder  # noqa: E402

Call = tuple[str, dict[str, Any]]  # Bot method (snake case) and its keyword arguments
REPLAYED = {"sendMessage", "editMessageText", "editMessageReplyMarkup", "answerCallbackQuery"}


def key(chat_id: int, kind: str, content: str) -> str:
    """What names an update in the recording: its chat, "say" or "press", the text or the data."""
    return f"{chat_id}\t{kind}\t{content}"


def _markup(value: dict[str, Any]) -> InlineKeyboardMarkup | ReplyKeyboardMarkup:
    """The recorded keyboard as branchbot makes it (an inline one as its JSON: ``InlineKeyboardJson``,
    which costs nothing to serialize), so the floor pays for sending it what branchbot does."""
    if "inline_keyboard" in value:
        return InlineKeyboardJson(value["inline_keyboard"])
    made = ReplyKeyboardMarkup.de_json(value, None)
    assert made is not None
    return made


def _prepared(method: str, params: dict[str, Any]) -> Call:
    """A recorded call as keyword arguments of the Bot method, keyboards built once, here."""
    if method not in REPLAYED:
        raise SystemExit(f"the floor bot does not replay {method}")
    kwargs = {k: _markup(v) if k == "reply_markup" else v for k, v in params.items()}
    return re.sub(r"(?<!^)(?=[A-Z])", "_", method).lower(), kwargs


def load(path: str) -> dict[str, list[Call]]:
    recorded = json.loads(Path(path).read_text(encoding="utf-8"))
    return {name: [_prepared(method, params) for method, params in calls]
            for name, calls in recorded.items()}


async def replay(bot: Bot, update: Update, calls: list[Call]) -> None:
    query = update.callback_query
    for method, kwargs in calls:
        if method == "answer_callback_query":
            assert query is not None
            await query.answer(kwargs.get("text"))
            continue
        if "message_id" in kwargs:  # an edit: of the message pressed now
            assert query is not None and query.message is not None
            kwargs = {**kwargs, "message_id": query.message.message_id}
        try:
            await getattr(bot, method)(**kwargs)
        except BadRequest as error:  # as branchbot: an edit that changes nothing is no failure
            if "not modified" not in error.message.lower():
                raise


def main() -> None:
    calls = load(os.environ["BENCH_FLOOR_CALLS"])

    async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query is not None:
            query = update.callback_query
            assert query.message is not None and query.data is not None
            name = key(query.message.chat.id, "press", query.data)
        else:
            message = update.message
            assert message is not None and message.text is not None
            name = key(message.chat.id, "say", message.text)
        await replay(context.bot, update, calls[name])

    application = application_builder(os.environ["BRANCHBOT_TELEGRAM_TOKEN"],
                                      os.environ["BRANCHBOT_TELEGRAM_BASE_URL"],
                                      os.environ["BRANCHBOT_TELEGRAM_BASE_FILE_URL"]).build()
    application.add_handler(TypeHandler(Update, on_update))
    application.run_polling(allowed_updates=["message", "callback_query"])


if __name__ == "__main__":
    main()
