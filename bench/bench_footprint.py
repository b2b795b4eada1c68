"""Footprint: the console chat's time to answer its first command, and the RSS of `tierslieu run` with
Telegram (against the Bot API stand-in), the HTTP server and the scheduler after 1,000 commands. Each is
printed beside a bare reference measured in the same run (a Python process importing the same libraries),
min and median of 3 rounds; the heavy modules a start loads are listed. Asserts nothing.

Measured as installed (both our processes and the bare reference, the same way):
- bytecode cached: `pip install .` compiles every module; a checkout run with PYTHONDONTWRITEBYTECODE=1
  would compile ~150 of ours at every start, which no installation does (a temporary PYTHONPYCACHEPREFIX);
- only the runtime dependencies importable: this development venv also holds the test tools (pytest's
  pygments, selenium's trio, ...), which httpx and httpcore import whenever they are installed; the
  distributions outside pyproject's runtime closure are made not importable (--dev-venv: as they are);
- MALLOC_ARENA_MAX=2, as deploy/tierslieu.service and deploy/Containerfile set it;
- `tierslieu run` on a database already at every migration (a restart: alembic is then not loaded; the
  RSS of a start that migrates is printed too).

    .venv/bin/python bench/bench_footprint.py [--commands 1000] [--rounds 3] [--dev-venv] [--skip-run]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
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
QUIET_S = 15.0  # after the last answer, the RSS is read again once the process has been idle this long

BLOCKER = """import sys

NOT_INSTALLED = frozenset({names!r})


class NotInstalled:
    \"\"\"bench_footprint: a distribution outside the runtime dependencies, as in a `pip install .`.\"\"\"

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.partition(".")[0] in NOT_INSTALLED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, NotInstalled)
"""


def test_only_modules() -> tuple[list[str], list[str]]:
    """Top-level modules (and their distributions) installed here but outside the runtime closure of
    pyproject's dependencies (with the extras they ask for): what a `pip install .` would not have."""
    import importlib.metadata as md
    import re

    from packaging.requirements import Requirement

    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    dists = {norm(d.metadata["Name"]): d for d in md.distributions()}
    needed: set[str] = set()
    seen: set[tuple[str, frozenset[str]]] = set()
    todo: list[tuple[str, frozenset[str]]] = [("tierslieu-bot", frozenset())]
    while todo:
        name, extras = todo.pop()
        name = norm(name)
        if (name, extras) in seen or name not in dists:
            continue
        seen.add((name, extras))
        needed.add(name)
        for line in dists[name].requires or []:
            req = Requirement(line)
            if req.marker and not any(req.marker.evaluate({"extra": e}) for e in extras | {""}):
                continue
            todo.append((req.name, frozenset(req.extras)))
    modules = sorted(m for m, owners in md.packages_distributions().items()
                     if not m.startswith("_") and not any(norm(d) in needed for d in owners))
    return modules, sorted(set(dists) - needed)


def installed_like(tmp: str, dev_venv: bool) -> dict[str, str]:
    """Environment for every measured process (ours and the bare references alike)."""
    env = {"PYTHONPYCACHEPREFIX": f"{tmp}/pycache", "MALLOC_ARENA_MAX": "2"}
    if not dev_venv:
        modules, _ = test_only_modules()
        site = Path(tmp) / "site"
        site.mkdir()
        (site / "sitecustomize.py").write_text(BLOCKER.format(names=modules))
        env["PYTHONPATH"] = str(site)
    return env


def _env(tmp: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TELEGRAM_", "MATRIX_", "DATABASE_")) and k != "PYTHONDONTWRITEBYTECODE"}
    env.update({"DATABASE_URL": f"sqlite:///{tmp}/footprint.db", "DATA_DIR": tmp, "LOG_LEVEL": "WARNING",
                "COMMANDS_PER_MINUTE": "10000"})
    env.update(LIKE_INSTALLED)
    env.update(extra)
    return env


LIKE_INSTALLED: dict[str, str] = {}


def timed(argv: list[str], env: dict[str, str], stdin: str = "") -> tuple[float, float]:
    """Wall-clock seconds from start to exit, and the CPU seconds the process used (user + system): on this
    shared machine the wall clock moves with the others' load far more than the CPU time does."""
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run(argv, input=stdin, env=env, cwd=ROOT, capture_output=True, text=True, check=True, timeout=300)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)


