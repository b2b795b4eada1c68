"""Hot read statements compiled once per dialect and run on the driver's connection (issue 15).

SQLAlchemy builds, caches and runs a statement in 50-100 µs per call, sqlite3 in 3-10 µs: for the few reads
every command makes (who is asking, the catalog's version) that difference is most of the core's cost.
A ``Prepared`` statement is compiled once per dialect; it runs inside the caller's transaction (the session's
connection), so it sees what the command sees. When someone listens to SQLAlchemy's cursor events (a bench
counting statements, a test) it goes through ``exec_driver_sql`` so they still see it.

Parameters go through their type's processing as with SQLAlchemy (``UTCDateTime``: UTC, SQLite's text
form); results don't: only for columns that need no conversion (ints, strings; booleans come back as 0/1
from SQLite: wrap them in ``bool``). Writes (``execute``): the few every command may make.

PostgreSQL (psycopg, ``pg_pipelining``): a round trip costs more than building a statement, so the BEGIN that
psycopg would send alone before a transaction's first statement goes in the same flush as that statement
(pipeline mode), and ``rows_together`` sends several statements in one flush (the server still runs them one
after the other, each with its own snapshot: a row lock taken by the first is held when the second reads)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import Dialect, ExecutionContext
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

if TYPE_CHECKING:  # imported where PostgreSQL is used: psycopg is ~5 MiB a SQLite bot never needs
    from storage import pg_wire


class Prepared:
    def __init__(self, statement: ClauseElement, *, dialect: str | None = None) -> None:
        """``dialect``: the statement is that dialect's own (an upsert): compile_all leaves it to that one."""
        self.statement = statement
        self.dialect = dialect
        self._compiled: dict[str, _Compiled] = {}
        self._wire: pg_wire.Wire | None = None  # PostgreSQL with psycopg: the statement in libpq's form
        _EVERY.append(self)

    @staticmethod
    def compile_all(dialect: Dialect) -> int:
        """Compile every Prepared statement made so far for this dialect (a long-running process's start:
        else the first /book compiles five of them, ~6 ms of that one command). How many were compiled."""
        for make in _MAKERS:
            make(dialect.name)
        mine = [prepared for prepared in _EVERY if prepared.dialect in (None, dialect.name)]
        for prepared in mine:
            prepared._for(dialect)
        return len(mine)

    def _for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = cast(SQLCompiler, self.statement.compile(dialect=dialect))
            order = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
            # What SQLAlchemy does to each value on its way in (UTCDateTime: UTC, and SQLite's text form).
            processors: dict[str, Callable[[Any], Any]] = {}
            for name, bind in compiled.binds.items():
                processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if processor is not None:
                    processors[name] = processor
            made: _Compiled = (compiled.string, order, processors)
            self._compiled[dialect.name] = made
            return made
        return found

    def _arguments(self, connection: Connection, params: Mapping[str, Any] | None) -> tuple[str, Any]:
        sql, order, processors = self._for(connection.dialect)
        values = dict(params or {})
        for name, processor in processors.items():
            if name in values:
                values[name] = processor(values[name])
        return sql, (tuple(values[name] for name in order) if order is not None else values)

    def wire(self, connection: Connection) -> pg_wire.Wire:
        """The statement as libpq takes it (PostgreSQL with psycopg), converted once."""
        if self._wire is None:
            from storage import pg_wire

            self._wire = pg_wire.to_wire(self._for(connection.dialect)[0])
        return self._wire

    def rows(self, connection: Connection, params: Mapping[str, Any] | None = None) -> Sequence[Sequence[Any]]:
        sql, arguments = self._arguments(connection, params)
        if connection.dispatch.before_cursor_execute or connection.dispatch.after_cursor_execute:
            return connection.exec_driver_sql(sql, arguments).fetchall()
        try:
            if getattr(connection.dialect, _PIPELINING, False):
                return _pg_wire_reads(connection.connection.driver_connection,
                                      ((self.wire(connection), arguments),))[0]
            return connection.connection.driver_connection.execute(sql, arguments).fetchall()  # type: ignore[union-attr]
        except connection.dialect.loaded_dbapi.Error as error:
            raise DBAPIError.instance(sql, arguments, error, connection.dialect.loaded_dbapi.Error) from error

    def execute(self, connection: Connection, params: Mapping[str, Any] | None = None) -> None:
        """A write (UPDATE, INSERT) whose result is not read. PostgreSQL: not sent at once but with the
        transaction's next statement, or with its COMMIT (``pg_pipelining``): its error, if any, is raised
        there (by the COMMIT: then nothing of the transaction is kept)."""
        sql, arguments = self._arguments(connection, params)
        if connection.dispatch.before_cursor_execute or connection.dispatch.after_cursor_execute:
            connection.exec_driver_sql(sql, arguments)
            return
        try:
            if getattr(connection.dialect, _PIPELINING, False):
                _pg_defer(connection.connection.driver_connection, sql, arguments, self.wire(connection))
                return
            connection.connection.driver_connection.execute(sql, arguments)  # type: ignore[union-attr]
        except connection.dialect.loaded_dbapi.Error as error:
            raise DBAPIError.instance(sql, arguments, error, connection.dialect.loaded_dbapi.Error) from error


