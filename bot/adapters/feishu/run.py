"""Serving Feishu until stopped: the long connection (default) or the HTTP callback, the bot,
the scheduled pushes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import uvicorn

from bot.adapters.feishu import PLATFORM
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


class FeishuAdapter:
    """Feishu in a running process, in the shape every adapter has for the runner: its outbox
    ``sender`` and ``limits``; ``start`` opens the long connection or starts listening for
    callbacks (returning once it listens), ``stop`` ends either after the events under way.
    ``task`` ends only on a fault (credentials refused, the port taken)."""

    platform = PLATFORM
    limits = FEISHU_LIMITS

    def __init__(self, bot_app: App, config: FeishuSettings) -> None:
        self.config = config
        self.api = FeishuApi(config.base_url, config.app_id, config.app_secret)
        self.bot = FeishuBot(bot_app.core, self.api)
        self.sender = FeishuSender(self.bot)
        self.dispatcher = Dispatcher(self.bot.on_message, self.bot.on_card_action)
        self.connection: LongConnection | None = None
        self.server: uvicorn.Server | None = None
        self.task: asyncio.Task[None] | None = None
        self.callback_url: str | None = None  # http mode: where Feishu posts (port 0: a free one)

    async def start(self) -> None:
        config = self.config
        if config.event_mode == "ws":
            self.connection = LongConnection(config.base_url, config.app_id, config.app_secret,
                                             self.dispatcher)
            self.task = asyncio.create_task(self.connection.run(), name="feishu-ws")
            return
        assert config.verification_token and config.encrypt_key  # the settings insist
        self.server = callback_server(callback_app(config.path, config.verification_token,
                                                   config.encrypt_key, self.dispatcher),
                                      config.host, config.port)
        self.task = asyncio.create_task(self.server.serve(), name="feishu-http")
        while not self.server.started:
            if self.task.done():
                await self.task  # could not listen: its error
                raise OSError(f"cannot listen on {config.host}:{config.port}")
            await asyncio.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.callback_url = f"http://{config.host}:{port}{config.path}"

    async def stop(self) -> None:
        if self.connection is not None:
            await self.connection.stop()
        if self.server is not None:
            self.server.should_exit = True
        if self.task is not None:
            with contextlib.suppress(Exception):
                await self.task
        await self.bot.drain()
        await self.api.close()


@contextlib.asynccontextmanager
async def running(bot_app: App, config: FeishuSettings, *, pushes: bool = True,
                  ) -> AsyncIterator[FeishuAdapter]:
    """The adapter started; with ``pushes``, the scheduled pushes run too. Stopped on the way out."""
    adapter = FeishuAdapter(bot_app, config)
    scheduled = Pushes(bot_app, adapter.sender, adapter.limits) if pushes else None
    await adapter.start()
    try:
        if scheduled is not None:
            await scheduled.start()
        yield adapter
    finally:
        if scheduled is not None:
            await scheduled.stop()
        await adapter.stop()


def run_feishu(settings: Settings) -> None:
    """Serve until stopped. Raises ``SettingsError`` for a missing or bad key,
    ``FeishuConnectError`` when Feishu refuses the app's credentials, ``SchemaOutOfDate`` on a
    database that needs ``branchbot db upgrade``."""
    config = feishu_settings(settings)

    async def serve() -> None:
        bot_app = build_app(settings)
        try:
            await require_current_schema(bot_app.engine)
            async with running(bot_app, config, pushes=settings.pushes_enabled) as adapter:
                assert adapter.task is not None
                await adapter.task
        finally:
            await bot_app.close()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        log.info("stopped")
