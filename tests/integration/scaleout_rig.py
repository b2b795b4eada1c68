"""Several real `tierslieu run` processes on one database, in Telegram webhook mode behind a local
round-robin proxy: what tests/integration/test_scaleout_postgres.py and bench/bench_scaleout.py share.

- ``BotProcess``: `python -m bot run` with the webhook settings, its own HTTP port, its log in a file.
- ``WebhookProxy``: an aiohttp server that spreads the webhook POSTs over the processes in turn, and
  passes one on to the next process when a process cannot be reached (a load balancer's retry: safe,
  since an update stored twice is stored once, by its update id).
- ``TelegramSide``: plays Telegram's part of the webhook: each update POSTed until it is answered 200,
  one chat's updates one after the other (the next once the previous was acknowledged), chats side by side.
- ``answers_in_order``: what each chat received at the Bot API stand-in, beside what its commands wrote,
  command after command in the order they were received.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import os
import signal
import socket
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import Engine, text

from tests.integration.telegram_standin import TAG_RE, BotApiStandIn

ROOT = Path(__file__).resolve().parents[2]
SECRET = "scaleout-Secret_42"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/telegram/webhook"
UPDATE_IDS = itertools.count(10_000)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BotProcess:
    """`python -m bot run` in webhook mode, its updates coming through ``proxy_url``."""

    def __init__(self, name: str, database_url: str, standin: BotApiStandIn, proxy_url: str, workdir: Path,
                 **env: str) -> None:
        self.name = name
        self.port = free_port()
        self.log = workdir / f"{name}.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "TELEGRAM_BOT_TOKEN": standin.token,
            "TELEGRAM_API_URL": standin.url,
            "TELEGRAM_WEBHOOK_URL": f"{proxy_url}{WEBHOOK_PATH}",
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(self.port),
            "LANGUAGE": "fr",
            "LOG_LEVEL": "WARNING",
            "DATA_DIR": str(workdir / f"data-{name}"),
            **env,
        }
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self) -> None:
        self.starts += 1
        with self.log.open("a") as log:
            log.write(f"\n===== start {self.starts} =====\n")
        handle = self.log.open("a")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=self.env, stdout=handle, stderr=handle)
        handle.close()

    async def ready(self, timeout: float = 60.0) -> None:
        """Until its webhook takes updates: a POST that is not an update is refused with 400 (503 while the
        HTTP server listens but the Telegram adapter has not started yet)."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if not self.alive:
                    raise AssertionError(f"{self.name} exited\n{self.tail()}")
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with http.post(f"{self.url}{WEBHOOK_PATH}", data=b"not json",
                                         headers={SECRET_HEADER: SECRET}) as response:
                        if response.status == 400:
                            return
                await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} not ready within {timeout} s\n{self.tail()}")

    async def metrics(self) -> dict[str, float]:
        """This process's /metrics, the lines without labels summed per name."""
        async with aiohttp.ClientSession() as http, http.get(f"{self.url}/metrics") as response:
            body = await response.text()
        figures: Counter[str] = Counter()
        for line in body.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                figures[name.split("{")[0]] += float(value)
        return dict(figures)

    async def leads(self) -> bool:
        """Whether this process holds the scheduler lock (it runs the jobs and sends), from /healthz."""
        async with aiohttp.ClientSession() as http, http.get(f"{self.url}/healthz") as response:
            report = await response.json()
        return bool(report.get("components", {}).get("scheduler", {}).get("leader"))

    async def kill(self) -> None:
        if self.alive:
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()

    async def terminate(self, timeout: float = 30.0) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), timeout)

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text()[-chars:] if self.log.exists() else ""


class WebhookProxy:
    """Spreads POSTs over ``backends`` in turn (round robin); a POST that one cannot take (unreachable, or
    503: stopping, or not started yet) goes to the next (nginx: ``proxy_next_upstream error timeout
    http_503 non_idempotent``)."""

    def __init__(self, backends: Sequence[str] = ()) -> None:
        self.backends = list(backends)
        self.forwarded: Counter[str] = Counter()
        self.port = 0
        self._turn = itertools.count()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256),
                                           timeout=aiohttp.ClientTimeout(total=30))
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._http is not None
        body = await request.read()
        headers = {SECRET_HEADER: request.headers.get(SECRET_HEADER, ""),
                   "Content-Type": request.headers.get("Content-Type", "application/json")}
        backends = list(self.backends)
        first = next(self._turn)
        for n in range(len(backends)):
            backend = backends[(first + n) % len(backends)]
            try:
                async with self._http.post(f"{backend}{request.path_qs}", data=body, headers=headers) as response:
                    answer = await response.read()
                    self.forwarded[backend] += 1
                    if response.status == 503 and n < len(backends) - 1:
                        continue
                    return web.Response(status=response.status, body=answer)
            except (aiohttp.ClientConnectionError, TimeoutError):
                continue  # that process is gone: the next one (the update is stored once either way)
        return web.Response(status=502, text="no backend")


