"""Scale-out on PostgreSQL: commands handled per second by one and by two real `tierslieu run` processes
sharing one database, in Telegram webhook mode behind a local round-robin proxy; beside the bare
reference in the same run: the same webhook POSTs, through the same proxy, answered by a bare aiohttp
handler doing one INSERT (one and two processes of it).

Members each write in their own private chat, a mix of /book, /free and /mybookings, one message after the
other (the next once Telegram heard 200 for the previous, as Telegram does), all chats at once. Timed from
the first POST until every command has run (every inbox row done: its effect and its answers committed;
the answers then leave at Telegram's pace, 30 a second for the whole bot whatever the number of
processes, which is not what is measured). Each run also checks that every command ran exactly once, in
order within its chat, and that every chat received exactly the answers its commands wrote, in order
(at the Bot API stand-in, tests/integration/telegram_standin.py). Min and median of 3 runs, each on a
fresh scratch database (createdb/dropdb).

    .venv/bin/python bench/bench_scaleout.py [--members 40] [--commands 10] [--runs 3] [--contended]
        [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.engine import make_url

from storage.db import make_engine
from storage.migrate import upgrade
from storage.seed import seed_if_empty
from tests.integration.scaleout_rig import (
    SECRET,
    SECRET_HEADER,
    WEBHOOK_PATH,
    BotProcess,
    TelegramSide,
    WebhookProxy,
    answers_report,
    failed_commands,
    free_port,
    inbox_counts,
    ran_in_order,
)
from tests.integration.telegram_standin import BotApiStandIn

SPACES = ("open-space", "imprimante-3d", "petite-salle", "salle-reunion", "cuisine")
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: Sequence[int]) -> float:
    """User and system CPU time these processes have used (Linux /proc): steadier than wall-clock rates on a
    machine shared with other work."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


CONTENDED = False  # --contended: every message a /book of one of two spaces (their locks fought over)


