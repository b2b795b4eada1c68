"""Latency against history and the number of spaces: /book, /free <day>, /free <time> and /mybookings
through the core on SQLite, with 10k or 1M past bookings and 200 or 2,000 spaces (a scale table).

Each scenario is measured with the indexes as they are (overlap queries served by an index led by the
booking's end) and, with ``--old-index``, again with the old start-led index put back, so the ratio shows
what the index does. The bare reference is the overlap query of one space's day on bare sqlite3. Prints
p50 (and /book's p99) min and median of 3 rounds, then /book's p50 (min of the rounds) in each scenario
against the first (flat: about 1); asserts nothing.

    .venv/bin/python bench/bench_scale.py [--commands 150] [--big 1000000] [--quick] [--old-index]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import App
from bot.config import load_settings
from bot.core.types import ChatRef, Incoming, Platform, UserRef
from storage.db import session_scope
from storage.spaces import import_spaces

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
MEMBERS = 300
UPCOMING = 10_000
FMT = "%Y-%m-%d %H:%M:%S.%f"
KINDS = ("book", "free_day", "free_slot", "mybookings")


def seed(app: App, path: str, spaces: int, past: int, rng: random.Random) -> None:
    hours = {d: "08:00-20:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat")}
    kinds = ["meeting_room", "desk", "machine", "room"]
    entries = [{"slug": f"space-{n:04d}", "name": f"Espace {n:04d}", "kind": kinds[n % 4],
                "capacity": 1 if n % 4 != 1 else 6, "max_hours": 8, "max_days_ahead": 90} for n in range(spaces)]
    with session_scope(app.engine) as session:
        import_spaces(session, {"site": {"slug": "bench", "name": "Bench", "hours": hours}, "spaces": entries})
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    created = NOW.strftime(FMT)
    db.executemany("INSERT INTO member (display_name, language, language_chosen, is_coordinator, is_organiser, "
                   "created_at) VALUES (?, 'fr', 0, 0, 0, ?)", [(f"m{n}", created) for n in range(MEMBERS)])
    space_ids = [r[0] for r in db.execute("SELECT id FROM space")]

    def rows(count: int, first_day: int, days: int):  # type: ignore[no-untyped-def]
        for _ in range(count):
            day = NOW + timedelta(days=first_day + rng.randrange(days))
            start = day.replace(hour=rng.randrange(7, 17), minute=rng.choice([0, 30]))
            end = start + timedelta(minutes=rng.choice([60, 90, 120]))
            yield (rng.choice(space_ids), rng.randrange(1, MEMBERS + 1), start.strftime(FMT), end.strftime(FMT),
                   created)

    sql = ("INSERT INTO booking (space_id, member_id, start, \"end\", status, created_at) "
           "VALUES (?, ?, ?, ?, 'active', ?)")
    db.executemany(sql, rows(past, -3 * 365, 3 * 365 - 1))  # three years of history
    db.executemany(sql, rows(UPCOMING, 1, 59))
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.close()


def use_old_index(path: str, old: bool) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    if old:
        db.execute("DROP INDEX IF EXISTS ix_booking_space_end")
        db.execute("DROP INDEX IF EXISTS ix_booking_member_end")
        db.execute("DROP INDEX IF EXISTS ix_occurrence_event_end")
        db.execute('CREATE INDEX IF NOT EXISTS ix_booking_space_time ON booking (space_id, start, "end")')
    db.execute("ANALYZE")
    db.close()


def bare_overlap(path: str, spaces: int, n: int) -> float:
    """Queries/s: one space's active bookings over a day, on bare sqlite3 (the reference)."""
    db = sqlite3.connect(path)
    rng = random.Random(7)
    started = time.perf_counter()
    for _ in range(n):
        day = NOW + timedelta(days=rng.randrange(1, 30))
        db.execute('SELECT start, "end" FROM booking WHERE space_id = ? AND status = \'active\' AND start < ? '
                   'AND "end" > ?', (rng.randrange(1, spaces + 1), (day + timedelta(days=1)).strftime(FMT),
                                     day.strftime(FMT))).fetchall()
    elapsed = time.perf_counter() - started
    db.close()
    return n / elapsed


