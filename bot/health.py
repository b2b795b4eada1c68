"""GET /healthz: is each part of the bot working? 200 when all are, 503 (with the same details) when one
is not, so a supervisor or an uptime monitor can tell "the bot is down" from "Telegram is down".

Components: the database (a real query, with a time limit), each chat platform, the scheduler (running;
leader or standby), the outbox (backlog, age of the oldest message not sent yet), the inbox (received
messages whose command hasn't run) and the HTTP server's saturation when the web server reports it."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.metrics import inbox_figures, metrics_routes, observe_jobs, observe_sends, outbox_figures

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

DATABASE_TIMEOUT_S = 5.0
# A message not sent after this long means a platform (or the outbox) is stuck.
OUTBOX_MAX_AGE_S = 15 * 60
# A received message whose command hasn't run after this long means the inbox is stuck.
INBOX_MAX_LAG_S = 5 * 60


def component(ok: bool, detail: str, **figures: Any) -> dict[str, Any]:
    return {"ok": ok, "detail": detail, **figures}


def check_database(app: App) -> dict[str, Any]:
    url = make_url(app.settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        # A fresh read-only connection: the pool's open connections would still see a deleted file,
        # and an ordinary connect would create an empty one.
        try:
            reader = sqlite3.connect(f"file:{url.database}?mode=ro", uri=True, timeout=DATABASE_TIMEOUT_S)
            try:
                reader.execute("SELECT count(*) FROM alembic_version").fetchone()
            finally:
                reader.close()
        except sqlite3.Error as error:
            return component(False, f"cannot read {url.database}: {error}")
        return component(True, "sqlite")
    try:
        with app.engine.connect() as connection:
            connection.execute(text("SELECT 1 FROM alembic_version LIMIT 1"))
    except Exception as error:
        return component(False, f"{type(error).__name__}: {(str(error).splitlines() or [''])[0][:200]}")
    return component(True, url.get_backend_name())


def check_stored(app: App, now: datetime) -> dict[str, dict[str, Any]]:
    """Outbox and inbox figures, read from the database."""
    checks: dict[str, dict[str, Any]] = {}
    figures = outbox_figures(app.engine, now)
    backlog = int(sum(f["backlog"] for f in figures.values()))
    # Only platforms this process delivers to: rows left for a platform no longer configured wait forever.
    oldest = max((f["oldest_pending_seconds"] for name, f in figures.items() if name in app.outbox.adapters),
                 default=0.0)
    failed = int(sum(f["failed"] for f in figures.values()))
    checks["outbox"] = component(
        oldest <= OUTBOX_MAX_AGE_S,
        "ok" if oldest <= OUTBOX_MAX_AGE_S else f"a message has waited {int(oldest // 60)} min to be sent",
        backlog=backlog, oldest_pending_seconds=round(oldest, 1), failed=failed,
        by_platform={name: {"backlog": int(f["backlog"]),
                            "oldest_pending_seconds": round(f["oldest_pending_seconds"], 1)}
                     for name, f in sorted(figures.items())})
    inbox = inbox_figures(app.engine, now)
    if inbox is not None:
        lag = inbox["oldest_pending_seconds"]
        checks["inbox"] = component(lag <= INBOX_MAX_LAG_S,
                                    "ok" if lag <= INBOX_MAX_LAG_S else f"a message has waited {int(lag // 60)} min",
                                    pending=int(inbox["pending"]), lag_seconds=round(lag, 1))
    return checks


def check_platforms(app: App, outbox: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    checks: dict[str, dict[str, Any]] = {}
    waiting = (outbox or {}).get("by_platform", {})
    for adapter in app.adapters:
        name = adapter.platform.value
        own = getattr(adapter, "health", None)
        if callable(own):
            ok, detail = own()
        elif name not in app.outbox.adapters:
            ok, detail = False, "not started"
        elif getattr(adapter, "_running", True) is False:
            ok, detail = False, "stopped"
        else:
            ok, detail = True, "running"
        stuck = waiting.get(name, {}).get("oldest_pending_seconds", 0.0)
        if ok and stuck > OUTBOX_MAX_AGE_S:
            ok, detail = False, f"messages to {name} have waited {int(stuck // 60)} min"
        checks[f"platform:{name}"] = component(bool(ok), str(detail))
    return checks


def check_scheduler(app: App) -> dict[str, Any]:
    scheduler = app.jobs.scheduler
    if scheduler is None or not scheduler.running:
        return component(False, "not running: reminders, digests and backups are not sent")
    leader = app.jobs.leadership.held
    return component(True, "leader: runs the jobs" if leader else "standby: another process runs the jobs",
                     leader=leader)


def health_report(app: App) -> dict[str, Any]:
    """Every component's state; blocking (run it in a thread)."""
    components: dict[str, dict[str, Any]] = {"database": check_database(app)}
    stored: dict[str, dict[str, Any]] = {}
    if components["database"]["ok"]:
        try:
            stored = check_stored(app, app.clock())
        except Exception as error:
            components["database"] = component(False, f"{type(error).__name__}: {str(error)[:200]}")
    components.update(stored)
    components.update(check_platforms(app, stored.get("outbox")))
    components["scheduler"] = check_scheduler(app)
    saturation = getattr(app.web, "saturation", None)
    if callable(saturation):
        try:
            state = saturation()
            figures = {k: v for k, v in state.items() if k not in {"ok", "detail"}} if isinstance(state, dict) \
                else {"value": state}
            ok = bool(state.get("ok", True)) if isinstance(state, dict) else True
            components["http"] = component(ok, "ok" if ok else "saturated", **figures)
        except Exception as error:
            components["http"] = component(False, f"{type(error).__name__}: {error}")
    return {"ok": all(c["ok"] for c in components.values()), "components": components}


def health_routes(app: App) -> Callable[[web.Application], None]:
    """A registrar for ``WebServer.add_routes``: GET /healthz (replaces the web server's bare one)."""

    async def healthz(_request: web.Request) -> web.Response:
        try:
            report = await asyncio.wait_for(asyncio.to_thread(health_report, app), DATABASE_TIMEOUT_S * 2)
        except TimeoutError:
            report = {"ok": False, "components": {"database": component(False, "no answer in time")}}
        return web.json_response(report, status=200 if report["ok"] else 503)

    def register(web_app: web.Application) -> None:
        web_app.router.add_get("/healthz", healthz)

    return register


def install_monitoring(app: App) -> None:
    """/healthz and /metrics on the app's web server, and the counters' hooks on jobs and sends
    (the dispatcher counts commands itself through bot.metrics.observe_command_runs)."""
    app.web.add_routes(health_routes(app))
    app.web.add_routes(metrics_routes(app))
    observe_jobs(app)
    observe_sends(app)
