"""python-telegram-bot's requests sent with aiohttp (bot/adapters/telegram_http.py), against a local HTTP
server: what arrives, and which failures the adapter may safely send again (``surely_not_sent``: a message
sent twice shows twice in the chat)."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, InputFile
from telegram.error import NetworkError, TimedOut

from bot.adapters import telegram_http
from bot.adapters.telegram import surely_not_sent
from bot.adapters.telegram_http import AiohttpRequest

OK = {"ok": True, "result": True}
ME = {"id": 1, "is_bot": True, "first_name": "Tiers-lieu", "username": "tierslieu_bot"}


class Peer:
    """A Bot API stand-in small enough to misbehave on demand: what it received, and how long it waits."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.delay_s = 0.0
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def answer(self, request: web.Request) -> web.Response:
        form = await request.post()
        fields: dict[str, Any] = {}
        for name, value in form.items():
            if isinstance(value, web.FileField):
                fields[name] = (value.filename, value.content_type, value.file.read())
            else:
                fields[name] = value
        self.received.append({"path": request.path, "fields": fields,
                              "agent": request.headers.get("User-Agent", "")})
        await asyncio.sleep(self.delay_s)
        method = request.path.rpartition("/")[2]
        if method == "getMe":
            return web.json_response({"ok": True, "result": ME})
        if method.startswith("send"):
            chat = {"id": int(fields.get("chat_id", 0)), "type": "private"}
            return web.json_response({"ok": True, "result": {"message_id": 1, "date": 0, "chat": chat}})
        return web.json_response(OK)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.answer)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    server = Peer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def request_pool() -> AsyncIterator[AiohttpRequest]:
    request = AiohttpRequest(1, read_timeout=0.5, connect_timeout=0.5, pool_timeout=0.2)
    await request.initialize()
    yield request
    await request.shutdown()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_message_arrives_as_form_fields_with_the_library_s_user_agent(peer: Peer) -> None:
    bot = Bot("123:abc", base_url=f"{peer.url}/bot", request=AiohttpRequest(2), get_updates_request=AiohttpRequest())
    async with bot:
        await bot.send_message(chat_id=42, text="Réservé : salle de réunion, demain 14 h")
    [sent] = [r for r in peer.received if r["path"].endswith("/sendMessage")]
    assert sent["fields"]["chat_id"] == "42"
    assert sent["fields"]["text"] == "Réservé : salle de réunion, demain 14 h"
    assert sent["agent"].startswith("python-telegram-bot")


async def test_a_photo_is_uploaded_with_its_caption_as_one_multipart_request(peer: Peer) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    bot = Bot("123:abc", base_url=f"{peer.url}/bot", request=AiohttpRequest(2), get_updates_request=AiohttpRequest())
    async with bot:
        message = await bot.send_photo(chat_id=7, photo=InputFile(png, filename="semaine.png"),
                                       caption="La semaine au tiers-lieu")
    assert message.chat.id == 7
    [sent] = [r for r in peer.received if r["path"].endswith("/sendPhoto")]
    assert sent["fields"]["chat_id"] == "7"
    assert sent["fields"]["caption"] == "La semaine au tiers-lieu"
    [(filename, content_type, content)] = [v for v in sent["fields"].values() if isinstance(v, tuple)]
    assert (filename, content_type, content) == ("semaine.png", "image/png", png)


async def test_a_refused_connection_is_known_not_to_have_reached_telegram(request_pool: AiohttpRequest) -> None:
    with pytest.raises(NetworkError) as refused:
        await request_pool.do_request(f"http://127.0.0.1:{closed_port()}/bot1:a/sendMessage", "POST")
    assert surely_not_sent(refused.value)


async def test_an_answer_slower_than_the_read_timeout_may_have_been_delivered(
    peer: Peer, request_pool: AiohttpRequest
) -> None:
    peer.delay_s = 2.0
    with pytest.raises(TimedOut) as late:
        await request_pool.do_request(f"{peer.url}/bot1:a/sendMessage", "POST")
    assert len(peer.received) == 1  # it did arrive: sending it again would show it twice
    assert not surely_not_sent(late.value)


async def test_waiting_for_a_connection_beyond_the_pool_timeout_sends_nothing(
    peer: Peer, request_pool: AiohttpRequest
) -> None:
    peer.delay_s = 0.4
    first = asyncio.create_task(request_pool.do_request(f"{peer.url}/bot1:a/sendMessage", "POST", read_timeout=2))
    await asyncio.sleep(0.05)
    with pytest.raises(TimedOut) as waited:  # the one connection is busy for 0.4 s; pool + connect: 0.2 + 0.1 s
        await request_pool.do_request(f"{peer.url}/bot1:a/sendMessage", "POST", connect_timeout=0.1)
    assert surely_not_sent(waited.value)
    await first
    assert len(peer.received) == 1


async def test_a_request_before_initialize_is_refused_plainly() -> None:
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest().do_request("http://127.0.0.1:1/", "POST")


@pytest.fixture
def fresh_trust() -> Iterator[None]:
    """system_trust is decided once per process: each test decides it again, and leaves no decision behind."""
    telegram_http.system_trust.cache_clear()
    yield
    telegram_http.system_trust.cache_clear()


@pytest.mark.usefixtures("fresh_trust")
def test_without_a_system_ca_store_certifi_s_bundle_is_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    import certifi

    monkeypatch.setattr(ssl, "get_default_verify_paths",
                        lambda: ssl.DefaultVerifyPaths(None, None, "SSL_CERT_FILE", "", "SSL_CERT_DIR", ""))  # type: ignore[arg-type]
    trust = telegram_http.system_trust()
    assert isinstance(trust, ssl.SSLContext) and trust.verify_mode == ssl.CERT_REQUIRED
    with open(certifi.where()) as bundle:
        assert trust.cert_store_stats()["x509_ca"] == bundle.read().count("BEGIN CERTIFICATE")
    assert telegram_http.system_trust() is trust  # one context for both requests: the bundle read once


@pytest.mark.usefixtures("fresh_trust")
def test_with_the_system_ca_store_aiohttp_s_own_verified_context_is_used() -> None:
    assert ssl.get_default_verify_paths().capath or ssl.get_default_verify_paths().cafile  # Debian's ca-certificates
    assert telegram_http.system_trust() is True
