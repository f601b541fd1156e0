"""Serving the WeCom callback URL: the ASGI app and the adapter the runner starts."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette

from bot.adapters.wecom import PLATFORM
from bot.adapters.wecom.api import WeComApi
from bot.adapters.wecom.bot import WeComBot
from bot.adapters.wecom.callback import callback_app
from bot.adapters.wecom.crypto import MsgCrypt
from bot.adapters.wecom.files import WeComFiles
from bot.adapters.wecom.sender import WECOM_LIMITS, WeComSender
from bot.config import Settings
from bot.runtime.app import App
from bot.runtime.http_server import HttpServer

log = logging.getLogger(__name__)


REQUIRED = ("wecom_corp_id", "wecom_agent_id", "wecom_secret", "wecom_token", "wecom_aes_key")


def wecom_api(settings: Settings) -> WeComApi:
    assert settings.wecom_corp_id and settings.wecom_secret and settings.wecom_agent_id is not None
    return WeComApi(settings.wecom_api_base_url, settings.wecom_corp_id, settings.wecom_secret,
                    settings.wecom_agent_id)


def build_asgi(bot_app: App, api: WeComApi) -> tuple[Starlette, WeComBot]:
    """The callback server; at its shutdown it finishes the callbacks in hand and closes
    ``api`` (the app is its owner's to close)."""
    settings = bot_app.settings
    assert settings.wecom_token and settings.wecom_aes_key and settings.wecom_corp_id
    bot = WeComBot(bot_app.core, api)
    bot_app.files.register(WeComFiles(api))

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await bot.drain()
            await api.close()

    crypt = MsgCrypt(settings.wecom_token, settings.wecom_aes_key, settings.wecom_corp_id)
    return callback_app(crypt, settings.wecom_agent_id, settings.wecom_path, bot.accept,
                        lifespan=lifespan), bot


class WeComAdapter:
    """The callback server as one platform of ``bot.runtime.multi`` (its pushes are the
    runner's)."""

    platform = PLATFORM
    limits = WECOM_LIMITS

    def __init__(self, bot_app: App) -> None:
        settings = bot_app.settings
        self._asgi, self.bot = build_asgi(bot_app, wecom_api(settings))
        self.sender = WeComSender(self.bot)
        self.server = HttpServer(self._asgi, settings.wecom_host, settings.wecom_port,
                                 name="wecom-callback")

    @property
    def port(self) -> int:
        return self.server.port

    async def start(self) -> None:
        await self.server.start()

    async def stop(self) -> None:
        await self.server.stop()
