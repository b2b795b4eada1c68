"""Prometheus metrics (GET /metrics): commands by name and outcome, reply latency, outbox sends and send
errors by platform, scheduled job runs and failures, and, read from the database at each scrape, the outbox
backlog and the inbox lag.

Counters live in one set for the process (``PROCESS_METRICS``); the figures read from the database come from a
collector bound to one App, so several Apps (tests) each show their own database.

Who may read it: anyone presenting METRICS_TOKEN (``Authorization: Bearer …``); without a token set, only
requests from this machine that did not come through a proxy (no X-Forwarded-For).

The counts are kept here in plain Python (a dict per counter, a list of buckets for the histogram) and turned
into Prometheus's text format when /metrics is read: prometheus_client (~1 MiB of RSS, 18 modules) is imported
at the first scrape, not by every start through the dispatcher (issue 15: a bot nobody scrapes never loads it).
The text is what prometheus_client's own Counter and Histogram wrote (``_total``, ``_created``, buckets)."""

from __future__ import annotations

import asyncio
import functools
import hmac
import ipaddress
import logging
import math
import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Engine, func, inspect, select
from sqlmodel import col

from bot.core.errors import UserError
from storage.models import OutboxMessage

if TYPE_CHECKING:
    from aiohttp import web  # loaded only when /metrics is served
    from prometheus_client.metrics_core import Metric  # loaded only when /metrics is served

    from bot.app import App

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_lock = threading.Lock()  # commands run in worker threads (several on PostgreSQL); sends and jobs too


class LabelledCounter:
    """A counter per combination of labels, as prometheus_client's Counter counts (and shows) them: each
    combination appears once it has been counted, with the time it first was (``_created``)."""

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str]) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self._values: dict[tuple[str, ...], list[float]] = {}  # labels -> [count, created]

    def inc(self, *labels: str) -> None:
        with _lock:
            value = self._values.get(labels)
            if value is None:
                self._values[labels] = [1.0, time.time()]
            else:
                value[0] += 1.0

    def value(self, *labels: str) -> float:
        with _lock:
            return self._values.get(labels, [0.0])[0]

    def family(self) -> Metric:
        from prometheus_client.core import CounterMetricFamily

        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        with _lock:
            values = [(labels, count, created) for labels, (count, created) in self._values.items()]
        for labels, count, created in values:
            family.add_metric(list(labels), count, created=created)
        return family


class LatencyHistogram:
    """prometheus_client's Histogram without labels: an observation counts in the first bucket whose bound
    is at least it (the text shows the buckets cumulated, then the count, the sum and ``_created``)."""

    def __init__(self, name: str, documentation: str, buckets: Sequence[float]) -> None:
        self.name = name
        self.documentation = documentation
        self.bounds = [float(bound) for bound in buckets] + [math.inf]
        self._counts = [0] * len(self.bounds)
        self._sum = 0.0
        self.created = time.time()

    def observe(self, amount: float) -> None:
        index = bisect_left(self.bounds, amount)
        with _lock:
            self._counts[min(index, len(self._counts) - 1)] += 1
            self._sum += amount

    def family(self) -> Metric:
        from prometheus_client.core import HistogramMetricFamily
        from prometheus_client.samples import Sample
        from prometheus_client.utils import floatToGoString

        with _lock:
            counts, total = list(self._counts), self._sum
        cumulated, buckets = 0, []
        for bound, count in zip(self.bounds, counts, strict=True):
            cumulated += count
            buckets.append((floatToGoString(bound), float(cumulated)))
        family = HistogramMetricFamily(self.name, self.documentation)
        family.add_metric([], buckets, total)
        family.samples.append(Sample(f"{self.name}_created", {}, self.created))
        return family


COMMANDS = LabelledCounter("tierslieu_commands", "Commands handled, by command and outcome (ok, refused, error)",
                           ["command", "outcome"])
