"""Serving Feishu until stopped: the long connection (default) or the HTTP callback, the bot,
the scheduled pushes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from bot.adapters.feishu.api import FeishuApi
from bot.adapters.feishu.bot import FeishuBot
from bot.adapters.feishu.dispatch import Dispatcher
from bot.adapters.feishu.http_callback import callback_app, callback_server
from bot.adapters.feishu.sender import FEISHU_LIMITS, FeishuSender
from bot.adapters.feishu.settings import FeishuConfigError, FeishuSettings, load_feishu_settings
from bot.adapters.feishu.ws import LongConnection
from bot.config import Settings, SettingsError
from bot.runtime.app import App, build_app, require_current_schema
from bot.runtime.pushes import Pushes

log = logging.getLogger(__name__)


def feishu_settings(settings: Settings) -> FeishuSettings:
    """The adapter's settings from ``BRANCHBOT_FEISHU_*``; ``SettingsError`` names the first
    missing or bad one."""
    values = {name: getattr(settings, f"feishu_{name}") for name in FeishuSettings.model_fields}
    try:
        return load_feishu_settings(_env_file=None, **{k: v for k, v in values.items() if v is not None})
    except FeishuConfigError as error:
        raise SettingsError(str(error)) from None


@dataclass
class Running:
    bot: FeishuBot
    task: asyncio.Task[None]  # the long connection or the callback server; ends only on a fault
    callback_url: str | None = None  # http mode: where Feishu posts (port 0 picks a free one)


@contextlib.asynccontextmanager
async def running(bot_app: App, config: FeishuSettings, *, pushes: bool = True,
                  ) -> AsyncIterator[Running]:
    api = FeishuApi(config.base_url, config.app_id, config.app_secret)
    bot = FeishuBot(bot_app.core, api)
    dispatcher = Dispatcher(bot.on_message, bot.on_card_action)
    scheduled = Pushes(bot_app, FeishuSender(bot), FEISHU_LIMITS) if pushes else None
    connection: LongConnection | None = None
    server = None
    url = None
    if config.event_mode == "ws":
        connection = LongConnection(config.base_url, config.app_id, config.app_secret, dispatcher)
        task = asyncio.create_task(connection.run(), name="feishu-ws")
    else:
        assert config.verification_token and config.encrypt_key  # the settings insist
        server = callback_server(callback_app(config.path, config.verification_token,
                                              config.encrypt_key, dispatcher),
                                 config.host, config.port)
        task = asyncio.create_task(server.serve(), name="feishu-http")
        while not server.started:
            if task.done():
                await task  # could not listen: its error
                raise OSError(f"cannot listen on {config.host}:{config.port}")
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://{config.host}:{port}{config.path}"
    try:
        if scheduled is not None:
            await scheduled.start()
        yield Running(bot, task, url)
    finally:
        if scheduled is not None:
            await scheduled.stop()
        if connection is not None:
            await connection.stop()
        if server is not None:
            server.should_exit = True
        with contextlib.suppress(Exception):
            await task
        await bot.drain()
        await api.close()


def run_feishu(settings: Settings) -> None:
    """Serve until stopped. Raises ``SettingsError`` for a missing or bad key,
    ``FeishuConnectError`` when Feishu refuses the app's credentials, ``SchemaOutOfDate`` on a
    database that needs ``branchbot db upgrade``."""
    config = feishu_settings(settings)

    async def serve() -> None:
        bot_app = build_app(settings)
        try:
            await require_current_schema(bot_app.engine)
            async with running(bot_app, config, pushes=settings.pushes_enabled) as served:
                await served.task
        finally:
            await bot_app.close()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        log.info("stopped")
