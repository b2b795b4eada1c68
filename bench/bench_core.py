"""Commands per second through the core, and p50/p99 latency of /book and /free,
with 200 spaces and 10,000 existing bookings on SQLite. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_core.py [--commands 1000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=1000)
    args = parser.parse_args()
    rng = random.Random(42)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings({"DATABASE_URL": f"sqlite:///{tmp}/bench.db", "LOG_LEVEL": "WARNING"})
        app = App(settings, adapters=[], clock=lambda: NOW)
        app.prepare(seed=False)
        started = time.perf_counter()
        seed(app, rng)
        print(f"seeded {SPACES} spaces and {BOOKINGS} bookings in {time.perf_counter() - started:.1f} s")

        def incoming(user: int, text: str) -> Incoming:
            return Incoming(ChatRef(Platform.CONSOLE, f"u{user}", True), UserRef(Platform.CONSOLE, f"u{user}", "U"),
                            text)

        days = ["demain", "mercredi", "jeudi", "vendredi", "2026-12-03", "2026-12-10", "samedi"]
        commands: list[tuple[str, str]] = []
        for _ in range(args.commands):
            kind = rng.choice(["book", "free_day", "free_slot"])
            day = rng.choice(days)
            hour = rng.randrange(8, 18)
            if kind == "book":
                text = f"/book space-{rng.randrange(SPACES):03d} {day} {hour}h-{hour + 1}h"
            elif kind == "free_day":
                text = f"/free {day}"
            else:
                text = f"/free {day} {hour}h-{hour + 2}h"
            commands.append((kind, text))

        for n in range(20):  # warm-up: members, caches
            app.dispatcher.handle_sync(incoming(n, "/free demain 10h-11h"))

        timings: dict[str, list[float]] = {"book": [], "free_day": [], "free_slot": []}
        outcomes = {"booked": 0, "refused": 0}
        total_started = time.perf_counter()
        for n, (kind, text) in enumerate(commands):
            t0 = time.perf_counter()
            replies = app.dispatcher.handle_sync(incoming(n % 50, text))
            timings[kind].append((time.perf_counter() - t0) * 1000)
            if kind == "book":
                outcomes["booked" if replies[0].text.startswith("Réservé") else "refused"] += 1
        elapsed = time.perf_counter() - total_started
        app.engine.dispose()

    print(f"{len(commands)} commands in {elapsed:.2f} s: {len(commands) / elapsed:.0f} commands/s (one thread)")
    for kind, values in timings.items():
        print(f"  {kind:9s} n={len(values):4d}  p50={statistics.median(values):6.2f} ms  "
              f"p99={percentile(values, 0.99):6.2f} ms  max={max(values):6.2f} ms")
    print(f"  /book outcomes: {outcomes['booked']} booked, {outcomes['refused']} refused (with suggestions)")


if __name__ == "__main__":
    main()
