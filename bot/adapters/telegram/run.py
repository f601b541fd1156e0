"""Serving Telegram until stopped: long polling, or a webhook."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.adapters.telegram.adapter import follow, render, to_incoming
from bot.adapters.telegram.ordering import PerUserUpdateProcessor
from bot.adapters.telegram.sender import TelegramSender
from bot.config import Settings
from bot.runtime.app import App, build_app, check_schema
from bot.runtime.pushes import Pushes
from handlers.core.features import Registry
from handlers.core.i18n import Translator
from handlers.core.policy import Where

log = logging.getLogger(__name__)
MENU_DESCRIPTION = 256  # characters Telegram takes for a command's description


async def set_menus(bot: Bot, registry: Registry, t: Translator) -> None:
    """The command menus of private and group chats, from the features' declarations. A menu
    that cannot be set now is no reason not to serve: the commands work typed."""
    scopes = ((Where.private, BotCommandScopeAllPrivateChats()),
              (Where.group, BotCommandScopeAllGroupChats()))
    try:
        for where, scope in scopes:
            await bot.set_my_commands([BotCommand(name, description[:MENU_DESCRIPTION])
                                       for name, description in registry.menu(t, where)], scope=scope)
    except TelegramError as error:
        log.warning("could not set the command menus: %s", error)


def run_telegram(settings: Settings) -> None:
    """Serve until stopped: long polling, or a webhook when BRANCHBOT_TELEGRAM_WEBHOOK_URL is set.

    Refuses to start (SchemaOutOfDate) on a database that needs ``branchbot db upgrade``.
    """
    asyncio.run(check_schema(settings.database_url))
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
    return urlsplit(url).path.lstrip("/")


def application_builder(token: str, base_url: str, base_file_url: str) -> ApplicationBuilder:
    """PTB's builder as branchbot serves with it: its HTTP transport, and each user's updates in
    order while different users' run at once (bench/floor_bot.py builds on the same)."""
    return (ApplicationBuilder().token(token).base_url(base_url).base_file_url(base_file_url)
            .concurrent_updates(PerUserUpdateProcessor()))


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
        await set_menus(application.bot, bot_app.core.registry, bot_app.core.config.texts)
        if pushes:
            scheduled.append(Pushes(bot_app, TelegramSender(application.bot)))
            await scheduled[0].start()

    async def post_stop(application: Application) -> None:
        for running in scheduled:
            await running.stop()

    async def post_shutdown(application: Application) -> None:
        await bot_app.close()

    application = (
        application_builder(settings.telegram_token, settings.telegram_base_url,
                            settings.telegram_base_file_url)
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.add_handler(TypeHandler(Update, on_update))
    application.add_error_handler(on_error)
    return application
