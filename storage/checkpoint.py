"""SQLite's write-ahead log copied back into the database file by a background thread, not by whichever
command's commit happens to fill it (issue 15).

By default SQLite checkpoints in the COMMIT that takes the log past 1,000 pages: that commit copies the pages
and syncs the database file, 10-15 ms on this machine's disk (a Raspberry Pi's SD card: more), which was most
of /book's p99. Here each connection's automatic checkpoint is pushed back to ``WAL_AUTOCHECKPOINT_PAGES`` (a
safety net, should the thread fall behind or stop), and a thread per database file runs a PASSIVE checkpoint
(it waits for nobody and blocks nobody: readers and the writer go on) after ``CHECKPOINT_AFTER_COMMITS`` write
transactions, or within ``CHECKPOINT_AFTER_S`` when fewer came. Nothing is lost either way: what
is committed is in the log, which SQLite reads and checkpoints itself after a crash.

The thread opens its own connection for each checkpoint (``mode=rw``: a file deleted meanwhile is not made
again) and ends after ``IDLE_EXIT_S`` without commits; the next commit starts it again."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

# A commit checkpoints itself only past this many pages in the log (~40 MB with 4 KiB pages).
WAL_AUTOCHECKPOINT_PAGES = 10_000
CHECKPOINT_AFTER_COMMITS = 200
CHECKPOINT_AFTER_S = 1.0
IDLE_EXIT_S = 10.0


class WalCheckpointer:
    """Background checkpoints of one SQLite database file (see the module's docstring)."""

    def __init__(self, path: str, *, after_commits: int = CHECKPOINT_AFTER_COMMITS,
                 after_s: float = CHECKPOINT_AFTER_S, idle_exit_s: float = IDLE_EXIT_S) -> None:
        self.path = path
        self.after_commits = after_commits
        self.after_s = after_s
        self.idle_exit_s = idle_exit_s
        self.checkpoints = 0  # done by the thread (for tests and benches)
        self._commits = 0  # write transactions committed since the last checkpoint
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def committed(self) -> None:
        """A write transaction was committed on this file (called in the committing thread: cheap)."""
        with self._lock:
            self._commits += 1
            if self._thread is None and not self._stopping:
                self._thread = threading.Thread(target=self._run, name=f"wal-checkpoint {Path(self.path).name}",
                                                daemon=True)
                self._thread.start()
            if self._commits >= self.after_commits:
                self._wake.set()

    def stop(self, *, final: bool = True) -> None:
        """Stop the thread (waiting for a checkpoint under way); ``final``: checkpoint what is left."""
        with self._lock:
            self._stopping = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join()
        if final and self._commits:
            self._checkpoint()
        with self._lock:
            self._stopping = False

    def _run(self) -> None:
        idle_since = time.monotonic()
        while True:
            self._wake.wait(self.after_s)
            self._wake.clear()
            with self._lock:
                if self._stopping:
                    self._thread = None
                    return
                pending = self._commits
                if not pending and time.monotonic() - idle_since >= self.idle_exit_s:
                    self._thread = None
                    return
            if pending:  # enough commits, or fewer but the last one after_s ago
                self._checkpoint()
                idle_since = time.monotonic()

    def _checkpoint(self) -> None:
        with self._lock:
            self._commits = 0
        try:
            connection = sqlite3.connect(f"file:{self.path}?mode=rw", uri=True, timeout=0,
                                         check_same_thread=False)
        except sqlite3.Error as error:  # the file is gone (mode=rw: not made again)
            log.debug("WAL checkpoint of %s: cannot open the file: %s", self.path, error)
            return
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.checkpoints += 1
        except sqlite3.Error as error:  # busy with another checkpoint, or the file is going away
            log.debug("WAL checkpoint of %s skipped: %s", self.path, error)
        finally:
            connection.close()


_checkpointers: dict[str, WalCheckpointer] = {}
_registry_lock = threading.Lock()


def database_file(database: str) -> str | None:
    """The real path of a SQLite URL's database file, the key by which this process's engines on one file
    share what they share (writer queue, checkpointer); None for an in-memory or URI-named database."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return os.path.realpath(database)


def checkpointer_for(database: str) -> WalCheckpointer | None:
    """The checkpointer of a database file, shared by the engines of this process on it; None for an
    in-memory or URI-named database (no file of ours to checkpoint)."""
    key = database_file(database)
    if key is None:
        return None
    with _registry_lock:
        found = _checkpointers.get(key)
        if found is None:
            found = _checkpointers[key] = WalCheckpointer(key)
        return found
