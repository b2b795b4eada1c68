"""Upgrading a database made by the previous release (tests/fixtures/previous_release_0.1.0.sqlite.gz, built
by that release's own commands): the bot upgrades it at start and everything is still there and still works;
a migration that fails leaves the database exactly as it was, with one line saying so."""

from __future__ import annotations

import gzip
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import App
from bot.backup import copy_rows, table_rows
from storage.db import make_engine
from storage.migrate import MIGRATIONS_DIR, MigrationError, current_revisions, upgrade
from tests.harness import Chat, Clock, make_settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "previous_release_0.1.0.sqlite.gz"
RELEASE_0_1_0_HEADS = {"0002", "0003", "0004"}


def previous_release_database(directory: Path) -> Path:
    path = directory / "tierslieu.db"
    path.write_bytes(gzip.decompress(FIXTURE.read_bytes()))
    return path


def rows_by_table(path: Path) -> dict[str, list[dict[str, Any]]]:
    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    try:
        tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: [dict(row) for row in connection.execute(f'SELECT * FROM "{table}" ORDER BY 1')]
                for table in tables if table != "alembic_version"}
    finally:
        connection.close()


def test_the_fixture_really_is_at_release_0_1_0(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{previous_release_database(tmp_path)}")
    assert current_revisions(engine) == RELEASE_0_1_0_HEADS
    engine.dispose()


def test_every_row_of_the_previous_release_is_still_there_after_start(tmp_path: Path) -> None:
    path = previous_release_database(tmp_path)
    before = rows_by_table(path)
    assert all(before[table] for table in ("booking", "eventsignup", "task_entry", "calendartoken", "reminder",
                                           "announcement", "linkcode", "identity", "shift_signup"))
    app = App(make_settings(f"sqlite:///{path}"), adapters=[])
    app.prepare()
    app.engine.dispose()
    after = rows_by_table(path)
    for table, rows in before.items():
        # New columns may appear; the old ones keep every value of every row.
        kept = [{column: row[column] for column in rows[0]} for row in after[table]] if rows else after[table]
        assert kept == rows, table


async def test_the_upgraded_bot_answers_as_before_with_the_same_calendar_link(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    path = previous_release_database(tmp_path)
    [(token,)] = sqlite3.connect(path).execute("SELECT token FROM calendartoken").fetchall()
    clock = Clock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    settings = make_settings(f"sqlite:///{path}", HTTP_HOST="127.0.0.1", HTTP_PORT="0",
                             PUBLIC_URL="https://bot.example.org")
    app = App(settings, adapters=[], clock=clock, serve_feeds=True)
    app.prepare()
    chat = Chat(app, clock)
    await app.web.start()
    try:
        bookings = chat.text("alice", "/mesreservations")
        assert "Salle de réunion" in bookings and "Découpeuse laser" in bookings and "Petite salle" not in bookings
        from bot.core.types import Platform

        assert chat.text("alice_tg", "/mybookings", platform=Platform.TELEGRAM) == bookings
        assert "Repair café" in chat.text("alice", "/mesevenements")
        assert "liste d'attente" in chat.text("coord", "/mesevenements")
        assert "2h30" in chat.text("alice", "/taches")
        assert "Tenir le bar" in chat.text("alice", "/creneaux")
        assert "appeler la mairie" in chat.text("bob", "/reminders")
        assert f"/ical/members/{token}.ics" in chat.text("alice", "/calendrier")
        async with aiohttp.ClientSession() as http, \
                http.get(f"http://127.0.0.1:{app.web.port}/ical/members/{token}.ics") as response:
            feed = await response.text()
        assert response.status == 200 and "Salle de réunion" in feed and "Repair café" in feed
        # The new version keeps working on it: a new booking gets the next number.
        assert chat.text("bob", "/book petite-salle 2026-11-26 10h-11h").startswith("Booked")
    finally:
        await app.web.stop()
        app.engine.dispose()


def failing_migrations(directory: Path) -> Path:
    """The real migrations plus one that changes tables and rows and then fails."""
    migrations = directory / "migrations"
    shutil.copytree(MIGRATIONS_DIR, migrations, ignore=shutil.ignore_patterns("__pycache__"))
    (migrations / "versions" / "9999_broken.py").write_text(
        'import sqlalchemy as sa\nfrom alembic import op\n\n'
        'revision = "9999"\ndown_revision = "0004"\nbranch_labels = None\ndepends_on = None\n\n\n'
        'def upgrade() -> None:\n'
        '    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))\n'
        '    op.add_column("member", sa.Column("nickname", sa.String(50), nullable=True))\n'
        '    op.execute("UPDATE member SET display_name = \'gone\'")\n'
        '    op.execute("DELETE FROM booking")\n'
        '    op.execute("SELECT no_such_function()")\n\n\n'
        'def downgrade() -> None:\n    pass\n')
    return migrations


def test_a_failed_migration_leaves_the_sqlite_database_as_it_was(tmp_path: Path) -> None:
    path = previous_release_database(tmp_path)
    before = rows_by_table(path)
    schema_before = sqlite3.connect(path).execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    engine = make_engine(f"sqlite:///{path}")
    with pytest.raises(MigrationError) as raised:
        upgrade(engine, migrations_dir=failing_migrations(tmp_path))
    assert current_revisions(engine) == RELEASE_0_1_0_HEADS
    engine.dispose()
    message = str(raised.value)
    assert "\n" not in message and "no_such_function" in message
    assert message.endswith("the database was left as it was (revision 0002, 0003, 0004)")
    assert rows_by_table(path) == before
    assert sqlite3.connect(path).execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == schema_before


@pytest.mark.postgres
def test_a_failed_migration_leaves_the_postgres_database_as_it_was(postgres_url: str, tmp_path: Path) -> None:
    engine = make_engine(postgres_url)
    try:
        for head in sorted(RELEASE_0_1_0_HEADS):
            upgrade(engine, head)
        engine_sqlite = make_engine(f"sqlite:///{previous_release_database(tmp_path)}")
        copy_rows(engine_sqlite, engine)
        engine_sqlite.dispose()
        before = table_rows(engine)
        with pytest.raises(MigrationError, match="left as it was"):
            upgrade(engine, migrations_dir=failing_migrations(tmp_path))
        assert current_revisions(engine) == RELEASE_0_1_0_HEADS
        assert table_rows(engine) == before
        # And the real upgrade from there keeps every row too.
        upgrade(engine)
        after = table_rows(engine)
        for table, rows in before.items():
            assert [{c: row[c] for c in rows[0]} for row in after[table]] == rows if rows else True, table
    finally:
        engine.dispose()


def test_tierslieu_says_in_one_line_that_the_upgrade_failed_and_exits_2(tmp_path: Path) -> None:
    path = previous_release_database(tmp_path)
    # A database made by a newer version (a revision this one doesn't know) can't be "upgraded".
    connection = sqlite3.connect(path)
    connection.execute("UPDATE alembic_version SET version_num = '0999' WHERE version_num = '0004'")
    connection.commit()
    connection.close()
    before = rows_by_table(path)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "LANGUAGE": "fr"}
    result = subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], capture_output=True, text=True,
                            env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("cannot start: database upgrade failed:") and "0999" in line
    assert line.endswith("left as it was (revision 0002, 0003, 0999)")
    assert rows_by_table(path) == before


def test_version_is_printed() -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "--version"], capture_output=True, text=True,
                            cwd=ROOT, timeout=60)
    from importlib.metadata import version

    assert result.returncode == 0 and result.stdout.strip() == f"tierslieu {version('tierslieu-bot')}"
    assert f"## {version('tierslieu-bot')}" in (ROOT / "CHANGELOG.md").read_text()