class TelegramSide:
    """Telegram's side of the webhook: updates POSTed to ``hook_url`` until answered 200."""

    def __init__(self, standin: BotApiStandIn, hook_url: str) -> None:
        self.standin = standin
        self.hook_url = hook_url
        self.update_ids = UPDATE_IDS  # Telegram's: never the same twice (a repeated one is stored once)
        self.retries = 0
        self.refusals: Counter[str] = Counter()  # why a POST had to be made again: status, or the error
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> TelegramSide:
        self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=512),
                                           timeout=aiohttp.ClientTimeout(total=60))
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._http is not None:
            await self._http.close()

    def update(self, chat: dict[str, Any], user: dict[str, Any], text_: str) -> dict[str, Any]:
        return {"update_id": next(self.update_ids), "message": self.standin.message(chat, user, text_)}

    async def deliver(self, update: dict[str, Any], give_up_after: float = 60.0) -> None:
        assert self._http is not None
        deadline = time.monotonic() + give_up_after
        while True:
            try:
                async with self._http.post(self.hook_url, json=update, headers={SECRET_HEADER: SECRET}) as response:
                    await response.read()
                    if response.status == 200:
                        return
                    self.refusals[f"{response.status} {(await response.text())[:40].strip()}"] += 1
            except (aiohttp.ClientError, TimeoutError) as error:
                self.refusals[type(error).__name__] += 1
            if time.monotonic() > deadline:
                raise AssertionError(f"update {update['update_id']} not taken within {give_up_after} s")
            self.retries += 1
            await asyncio.sleep(0.05)  # Telegram sends it again later

    async def chat_sequence(self, chat: dict[str, Any], user: dict[str, Any], texts: Sequence[str]) -> None:
        """One chat's messages, each sent once the previous one was acknowledged."""
        for text_ in texts:
            await self.deliver(self.update(chat, user, text_))


def inbox_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT status, count(*) FROM inboxmessage GROUP BY status")).all()
    return {status: int(count) for status, count in rows}


def expected_answers(engine: Engine) -> dict[str, list[str]]:
    """Per chat, the answers the commands wrote to the outbox, command after command in the order their
    messages were received (inbox id), each command's answers in their order."""
    with engine.connect() as connection:
        chats = dict(connection.execute(text("SELECT id, chat_id FROM inboxmessage")).all())
        rows = connection.execute(text(
            "SELECT dedup_key, payload FROM outboxmessage WHERE dedup_key LIKE 'answer:%'")).all()
    keyed = sorted(((int(inbox_id), int(number)), payload)
                   for key, payload in rows for _, inbox_id, number in [key.split(":")])
    answers: dict[str, list[str]] = {}
    for (inbox_id, _number), payload in keyed:
        reply = json.loads(payload)
        answers.setdefault(chats[inbox_id], []).append(f"{reply['title']}\n{reply['text']}" if reply.get("title")
                                                       else reply["text"])
    return answers


FAILED_ANSWERS = ("un problème est survenu de mon côté", "something went wrong on my side")


def failed_commands(engine: Engine) -> int:
    """Commands answered "something went wrong on my side" (an error escaped the command: its effect was
    undone and it is not run again)."""
    return sum(1 for answers in expected_answers(engine).values() for answer in answers
               if any(words in answer for words in FAILED_ANSWERS))


def ran_in_order(engine: Engine) -> list[str]:
    """Chats where a command finished before the one received ahead of it (by done_at): empty when every
    chat's commands ran one after the other, in the order received."""
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT chat_id, id, done_at FROM inboxmessage WHERE status = 'done' ORDER BY chat_id, id")).all()
    late: list[str] = []
    previous: dict[str, Any] = {}
    for chat_id, _id, done_at in rows:
        if chat_id in previous and done_at < previous[chat_id]:
            late.append(chat_id)
        previous[chat_id] = done_at
    return late


def received_texts(standin: BotApiStandIn, chat_id: str) -> list[str]:
    return [str(c.params.get("text", "")) for c in standin.sent("sendMessage", chat_id=chat_id)]


def same_text(sent: str, written: str) -> bool:
    """A message as sent (HTML) is the answer written (title, text) once the markup is taken off."""
    plain = html.unescape(TAG_RE.sub("", sent))
    return " ".join(plain.split()) == " ".join(written.split())


def answers_report(engine: Engine, standin: BotApiStandIn) -> tuple[int, int, int, list[str]]:
    """(answers written, answers received, answers received again right after themselves — a send in
    flight at a kill, sent again —, chats whose answers are not exactly what their commands wrote, in order)."""
    expected = expected_answers(engine)
    written = received = doubled = 0
    wrong: list[str] = []
    for chat_id, answers in expected.items():
        got = received_texts(standin, chat_id)
        written += len(answers)
        received += len(got)
        matched = 0
        for n, sent in enumerate(got):
            if matched < len(answers) and same_text(sent, answers[matched]):
                matched += 1
            elif n > 0 and sent == got[n - 1]:
                doubled += 1
            else:
                matched = -1
                break
        if matched != len(answers):
            wrong.append(chat_id)
    return written, received, doubled, wrong
