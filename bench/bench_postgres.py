"""/book, /free <day> and /free <time> through the core on PostgreSQL (200 spaces, 10,000 bookings, as
bench_core on SQLite), beside raw psycopg doing a booking's essential work (lock the space's row, count
overlaps, insert, commit). A fresh database is created and dropped. Min and median of 3 rounds.

    TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/bench_postgres.py
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg
from bench_core import NOW, SPACES, seed
from sqlalchemy import create_engine, make_url, text

from bot.app import App
from bot.config import load_settings
from bot.core.types import ChatRef, Incoming, Platform, UserRef

KINDS = ("book", "free_day", "free_slot")


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=150, help="commands of each kind per round")
    args = parser.parse_args()
    base = make_url(os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    base = base.set(drivername="postgresql+psycopg")
    name = f"tl_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name)
    try:
        settings = load_settings({"DATABASE_URL": url.render_as_string(hide_password=False), "LOG_LEVEL": "WARNING",
                                  "COMMANDS_PER_MINUTE": "10000"})
        app = App(settings, adapters=[], clock=lambda: NOW)
        app.prepare(seed=False)
        seed(app, random.Random(42))

        def incoming(user: int, body: str) -> Incoming:
            return Incoming(ChatRef(Platform.CONSOLE, f"u{user}", True), UserRef(Platform.CONSOLE, f"u{user}", "U"),
                            body)

        rng = random.Random(1)
        for n in range(30):
            app.dispatcher.handle_sync(incoming(n, command_text(KINDS[n % 3], rng)))
        rates: dict[str, list[float]] = {k: [] for k in KINDS}
        p99s: dict[str, list[float]] = {k: [] for k in KINDS}
        raw: list[float] = []
        for r in range(3):
            rng = random.Random(100 + r)
            for kind in KINDS:
                timings = []
                for n in range(args.commands):
                    t0 = time.perf_counter()
                    app.dispatcher.handle_sync(incoming(n % 50, command_text(kind, rng)))
                    timings.append(time.perf_counter() - t0)
                rates[kind].append(len(timings) / sum(timings))
                p99s[kind].append(sorted(timings)[int(0.99 * (len(timings) - 1))] * 1000)
            raw.append(raw_books(url.set(drivername="postgresql").render_as_string(hide_password=False), 300))
        app.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    print("PostgreSQL, 200 spaces, 10,000 bookings (commands/s, min / median of 3; p99 ms median)")
    for kind in KINDS:
        print(f"  {kind:9s} {min(rates[kind]):7.0f} / {statistics.median(rates[kind]):7.0f} /s   "
              f"p99 {statistics.median(p99s[kind]):6.1f} ms")
    ratio = statistics.median(rates["book"]) / statistics.median(raw)
    print(f"  reference: raw psycopg lock + overlap count + insert + commit: {min(raw):.0f} / "
          f"{statistics.median(raw):.0f} /s -> /book ratio {ratio:.2f}")


if __name__ == "__main__":
    main()
