"""Database size after a year of weekly digests to 1,000 chats (SQLite): each week's digest, with its real
chart (drawn by the digest's own code on the seeded example spaces), is written to the outbox as the job
writes it (one row per chat, the PNG inside every row's payload) and marked sent. Printed: the size with
no pruning, with the RETENTION_OUTBOX_DAYS pruning (the daily data-retention job, storage.privacy), and what
the outbox would weigh if the picture were stored once per week and referenced. Asserts nothing.

    .venv/bin/python bench/bench_digest_size.py [--chats 1000] [--weeks 52]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import App
from bot.config import load_settings
from bot.core.i18n import translator_for
from bot.core.outbox import reply_to_json
from handlers.digest import compose_digest, draw_chart
from storage.db import session_scope
from storage.digest import occupancy_by_space
from storage.privacy import prune_old_rows

START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)  # a Monday
FMT = "%Y-%m-%d %H:%M:%S.%f"


def size_mib(path: str) -> float:
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("VACUUM")
    db.close()
    return os.path.getsize(path) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--weeks", type=int, default=52)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/digest.db"
        settings = load_settings({"DATABASE_URL": f"sqlite:///{path}", "LOG_LEVEL": "WARNING"})
        app = App(settings, adapters=[])
        app.prepare(seed=True)
        empty = size_mib(path)
        t = translator_for("fr", settings.timezone)
        with session_scope(app.engine) as session:
            first_day = START.astimezone(settings.tz).date()
            picture = draw_chart(*occupancy_by_space(session, first_day, settings.tz), t, first_day)
            payload = reply_to_json(compose_digest(session, t, START, picture))
        bare_payload = json.dumps({**json.loads(payload), "image": "ref:1"}, ensure_ascii=False)
        db = sqlite3.connect(path, isolation_level=None)
        for week in range(args.weeks):
            now = START + timedelta(weeks=week)
            stamp = now.strftime(FMT)
            db.execute("BEGIN")
            db.executemany(
                "INSERT INTO outboxmessage (platform, chat_id, payload, dedup_key, status, attempts, not_before, "
                "created_at, sent_at) VALUES ('telegram', ?, ?, ?, 'sent', 1, ?, ?, ?)",
                [(str(10_000 + n), payload, f"digest:{week}:telegram:{10_000 + n}", stamp, stamp, stamp)
                 for n in range(args.chats)])
            db.execute("COMMIT")
        db.close()
        full = size_mib(path)
        with session_scope(app.engine) as session:
            counts = prune_old_rows(session, START + timedelta(weeks=args.weeks),
                                    outbox_days=settings.retention_outbox_days,
                                    inbox_days=settings.retention_inbox_days,
                                    buttons_days=settings.retention_buttons_days)
        pruned = size_mib(path)
        app.engine.dispose()
    rows = args.weeks * args.chats
    kept_weeks = min(args.weeks, settings.retention_outbox_days // 7 + 1)
    by_reference = (kept_weeks * args.chats * len(bare_payload) + kept_weeks * len(picture)) / 2**20
    print(f"{args.weeks} weekly digests to {args.chats} chats ({rows} outbox rows); the chart is "
          f"{len(picture) / 1024:.0f} KiB as PNG, {len(payload) / 1024:.0f} KiB per row as stored (hex in the JSON), "
          f"{len(bare_payload)} bytes without it")
    print(f"  empty database (migrated, example spaces): {empty:.1f} MiB")
    print(f"  after a year, nothing pruned: {full:.1f} MiB")
    print(f"  after a year with the daily retention job (RETENTION_OUTBOX_DAYS={settings.retention_outbox_days}, "
          f"{counts.get('outbox', 0)} rows deleted): {pruned:.1f} MiB")
    print(f"  reference: the kept weeks' rows with the picture stored once a week and referenced: "
          f"~{by_reference:.1f} MiB of payload")


if __name__ == "__main__":
    main()
