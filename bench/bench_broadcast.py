"""An announcement to 1,000 Telegram chats through the Bot API stand-in, which answers 429 past
30 messages per second like Telegram: prints the total time (from the /announce send command to the last
message) against the theoretical 33.3 s, and the counts delivered, duplicated, lost and refused (429);
min and median of 3 runs.

    .venv/bin/python bench/bench_broadcast.py [--chats 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import web
from sqlmodel import col, select

from bot.app import App
from bot.config import load_settings
from bot.core.types import ChatRef, Incoming, Platform, UserRef
from storage.db import session_scope
from storage.models import OutboxMessage
from storage.models_reminders import Subscription
from tests.integration.telegram_standin import BotApiStandIn

LIMIT_PER_SECOND = 30


class RateLimitedStandIn(BotApiStandIn):
    """Telegram's global limit: past 30 sendMessage in the last second, 429 with retry_after=1."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.recent: collections.deque[float] = collections.deque()
        self.refused = 0

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["method"].lower() == "sendmessage":
            now = time.monotonic()
            while self.recent and now - self.recent[0] > 1.0:
                self.recent.popleft()
            if len(self.recent) >= LIMIT_PER_SECOND:
                self.refused += 1
                body: dict[str, Any] = {"ok": False, "error_code": 429, "parameters": {"retry_after": 1},
                                        "description": "Too Many Requests: retry after 1"}
                return self._answer(body, 429)
            self.recent.append(now)
        return await super()._handle(request)


async def one_run(chats: int) -> dict[str, float]:
    standin = RateLimitedStandIn()
    await standin.start()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings({
            "DATABASE_URL": f"sqlite:///{tmp}/bench.db", "TELEGRAM_BOT_TOKEN": standin.token,
            "TELEGRAM_API_URL": standin.url, "COORDINATORS": "console:coord", "LOG_LEVEL": "WARNING",
        })
        app = App(settings)
        app.prepare()
        with session_scope(app.engine) as session:
            for n in range(chats):
                session.add(Subscription(platform="telegram", chat_id=str(10_000 + n), is_private=True, language="fr"))
        chat = ChatRef(Platform.CONSOLE, "coord", True)
        coordinator = Incoming(chat, UserRef(Platform.CONSOLE, "coord", "Coord"), "")
        app.dispatcher.handle_sync(Incoming(coordinator.chat, coordinator.sender, "/announce Fermeture jeudi"))
        await app.start()
        began = time.monotonic()
        app.dispatcher.handle_sync(Incoming(coordinator.chat, coordinator.sender, "/announce send 1"))
        written = time.monotonic() - began
        app.outbox.wake()
        while True:
            with session_scope(app.engine) as session:
                waiting = session.exec(select(OutboxMessage.id).where(
                    col(OutboxMessage.status).in_(["pending", "sending"]))).first()
            if not waiting:
                break
            await asyncio.sleep(0.2)
        elapsed = time.monotonic() - began
        await app.stop()
    await standin.stop()
    per_chat = collections.Counter(call.chat_id for call in standin.sent("sendMessage"))
    delivered = sum(1 for n in range(chats) if per_chat.get(str(10_000 + n), 0) >= 1)
    duplicated = sum(1 for count in per_chat.values() if count > 1)
    theoretical = chats / LIMIT_PER_SECOND
    ok = [call.at for call in standin.calls if call.method.lower() == "sendmessage" and call.ok]
    first, last = (min(ok) - began, max(ok) - began) if ok else (0.0, 0.0)
    print(f"  {chats} chats: {elapsed:.1f} s ({elapsed / theoretical:.3f} x the theoretical {theoretical:.1f} s at "
          f"{LIMIT_PER_SECOND}/s); announcement written in {written:.2f} s; the stand-in accepted {len(ok)} "
          f"between {first:.1f} s and {last:.1f} s; delivered {delivered}, duplicated {duplicated}, "
          f"lost {chats - delivered}, 429 answers {standin.refused}", flush=True)
    return {"elapsed": elapsed, "refused": standin.refused, "lost": chats - delivered, "duplicated": duplicated}


async def main(chats: int, runs: int) -> None:
    results = [await one_run(chats) for _ in range(runs)]
    times = sorted(r["elapsed"] for r in results)
    theoretical = chats / LIMIT_PER_SECOND
    median = statistics.median(times)
    print(f"{chats} chats, {runs} runs: min {times[0]:.1f} s, median {median:.1f} s "
          f"(reference: {theoretical:.1f} s at {LIMIT_PER_SECOND}/s; median {median / theoretical:.3f} x); "
          f"429 answers {sum(r['refused'] for r in results):.0f}, lost {sum(r['lost'] for r in results):.0f}, "
          f"duplicated {sum(r['duplicated'] for r in results):.0f} in all")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.chats, arguments.runs))
