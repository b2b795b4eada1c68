"""Only one process runs the scheduled jobs, even when several share a database (APScheduler 3 has no
such guard: two schedulers give duplicate or missed runs). PostgreSQL: a session advisory lock held
on a dedicated connection. SQLite: an exclusive lock on a file beside the database.

``preparing_alone``: the schema upgrade and the seeding at start, one process at a time on PostgreSQL
(processes started together on a database to upgrade: the others wait, then find the work done)."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from typing import IO, Any

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

ADVISORY_KEY = 0x7469_6572_736C  # "tiersl"
CHECK_EVERY_S = 0.5  # at most this often, the lock's connection is asked whether it is alive
PREPARE_KEY = ADVISORY_KEY + 1  # held while a process upgrades and seeds the database at start


@contextlib.contextmanager
def preparing_alone(engine: Engine) -> Iterator[None]:
    """PostgreSQL: one process at a time in the block (an advisory lock, waited for, on a connection of its
    own; a process killed meanwhile lets go of it with its connection). Two processes upgrading at once
    failed: the second's CREATE TABLE ran into the first's. SQLite: nothing to do (one process)."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": PREPARE_KEY})
        connection.commit()
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PREPARE_KEY})
                connection.commit()


class Leadership:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Any = None
        self._file: IO[str] | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()  # asked from the loop (scheduler) and from threads (outbox)

    @property
    def held(self) -> bool:
        return self._connection is not None or self._file is not None

    def acquire(self) -> bool:
        with self._lock:
            return self._acquire()

    def _acquire(self) -> bool:
        """Whether this process is the leader, becoming it if nobody is. Checked each time it is asked
        (each scheduler tick, each outbox round): on PostgreSQL the lock lives as long as its connection,
        so a lost connection means another process may hold it now, and this one is not the leader."""
        if self._connection is not None and not self._still_connected():
            log.warning("lost the connection holding the scheduler lock; no longer running the scheduled jobs")
            with contextlib.suppress(Exception):
                self._connection.invalidate()
                self._connection.close()
            self._connection = None
        if self.held:
            return True
        try:
            if self.engine.dialect.name == "postgresql":
                return self._acquire_postgres()
            return self._acquire_file()
        except Exception:
            log.exception("could not take the scheduler lock")
            return False

    def _still_connected(self) -> bool:
        now = time.monotonic()
        if now - self._checked_at < CHECK_EVERY_S:
            return True
        try:
            self._connection.execute(text("SELECT 1")).scalar()
            self._connection.commit()
        except Exception:
            return False
        self._checked_at = now
        return True

    def _acquire_postgres(self) -> bool:
        connection = self.engine.connect()
        got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}).scalar()
        connection.commit()
        if got:
            self._connection = connection
            self._checked_at = time.monotonic()
            log.info("this process runs the scheduled jobs")
            return True
        connection.close()
        return False

    def _acquire_file(self) -> bool:
        database = self.engine.url.database or "tierslieu.db"
        path = f"{database}.scheduler.lock" if database != ":memory:" else f"/tmp/tierslieu-{os.getpid()}.lock"
        handle = open(path, "a")  # noqa: SIM115 (held open for the life of the process)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        with self._lock:
            self._release()

    def _release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
                self._connection.close()
            except Exception:
                log.exception("releasing the scheduler lock failed")
            self._connection = None
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
