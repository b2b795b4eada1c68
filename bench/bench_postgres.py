"""/book, /free <day> and /free <time> through the core on PostgreSQL (200 spaces, 10,000 bookings, as
bench_core on SQLite), beside two references measured in the same run:

- each command's own statements replayed on raw psycopg: every SQL statement the core ran for it, captured
  with its parameters in an untimed pass on a copy of the database, run again in order on another copy
  (what is left between the two is Python: SQLAlchemy, the grammar, the handler, the replies);
- raw psycopg doing a booking's essential work (lock the space's row, count overlaps, insert, commit).

Scratch databases are created (a seeded one, then copies of it per round: CREATE DATABASE ... TEMPLATE) and
all dropped after. Min and median of 3 rounds.

    TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/bench_postgres.py
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg
from bench_core import NOW, SPACES, seed
from sqlalchemy import URL, create_engine, event, make_url, text

from bot.app import App
from bot.config import load_settings
from bot.core.types import ChatRef, Incoming, Platform, UserRef

KINDS = ("book", "free_day", "free_slot")
WARMED_MEMBERS = 30  # known before the timed commands; the other 20 of the 50 write their first message in them


def command_text(kind: str, rng: random.Random) -> str:
    day = rng.choice(["demain", "mercredi", "jeudi", "vendredi", "2026-12-03", "2026-12-10", "samedi"])
    hour = rng.randrange(8, 18)
    if kind == "book":
        return f"/book space-{rng.randrange(SPACES):03d} {day} {hour}h-{hour + 1}h"
    return f"/free {day}" if kind == "free_day" else f"/free {day} {hour}h-{hour + 2}h"


def raw_books(url: str, n: int) -> float:
    """Bookings/s on raw psycopg: the same lock, overlap count, insert and commit, nothing else."""
    rng = random.Random(5)
    with psycopg.connect(url) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM space")]
        conn.commit()
        began = time.perf_counter()
        for _ in range(n):
            space = rng.choice(ids)
            start = NOW + timedelta(days=rng.randrange(1, 60), hours=rng.randrange(1, 10))
            end = start + timedelta(hours=1)
            conn.execute("SELECT id FROM space WHERE id = %s FOR UPDATE", (space,))
            busy = conn.execute('SELECT count(*) FROM booking WHERE space_id = %s AND status = \'active\' '
                                'AND start < %s AND "end" > %s', (space, end, start)).fetchone()
            if busy and busy[0] == 0:
                conn.execute('INSERT INTO booking (space_id, member_id, start, "end", status, created_at) '
                             "VALUES (%s, 1, %s, %s, 'active', %s)", (space, start, end, NOW))
            conn.commit()
        return n / (time.perf_counter() - began)


def incoming(user: int, body: str) -> Incoming:
    return Incoming(ChatRef(Platform.CONSOLE, f"u{user}", True), UserRef(Platform.CONSOLE, f"u{user}", "U"), body)


def make_app(url: URL) -> App:
    settings = load_settings({"DATABASE_URL": url.render_as_string(hide_password=False), "LOG_LEVEL": "WARNING",
                              "COMMANDS_PER_MINUTE": "10000"})
    return App(settings, adapters=[], clock=lambda: NOW)


def warm_up(app: App) -> None:
    """What a bot that has been running a while has: its members' rows and caches (a /free each), its
    statements compiled (at start), and the paths of /book run once (booked, and refused with suggestions),
    on days in 2027 that the timed commands don't touch. The same for the timed and the captured copy."""
    for n in range(WARMED_MEMBERS):
        app.dispatcher.handle_sync(incoming(n, "/free demain 10h-11h"))
    app.warm_statements()  # as `tierslieu run` does at start
    for n in range(10):
        for _twice in range(2):  # the second one is refused, with its suggestions
            app.dispatcher.handle_sync(incoming(n, f"/book space-{n:03d} 2027-01-{12 + n} 10h-11h"))


def round_commands(r: int, n: int) -> list[tuple[str, str]]:
    rng = random.Random(100 + r)
    return [(kind, command_text(kind, rng)) for kind in KINDS for _ in range(n)]


def capture(url: URL, commands: list[tuple[str, str]]) -> list[tuple[str, list[tuple[str, Any]]]]:
    """The SQL each command runs, with its parameters, in an untimed pass on a copy of the database."""
    app = make_app(url)
    seen: list[tuple[str, Any]] = []
    event.listen(app.engine, "before_cursor_execute", lambda *a: seen.append((a[2], a[3])))
    per_command = []
    for n, (kind, body) in enumerate(commands):
        seen.clear()
        app.dispatcher.handle_sync(incoming(n % 50, body))
        per_command.append((kind, list(seen)))
    app.engine.dispose()
    return per_command


