"""The Telegram adapter (python-telegram-bot): updates in, neutral events to the core, replies out."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ChatType
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.adapters.ordering import PerUserUpdateProcessor
from bot.app import App, build_app, require_current_schema
from bot.delivery import PermanentFailure, TemporaryFailure
from bot.pushes import Pushes
from storage.db import create_engine
from bot.config import Settings
from handlers.events import Button, FileRef, Incoming, Reply

log = logging.getLogger(__name__)
PLATFORM = "telegram"


def to_incoming(update: Update) -> Incoming | None:
    """The neutral event for an update, or None for updates the core does not take."""
    event_id = str(update.update_id)
    query = update.callback_query
    if query is not None:
        message = query.message
        if message is None or query.data is None:
            return None
        chat = message.chat
        return Incoming(
            platform=PLATFORM, user_id=str(query.from_user.id), user_name=query.from_user.full_name,
            chat_id=str(chat.id), is_private=chat.type == ChatType.PRIVATE, callback_data=query.data,
            message_id=str(message.message_id), chat_title=chat.title, event_id=event_id,
        )
    message = update.message
    if message is None or message.from_user is None:
        return None
    document = message.document
    file = None
    if document is not None:
        file = FileRef(document.file_id, document.file_name, document.mime_type)
    elif message.photo:
        file = FileRef(message.photo[-1].file_id, None, "image/jpeg")
    text = message.text or message.caption
    if text is None and file is None:
        return None
    chat = message.chat
    return Incoming(
        platform=PLATFORM, user_id=str(message.from_user.id), user_name=message.from_user.full_name,
        chat_id=str(chat.id), is_private=chat.type == ChatType.PRIVATE, text=text,
        file=file, chat_title=chat.title, event_id=event_id,
    )


def keyboard(buttons: tuple[tuple[Button, ...], ...], bot_username: str) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(b.label, url=f"https://t.me/{bot_username}?start={b.start}")
         if b.start is not None else InlineKeyboardButton(b.label, callback_data=b.data)
         for b in row]
        for row in buttons
    ])


async def render(app: Application, event: Incoming, reply: Reply) -> str | None:
    """Send or edit one reply; the id of the text message now showing it (None for a file)."""
    bot = app.bot
    chat_id = int(reply.chat_id or event.chat_id)
    markup = keyboard(reply.buttons, bot.username)
    if reply.document is not None:
        await bot.send_document(chat_id, InputFile(reply.document.content,
                                                          filename=reply.document.file_name),
                                       caption=reply.text or None, reply_markup=markup)
        return None  # the text went as the caption
    if reply.replace and event.message_id is not None:
        try:
            await bot.edit_message_text(reply.text, chat_id=chat_id,
                                        message_id=int(event.message_id), reply_markup=markup)
            return event.message_id
        except BadRequest as error:
            if "not modified" in error.message.lower():
                return event.message_id
            log.info("could not edit message %s (%s); sending anew", event.message_id, error.message)
    return str((await bot.send_message(chat_id, reply.text, reply_markup=markup)).message_id)


async def follow(app: Application, event: Incoming, followup: AsyncIterator[Reply],
                 last: str | None) -> None:
    """A long job's replies (a report): each ``replace`` edits the text message put up last."""
    async for reply in followup:
        sent = await render(app, dataclasses.replace(event, message_id=last), reply)
        last = sent or last


class TelegramSender:
    """Sends outbox messages with the Application's bot, telling passing failures from final ones."""

    platform = PLATFORM

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: str, reply: Reply) -> None:
        try:
            await self.bot.send_message(int(chat_id), reply.text,
                                        reply_markup=keyboard(reply.buttons, self.bot.username))
        except RetryAfter as error:
            raise TemporaryFailure("429 Too Many Requests", retry_after=_seconds(error.retry_after)) from error
        except (Forbidden, BadRequest, ChatMigrated, InvalidToken) as error:
            raise PermanentFailure(f"{type(error).__name__}: {error.message}") from error
        except (TimedOut, NetworkError) as error:
            raise TemporaryFailure(f"{type(error).__name__}: {error.message}") from error


def _seconds(value: object) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)  # type: ignore[arg-type]


def build_application(bot_app: App, *, pushes: bool = True) -> Application:
    """A PTB Application that feeds every update through ``bot_app.core``; with ``pushes``, it also
    runs the scheduled pushes (planner and deliverer) while it runs."""
    settings = bot_app.settings
    assert settings.telegram_token is not None

    async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        event = to_incoming(update)
        if event is None:
            return
        outcome = await bot_app.core.handle(event)
        last: str | None = None
        try:
            for reply in outcome.replies:
                last = await render(context.application, event, reply) or last
        finally:
            # Answered last, so a button press is "done" once its spinner stops.
            if update.callback_query is not None:
                await update.callback_query.answer(outcome.notice)
        if outcome.followup is not None:
            await follow(context.application, event, outcome.followup, last)

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if isinstance(context.error, TelegramError):
            log.warning("Telegram error for %s: %s", update, context.error)
        else:
            log.error("unexpected error for %s", update, exc_info=context.error)

    scheduled: list[Pushes] = []

    async def post_init(application: Application) -> None:
        if pushes:
            scheduled.append(Pushes(bot_app, TelegramSender(application.bot)))
            await scheduled[0].start()

    async def post_stop(application: Application) -> None:
        for running in scheduled:
            await running.stop()

    async def post_shutdown(application: Application) -> None:
        await bot_app.close()

    application = (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        .concurrent_updates(PerUserUpdateProcessor())
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.add_handler(TypeHandler(Update, on_update))
    application.add_error_handler(on_error)
    return application


async def _check_schema(url: str) -> None:
    engine = create_engine(url)
    try:
        await require_current_schema(engine)
    finally:
        await engine.dispose()


def run_telegram(settings: Settings) -> None:
    """Serve until stopped: long polling, or a webhook when BRANCHBOT_TELEGRAM_WEBHOOK_URL is set.

    Refuses to start (SchemaOutOfDate) on a database that needs ``branchbot db upgrade``.
    """
    asyncio.run(_check_schema(settings.database_url))
    application = build_application(build_app(settings), pushes=settings.pushes_enabled)
    if settings.telegram_webhook_url:
        application.run_webhook(
            listen=settings.telegram_webhook_listen,
            port=settings.telegram_webhook_port,
            url_path=_webhook_path(settings.telegram_webhook_url),
            webhook_url=settings.telegram_webhook_url,
            secret_token=settings.telegram_webhook_secret,
            allowed_updates=["message", "callback_query"],
        )
    else:
        application.run_polling(allowed_updates=["message", "callback_query"])


def _webhook_path(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path.lstrip("/")
