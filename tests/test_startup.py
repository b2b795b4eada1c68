"""Starting and stopping: a database that cannot be used is one line naming the cause and exit status 2;
on PostgreSQL a lost scheduler-lock connection means this process is not the leader any more."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.core.leadership import Leadership
from storage.db import make_engine
from tests.conftest import POSTGRES_URL

ROOT = Path(__file__).resolve().parents[1]


def run_bot(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "run"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT), "HTTP_PORT": "0", "LOG_LEVEL": "INFO", **env},
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "Traceback" not in result.stderr
    return lines[0]


def test_an_unreachable_postgresql_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    line = one_line(run_bot(tmp_path, DATABASE_URL=f"postgresql://bot:secret-pw@127.0.0.1:{port}/tierslieu"))
    assert line.startswith(f"cannot start: DATABASE_URL: cannot reach PostgreSQL (127.0.0.1:{port}/tierslieu)")
    assert "secret-pw" not in line


def test_refused_credentials_are_one_line_and_exit_2(tmp_path: Path) -> None:
    if not POSTGRES_URL:
        pytest.skip("TEST_POSTGRES_URL is not set")
    url = POSTGRES_URL.replace("postgresql://postgres@", f"postgresql://nobody{uuid.uuid4().hex[:6]}:pw@")
    line = one_line(run_bot(tmp_path, DATABASE_URL=url))
    assert "DATABASE_URL: PostgreSQL refused the user name or password" in line


def test_a_database_directory_that_cannot_be_made_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    line = one_line(run_bot(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/a-file/bot.db"))
    assert line.startswith("cannot start: DATABASE_URL: ") and "a-file" in line


def tmpfs(path: Path, options: str) -> bool:
    """A small file system of our own (needs root; the test is skipped elsewhere)."""
    path.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    return result.returncode == 0


@pytest.mark.parametrize("options, cause", [("size=64k", "disk is full|disk I/O error"),
                                             ("size=1m,ro", "read-only|cannot open the database file")])
def test_a_full_disk_or_a_read_only_file_system_is_one_line_and_exit_2(
    tmp_path: Path, options: str, cause: str
) -> None:
    mount = tmp_path / "fs"
    if os.geteuid() != 0 or not tmpfs(mount, options):
        pytest.skip("needs root to mount a small or read-only tmpfs")
    try:
        line = one_line(run_bot(tmp_path, DATABASE_URL=f"sqlite:///{mount}/bot.db"))
    finally:
        subprocess.run(["umount", str(mount)], check=False)
    assert line.startswith("cannot start: ")
    assert re.search(cause, line), line


def test_a_lost_lock_connection_means_not_the_leader_any_more(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    first, second = Leadership(engine), Leadership(engine)
    try:
        assert first.acquire() and not second.acquire()
        pid = first._connection.execute(text("SELECT pg_backend_pid()")).scalar()
        first._connection.commit()
        with engine.connect() as admin:  # the server drops that connection (restart, network, idle kill)
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            admin.commit()
        first._checked_at = 0.0  # the next check is due
        deadline = time.monotonic() + 10  # the server ends the terminated session a moment later
        while not second.acquire() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert second.held, "the lock went with the connection"
        assert not first.acquire(), "the first process knows it is not the leader any more"
    finally:
        first.release()
        second.release()
        engine.dispose()


def test_a_scripted_console_chat_ends_without_a_traceback(tmp_path: Path) -> None:
    for _ in range(3):  # the jobs started with the chat used to be cancelled noisily at its end
        result = subprocess.run(
            [sys.executable, "-m", "bot", "chat"], input="/aide\n/spaces\n", cwd=tmp_path, capture_output=True,
            text=True, timeout=60,
            env={**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path}/chat.db"},
        )
        assert result.returncode == 0
        assert "Traceback" not in result.stdout + result.stderr, result.stderr
        assert "/aide" in result.stdout