def replay(url: str, per_command: list[tuple[str, list[tuple[str, Any]]]]) -> dict[str, float]:
    """Commands/s per kind: the captured statements run again on raw psycopg, a transaction per command."""
    spent: dict[str, list[float]] = {k: [] for k in KINDS}
    with psycopg.connect(url) as conn:
        for kind, statements in per_command:
            t0 = time.perf_counter()
            for sql, params in statements:
                cursor = conn.execute(sql, params or None)
                if cursor.description is not None:
                    cursor.fetchall()
            conn.commit()
            spent[kind].append(time.perf_counter() - t0)
    return {k: len(v) / sum(v) for k, v in spent.items() if v}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=300, help="commands of each kind per round")
    args = parser.parse_args()
    base = make_url(os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    base = base.set(drivername="postgresql+psycopg")
    name = f"tl_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name)
    scratch = [name]

    def copy(suffix: str) -> URL:
        copied = f"{name}_{suffix}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{copied}" TEMPLATE "{name}"'))
        scratch.append(copied)
        return base.set(database=copied)

    rates: dict[str, list[float]] = {k: [] for k in KINDS}
    p99s: dict[str, list[float]] = {k: [] for k in KINDS}
    replayed: dict[str, list[float]] = {k: [] for k in KINDS}
    raw: list[float] = []
    first_contacts: list[float] = []
    try:
        app = make_app(url)
        app.prepare(seed=False)
        seed(app, random.Random(42))
        rng = random.Random(1)
        for n in range(WARMED_MEMBERS):  # warm-up: members
            app.dispatcher.handle_sync(incoming(n, command_text(KINDS[n % 3], rng)))
        app.engine.dispose()
        for r in range(3):
            commands = round_commands(r, args.commands)
            timed, captured, replayed_db = copy(f"t{r}"), copy(f"c{r}"), copy(f"r{r}")
            app = make_app(timed)
            warm_up(app)
            gc.collect()  # as `tierslieu run` does once started: what start-up built is out of the
            gc.freeze()   # collector's reach, so a full collection doesn't walk it in the middle of a command
            timings: dict[str, list[float]] = {k: [] for k in KINDS}
            known_only: dict[str, list[float]] = {k: [] for k in KINDS}
            known = set(range(WARMED_MEMBERS))
            for n, (kind, body) in enumerate(commands):
                t0 = time.perf_counter()
                app.dispatcher.handle_sync(incoming(n % 50, body))
                spent = time.perf_counter() - t0
                timings[kind].append(spent)
                if n % 50 in known:
                    known_only[kind].append(spent)
                else:  # this member's first message: they and their account are created with it
                    first_contacts.append(spent * 1000)
                    known.add(n % 50)
            app.engine.dispose()
            gc.unfreeze()
            for kind in KINDS:
                rates[kind].append(len(timings[kind]) / sum(timings[kind]))
                p99s[kind].append(sorted(known_only[kind])[int(0.99 * (len(known_only[kind]) - 1))] * 1000)
            for copy_url in (captured, replayed_db):  # the replay starts where the capture started
                warm = make_app(copy_url)
                warm_up(warm)
                warm.engine.dispose()
            per_command = capture(captured, commands)
            plain = replayed_db.set(drivername="postgresql").render_as_string(hide_password=False)
            for kind, rate in replay(plain, per_command).items():
                replayed[kind].append(rate)
            raw.append(raw_books(plain, 300))
            print(f"round {r + 1}: /book {rates['book'][-1]:.0f} /s, its statements on psycopg "
                  f"{replayed['book'][-1]:.0f} /s, raw booking {raw[-1]:.0f} /s", flush=True)
    finally:
        with admin.connect() as conn:
            for database in reversed(scratch):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
    print(f"PostgreSQL, {SPACES} spaces, 10,000 bookings, {args.commands} commands of each kind a round; "
          "min / median of 3 rounds")
    print(f"  {'':9s} {'through the core /s':>19s} {'p99 ms (median)':>15s} | "
          f"{'its statements on psycopg /s':>28s} {'ratio':>5s}")
    for kind in KINDS:
        ratio = statistics.median(rates[kind]) / statistics.median(replayed[kind])
        print(f"  {kind:9s} {min(rates[kind]):9.0f} / {statistics.median(rates[kind]):7.0f} "
              f"{statistics.median(p99s[kind]):15.1f} | {min(replayed[kind]):17.0f} / "
              f"{statistics.median(replayed[kind]):8.0f} {ratio:5.2f}")
    print(f"  p99: of known members' commands; a newcomer's first command (member and account created with "
          f"it, {len(first_contacts)} in all): median {statistics.median(first_contacts):.1f} ms, "
          f"max {max(first_contacts):.1f} ms")
    ratio = statistics.median(rates["book"]) / statistics.median(raw)
    print(f"  reference: raw psycopg lock + overlap count + insert + commit: {min(raw):.0f} / "
          f"{statistics.median(raw):.0f} /s -> /book ratio {ratio:.2f}")


if __name__ == "__main__":
    main()