def commands_of(member: int, count: int) -> list[str]:
    """One member's messages: a booking of their own, the day's free spaces, their bookings, in turn."""
    if CONTENDED:
        return [f"/book {SPACES[(member + n) % 2]} dans {1 + n % 4} jours {8 + member % 10}:00-{9 + member % 10}:00"
                for n in range(count)]
    texts = []
    for n in range(count):
        day = f"dans {1 + (member + n) % 5} jours"
        hour = 8 + (member + n // 3) % 9
        kind = n % 3
        if kind == 0:
            texts.append(f"/book {SPACES[member % len(SPACES)]} {day} {hour}:00-{hour + 1}:00")
        elif kind == 1:
            texts.append(f"/free {day}")
        else:
            texts.append("/mybookings")
    return texts


# -- a scratch database ---------------------------------------------------------------------------


class ScratchDatabase:
    def __init__(self, base_url: str) -> None:
        url = make_url(base_url)
        self.host, self.port, self.user = url.host or "127.0.0.1", str(url.port or 5432), url.username or "postgres"
        self.name = f"bench_scaleout_{uuid.uuid4().hex[:8]}"
        self.url = url.set(drivername="postgresql+psycopg", database=self.name).render_as_string(hide_password=False)
        self.dsn = url.set(drivername="postgresql", database=self.name).render_as_string(hide_password=False)

    def _args(self) -> list[str]:
        return ["-h", self.host, "-p", self.port, "-U", self.user]

    def __enter__(self) -> ScratchDatabase:
        subprocess.run(["createdb", *self._args(), self.name], check=True)
        return self

    def __exit__(self, *_exc: object) -> None:
        subprocess.run(["dropdb", *self._args(), "--force", "--if-exists", self.name], check=False)


# -- the bare reference: one INSERT per webhook POST ----------------------------------------------


def bare_server(port: int, dsn: str) -> None:
    """``--bare-server PORT DSN``: what a webhook needs at least: check the secret, read the JSON, one
    INSERT of the update (a duplicate ignored), committed, then 200. Four connections, as the bot's
    HTTP side runs at most four requests at once."""
    import psycopg
    from aiohttp import web

    async def main() -> None:
        connections: asyncio.Queue[psycopg.AsyncConnection[object]] = asyncio.Queue()
        for _ in range(4):
            connections.put_nowait(await psycopg.AsyncConnection.connect(dsn, autocommit=True))

        async def hook(request: web.Request) -> web.Response:
            if request.headers.get(SECRET_HEADER) != SECRET:
                return web.Response(status=403)
            try:
                update = await request.json()
                chat_id = str(update["message"]["chat"]["id"])
            except Exception:
                return web.Response(status=400)
            connection = await connections.get()
            try:
                await connection.execute(
                    "INSERT INTO bare_inbox (update_id, chat_id, payload) VALUES (%s, %s, %s) "
                    "ON CONFLICT (update_id) DO NOTHING", (str(update["update_id"]), chat_id, await request.text()))
            finally:
                connections.put_nowait(connection)
            return web.Response(text="ok")

        app = web.Application()
        app.router.add_post(WEBHOOK_PATH, hook)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await asyncio.Event().wait()

    asyncio.run(main())


class BareProcess:
    def __init__(self, dsn: str) -> None:
        self.port = free_port()
        self.dsn = dsn
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--bare-server", str(self.port), self.dsn)

    async def ready(self) -> None:
        import aiohttp

        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.post(f"{self.url}{WEBHOOK_PATH}", data=b"x") as response:
                        if response.status == 403:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError("the bare server did not start")

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()


# -- one run ---------------------------------------------------------------------------------------


async def send_all(telegram: TelegramSide, chats: Sequence[tuple[dict, dict, list[str]]]) -> None:  # type: ignore[type-arg]
    await asyncio.gather(*(telegram.chat_sequence(chat, user, texts) for chat, user, texts in chats))


async def run_bare(base_url: str, processes: int, members: int, count: int) -> tuple[float, float]:
    with ScratchDatabase(base_url) as database:
        import psycopg

        with psycopg.connect(database.dsn, autocommit=True) as connection:
            connection.execute("CREATE TABLE bare_inbox (id bigserial PRIMARY KEY, update_id text UNIQUE, "
                               "chat_id text NOT NULL, payload text NOT NULL)")
        standin = BotApiStandIn()
        await standin.start()
        servers = [BareProcess(database.dsn) for _ in range(processes)]
        proxy = WebhookProxy([s.url for s in servers])
        await proxy.start()
        try:
            for server in servers:
                await server.start()
            for server in servers:
                await server.ready()
            users = [standin.user(50_000 + n, f"M{n}", "fr") for n in range(members)]
            chats = [(standin.private_chat(u), u, commands_of(n, count)) for n, u in enumerate(users)]
            pids = [s.process.pid for s in servers if s.process is not None]
            async with TelegramSide(standin, f"{proxy.url}{WEBHOOK_PATH}") as telegram:
                began, cpu = time.monotonic(), cpu_seconds(pids)
                await send_all(telegram, chats)
                elapsed, cpu = time.monotonic() - began, cpu_seconds(pids) - cpu
            with psycopg.connect(database.dsn) as connection:
                stored = connection.execute("SELECT count(*) FROM bare_inbox").fetchone()
            assert stored is not None and stored[0] == members * count, stored
            return members * count / elapsed, cpu / (members * count)
        finally:
            for server in servers:
                await server.stop()
            await proxy.stop()
            await standin.stop()


class Outcome:
    def __init__(self) -> None:
        self.per_second = 0.0
        self.stored_per_second = 0.0
        self.cpu_per_command = 0.0
        self.written = self.received = self.doubled = 0
        self.wrong: list[str] = []
        self.out_of_order: list[str] = []
        self.ran: dict[str, float] = {}
        self.latencies: list[float] = []
        self.failed = 0


PROBES = 20


async def probe_latencies(telegram: TelegramSide, standin: BotApiStandIn,
                          chats: Sequence[tuple[dict, dict, list[str]]]) -> list[float]:  # type: ignore[type-arg]
    """One command at a time, each in a chat idle for a while (no sending limit in the way), the bot
    otherwise idle: seconds from the webhook POST to the answer at the stand-in. Through the round-robin
    proxy, with two processes every other command is stored and run by the process that does not send."""
    latencies = []
    for n in range(PROBES):
        chat, user, _texts = chats[n % len(chats)]
        before = len(standin.sent("sendMessage", chat_id=chat["id"]))
        began = time.monotonic()
        await telegram.deliver(telegram.update(chat, user, "/mybookings"))
        while len(standin.sent("sendMessage", chat_id=chat["id"])) <= before:
            if time.monotonic() - began > 30:
                calls = [(c.method, c.outcome, str(c.params.get("text"))[:40]) for c in standin.calls[-5:]]
                raise RuntimeError(f"probe {n} in chat {chat['id']} not answered within 30 s; last calls {calls}")
            await asyncio.sleep(0.002)
        latencies.append(time.monotonic() - began)
    return latencies


async def run_bot(base_url: str, processes: int, members: int, count: int, workdir: Path) -> Outcome:
    outcome = Outcome()
    with ScratchDatabase(base_url) as database:
        engine = make_engine(database.url)
        upgrade(engine)
        seed_if_empty(engine)
        standin = BotApiStandIn()
        await standin.start()
        proxy = WebhookProxy()
        await proxy.start()
        bots = [BotProcess(f"bot{n}-{uuid.uuid4().hex[:4]}", database.url, standin, proxy.url, workdir,
                           COMMANDS_PER_MINUTE="10000") for n in range(processes)]
        proxy.backends = [b.url for b in bots]
        try:
            for bot in bots:  # one after the other: the first takes the scheduler lock (it sends)
                await bot.start()
                await bot.ready()
            users = [standin.user(60_000 + n, f"M{n}", "fr") for n in range(members)]
            chats = [(standin.private_chat(u), u, commands_of(n, count)) for n, u in enumerate(users)]
            async with TelegramSide(standin, f"{proxy.url}{WEBHOOK_PATH}") as telegram:
                # Warm-up: every member known (a first message records the member), every process warm.
                await send_all(telegram, [(chat, user, ["/help"]) for chat, user, _texts in chats])
                await until_done(engine, members, bots)
                total = members + members * count
                pids = [b.process.pid for b in bots if b.process is not None]
                began, cpu = time.monotonic(), cpu_seconds(pids)
                await send_all(telegram, chats)
                outcome.stored_per_second = members * count / (time.monotonic() - began)
                await until_done(engine, total, bots)
                outcome.per_second = members * count / (time.monotonic() - began)
                outcome.cpu_per_command = (cpu_seconds(pids) - cpu) / (members * count)
            for bot in bots:
                outcome.ran[bot.name] = (await bot.metrics()).get("tierslieu_commands_total", 0.0)
            outcome.out_of_order = ran_in_order(engine)
            outcome.failed = failed_commands(engine)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:  # the answers leave at Telegram's pace (30 a second)
                outcome.written, outcome.received, outcome.doubled, outcome.wrong = answers_report(engine, standin)
                if not outcome.wrong:
                    break
                await asyncio.sleep(0.5)
            counts = inbox_counts(engine)
            assert counts == {"done": total}, counts
            await asyncio.sleep(1.1)  # every chat's sending slot free again
            async with TelegramSide(standin, f"{proxy.url}{WEBHOOK_PATH}") as telegram:
                outcome.latencies = await probe_latencies(telegram, standin, chats)
        finally:
            for bot in bots:
                if bot.alive:
                    await bot.terminate()
            await proxy.stop()
            await standin.stop()
            engine.dispose()
    return outcome


async def until_done(engine: object, total: int, bots: Sequence[BotProcess], timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while inbox_counts(engine).get("done", 0) < total:  # type: ignore[arg-type]
        if time.monotonic() > deadline or not all(b.alive for b in bots):
            raise RuntimeError("commands not all run\n" + "\n".join(b.tail() for b in bots))
        await asyncio.sleep(0.01)


def figures(values: list[float]) -> str:
    return f"{min(values):7.0f} min / {statistics.median(values):7.0f} median"


async def main(base_url: str, members: int, count: int, runs: int) -> None:
    logging.basicConfig(level=logging.WARNING)
    results: dict[str, list[float]] = {"bare1": [], "bare2": [], "bot1": [], "bot2": []}
    stored: dict[str, list[float]] = {"bot1": [], "bot2": []}
    latencies: dict[str, list[float]] = {"bot1": [], "bot2": []}
    cpu: dict[str, list[float]] = {"bare1": [], "bare2": [], "bot1": [], "bot2": []}
    checks: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(runs):
            for processes in (1, 2):
                rate, cpu_each = await run_bare(base_url, processes, members, count)
                results[f"bare{processes}"].append(rate)
                cpu[f"bare{processes}"].append(cpu_each)
            for processes in (1, 2):
                outcome = await run_bot(base_url, processes, members, count, Path(tmp))
                results[f"bot{processes}"].append(outcome.per_second)
                stored[f"bot{processes}"].append(outcome.stored_per_second)
                latencies[f"bot{processes}"] += outcome.latencies
                cpu[f"bot{processes}"].append(outcome.cpu_per_command)
                ok = not outcome.wrong and not outcome.out_of_order and outcome.doubled == 0 and not outcome.failed
                checks.append(
                    f"  run {run + 1}, {processes} process{'es' if processes > 1 else ''}: "
                    f"{'OK' if ok else 'FAILED'}: {outcome.written} answers written, {outcome.received} received, "
                    f"{outcome.doubled} twice, {len(outcome.wrong)} chats wrong, "
                    f"{len(outcome.out_of_order)} chats out of order, {outcome.failed} commands failed; "
                    f"commands run per process "
                    f"{[int(v) for v in outcome.ran.values()]}")
                print(checks[-1], flush=True)
    total = members * count
    mix = "/book of two spaces only" if CONTENDED else "/book, /free, /mybookings in turn"
    print(f"\n{total} commands ({members} members, {count} each, one private chat each: {mix}), PostgreSQL, "
          f"Telegram webhook behind a round-robin proxy; {runs} runs, commands/s:")
    print(f"  bare aiohttp handler, one INSERT, 1 process:   {figures(results['bare1'])}")
    print(f"  bare aiohttp handler, one INSERT, 2 processes: {figures(results['bare2'])}")
    print(f"  tierslieu run, 1 process:                      {figures(results['bot1'])}"
          f"   (stored: {figures(stored['bot1'])})")
    print(f"  tierslieu run, 2 processes:                    {figures(results['bot2'])}"
          f"   (stored: {figures(stored['bot2'])})")
    bot1, bot2 = statistics.median(results["bot1"]), statistics.median(results["bot2"])
    bare1, bare2 = statistics.median(results["bare1"]), statistics.median(results["bare2"])
    print(f"  2 processes / 1 process: bot {bot2 / bot1:.2f}, bare {bare2 / bare1:.2f}; "
          f"bot / bare: {bot1 / bare1:.2f} (1 process), {bot2 / bare2:.2f} (2 processes); {os.cpu_count()} CPUs")
    print("  CPU per command, all the processes of the configuration together (ms, min / median; for the bot, "
          "the answers sent during the burst included, those sent after it not):")
    for key, label in (("bare1", "bare, 1 process"), ("bare2", "bare, 2 processes"), ("bot1", "bot, 1 process"),
                       ("bot2", "bot, 2 processes")):
        print(f"    {label:18s} {1000 * min(cpu[key]):6.2f} / {1000 * statistics.median(cpu[key]):6.2f}")
    for processes in (1, 2):
        values = sorted(latencies[f"bot{processes}"])
        print(f"  one command alone, webhook POST to answer at the stand-in, {processes} process"
              f"{'es' if processes > 1 else ''}: median {1000 * statistics.median(values):.0f} ms, "
              f"90th percentile {1000 * values[int(0.9 * (len(values) - 1))]:.0f} ms, "
              f"max {1000 * values[-1]:.0f} ms ({len(values)} commands)")
    print("  every command run once, in order, every answer received once in order: "
          f"{'yes' if all(' OK:' in c for c in checks) else 'NO (see above)'}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--bare-server":
        bare_server(int(sys.argv[2]), sys.argv[3])
        sys.exit(0)
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=40)
    parser.add_argument("--commands", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--contended", action="store_true", help="every message a /book of one of two spaces")
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL")
                        or "postgresql://postgres@127.0.0.1:5432/postgres")
    arguments = parser.parse_args()
    CONTENDED = arguments.contended
    asyncio.run(main(arguments.postgres, arguments.members, arguments.commands, arguments.runs))
