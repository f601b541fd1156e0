"""Serving Telegram until stopped: long polling, or a webhook."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Coroutine, Iterator
from typing import Any
from urllib.parse import urlsplit

import uvicorn

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
from bot.runtime.app import App, build_app, check_schema
from bot.runtime.downloads import Downloads
from bot.runtime.inbox import Inbox
from bot.runtime.leadership import Leadership
from bot.runtime.pushes import Pushes
from handlers.core.events import Incoming, Outcome
from handlers.core.features import Registry
from handlers.core.i18n import Translator
from handlers.core.policy import Where

log = logging.getLogger(__name__)
MENU_DESCRIPTION = 256  # characters Telegram takes for a command's description
ALLOWED_UPDATES = ["message", "callback_query"]
POLLER_LOCK = "telegram-poller"  # one long poll per bot: Telegram answers a second with 409
PUSHES_LOCK = "pushes"  # the planner, the deliverer and the pruning: on one process


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


def run_telegram(settings: Settings) -> None:
    """Serve until stopped: long polling, or a webhook when BRANCHBOT_TELEGRAM_WEBHOOK_URL is set.

    Refuses to start (SchemaOutOfDate) on a database that needs ``branchbot db upgrade``, and
    (WebhookWithoutSecret) a webhook without BRANCHBOT_TELEGRAM_WEBHOOK_SECRET: every worker
    must register and check the same secret, so none can make one up for itself.
    """
    if settings.telegram_webhook_url and not settings.telegram_webhook_secret:
        raise WebhookWithoutSecret("BRANCHBOT_TELEGRAM_WEBHOOK_SECRET")
    asyncio.run(check_schema(settings.database_url))
    if settings.telegram_webhook_url:
        asyncio.run(until_stopped(serve_webhook(settings)))
    else:
        asyncio.run(until_stopped(serve_polling(settings)))


async def until_stopped(serving: Coroutine[Any, Any, None]) -> None:
    """Run ``serving`` until SIGTERM or SIGINT, which cancel it (it cleans up as it unwinds)."""
    task = asyncio.ensure_future(serving)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        log.info("stopped")


async def serve_polling(settings: Settings) -> None:
    """Long polling, by one process at a time: another `run` stands by (it logs so) and takes
    over within seconds of the poller's death (``bot.runtime.leadership``)."""
    bot_app = build_app(settings)
    poller = Leadership(settings.database_url, POLLER_LOCK)

    async def poll() -> None:
        application = build_application(bot_app, pushes=settings.pushes_enabled,
                                         close_app=False)
        await application.initialize()
        try:
            if application.post_init is not None:
                await application.post_init(application)
            assert application.updater is not None
            await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
            await application.start()
            await asyncio.Event().wait()  # until cancelled
        finally:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            if application.post_stop is not None:
                await application.post_stop(application)
            await application.shutdown()

    try:
        await poller.run(poll)
    finally:
        await bot_app.close()


def _webhook_path(url: str) -> str:
    return "/" + urlsplit(url).path.lstrip("/")


async def serve_webhook(settings: Settings) -> None:
    """The webhook (``bot.adapters.telegram.webhook``): every update stored before it is
    answered, handled through the inbox; the scheduled pushes on whichever worker leads."""
    assert settings.telegram_webhook_url and settings.telegram_webhook_secret
    bot_app = build_app(settings)
    application = build_application(bot_app, pushes=False, close_app=False)
    await application.initialize()
    bot = application.bot

    async def answer(payload: dict[str, Any], event: Incoming, outcome: Outcome) -> None:
        await reply(application, Update.de_json(payload, bot), event, outcome)

    inbox = Inbox(bot_app.core, bot_app.engine, PLATFORM,
                  lambda payload: to_incoming(Update.de_json(payload, bot)), answer)
    leader = Leadership(settings.database_url, PUSHES_LOCK)
    background: list[asyncio.Task[None]] = [
        asyncio.create_task(inbox.recover_forever(), name="inbox-recovery"),
        asyncio.create_task(bot_app.files.retry_forever(), name="file-downloads")]
    if settings.pushes_enabled:
        background.append(asyncio.create_task(
            leader.run(lambda: Pushes(bot_app, TelegramSender(bot)).run()), name="pushes"))
    webhook = Webhook(inbox, bot, settings.telegram_webhook_secret, bot_app.ping,
                      role=lambda: leader.role if settings.pushes_enabled else "answers only")
    server = _Server(uvicorn.Config(
        webhook.asgi(_webhook_path(settings.telegram_webhook_url)),
        host=settings.telegram_webhook_listen, port=settings.telegram_webhook_port,
        log_level="warning", lifespan="off"))
    try:
        await set_menus(bot, bot_app.core.registry, bot_app.core.config.texts)
        await bot.set_webhook(settings.telegram_webhook_url,
                              secret_token=settings.telegram_webhook_secret,
                              allowed_updates=ALLOWED_UPDATES)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):  # stop taking updates, finish, then go
            loop.add_signal_handler(signum, lambda: setattr(server, "should_exit", True))
        await server.serve()
    finally:
        webhook.closing = True
        server.should_exit = True
        await inbox.finish(timeout=10)
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await application.shutdown()
        await bot_app.close()


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: the worker's (above) decide what a signal does."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


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


def build_application(bot_app: App, *, pushes: bool = True, close_app: bool = True) -> Application:
    """A PTB Application that feeds every update through ``bot_app.core``; with ``pushes``, it also
    runs the scheduled pushes (planner and deliverer) while it runs; with ``close_app``, its
    shutdown closes ``bot_app`` too."""
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

    scheduled: list[Pushes] = []
    downloads = Downloads(bot_app.files)

    async def post_init(application: Application) -> None:
        await set_menus(application.bot, bot_app.core.registry, bot_app.core.config.texts)
        downloads.start()
        if pushes:
            scheduled.append(Pushes(bot_app, TelegramSender(application.bot)))
            await scheduled[0].start()

    async def post_stop(application: Application) -> None:
        await downloads.stop()
        for running in scheduled:
            await running.stop()

    async def post_shutdown(application: Application) -> None:
        if close_app:
            await bot_app.close()

    application = (
        application_builder(settings.telegram_token, settings.telegram_base_url,
                            settings.telegram_base_file_url)
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
        .build()
    )
    bot_app.files.register(TelegramFiles(application.bot))
    application.add_handler(TypeHandler(Update, on_update))
    application.add_error_handler(on_error)
    return application