def made_per_dialect(make: Callable[[str], Prepared]) -> Callable[[str], Prepared]:
    """Mark a function that builds (and keeps) a dialect's own Prepared statement from the dialect's name:
    ``Prepared.compile_all`` has it build the statement, then compiles it with the others."""
    _MAKERS.append(make)
    return make


def flushed_connection(session: Session) -> Connection:
    """The session's connection, its pending ORM changes written first: a Prepared statement runs on it
    directly, where the session's autoflush doesn't reach, yet must see what the transaction added."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection()


def pipelines(connection: Connection) -> bool:
    """PostgreSQL with psycopg (``pg_pipelining``): statements can be sent together (``rows_together``)."""
    return bool(getattr(connection.dialect, _PIPELINING, False))


def rows_together(
    connection: Connection, statements: Sequence[tuple[Prepared, Mapping[str, Any] | None]]
) -> list[Sequence[Sequence[Any]]]:
    """Several statements' rows, run in this order; on PostgreSQL sent in one flush (one round trip).
    A statement that fails raises as ``Prepared.rows`` would; the ones after it are not run."""
    made = [prepared._arguments(connection, params) for prepared, params in statements]
    if connection.dispatch.before_cursor_execute or connection.dispatch.after_cursor_execute:
        return [connection.exec_driver_sql(sql, arguments).fetchall() for sql, arguments in made]
    sql = made[0][0]
    try:
        if getattr(connection.dialect, _PIPELINING, False):
            wires = [prepared.wire(connection) for prepared, _params in statements]
            return list(_pg_wire_reads(connection.connection.driver_connection, [
                (wire, arguments) for wire, (_sql, arguments) in zip(wires, made, strict=True)]))
        driver = connection.connection.driver_connection
        found = []
        for sql, arguments in made:
            found.append(driver.execute(sql, arguments).fetchall())  # type: ignore[union-attr]
        return found
    except connection.dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(sql, None, error, connection.dialect.loaded_dbapi.Error) from error


_MAKERS: list[Callable[[str], Prepared]] = []  # made_per_dialect
_EVERY: list[Prepared] = []  # every Prepared made: module-level statements, a few per dialect (compile_all)
_PIPELINING = "_tierslieu_pipelining"  # set on a PostgreSQL (psycopg) engine's dialect by pg_pipelining
_BEGAN = "_tierslieu_began"  # set on a psycopg connection whose open transaction's BEGIN _pg_together sent
_PENDING = "_tierslieu_pending"  # on a psycopg connection: deferred writes (Prepared.execute), not sent yet
_PG_IDLE = 0  # libpq's PQTRANS_IDLE: no transaction open on the connection


def _begin_is_ours(driver: Any) -> bool:
    """No transaction open and psycopg would send a plain BEGIN before the next statement (not when the
    connection is in autocommit, or has an isolation level or access mode of its own: psycopg's then)."""
    return (driver.pgconn.transaction_status == _PG_IDLE and not driver.autocommit
            and driver.isolation_level is None and driver.read_only is None and driver.deferrable is None)


_Deferred = tuple[str, Any, "pg_wire.Wire"]  # a deferred write: for psycopg (text, arguments), and for libpq


def _pg_defer(driver: Any, sql: str, arguments: Any, wire: pg_wire.Wire) -> None:
    pending = getattr(driver, _PENDING, None)
    if pending is None:
        setattr(driver, _PENDING, [(sql, arguments, wire)])
    else:
        pending.append((sql, arguments, wire))


def _pg_take_pending(driver: Any) -> list[_Deferred]:
    pending: list[_Deferred] | None = getattr(driver, _PENDING, None)
    if pending:
        setattr(driver, _PENDING, None)
    return pending or []


def _pg_pending_wires(driver: Any) -> list[pg_wire.Sent]:
    """The deferred writes, taken, in libpq's form (storage.pg_wire)."""
    return [(wire, arguments) for _sql, arguments, wire in _pg_take_pending(driver)]


def _pg_wire_reads(driver: Any, reads: Sequence[pg_wire.Sent]) -> list[list[tuple[Any, ...]]]:
    """Prepared statements' rows on libpq (storage.pg_wire), in one flush with the transaction's BEGIN when it
    is to be opened, and with the deferred writes. psycopg sees a transaction it didn't begin and carries on
    with it as its own (it sends no BEGIN while one is open, and COMMIT or ROLLBACK end it as usual)."""
    from storage import pg_wire

    begin = _begin_is_ours(driver)
    return pg_wire.run_together(driver, begin=begin, writes=_pg_pending_wires(driver), reads=reads)


def _pg_discard(driver: Any) -> None:
    """The deferred writes dropped unsent: the transaction (or the savepoint they came after) is rolled back."""
    if getattr(driver, _PENDING, None):
        setattr(driver, _PENDING, None)


def _pg_together(driver: Any, statements: Sequence[tuple[str, Any]], cursor: Any = None) -> list[Any]:
    """The statements (the last on ``cursor`` if given) sent in one flush, their cursors with their results;
    BEGIN first when a transaction is to be opened, then the deferred writes. psycopg would send that BEGIN
    alone and wait for its answer: here it is ours, the connection in autocommit for the rest of the
    transaction (so psycopg sends none), and COMMIT / ROLLBACK (pg_pipelining's do_commit, do_rollback) end it
    and give the connection back its own way. A failure raises the first error; what followed it in the
    flush was not run (and the transaction is to be rolled back, as after any failed statement)."""
    begin = _begin_is_ours(driver)
    pending = _pg_take_pending(driver)
    if not begin and not pending and len(statements) == 1:
        sql, arguments = statements[0]
        return [cursor.execute(sql, arguments) if cursor is not None else driver.execute(sql, arguments)]
    if begin:
        driver.autocommit = True
        setattr(driver, _BEGAN, True)
    try:
        with driver.pipeline():
            if begin:
                driver.execute("BEGIN")
            for sql, arguments, _wire in pending:
                driver.execute(sql, arguments)
            cursors = [driver.execute(sql, arguments) for sql, arguments in statements[:-1]]
            if statements:
                sql, arguments = statements[-1]
                cursors.append(cursor.execute(sql, arguments) if cursor is not None
                               else driver.execute(sql, arguments))
        return cursors
    finally:
        if begin and driver.pgconn.transaction_status == _PG_IDLE:  # BEGIN didn't run: psycopg's way again
            _pg_ended(driver)


def _pg_ended(driver: Any) -> None:
    """After COMMIT or ROLLBACK: a connection whose BEGIN was ours leaves autocommit."""
    if getattr(driver, _BEGAN, False):
        setattr(driver, _BEGAN, False)
        if not driver.closed and driver.pgconn.transaction_status == _PG_IDLE:
            driver.autocommit = False


def pg_pipelining(engine: Engine) -> None:
    """PostgreSQL with psycopg: a transaction's BEGIN sent with its first statement, and the writes deferred
    by ``Prepared.execute`` with the statement that follows them or with the COMMIT (``_pg_together``), for
    ``Prepared`` statements and SQLAlchemy's alike. The dialect's execute, commit, rollback and savepoint
    calls are wrapped; SQLAlchemy's bookkeeping is unchanged. Other databases and drivers: nothing is done."""
    dialect = engine.dialect
    if dialect.name != "postgresql" or dialect.driver != "psycopg" or getattr(dialect, _PIPELINING, False):
        return
    from psycopg import ServerCursor

    from storage import pg_wire

    @event.listens_for(engine, "connect")
    def _prepared_by_us_only(dbapi_connection: Any, _record: Any) -> None:
        # The hot statements are prepared by storage.pg_wire. psycopg's own preparing (a statement after its
        # fifth run) would, after any ROLLBACK, send DEALLOCATE ALL, which drops ours too (and costs a round
        # trip after every failed command): it is turned off; the other statements are planned per run.
        dbapi_connection.prepare_threshold = None

    commit, rollback = dialect.do_commit, dialect.do_rollback
    execute, execute_no_params = dialect.do_execute, dialect.do_execute_no_params
    executemany, rollback_to_savepoint = dialect.do_executemany, dialect.do_rollback_to_savepoint

    def do_commit(dbapi_connection: Any) -> None:
        driver = dbapi_connection.driver_connection
        try:
            if not getattr(driver, _PENDING, None):
                commit(dbapi_connection)
                return
            # the deferred writes and COMMIT: one round trip (a write that fails there fails the COMMIT: nothing of
            # the transaction is kept, as when a statement fails at once)
            pg_wire.run_together(driver, writes=_pg_pending_wires(driver), then=b"COMMIT")
        finally:
            _pg_ended(driver)

    def do_rollback(dbapi_connection: Any) -> None:
        driver = dbapi_connection.driver_connection
        _pg_discard(driver)
        try:
            rollback(dbapi_connection)
        finally:
            _pg_ended(driver)

    def do_execute(cursor: Any, statement: str, parameters: Any, context: ExecutionContext | None = None) -> None:
        driver = cursor.connection
        if isinstance(cursor, ServerCursor) or not (getattr(driver, _PENDING, None) or _begin_is_ours(driver)):
            execute(cursor, statement, parameters, context)
            return
        _pg_together(driver, ((statement, parameters),), cursor)

    def do_execute_no_params(cursor: Any, statement: str, context: ExecutionContext | None = None) -> None:
        driver = cursor.connection
        if isinstance(cursor, ServerCursor) or not (getattr(driver, _PENDING, None) or _begin_is_ours(driver)):
            execute_no_params(cursor, statement, context)
            return
        _pg_together(driver, ((statement, None),), cursor)

    def do_executemany(cursor: Any, statement: str, parameters: Any, context: ExecutionContext | None = None) -> None:
        if getattr(cursor.connection, _PENDING, None):
            _pg_together(cursor.connection, ())  # the deferred writes first
        executemany(cursor, statement, parameters, context)

    def do_rollback_to_savepoint(connection: Connection, name: str) -> None:
        _pg_discard(connection.connection.driver_connection)
        rollback_to_savepoint(connection, name)

    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]
    dialect.do_execute = do_execute  # type: ignore[method-assign]
    dialect.do_execute_no_params = do_execute_no_params  # type: ignore[method-assign]
    dialect.do_executemany = do_executemany  # type: ignore[method-assign]
    dialect.do_rollback_to_savepoint = do_rollback_to_savepoint  # type: ignore[method-assign]
    setattr(dialect, _PIPELINING, True)


