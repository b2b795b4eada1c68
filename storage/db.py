"""Engine and sessions. SQLite gets WAL and BEGIN IMMEDIATE so that concurrent bookers are serialised
(with pysqlite's defaults two check-then-insert bookings both succeed); PostgreSQL locks rows instead.
The writers of one process queue on a Python lock before BEGIN IMMEDIATE (``_WriterQueue``): a waiting
thread wakes as soon as the writer before it ends, where SQLite's busy handler sleeps in growing steps
(up to 100 ms); the busy handler then only waits for other processes."""

from __future__ import annotations

import errno
import os
import re
import select
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InvalidatePoolError
from sqlmodel import Session

from storage.checkpoint import WAL_AUTOCHECKPOINT_PAGES, checkpointer_for, database_file
from storage.prepared import pg_pipelining

SQLITE_BUSY_TIMEOUT_S = 30
# Prepared statements each SQLite connection keeps (pysqlite's default: 128). A connection is kept per worker
# thread, and the ORM's statements are long (every column named): 128 of them held ~1-1.5 MiB more RSS after
# 1,000 commands than 16 (bench/bench_footprint.py, issue 15). One left out is prepared again when next run,
# which costs tens of microseconds against a command's milliseconds.
SQLITE_CACHED_STATEMENTS = 16

# Set by ``session_scope(read_only=True)``: the SQLite transaction begins DEFERRED, so a command that only
# reads doesn't wait behind (or hold up) a writer; WAL gives it a consistent snapshot.
_deferred: ContextVar[bool] = ContextVar("tierslieu_deferred_begin", default=False)


PG_CONNECT_TIMEOUT_S = 10

# A PostgreSQL connection that waited in the pool longer than this is pinged (one round trip) before use: a
# firewall or NAT may have dropped it without a word. One used more recently is checked without a round trip
# (see _checked_on_checkout): pool_pre_ping's SELECT 1 cost a round trip per command (issue 15).
PG_PING_IDLE_S = 30.0
_CHECKED_IN_AT = "tierslieu_checked_in_at"  # the pool record's info: time.monotonic() when it came back

# Bench/debug switch, read when an engine is made: "0" leaves SQLite's writers to its busy handler alone.
WRITER_QUEUE_ENV = "TIERSLIEU_SQLITE_WRITER_QUEUE"


