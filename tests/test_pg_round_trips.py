"""PostgreSQL: what one /book costs in round trips, and what the pool does when the server dropped a
connection (issue 15: no ping per checkout, the same healing as pool_pre_ping)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.harness import Chat, make_chat
from tests.round_trips import RoundTripCounter

pytestmark = pytest.mark.postgres


@pytest.fixture
def counted(postgres_url: str) -> Iterator[tuple[Chat, RoundTripCounter]]:
    with RoundTripCounter(postgres_url) as counter:
        chat = make_chat(counter.url, COMMANDS_PER_MINUTE="10000")
        yield chat, counter
        chat.app.engine.dispose()


def _others(admin_url: str, database: str) -> list[int]:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            return list(connection.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"),
                {"name": database}).scalars())
    finally:
        admin.dispose()


def test_a_command_answers_after_the_server_ended_the_pooled_connections(postgres_url: str) -> None:
    chat = make_chat(postgres_url)
    try:
        assert chat.text("alice", "/book salle-reunion demain 14h-15h").startswith("Réservé")
        name = make_url(postgres_url).database or ""
        admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:  # what a restart, an idle-session timeout or an operator does
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
        admin.dispose()
        deadline = time.monotonic() + 10  # the server ends the terminated sessions a moment later
        while _others(postgres_url, name) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _others(postgres_url, name)
        assert chat.text("alice", "/book salle-reunion demain 16h-17h").startswith("Réservé")
        assert "16:00" in chat.text("alice", "/mybookings")
    finally:
        chat.app.engine.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(counted: tuple[Chat, RoundTripCounter]) -> None:
    chat, counter = counted
    chat.say("alice", "/mybookings")
    before = counter.trips
    chat.say("alice", "/mybookings")  # BEGIN, the asker, the list, COMMIT: no SELECT 1 first
    assert counter.trips - before <= 4


def test_a_connection_idle_for_long_is_pinged(counted: tuple[Chat, RoundTripCounter],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    chat, counter = counted
    chat.say("alice", "/mybookings")
    before = counter.trips
    chat.say("alice", "/mybookings")
    quick = counter.trips - before
    monkeypatch.setattr("storage.db.PG_PING_IDLE_S", 0.0)  # every connection has waited "long"
    before = counter.trips
    chat.say("alice", "/mybookings")
    assert counter.trips - before == quick + 1