def run_commands(app: App, spaces: int, n: int, rng: random.Random) -> dict[str, list[float]]:
    def incoming(user: int, text: str) -> Incoming:
        return Incoming(ChatRef(Platform.CONSOLE, f"u{user}", True), UserRef(Platform.CONSOLE, f"u{user}", "U"), text)

    days = ["demain", "mercredi", "jeudi", "vendredi", "2026-12-03", "2026-12-10", "samedi"]
    timings: dict[str, list[float]] = {k: [] for k in KINDS}
    for i in range(n * len(KINDS)):
        kind = KINDS[i % len(KINDS)]
        day, hour = rng.choice(days), rng.randrange(8, 18)
        text = {"book": f"/book space-{rng.randrange(spaces):04d} {day} {hour}h-{hour + 1}h",
                "free_day": f"/free {day}", "free_slot": f"/free {day} {hour}h-{hour + 2}h",
                "mybookings": "/mybookings"}[kind]
        t0 = time.perf_counter()
        app.dispatcher.handle_sync(incoming(i % 50, text))
        timings[kind].append((time.perf_counter() - t0) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=150, help="commands of each kind per round")
    parser.add_argument("--big", type=int, default=1_000_000, help="past bookings of the big history")
    parser.add_argument("--quick", action="store_true", help="one round, fewer commands (a smoke run)")
    parser.add_argument("--old-index", action="store_true", help="also measure with the old start-led index")
    args = parser.parse_args()
    rounds = 1 if args.quick else 3
    n = 20 if args.quick else args.commands
    scenarios = [(200, 10_000), (200, args.big), (2_000, 10_000), (2_000, args.big)]
    print(f"{'spaces':>6} {'past':>9} {'index':>5} | " + " | ".join(f"{k:>17}" for k in KINDS)
          + f" | {'book p99':>17} | bare overlap q/s")
    print(f"{'':>6} {'':>9} {'':>5} | " + " | ".join(f"{'p50 ms min/med':>17}" for _ in KINDS)
          + f" | {'ms min/med':>17} |")
    flat: list[tuple[str, float]] = []
    for spaces, past in scenarios:
        with tempfile.TemporaryDirectory() as tmp:
            path = f"{tmp}/scale.db"
            settings = load_settings({"DATABASE_URL": f"sqlite:///{path}", "LOG_LEVEL": "WARNING",
                                      "COMMANDS_PER_MINUTE": "10000"})
            app = App(settings, adapters=[], clock=lambda: NOW)
            app.prepare(seed=False)
            started = time.perf_counter()
            seed(app, path, spaces, past, random.Random(42))
            seeded = time.perf_counter() - started
            for old in (False, True) if args.old_index else (False,):
                use_old_index(path, old)
                app.engine.dispose()
                run_commands(app, spaces, 15, random.Random(1))  # warm-up: members, caches, page cache
                p50s: dict[str, list[float]] = {k: [] for k in KINDS}
                p99s: list[float] = []
                for r in range(rounds):
                    timings = run_commands(app, spaces, n, random.Random(100 + r))
                    for kind in KINDS:
                        p50s[kind].append(statistics.median(timings[kind]))
                    p99s.append(sorted(timings["book"])[int(0.99 * (len(timings["book"]) - 1))])
                bare = bare_overlap(path, spaces, 2000)
                cells = " | ".join(f"{min(p50s[k]):7.2f} / {statistics.median(p50s[k]):7.2f}" for k in KINDS)
                cells += f" | {min(p99s):7.2f} / {statistics.median(p99s):7.2f}"
                print(f"{spaces:>6} {past:>9} {'old' if old else 'new':>5} | {cells} | {bare:9.0f}"
                      + ("" if old else f"   (seeded in {seeded:.0f} s)"), flush=True)
                if not old:
                    flat.append((f"{spaces} spaces, {past:,} past", min(p50s["book"])))
            app.engine.dispose()
    first = flat[0][1]
    print("/book p50 (min of the rounds) against the first scenario (flat: about 1 on a quiet machine): "
          + ", ".join(f"{label} {p50 / first:.2f}" for label, p50 in flat)
          + f"; slowest / fastest {max(p for _, p in flat) / min(p for _, p in flat):.2f}")


if __name__ == "__main__":
    main()
