"""Database size after a year of weekly digests to 1,000 chats (SQLite): each week's digest, with its real
chart (drawn by the digest's own code on the seeded example spaces), is written to the outbox as the job
writes it, and marked sent: before, one row per chat with the PNG hex-encoded inside every row's payload; now,
each week's chart stored once (outboximage) and the rows referring to it (bot/core/outbox.py). Printed side by
side: the size with no pruning and with the RETENTION_OUTBOX_DAYS pruning (the daily data-retention job,
storage.privacy, which also deletes charts no row refers to any more). Then the time SQLite's write lock is
held (BEGIN IMMEDIATE to COMMIT, the longest transaction) by the weekly digest job to 1,000 chats and by a typed
/digest, beside the time their charts take to draw and whether a drawing happened while the lock was held
(min and median of 3 runs). Asserts nothing.

    .venv/bin/python bench/bench_digest_size.py [--chats 1000] [--weeks 52] [--runs 3] [--lock-only]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import App
from bot.config import load_settings
from bot.core.i18n import translator_for
from bot.core.outbox import reply_to_json
from handlers.digest import compose_digest, draw_chart
from storage.db import session_scope
from storage.digest import occupancy_by_space
from storage.models import OutboxMessage
from storage.models_reminders import Subscription
from storage.privacy import prune_old_rows

START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)  # a Monday
FMT = "%Y-%m-%d %H:%M:%S.%f"


def size_mib(path: str) -> float:
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("VACUUM")
    db.close()
    return os.path.getsize(path) / 2**20


def year_of_digests(args: argparse.Namespace, by_reference: bool) -> dict[str, float]:
    """Sizes (MiB) of a database given a year of weekly digests, stored the old way (the PNG hex-encoded in
    every row) or the new way (each week's chart once in outboximage, the rows referring to it)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/digest.db"
        settings = load_settings({"DATABASE_URL": f"sqlite:///{path}", "LOG_LEVEL": "WARNING"})
        app = App(settings, adapters=[])
        app.prepare(seed=True)
        sizes = {"empty": size_mib(path)}
        t = translator_for("fr", settings.timezone)
        db = sqlite3.connect(path, isolation_level=None)
        picture, payload = b"", ""
        for week in range(args.weeks):
            now = START + timedelta(weeks=week)
            if week == 0 or by_reference:  # the old way: one chart drawn (the size is the same every week)
                with session_scope(app.engine) as session:
                    day = now.astimezone(settings.tz).date()
                    picture = draw_chart(*occupancy_by_space(session, day, settings.tz), t, day)
                    reply = compose_digest(session, t, now, picture)
                ref = hashlib.sha256(picture).hexdigest() if by_reference else None
                payload = reply_to_json(reply, ref)
            stamp = now.strftime(FMT)
            db.execute("BEGIN")
            if by_reference:
                db.execute("INSERT OR IGNORE INTO outboximage (sha256, data, used_at) VALUES (?, ?, ?)",
                           (hashlib.sha256(picture).hexdigest(), picture, stamp))
            db.executemany(
                "INSERT INTO outboxmessage (platform, chat_id, payload, dedup_key, status, attempts, not_before, "
                "created_at, sent_at) VALUES ('telegram', ?, ?, ?, 'sent', 1, ?, ?, ?)",
                [(str(10_000 + n), payload, f"digest:{week}:telegram:{10_000 + n}", stamp, stamp, stamp)
                 for n in range(args.chats)])
            db.execute("COMMIT")
        db.close()
        sizes["full"] = size_mib(path)
        with session_scope(app.engine) as session:
            counts = prune_old_rows(session, START + timedelta(weeks=args.weeks),
                                    outbox_days=settings.retention_outbox_days,
                                    inbox_days=settings.retention_inbox_days,
                                    buttons_days=settings.retention_buttons_days)
        sizes["pruned"] = size_mib(path)
        sizes["rows_deleted"] = counts.get("outbox", 0)
        sizes["images_deleted"] = counts.get("outbox_images", 0)
        sizes["picture_kib"] = len(picture) / 1024
        sizes["payload_bytes"] = len(payload)
        sizes["retention_days"] = settings.retention_outbox_days
        app.engine.dispose()
    return sizes


class LockWatch:
    """The spans from each BEGIN IMMEDIATE to its COMMIT or ROLLBACK on an engine (SQLite's write lock is
    held that long), and the charts drawn meanwhile: their time and whether a span was open."""

    def __init__(self, engine: Any) -> None:
        self.open: dict[int, float] = {}
        self.spans: list[float] = []
        self.draws: list[tuple[float, bool]] = []
        event.listen(engine, "begin", self._begin)  # after storage.db's listener: the lock is taken
        event.listen(engine, "commit", self._end)
        event.listen(engine, "rollback", self._end)

    def _begin(self, conn: Any) -> None:
        self.open[id(conn)] = time.perf_counter()

    def _end(self, conn: Any) -> None:
        started = self.open.pop(id(conn), None)
        if started is not None:
            self.spans.append((time.perf_counter() - started) * 1000)

    def reset(self) -> None:
        self.spans, self.draws = [], []

    def timed(self, draw: Any) -> Any:
        def drawing(*args: Any, **kwargs: Any) -> bytes:
            inside = bool(self.open)
            started = time.perf_counter()
            try:
                return draw(*args, **kwargs)
            finally:
                self.draws.append(((time.perf_counter() - started) * 1000, inside))
        return drawing


def lock_and_drawing(args: argparse.Namespace) -> None:
    """The weekly job to ``--chats`` chats and a typed /digest on the digest tests' week (tests/test_digest.py)."""
    import bot.charts
    import handlers.digest
    from tests.harness import make_chat
    from tests.test_digest import seed_week

    try:
        import bot.core.images as images  # drawn after the commit (this session's change)
    except ImportError:
        images = None  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        chat = make_chat(f"sqlite:///{tmp}/lock.db")
        seed_week(chat)
        with session_scope(chat.app.engine) as session:
            session.execute(insert(Subscription), [
                {"platform": "telegram", "chat_id": str(-1000 - n), "is_private": False,
                 "language": "en" if n % 10 == 0 else "fr", "created_at": START} for n in range(args.chats)])
        watch = LockWatch(chat.app.engine)
        handlers.digest.occupancy_panels = watch.timed(handlers.digest.occupancy_panels)  # type: ignore[attr-defined]
        bot.charts.occupancy_panels = watch.timed(bot.charts.occupancy_panels)  # type: ignore[assignment]
        chat.say("alice", "/digest")  # matplotlib imported once, outside the figures
        results: dict[str, list[tuple[float, float, bool, int]]] = {"job": [], "digest": []}
        for _ in range(args.runs):
            with session_scope(chat.app.engine) as session:
                session.execute(delete(OutboxMessage))
            watch.reset()
            sent = chat.app.jobs.run_now("weekly-digest")
            assert sent == args.chats, sent
            results["job"].append((max(watch.spans), sum(d for d, _ in watch.draws),
                                   any(inside for _, inside in watch.draws), len(watch.draws)))
            if images is not None:
                images._drawn.clear()
            watch.reset()
            [reply] = chat.say("alice", "/digest")
            assert reply.image is not None
            results["digest"].append((max(watch.spans), sum(d for d, _ in watch.draws),
                                      any(inside for _, inside in watch.draws), len(watch.draws)))
        chat.app.engine.dispose()

    def line(label: str, rows: list[tuple[float, float, bool, int]]) -> None:
        held = [r[0] for r in rows]
        drawn = [r[1] for r in rows]
        where = "while the lock was held" if any(r[2] for r in rows) else "with no lock held"
        print(f"  {label:<34} write lock held min {min(held):7.1f} ms  median {statistics.median(held):7.1f} ms;"
              f"  {rows[0][3]} chart(s) drawn {where}: min {min(drawn):6.1f} ms"
              f"  median {statistics.median(drawn):6.1f} ms")

    print(f"write lock (longest BEGIN IMMEDIATE..COMMIT) beside drawing, {args.runs} runs:")
    line(f"weekly digest job, {args.chats} chats", results["job"])
    line("/digest typed", results["digest"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--lock-only", action="store_true", help="only the write lock and drawing times")
    args = parser.parse_args()
    if args.lock_only:
        lock_and_drawing(args)
        return
    old = year_of_digests(args, by_reference=False)
    new = year_of_digests(args, by_reference=True)
    print(f"{args.weeks} weekly digests to {args.chats} chats ({args.weeks * args.chats} outbox rows); the chart "
          f"is {old['picture_kib']:.0f} KiB as PNG; a row is {old['payload_bytes'] / 1024:.0f} KiB with the chart "
          f"hex-encoded inside (before), {new['payload_bytes']:.0f} bytes with a reference (now)")
    print(f"  {'':<58} {'before':>10} {'now':>10}")
    print(f"  {'empty database (migrated, example spaces)':<58} {old['empty']:>7.1f}MiB {new['empty']:>7.1f}MiB")
    print(f"  {'after a year, nothing pruned':<58} {old['full']:>7.1f}MiB {new['full']:>7.1f}MiB")
    label = f"after a year with the retention job ({old['retention_days']:.0f} days)"
    print(f"  {label:<58} {old['pruned']:>7.1f}MiB {new['pruned']:>7.1f}MiB")
    print(f"  (the retention job deleted {new['rows_deleted']:.0f} rows and {new['images_deleted']:.0f} "
          f"charts no row referred to any more)")
    lock_and_drawing(args)


if __name__ == "__main__":
    main()
