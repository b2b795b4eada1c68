"""The in-process queue of SQLite writers (storage/db.py ``_WriterQueue``): threads of one process wait
for each other's write transactions on a Python lock, read-only transactions don't queue, a nested
writer in the same thread behaves as without the queue, and other processes still meet SQLite's busy
timeout. No timings are asserted beyond "did not hang"."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

import storage.db as db
from storage.db import make_engine, session_scope

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.delenv(db.WRITER_QUEUE_ENV, raising=False)
    made = make_engine(f"sqlite:///{tmp_path / 'queue.db'}")
    with session_scope(made) as session:
        session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT)"))
    yield made
    made.dispose()


def _write(engine: Engine, who: str, hold: float = 0.0) -> None:
    with session_scope(engine) as session:
        session.execute(text("INSERT INTO t (who) VALUES (:who)"), {"who": who})
        time.sleep(hold)


def _rows(engine: Engine) -> list[str]:
    with session_scope(engine, read_only=True) as session:
        return [row[0] for row in session.execute(text("SELECT who FROM t ORDER BY id"))]


def _run(target, *args) -> tuple[threading.Thread, list[BaseException]]:  # type: ignore[no-untyped-def]
    errors: list[BaseException] = []

    def body() -> None:
        try:
            target(*args)
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, errors


def _holding_writer(engine: Engine, who: str, hold: float) -> tuple[threading.Thread, list[BaseException],
                                                                    threading.Event]:
    """A writer of this process inside its transaction (it has written ``who``) until ``hold`` seconds pass
    or the returned event is set; returns once it is inside."""
    inside = threading.Event()
    leave = threading.Event()

    def holding() -> None:
        with session_scope(engine) as session:
            session.execute(text("INSERT INTO t (who) VALUES (:who)"), {"who": who})
            inside.set()
            leave.wait(hold)

    thread, errors = _run(holding)
    assert inside.wait(10)
    return thread, errors, leave


def test_concurrent_writers_of_one_process_both_commit(engine: Engine) -> None:
    threads = [_run(_write, engine, f"w{i}", 0.2) for i in range(4)]
    for thread, errors in threads:
        thread.join(timeout=30)
        assert not thread.is_alive()
        assert errors == []
    assert sorted(_rows(engine)) == ["w0", "w1", "w2", "w3"]


def test_a_failed_transaction_lets_the_next_writer_in(engine: Engine) -> None:
    def failing() -> None:
        with session_scope(engine) as session:
            session.execute(text("INSERT INTO t (who) VALUES ('lost')"))
            raise RuntimeError("boom")

    thread, errors = _run(failing)
    thread.join(timeout=10)
    assert [type(e) for e in errors] == [RuntimeError]
    thread, errors = _run(_write, engine, "next")
    thread.join(timeout=10)
    assert not thread.is_alive() and errors == []
    assert _rows(engine) == ["next"]


def test_nested_writer_in_the_same_thread_does_not_deadlock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As without the queue: the inner write transaction meets SQLite's lock held by the outer one and
    fails after the busy timeout (1 s here); then the queue is free for other threads."""
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_S", 1)
    monkeypatch.delenv(db.WRITER_QUEUE_ENV, raising=False)
    short = make_engine(f"sqlite:///{tmp_path / 'nested.db'}")
    with session_scope(short) as session:
        session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT)"))
    outcome: list[str] = []

    def nested() -> None:
        with session_scope(short) as outer:
            outer.execute(text("INSERT INTO t (who) VALUES ('outer')"))
            try:
                with session_scope(short) as inner:
                    inner.execute(text("INSERT INTO t (who) VALUES ('inner')"))
                outcome.append("inner committed")
            except OperationalError as error:
                outcome.append("inner locked" if "locked" in str(error) else str(error))

    thread, errors = _run(nested)
    thread.join(timeout=20)
    assert not thread.is_alive(), "nested write transactions deadlocked"
    assert errors == [] and outcome == ["inner locked"]
    thread, errors = _run(_write, short, "after")
    thread.join(timeout=10)
    assert not thread.is_alive() and errors == []
    assert _rows(short) == ["outer", "after"]
    short.dispose()


