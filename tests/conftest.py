"""Fixtures: a real database per test (SQLite file, and PostgreSQL when TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.harness import Chat, make_chat
from tests.integration.telegram_standin import BotApiStandIn

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "").strip()
NO_POSTGRES = "TEST_POSTGRES_URL is not set; PostgreSQL tests need a server (see README, Tests)"


def _psycopg_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tierslieu.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    base = make_url(_psycopg_url(POSTGRES_URL))
    name = f"tl_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each storage test runs on both backends."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def chat(database_url: str) -> Iterator[Chat]:
    harness = make_chat(database_url)
    yield harness
    harness.app.engine.dispose()


@pytest.fixture
def sqlite_chat(sqlite_url: str) -> Iterator[Chat]:
    harness = make_chat(sqlite_url)
    yield harness
    harness.app.engine.dispose()


@pytest.fixture
async def standin() -> AsyncIterator[BotApiStandIn]:
    """The Bot API stand-in (tests/integration/telegram_standin.py) on a free local port."""
    server = BotApiStandIn()
    await server.start()
    yield server
    await server.stop()
