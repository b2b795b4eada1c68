"""The public iCal feed with 5,000 events on SQLite: generation time and size, and the time of a 304
answer over HTTP from the bot's own server. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_ical.py [--events 5000] [--requests 300]

"cold" is the first build in a fresh process (every VEVENT serialised by icalendar); "after a change"
is the build that follows an edit of one event (the other VEVENTs come from the component cache).
Targets: under 1 s to generate, under 5 ms for a 304.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from sqlalchemy import insert, update

from bot.app import App
from bot.config import load_settings
from bot.feeds import WARM_UP
from bot.ical import FeedBuilder
from storage.db import session_scope
from storage.models import Member
from storage.models_events import Event, EventOccurrence

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


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


def timed(builder: FeedBuilder, app: App) -> tuple[float, int]:
    began = time.perf_counter()
    with session_scope(app.engine) as session:
        feed = builder.events_feed(session, NOW)
    body = builder.body(feed)
    return time.perf_counter() - began, len(body)


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings({"DATABASE_URL": f"sqlite:///{tmp}/bench.db", "LOG_LEVEL": "WARNING",
                                  "HTTP_HOST": "127.0.0.1", "HTTP_PORT": "0", "PUBLIC_URL": "https://bot.example.org"})
        app = App(settings, adapters=[], clock=lambda: NOW, serve_feeds=True)
        app.prepare()
        seed(app, args.events, random.Random(5))
        builder = FeedBuilder(settings.timezone, settings.language, settings.public_url)
        cold, size = timed(builder, app)
        with session_scope(app.engine) as session:
            session.execute(update(Event).where(Event.id == 42).values(title="Changed", sequence=1,  # type: ignore[arg-type]
                                                                        updated_at=NOW + timedelta(seconds=1)))
        warm, _ = timed(builder, app)
        validator_times = []
        for _ in range(50):
            began = time.perf_counter()
            with session_scope(app.engine) as session:
                builder.events_feed(session, NOW, validators_only=True)
            validator_times.append(time.perf_counter() - began)
        validators = statistics.median(validator_times)
        timings = asyncio.run(conditional_requests(app, args.requests))
        app.engine.dispose()
    ms = sorted(t * 1000 for t in timings)
    print(f"feed of {args.events} events: {size / 1024:.0f} KiB")
    print(f"generation, cold (every VEVENT serialised): {cold * 1000:.0f} ms")
    print(f"generation after one event changed:        {warm * 1000:.0f} ms")
    print(f"ETag/Last-Modified alone (in process, median): {validators * 1000:.2f} ms")
    print(f"304 over HTTP (If-None-Match), {len(ms)} requests: p50 {statistics.median(ms):.2f} ms, "
          f"p99 {ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]:.2f} ms")


if __name__ == "__main__":
    main()
