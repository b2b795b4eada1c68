"""A start on a database already at every migration loads neither alembic nor what only one command uses
(the digest's matplotlib, the report's fpdf2, the door QR code's segno), and reads the migrations' heads
right from the files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from storage.db import make_engine
from storage.migrate import current_revisions, expected_revisions, upgrade
from tests.harness import Chat

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import sys
sys.path.insert(0, {root!r})
from bot.app import App
from bot.config import load_settings
app = App(load_settings({{"DATABASE_URL": {url!r}, "LOG_LEVEL": "WARNING"}}), adapters=[])
app.prepare()
app.dispatcher.handle_sync  # the core is ready
print(" ".join(m for m in ("alembic", "matplotlib", "fpdf", "segno") if m in sys.modules))
"""


def test_the_heads_read_from_the_files_are_what_alembic_leaves_in_the_database(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'heads.db'}")
    upgrade(engine)
    assert current_revisions(engine) == expected_revisions()
    engine.dispose()


def test_a_start_on_an_up_to_date_database_loads_no_alembic_nor_single_command_libraries(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'start.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    loaded = subprocess.run([sys.executable, "-c", PROBE.format(root=str(ROOT), url=url)], capture_output=True,
                            text=True, check=True, timeout=300, cwd=ROOT).stdout.split()
    assert loaded == []


def test_console_chat_answers_without_loading_the_http_server_library(tmp_path: Path) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MATRIX_", "DATABASE_"))}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path}/chat.db", "DATA_DIR": str(tmp_path), "LOG_LEVEL": "WARNING"})
    probe = ("import runpy, sys; sys.argv = ['bot', 'chat']; "
             "import atexit; atexit.register(lambda: print('AIOHTTP', 'aiohttp' in sys.modules)); "
             "runpy.run_module('bot', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", probe], input="/aide\n", env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert "/aide" in done.stdout  # the command was answered
    assert "AIOHTTP False" in done.stdout


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
