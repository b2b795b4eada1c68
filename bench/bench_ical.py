"""The public iCal feed with 5,000 events on SQLite: cold build, build after one change, first byte after
a restart, plain and gzip sizes, the time of a 304, beside a bare reference: the same VEVENTs built by
icalendar alone from rows already read. Prints figures (min and median of 3 runs); asserts nothing.

    .venv/bin/python bench/bench_ical.py [--events 5000] [--requests 300]

"cold" is a build by a fresh FeedBuilder (rows read, every VEVENT written); "after a change" follows an
edit of one event (the other VEVENTs come from the component cache); "first byte after a restart" starts
``tierslieu``'s web server in a new process on the same database and times its first GET of the
programme, from the moment the server listens (the start-up build runs in the background) and from the
process start. Targets (issue 14/15): cold build < 0.5 s, first byte after a restart < 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from sqlalchemy import insert, update  # noqa: E402

from bot.app import App  # noqa: E402
from bot.config import Settings, load_settings  # noqa: E402
from bot.feeds import WARM_UP  # noqa: E402
from bot.ical import FeedBuilder, window_start  # noqa: E402
from storage.db import session_scope  # noqa: E402
from storage.feed_state import feed_event_rows  # noqa: E402
from storage.models import Member  # noqa: E402
from storage.models_events import Event, EventOccurrence  # noqa: E402

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
RUNS = 3


def settings_for(database: str) -> Settings:
    return load_settings({"DATABASE_URL": f"sqlite:///{database}", "LOG_LEVEL": "WARNING",
                          "HTTP_HOST": "127.0.0.1", "HTTP_PORT": "0", "PUBLIC_URL": "https://bot.example.org"})


def seed(app: App, events: int, rng: random.Random) -> None:
    with session_scope(app.engine) as session:
        session.execute(insert(Member), [{"display_name": "organiser", "language": "fr", "language_chosen": False,
                                          "is_coordinator": True, "is_organiser": True, "created_at": NOW}])
        rows = []
        for n in range(events):
            start = (NOW + timedelta(days=rng.randrange(-60, 300), hours=rng.randrange(0, 10))).replace(minute=0)
            rows.append({"title": f"Atelier n°{n} — réparation & couture", "description": "Apportez vos objets. " * 3,
                         "organiser_id": 1, "space_id": rng.choice([None, 1, 2, 3]),
                         "capacity": rng.choice([None, 12, 20]), "start": start, "end": start + timedelta(hours=2),
                         "status": "active", "sequence": 0, "created_at": NOW, "updated_at": NOW})
        session.execute(insert(Event), rows)
        session.execute(insert(EventOccurrence), [
            {"event_id": n + 1, "original_start": r["start"], "start": r["start"], "end": r["end"],
             "status": "scheduled", "sequence": 0, "updated_at": NOW} for n, r in enumerate(rows)])


def timed(builder: FeedBuilder, app: App) -> tuple[float, bytes]:
    began = time.perf_counter()
    with session_scope(app.engine) as session:
        feed = builder.events_feed(session, NOW)
    body = builder.body(feed)
    return time.perf_counter() - began, body


def icalendar_alone(app: App) -> float:
    """The reference: the same VEVENTs made and serialised by icalendar, from rows already read."""
    from icalendar import Calendar, Timezone
    from icalendar import Event as VEvent

    with session_scope(app.engine) as session:
        rows = feed_event_rows(session, window_start(NOW))
    tz = app.settings.tz
    began = time.perf_counter()
    calendar = Calendar()
    calendar.add("prodid", "-//bench//FR")
    calendar.add("version", "2.0")
    calendar.add_component(Timezone.from_tzinfo(tz))
    for event, occurrences in rows:
        vevent = VEvent()
        vevent.add("uid", f"event-{event.id}@bot.example.org")
        vevent.add("dtstamp", event.updated_at)
        vevent.add("dtstart", occurrences[0].start.astimezone(tz))
        vevent.add("dtend", occurrences[0].end.astimezone(tz))
        vevent.add("summary", event.title)
        vevent.add("description", event.description)
        vevent.add("sequence", event.sequence)
        vevent.add("status", "CONFIRMED")
        calendar.add_component(vevent)
    calendar.to_ical()
    return time.perf_counter() - began


def first_byte_after_restart(database: str) -> tuple[float, float]:
    """(from listening, from process start) to the first byte of the programme, in a new process."""
    began = time.perf_counter()
    child = subprocess.Popen([sys.executable, __file__, "--serve", database], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline().strip())
        listening = time.perf_counter()

        async def get() -> None:
            async with aiohttp.ClientSession() as client, client.get(
                    f"http://127.0.0.1:{port}/ical/events.ics", headers={"Accept-Encoding": "gzip"}) as response:
                await response.content.readany()
                assert response.status == 200

        asyncio.run(get())
        done = time.perf_counter()
    finally:
        child.terminate()
        child.wait()
    return done - listening, done - began


def serve(database: str) -> None:
    """The child process of first_byte_after_restart: the bot's web server with its feeds."""
    settings = settings_for(database)

    async def run() -> None:
        app = App(settings, adapters=[], clock=lambda: NOW, serve_feeds=True)
        app.prepare(seed=False)
        await app.web.start()
        print(app.web.port, flush=True)
        await asyncio.sleep(60)

    asyncio.run(run())


