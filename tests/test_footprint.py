"""A start on a database already at every migration loads neither alembic nor what only one command or
page uses (the digest's matplotlib, the report's fpdf2, the door QR code's segno, the site's Jinja2, the
PostgreSQL dialect and driver on SQLite, dateparser, Babel's .po parser, the event series' dateutil, the spaces file's
tomllib, the report's Babel number formats), and reads the migrations' heads right from
the files; what is loaded later still works at its first use. The catalogs read without Babel's parser are
Babel's, message for message. A started bot gives freed heap memory back to the system now and then."""

from __future__ import annotations

import gettext
import subprocess
import sys
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest

from bot.core.i18n import LANGUAGES, LOCALE_DIR, _translations, read_catalog
from storage.db import make_engine
from storage.migrate import current_revisions, expected_revisions, upgrade
from tests.harness import Chat

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import sys
sys.path.insert(0, {root!r})
from bot.app import App
from bot.config import load_settings
app = App(load_settings({{"DATABASE_URL": {url!r}, "LOG_LEVEL": "WARNING"}}), adapters=[], serve_feeds=True)
app.prepare()
app.dispatcher.handle_sync  # the core is ready
print(" ".join(m for m in LAZY if m in sys.modules))
"""
LAZY = ("alembic", "matplotlib", "fpdf", "segno", "jinja2", "dateparser", "sqlalchemy.dialects.postgresql",
        "babel.messages.pofile", "dateutil", "tomllib", "babel.numbers", "psycopg")


def test_the_heads_read_from_the_files_are_what_alembic_leaves_in_the_database(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'heads.db'}")
    upgrade(engine)
    assert current_revisions(engine) == expected_revisions()
    engine.dispose()


def test_a_start_on_an_up_to_date_database_loads_no_alembic_nor_single_command_libraries(tmp_path: Path) -> None:
    from storage.seed import seed_if_empty

    url = f"sqlite:///{tmp_path / 'start.db'}"
    engine = make_engine(url)
    upgrade(engine)
    seed_if_empty(engine)  # a restart: the demo spaces were read from their file at the first start
    engine.dispose()
    probe = f"LAZY = {LAZY!r}\n" + PROBE.format(root=str(ROOT), url=url)
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True,
                            text=True, check=True, timeout=300, cwd=ROOT).stdout.split()
    assert loaded == []


def test_console_chat_answers_without_loading_the_http_server_library(tmp_path: Path) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MATRIX_", "DATABASE_"))}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path}/chat.db", "DATA_DIR": str(tmp_path), "LOG_LEVEL": "WARNING"})
    engine = make_engine(env["DATABASE_URL"])
    upgrade(engine)  # a chat on a database already up to date (migrating loads alembic and its dialects)
    engine.dispose()
    probe = ("import runpy, sys; sys.argv = ['bot', 'chat']; "
             "import atexit; atexit.register(lambda: print('LOADED', [m for m in ('aiohttp', 'jinja2', 'alembic', "
             "'sqlalchemy.dialects.postgresql', 'babel.messages.pofile') if m in sys.modules])); "
             "runpy.run_module('bot', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", probe], input="/aide\n", env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert "/aide" in done.stdout  # the command was answered
    assert "Les commandes" in done.stdout  # in French, from the catalogs
    assert "LOADED []" in done.stdout


def test_http_server_with_routes_still_serves_health() -> None:
    import asyncio

    from bot.web import WebServer

    async def scenario() -> int:
        from aiohttp import ClientSession

        server = WebServer("127.0.0.1", 0, [lambda app: None])
        await server.start()
        try:
            async with ClientSession() as session, session.get(f"http://127.0.0.1:{server.port}/healthz") as r:
                return r.status
        finally:
            await server.stop()

    assert asyncio.run(scenario()) == 200


async def test_a_stop_still_sends_the_notice_pending_before_it_returns(sqlite_chat: Chat) -> None:
    import io

    from bot.adapters.console import ConsoleAdapter

    sqlite_chat.say("bob", "/start")
    sqlite_chat.say("bob", "/book salle-reunion demain 14h-16h")
    sqlite_chat.say("coord", "/cancel 1")
    out = io.StringIO()
    outbox = sqlite_chat.app.outbox
    outbox.register(ConsoleAdapter("someone-else", stdin=io.StringIO(), stdout=out))
    outbox.start()
    await outbox.stop(flush_for=5.0)
    assert out.getvalue().startswith("[→ bob] Un·e coordinateur·rice (Coord) a annulé votre réservation")
    assert [m.status for m in sqlite_chat.outbox()] == ["sent"]


def _babel_compiled(language: str) -> gettext.GNUTranslations:
    """The catalogs merged and compiled as bot/core/i18n.py did with Babel before issue 15."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    catalog = None
    for po_path in sorted((LOCALE_DIR / language / "LC_MESSAGES").glob("*.po")):
        with po_path.open("rb") as po_file:
            part = read_po(po_file, locale=language)
        if catalog is None:
            catalog = part
            continue
        for message in part:
            if message.id and message.string:
                catalog[message.id] = message
    assert catalog is not None
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalogs_read_without_babels_parser_are_babels(language: str) -> None:
    ours = _translations(language)
    if not list((LOCALE_DIR / language / "LC_MESSAGES").glob("*.po")):
        assert type(ours) is gettext.NullTranslations
        return
    babel = _babel_compiled(language)
    assert isinstance(ours, gettext.GNUTranslations)
    without_header = [{k: v for k, v in t._catalog.items() if k != ""} for t in (ours, babel)]  # type: ignore[attr-defined]
    assert without_header[0] == without_header[1]
    assert len(without_header[0]) > 1000
    assert [ours.plural(n) for n in range(5)] == [babel.plural(n) for n in range(5)]  # type: ignore[attr-defined]
    assert ours.ngettext("{count} booking", "{count} bookings", 2) == babel.ngettext(
        "{count} booking", "{count} bookings", 2)


