"""A DEBUG run of `tierslieu run` (a real subprocess, PTB over real HTTP against the Bot API stand-in,
webhook mode) whose log holds none of the secrets it handled: the bot token, the webhook secret, the
database password, a member's personal calendar link, a one-time /link code; and message texts only
truncated."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from nio import AsyncClient, RoomCreateResponse, RoomMessageText, RoomSendResponse, SyncResponse

from bot.adapters.matrix_login import LOGIN_STATE_KEY
from storage.adapter_state import get_state
from storage.db import make_engine
from tests.integration.synapse_server import SynapseServer, synapse
from tests.integration.telegram_standin import BotApiStandIn

pytestmark = pytest.mark.integration
__all__ = ["synapse"]  # the session's Synapse, a fixture

BOT_TOKEN = "7000001234:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9"
WEBHOOK_SECRET = "wh-Secret_0123456789abcdefXYZ"
ALICE = 4301
# A long message whose end must never reach the log: texts are logged at DEBUG only, and truncated.
PRIVATE_TAIL = "fin-du-message-privee-QWERTY"
LONG_MESSAGE = "/book salle-reunion demain 14h-16h " + "bla " * 60 + PRIVATE_TAIL


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def standin() -> AsyncIterator[BotApiStandIn]:
    server = BotApiStandIn(token=BOT_TOKEN)
    await server.start()
    yield server
    await server.stop()


async def wait_until_up(port: int, process: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            if process.returncode is not None:
                raise AssertionError(f"tierslieu run stopped with {process.returncode}")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{port}/healthz"):
                    return  # listening (healthy or not: that is /healthz's business)
            await asyncio.sleep(0.1)
    raise AssertionError("tierslieu run did not start")


def reply_texts(standin: BotApiStandIn, chat_id: int) -> list[str]:
    return [str(call.params.get("text", "")) for call in standin.sent("sendMessage", chat_id=chat_id)]


async def test_a_debug_run_logs_no_secret(tmp_path: Path, standin: BotApiStandIn) -> None:
    port = free_port()
    log_path = tmp_path / "run.log"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
        "LOG_LEVEL": "DEBUG",
        "LANGUAGE": "fr",
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_URL": standin.url,
        "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/tg/hook",
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "HTTP_PORT": str(port),
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "DATA_DIR": str(tmp_path / "data"),
    }
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path,
            stdout=log_file, stderr=asyncio.subprocess.STDOUT)
        try:
            await wait_until_up(port, process)
            await standin.wait_for("setWebhook", timeout=20)
            await asyncio.sleep(0.5)
            alice = standin.user(ALICE, "Alice", username="alice_m")
            chat = standin.private_chat(alice)
            hook = f"http://127.0.0.1:{port}/tg/hook"
            async with aiohttp.ClientSession(headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}) as http:
                for n, text in enumerate(["/calendar", "/link", LONG_MESSAGE]):
                    update = {"update_id": 100 + n, "message": standin.message(chat, alice, text)}
                    async with http.post(hook, json=update) as response:
                        assert response.status == 200
                    await standin.wait_for("sendMessage", n + 1, chat_id=ALICE, timeout=20)
                replies = reply_texts(standin, ALICE)
                [feed_url] = re.findall(r"http://\S+/ical/members/\S+\.ics", replies[0])
                [code] = re.findall(r"/link ([A-Z0-9]{8})", replies[1])
                async with http.get(feed_url) as response:
                    assert response.status == 200
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), 30)
    log = log_path.read_text(errors="replace")
    assert "DEBUG" in log and "sendMessage" in log  # a real DEBUG run, which saw the bot's answers
    feed_token = feed_url.rsplit("/", 1)[1].removesuffix(".ics")
    secrets = {"bot token": BOT_TOKEN, "bot token's secret half": BOT_TOKEN.split(":")[1],
               "webhook secret": WEBHOOK_SECRET, "calendar feed token": feed_token, "link code": code}
    leaked = {name: log.count(value) for name, value in secrets.items() if value in log}
    assert not leaked, leaked
    assert PRIVATE_TAIL not in log


async def bot_replies(client: AsyncClient, room_id: str, bot: str, count: int, timeout: float = 60) -> list[str]:
    """The bot's first ``count`` messages in ``room_id``, syncing as the member."""
    bodies: list[str] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while len(bodies) < count:
        assert asyncio.get_running_loop().time() < deadline, f"only {bodies} from the bot"
        response = await client.sync(timeout=500)
        assert isinstance(response, SyncResponse), response
        room = response.rooms.join.get(room_id)
        for event in room.timeline.events if room else []:
            if isinstance(event, RoomMessageText) and event.sender == bot:
                bodies.append(event.body)
    return bodies


async def bot_joined(client: AsyncClient, room_id: str, bot: str, timeout: float = 60) -> None:
    """Wait until the bot has joined (it leaves what was said before it came unanswered)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        members = await client.joined_members(room_id)
        if bot in [m.user_id for m in getattr(members, "members", [])]:
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the bot did not join")


async def test_a_debug_run_on_matrix_logs_no_secret(tmp_path: Path, synapse: SynapseServer) -> None:
    port = free_port()
    bot = synapse.register(f"bot-{secrets.token_hex(4)}")
    member = synapse.register(f"member-{secrets.token_hex(4)}")
    log_path = tmp_path / "run.log"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
        "LOG_LEVEL": "DEBUG",
        "LANGUAGE": "fr",
        "MATRIX_HOMESERVER": synapse.url,
        "MATRIX_USER_ID": bot.user_id,
        "MATRIX_PASSWORD": bot.password,
        "HTTP_PORT": str(port),
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "DATA_DIR": str(tmp_path / "data"),
    }
    client = AsyncClient(synapse.url, member.user_id)
    client.restore_login(member.user_id, member.device_id, member.access_token)
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path,
            stdout=log_file, stderr=asyncio.subprocess.STDOUT)
        try:
            await wait_until_up(port, process)
            created = await client.room_create(invite=[bot.user_id], is_direct=True)
            assert isinstance(created, RoomCreateResponse), created
            room = created.room_id
            await bot_joined(client, room, bot.user_id)
            replies: list[str] = []
            for text in ["!calendar", "!link", LONG_MESSAGE.replace("/", "!", 1)]:
                sent = await client.room_send(room, "m.room.message", {"msgtype": "m.text", "body": text})
                assert isinstance(sent, RoomSendResponse), sent
                replies += await bot_replies(client, room, bot.user_id, 1)
            text = "\n".join(replies)
            [feed_url] = re.findall(r"http://\S+/ical/members/\S+\.ics", text)[:1]
            [code] = re.findall(r"[/!]link ([A-Z0-9]{8})", text)
        finally:
            await client.close()
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), 30)
    engine = make_engine(f"sqlite:///{tmp_path}/t.db")
    try:
        bot_token = json.loads(get_state(engine, LOGIN_STATE_KEY) or "{}").get("access_token", "")
    finally:
        engine.dispose()
    log = log_path.read_text(errors="replace")
    assert "DEBUG" in log and "nio" in log  # a real DEBUG run, with the Matrix library talking
    secrets_ = {"bot password": bot.password, "bot access token": bot_token,
                "calendar feed token": feed_url.rsplit("/", 1)[1].removesuffix(".ics"), "link code": code}
    assert all(secrets_.values()), secrets_
    leaked = {name: log.count(value) for name, value in secrets_.items() if value in log}
    assert not leaked, leaked
    assert PRIVATE_TAIL not in log
