"""/healthz and /metrics over HTTP from the running app: 503 while the database is gone and 200 again when it
is back (SQLite and PostgreSQL); the metrics parse with prometheus_client's own parser and count what happened."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.adapters.base import DeliveryError
from bot.app import App
from bot.core.types import Platform, Reply
from bot.health import install_monitoring
from tests.harness import DEFAULT_NOW, Chat, Clock, make_settings


class UnreachablePlatform:
    """A chat platform that is down: every send fails and is retried later."""

    platform = Platform.CONSOLE

    async def start(self, on_incoming: Any) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send(self, chat_id: str, reply: Reply, *, key: str | None = None) -> None:
        raise DeliveryError("connection refused")


async def served_app(database_url: str, *, down: bool = False, **overrides: str) -> tuple[Chat, str]:
    clock = Clock(DEFAULT_NOW)
    settings = make_settings(database_url, HTTP_HOST="127.0.0.1", HTTP_PORT="0", **overrides)
    app = App(settings, adapters=[UnreachablePlatform()] if down else [], clock=clock)
    app.prepare()
    install_monitoring(app)
    await app.start()
    return Chat(app, clock), f"http://127.0.0.1:{app.web.port}"


@pytest.fixture
async def served(database_url: str) -> AsyncIterator[tuple[Chat, str]]:
    chat, base = await served_app(database_url)
    try:
        yield chat, base
    finally:
        await chat.app.stop()


async def get(url: str, **kwargs: Any) -> tuple[int, str, Any]:
    async with aiohttp.ClientSession() as http, http.get(url, **kwargs) as response:
        body = await response.text()
        payload = await response.json() if response.content_type == "application/json" else None
        return response.status, body, payload


async def test_healthz_reports_every_component_and_200_when_all_is_well(served: tuple[Chat, str]) -> None:
    _chat, base = served
    status, _, report = await get(f"{base}/healthz")
    assert status == 200 and report["ok"] is True
    components = report["components"]
    assert set(components) >= {"database", "outbox", "inbox", "scheduler"}
    assert components["scheduler"]["leader"] is True
    assert components["outbox"]["backlog"] == 0


async def test_healthz_is_503_while_the_sqlite_file_is_gone_and_200_when_back(sqlite_url: str, tmp_path: Path) -> None:
    chat, base = await served_app(sqlite_url)
    path = Path(make_url(sqlite_url).database or "")
    try:
        assert (await get(f"{base}/healthz"))[0] == 200
        shutil.move(path, tmp_path / "elsewhere.db")
        status, _, report = await get(f"{base}/healthz")
        assert status == 503 and report["ok"] is False
        database = report["components"]["database"]
        assert database["ok"] is False and "cannot read" in database["detail"]
        assert not path.exists()  # the check didn't create an empty database in its place
        shutil.move(tmp_path / "elsewhere.db", path)
        assert (await get(f"{base}/healthz"))[0] == 200
    finally:
        await chat.app.stop()


@pytest.mark.postgres
async def test_healthz_is_503_while_the_postgres_database_is_gone_and_200_when_back(postgres_url: str) -> None:
    chat, base = await served_app(postgres_url)
    url = make_url(postgres_url)
    name = url.database
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def rename(old: str | None, new: str | None) -> None:
        chat.app.engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{old}'"))
            connection.execute(text(f'ALTER DATABASE "{old}" RENAME TO "{new}"'))

    try:
        assert (await get(f"{base}/healthz"))[0] == 200
        chat.app.jobs.leadership.release()
        rename(name, f"{name}_away")
        status, _, report = await get(f"{base}/healthz")
        assert status == 503 and report["components"]["database"]["ok"] is False
        rename(f"{name}_away", name)
        status, _, report = await get(f"{base}/healthz")
        assert status == 200, report
    finally:
        await chat.app.stop()
        admin.dispose()


async def test_healthz_is_503_when_a_platform_cannot_deliver_for_too_long(sqlite_url: str) -> None:
    chat, base = await served_app(sqlite_url, down=True)
    try:
        _, before, _ = await get(f"{base}/metrics")
        chat.say("alice", "/book salle-reunion demain 14h-16h")
        chat.say("coord", "/cancel 1")  # alice is told privately: one outbox message
        await chat.app.outbox.flush()
        status, _, report = await get(f"{base}/healthz")
        assert status == 200 and report["components"]["outbox"]["backlog"] == 1
        chat.clock.advance(minutes=20)
        await chat.app.outbox.flush()
        status, _, report = await get(f"{base}/healthz")
        assert status == 503 and report["components"]["outbox"]["ok"] is False
        assert report["components"]["outbox"]["oldest_pending_seconds"] >= 20 * 60
        assert report["components"]["platform:console"] == {
            "ok": False, "detail": "messages to console have waited 20 min"}
        _, after, _ = await get(f"{base}/metrics")
        errors = ("tierslieu_outbox_sends_total", (("platform", "console"), ("result", "error")))
        assert samples(after)[errors] - samples(before).get(errors, 0.0) == 2
    finally:
        await chat.app.stop()


def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body) for s in family.samples}


async def test_metrics_parse_and_count_commands_outcomes_jobs_and_the_backlog(served: tuple[Chat, str],
                                                                             tmp_path: Path) -> None:
    chat, base = served
    _, before, _ = await get(f"{base}/metrics")
    chat.say("alice", "/book salle-reunion demain 14h-16h")
    chat.say("alice", "/book salle-reunion hier")  # refused
    chat.say("coord", "/cancel 1")  # alice is told: a message in the outbox
    # A job the scheduler doesn't also run at start (daily, at BACKUP_TIME); with BACKUP_KEEP=0 it writes nothing.
    chat.app.jobs.settings = dataclasses.replace(chat.app.jobs.settings, backup_keep=0)
    chat.app.jobs.run_now("daily-backup")
    status, body, _ = await get(f"{base}/metrics")
    assert status == 200
    now, then = samples(body), samples(before)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return now.get(key, 0.0) - then.get(key, 0.0)

    assert grew("tierslieu_commands_total", command="book", outcome="ok") == 1
    assert grew("tierslieu_commands_total", command="book", outcome="refused") == 1
    assert grew("tierslieu_reply_seconds_count") == 3
    assert grew("tierslieu_job_runs_total", job="daily-backup", outcome="ok") == 1
    assert now[("tierslieu_outbox_backlog", (("platform", Platform.CONSOLE.value),))] >= 1
    assert ("tierslieu_inbox_lag_seconds", ()) in now
    chat.app.jobs.settings = dataclasses.replace(chat.app.jobs.settings, backup_keep=1,
                                                 backup_dir=tmp_path / "backups")
    chat.app.settings = chat.app.jobs.settings
    chat.app.jobs.run_now("daily-backup")
    _, body, _ = await get(f"{base}/metrics")
    assert samples(body)[("tierslieu_backup_newest_timestamp_seconds", ())] == chat.clock.now.timestamp()


async def test_metrics_need_the_token_when_one_is_set_and_refuse_proxied_requests(sqlite_url: str) -> None:
    chat, base = await served_app(sqlite_url, METRICS_TOKEN="s3cret")
    try:
        assert (await get(f"{base}/metrics"))[0] == 403
        assert (await get(f"{base}/metrics", headers={"Authorization": "Bearer wrong"}))[0] == 403
        assert (await get(f"{base}/metrics", headers={"Authorization": "Bearer s3cret"}))[0] == 200
    finally:
        await chat.app.stop()
    chat, base = await served_app(sqlite_url)
    try:
        assert (await get(f"{base}/metrics"))[0] == 200  # from this machine, no token needed
        assert (await get(f"{base}/metrics", headers={"X-Forwarded-For": "203.0.113.9"}))[0] == 403
    finally:
        await chat.app.stop()
