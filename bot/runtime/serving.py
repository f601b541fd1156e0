"""One platform's adapter served by this process: started, with the scheduled pushes, until
stopped. An adapter (DingTalk, Feishu) has the shape below: what the outbox sends through and
within which limits, a ``start`` that returns once it receives, a ``stop``, and the ``task``
that receives, which ends only on a fault (credentials refused, a port taken)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Protocol, TypeVar

from bot.config import Settings
from bot.runtime.app import App, build_app, require_current_schema
from bot.runtime.delivery import Limits, Sender
from bot.runtime.downloads import Downloads
from bot.runtime.pushes import Pushes

log = logging.getLogger(__name__)


class Adapter(Protocol):
    platform: str
    limits: Limits
    sender: Sender
    task: asyncio.Task[None] | None

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


A = TypeVar("A", bound=Adapter)


@contextlib.asynccontextmanager
async def running(bot_app: App, adapter: A, *, pushes: bool = True) -> AsyncIterator[A]:
    """``adapter`` started, with the retries of file downloads; with ``pushes``, the scheduled
    pushes run through its sender too. All stopped on the way out."""
    scheduled = Pushes(bot_app, adapter.sender, adapter.limits) if pushes else None
    downloads = Downloads(bot_app.files)  # files the platform did not give at once, again
    await adapter.start()
    try:
        if scheduled is not None:
            await scheduled.start()
        downloads.start()
        yield adapter
    finally:
        await downloads.stop()
        if scheduled is not None:
            await scheduled.stop()
        await adapter.stop()


def serve_until_stopped(settings: Settings, make: Callable[[App], Adapter]) -> None:
    """Serve until Ctrl-C (or SIGTERM's KeyboardInterrupt); raises what ends the adapter's task
    (its platform refused the credentials), and ``SchemaOutOfDate`` on a database that needs
    ``branchbot db upgrade``."""

    async def serve() -> None:
        bot_app = build_app(settings)
        try:
            await require_current_schema(bot_app.engine)
            async with running(bot_app, make(bot_app), pushes=settings.pushes_enabled) as adapter:
                assert adapter.task is not None
                await adapter.task
        finally:
            await bot_app.close()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        log.info("stopped")
