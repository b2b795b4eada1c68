"""Footprint: the console chat's time to answer its first command, and the RSS of `tierslieu run` with
Telegram (against the Bot API stand-in), the HTTP server and the scheduler after 1,000 commands. Each is
printed beside a bare reference measured in the same run (a Python process importing the same libraries),
min and median of 3 rounds; the heavy modules a start loads are listed. Asserts nothing.

    .venv/bin/python bench/bench_footprint.py [--commands 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.integration.telegram_standin import BotApiStandIn

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HEAVY = ("matplotlib", "numpy", "PIL", "fpdf", "segno", "jinja2", "dateparser", "icalendar", "telegram", "nio",
         "aiohttp", "alembic", "babel", "prometheus_client", "psycopg")
BARE_CHAT = "import sqlalchemy, sqlmodel, babel.dates; print('ok')"
BARE_RUN = "import sqlalchemy, sqlmodel, aiohttp.web, telegram.ext, babel.dates, time; time.sleep(30)"


def _env(tmp: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MATRIX_", "DATABASE_"))}
    env.update({"DATABASE_URL": f"sqlite:///{tmp}/footprint.db", "DATA_DIR": tmp, "LOG_LEVEL": "WARNING",
                "COMMANDS_PER_MINUTE": "10000"})
    env.update(extra)
    return env


def timed(argv: list[str], env: dict[str, str], stdin: str = "") -> float:
    began = time.perf_counter()
    subprocess.run(argv, input=stdin, env=env, cwd=ROOT, capture_output=True, text=True, check=True, timeout=300)
    return time.perf_counter() - began


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def startup(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = _env(tmp)
        chat = [PYTHON, "-m", "bot.cli", "chat"]
        timed(chat, env, "/aide\n")  # creates and migrates the database: not what a start costs
        ours = [timed(chat, env, "/aide\n") for _ in range(rounds)]
        bare = [timed([PYTHON, "-c", BARE_CHAT], env) for _ in range(rounds)]
        empty = [timed([PYTHON, "-c", "pass"], env) for _ in range(rounds)]
        probe = ("import sys, tempfile; sys.path.insert(0, '.'); from bot.app import App; from bot.config import "
                 "load_settings; import os; App(load_settings(dict(os.environ)), adapters=[]).prepare(); "
                 f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
        loaded = subprocess.run([PYTHON, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True,
                                timeout=300).stdout.strip()
    print(f"console chat, /aide answered (process start to exit): min {min(ours):.2f} s, "
          f"median {statistics.median(ours):.2f} s")
    print(f"  bare reference ({BARE_CHAT.split(';')[0]}): min {min(bare):.2f} s, median {statistics.median(bare):.2f} s"
          f" -> ratio {min(ours) / min(bare):.2f}; empty interpreter {min(empty):.2f} s")
    print(f"  heavy modules loaded by App + prepare: {loaded or 'none'}")


async def run_rss(commands: int) -> tuple[float, float, float]:
    standin = BotApiStandIn()
    await standin.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = _env(tmp, TELEGRAM_BOT_TOKEN=standin.token, TELEGRAM_API_URL=standin.url,
                       HTTP_HOST="127.0.0.1", HTTP_PORT=str(free_port()))
            process = subprocess.Popen([PYTHON, "-m", "bot.cli", "run"], env=env, cwd=ROOT,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                await standin.wait_for("getUpdates", 1, timeout=120)
                started_rss = rss_mib(process.pid)
                texts = ["/aide", "/free demain", "/espaces", "/mesreservations", "/free demain 10h-12h"]
                for n in range(commands):
                    user = standin.user(1000 + n % 200, f"Membre{n % 200}")
                    standin.type_text(standin.private_chat(user), user, texts[n % len(texts)])
                    if n % 50 == 49:
                        await asyncio.sleep(0.05)
                await standin.wait_for("sendMessage", commands, timeout=600)
                after = rss_mib(process.pid)
            finally:
                process.terminate()
                process.wait(timeout=30)
            bare = subprocess.Popen([PYTHON, "-c", BARE_RUN], env=env, cwd=ROOT)
            try:
                for _ in range(300):
                    time.sleep(0.1)
                    status = Path(f"/proc/{bare.pid}/status").read_text()
                    if rss_mib(bare.pid) > 30 and "State:\tS" in status:
                        break
                bare_rss = rss_mib(bare.pid)
            finally:
                bare.terminate()
                bare.wait(timeout=30)
    finally:
        await standin.stop()
    return started_rss, after, bare_rss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-run", action="store_true", help="only the console start-up")
    args = parser.parse_args()
    startup(args.rounds)
    if args.skip_run:
        return
    started, after, bare = asyncio.run(run_rss(args.commands))
    print(f"tierslieu run (Telegram stand-in, HTTP, scheduler): RSS {started:.0f} MiB once polling, "
          f"{after:.0f} MiB after {args.commands} commands answered")
    print(f"  bare reference (python importing sqlalchemy, sqlmodel, aiohttp, python-telegram-bot, babel): "
          f"{bare:.0f} MiB -> ratio {after / bare:.2f}")


if __name__ == "__main__":
    main()