def test_read_only_sessions_do_not_wait_behind_a_writer(engine: Engine) -> None:
    _write(engine, "before")
    thread, errors, leave = _holding_writer(engine, "held", 20)
    read, read_errors = _run(lambda: _rows(engine))
    read.join(timeout=5)
    still_holding = thread.is_alive()
    leave.set()
    thread.join(timeout=10)
    assert not read.is_alive(), "a read-only session waited behind the writer"
    assert still_holding and read_errors == [] and errors == []


def test_release_from_another_thread(engine: Engine) -> None:
    """A transaction begun in one thread and ended in another gives the queue back without error."""
    conn = engine.connect()
    conn.begin()
    conn.execute(text("INSERT INTO t (who) VALUES ('handed over')"))
    thread, errors = _run(lambda: (conn.commit(), conn.close()))
    thread.join(timeout=10)
    assert errors == []
    thread, errors = _run(_write, engine, "next")
    thread.join(timeout=10)
    assert not thread.is_alive() and errors == []
    assert _rows(engine) == ["handed over", "next"]


def test_another_process_still_waits_on_sqlites_busy_timeout(engine: Engine, tmp_path: Path) -> None:
    """A second process holding SQLite's write lock: this process's writers wait for it (busy timeout),
    and its own writer, through storage.db, waits for ours."""
    database = engine.url.database
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import sqlite3, sys, time\n"
            f"c = sqlite3.connect({database!r}, isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE'); c.execute(\"INSERT INTO t (who) VALUES ('other')\")\n"
            "print('held', flush=True); time.sleep(0.8); c.execute('COMMIT')\n"
        )],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        threads = [_run(_write, engine, f"w{i}") for i in range(2)]
        for thread, errors in threads:
            thread.join(timeout=30)
            assert not thread.is_alive() and errors == []
    finally:
        holder.wait(timeout=30)
    assert holder.returncode == 0

    thread, errors, _leave = _holding_writer(engine, "ours", 0.8)
    writer = subprocess.run(
        [sys.executable, "-c", (
            "import sys; from sqlalchemy import text; from storage.db import make_engine, session_scope\n"
            f"e = make_engine({str(engine.url)!r})\n"
            "with session_scope(e) as s: s.execute(text(\"INSERT INTO t (who) VALUES ('theirs')\"))\n"
        )],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    thread.join(timeout=10)
    assert writer.returncode == 0, writer.stderr
    assert errors == []
    rows = _rows(engine)
    assert sorted(rows) == sorted(["other", "w0", "w1", "ours", "theirs"])
    assert rows.index("ours") < rows.index("theirs")


def test_a_failed_commit_is_raised_and_lets_the_next_writer_in(engine: Engine) -> None:
    """COMMIT runs in the queue's commit listener: its failure (here a deferred foreign key) must still
    reach the caller, nothing of the transaction kept, and the queue be given back."""
    with session_scope(engine) as session:
        session.execute(text(
            "CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER "
            "REFERENCES t(id) DEFERRABLE INITIALLY DEFERRED)"
        ))
    with pytest.raises(Exception, match="FOREIGN KEY"), session_scope(engine) as session:
        session.execute(text("INSERT INTO t (who) VALUES ('orphan maker')"))
        session.execute(text("INSERT INTO child (parent) VALUES (12345)"))
    thread, errors = _run(_write, engine, "next")
    thread.join(timeout=10)
    assert not thread.is_alive() and errors == []
    assert _rows(engine) == ["next"]


def test_the_queue_is_reentrant_per_thread_and_released_from_any_thread() -> None:
    queue = db._WriterQueue()
    queue.acquire(1, timeout=5)
    queue.acquire(2, timeout=5)  # the same thread, a second connection: no wait
    queue.release(1)
    thread, errors = _run(queue.release, 2)  # ended from another thread: no RuntimeError
    thread.join(timeout=5)
    assert errors == []
    taken: list[bool] = []
    thread, errors = _run(lambda: (queue.acquire(3, timeout=5), taken.append(True), queue.release(3)))
    thread.join(timeout=10)
    assert taken == [True] and errors == []
    queue.release(99)  # not a holder: nothing happens