class _WriterQueue:
    """The write transactions of one process on one SQLite file, one at a time, in the order they come.

    Taken just before BEGIN IMMEDIATE, given back when that transaction ends (commit, rollback, or its
    connection returned to the pool, invalidated or closed). Re-entrant per thread: a thread that holds
    it and opens a second write transaction on another connection doesn't wait here (it meets SQLite's
    lock and busy timeout, as without the queue). A plain Lock with the owner kept aside, so that a
    connection ended from another thread releases it without error (threading.RLock would raise)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = threading.Lock()
        self._owner: int | None = None
        self._holders: set[int] = set()

    def acquire(self, key: int, timeout: float) -> None:
        me = threading.get_ident()
        with self._state:
            if self._owner == me and self._holders:
                self._holders.add(key)
                return
        # Past the timeout the transaction goes on without the queue: SQLite's busy timeout still applies.
        if not self._lock.acquire(timeout=timeout):
            return
        with self._state:
            self._owner = me
            self._holders = {key}

    def release(self, key: int) -> None:
        with self._state:
            if key not in self._holders:
                return
            self._holders.discard(key)
            if self._holders:
                return
            self._owner = None
            self._lock.release()


_queues: dict[str, _WriterQueue] = {}
_queues_lock = threading.Lock()


def _writer_queue(database: str) -> _WriterQueue:
    """One queue per database file, shared by the engines of this process on that file."""
    key = database_file(database)
    if key is None:
        return _WriterQueue()
    with _queues_lock:
        return _queues.setdefault(key, _WriterQueue())


def make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        if parsed.get_backend_name() != "postgresql":
            return create_engine(url, pool_pre_ping=True, **kwargs)
        if "connect_args" not in kwargs:
            kwargs["connect_args"] = {"connect_timeout": PG_CONNECT_TIMEOUT_S}
        engine = create_engine(url, **kwargs)
        _check_on_checkout(engine)
        pg_pipelining(engine)  # a transaction's BEGIN sent with its first statement
        return engine

    database = parsed.database or ""
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    busy_timeout_s = SQLITE_BUSY_TIMEOUT_S
    engine = create_engine(
        url,
        connect_args={"timeout": busy_timeout_s, "check_same_thread": False,
                      "cached_statements": SQLITE_CACHED_STATEMENTS},
        **kwargs,
    )
    queue = _writer_queue(database) if os.environ.get(WRITER_QUEUE_ENV, "1") != "0" else None
    checkpointer = checkpointer_for(database)
    own_file = database_file(database)
    opened_once = False

    @event.listens_for(engine, "do_connect")
    def _never_make_it_again(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        # The first connection may make the file (a new database); later ones open it only if it is there:
        # with the file moved away (an operator, a restore, a full disk's cleanup) a scheduled job would
        # otherwise make an empty one in its place, and keep using it after the real one came back.
        if not opened_once or own_file is None:
            return None
        return sqlite3.connect(f"{Path(own_file).as_uri()}?mode=rw", uri=True, **cparams)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        nonlocal opened_once
        opened_once = True
        # Take transaction control from pysqlite so that BEGIN IMMEDIATE below is what runs.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        if checkpointer is not None:  # checkpoints in the background (storage.checkpoint), not in a commit
            cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # On the driver's connection: SQLAlchemy's statement machinery cost more than the BEGIN (issue 15);
        # a failure is still raised as SQLAlchemy's error (OperationalError: locked, read-only, disk full).
        driver = conn.connection.driver_connection
        if _deferred.get():
            sql = "BEGIN"
        else:
            sql = "BEGIN IMMEDIATE"
            if queue is not None:
                queue.acquire(id(driver), busy_timeout_s)
        try:
            driver.execute(sql)
        except sqlite3.Error as error:
            if queue is not None:
                queue.release(id(driver))
            raise DBAPIError.instance(sql, None, error, sqlite3.Error) from error

    if checkpointer is not None:
        @event.listens_for(engine, "commit")
        def _count_write(_conn: Any) -> None:
            if not _deferred.get():
                checkpointer.committed()

    if queue is None:
        return engine

    @event.listens_for(engine, "commit")
    def _on_commit(conn: Any) -> None:
        # Fired before the driver's commit: COMMIT here, then let the next writer in (the driver's commit
        # is then a no-op). A failed COMMIT is raised as SQLAlchemy's error (disk full: SQLite may have
        # rolled back already, and the driver's commit would then report success); the queue is given back
        # once no transaction is left open, else by the rollback that follows or at checkin.
        driver = conn.connection.driver_connection
        if driver is None:
            return
        if driver.in_transaction:
            try:
                driver.execute("COMMIT")
            except sqlite3.Error as error:
                if not driver.in_transaction:
                    queue.release(id(driver))
                raise DBAPIError.instance("COMMIT", None, error, sqlite3.Error) from error
        queue.release(id(driver))

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn: Any) -> None:
        try:
            driver = None if conn.invalidated else conn.connection.driver_connection
        except Exception:  # a closed connection: the pool's events give the queue back
            driver = None
        if driver is None:
            return
        if driver.in_transaction:
            with suppress(sqlite3.Error):
                driver.execute("ROLLBACK")
        queue.release(id(driver))

    # Safety nets: whatever way the connection leaves its transaction's hands.
    def _given_back(dbapi_connection: Any, *_args: Any) -> None:
        if dbapi_connection is not None:
            queue.release(id(dbapi_connection))

    for name in ("checkin", "reset", "close", "invalidate", "soft_invalidate", "close_detached", "detach"):
        event.listen(engine.pool, name, _given_back)

    return engine


def _check_on_checkout(engine: Engine) -> None:
    """What pool_pre_ping did (a PostgreSQL restart, a killed backend, an idle-session timeout: the pool
    reconnects and the command runs), without its round trip per checkout. The server says goodbye before
    closing (a FATAL message, then end of file), so a connection it dropped has something to read while it
    sits in the pool, where a live one has nothing: that costs a poll() of its socket. A connection idle
    longer than PG_PING_IDLE_S is pinged as before (a dropped route says nothing). A failed ping invalidates
    the pool as pre-ping did: the connections it held are replaced as they are next used."""
    dialect = engine.dialect

    @event.listens_for(engine.pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_CHECKED_IN_AT)
        if returned is None:  # just connected
            return
        if time.monotonic() - returned < PG_PING_IDLE_S and not _has_something_to_read(dbapi_connection):
            return
        if not dialect._do_ping_w_event(dbapi_connection):
            raise InvalidatePoolError()


def _has_something_to_read(dbapi_connection: Any) -> bool:
    """An idle PostgreSQL connection with bytes (or end of file) waiting: the server's goodbye, or a
    notice; either way a ping decides. A closed or broken connection counts as such."""
    try:
        if dbapi_connection.closed:
            return True
        poller = select.poll()
        poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    except Exception:  # no socket any more
        return True


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
