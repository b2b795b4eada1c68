"""Commands per second through the core, and p50/p99 latency of /book and /free, with 200 spaces and
10,000 existing bookings on SQLite, beside two bare references measured in the same run:

- the project's own statements replayed on bare sqlite3: every SQL statement the core ran for each
  command (BEGIN, savepoints, the member's lookup, the handler's queries, inserts), captured with their
  parameters, run again in the same order on a copy of the database taken before the commands; what is
  left between the two is Python (SQLAlchemy, the grammar, the handler, replies);
- a bare sqlite3 booking: BEGIN IMMEDIATE, count the overlapping active bookings, insert when free, commit
  (the least a booking can cost on this machine).

Each run seeds a fresh database (same seed, same commands); min and median of ``--runs`` runs. Prints
figures; asserts nothing.

    .venv/bin/python bench/bench_core.py [--commands 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, insert
from sqlmodel import select

from bot.app import App
from bot.config import load_settings
from bot.core.types import ChatRef, Incoming, Platform, UserRef
from storage.db import session_scope
from storage.models import Booking, Member, Space
from storage.spaces import import_spaces

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
SPACES = 200
BOOKINGS = 10_000
MEMBERS = 300
DAYS = 60
KINDS = ("book", "free_day", "free_slot")
FMT = "%Y-%m-%d %H:%M:%S.%f"


def seed(app: App, rng: random.Random) -> None:
    hours = {d: "08:00-20:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat")}
    kinds = ["meeting_room", "desk", "machine", "room"]
    spaces = [{"slug": f"space-{n:03d}", "name": f"Espace {n:03d}", "kind": kinds[n % 4],
               "capacity": 1 if n % 4 != 1 else 6, "max_hours": 8, "max_days_ahead": 90} for n in range(SPACES)]
    with session_scope(app.engine) as session:
        import_spaces(session, {"site": {"slug": "bench", "name": "Bench", "hours": hours}, "spaces": spaces})
        session.execute(insert(Member), [{"display_name": f"m{n}", "language": "fr", "language_chosen": False,
                                          "is_coordinator": False, "is_organiser": False, "created_at": NOW}
                                         for n in range(MEMBERS)])
        space_ids = list(session.exec(select(Space.id)))
        rows = []
        for _ in range(BOOKINGS):
            day = NOW + timedelta(days=rng.randrange(1, DAYS))
            start = day.replace(hour=rng.randrange(7, 17), minute=rng.choice([0, 30]))
            rows.append({"space_id": rng.choice(space_ids), "member_id": rng.randrange(1, MEMBERS + 1),
                         "start": start, "end": start + timedelta(minutes=rng.choice([60, 90, 120])),
                         "status": "active", "created_at": NOW})
        session.execute(insert(Booking), rows)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def incoming(user: int, text: str) -> Incoming:
    return Incoming(ChatRef(Platform.CONSOLE, f"u{user}", True), UserRef(Platform.CONSOLE, f"u{user}", "U"), text)


def mixed_commands(n: int, rng: random.Random) -> list[tuple[str, str]]:
    days = ["demain", "mercredi", "jeudi", "vendredi", "2026-12-03", "2026-12-10", "samedi"]
    commands: list[tuple[str, str]] = []
    for _ in range(n):
        kind = rng.choice(KINDS)
        day = rng.choice(days)
        hour = rng.randrange(8, 18)
        if kind == "book":
            text = f"/book space-{rng.randrange(SPACES):03d} {day} {hour}h-{hour + 1}h"
        elif kind == "free_day":
            text = f"/free {day}"
        else:
            text = f"/free {day} {hour}h-{hour + 2}h"
        commands.append((kind, text))
    return commands


Statement = tuple[str, Any]


def replay(path: str, commands: list[tuple[str, list[Statement]]]) -> dict[str, tuple[int, float]]:
    """Run the captured statements of each command again on bare sqlite3 (the same connection settings as
    storage.db: WAL, autocommit mode, the transaction opened by the captured BEGIN, else as storage.db opens
    it); seconds per kind."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
        db.execute(f"PRAGMA {pragma}")
    spent: dict[str, tuple[int, float]] = {}
    for kind, statements in commands:
        t0 = time.perf_counter()
        if not any(sql.startswith("BEGIN") for sql, _params in statements):
            # storage.db begins on the driver (no cursor event): as it does, /book as a writer, /free deferred
            db.execute("BEGIN IMMEDIATE" if kind == "book" else "BEGIN")
        for sql, params in statements:
            db.execute(sql, params).fetchall()
        if db.in_transaction:
            db.execute("COMMIT")
        count, total = spent.get(kind, (0, 0.0))
        spent[kind] = (count + 1, total + time.perf_counter() - t0)
    db.close()
    return spent


def bare_bookings(path: str, n: int) -> float:
    """Bookings/s on bare sqlite3: BEGIN IMMEDIATE, overlap count, insert when free, commit."""
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
        db.execute(f"PRAGMA {pragma}")
    rng = random.Random(5)
    ids = [r[0] for r in db.execute("SELECT id FROM space")]
    created = NOW.strftime(FMT)
    began = time.perf_counter()
    for _ in range(n):
        space = rng.choice(ids)
        start = NOW + timedelta(days=rng.randrange(1, DAYS), hours=rng.randrange(1, 10))
        s, e = start.strftime(FMT), (start + timedelta(hours=1)).strftime(FMT)
        db.execute("BEGIN IMMEDIATE")
        busy = db.execute("SELECT count(*) FROM booking WHERE space_id = ? AND status = 'active' AND \"end\" > ? "
                          "AND start < ?", (space, s, e)).fetchone()[0]
        if busy == 0:
            db.execute("INSERT INTO booking (space_id, member_id, start, \"end\", status, created_at) "
                       "VALUES (?, 1, ?, ?, 'active', ?)", (space, s, e, created))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - began
    db.close()
    return n / elapsed


