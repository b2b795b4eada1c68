"""Hot read statements compiled once per dialect and run on the driver's connection (issue 15).

SQLAlchemy builds, caches and runs a statement in 50-100 µs per call, sqlite3 in 3-10 µs: for the few reads
every command makes (who is asking, the catalog's version) that difference is most of the core's cost.
A ``Prepared`` statement is compiled once per dialect; it runs inside the caller's transaction (the session's
connection), so it sees what the command sees. When someone listens to SQLAlchemy's cursor events (a bench
counting statements, a test) it goes through ``exec_driver_sql`` so they still see it.

Parameters go through their type's processing as with SQLAlchemy (``UTCDateTime``: UTC, SQLite's text
form); results don't: only for columns that need no conversion (ints, strings; booleans come back as 0/1
from SQLite: wrap them in ``bool``). Writes (``execute``): the few every command may make."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


class Prepared:
    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

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

    def rows(self, connection: Connection, params: Mapping[str, Any] | None = None) -> Sequence[Sequence[Any]]:
        sql, arguments = self._arguments(connection, params)
        if connection.dispatch.before_cursor_execute or connection.dispatch.after_cursor_execute:
            return connection.exec_driver_sql(sql, arguments).fetchall()
        try:
            return connection.connection.driver_connection.execute(sql, arguments).fetchall()  # type: ignore[union-attr]
        except connection.dialect.loaded_dbapi.Error as error:
            raise DBAPIError.instance(sql, arguments, error, connection.dialect.loaded_dbapi.Error) from error

    def execute(self, connection: Connection, params: Mapping[str, Any] | None = None) -> None:
        """A write (UPDATE, INSERT) whose result is not read."""
        sql, arguments = self._arguments(connection, params)
        if connection.dispatch.before_cursor_execute or connection.dispatch.after_cursor_execute:
            connection.exec_driver_sql(sql, arguments)
            return
        try:
            connection.connection.driver_connection.execute(sql, arguments)  # type: ignore[union-attr]
        except connection.dialect.loaded_dbapi.Error as error:
            raise DBAPIError.instance(sql, arguments, error, connection.dialect.loaded_dbapi.Error) from error


_Compiled = tuple[str, tuple[str, ...] | None, dict[str, Callable[[Any], Any]]]


def _send(connection: Connection, sql: str) -> None:
    if connection.dispatch.before_cursor_execute or connection.dispatch.after_cursor_execute:
        connection.exec_driver_sql(sql)
        return
    try:
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
        _send(connection, f"ROLLBACK TO SAVEPOINT {quote(name)}")

    dialect.do_savepoint = do_savepoint  # type: ignore[method-assign]
    dialect.do_release_savepoint = do_release_savepoint  # type: ignore[method-assign]
    dialect.do_rollback_to_savepoint = do_rollback_to_savepoint  # type: ignore[method-assign]
    dialect._tierslieu_plain_savepoints = True  # type: ignore[attr-defined]
