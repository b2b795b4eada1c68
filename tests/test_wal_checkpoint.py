"""SQLite's log is checkpointed by a background thread, not in the commit of whichever command fills it
(storage.checkpoint, issue 15): what is committed still reaches the database file, nothing is lost."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from storage.checkpoint import WalCheckpointer, checkpointer_for
from storage.db import make_engine, session_scope


@pytest.fixture()
def database(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    path = str(tmp_path / "wal.db")
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body BLOB)"))
    yield path, engine
    checkpointer = checkpointer_for(path)
    assert checkpointer is not None
    checkpointer.stop(final=False)
    engine.dispose()


def write(engine: Engine, n: int, size: int = 100) -> None:
    for _ in range(n):
        with session_scope(engine) as session:
            session.execute(text("INSERT INTO note (body) VALUES (randomblob(:size))"), {"size": size})


def rows_in_the_database_file(path: str) -> int:
    """Rows as the database file itself holds them, the log left aside (immutable: no WAL read)."""
    connection = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return connection.execute("SELECT count(*) FROM note").fetchone()[0]
    except sqlite3.OperationalError:  # the table itself is still only in the log
        return 0
    finally:
        connection.close()


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def restarted(path: str, **settings: float) -> WalCheckpointer:
    """The file's checkpointer, its thread stopped (after a last checkpoint) and its settings changed: the
    table's commit in the fixture started it with the defaults."""
    checkpointer = checkpointer_for(path)
    assert checkpointer is not None
    checkpointer.stop(final=True)
    for name, value in settings.items():
        setattr(checkpointer, name, value)
    return checkpointer


def test_a_commit_that_fills_the_log_does_not_copy_it_into_the_file(database: tuple[str, Engine]) -> None:
    path, engine = database
    checkpointer = checkpointer_for(path)
    assert checkpointer is not None
    checkpointer.stop(final=False)
    checkpointer.after_commits, checkpointer.after_s = 10**9, 3600.0  # the thread stays out of it
    write(engine, 300, size=8000)  # ~600 pages... and past SQLite's own 1,000-page checkpoint
    write(engine, 300, size=8000)
    assert rows_in_the_database_file(path) == 0  # no commit paid for a checkpoint
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM note")).scalar() == 600  # all committed (in the log)
    checkpointer.stop(final=True)
    assert rows_in_the_database_file(path) == 600


def test_enough_commits_wake_the_thread_which_copies_them_into_the_file(database: tuple[str, Engine]) -> None:
    path, engine = database
    checkpointer = restarted(path, after_commits=20, after_s=3600.0)
    write(engine, 20)
    assert wait_for(lambda: rows_in_the_database_file(path) == 20)
    assert checkpointer.checkpoints >= 1


def test_a_few_commits_reach_the_file_after_a_while(database: tuple[str, Engine]) -> None:
    path, engine = database
    restarted(path, after_commits=10**9, after_s=0.1)
    write(engine, 3)
    assert wait_for(lambda: rows_in_the_database_file(path) == 3)


def test_read_only_transactions_do_not_count_as_commits(database: tuple[str, Engine]) -> None:
    path, engine = database
    checkpointer = restarted(path, after_commits=10**9, after_s=3600.0)
    for _ in range(5):
        with session_scope(engine, read_only=True) as session:
            session.execute(text("SELECT count(*) FROM note")).scalar()
    assert checkpointer._commits == 0
    write(engine, 2)
    assert checkpointer._commits == 2


def test_the_thread_ends_when_idle_and_comes_back_with_the_next_commit(database: tuple[str, Engine]) -> None:
    path, engine = database
    checkpointer = restarted(path, after_s=0.05, idle_exit_s=0.2)
    write(engine, 1)
    running = [t for t in threading.enumerate() if t.name == "wal-checkpoint wal.db"]
    assert running
    assert wait_for(lambda: checkpointer._thread is None and not running[0].is_alive())
    write(engine, 1)
    assert checkpointer._thread is not None
    assert wait_for(lambda: rows_in_the_database_file(path) == 2)


def test_a_database_file_deleted_meanwhile_is_not_made_again(tmp_path: Path) -> None:
    path = tmp_path / "gone.db"
    sqlite3.connect(path).close()
    checkpointer = WalCheckpointer(str(path), after_commits=1)
    path.unlink()
    checkpointer.committed()
    checkpointer.stop(final=True)
    assert not path.exists()


def test_in_memory_databases_have_no_checkpointer() -> None:
    assert checkpointer_for(":memory:") is None
    assert checkpointer_for("") is None


def test_a_database_file_moved_away_is_not_replaced_by_an_empty_one(database: tuple[str, Engine],
                                                                     tmp_path: Path) -> None:
    path, engine = database
    write(engine, 3)
    engine.dispose()  # the next command opens a new connection
    Path(path).rename(tmp_path / "elsewhere.db")
    with pytest.raises(OperationalError):
        write(engine, 1)
    assert not Path(path).exists()
    (tmp_path / "elsewhere.db").rename(path)
    write(engine, 1)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM note")).scalar() == 4
