"""/free <day> (each space's free hours that day) and /free <time> (the spaces free then) through the core,
beside a bare reference in the same run: a tight Python version of the same work (spaces, the day's or the
window's bookings and events read with the bare driver, free stretches swept, lines formatted) with no cache.

A scale table: 200 and 2,000 spaces, 10,000 past bookings and (--big) 1,000,000, always with 10,000
upcoming bookings over 60 days; SQLite, and PostgreSQL when TEST_POSTGRES_URL is set (a scratch database,
dropped after). Three cases through the core: "warm" (every day asked before), "after a write" (a booking
inserted by a bare connection, as another process would, before each /free) and "cold" (this process's cache
emptied before each /free: the whole computation). Commands/s: median and best of 3 runs; p50 in ms.

    .venv/bin/python bench/bench_free.py [--big] [--past 1000000] [--commands 300] [--spaces 200,2000]
        [--backends sqlite,postgresql]
    TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/bench_free.py
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, make_url, text
from sqlmodel import select

import storage.availability
from bot.app import App
from bot.config import load_settings
from bot.core.types import ChatRef, Incoming, Platform, UserRef
from storage.db import session_scope
from storage.models import Booking, Member, Space
from storage.spaces import import_spaces

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # Monday 08:00 in Paris
TZ = ZoneInfo("Europe/Paris")
UPCOMING = 10_000
MEMBERS = 300
DAYS = ["demain", "mercredi", "jeudi", "vendredi", "2026-12-03", "2026-12-10", "samedi"]
DAY_DATES = {"demain": date(2026, 11, 24), "mercredi": date(2026, 11, 25), "jeudi": date(2026, 11, 26),
             "vendredi": date(2026, 11, 27), "2026-12-03": date(2026, 12, 3), "2026-12-10": date(2026, 12, 10),
             "samedi": date(2026, 11, 28)}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# --- the data ---------------------------------------------------------------------------------------------


def seed(app: App, spaces: int, history: int, rng: random.Random) -> None:
    hours = {d: "08:00-20:00" for d in WEEKDAYS[:6]}
    kinds = ["meeting_room", "desk", "machine", "room"]
    rows = [{"slug": f"space-{n:04d}", "name": f"Espace {n:04d}", "kind": kinds[n % 4],
             "capacity": 1 if n % 4 != 1 else 6, "max_hours": 8, "max_days_ahead": 90} for n in range(spaces)]
    with session_scope(app.engine) as session:
        import_spaces(session, {"site": {"slug": "bench", "name": "Bench", "hours": hours}, "spaces": rows})
        session.execute(insert(Member), [{"display_name": f"m{n}", "language": "fr", "language_chosen": False,
                                          "is_coordinator": False, "is_organiser": False, "created_at": NOW}
                                         for n in range(MEMBERS)])
        space_ids = list(session.exec(select(Space.id)))

    def booking(day: datetime) -> tuple[Any, ...]:
        start = day.replace(hour=rng.randrange(7, 17), minute=rng.choice([0, 30]))
        return (rng.choice(space_ids), rng.randrange(1, MEMBERS + 1), start,
                start + timedelta(minutes=rng.choice([60, 90, 120])), "active", NOW)

    upcoming = [booking(NOW + timedelta(days=rng.randrange(1, 60))) for _ in range(UPCOMING)]
    past = (booking(NOW - timedelta(days=rng.randrange(1, 5 * 365))) for _ in range(history))
    sql = 'INSERT INTO booking (space_id, member_id, start, "end", status, created_at) VALUES ({})'
    raw = app.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if app.engine.dialect.name == "sqlite":
            def fmt(row: tuple[Any, ...]) -> tuple[Any, ...]:  # as SQLAlchemy stores them: naive UTC text
                return tuple(v.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
                             if isinstance(v, datetime) else v for v in row)
            cursor.execute("BEGIN")
            cursor.executemany(sql.format(", ".join("?" * 6)), map(fmt, upcoming))
            cursor.executemany(sql.format(", ".join("?" * 6)), map(fmt, past))
            cursor.execute("COMMIT")
            cursor.execute("ANALYZE")
        else:
            # The freestamp row trigger is off while seeding (a million plpgsql calls); nothing is cached yet,
            # and the spaces' stamps are bumped once after.
            cursor.execute("ALTER TABLE booking DISABLE TRIGGER freestamp_booking")
            with cursor.copy('COPY booking (space_id, member_id, start, "end", status, created_at) FROM STDIN') as copy:
                for row in upcoming:
                    copy.write_row(row)
                for row in past:
                    copy.write_row(row)
            cursor.execute("ALTER TABLE booking ENABLE TRIGGER freestamp_booking")
            cursor.execute("UPDATE space SET capacity = capacity")  # each space's stamp bumped by its trigger
            raw.commit()
            cursor.execute("ANALYZE")
            raw.commit()
    finally:
        raw.close()


# --- the bare reference -------------------------------------------------------------------------------------


class Bare:
    """The same work on the bare driver: read the spaces, the bookings and events over the day (or window), sweep
    each space's free stretches, format the lines. Opening hours and times are turned once into instants and text
    (as the core does); nothing else is kept from one call to the next."""

    def __init__(self, connect: Callable[[], Any], sqlite: bool) -> None:
        self.connection = connect()
        self.sqlite = sqlite
        self.mark = "?" if sqlite else "%s"
        self.hours: dict[str, dict[str, list[tuple[dtime, dtime]]]] = {}
        self.opening: dict[tuple[str, date], list[tuple[datetime, datetime]]] = {}  # parsed once, as the core
        self.times: dict[datetime, str] = {}  # an instant formatted once, as the core

    def close(self) -> None:
        self.connection.close()

    def _bind(self, moment: datetime) -> Any:
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds") if self.sqlite else moment

    def _moment(self, value: Any) -> datetime:
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

    def _rows(self, start: datetime, end: datetime) -> tuple[list[Any], dict[int, list[tuple[datetime, datetime]]],
                                                             dict[int, list[tuple[datetime, datetime]]]]:
        cursor = self.connection.cursor()
        cursor.execute("SELECT id, name, slug, capacity, opening_hours FROM space WHERE NOT closed "
                       "ORDER BY site_id, name")
        spaces = cursor.fetchall()
        m = self.mark
        ids = [row[0] for row in spaces]
        if self.sqlite:  # the index led by (space_id, end): one range per space, as the core's query
            among, params = f"space_id IN ({', '.join('?' * len(ids))})", ids
        else:
            among, params = "space_id = ANY(%s)", [ids]
        cursor.execute(f'SELECT space_id, start, "end" FROM booking WHERE {among} AND status = \'active\' '
                       f'AND "end" > {m} AND start < {m}', (*params, self._bind(start), self._bind(end)))
        taken: dict[int, list[tuple[datetime, datetime]]] = {}
        for sid, s, e in cursor.fetchall():
            taken.setdefault(sid, []).append((self._moment(s), self._moment(e)))
        cursor.execute("SELECT e.space_id, o.start, o.\"end\" FROM eventoccurrence o JOIN event e ON e.id = o.event_id "
                       f"WHERE e.status = 'active' AND o.status = 'scheduled' AND o.\"end\" > {m} AND o.start < {m}",
                       (self._bind(start), self._bind(end)))
        blocked: dict[int, list[tuple[datetime, datetime]]] = {}
        for sid, s, e in cursor.fetchall():
            blocked.setdefault(sid, []).append((self._moment(s), self._moment(e)))
        if not self.sqlite:
            self.connection.commit()
        return spaces, taken, blocked

    def _opening(self, text_: str, day: date) -> list[tuple[datetime, datetime]]:
        found = self.opening.get((text_, day))
        if found is None:
            found = self.opening[(text_, day)] = self._opening_of(text_, day)
        return found

    def _hhmm(self, moment: datetime) -> str:
        found = self.times.get(moment)
        if found is None:
            found = self.times[moment] = f"{moment.astimezone(TZ):%H:%M}"
        return found

    def _opening_of(self, text_: str, day: date) -> list[tuple[datetime, datetime]]:
        hours = self.hours.get(text_)
        if hours is None:
            hours = self.hours[text_] = {
                d: [(dtime.fromisoformat(r[:5]), dtime.fromisoformat(r[6:])) for r in ranges]
                for d, ranges in json.loads(text_).items()}
        return [(datetime.combine(day, a, TZ).astimezone(UTC), datetime.combine(day, b, TZ).astimezone(UTC))
                for a, b in hours.get(WEEKDAYS[day.weekday()], [])]

    def free_day(self, day: date, now: datetime) -> str:
        start = datetime.combine(day, dtime(0), TZ)
        spaces, taken, blocked = self._rows(start, start + timedelta(days=1))
        lines = []
        for sid, name, slug, capacity, hours in spaces:
            mine, events = taken.get(sid, []), blocked.get(sid, [])
            periods: list[tuple[datetime, datetime]] = []
            for o_start, o_end in self._opening(hours, day):
                a0 = max(o_start, now)
                if a0 >= o_end:
                    continue
                cuts = sorted({a0, o_end} | {t for b in mine + events for t in b if a0 < t < o_end})
                for a, b in pairwise(cuts):
                    used = sum(1 for s, e in mine if s < b and a < e)
                    if used < capacity and not any(s < b and a < e for s, e in events):
                        if periods and periods[-1][1] == a:
                            periods[-1] = (periods[-1][0], b)
                        else:
                            periods.append((a, b))
            shown = [(a, b) for a, b in periods if b - a >= timedelta(minutes=15)]
            if shown:
                hours_text = ", ".join(f"{self._hhmm(a)}–{self._hhmm(b)}" for a, b in shown)
                lines.append(f"• {name} ({slug}): {hours_text}")
        return "\n".join(lines)

    def free_at(self, start: datetime, end: datetime) -> str:
        spaces, taken, blocked = self._rows(start, end)
        day = start.astimezone(TZ).date()
        lines = []
        for sid, name, slug, capacity, hours in spaces:
            if not any(a <= start and end <= b for a, b in self._opening(hours, day)):
                continue
            if any(s < end and start < e for s, e in blocked.get(sid, [])):
                continue
            mine = [(s, e) for s, e in taken.get(sid, []) if s < end and start < e]
            points = sorted([(max(s, start), 1) for s, _ in mine] + [(min(e, end), -1) for _, e in mine],
                            key=lambda p: (p[0], p[1]))
            peak = current = 0
            for _, delta in points:
                current += delta
                peak = max(peak, current)
            if peak < capacity:
                lines.append(f"• {name} ({slug})")
        return "\n".join(lines)


# --- the runs -----------------------------------------------------------------------------------------------


def incoming(user: int, text_: str) -> Incoming:
    return Incoming(ChatRef(Platform.CONSOLE, f"u{user}", True), UserRef(Platform.CONSOLE, f"u{user}", "U"), text_)


def commands(kind: str, n: int, rng: random.Random) -> list[tuple[str, date, int]]:
    out = []
    for _ in range(n):
        day, hour = rng.choice(DAYS), rng.randrange(8, 18)
        out.append((f"/free {day}" if kind == "day" else f"/free {day} {hour}h-{hour + 2}h", DAY_DATES[day], hour))
    return out


def timed(calls: list[Callable[[], object]], before: Callable[[], object] | None = None) -> tuple[float, float, float]:
    """Commands/s (wall clock), p50 (ms) and commands per CPU second of this process, of one run; ``before``
    each call is not timed. On a loaded machine the wall clock counts the time other processes held the
    cores; the CPU time doesn't (nor a database server's own time: PostgreSQL's share is not in it)."""
    took = []
    cpu = 0.0
    for call in calls:
        if before is not None:
            before()
        c0 = time.process_time()
        t0 = time.perf_counter()
        call()
        took.append(time.perf_counter() - t0)
        cpu += time.process_time() - c0
    return len(took) / sum(took), statistics.median(took) * 1000, len(took) / max(cpu, 1e-9)


