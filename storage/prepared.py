"""Hot read statements compiled once per dialect and run on the driver's connection (issue 15).

SQLAlchemy builds, caches and runs a statement in 50-100 µs per call, sqlite3 in 3-10 µs: for the few reads
every command makes (who is asking, the catalog's version) that difference is most of the core's cost.
A ``Prepared`` statement is compiled once per dialect; it runs inside the caller's transaction (the session's
connection), so it sees what the command sees. When someone listens to SQLAlchemy's cursor events (a bench
counting statements, a test) it goes through ``exec_driver_sql`` so they still see it.

Only for reads whose parameters are plain strings and integers and whose columns need no type conversion
(ints, strings; booleans come back as 0/1 from SQLite: wrap them in ``bool``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


class Prepared:
    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None]] = {}

    def _for(self, dialect: Dialect) -> tuple[str, tuple[str, ...] | None]:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = cast(SQLCompiler, self.statement.compile(dialect=dialect))
            order = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
            found = self._compiled[dialect.name] = (compiled.string, order)
        return found

    def rows(self, connection: Connection, params: Mapping[str, Any] | None = None) -> Sequence[Sequence[Any]]:
        sql, order = self._for(connection.dialect)
        arguments: Any = tuple((params or {})[name] for name in order) if order is not None else dict(params or {})
        if connection.dispatch.before_cursor_execute or connection.dispatch.after_cursor_execute:
            return connection.exec_driver_sql(sql, arguments).fetchall()
        return connection.connection.driver_connection.execute(sql, arguments).fetchall()  # type: ignore[union-attr]
