"""Serving the WeCom callback URL: the ASGI app and the adapter the runner starts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Iterator

import uvicorn
from starlette.applications import Starlette

from bot.adapters.wecom import PLATFORM
from bot.adapters.wecom.api import WeComApi
from bot.adapters.wecom.bot import WeComBot
from bot.adapters.wecom.callback import callback_app
from bot.adapters.wecom.crypto import MsgCrypt
from bot.adapters.wecom.sender import WECOM_LIMITS, WeComSender
from bot.config import Settings
from bot.runtime.app import App

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


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the runner stops every platform together."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WeComAdapter:
    """The callback server as one platform of ``bot.runtime.multi`` (its pushes are the
    runner's)."""

    platform = PLATFORM
    limits = WECOM_LIMITS

    def __init__(self, bot_app: App) -> None:
        settings = bot_app.settings
        self._asgi, self.bot = build_asgi(bot_app, wecom_api(settings))
        self.sender = WeComSender(self.bot)
        self._server = _Server(uvicorn.Config(self._asgi, host=settings.wecom_host,
                                              port=settings.wecom_port, log_level="warning",
                                              lifespan="on"))
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        return int(self._server.servers[0].sockets[0].getsockname()[1])

    async def start(self) -> None:
        config = self._server.config
        # Bound here, not by uvicorn: a port in use is an OSError to report, not its sys.exit.
        listening = socket.create_server((config.host, config.port))
        self._task = asyncio.create_task(self._server.serve(sockets=[listening]),
                                         name="wecom-callback")
        while not self._server.started:
            if self._task.done():
                await self._task  # its error, or:
                raise RuntimeError("the WeCom callback server did not start")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._task is not None:
            self._server.should_exit = True
            await self._task