def test_read_catalog_reads_plurals_continuations_escapes_and_fuzzy_entries() -> None:
    text = (
        '#, fuzzy\nmsgid ""\nmsgstr ""\n"Plural-Forms: nplurals=2; plural=(n > 1);\\n"\n\n'
        '#: a.py:1\nmsgid "One \\"line\\""\nmsgstr ""\n"Une "\n"\\"ligne\\"\\n\\tet \\\\"\n\n'
        'msgid "{n} day"\nmsgid_plural "{n} days"\nmsgstr[0] "{n} jour"\nmsgstr[1] "{n} jours"\n\n'
        '#, fuzzy, python-format\nmsgid "Guess"\nmsgstr "Devine"\n\n'
        '#~ msgid "Old"\n#~ msgstr "Vieux"\n'
    )
    assert read_catalog(text) == [
        ("", ("Plural-Forms: nplurals=2; plural=(n > 1);\n",), True),
        ('One "line"', ('Une "ligne"\n\tet \\',), False),
        ("{n} day\0{n} days", ("{n} jour", "{n} jours"), False),
        ("Guess", ("Devine",), True),
    ]


async def test_a_started_app_trims_the_heap_now_and_then_and_stops_trimming_at_stop(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    import bot.app
    from bot.app import App
    from bot.config import load_settings

    trims: list[int] = []
    monkeypatch.setattr(bot.app, "TRIM_EVERY_S", 0.01)
    monkeypatch.setattr(bot.app, "heap_trimmer", lambda: lambda: trims.append(1))
    app = App(load_settings({"DATABASE_URL": f"sqlite:///{tmp_path / 'trim.db'}", "LOG_LEVEL": "WARNING"}),
              adapters=[])
    app.prepare()
    await app.start()
    for _ in range(200):
        if len(trims) >= 2:
            break
        await asyncio.sleep(0.01)
    await app.stop()
    assert len(trims) >= 2
    after_stop = len(trims)
    await asyncio.sleep(0.05)
    assert len(trims) == after_stop


def test_the_heap_trimmer_is_glibcs_malloc_trim_where_there_is_glibc() -> None:
    import platform

    from bot.app import heap_trimmer

    trim = heap_trimmer()
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("no glibc here")
    assert trim is not None
    assert trim() in (0, 1)  # 1: memory was given back, 0: there was none to give


def _start_and_stop_the_bot(tmp_path: Path) -> tuple[int, str]:
    """`tierslieu run` with no chat platform on tmp_path's SQLite database, stopped once it says it started."""
    import os
    import signal
    import time

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MATRIX_", "DATABASE_"))}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path}/run.db", "DATA_DIR": str(tmp_path), "LOG_LEVEL": "INFO",
                "HTTP_PORT": "0", "PYTHONPATH": str(ROOT)})
    log_path = tmp_path / "run.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env, stdout=log,
                                   stderr=log)
        try:
            deadline = time.monotonic() + 120
            while "starting; chat platforms" not in log_path.read_text() and time.monotonic() < deadline:
                assert process.poll() is None, log_path.read_text()
                time.sleep(0.1)
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
    return code, log_path.read_text()


