"""The bot's HTTP port may face the Internet: slow clients are cut off, connections are capped, abuse is
logged once per client and minute, /healthz says when it is saturated, and the chat keeps answering."""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.core.types import ChatRef, Incoming, Platform, UserRef
from bot.web import HEADER_TIMEOUT_S as BOT_HEADER_TIMEOUT_S
from bot.web import WebServer
from tests.harness import Chat, make_chat
from tests.integration.telegram_standin import BotApiStandIn

pytestmark = pytest.mark.integration

SLOW_CLIENTS = 1000
MAX_CONNECTIONS = 200
HEADER_TIMEOUT_S = 2.0
# Every slow client gives up by itself after this long, whatever the server does.
CLIENT_LIFETIME_S = 8.0


def hello_routes(app: web.Application) -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text=f"got {len(await request.read())} bytes")

    app.router.add_post("/hello", hello)


@pytest.fixture
async def server() -> AsyncIterator[WebServer]:
    web_server = WebServer("127.0.0.1", 0, [hello_routes], header_timeout=HEADER_TIMEOUT_S,
                           body_timeout=HEADER_TIMEOUT_S, max_connections=MAX_CONNECTIONS)
    await web_server.start()
    yield web_server
    await web_server.stop()


@pytest.fixture
def chat(tmp_path: Path) -> Iterator[Chat]:
    harness = make_chat(f"sqlite:///{tmp_path / 't.db'}")
    yield harness
    harness.app.engine.dispose()


async def slow_client(port: int, lifetime: float = CLIENT_LIFETIME_S) -> str:
    """Opens a connection and sends a request head one header line every half second, never finishing
    it: how it ended ("refused", "closed" by the server, or "gave up" itself)."""
    loop = asyncio.get_running_loop()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return "connect failed"
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: bot\r\n")
        deadline = loop.time() + lifetime
        while loop.time() < deadline:
            try:
                data = await asyncio.wait_for(reader.read(64), 0.5)
            except TimeoutError:
                writer.write(b"X-Slow: yes\r\n")
                continue
            except ConnectionError:
                return "closed"
            if data.startswith(b"HTTP/1.1 503"):
                return "refused"
            if not data:
                return "closed"
            return "answered"
        return "gave up"
    finally:
        writer.close()


async def timed_command(chat: Chat, n: int) -> float:
    incoming = Incoming(ChatRef(Platform.TELEGRAM, f"{9000 + n}", True),
                        UserRef(Platform.TELEGRAM, f"{9000 + n}", f"Membre {n}"), "/spaces")
    started = time.monotonic()
    replies = await chat.app.dispatcher.handle(incoming)
    assert replies and "salle" in replies[0].text.casefold()
    return time.monotonic() - started