REPLY_SECONDS = LatencyHistogram("tierslieu_reply_seconds", "Time to run a command and prepare its answer",
                                 buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
SENDS = LabelledCounter("tierslieu_outbox_sends", "Messages the outbox handed to a platform, by result (sent, error)",
                        ["platform", "result"])
JOB_RUNS = LabelledCounter("tierslieu_job_runs", "Scheduled job runs, by job and outcome (ok, failed)",
                           ["job", "outcome"])
PROCESS_METRICS = (COMMANDS, REPLY_SECONDS, SENDS, JOB_RUNS)  # one set for the process (several Apps in tests)

Run = TypeVar("Run", bound=Callable[..., Any])


def observe_command_runs(run: Run) -> Run:
    """Wraps Dispatcher._run(session, command, args, incoming): counts and times every command."""

    @functools.wraps(run)
    def observed(session: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        outcome = "error"
        try:
            result = run(session, command, *args, **kwargs)
            outcome = "ok"
            return result
        except UserError:
            outcome = "refused"
            raise
        finally:
            COMMANDS.inc(command.name, outcome)
            REPLY_SECONDS.observe(time.perf_counter() - started)

    return observed  # type: ignore[return-value]


def observe_jobs(app: App) -> None:
    """Count each scheduled job's runs and failures (the JobRunner logs the failure itself)."""
    for name, job in list(app.jobs.jobs.items()):
        app.jobs.jobs[name] = replace(job, func=_counted_job(name, job.func))


def _counted_job(name: str, job_func: Callable[[Any], None]) -> Callable[[Any], None]:
    @functools.wraps(job_func)
    def counted(ctx: Any) -> None:
        try:
            job_func(ctx)
        except BaseException:
            JOB_RUNS.inc(name, "failed")
            raise
        JOB_RUNS.inc(name, "ok")

    return counted


def observe_sends(app: App) -> None:
    """Count each adapter's outbox sends and send errors (the send raises DeliveryError on failure)."""
    for adapter in app.adapters:
        platform = adapter.platform.value
        send = adapter.send

        async def counted(chat_id: str, reply: Any, *, key: str | None = None, _send: Any = send,
                          _platform: str = platform) -> None:
            try:
                await _send(chat_id, reply, key=key)
            except BaseException:
                SENDS.inc(_platform, "error")
                raise
            SENDS.inc(_platform, "sent")

        adapter.send = counted  # type: ignore[method-assign]


class DatabaseCollector:
    """Outbox backlog and inbox lag, read from the database at each scrape."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        figures = outbox_figures(self.engine, self.clock())
        backlog = GaugeMetricFamily("tierslieu_outbox_backlog", "Messages waiting to be sent, by platform",
                                    labels=["platform"])
        oldest = GaugeMetricFamily("tierslieu_outbox_oldest_pending_seconds",
                                   "Age of the oldest message due and not sent yet, by platform", labels=["platform"])
        failed = GaugeMetricFamily("tierslieu_outbox_failed_messages",
                                   "Messages given up on (permanent failure or too many attempts), by platform",
                                   labels=["platform"])
        for platform, row in sorted(figures.items()):
            backlog.add_metric([platform], row["backlog"])
            oldest.add_metric([platform], row["oldest_pending_seconds"])
            failed.add_metric([platform], row["failed"])
        yield from (backlog, oldest, failed)
        inbox = inbox_figures(self.engine, self.clock())
        if inbox is not None:
            yield GaugeMetricFamily("tierslieu_inbox_pending", "Received messages whose command hasn't run yet",
                                    value=inbox["pending"])
            yield GaugeMetricFamily("tierslieu_inbox_lag_seconds",
                                    "Age of the oldest received message whose command hasn't run yet",
                                    value=inbox["oldest_pending_seconds"])


def _age(now: datetime, then: datetime | None) -> float:
    if then is None:
        return 0.0
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    return max(0.0, (now - then).total_seconds())


def outbox_figures(engine: Engine, now: datetime) -> dict[str, dict[str, float]]:
    """Per platform: backlog (pending or sending), the oldest of those messages' age (since it was
    queued: a message retried for hours is old), and the rows given up on."""
    status, platform = col(OutboxMessage.status), col(OutboxMessage.platform)
    figures: dict[str, dict[str, float]] = {}
    with engine.connect() as connection:
        rows = connection.execute(
            select(platform, status, func.count(), func.min(col(OutboxMessage.created_at)))
            .where(status.in_(("pending", "sending", "failed")))
            .group_by(platform, status)
        ).all()
    for name, state, count, oldest in rows:
        row = figures.setdefault(name, {"backlog": 0, "oldest_pending_seconds": 0.0, "failed": 0})
        if state == "failed":
            row["failed"] += count
        else:
            row["backlog"] += count
            row["oldest_pending_seconds"] = max(row["oldest_pending_seconds"], _age(now, oldest))
    return figures


def inbox_figures(engine: Engine, now: datetime) -> dict[str, float] | None:
    """Pending received messages and the oldest one's age; None before the inbox table exists."""
    if not inspect(engine).has_table("inboxmessage"):
        return None
    from storage.models_inbox import InboxMessage

    with engine.connect() as connection:
        count, oldest = connection.execute(
            select(func.count(), func.min(col(InboxMessage.received_at)))
            .where(col(InboxMessage.status) == "pending")
        ).one()
    if isinstance(oldest, datetime):
        oldest = oldest.replace(tzinfo=UTC) if oldest.tzinfo is None else oldest
    return {"pending": float(count), "oldest_pending_seconds": _age(now, oldest if count else None)}


class BackupCollector:
    """When the newest daily archive was written (alert on time() - this > 2 days)."""

    def __init__(self, app: App) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        from bot.backup import archive_time, newest_backup

        settings = self.app.settings
        directory = settings.backup_dir or settings.data_dir / "backups"
        newest = newest_backup(directory) if directory.is_dir() else None
        written = archive_time(newest) if newest is not None else None
        if written is not None:
            yield GaugeMetricFamily("tierslieu_backup_newest_timestamp_seconds",
                                    "When the newest backup archive in BACKUP_DIR was written (Unix time)",
                                    value=written.timestamp())


class ProcessCollector:
    """The process's counters and latency histogram (prometheus_client's collector protocol)."""

    def collect(self) -> Iterator[Metric]:
        for metric in PROCESS_METRICS:
            yield metric.family()


def counters_text() -> bytes:
    from prometheus_client import generate_latest

    return generate_latest(ProcessCollector())


def render(app: App) -> bytes:
    from prometheus_client import CollectorRegistry, generate_latest

    own = CollectorRegistry()
    own.register(DatabaseCollector(app.engine, app.clock))
    own.register(BackupCollector(app))
    return counters_text() + generate_latest(own)


def _is_local(request: web.Request) -> bool:
    if "X-Forwarded-For" in request.headers or "Forwarded" in request.headers:
        return False
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


def allowed(request: web.Request, token: str | None) -> bool:
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), token.encode())
    return _is_local(request)


def metrics_routes(app: App) -> Callable[[web.Application], None]:
    """A registrar for ``WebServer.add_routes``: GET /metrics."""
    from aiohttp import web

    async def metrics(request: web.Request) -> web.Response:
        if not allowed(request, app.settings.metrics_token):
            return web.Response(status=403, text="set METRICS_TOKEN and send it as a Bearer token\n")
        try:
            body = await asyncio.to_thread(render, app)
        except Exception as error:
            log.warning("metrics: the database could not be read (%s)", error)
            body = counters_text()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    def register(web_app: web.Application) -> None:
        web_app.router.add_get("/metrics", metrics)

    return register