def test_a_start_that_migrates_starts_again_once_without_what_the_migration_loaded(tmp_path: Path) -> None:
    code, log = _start_and_stop_the_bot(tmp_path)
    assert code == 0, log
    assert log.count("database migrated; starting again") == 1
    assert log.count("starting; chat platforms") == 1  # only the process started again goes on
    assert "Traceback" not in log
    code, log = _start_and_stop_the_bot(tmp_path)  # the next start: the database is up to date
    assert code == 0, log
    assert "starting again" not in log and log.count("starting; chat platforms") == 1


@pytest.mark.parametrize("console", [False, True])
async def test_a_started_app_runs_blocking_work_on_a_few_threads_of_its_own(tmp_path: Path, console: bool) -> None:
    """Not asyncio's default pool (6 threads on 2 cores, more on bigger machines): the inbox's worker, the
    outbox and one for the rest on SQLite, and one more while the console chat waits for the terminal."""
    import asyncio
    import io
    import threading
    import time

    from bot.adapters.console import ConsoleAdapter
    from bot.app import App
    from bot.config import load_settings

    adapters = [ConsoleAdapter("ann", stdin=io.StringIO(), stdout=io.StringIO())] if console else []
    app = App(load_settings({"DATABASE_URL": f"sqlite:///{tmp_path / 'threads.db'}", "LOG_LEVEL": "WARNING"}),
              adapters=adapters)
    await asyncio.to_thread(app.prepare)  # as the command line does: a default pool made before the start
    await app.start()
    try:
        def where() -> str:
            time.sleep(0.02)
            return threading.current_thread().name

        names = set(await asyncio.gather(*(asyncio.to_thread(where) for _ in range(40))))
    finally:
        await app.stop()
    assert app.inbox.workers == 1
    assert len(names) == (4 if console else 3)
    assert all(name.startswith("tierslieu-worker") for name in names)


def test_sqlite_connections_keep_few_prepared_statements(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    from sqlalchemy import text

    from storage.db import SQLITE_CACHED_STATEMENTS

    asked: list[dict[str, Any]] = []
    connect: Any = sqlite3.dbapi2.connect

    def recording(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        asked.append(kwargs)
        return connect(*args, **kwargs)

    monkeypatch.setattr(sqlite3.dbapi2, "connect", recording)
    engine = make_engine(f"sqlite:///{tmp_path / 'statements.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1
    engine.dispose()
    assert [kwargs.get("cached_statements") for kwargs in asked] == [SQLITE_CACHED_STATEMENTS]
    assert SQLITE_CACHED_STATEMENTS < 128  # pysqlite's default
