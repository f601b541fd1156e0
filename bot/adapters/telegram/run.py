"""Serving Telegram: the PTB application over the core, and the adapter the runner starts
(long polling, or a webhook)."""

from __future__ import annotations

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

from bot.adapters.telegram import PLATFORM
from bot.adapters.telegram.adapter import follow, render, to_incoming
from bot.adapters.telegram.files import file_reader
from bot.adapters.telegram.ordering import PerUserUpdateProcessor
from bot.adapters.telegram.sender import TelegramSender
from bot.runtime.app import App
from bot.runtime.delivery import TELEGRAM_LIMITS
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


def _webhook_path(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def build_application(bot_app: App) -> Application:
    """A PTB Application that feeds every update through ``bot_app.core``."""
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

    application = (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        .concurrent_updates(PerUserUpdateProcessor())
        .build()
    )
    bot_app.core.read_file = file_reader(application.bot)
    application.add_handler(TypeHandler(Update, on_update))
    application.add_error_handler(on_error)
    return application


class TelegramAdapter:
    """Telegram as one platform of ``bot.runtime.multi``: long polling, or the webhook when
    BRANCHBOT_TELEGRAM_WEBHOOK_URL is set (the pushes are the runner's)."""

    platform = PLATFORM
    limits = TELEGRAM_LIMITS

    def __init__(self, bot_app: App) -> None:
        self.settings = bot_app.settings
        self.application = build_application(bot_app)
        self.sender = TelegramSender(self.application.bot)
        self.core = bot_app.core

    async def start(self) -> None:
        application, settings = self.application, self.settings
        await application.initialize()
        await set_menus(application.bot, self.core.registry, self.core.config.texts)
        await application.start()
        assert application.updater is not None
        updates = ["message", "callback_query"]
        if settings.telegram_webhook_url:
            await application.updater.start_webhook(
                listen=settings.telegram_webhook_listen, port=settings.telegram_webhook_port,
                url_path=_webhook_path(settings.telegram_webhook_url),
                webhook_url=settings.telegram_webhook_url,
                secret_token=settings.telegram_webhook_secret, allowed_updates=updates)
        else:
            await application.updater.start_polling(allowed_updates=updates)

    async def stop(self) -> None:
        application = self.application
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
