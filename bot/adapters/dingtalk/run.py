"""DingTalk as a platform of ``bot.runtime.multi``: the Stream connection and the bot."""

from __future__ import annotations

import asyncio
import contextlib

from pydantic import ValidationError

from bot.adapters.dingtalk import PLATFORM
from bot.adapters.dingtalk.api import DingTalkApi
from bot.adapters.dingtalk.bot import DingTalkBot
from bot.adapters.dingtalk.config import DingTalkConfig
from bot.adapters.dingtalk.files import DingTalkFiles
from bot.adapters.dingtalk.sender import DINGTALK_LIMITS, DingTalkSender
from bot.adapters.dingtalk.stream import StreamClient
from bot.config import Settings, first_error
from bot.runtime.app import App


def dingtalk_config(settings: Settings) -> DingTalkConfig:
    """The adapter's settings from ``BRANCHBOT_DINGTALK_*``; ``SettingsError`` names the first
    missing or bad one."""
    values = {name: getattr(settings, f"dingtalk_{name}") for name in DingTalkConfig.model_fields}
    try:
        return DingTalkConfig(_env_file=None, **{k: v for k, v in values.items() if v is not None})  # type: ignore[call-arg]
    except ValidationError as error:
        raise first_error(error, "BRANCHBOT_DINGTALK_") from None


def missing_settings(settings: Settings) -> list[str]:
    """The keys DingTalk cannot do without that are not set."""
    return [f"BRANCHBOT_DINGTALK_{name.upper()}" for name in ("client_id", "client_secret", "robot_code")
            if getattr(settings, f"dingtalk_{name}") in (None, "")]


class DingTalkAdapter:
    """DingTalk in a running process, in the shape every adapter has for the runner: its outbox
    ``sender`` and ``limits``; ``start`` connects the stream (returning at once), ``stop`` closes
    it after the events under way. ``task`` ends only when DingTalk refuses the credentials."""

    platform = PLATFORM
    limits = DINGTALK_LIMITS

    def __init__(self, bot_app: App, config: DingTalkConfig | None = None) -> None:
        config = config or dingtalk_config(bot_app.settings)
        self.api = DingTalkApi(config)
        self.bot = DingTalkBot(bot_app.core, self.api, config)
        self.stream = StreamClient(config, self.bot.handle)
        self.sender = DingTalkSender(self.bot)
        bot_app.files.register(DingTalkFiles(self.api))
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self.stream.run(), name="dingtalk-stream")

    async def stop(self) -> None:
        await self.stream.stop()
        if self.task is not None:
            with contextlib.suppress(Exception):
                await self.task
        await self.api.close()

