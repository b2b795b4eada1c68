"""The Telegram adapter's HTTP clients (issue 15): httpcore imported without h2 (HTTP/2, ~1.3 MiB, which the Bot
API's HTTP/1.1 never uses; h2 stays importable for matrix-nio), and one TLS context for the two clients (the CA
bundle read once). Requests through them: tests/integration/test_telegram*.py against the Bot API stand-in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import sys
sys.path.insert(0, {root!r})
from bot.adapters.telegram import TelegramAdapter
from bot.config import load_settings
from bot.core.router import CommandTable
from handlers import all_routers
from storage.db import make_engine

settings = load_settings({{"DATABASE_URL": "sqlite:///:memory:", "TELEGRAM_BOT_TOKEN": "123:abc",
                          "LOG_LEVEL": "WARNING"}})
adapter = TelegramAdapter(settings, make_engine("sqlite:///:memory:"), CommandTable(all_routers()))
print("h2" in sys.modules, "httpcore" in sys.modules)
contexts = {{id(request._client._transport._pool._ssl_context) for request in adapter.bot._request}}  # httpx 0.28
print(len(contexts))
import h2.connection
import httpcore
print("h2" in sys.modules, httpcore.AsyncConnectionPool is not None)
"""


def test_the_telegram_clients_load_no_http2_and_read_the_ca_bundle_once() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE.format(root=str(ROOT))], capture_output=True, text=True,
                          check=True, timeout=300, cwd=ROOT)
    h2_at_start, httpcore_loaded, contexts, h2_later, pool = done.stdout.split()
    assert (h2_at_start, httpcore_loaded) == ("False", "True")
    assert contexts == "1"
    assert (h2_later, pool) == ("True", "True")  # matrix-nio can still import h2
