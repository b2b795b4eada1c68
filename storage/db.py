"""Engine and sessions. SQLite gets WAL and BEGIN IMMEDIATE so that concurrent bookers are serialised
(with pysqlite's defaults two check-then-insert bookings both succeed); PostgreSQL locks rows instead."""

from __future__ import annotations

import errno
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

SQLITE_BUSY_TIMEOUT_S = 30

# Set by ``session_scope(read_only=True)``: the SQLite transaction begins DEFERRED, so a command that only
# reads doesn't wait behind (or hold up) a writer; WAL gives it a consistent snapshot.
_deferred: ContextVar[bool] = ContextVar("tierslieu_deferred_begin", default=False)


PG_CONNECT_TIMEOUT_S = 10


def make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        if parsed.get_backend_name() == "postgresql" and "connect_args" not in kwargs:
            kwargs["connect_args"] = {"connect_timeout": PG_CONNECT_TIMEOUT_S}
        return create_engine(url, pool_pre_ping=True, **kwargs)

    database = parsed.database or ""
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        **kwargs,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so that BEGIN IMMEDIATE below is what runs.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # On the driver's connection: SQLAlchemy's statement machinery cost more than the BEGIN (issue 15);
        # a failure is still raised as SQLAlchemy's error (OperationalError: locked, read-only, disk full).
        sql = "BEGIN" if _deferred.get() else "BEGIN IMMEDIATE"
        try:
            conn.connection.driver_connection.execute(sql)
        except sqlite3.Error as error:
            raise DBAPIError.instance(sql, None, error, sqlite3.Error) from error

    return engine


@contextmanager
def session_scope(engine: Engine, *, read_only: bool = False) -> Iterator[Session]:
    """One unit of work: committed on success, rolled back whole on any error (no half-written rows).
    ``read_only``: on SQLite the transaction begins DEFERRED instead of IMMEDIATE (no write lock is taken
    until something is written). A write in such a transaction after another connection's commit fails
    with a stale snapshot (``is_stale_read``): the caller runs the unit again without ``read_only``."""
    token = _deferred.set(read_only)
    try:
        with Session(engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
    finally:
        _deferred.reset(token)


def in_read_only_scope() -> bool:
    """Inside ``session_scope(read_only=True)``."""
    return _deferred.get()


_SQLITE_BUSY = 5  # SQLITE_BUSY_SNAPSHOT is 517 (5 | 2 << 8); both mean "begin again"


def is_stale_read(error: BaseException) -> bool:
    """A deferred SQLite transaction that tried to write after another connection wrote (or while it
    still held the lock): nothing of it was kept, and it can be run again as a writer."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        original = getattr(current, "orig", None)
        for candidate in (current, original):
            if isinstance(candidate, sqlite3.OperationalError):
                code = getattr(candidate, "sqlite_errorcode", None)
                if (code is not None and code & 0xFF == _SQLITE_BUSY) or "database is locked" in str(candidate):
                    return True
        current = current.__cause__ or current.__context__
    return False


def describe_unusable_database(error: BaseException, url: str) -> str:
    """One line naming why the database cannot be used (never the password), for the start-up error."""
    parsed = make_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    host = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    where = (parsed.database or "?") if sqlite else f"{host}/{parsed.database}"
    original = getattr(error, "orig", None) or error
    detail = (str(original).strip().splitlines() or [type(original).__name__])[0]
    detail = re.sub(r"\s+", " ", detail.replace('"', "'"))[:200]
    text = detail.lower()
    errno_ = getattr(original, "errno", None)
    if errno_ == errno.ENOSPC or "disk is full" in text:
        cause = "the disk is full"
    elif errno_ == errno.EROFS or "read-only" in text or "readonly" in text:
        cause = "the file system is read-only"
    elif errno_ == errno.EACCES or "permission denied" in text:
        cause = "permission denied"
    elif "disk i/o error" in text:
        cause = "disk I/O error (disk full or failing?)"
    elif "unable to open database file" in text:
        cause = "cannot open the database file (missing directory, read-only file system or no permission)"
    elif "password authentication failed" in text or ("role" in text and "does not exist" in text):
        cause = "PostgreSQL refused the user name or password"
    elif "database" in text and "does not exist" in text:
        cause = "this PostgreSQL database does not exist"
    elif any(s in text for s in ("connection refused", "could not connect", "timeout", "timed out",
                                 "could not translate host name", "name or service not known", "no route")):
        cause = "cannot reach PostgreSQL"
    else:
        cause = "the database cannot be used"
    return f"DATABASE_URL: {cause} ({where}): {detail}"
