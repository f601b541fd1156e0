"""Serving DingTalk until stopped: the Stream connection, the bot, the scheduled pushes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from pydantic import ValidationError

from bot.adapters.dingtalk.api import DingTalkApi
from bot.adapters.dingtalk.bot import DingTalkBot
from bot.adapters.dingtalk.config import DingTalkConfig
from bot.adapters.dingtalk.sender import DINGTALK_LIMITS, DingTalkSender
from bot.adapters.dingtalk.stream import StreamClient
from bot.config import Settings, SettingsError, first_error
from bot.runtime.app import App, build_app, require_current_schema
from bot.runtime.pushes import Pushes

log = logging.getLogger(__name__)


def dingtalk_config(settings: Settings) -> DingTalkConfig:
    """The adapter's settings from ``BRANCHBOT_DINGTALK_*``; ``SettingsError`` names the first
    missing or bad one."""
    values = {name: getattr(settings, f"dingtalk_{name}") for name in DingTalkConfig.model_fields}
    try:
        return DingTalkConfig(_env_file=None, **{k: v for k, v in values.items() if v is not None})  # type: ignore[call-arg]
    except ValidationError as error:
        raise first_error(error, "BRANCHBOT_DINGTALK_") from None


@contextlib.asynccontextmanager
async def running(bot_app: App, config: DingTalkConfig, *, pushes: bool = True,
                  ) -> AsyncIterator[tuple[DingTalkBot, StreamClient, asyncio.Task[None]]]:
    """The stream connected in a task, its events answered by the bot; with ``pushes``, the
    scheduled pushes run too. Everything is closed on the way out."""
    api = DingTalkApi(config)
    bot = DingTalkBot(bot_app.core, api, config)
    stream = StreamClient(config, bot.handle)
    scheduled = Pushes(bot_app, DingTalkSender(bot), DINGTALK_LIMITS) if pushes else None
    task = asyncio.create_task(stream.run(), name="dingtalk-stream")
    try:
        if scheduled is not None:
            await scheduled.start()
        yield bot, stream, task
    finally:
        if scheduled is not None:
            await scheduled.stop()
        await stream.stop()
        with contextlib.suppress(Exception):
            await task
        await api.close()


def run_dingtalk(settings: Settings) -> None:
    """Serve until stopped. Raises ``SettingsError`` for a missing or bad key,
    ``CredentialsRefused`` when DingTalk refuses the client id or secret, ``SchemaOutOfDate`` on
    a database that needs ``branchbot db upgrade``."""
    config = dingtalk_config(settings)

    async def serve() -> None:
        bot_app = build_app(settings)
        try:
            await require_current_schema(bot_app.engine)
            async with running(bot_app, config, pushes=settings.pushes_enabled) as (_, _, task):
                await task  # ends only when DingTalk refuses the credentials
        finally:
            await bot_app.close()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        log.info("stopped")
