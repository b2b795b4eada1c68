"""storage.pg_wire: the hot statements sent straight on libpq (PostgreSQL). What a member would notice if it
went wrong: a command failing after another one failed, a booking lost, a connection left stuck."""

from __future__ import annotations

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine, literal_column, table, text
from sqlalchemy import select as core_select
from sqlalchemy.exc import DBAPIError

from storage.conflicts import is_retryable_conflict
from storage.db import make_engine, session_scope
from storage.pg_wire import to_wire
from storage.prepared import Prepared, rows_together

_ONE = Prepared(core_select(literal_column("1")))
_LATER_TABLE = Prepared(core_select(literal_column("count(*)")).select_from(table("made_later")))


def test_named_parameters_become_positions_a_repeated_name_one_position() -> None:
    wire = to_wire("SELECT %(a)s::INTEGER, %(b)s::VARCHAR WHERE x = %(a)s::INTEGER AND y LIKE 'x%%'")
    assert wire.sql == b"SELECT $1::INTEGER, $2::VARCHAR WHERE x = $1::INTEGER AND y LIKE 'x%'"
    assert wire.names == ("a", "b")


@given(st.lists(st.sampled_from(["space_id", "start", "end", "member_id", "p_1"]), min_size=1, max_size=12))
def test_each_name_takes_the_position_of_its_first_use(names: list[str]) -> None:
    wire = to_wire(" , ".join(f"%({name})s" for name in names))
    firsts = list(dict.fromkeys(names))
    assert wire.names == tuple(firsts)
    assert wire.sql.decode() == " , ".join(f"${firsts.index(name) + 1}" for name in names)


pytestmark_pg = pytest.mark.postgres


@pytestmark_pg
def test_a_statement_that_failed_to_prepare_is_prepared_again_once_it_can_be(postgres_url: str) -> None:
    """The first run fails (no such table): psycopg's error for its SQLSTATE, the transaction rolled back.
    Once the table exists the same statement runs on the same connection: the failed preparation was not
    taken for a done one."""
    engine = make_engine(postgres_url, pool_size=1)
    try:
        with pytest.raises(DBAPIError) as failed, session_scope(engine) as session:
            _LATER_TABLE.rows(session.connection())
        assert isinstance(failed.value.orig, psycopg.errors.UndefinedTable)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE made_later (id integer)"))
            connection.execute(text("INSERT INTO made_later VALUES (1), (2)"))
        with session_scope(engine) as session:
            assert _LATER_TABLE.rows(session.connection()) == [(2,)]
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS made_later"))
        engine.dispose()


@pytestmark_pg
def test_a_hot_statement_is_prepared_once_per_connection(postgres_url: str) -> None:
    engine = make_engine(postgres_url, pool_size=1)
    try:
        for _ in range(5):
            with session_scope(engine) as session:
                [[(one,)], [(again,)]] = rows_together(session.connection(), [(_ONE, None), (_ONE, None)])
                assert (one, again) == (1, 1)
        with session_scope(engine) as session:
            ours = session.execute(text("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE '\\_tl\\_%' "
                                        "AND statement = 'SELECT 1'")).scalar_one()
        assert ours == 1
    finally:
        engine.dispose()


@pytestmark_pg
def test_a_connection_the_server_dropped_fails_one_command_then_is_replaced(postgres_url: str) -> None:
    engine = make_engine(postgres_url, pool_size=1)
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with session_scope(engine) as session:
            [(pid,)] = session.execute(text("SELECT pg_backend_pid()")).all()
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        try:  # the pool pings a connection only after it waited long; a fresh drop is met by the statement
            with session_scope(engine) as session:
                _ONE.rows(session.connection())
        except DBAPIError as error:
            assert isinstance(error.orig, psycopg.OperationalError)
        with session_scope(engine) as session:
            assert _ONE.rows(session.connection()) == [(1,)]
            [(new_pid,)] = session.execute(text("SELECT pg_backend_pid()")).all()
        assert new_pid != pid
    finally:
        admin.dispose()
        engine.dispose()


@pytestmark_pg
def test_after_someone_deallocated_everything_the_command_is_run_again_and_works(postgres_url: str) -> None:
    """DEALLOCATE ALL (an operator, a pooler) drops the statements pg_wire prepared: the next statement fails
    with an error the dispatcher runs the unit again for (nothing of it was kept), and that run works."""
    engine = make_engine(postgres_url, pool_size=1)
    try:
        with session_scope(engine) as session:
            assert _ONE.rows(session.connection()) == [(1,)]
            session.execute(text("DEALLOCATE ALL"))
        with pytest.raises(DBAPIError) as failed, session_scope(engine) as session:
            _ONE.rows(session.connection())
        assert is_retryable_conflict(failed.value)
        with session_scope(engine) as session:
            assert _ONE.rows(session.connection()) == [(1,)]
    finally:
        engine.dispose()


@pytestmark_pg
def test_a_failed_command_leaves_the_hot_statements_prepared(postgres_url: str) -> None:
    """A rollback (a member's mistyped command) used to make psycopg drop every prepared statement."""
    engine = make_engine(postgres_url, pool_size=1)
    try:
        with session_scope(engine) as session:
            assert _ONE.rows(session.connection()) == [(1,)]
        with pytest.raises(RuntimeError), session_scope(engine) as session:
            session.execute(text("SELECT 2"))
            raise RuntimeError("the command failed")
        with session_scope(engine) as session:
            names = session.execute(text("SELECT name FROM pg_prepared_statements WHERE statement = 'SELECT 1'"))
            assert [name.startswith("_tl_") for name in names.scalars()] == [True]
    finally:
        engine.dispose()


@pytestmark_pg
def test_a_value_that_cannot_be_sent_fails_its_command_and_nothing_else(postgres_url: str) -> None:
    """A parameter psycopg can't adapt fails before anything is sent: the statements that would have gone
    with it are not taken for prepared, and run on the next command."""
    from sqlalchemy import bindparam

    echo = Prepared(core_select(bindparam("value", type_=None)))
    engine = make_engine(postgres_url, pool_size=1)
    try:
        with pytest.raises(DBAPIError), session_scope(engine) as session:
            rows_together(session.connection(), [(_ONE, None), (echo, {"value": object()})])
        with session_scope(engine) as session:
            assert _ONE.rows(session.connection()) == [(1,)]
    finally:
        engine.dispose()
