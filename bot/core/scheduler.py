"""Scheduled jobs of every feature, on one APScheduler, in the place's time zone.

Jobs keep their state in the database (reminders, digests sent), so nothing depends on APScheduler's
memory: a job that came due while the bot was down simply finds its rows on the next run. Weekly
jobs use cron triggers (an interval drifts by an hour at a clock change), and whatever they send
carries a dedup key, so a double fire on the night the clocks go back sends nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from bot.config import Settings
from bot.core.context import JobCtx
from bot.core.leadership import Leadership
from bot.core.outbox import enqueue
from bot.core.router import Job
from storage.db import session_scope

log = logging.getLogger(__name__)


class JobRunner:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        jobs: Iterable[Job],
        clock: Callable[[], datetime],
        on_notices: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.jobs = {job.name: job for job in jobs}
        self.clock = clock
        self.on_notices = on_notices
        self.leadership = Leadership(engine)
        self.scheduler: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[object]] = set()
        self._stopping = False

    def run_now(self, name: str) -> int:
        """Run one job in this thread, in one transaction; returns how many messages it queued."""
        job = self.jobs[name]
        with session_scope(self.engine) as session:
            ctx = JobCtx(session=session, settings=self.settings, now=self.clock())
            job.func(ctx)
            queued = enqueue(session, ctx.notices, ctx.now).count
        if queued and self.on_notices is not None:
            self.on_notices()
        return queued

    async def _run(self, name: str) -> None:
        if self._stopping or not await asyncio.to_thread(self.leadership.acquire):
            return
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            await asyncio.to_thread(self.run_now, name)
        except asyncio.CancelledError:
            # Stopping: the job's transaction finishes or rolls back in its thread; the next run
            # finds whatever is left (jobs keep their state in the database). Not an error.
            log.info("scheduled job %s interrupted by the stop", name)
        except Exception:
            log.exception("scheduled job %s failed", name)
        finally:
            if task is not None:
                self._running.discard(task)

    def trigger_for(self, job: Job) -> IntervalTrigger | CronTrigger:
        if job.every_seconds is not None:
            return IntervalTrigger(seconds=job.every_seconds, timezone=self.settings.tz)
        assert job.weekly_setting is not None
        day, hour, minute = getattr(self.settings, job.weekly_setting)
        return CronTrigger(day_of_week=day, hour=hour, minute=minute, timezone=self.settings.tz)

    def start(self) -> None:
        self._stopping = False
        self.scheduler = AsyncIOScheduler(timezone=self.settings.tz)
        for job in self.jobs.values():
            # Interval jobs also run at start: what came due while the bot was down goes out now.
            first = {"next_run_time": datetime.now(self.settings.tz)} if job.every_seconds else {}
            self.scheduler.add_job(
                self._run, self.trigger_for(job), args=[job.name], id=job.name, coalesce=True,
                max_instances=1, misfire_grace_time=3600, **first,
            )
        self.scheduler.start()

    async def stop(self, timeout: float = 2.0) -> None:
        """No new run; runs under way get ``timeout`` seconds to finish, then are interrupted quietly."""
        self._stopping = True
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        running = list(self._running)
        if running:
            _, late = await asyncio.wait(running, timeout=timeout)
            for task in late:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        await asyncio.to_thread(self.leadership.release)
