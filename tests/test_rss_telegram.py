"""The Telegram adapter's HTTP client (issue 15): python-telegram-bot's requests go through aiohttp, already
loaded for the HTTP server, so httpx's transport (httpcore, anyio, h11: ~3 MiB) and a second TLS context
(certifi's bundle: ~1.2 MiB) are never loaded. Requests through it: tests/test_telegram_http.py, and
tests/integration/test_telegram*.py against the Bot API stand-in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import asyncio, sys
sys.path.insert(0, {root!r})
from bot.adapters.telegram import TelegramAdapter
from bot.config import load_settings
from bot.core.router import CommandTable
from handlers import all_routers
from storage.db import make_engine

settings = load_settings({{"DATABASE_URL": "sqlite:///:memory:", "TELEGRAM_BOT_TOKEN": "123:abc",
                          "LOG_LEVEL": "WARNING"}})
adapter = TelegramAdapter(settings, make_engine("sqlite:///:memory:"), CommandTable(all_routers()))

async def connect_and_close() -> None:  # the clients made as a start makes them, with their TLS settings
    for request in adapter.bot._request:
        await request.initialize()
        await request.shutdown()
asyncio.run(connect_and_close())
print(" ".join(m for m in ("httpcore", "anyio", "h11", "h2", "certifi") if m in sys.modules) or "none")
"""


def test_the_telegram_clients_load_no_second_http_stack_nor_a_second_ca_bundle() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE.format(root=str(ROOT))], capture_output=True, text=True,
                          check=True, timeout=300, cwd=ROOT)
    assert done.stdout.split() == ["none"]
