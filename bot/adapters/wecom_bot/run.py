"""The AI bot as a platform of ``bot.runtime.multi``: one live connection per bot, held by the
process holding its lock (``bot.runtime.leadership``); another process stands by and takes over
when the holder dies, instead of displacing the live one (WeCom keeps one connection per bot,
and two that reconnect on displacement kick each other for ever)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.adapters.wecom_bot import PLATFORM, render
from bot.adapters.wecom_bot.bot import Unsent, WeComAiBot
from bot.adapters.wecom_bot.connection import AiBotConnection, AiBotError, State
from bot.adapters.wecom_bot.events import Displaced
from bot.adapters.wecom_bot.wire import ErrCode
from bot.config import Settings
from bot.runtime.app import App
from bot.runtime.delivery import Limits, PermanentFailure, TemporaryFailure
from bot.runtime.leadership import Leadership
from handlers.core.events import Reply

log = logging.getLogger(__name__)
REQUIRED = ("wecom_bot_id", "wecom_bot_secret")
# No limit is published for the long connection (PROTOCOL.md, "Rate limits"): the WeCom app's
# per-member limits (30 a minute, 1,000 an hour) for every chat, and the group robot's 20 a
# minute for a group.
AIBOT_LIMITS = Limits(per_second=20, per_chat_second=1, per_group_minute=20, margin=1.0,
                      per_chat_minute=30, per_chat_hour=1000)
DISPLACED_PAUSE = 30.0  # seconds a displaced holder leaves the bot to the other connection


def connection_from(settings: Settings) -> AiBotConnection:
    assert settings.wecom_bot_id and settings.wecom_bot_secret
    return AiBotConnection(settings.wecom_bot_id, settings.wecom_bot_secret,
                           settings.wecom_bot_ws_url, bot_name=settings.wecom_bot_name)


class AiBotSender:
    """The outbox's way out: passing failures (connection down, frequency limit) from final ones
    (a chat WeCom refuses, a message it cannot take)."""

    platform = PLATFORM

    def __init__(self, bot: WeComAiBot) -> None:
        self.bot = bot

    @property
    def ready(self) -> bool:
        """Only the process holding the live connection delivers; one standing by leaves the
        outbox to it."""
        return self.bot.connection.state is State.LIVE

    async def send(self, chat_id: str, reply: Reply) -> None:
        try:
            for part in render.parts(self.bot.t, reply):
                await self.bot.send(chat_id, part)
        except AiBotError as error:
            if error.errcode in (ErrCode.FREQ_OUT_OF_LIMIT, ErrCode.NOT_SUBSCRIBED):
                raise TemporaryFailure(str(error), retry_after=60) from error
            raise PermanentFailure(str(error)) from error
        except Unsent as error:
            raise TemporaryFailure(str(error) or type(error).__name__) from error


class WeComAiBotAdapter:
    platform = PLATFORM
    limits = AIBOT_LIMITS

    def __init__(self, app: App, *, connection: AiBotConnection | None = None,
                 leadership: Leadership | None = None,
                 displaced_pause: float = DISPLACED_PAUSE) -> None:
        settings = app.settings
        self.connection = connection or connection_from(settings)
        self.leadership = leadership or Leadership(settings.database_url,
                                                   f"{PLATFORM}:{settings.wecom_bot_id}")
        self.displaced_pause = displaced_pause
        self.bot = WeComAiBot(app.core, self.connection)
        self.sender = AiBotSender(self.bot)
        self._tasks: list[asyncio.Task[None]] = []
        self._displaced = asyncio.Event()

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self.leadership.run(self._hold), name="wecom-bot-lock"),
                       asyncio.create_task(self._read(), name="wecom-bot-events")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.bot.work.drain()
        await self.connection.close()

    async def _hold(self) -> None:
        """While this process holds the bot's lock: connect (or subscribe again after a
        displacement). Displaced anyway (by a process that does not take the lock), stand by a
        while rather than fight, then take the bot back."""
        self._displaced.clear()
        self.connection.start()
        self.connection.resume()
        log.info("holding the AI bot's connection")
        while True:
            await self._displaced.wait()
            self._displaced.clear()
            await asyncio.sleep(self.displaced_pause)
            self.connection.resume()

    async def _read(self) -> None:
        while True:
            event = await self.connection.next_event()
            if isinstance(event, Displaced):
                log.warning("another connection took the AI bot: standing by")
                self._displaced.set()
                continue
            self.bot.accept(event)
