"""The AI bot as a platform of ``bot.runtime.multi``: one live connection per bot, held by the
process holding its lease (``bot.runtime.standby``); another process stands by and takes over
when the lease lapses, instead of displacing the live one (WeCom keeps one connection per bot,
and two that reconnect on displacement kick each other for ever)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from bot.adapters.wecom_bot import PLATFORM, render
from bot.adapters.wecom_bot.bot import Unsent, WeComAiBot
from bot.adapters.wecom_bot.connection import AiBotConnection, AiBotError, State
from bot.adapters.wecom_bot.events import Displaced
from bot.adapters.wecom_bot.wire import ErrCode
from bot.config import Settings
from bot.runtime.app import App
from bot.runtime.delivery import Limits, PermanentFailure, TemporaryFailure
from bot.runtime.standby import Lease
from handlers.core.events import Reply

log = logging.getLogger(__name__)
REQUIRED = ("wecom_bot_id", "wecom_bot_secret")
# No limit is published for the long connection (PROTOCOL.md, "Rate limits"): the WeCom app's
# per-member limits (30 a minute, 1,000 an hour) for every chat, and the group robot's 20 a
# minute for a group.
AIBOT_LIMITS = Limits(per_second=20, per_chat_second=1, per_group_minute=20, margin=1.0,
                      per_chat_minute=30, per_chat_hour=1000)
LEASE_TTL = timedelta(seconds=30)


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
                 lease: Lease | None = None) -> None:
        settings = app.settings
        self.connection = connection or connection_from(settings)
        self.lease = lease or Lease(app.core.sessions, f"{PLATFORM}:{settings.wecom_bot_id}",
                                    ttl=LEASE_TTL)
        self.bot = WeComAiBot(app.core, self.connection)
        self.sender = AiBotSender(self.bot)
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False
        self._yield_until = 0.0  # after a displacement: leave the bot to the other a while

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._hold(), name="wecom-bot-lease"),
                       asyncio.create_task(self._read(), name="wecom-bot-events")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.bot.work.drain()
        await self.connection.close()
        if self._started:
            await self.lease.release()

    async def _hold(self) -> None:
        """Take (and keep renewing) the lease; connect once it is ours."""
        loop = asyncio.get_running_loop()
        while True:
            if loop.time() >= self._yield_until and await self.lease.acquire():
                if not self._started:
                    self._started = True
                    self.connection.start()
                    log.info("holding the AI bot's connection")
                elif self.connection.state is State.STANDBY:
                    self.connection.resume()
            await asyncio.sleep(self.lease.renew_every)

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            event = await self.connection.next_event()
            if isinstance(event, Displaced):
                log.warning("another connection took the AI bot: standing by")
                self._yield_until = loop.time() + self.lease.ttl.total_seconds()
                await self.lease.release()
                continue
            self.bot.accept(event)