def snapshot(path: str, to: str) -> None:
    source, target = sqlite3.connect(path), sqlite3.connect(to)
    source.backup(target)
    source.close()
    target.close()


def capture_statements(path: str, commands: list[tuple[str, str]]) -> list[tuple[str, list[Statement]]]:
    """The SQL each command runs, with its parameters: the same commands again on a copy of the database
    as it was before them, with a listener on the engine (in an untimed pass: a listener can change which
    way some statements are run)."""
    settings = load_settings({"DATABASE_URL": f"sqlite:///{path}", "LOG_LEVEL": "WARNING",
                              "COMMANDS_PER_MINUTE": "10000"})
    app = App(settings, adapters=[], clock=lambda: NOW)
    captured: list[Statement] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        captured.append((statement, parameters))

    for n in range(20):  # the same warm-up as the timed pass (caches kept per database)
        app.dispatcher.handle_sync(incoming(n, "/free demain 10h-11h"))
    event.listen(app.engine, "before_cursor_execute", capture)
    per_command: list[tuple[str, list[Statement]]] = []
    for n, (kind, text) in enumerate(commands):
        captured.clear()
        app.dispatcher.handle_sync(incoming(n % 50, text))
        per_command.append((kind, list(captured)))
    app.engine.dispose()
    return per_command


def one_run(n_commands: int) -> dict[str, Any]:
    rng = random.Random(42)
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/bench.db"
        settings = load_settings({"DATABASE_URL": f"sqlite:///{path}", "LOG_LEVEL": "WARNING",
                                  "COMMANDS_PER_MINUTE": "10000"})
        app = App(settings, adapters=[], clock=lambda: NOW)
        app.prepare(seed=False)
        seed(app, rng)
        commands = mixed_commands(n_commands, rng)
        for n in range(20):  # warm-up: members, caches
            app.dispatcher.handle_sync(incoming(n, "/free demain 10h-11h"))
        app.warm_statements()  # as `tierslieu run` does at start
        app.engine.dispose()
        snapshot(path, f"{tmp}/capture.db")
        snapshot(path, f"{tmp}/replay.db")
        snapshot(path, f"{tmp}/bare.db")

        timings: dict[str, list[float]] = {k: [] for k in KINDS}
        outcomes = {"booked": 0, "refused": 0}
        started = time.perf_counter()
        for n, (kind, text) in enumerate(commands):
            t0 = time.perf_counter()
            replies = app.dispatcher.handle_sync(incoming(n % 50, text))
            timings[kind].append(time.perf_counter() - t0)
            if kind == "book":
                outcomes["booked" if replies[0].text.startswith("Réservé") else "refused"] += 1
        elapsed = time.perf_counter() - started
        app.engine.dispose()
        per_command = capture_statements(f"{tmp}/capture.db", commands)
        replayed = replay(f"{tmp}/replay.db", per_command)
        bare = bare_bookings(f"{tmp}/bare.db", 2000)
    statements = {k: sum(len(s) for kind, s in per_command if kind == k) / max(1, len(timings[k])) for k in KINDS}
    return {"mixed": len(commands) / elapsed, "timings": timings, "outcomes": outcomes, "bare": bare,
            "replayed": {k: c / t for k, (c, t) in replayed.items()}, "statements": statements}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=1000, help="mixed commands per run")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = []
    for r in range(args.runs):
        runs.append(one_run(args.commands))
        print(f"run {r + 1}: {runs[-1]['mixed']:.0f} mixed commands/s", flush=True)

    def fig(get: Callable[[dict[str, Any]], float], fmt: str = "{:7.0f}") -> str:
        values = [get(run) for run in runs]
        return f"{fmt.format(min(values))} / {fmt.format(statistics.median(values))}"

    def rate(kind: str) -> Callable[[dict[str, Any]], float]:
        return lambda run: len(run["timings"][kind]) / sum(run["timings"][kind])

    print(f"\nSQLite, {SPACES} spaces, {BOOKINGS:,} bookings, {args.commands} mixed commands a run, one thread; "
          f"min / median of {len(runs)} runs")
    print(f"  mixed: {fig(lambda run: run['mixed'])} commands/s")
    print(f"  {'':9s} {'through the core /s':>19s} {'p50 ms':>17s} {'p99 ms':>17s} {'SQL/cmd':>7s} | "
          f"{'its statements on sqlite3 /s':>28s} {'ratio':>5s}")
    for kind in KINDS:
        core = statistics.median([rate(kind)(run) for run in runs])
        raw = statistics.median([run["replayed"][kind] for run in runs])
        print(f"  {kind:9s} {fig(rate(kind)):>19s} "
              f"{fig(lambda run, k=kind: statistics.median(run['timings'][k]) * 1000, '{:7.2f}'):>17s} "
              f"{fig(lambda run, k=kind: percentile(run['timings'][k], 0.99) * 1000, '{:7.2f}'):>17s} "
              f"{statistics.median([run['statements'][kind] for run in runs]):7.1f} | "
              f"{fig(lambda run, k=kind: run['replayed'][k]):>28s} {core / raw:5.2f}")
    book = statistics.median([rate("book")(run) for run in runs])
    bare = statistics.median([run["bare"] for run in runs])
    print(f"  reference: a bare sqlite3 booking (BEGIN IMMEDIATE, overlap count, insert, commit): "
          f"{fig(lambda run: run['bare'])} /s -> /book at {book / bare:.3f} of it")
    outcomes = runs[0]["outcomes"]
    print(f"  /book outcomes (each run): {outcomes['booked']} booked, {outcomes['refused']} refused (with suggestions)")


if __name__ == "__main__":
    main()