_Compiled = tuple[str, tuple[str, ...] | None, dict[str, Callable[[Any], Any]]]


def _send(connection: Connection, sql: str) -> None:
    if connection.dispatch.before_cursor_execute or connection.dispatch.after_cursor_execute:
        connection.exec_driver_sql(sql)
        return
    try:
        if getattr(connection.dialect, _PIPELINING, False):  # with the deferred writes, if any
            _pg_together(connection.connection.driver_connection, ((sql, None),))
            return
        connection.connection.driver_connection.execute(sql)  # type: ignore[union-attr]
    except connection.dialect.loaded_dbapi.Error as error:  # raised as SQLAlchemy would have
        raise DBAPIError.instance(sql, None, error, connection.dialect.loaded_dbapi.Error) from error


def plain_savepoints(engine: Engine) -> None:
    """SAVEPOINT, RELEASE SAVEPOINT and ROLLBACK TO SAVEPOINT sent as plain text: SQLAlchemy compiles a clause
    object for each (about half the cost of running a command in the inbox's transaction). Its bookkeeping
    (Connection / Session nesting, the savepoint events) is unchanged: only the dialect's three calls are."""
    dialect = engine.dialect
    if getattr(dialect, "_tierslieu_plain_savepoints", False):
        return
    quote = dialect.identifier_preparer.quote

    def do_savepoint(connection: Connection, name: str) -> None:
        _send(connection, f"SAVEPOINT {quote(name)}")

    def do_release_savepoint(connection: Connection, name: str) -> None:
        _send(connection, f"RELEASE SAVEPOINT {quote(name)}")

    def do_rollback_to_savepoint(connection: Connection, name: str) -> None:
        if getattr(dialect, _PIPELINING, False):  # the writes deferred since the last savepoint are undone unsent
            _pg_discard(connection.connection.driver_connection)
        _send(connection, f"ROLLBACK TO SAVEPOINT {quote(name)}")

    dialect.do_savepoint = do_savepoint  # type: ignore[method-assign]
    dialect.do_release_savepoint = do_release_savepoint  # type: ignore[method-assign]
    dialect.do_rollback_to_savepoint = do_rollback_to_savepoint  # type: ignore[method-assign]
    dialect._tierslieu_plain_savepoints = True  # type: ignore[attr-defined]
