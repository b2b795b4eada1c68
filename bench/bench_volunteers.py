"""Volunteer commands and the activity report on a busy year, on SQLite: 300 members, 20,000 logged hours,
10,000 bookings over 30 spaces, a rota of 3 lines and 2,000 posted shifts. Prints p50/p99 latencies of
/task, /tasks, /shifts, /rota, /take, /report for a month and a year, and the uncovered-shift job;
asserts nothing.

    .venv/bin/python bench/bench_volunteers.py [--runs 50]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert
from sqlmodel import select

from bot.app import App
from bot.config import load_settings
from bot.core.outbox import enqueue
from bot.core.types import ChatRef, Incoming, Platform, UserRef
from handlers.volunteers import alert_uncovered_shifts
from storage.db import session_scope
from storage.models import Booking, Member, Space
from storage.models_volunteers import Shift, ShiftSignup, TaskEntry, VolunteerProject
from storage.spaces import import_spaces

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
MEMBERS = 300
SPACES = 30
BOOKINGS = 10_000
TASKS = 20_000
SHIFTS = 2_000
PROJECTS = ["ressourcerie", "cafe", "repair", "jardin", "compta", "accueil", "fablab", "communication"]


def seed(app: App, rng: random.Random) -> None:
    hours = {d: "08:30-19:00" for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": "10:00-18:00"}
    spaces = [{"slug": f"space-{n:02d}", "name": f"Espace {n:02d}", "capacity": 1 + (n % 3) * 3, "max_hours": 8}
              for n in range(SPACES)]
    year_start = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    with session_scope(app.engine) as session:
        import_spaces(session, {"site": {"slug": "bench", "name": "Bench", "hours": hours}, "spaces": spaces})
        session.execute(insert(Member), [{"display_name": f"m{n}", "language": "fr", "language_chosen": False,
                                          "is_coordinator": n == 0, "is_organiser": False, "created_at": NOW}
                                         for n in range(MEMBERS)])
        session.execute(insert(VolunteerProject), [{"slug": p, "created_at": NOW} for p in PROJECTS])
        space_ids = list(session.exec(select(Space.id)))
        bookings = []
        for _ in range(BOOKINGS):
            start = year_start + timedelta(days=rng.randrange(0, 365), hours=rng.randrange(1, 9))
            bookings.append({"space_id": rng.choice(space_ids), "member_id": rng.randrange(1, MEMBERS + 1),
                             "start": start, "end": start + timedelta(minutes=rng.choice([60, 90, 120])),
                             "status": "active", "created_at": NOW})
        session.execute(insert(Booking), bookings)
        session.execute(insert(TaskEntry), [
            {"member_id": rng.randrange(1, MEMBERS + 1), "project_id": rng.choice([None, *range(1, 9)]),
             "description": "bench", "minutes": rng.choice([30, 45, 60, 90, 120, 180, 240]),
             "day": date(2026, 1, 1) + timedelta(days=rng.randrange(0, 326)), "created_at": NOW}
            for _ in range(TASKS)])
        shifts = []
        for _ in range(SHIFTS):
            start = year_start + timedelta(days=rng.randrange(0, 365), hours=rng.randrange(1, 10))
            shifts.append({"title": "Tenir le bar", "start": start, "end": start + timedelta(hours=3),
                           "places": rng.randrange(1, 4), "status": "open", "created_at": NOW})
        session.execute(insert(Shift), shifts)
        session.execute(insert(ShiftSignup), [
            {"shift_id": shift_id, "member_id": member_id, "created_at": NOW}
            for shift_id in range(1, SHIFTS + 1)
            for member_id in rng.sample(range(2, MEMBERS + 1), rng.randrange(0, 3))])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(name: str, runs: int, action: Callable[[int], object]) -> None:
    timings = []
    for n in range(runs):
        started = time.perf_counter()
        action(n)
        timings.append((time.perf_counter() - started) * 1000)
    print(f"{name:<28} p50 {statistics.median(timings):7.1f} ms   p99 {percentile(timings, 0.99):7.1f} ms"
          f"   ({runs} runs)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(42)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings({"DATABASE_URL": f"sqlite:///{tmp}/bench.db", "LOG_LEVEL": "WARNING",
                                  "COORDINATORS": "console:coord"})
        app = App(settings, adapters=[], clock=lambda: NOW)
        app.prepare(seed=False)
        started = time.perf_counter()
        seed(app, rng)
        print(f"seeded {BOOKINGS} bookings, {TASKS} task entries and {SHIFTS} shifts in "
              f"{time.perf_counter() - started:.1f} s")

        def say(user: str, text: str) -> str:
            incoming = Incoming(ChatRef(Platform.CONSOLE, user, True), UserRef(Platform.CONSOLE, user, user), text)
            return "\n".join(r.text for r in app.dispatcher.handle_sync(incoming))

        for line in ("ouverture lun-ven 08:30-09:30 1", "fermeture lun-ven 18:30-19:00 1",
                     "fermeture sam 17:30-18:30 2"):
            say("coord", f"/rota add {line}")
        for n in range(60):
            say("coord", f'/need "Tri" 2026-12-{1 + n % 28:02d} {9 + n % 8}h-{10 + n % 8}h 50')

        measure("/task 2h30 … #project", args.runs, lambda n: say(f"v{n % 40}", "/task 2h30 tri #ressourcerie hier"))
        measure("/tasks (own month)", args.runs, lambda n: say(f"v{n % 40}", "/tasks"))
        measure("/tasks all year", max(args.runs // 5, 3), lambda n: say("coord", "/tasks all year"))
        measure("/shifts", args.runs, lambda n: say(f"v{n % 40}", "/shifts"))
        measure("/rota", args.runs, lambda n: say(f"v{n % 40}", "/rota"))
        measure("/take (50 places)", args.runs, lambda n: say(f"t{n}", f"/take {SHIFTS + 100 + n % 60}"))
        measure("/report 2026-11", max(args.runs // 5, 3), lambda n: say("coord", "/report 2026-11"))
        measure("/report 2026 (year)", max(args.runs // 10, 3), lambda n: say("coord", "/report 2026"))

        def alert(n: int) -> None:
            with session_scope(app.engine) as session:
                enqueue(session, alert_uncovered_shifts(session, NOW + timedelta(minutes=15 * n), settings), NOW)

        measure("alert_uncovered_shifts job", args.runs, alert)
        app.engine.dispose()


if __name__ == "__main__":
    main()
