"""Serving Telegram: the PTB application over the core, and the adapter the runner starts
(long polling, or a webhook)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
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
from bot.adapters.telegram.files import TelegramFiles
from bot.adapters.telegram.ordering import PerUserUpdateProcessor
from bot.adapters.telegram.sender import TelegramSender
from bot.adapters.telegram.webhook import Webhook
from bot.config import Settings
from bot.runtime.app import App
from bot.runtime.delivery import TELEGRAM_LIMITS
from bot.runtime.http_server import HttpServer
from bot.runtime.inbox import Inbox
from bot.runtime.leadership import Leadership
from handlers.core.events import Incoming, Outcome
from handlers.core.features import Registry
from handlers.core.i18n import Translator
from handlers.core.policy import Where

log = logging.getLogger(__name__)
MENU_DESCRIPTION = 256  # characters Telegram takes for a command's description
ALLOWED_UPDATES = ["message", "callback_query"]
POLLER_LOCK = "telegram-poller"  # one long poll per bot: Telegram answers a second with 409


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


class WebhookWithoutSecret(RuntimeError):
    """Webhook mode asked for with no secret: anyone could post updates as anyone."""


def refusal(settings: Settings) -> str | None:
    """Every worker must register and check the same webhook secret, so none can make one up
    for itself: a webhook without BRANCHBOT_TELEGRAM_WEBHOOK_SECRET is refused."""
    if settings.telegram_webhook_url and not settings.telegram_webhook_secret:
        return "cli.webhook_no_secret"
    return None


def _webhook_path(url: str) -> str:
    return "/" + urlsplit(url).path.lstrip("/")


async def reply(application: Application, update: Update, event: Incoming,
                outcome: Outcome) -> None:
    """Show ``outcome`` for ``update``: its replies, the pressed button answered last (so a press
    is "done" once its spinner stops), then a long job's follow-up."""
    last: str | None = None
    try:
        for each in outcome.replies:
            last = await render(application, event, each) or last
    finally:
        if update.callback_query is not None:
            await update.callback_query.answer(outcome.notice)
    if outcome.followup is not None:
        await follow(application, event, outcome.followup, last)


def application_builder(token: str, base_url: str, base_file_url: str) -> ApplicationBuilder:
    """PTB's builder as branchbot serves with it: its HTTP transport, and each user's updates in
    order while different users' run at once (bench/floor_bot.py builds on the same)."""
    return (ApplicationBuilder().token(token).base_url(base_url).base_file_url(base_file_url)
            .concurrent_updates(PerUserUpdateProcessor()))


def build_application(bot_app: App) -> Application:
    """A PTB Application that feeds every update through ``bot_app.core``."""
    settings = bot_app.settings
    assert settings.telegram_token is not None

    async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        event = to_incoming(update)
        if event is None:
            return
        await reply(application, update, event, await bot_app.core.handle(event))

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if isinstance(context.error, TelegramError):
            log.warning("Telegram error for %s: %s", update, context.error)
        else:
            log.error("unexpected error for %s", update, exc_info=context.error)

    application = (
        application_builder(settings.telegram_token, settings.telegram_base_url,
                            settings.telegram_base_file_url)
        .build()
    )
    bot_app.files.register(TelegramFiles(application.bot))
    application.add_handler(TypeHandler(Update, on_update))
    application.add_error_handler(on_error)
    return application


class TelegramAdapter:
    """Telegram as one platform of ``bot.runtime.multi`` (the pushes are the runner's).

    Long polling by one process at a time: another stands by (it logs so) and takes over within
    seconds of the poller's death (``bot.runtime.leadership``). Or, when
    BRANCHBOT_TELEGRAM_WEBHOOK_URL is set, the webhook (``bot.adapters.telegram.webhook``) on
    every worker: each update stored before it is answered, handled through the inbox."""

    platform = PLATFORM
    limits = TELEGRAM_LIMITS

    def __init__(self, bot_app: App) -> None:
        settings = bot_app.settings
        if refusal(settings) is not None:
            raise WebhookWithoutSecret("BRANCHBOT_TELEGRAM_WEBHOOK_SECRET")
        self.app, self.settings = bot_app, settings
        self.application = build_application(bot_app)
        self.sender = TelegramSender(self.application.bot)
        self._tasks: list[asyncio.Task[None]] = []
        self._webhook: Webhook | None = None
        self._inbox: Inbox | None = None
        self._server: HttpServer | None = None

    async def start(self) -> None:
        await self.application.initialize()  # the sender needs it, polling here or not
        if self.settings.telegram_webhook_url:
            await self._start_webhook()
        else:
            poller = Leadership(self.settings.database_url, POLLER_LOCK)
            self._tasks.append(asyncio.create_task(poller.run(self._poll), name="telegram-poller"))

    async def _poll(self) -> None:
        """Poll until cancelled (this process holds the poller's lock)."""
        application = self.application
        await set_menus(application.bot, self.app.core.registry, self.app.core.config.texts)
        try:
            assert application.updater is not None
            await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
            await application.start()
            await asyncio.Event().wait()
        finally:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()

    async def _start_webhook(self) -> None:
        settings, application, core = self.settings, self.application, self.app.core
        assert settings.telegram_webhook_url and settings.telegram_webhook_secret
        bot = application.bot

        async def answer(payload: dict[str, Any], event: Incoming, outcome: Outcome) -> None:
            await reply(application, Update.de_json(payload, bot), event, outcome)

        self._inbox = Inbox(core, self.app.engine, PLATFORM,
                            lambda payload: to_incoming(Update.de_json(payload, bot)), answer)
        self._webhook = Webhook(self._inbox, bot, settings.telegram_webhook_secret,
                                self.app.ping, role=lambda: self.app.pushes_role())
        self._server = HttpServer(self._webhook.asgi(_webhook_path(settings.telegram_webhook_url)),
                                  settings.telegram_webhook_listen, settings.telegram_webhook_port,
                                  name="telegram-webhook", lifespan="off")
        await self._server.start()
        self._tasks.append(asyncio.create_task(self._inbox.recover_forever(),
                                               name="inbox-recovery"))
        await set_menus(bot, core.registry, core.config.texts)
        await bot.set_webhook(settings.telegram_webhook_url,
                              secret_token=settings.telegram_webhook_secret,
                              allowed_updates=ALLOWED_UPDATES)

    async def stop(self) -> None:
        """Stop taking updates, finish those taken, then go."""
        if self._server is not None and self._webhook is not None and self._inbox is not None:
            self._webhook.closing = True
            self._server.close()
            await self._inbox.finish(timeout=10)
            await self._server.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.application.shutdown()
