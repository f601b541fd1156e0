"""Serving the WeCom callback URL until stopped, with the scheduled pushes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette

from bot.adapters.wecom.api import WeComApi
from bot.adapters.wecom.bot import WeComBot
from bot.adapters.wecom.callback import callback_app
from bot.adapters.wecom.crypto import MsgCrypt
from bot.adapters.wecom.files import WeComFiles
from bot.adapters.wecom.sender import WECOM_LIMITS, WeComSender
from bot.config import Settings
from bot.runtime.app import App, build_app, require_current_schema
from bot.runtime.downloads import Downloads
from bot.runtime.pushes import Pushes

log = logging.getLogger(__name__)


REQUIRED = ("wecom_corp_id", "wecom_agent_id", "wecom_secret", "wecom_token", "wecom_aes_key")


def missing_settings(settings: Settings) -> list[str]:
    return ["BRANCHBOT_" + name.upper() for name in REQUIRED if getattr(settings, name) in (None, "")]


def wecom_api(settings: Settings) -> WeComApi:
    assert settings.wecom_corp_id and settings.wecom_secret and settings.wecom_agent_id is not None
    return WeComApi(settings.wecom_api_base_url, settings.wecom_corp_id, settings.wecom_secret,
                    settings.wecom_agent_id)


def build_asgi(bot_app: App, api: WeComApi, *, pushes: bool = True) -> tuple[Starlette, WeComBot]:
    """The callback server; with ``pushes``, it runs the scheduled pushes while it runs."""
    settings = bot_app.settings
    assert settings.wecom_token and settings.wecom_aes_key and settings.wecom_corp_id
    bot = WeComBot(bot_app.core, api)
    bot_app.files.register(WeComFiles(api))
    downloads = Downloads(bot_app.files)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        scheduled = Pushes(bot_app, WeComSender(bot), WECOM_LIMITS) if pushes else None
        if scheduled is not None:
            await scheduled.start()
        downloads.start()
        try:
            yield
        finally:
            await downloads.stop()
            if scheduled is not None:
                await scheduled.stop()
            await bot.drain()
            await api.close()
            await bot_app.close()

    crypt = MsgCrypt(settings.wecom_token, settings.wecom_aes_key, settings.wecom_corp_id)
    return callback_app(crypt, settings.wecom_agent_id, settings.wecom_path, bot.accept,
                        lifespan=lifespan), bot


def run_wecom(settings: Settings) -> None:
    """Serve the callback URL until stopped. Refuses to start (SchemaOutOfDate) on a database
    that needs ``branchbot db upgrade``."""
    bot_app = build_app(settings)

    async def serve() -> None:
        try:
            await require_current_schema(bot_app.engine)
        except BaseException:
            await bot_app.close()
            raise
        asgi, _ = build_asgi(bot_app, wecom_api(settings), pushes=settings.pushes_enabled)
        config = uvicorn.Config(asgi, host=settings.wecom_host, port=settings.wecom_port,
                                log_level="warning", lifespan="on")
        await uvicorn.Server(config).serve()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:  # uvicorn shut down cleanly, then passed Ctrl-C on
        log.info("stopped")
