"""Feishu as a platform of ``bot.runtime.multi``: the long connection (default) or the HTTP
callback, and the bot."""

from __future__ import annotations

import asyncio
import contextlib

from bot.adapters.feishu import PLATFORM
from bot.adapters.feishu.api import FeishuApi
from bot.adapters.feishu.bot import FeishuBot
from bot.adapters.feishu.dispatch import Dispatcher
from bot.adapters.feishu.files import FeishuFiles
from bot.adapters.feishu.http_callback import callback_app
from bot.adapters.feishu.sender import FEISHU_LIMITS, FeishuSender
from bot.adapters.feishu.settings import FeishuConfigError, FeishuSettings, load_feishu_settings
from bot.adapters.feishu.ws import LongConnection
from bot.config import Settings, SettingsError
from bot.runtime.app import App
from bot.runtime.http_server import HttpServer


def feishu_settings(settings: Settings) -> FeishuSettings:
    """The adapter's settings from ``BRANCHBOT_FEISHU_*``; ``SettingsError`` names the first
    missing or bad one."""
    values = {name: getattr(settings, f"feishu_{name}") for name in FeishuSettings.model_fields}
    try:
        return load_feishu_settings(_env_file=None, **{k: v for k, v in values.items() if v is not None})
    except FeishuConfigError as error:
        name, _, reason = str(error).partition(": ")
        raise SettingsError(name, reason) from None


def missing_settings(settings: Settings) -> list[str]:
    """The keys Feishu cannot do without that are not set (http mode needs token and key)."""
    needed = ["app_id", "app_secret"]
    if settings.feishu_event_mode == "http":
        needed += ["verification_token", "encrypt_key"]
    return [f"BRANCHBOT_FEISHU_{name.upper()}" for name in needed
            if getattr(settings, f"feishu_{name}") in (None, "")]


class FeishuAdapter:
    """Feishu in a running process, in the shape every adapter has for the runner: its outbox
    ``sender`` and ``limits``; ``start`` opens the long connection or starts listening for
    callbacks (returning once it listens), ``stop`` ends either after the events under way.
    ``task`` (the long connection's) ends only on a fault (credentials refused)."""

    platform = PLATFORM
    limits = FEISHU_LIMITS

    def __init__(self, bot_app: App, config: FeishuSettings | None = None) -> None:
        self.config = config = config or feishu_settings(bot_app.settings)
        self.api = FeishuApi(config.base_url, config.app_id, config.app_secret)
        self.bot = FeishuBot(bot_app.core, self.api)
        self.sender = FeishuSender(self.bot)
        bot_app.files.register(FeishuFiles(self.api))
        self.dispatcher = Dispatcher(self.bot.on_message, self.bot.on_card_action)
        self.connection: LongConnection | None = None
        self.server: HttpServer | None = None
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
        self.server = HttpServer(callback_app(config.path, config.verification_token,
                                              config.encrypt_key, self.dispatcher),
                                 config.host, config.port, name="feishu-http")
        await self.server.start()
        self.callback_url = f"http://{config.host}:{self.server.port}{config.path}"

    async def stop(self) -> None:
        if self.connection is not None:
            await self.connection.stop()
        if self.server is not None:
            await self.server.stop()
        if self.task is not None:
            with contextlib.suppress(Exception):
                await self.task
        await self.bot.drain()
        await self.api.close()

