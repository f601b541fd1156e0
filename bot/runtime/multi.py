"""`branchbot run` for any platforms: one app (settings, database, core), each adapter started
over it, one planner and a deliverer per platform, until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from bot.config import Settings
from bot.runtime.app import App, build_app, require_current_schema
from bot.runtime.platforms import Adapter, platform
from bot.runtime.pushes import Pushes

log = logging.getLogger(__name__)


async def serve(app: App, adapters: list[Adapter], stop: asyncio.Event) -> None:
    """Run ``adapters`` (and the pushes, if enabled) until ``stop`` is set."""
    started: list[Adapter] = []
    pushes = Pushes(app, *((a.sender, a.limits) for a in adapters)) \
        if app.settings.pushes_enabled else None
    try:
        for adapter in adapters:
            await adapter.start()
            started.append(adapter)
            log.info("%s is running", adapter.platform)
        if pushes is not None:
            await pushes.start()
        await stop.wait()
    finally:
        if pushes is not None:
            await pushes.stop()
        for adapter in reversed(started):
            try:
                await adapter.stop()
            except Exception:  # the others still stop
                log.exception("stopping %s failed", adapter.platform)
        await app.close()


def run_platforms(settings: Settings) -> None:
    """Serve every platform of ``settings.platform_names``. Refuses to start (SchemaOutOfDate)
    on a database that needs ``branchbot db upgrade``."""
    async def main() -> None:
        app = build_app(settings)
        try:
            await require_current_schema(app.engine)
        except BaseException:
            await app.close()
            raise
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await serve(app, [platform(name).build(app) for name in settings.platform_names], stop)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(ValueError, RuntimeError):
                    loop.remove_signal_handler(sig)

    asyncio.run(main())
