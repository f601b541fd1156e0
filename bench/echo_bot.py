"""The floor of this stack: a bare python-telegram-bot echo bot (one reply per update)."""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(update.effective_message.text or "…")


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer()


def main() -> None:
    application = (
        ApplicationBuilder()
        .token(os.environ["BRANCHBOT_TELEGRAM_TOKEN"])
        .base_url(os.environ["BRANCHBOT_TELEGRAM_BASE_URL"])
        .build()
    )
    application.add_handler(MessageHandler(filters.ALL, echo))
    application.add_handler(CallbackQueryHandler(answer))
    application.run_polling(allowed_updates=["message", "callback_query"])


if __name__ == "__main__":
    main()
