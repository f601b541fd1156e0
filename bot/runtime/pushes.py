"""Scheduled pushes in the bot process: APScheduler runs the planner every minute (for every
platform the process runs), and one deliverer per platform drains that platform's outbox rows
through its sender, within its limits. Nothing here knows a platform.

With several workers, one runs this at a time (``run`` under ``bot.runtime.leadership``): one
planner, one deliverer per platform within the platform's limits, one pruning. A platform whose
sender is held by one process (``delivery.is_held``: one live connection) is delivered where that
connection is instead (``bot.runtime.multi``), though planned here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.runtime.app import App
from bot.runtime.delivery import Deliverer, Limits, Sender, is_held
from handlers.schedule.planner import PlanConfig, PlanResult, plan
from handlers.schedule.times import parse_hhmm
from storage.repositories.events import HandledEventRepository
from storage.repositories.outbox import OutboxRepository
from storage.types import utcnow

log = logging.getLogger(__name__)
LOOK_BACK = timedelta(days=8)  # how far back a start-up looks for prompts it missed
HANDLED_EVENTS_KEPT = timedelta(days=7)
PLAN_RETRIES = (1.0, 2.0, 4.0, 8.0, 16.0)  # seconds before each new try of a failed planner run


Outlet = tuple[Sender, Limits]  # a platform's way out and its limits


def plan_config(app: App, platforms: Sequence[str]) -> PlanConfig:
    settings, core = app.settings, app.core.config
    return PlanConfig(platforms=tuple(platforms), tz=settings.tz, grace=timedelta(hours=settings.grace_hours),
                      quiet_start=core.quiet_start, quiet_end=core.quiet_end,
                      nudge_at=parse_hhmm(settings.nudge_time),
                      yearly_target_minutes=settings.study_target_hours * 60, texts=core.texts)


class Pushes:
    def __init__(self, app: App, *outlets: Outlet) -> None:
        if not outlets:
            raise ValueError("pushes need at least one platform to send through")
        self.app = app
        self.config = plan_config(app, [sender.platform for sender, _ in outlets])
        self.deliverers = [Deliverer(app.core.sessions, sender, limits=limits)
                           for sender, limits in outlets]
        self.scheduler = AsyncIOScheduler(timezone=app.settings.tz)
        self._tasks: list[asyncio.Task[None]] = []

    def wake(self) -> None:
        for deliverer in self.deliverers:
            deliverer.wake()

    async def tick(self, look_back: timedelta | None = None) -> PlanResult:
        async with self.app.core.sessions() as session, session.begin():
            result = await plan(session, utcnow(), self.config, look_back=look_back)
        if result.added:
            log.info("planned %d new message(s)", result.added)
            self.wake()
        return result

    async def tick_until_done(self, look_back: timedelta | None = None) -> PlanResult | None:
        """``tick``, tried again with backoff within its minute when it fails (the database
        dropped the connection): None if every try failed, and the next minute tries anew."""
        for pause in (*PLAN_RETRIES, None):
            try:
                return await self.tick(look_back)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - logged, then tried again
                if pause is None:
                    log.exception("planning failed; the next minute tries again")
                    return None
                log.warning("planning failed (%r); trying again in %.0f s", error, pause)
                await asyncio.sleep(pause)
        return None

    async def housekeeping(self) -> None:
        """Forget handled update ids after a week (a redelivery comes within minutes), and sent or
        failed pushes after the retention (``BRANCHBOT_OUTBOX_RETENTION_DAYS``)."""
        now = utcnow()
        async with self.app.core.sessions() as session, session.begin():
            events = await HandledEventRepository(session).forget_before(now - HANDLED_EVENTS_KEPT)
            pushes = await OutboxRepository(session).prune(
                now - timedelta(days=self.app.settings.outbox_retention_days))
        log.info("pruned %d handled event(s) and %d old push(es)", events, pushes)

    async def start(self) -> None:
        self.app.core.on_enqueue = self.wake
        await self.tick_until_done(look_back=LOOK_BACK)
        self.scheduler.add_job(self.tick_until_done, CronTrigger(second=0), id="plan",
                               coalesce=True, max_instances=1, misfire_grace_time=50)
        self.scheduler.add_job(self.housekeeping, CronTrigger(hour=3, minute=17), id="housekeeping",
                               coalesce=True, max_instances=1)
        self.scheduler.start()
        self._tasks = [asyncio.create_task(d.run(), name=f"deliverer-{d.sender.platform}")
                       for d in self.deliverers if not is_held(d.sender)]

    async def run(self) -> None:
        """Plan, deliver and prune until cancelled (the leader's work)."""
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    async def stop(self) -> None:
        self.app.core.on_enqueue = None
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._tasks = []