def first_answer(argv: list[str], env: dict[str, str], stdin: str) -> tuple[float, float]:
    """Wall-clock and CPU seconds from the process's start to the first line of its answer on stdout (the
    goal's "answers its first command"; the exit comes later: the stop waits for the jobs run at start)."""
    began = time.perf_counter()
    process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               env=env, cwd=ROOT, text=True)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(stdin)
    process.stdin.close()
    process.stdout.readline()
    wall = time.perf_counter() - began
    fields = Path(f"/proc/{process.pid}/stat").read_text().rpartition(")")[2].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    process.stdout.read()
    process.wait(timeout=300)
    return wall, cpu


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    """The process's resident memory now (VmRSS), or its highest so far (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
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
        timed(chat, env, "/aide\n")  # creates and migrates the database, caches the bytecode: not what a start costs
        timed([PYTHON, "-c", BARE_CHAT], env)  # the same for the reference (its bytecode cached)
        ours: list[tuple[float, float]] = []
        bare: list[tuple[float, float]] = []
        empty: list[tuple[float, float]] = []
        answered: list[tuple[float, float]] = []
        for _ in range(rounds):  # interleaved: the shared machine's load weighs on both alike
            answered.append(first_answer(chat, env, "/aide\n"))
            ours.append(timed(chat, env, "/aide\n"))
            bare.append(timed([PYTHON, "-c", BARE_CHAT], env))
            empty.append(timed([PYTHON, "-c", "pass"], env))
        probe = ("import sys, tempfile; sys.path.insert(0, '.'); from bot.app import App; from bot.config import "
                 "load_settings; import os; App(load_settings(dict(os.environ)), adapters=[]).prepare(); "
                 f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
        loaded = subprocess.run([PYTHON, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True,
                                timeout=300).stdout.strip()
    for index, what in ((0, "wall clock"), (1, "CPU time")):
        o, b = [t[index] for t in ours], [t[index] for t in bare]
        a = [t[index] for t in answered]
        print(f"console chat, /aide: first line of the answer printed, {what}: min {min(a):.2f} s, "
              f"median {statistics.median(a):.2f} s (bare reference ratio {min(a) / min(b):.2f})")
        print(f"console chat, /aide answered (process start to exit), {what}: min {min(o):.2f} s, "
              f"median {statistics.median(o):.2f} s")
        print(f"  bare reference ({BARE_CHAT.split(';')[0]}): min {min(b):.2f} s, median {statistics.median(b):.2f} s"
              f" -> ratio {min(o) / min(b):.2f}; empty interpreter {min(t[index] for t in empty):.2f} s")
    print(f"  heavy modules loaded by App + prepare: {loaded or 'none'}")


async def polling_rss(standin: BotApiStandIn, env: dict[str, str]) -> float:
    """RSS of a `tierslieu run` once it polls, then stopped."""
    process = subprocess.Popen([PYTHON, "-m", "bot.cli", "run"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        await standin.wait_for("getUpdates", len(standin.sent("getUpdates", only_ok=False)) + 1, timeout=120)
        await asyncio.sleep(0.5)
        return rss_mib(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


async def run_rss(commands: int) -> tuple[float, float, float, float, float, float]:
    standin = BotApiStandIn()
    await standin.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = _env(tmp, TELEGRAM_BOT_TOKEN=standin.token, TELEGRAM_API_URL=standin.url,
                       HTTP_HOST="127.0.0.1", HTTP_PORT=str(free_port()))
            migrating_rss = await polling_rss(standin, env)  # a new database: migrated at this start
            process = subprocess.Popen([PYTHON, "-m", "bot.cli", "run"], env=env, cwd=ROOT,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                await standin.wait_for("getUpdates", len(standin.sent("getUpdates", only_ok=False)) + 1,
                                       timeout=120)
                await asyncio.sleep(0.5)
                started_rss = rss_mib(process.pid)
                texts = ["/aide", "/free demain", "/espaces", "/mesreservations", "/free demain 10h-12h"]
                for n in range(commands):
                    user = standin.user(1000 + n % 200, f"Membre{n % 200}")
                    standin.type_text(standin.private_chat(user), user, texts[n % len(texts)])
                    if n % 50 == 49:
                        await asyncio.sleep(0.05)
                await standin.wait_for("sendMessage", commands, timeout=600)
                after = rss_mib(process.pid)
                peak = rss_mib(process.pid, "VmHWM")  # while the commands ran and their answers waited
                await asyncio.sleep(QUIET_S)
                quiet = rss_mib(process.pid)
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
    return migrating_rss, started_rss, after, quiet, bare_rss, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-run", action="store_true", help="only the console start-up")
    parser.add_argument("--dev-venv", action="store_true",
                        help="leave the test-only distributions of this venv importable (not as installed)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        LIKE_INSTALLED.update(installed_like(tmp, args.dev_venv))
        if args.dev_venv:
            print("as this development venv is (test tools importable), bytecode cached, MALLOC_ARENA_MAX=2")
        else:
            print(f"as installed: runtime dependencies only ({', '.join(test_only_modules()[1])} not "
                  f"importable), bytecode cached, MALLOC_ARENA_MAX=2")
        startup(args.rounds)
        if args.skip_run:
            return
        migrating, started, after, quiet, bare, peak = asyncio.run(run_rss(args.commands))
    print(f"tierslieu run (Telegram stand-in, HTTP, scheduler): RSS {started:.0f} MiB once polling, "
          f"{after:.0f} MiB just after {args.commands} commands answered, {quiet:.0f} MiB {QUIET_S:.0f} s later; "
          f"a start that migrates a new database: {migrating:.0f} MiB once polling")
    print(f"  highest RSS while the {args.commands} commands ran and their answers waited for Telegram's 30/s: "
          f"{peak:.0f} MiB")
    print(f"  bare reference (python importing sqlalchemy, sqlmodel, aiohttp, python-telegram-bot, babel): "
          f"{bare:.0f} MiB -> ratio {after / bare:.2f} just after, {quiet / bare:.2f} {QUIET_S:.0f} s later")


if __name__ == "__main__":
    main()