async def conditional_requests(app: App, count: int) -> list[float]:
    await app.web.start()
    assert app.web._runner is not None
    await app.web._runner.app[WARM_UP]  # the server's own start-up build, not to be measured alongside
    url = f"http://127.0.0.1:{app.web.port}/ical/events.ics"
    timings = []
    try:
        async with aiohttp.ClientSession() as client:
            async with client.get(url) as response:
                etag = response.headers["ETag"]
                await response.read()
            for _ in range(count):
                began = time.perf_counter()
                async with client.get(url, headers={"If-None-Match": etag}) as response:
                    await response.read()
                    assert response.status == 304
                timings.append(time.perf_counter() - began)
    finally:
        await app.web.stop()
    return timings


def line(label: str, values: list[float], reference: list[float] | None = None) -> str:
    text = f"{label:<44} min {min(values) * 1000:7.0f} ms  median {statistics.median(values) * 1000:7.0f} ms"
    if reference:
        text += f"   (icalendar alone: min {min(reference) * 1000:.0f} ms, ratio {min(values) / min(reference):.2f})"
    return text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    with tempfile.TemporaryDirectory() as tmp:
        database = f"{tmp}/bench.db"
        settings = settings_for(database)
        app = App(settings, adapters=[], clock=lambda: NOW, serve_feeds=True)
        app.prepare()
        seed(app, args.events, random.Random(5))
        colds, warms, references, restarts, from_start = [], [], [], [], []
        body = b""
        for run in range(RUNS):
            builder = FeedBuilder(settings.timezone, settings.language, settings.public_url)
            cold, body = timed(builder, app)
            colds.append(cold)
            with session_scope(app.engine) as session:
                session.execute(update(Event).where(Event.id == 42).values(  # type: ignore[arg-type]
                    title=f"Changed {run}", sequence=run + 1, updated_at=NOW + timedelta(seconds=run + 1)))
            warms.append(timed(builder, app)[0])
            references.append(icalendar_alone(app))
        packed = gzip.compress(body, compresslevel=6, mtime=0)
        for _ in range(RUNS):
            listening, started = first_byte_after_restart(database)
            restarts.append(listening)
            from_start.append(started)
        timings = asyncio.run(conditional_requests(app, args.requests))
        app.engine.dispose()
    ms = sorted(t * 1000 for t in timings)
    print(f"programme feed of {args.events} events: {len(body) / 1024:.0f} KiB plain, "
          f"{len(packed) / 1024:.0f} KiB gzipped ({len(packed) / len(body):.1%})")
    print(line("cold build (rows read, every VEVENT written)", colds, references))
    print(line("build after one event changed", warms))
    print(line("first byte after a restart, from listening", restarts))
    print(line("first byte after a restart, from exec", from_start))
    print(f"304 over HTTP (If-None-Match), {len(ms)} requests: p50 {statistics.median(ms):.2f} ms, "
          f"p99 {ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]:.2f} ms")


if __name__ == "__main__":
    main()
