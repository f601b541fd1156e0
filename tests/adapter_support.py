"""An adapter of the runner's (bot.runtime.platforms) started for a test, without the runner's
pushes: stopped on the way out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

from bot.runtime.platforms import Adapter

A = TypeVar("A", bound=Adapter)


@asynccontextmanager
async def started(adapter: A) -> AsyncIterator[A]:
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.stop()