async def test_a_thousand_slow_connections_leave_the_chat_answering(
        server: WebServer, chat: Chat, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    clients = []
    for _ in range(SLOW_CLIENTS // 100):  # in waves, as a real flood ramps up
        clients += [asyncio.create_task(slow_client(server.port)) for _ in range(100)]
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    during = server.saturation()
    latencies = []
    for n in range(12):
        latencies.append(await timed_command(chat, n))
        await asyncio.sleep(0.2)
    endings = await asyncio.gather(*clients)

    print(f"\n{SLOW_CLIENTS} slow clients: " + ", ".join(f"{endings.count(e)} {e}" for e in sorted(set(endings)))
          + f"; chat answers: max {max(latencies) * 1000:.0f} ms, mean {sum(latencies) / len(latencies) * 1000:.0f} ms"
          + f"; saturation during the flood: {during}")
    assert max(latencies) < 1.0  # the bar: chat commands answered within a second
    assert during["connections"] <= MAX_CONNECTIONS and not during["ok"] and during["refused_last_minute"] > 0
    assert "gave up" not in endings  # the server cut every slow client off itself
    assert endings.count("closed") >= MAX_CONNECTIONS * 0.9  # those it let in, after the header timeout
    abuse = [r.getMessage() for r in caplog.records if r.name == "bot.web"]
    assert len(abuse) == 1 and "127.0.0.1" in abuse[0], abuse  # one line for one client, this minute
    others = [f"{r.name}: {r.getMessage()[:100]}" for r in caplog.records
              if r.name != "bot.web" and r.levelno >= logging.WARNING]
    assert others == []  # and nothing else: no line per connection from aiohttp or asyncio

    await asyncio.sleep(0.2)
    assert server.connections() == 0
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{server.port}/healthz") as response:
        assert response.status == 200  # the server itself is fine once they are gone


async def test_a_body_sent_too_slowly_is_answered_408_and_a_normal_one_goes_through(server: WebServer) -> None:
    async with aiohttp.ClientSession() as http, \
            http.post(f"http://127.0.0.1:{server.port}/hello", data=b"x" * 1000) as response:
        assert await response.text() == "got 1000 bytes"
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(b"POST /hello HTTP/1.1\r\nHost: bot\r\nContent-Length: 1000\r\n\r\nabc")
        started = time.monotonic()
        answer = await asyncio.wait_for(reader.read(100), HEADER_TIMEOUT_S * 3)
        assert answer.startswith(b"HTTP/1.1 408")
        assert time.monotonic() - started >= HEADER_TIMEOUT_S * 0.9
    finally:
        writer.close()
    assert server.saturation()["slow_bodies_last_minute"] == 1


# -- the conditions: `tierslieu run` at systemd's default of 1,024 open files, 1,100 slow clients ---

OPEN_FILES = 1024
FLOOD = 1100
COMMANDS = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def at_most_1024_open_files() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))


async def test_a_bot_at_1024_open_files_keeps_answering_the_chat_through_1100_slow_connections(
        tmp_path: Path) -> None:
    standin = BotApiStandIn()
    await standin.start()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/t.db", "LANGUAGE": "fr",
           "TELEGRAM_BOT_TOKEN": standin.token, "TELEGRAM_API_URL": standin.url, "HTTP_PORT": str(port),
           "PUBLIC_URL": f"http://127.0.0.1:{port}", "DATA_DIR": str(tmp_path / "data")}
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path, stdout=log_file,
            stderr=asyncio.subprocess.STDOUT, preexec_fn=at_most_1024_open_files)
        try:
            await standin.wait_for("getUpdates", timeout=30)
            clients = []
            for _ in range(FLOOD // 100):
                clients += [asyncio.create_task(slow_client(port, BOT_HEADER_TIMEOUT_S + 4))
                            for _ in range(100)]
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/healthz") as response:
                health_during = response.status
            latencies = []
            for n in range(COMMANDS):
                user = standin.user(5000 + n, f"Membre{n}")
                pushed = time.monotonic()
                standin.type_text(standin.private_chat(user), user, "/spaces")
                [answer] = await standin.wait_for("sendMessage", chat_id=5000 + n, timeout=10)
                latencies.append(answer.at - pushed)
                await asyncio.sleep(0.1)
            endings = await asyncio.gather(*clients)
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)
            await standin.stop()
    log = log_path.read_text(errors="replace")
    print(f"\n{FLOOD} slow clients against a bot limited to {OPEN_FILES} open files: "
          + ", ".join(f"{endings.count(e)} {e}" for e in sorted(set(endings)))
          + f"; {len(latencies)}/{COMMANDS} commands answered, max {max(latencies) * 1000:.0f} ms, "
          f"mean {sum(latencies) / len(latencies) * 1000:.0f} ms; /healthz during the flood: {health_during}; "
          f"log {len(log)} bytes")
    assert len(latencies) == COMMANDS and max(latencies) < 1.0
    assert health_during == 503  # saturated: said so, not green
    assert "gave up" not in endings
    assert len(log) < 20_000, log[-2000:]  # a few lines, not one per connection
