"""`branchbot run` for any platforms: one app (settings, database, core, file store), each
adapter started over it, the files' background downloads, until SIGINT or SIGTERM.

The scheduled pushes (the planner, a deliverer per platform, pruning) run on one process at a
time, the leader of ``PUSHES_LOCK``; the others stand by and take over within seconds of its
death. A platform whose sender only the holder of its one connection can use is delivered by
that process, whichever leads the pushes."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal

from bot.config import Settings
from bot.runtime.app import App, build_app, require_current_schema
from bot.runtime.delivery import Deliverer, is_held
from bot.runtime.downloads import Downloads
from bot.runtime.leadership import Leadership
from bot.runtime.platforms import Adapter, platform
from bot.runtime.pushes import Pushes

log = logging.getLogger(__name__)
PUSHES_LOCK = "pushes"  # the planner, the deliverers and the pruning: on one process


def pushes_tasks(app: App, adapters: list[Adapter]) -> list[asyncio.Task[None]]:
    """The pushes under their leader, and the deliverers of held senders, as running tasks."""
    outlets = [(adapter.sender, adapter.limits) for adapter in adapters]
    leader = Leadership(app.settings.database_url, PUSHES_LOCK)
    app.pushes_role = lambda: leader.role
    tasks = [asyncio.create_task(leader.run(lambda: Pushes(app, *outlets).run()), name="pushes")]
    tasks += [asyncio.create_task(Deliverer(app.core.sessions, sender, limits=limits).run(),
                                  name=f"deliverer-{sender.platform}")
              for sender, limits in outlets if is_held(sender)]
    return tasks


async def until_stopped(stop: asyncio.Event, adapters: list[Adapter]) -> None:
    """Until ``stop`` is set, or an adapter's ``task`` ends: its error (the platform refused the
    credentials, say) is raised."""
    waiting = asyncio.ensure_future(stop.wait())
    receiving = [task for adapter in adapters
                 if (task := getattr(adapter, "task", None)) is not None]
    try:
        done, _ = await asyncio.wait([waiting, *receiving], return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiting.cancel()
    for task in done:
        if task is not waiting:
            task.result()  # raises what ended it
            log.error("%s ended; stopping", task.get_name())


async def serve(app: App, adapters: list[Adapter], stop: asyncio.Event) -> None:
    """Run ``adapters`` (and the pushes, if enabled) until ``stop`` is set."""
    started: list[Adapter] = []
    background: list[asyncio.Task[None]] = []
    downloads = Downloads(app.files)  # files a platform did not give at once, fetched again
    try:
        for adapter in adapters:
            await adapter.start()
            started.append(adapter)
            log.info("%s is running", adapter.platform)
        downloads.start()
        if app.settings.pushes_enabled:
            background = pushes_tasks(app, adapters)
        await until_stopped(stop, started)
    finally:
        await downloads.stop()
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        for adapter in reversed(started):
            try:
                await adapter.stop()
            except Exception:  # the others still stop
                log.exception("stopping %s failed", adapter.platform)
        await app.close()


def _freeze_startup() -> None:
    """What start-up built (the modules, the app, the adapters) lives as long as the process: it
    is moved out of the cyclic collector's way, so that each collection walks only what came after
    (measured: about 5% of the bot's CPU per update in bench/dialogs.py's stream)."""
    gc.collect()
    gc.freeze()


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
            adapters = [platform(name).build(app) for name in settings.platform_names]
            _freeze_startup()
            await serve(app, adapters, stop)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(ValueError, RuntimeError):
                    loop.remove_signal_handler(sig)

    asyncio.run(main())
