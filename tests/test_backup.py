"""Backups taken while members use the bot, restored into an empty place: every table comes back, the
Matrix store too, the secrets never leave; the daily job keeps the last BACKUP_KEEP archives."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import tarfile
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.backup import BackupError, backup, read_manifest, restore, table_rows
from bot.config import Settings
from storage.db import make_engine
from tests.conftest import POSTGRES_URL, _psycopg_url
from tests.harness import Chat, make_chat, make_settings

SECRET = "123456:AAE-very-secret-telegram-token"


def use_the_bot(chat: Chat, rounds: int = 1, prefix: str = "m") -> None:
    for n in range(rounds):
        who = f"{prefix}{n % 5}"
        chat.say(who, f"/tache {1 + n % 3}h tri des dons #ressourcerie")
        chat.say(who, f"/book open-space 2026-12-{1 + n % 20:02d} 10h-11h")


def target_settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(database_url, DATA_DIR=str(tmp_path / "data"),
                         MATRIX_STORE_DIR=str(tmp_path / "matrix-store"))


def restored_rows(tmp_path: Path, archive: Path, database_url: str | None = None) -> dict[str, list[dict]]:
    url = database_url or f"sqlite:///{tmp_path / 'restored.db'}"
    restore(target_settings(tmp_path, url), archive)
    engine = make_engine(url)
    try:
        return table_rows(engine)
    finally:
        engine.dispose()


def test_backups_taken_while_members_book_restore_a_consistent_database(tmp_path: Path) -> None:
    chat = make_chat(f"sqlite:///{tmp_path / 'live.db'}")
    settings = dataclasses.replace(chat.app.settings, data_dir=tmp_path / "live-data")
    use_the_bot(chat, 5)
    stop = threading.Event()

    def members_keep_going() -> None:
        n = 0
        while not stop.is_set():
            use_the_bot(chat, 1, prefix=f"busy{n % 7}-")
            n += 1

    workers = [threading.Thread(target=members_keep_going) for _ in range(3)]
    for worker in workers:
        worker.start()
    try:
        archives = [backup(settings, tmp_path / f"during-{n}.tar.gz").path for n in range(3)]
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    live = table_rows(chat.app.engine)
    for n, archive in enumerate(archives):
        place = tmp_path / f"restore-{n}"
        rows = restored_rows(place, archive)
        # A snapshot: the tables the members only added to hold a prefix of what the live database holds now.
        assert rows["booking"] and rows["task_entry"]
        for table in ("member", "identity", "booking", "task_entry"):
            assert rows[table] == live[table][:len(rows[table])], table
    final = backup(settings, tmp_path / "after.tar.gz")
    assert restored_rows(tmp_path / "restore-final", final.path) == table_rows(chat.app.engine)
    chat.app.engine.dispose()


def test_the_matrix_store_comes_back_and_no_secret_goes_into_the_archive(tmp_path: Path) -> None:
    store = tmp_path / "live-store"
    store.mkdir()
    keys = sqlite3.connect(store / "@bot_example.org_DEVICE.db")
    keys.execute("CREATE TABLE olm (account TEXT)")
    keys.execute("INSERT INTO olm VALUES ('pickled-account')")
    keys.commit()  # left open, as the running bot leaves it
    (store / "cross_signing.json").write_text('{"master": "xyz"}')
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'live.db'}", "MATRIX_STORE_DIR": str(store),
           "TELEGRAM_BOT_TOKEN": SECRET, "MATRIX_PASSWORD": "hunter2", "TIMEZONE": "Europe/Paris",
           "LANGUAGE": "fr", "COORDINATORS": "console:coord", "PUBLIC_URL": "https://bot.example.org"}
    chat = make_chat(env["DATABASE_URL"])
    use_the_bot(chat, 2)
    settings = make_settings(env["DATABASE_URL"], MATRIX_STORE_DIR=str(store))
    result = backup(settings, tmp_path / "b.tar.gz", env=env)
    keys.close()
    with tarfile.open(result.path) as archive:
        everything = b"".join(archive.extractfile(m).read() for m in archive.getmembers() if m.isfile())  # type: ignore[union-attr]
    assert SECRET.encode() not in everything and b"hunter2" not in everything
    assert result.path.stat().st_mode & 0o077 == 0
    place = tmp_path / "new"
    restore(target_settings(place, f"sqlite:///{place / 'bot.db'}"), result.path)
    restored = sqlite3.connect(place / "matrix-store" / "@bot_example.org_DEVICE.db")
    assert restored.execute("SELECT account FROM olm").fetchall() == [("pickled-account",)]
    assert (place / "matrix-store" / "cross_signing.json").read_text() == '{"master": "xyz"}'
    settings_text = (place / "data" / "settings-from-backup.env").read_text()
    assert "PUBLIC_URL=https://bot.example.org" in settings_text and "TELEGRAM" not in settings_text
    chat.app.engine.dispose()


def test_restore_refuses_a_database_that_already_holds_data_and_leaves_it_alone(tmp_path: Path) -> None:
    chat = make_chat(f"sqlite:///{tmp_path / 'live.db'}")
    use_the_bot(chat, 3)
    archive = backup(chat.app.settings, tmp_path / "b.tar.gz").path
    before = table_rows(chat.app.engine)
    with pytest.raises(BackupError, match="already holds a database"):
        restore(target_settings(tmp_path, chat.app.settings.database_url), archive)
    assert table_rows(chat.app.engine) == before
    chat.app.engine.dispose()


def test_a_damaged_archive_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    chat = make_chat(f"sqlite:///{tmp_path / 'live.db'}")
    use_the_bot(chat, 2)
    archive = backup(chat.app.settings, tmp_path / "b.tar.gz").path
    chat.app.engine.dispose()
    unpacked = tmp_path / "unpacked"
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="data")
    database = unpacked / "database.sqlite"
    database.write_bytes(database.read_bytes().replace(b"tri des dons", b"tri des DONS"))
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(damaged, "w:gz") as tar:
        for path in sorted(unpacked.rglob("*")):
            tar.add(path, arcname=path.relative_to(unpacked).as_posix(), recursive=False)
    place = tmp_path / "place"
    with pytest.raises(BackupError, match=r"database\.sqlite is missing or damaged"):
        restore(target_settings(place, f"sqlite:///{place / 'bot.db'}"), damaged)
    assert not (place / "bot.db").exists()


def test_daily_job_keeps_the_last_archives_and_writes_one_a_day(tmp_path: Path) -> None:
    chat = make_chat(f"sqlite:///{tmp_path / 'live.db'}", BACKUP_DIR=str(tmp_path / "backups"), BACKUP_KEEP="2")
    use_the_bot(chat, 1)
    for _ in range(4):
        chat.app.jobs.run_now("daily-backup")
        chat.clock.advance(hours=1)
        chat.app.jobs.run_now("daily-backup")  # an hour later: nothing new
        chat.clock.advance(days=1)
    archives = sorted((tmp_path / "backups").glob("*.tar.gz"))
    assert len(archives) == 2
    # Scheduled every day at BACKUP_TIME in the place's time zone (not at each start).
    job = chat.app.jobs.jobs["daily-backup"]
    fire = chat.app.jobs.trigger_for(job).get_next_fire_time(None, datetime(2026, 10, 24, 12, tzinfo=UTC))
    assert fire is not None and fire.isoformat() == "2026-10-25T03:30:00+01:00"  # the night the clocks go back
    assert [read_manifest(a)["created_at"][:10] for a in archives] == ["2026-11-25", "2026-11-26"]
    chat.app.engine.dispose()


@pytest.fixture
def empty_postgres_urls() -> Iterator[list[str]]:
    """Two more empty PostgreSQL databases, to restore into."""
    if not POSTGRES_URL:
        pytest.skip("TEST_POSTGRES_URL is not set")
    base = make_url(_psycopg_url(POSTGRES_URL))
    names = [f"tl_restore_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield [base.set(database=name).render_as_string(hide_password=False) for name in names]
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_postgres_backup_with_pg_dump_and_with_the_logical_export_restores_every_table(
        postgres_url: str, empty_postgres_urls: list[str], tmp_path: Path) -> None:
    chat = make_chat(postgres_url)
    try:
        use_the_bot(chat, 6)
        chat.say("coord", '/event add "Repair café" samedi 14h-18h places 2 lieu salle-reunion chaque samedi')
        chat.say("m1", "/join 1")
        live = table_rows(chat.app.engine)
        dumped = backup(chat.app.settings, tmp_path / "dump.tar.gz")
        exported = backup(chat.app.settings, tmp_path / "export.tar.gz", use_pg_dump=False)
        assert (dumped.database_kind, exported.database_kind) == ("pg_dump", "json")
        assert json.loads(json.dumps(read_manifest(exported.path)["tables"])) == {k: len(v) for k, v in live.items()}
        assert restored_rows(tmp_path / "a", dumped.path, empty_postgres_urls[0]) == live
        assert restored_rows(tmp_path / "b", exported.path, empty_postgres_urls[1]) == live
        # The logical export also moves a PostgreSQL bot to SQLite.
        assert restored_rows(tmp_path / "c", exported.path) == live
        # And the restored PostgreSQL bot goes on numbering where it was.
        moved = make_chat(empty_postgres_urls[1], now=chat.clock.now + timedelta(minutes=1))
        assert "Réservé" in moved.text("m9", "/book salle-reunion 2026-12-02 10h-11h")
        moved.app.engine.dispose()
    finally:
        chat.app.engine.dispose()