def figures(label: str, app: App, bare: Bare, n: int, rng: random.Random) -> dict[str, float]:
    counter = iter(range(10**9))
    with app.engine.connect() as connection:
        spaces_ids = [sid for (sid,) in connection.execute(text("SELECT id FROM space")).all()]
    for text_ in [f"/free {d}" for d in DAYS] + [f"/free {d} 10h-11h" for d in DAYS]:  # warm: every day asked once
        app.dispatcher.handle_sync(incoming(1, text_))
    # The reference does the same work: its lines are the core's answer.
    same = all(app.dispatcher.handle_sync(incoming(1, f"/free {d}"))[0].text == bare.free_day(DAY_DATES[d], NOW)
               and app.dispatcher.handle_sync(incoming(1, f"/free {d} 10h-12h"))[0].text
               == bare.free_at(datetime.combine(DAY_DATES[d], dtime(10), TZ).astimezone(UTC),
                               datetime.combine(DAY_DATES[d], dtime(12), TZ).astimezone(UTC)) for d in DAYS)
    floor = [timed([lambda: app.dispatcher.handle_sync(incoming(next(counter) % 50, "/aide free"))] * n)
             for _ in range(3)]
    print(f"  {label} same answers as the reference: {'yes' if same else 'NO'}; "
          f"core floor (/aide free) {fmt_runs(floor)}")
    rates: dict[str, float] = {}

    def a_write() -> None:  # another process books: the day's stamps move, one space is recomputed
        with app.engine.begin() as connection:
            start = datetime.combine(DAY_DATES[rng.choice(DAYS)], dtime(rng.randrange(8, 18)), TZ)
            connection.execute(insert(Booking).values(space_id=rng.choice(spaces_ids), member_id=1, start=start,
                                                      end=start + timedelta(hours=1), status="active", created_at=NOW))

    def cold() -> None:
        storage.availability._caches.clear()

    for kind in ("day", "time"):
        todo = commands(kind, n, rng)
        core = [lambda t=t: app.dispatcher.handle_sync(incoming(next(counter) % 50, t)) for t, _, _ in todo]
        if kind == "day":
            ref = [lambda d=d: bare.free_day(d, NOW) for _, d, _ in todo]
        else:
            ref = [lambda d=d, h=h: bare.free_at(datetime.combine(d, dtime(h), TZ).astimezone(UTC),
                                                 datetime.combine(d, dtime(h + 2), TZ).astimezone(UTC))
                   for _, d, h in todo]
        name = "/free <day> " if kind == "day" else "/free <time>"
        ref_runs, core_runs = [], []
        for _ in range(3):  # interleaved: the machine's load moves both alike
            ref_runs.append(timed(ref))
            core_runs.append(timed(core))
        ref_rate = statistics.median(r for r, _, _ in ref_runs)
        core_rate = statistics.median(r for r, _, _ in core_runs)
        rates[f"{kind} warm"] = core_rate
        rates[f"{kind} bare"] = ref_rate
        rates[f"{kind} warm p50"] = statistics.median(p for _, p, _ in core_runs)
        rates[f"{kind} bare p50"] = statistics.median(p for _, p, _ in ref_runs)
        rates[f"{kind} warm cpu"] = statistics.median(c for _, _, c in core_runs)
        rates[f"{kind} bare cpu"] = statistics.median(c for _, _, c in ref_runs)
        print(f"  {label} {name} warm          {fmt_runs(core_runs)}  bare {fmt_runs(ref_runs)}  "
              f"ratio {core_rate / ref_rate:5.2f}")
        few = core[: max(30, n // 5)]
        after = [timed(few, a_write) for _ in range(3)]
        print(f"  {label} {name} after a write {fmt_runs(after)}  "
              f"ratio {statistics.median(r for r, _, _ in after) / ref_rate:5.2f}")
        cold_runs = [timed(few, cold) for _ in range(3)]
        print(f"  {label} {name} cold          {fmt_runs(cold_runs)}  "
              f"ratio {statistics.median(r for r, _, _ in cold_runs) / ref_rate:5.2f}")
    return rates


def fmt_runs(runs: list[tuple[float, float, float]]) -> str:
    rates = [r for r, _, _ in runs]
    p50 = statistics.median(p for _, p, _ in runs)
    cpu = statistics.median(c for _, _, c in runs)
    return f"{statistics.median(rates):6.0f} /s (best {max(rates):6.0f}, p50 {p50:5.2f} ms, {cpu:5.0f} /cpu-s)"


@contextmanager
def sqlite_database() -> Iterator[tuple[str, Callable[[], Any]]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/bench.db"
        yield f"sqlite:///{path}", lambda: sqlite3.connect(path, isolation_level=None)


@contextmanager
def postgres_database(base_url: str) -> Iterator[tuple[str, Callable[[], Any]]]:
    import psycopg

    base = make_url(base_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"bench_free_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = base.set(database=name).render_as_string(hide_password=False)
        plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
        yield url, lambda: psycopg.connect(plain)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=300, help="commands per run (3 runs per figure)")
    parser.add_argument("--spaces", default="200,2000")
    parser.add_argument("--big", action="store_true", help="also 1,000,000 past bookings (minutes of seeding)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--past", default="", help="past bookings, e.g. 1000000 (instead of --big's 10000,1000000)")
    args = parser.parse_args()
    histories = [10_000, 1_000_000] if args.big else [10_000]
    if args.past:
        histories = [int(n) for n in args.past.split(",")]
    backends = args.backends.split(",")
    postgres = os.environ.get("TEST_POSTGRES_URL", "").strip()
    if "postgresql" in backends and not postgres:
        print("TEST_POSTGRES_URL is not set: SQLite only")
        backends = [b for b in backends if b != "postgresql"]
    summary: list[tuple[str, dict[str, float]]] = []
    for backend in backends:
        for spaces in [int(s) for s in args.spaces.split(",")]:
            for history in histories:
                database = sqlite_database() if backend == "sqlite" else postgres_database(postgres)
                with database as (url, connect):
                    settings = load_settings({"DATABASE_URL": url, "LOG_LEVEL": "WARNING",
                                              "TIMEZONE": "Europe/Paris", "LANGUAGE": "fr",
                                              "COMMANDS_PER_MINUTE": "10000"})  # the clock stands still
                    app = App(settings, adapters=[], clock=lambda: NOW)
                    app.prepare(seed=False)
                    started = time.perf_counter()
                    rng = random.Random(15)
                    seed(app, spaces, history, rng)
                    label = f"{backend:10s} {spaces:5d} spaces {history // 1000:5d}k past"
                    print(f"{label}: seeded in {time.perf_counter() - started:.0f} s")
                    bare = Bare(connect, backend == "sqlite")
                    try:
                        summary.append((label, figures(label, app, bare, args.commands, rng)))
                    finally:
                        bare.close()
                        app.engine.dispose()
    print("\nScale table, warm, median of 3 runs: commands/s (wall clock) | p50 ms | commands per CPU second;"
          " bare: the reference in the same run")
    print(f"  {'':40s} {'/free <day>':>24s} {'bare':>24s} {'/free <time>':>24s} {'bare':>24s}")
    for label, r in summary:
        cells = [f"{r[k]:6.0f} | {r[k + ' p50']:5.2f} | {r[k + ' cpu']:5.0f}"
                 for k in ("day warm", "day bare", "time warm", "time bare")]
        print(f"  {label:40s} " + " ".join(f"{c:>24s}" for c in cells))


if __name__ == "__main__":
    main()
