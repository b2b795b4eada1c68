"""Scheduled jobs of every feature, on one APScheduler, in the place's time zone.

Jobs keep their state in the database (reminders, digests sent), so nothing depends on APScheduler's
memory: a job that came due while the bot was down simply finds its rows on the next run. Weekly
jobs use cron triggers (an interval drifts by an hour at a clock change), and whatever they send
carries a dedup key, so a double fire on the night the clocks go back sends nothing twice.

A weekly (cron) job records the fire time it ran for in the same transaction as its effect. A run that
never committed (the process killed in its firing second, the bot down at that hour) is caught up: at
start, then every few minutes, by whichever process runs the jobs, if its fire time is less than
``CATCH_UP_WINDOW`` ago. A fire time already recorded is never run again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.core.context import JobCtx
from bot.core.leadership import Leadership
from bot.core.outbox import enqueue
from bot.core.router import Job
from storage.db import session_scope
from storage.models import AdapterState, utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")

# A weekly job's run missed less than this long ago is run late (the weekly digest is about the current
# week; a backup checks its own age); older ones are left for the next fire time.
CATCH_UP_WINDOW = timedelta(hours=12)
# How often the process running the jobs looks for a missed run (and once at start).
CATCH_UP_EVERY_S = 300
# A fire time this recent is left to the cron run itself (it may still be under way).
CATCH_UP_GRACE = timedelta(seconds=60)
CATCH_UP_JOB = "catch-up"


def fired_key(name: str) -> str:
    """The adapter-state key holding the last fire time a weekly job ran for (UTC, ISO format)."""
    return f"job-fired:{name}"


def last_fire_time(trigger: CronTrigger, now: datetime, window: timedelta) -> datetime | None:
    """The latest time ``trigger`` fired at in (now - window, now], in UTC; None if it didn't."""
    fire = trigger.get_next_fire_time(None, now - window)
    last = None
    while fire is not None and fire <= now:
        last = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return last.astimezone(UTC) if last is not None else None


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

    def run_now(self, name: str, fired_at: datetime | None = None) -> int:
        """Run one job in this thread, in one transaction; returns how many messages it queued.
        ``fired_at``: the weekly fire time this run is for: recorded with the job's effect, and a run for a
        fire time already recorded does nothing (the cron run and a catch-up never both run)."""
        job = self.jobs[name]
        fired_at = fired_at.astimezone(UTC) if fired_at is not None else None
        if fired_at is not None:
            # A short look first; checked again below with the record, in the job's own transaction (the job
            # begins that transaction at its first query: the digest draws its charts before, from a read
            # of its own).
            with session_scope(self.engine, read_only=True) as looking:
                if _ran_for(looking, name, fired_at):
                    return 0
        try:
            with session_scope(self.engine) as session:
                ctx = JobCtx(session=session, settings=self.settings, now=self.clock())
                job.func(ctx)
                queued = enqueue(session, ctx.notices, ctx.now).count
                if fired_at is not None:
                    if _ran_for(session, name, fired_at):
                        raise _AlreadyRan
                    _record_fire(session, name, fired_at)
        except _AlreadyRan:
            return 0  # another run for this fire time committed meanwhile: this one kept nothing
        if queued and self.on_notices is not None:
            self.on_notices()
        return queued

    def missed_runs(self) -> list[tuple[str, datetime]]:
        """The weekly jobs whose latest fire time (within ``CATCH_UP_WINDOW``) has no recorded run. A job
        never recorded (a new database, or one from before this record) is recorded as done, not run: a
        first start at 10:00 on a Monday sends no digest for 08:00."""
        now = self.clock()
        missed: list[tuple[str, datetime]] = []
        with session_scope(self.engine) as session:
            for job in self.jobs.values():
                if job.weekly_setting is None:
                    continue
                trigger = self.trigger_for(job)
                assert isinstance(trigger, CronTrigger)
                fire = last_fire_time(trigger, now, CATCH_UP_WINDOW)
                if fire is None or fire > now - CATCH_UP_GRACE:
                    continue
                if session.get(AdapterState, fired_key(job.name)) is None:
                    _record_fire(session, job.name, fire)
                elif not _ran_for(session, job.name, fire):
                    missed.append((job.name, fire))
        return missed

    def fire_time(self, name: str) -> datetime | None:
        """The fire time a weekly job's cron run is for (it may start late, within the misfire grace)."""
        job = self.jobs[name]
        if job.weekly_setting is None:
            return None
        trigger = self.trigger_for(job)
        assert isinstance(trigger, CronTrigger)
        return last_fire_time(trigger, self.clock(), CATCH_UP_WINDOW)

    async def catch_up(self) -> None:
        """Run the weekly jobs whose run was missed (``missed_runs``), one after the other."""
        for name, fire in await self._as_leader("looking for missed weekly jobs", self.missed_runs) or []:
            log.warning("weekly job %s did not run at %s; running it now", name, fire.isoformat())
            await self._run(name, fire)

    async def _run(self, name: str, fired_at: datetime | None = None) -> None:
        if fired_at is None and self.jobs[name].weekly_setting is not None:
            fired_at = self.fire_time(name)
        await self._as_leader(f"scheduled job {name}", self.run_now, name, fired_at)

    async def _as_leader(self, what: str, func: Callable[..., T], *args: object) -> T | None:
        """``func(*args)`` in a thread, if this process runs the jobs; a stop waits for it (see ``stop``).
        None when it didn't run, failed (logged) or was interrupted by the stop."""
        if self._stopping or not await asyncio.to_thread(self.leadership.acquire):
            return None
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            return await asyncio.to_thread(func, *args)
        except asyncio.CancelledError:
            # Stopping: the job's transaction finishes or rolls back in its thread; the next run
            # finds whatever is left (jobs keep their state in the database). Not an error.
            log.info("%s interrupted by the stop", what)
        except Exception:
            log.exception("%s failed", what)
        finally:
            if task is not None:
                self._running.discard(task)
        return None

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
        if any(job.weekly_setting is not None for job in self.jobs.values()):
            self.scheduler.add_job(
                self.catch_up, IntervalTrigger(seconds=CATCH_UP_EVERY_S, timezone=self.settings.tz),
                id=CATCH_UP_JOB, coalesce=True, max_instances=1, next_run_time=datetime.now(self.settings.tz),
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


class _AlreadyRan(Exception):
    """Rolls a job's run back: its fire time was recorded by another run meanwhile."""


def _ran_for(session: Session, name: str, fired_at: datetime) -> bool:
    done = session.get(AdapterState, fired_key(name))
    return done is not None and done.value >= fired_at.isoformat()


def _record_fire(session: Session, name: str, fired_at: datetime) -> None:
    row = session.get(AdapterState, fired_key(name))
    if row is None:
        session.add(AdapterState(key=fired_key(name), value=fired_at.isoformat()))
    else:
        row.value = fired_at.isoformat()
        row.updated_at = utcnow()
    session.flush()
