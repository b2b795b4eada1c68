"""Backup and restore of a year of a busy tiers-lieu (300 members, 50,000 bookings, 20,000 hour entries) on
SQLite, with `tierslieu backup`'s code, beside a bare reference (sqlite3's backup API into a file, no archive),
and the time of GET-/healthz-like and /metrics-like reads on that database. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_backup.py [--bookings 50000]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert
from sqlmodel import select

from bot.app import App
from bot.backup import backup, restore
from bot.config import load_settings
from bot.metrics import inbox_figures, outbox_figures
from storage.db import session_scope
from storage.models import Booking, Member, OutboxMessage, Space
from storage.models_volunteers import TaskEntry

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def seed(app: App, bookings: int) -> None:
    with session_scope(app.engine) as session:
        spaces = list(session.exec(select(Space.id)))
        session.execute(insert(Member), [{"display_name": f"Membre {n}", "created_at": NOW} for n in range(300)])
        start = NOW - timedelta(days=365)
        session.execute(insert(Booking), [
            {"space_id": spaces[n % len(spaces)], "member_id": 1 + n % 300,
             "start": start + timedelta(hours=n % 8760), "end": start + timedelta(hours=n % 8760, minutes=90),
             "status": "active", "created_at": start} for n in range(bookings)])
        session.execute(insert(TaskEntry), [
            {"member_id": 1 + n % 300, "minutes": 30 + n % 240, "description": "tri des dons",
             "day": date(2026, 1, 1) + timedelta(days=n % 320), "created_at": start} for n in range(20_000)])
        session.execute(insert(OutboxMessage), [
            {"platform": "telegram", "chat_id": str(n), "payload": '{"text": "Rappel"}', "status": "sent",
             "not_before": NOW, "created_at": NOW, "attempts": 1} for n in range(20_000)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = load_settings({"DATABASE_URL": f"sqlite:///{folder / 'bot.db'}", "DATA_DIR": str(folder / "data")})
        app = App(settings, adapters=[], clock=lambda: NOW)
        app.prepare()
        seed(app, args.bookings)
        size = (folder / "bot.db").stat().st_size

        started = time.perf_counter()
        source, target = sqlite3.connect(folder / "bot.db"), sqlite3.connect(folder / "bare.db")
        source.backup(target)
        source.close()
        target.close()
        bare = time.perf_counter() - started

        started = time.perf_counter()
        result = backup(settings, folder / "archive.tar.gz", env={})
        took = time.perf_counter() - started

        place = folder / "restored"
        started = time.perf_counter()
        restore(load_settings({"DATABASE_URL": f"sqlite:///{place / 'bot.db'}", "DATA_DIR": str(place)}), result.path)
        restored = time.perf_counter() - started

        reads = []
        for _ in range(20):
            started = time.perf_counter()
            outbox_figures(app.engine, NOW)
            inbox_figures(app.engine, NOW)
            reads.append(time.perf_counter() - started)
        app.engine.dispose()
        print(f"database: {size / 2**20:.1f} MB, {args.bookings} bookings, 20000 hour entries, 20000 sent messages")
        print(f"bare sqlite3 backup API:  {bare * 1000:8.0f} ms")
        print(f"tierslieu backup:         {took * 1000:8.0f} ms  archive {result.path.stat().st_size / 2**20:.1f} MB")
        print(f"tierslieu restore:        {restored * 1000:8.0f} ms  (checksums, integrity check, row counts)")
        median = sorted(reads)[len(reads) // 2]
        print(f"outbox+inbox figures:     {median * 1000:8.1f} ms median (each /healthz, /metrics)")


if __name__ == "__main__":
    main()
