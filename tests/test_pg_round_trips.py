"""PostgreSQL: what one /book costs in round trips, and what the pool does when the server dropped a
connection (issue 15: no ping per checkout, the same healing as pool_pre_ping)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, literal_column, table, text
from sqlalchemy import select as core_select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from storage.db import make_engine, session_scope
from storage.models import Booking, Identity
from storage.models_reminders import Reminder
from storage.prepared import Prepared
from tests.harness import Chat, make_chat
from tests.round_trips import RoundTripCounter

pytestmark = pytest.mark.postgres

_ONE = Prepared(core_select(literal_column("1")))
_NOWHERE = Prepared(core_select(literal_column("1")).select_from(table("nowhere")))


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


def test_a_transaction_whose_begin_rode_with_its_first_statement_is_still_all_or_nothing(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE note (id serial PRIMARY KEY, body text NOT NULL)"))
        with pytest.raises(RuntimeError), session_scope(engine) as session:
            assert _ONE.rows(session.connection()) == [(1,)]  # BEGIN went with it
            session.execute(text("INSERT INTO note (body) VALUES ('kept?')"))
            raise RuntimeError("the command failed")
        with pytest.raises(DBAPIError), session_scope(engine) as session:
            _NOWHERE.rows(session.connection())  # its BEGIN ran, the statement failed: rolled back
        with session_scope(engine) as session:
            session.execute(text("INSERT INTO note (body) VALUES ('kept')"))
            raw = session.connection().connection.driver_connection
        assert raw is not None and raw.autocommit is False  # the connection is psycopg's own again
        with engine.connect() as connection:
            assert list(connection.execute(text("SELECT body FROM note")).scalars()) == ["kept"]
    finally:
        engine.dispose()


def test_a_booking_takes_its_lock_and_reads_in_one_round_trip(counted: tuple[Chat, RoundTripCounter]) -> None:
    chat, counter = counted
    assert chat.text("alice", "/book salle-reunion 2026-12-01 9h-10h").startswith("Réservé")
    before = counter.trips
    assert chat.text("alice", "/book salle-reunion 2026-12-02 9h-10h").startswith("Réservé")
    # BEGIN with the asker (which reads the catalog's version too), the lock with the read (and the booking's
    # number from its sequence, and the member's reminder lead), the booking with its reminder and the offered
    # buttons' write with the COMMIT (it was 11 before issue 15's work)
    assert counter.trips - before <= 3
    with Session(chat.app.engine) as session:
        assert len(session.exec(select(Reminder).where(Reminder.ref == "2")).all()) == 1


def test_a_newcomers_first_booking_creates_them_without_a_second_lookup_or_update(
        counted: tuple[Chat, RoundTripCounter]) -> None:
    chat, counter = counted
    assert chat.text("alice", "/book salle-reunion 2026-12-01 9h-10h").startswith("Réservé")
    before = counter.trips
    assert chat.text("zoe", "/book salle-reunion 2026-12-02 9h-10h").startswith("Réservé")
    # as a known member's (3), and: the savepoint, the member, the account (with its private chat), the
    # savepoint's release, the catalog's version (the asker query found no row to read it with); no second
    # lookup of the account, no re-read and update of it after (it was 11)
    assert counter.trips - before <= 8
    with Session(chat.app.engine) as session:
        zoe = session.exec(select(Identity).where(Identity.user_id == "zoe")).one()
    assert zoe.private_chat_id == "zoe"  # the bot can write to her first (her reminder)


def test_the_booking_number_answered_is_the_one_written(counted: tuple[Chat, RoundTripCounter]) -> None:
    chat, _counter = counted
    assert "Réservation n° 1." in chat.text("alice", "/book salle-reunion 2026-12-01 9h-10h")
    refused = chat.text("bob", "/book salle-reunion 2026-12-01 9h-10h")  # taken: a number drawn, not used
    assert refused.startswith("Je ne peux pas réserver")
    answer = chat.text("bob", "/book salle-reunion 2026-12-01 10h-11h")
    with Session(chat.app.engine) as session:
        written = session.exec(select(Booking).where(Booking.status == "active").order_by(Booking.start)).all()
        reminders = session.exec(select(Reminder).where(Reminder.kind == "booking")).all()
    assert [b.start.hour for b in written] == [8, 9]  # UTC
    assert f"Réservation n° {written[1].id}." in answer
    assert [action.command for action in chat.last_actions["bob"]] == [f"/cancel {written[1].id}"]
    assert sorted(r.ref for r in reminders) == sorted(str(b.id) for b in written)


def test_a_write_sent_with_the_commit_is_kept_with_it_or_fails_it_whole(postgres_url: str) -> None:
    """Prepared.execute on PostgreSQL is sent with the next statement or the COMMIT: what it wrote is in the
    transaction's later reads, a savepoint rolled back drops it unsent, and when it fails at the COMMIT nothing
    of the transaction is kept (as when it failed at once)."""
    from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, insert

    engine = make_engine(postgres_url)
    notes = Table("deferred_note", MetaData(), Column("id", Integer, primary_key=True), Column("body", String))
    write = Prepared(insert(notes).values(id=bindparam("id"), body=bindparam("body")))
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE deferred_note (id integer PRIMARY KEY, body text NOT NULL)"))
        with session_scope(engine) as session:
            write.execute(session.connection(), {"id": 1, "body": "kept"})
            assert list(session.execute(text("SELECT body FROM deferred_note")).scalars()) == ["kept"]
            with session.begin_nested() as savepoint:
                write.execute(session.connection(), {"id": 2, "body": "taken back"})
                savepoint.rollback()
            write.execute(session.connection(), {"id": 3, "body": "with the commit"})
        with pytest.raises(DBAPIError), session_scope(engine) as session:
            session.execute(text("INSERT INTO deferred_note (id, body) VALUES (4, 'not kept')"))
            write.execute(session.connection(), {"id": 1, "body": "a duplicate: fails at the commit"})
        with session_scope(engine) as session:
            write.execute(session.connection(), {"id": 5, "body": "the connection works again"})
        with engine.connect() as connection:
            assert list(connection.execute(text("SELECT id FROM deferred_note ORDER BY id")).scalars()) == [1, 3, 5]
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS deferred_note"))
        engine.dispose()
