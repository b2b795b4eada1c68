"""The core's own cost per command (everything around a handler: reading the text, the member, the
transaction, the metrics, remembering offered buttons), beside a bare Python function call and a bare
sqlite3 transaction in the same run; and finding a space by what a member typed, with 200 and 2,000 spaces.
Min and median of 3 runs. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_dispatch.py [--commands 2000] [--postgres postgresql://…/scratch_db]

- ``/noop``: a command that does nothing (declared here with ``@router.typed``), through
  ``Dispatcher.handle_sync``: its time is the core's overhead (the handler costs nothing).
- ``/noop-ro``: the same, declared read-only (no write lock on SQLite).
- ``/mybookings`` for a member with no booking (a real read-only command with one small query).
- ``/noop`` through the inbox's path: ``handle_in`` inside a transaction the caller holds.
- space lookup: ``SpaceArg`` reading 'space-1234 demain 10h' / 'espace 1234 demain' (what /book does
  before its own work), in an open transaction.
"""

from __future__ import annotations

import argparse
import gc
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from bot.app import App
from bot.config import load_settings
from bot.core.context import Ctx
from bot.core.grammar.refs import SpaceArg
from bot.core.i18n import N_
from bot.core.router import CommandTable, Router
from bot.core.types import ChatRef, Incoming, Platform, Reply, UserRef
from handlers import all_routers
from storage.db import session_scope
from storage.members import get_or_create_member
from storage.models import Member
from storage.spaces import import_spaces

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
MEMBERS = 300
SENDERS = 50

bench_router = Router("bench")


@bench_router.typed("noop", aliases=["rien"], help=N_("Does nothing (benchmark)"), hidden=True)
def noop(ctx: Ctx) -> Reply:
    return Reply("ok")


@bench_router.typed("noop-ro", aliases=["rien-lecture"], help=N_("Does nothing (benchmark)"), hidden=True,
                    read_only=True)
def noop_read_only(ctx: Ctx) -> Reply:
    return Reply("ok")


def seed(app: App, spaces: int) -> None:
    rows = [{"slug": f"space-{n:04d}", "name": f"Espace {n:04d}", "kind": "room", "capacity": 1}
            for n in range(spaces)]
    with session_scope(app.engine) as session:
        import_spaces(session, {"site": {"slug": "bench", "name": "Bench",
                                         "hours": {"mon": "08:00-20:00", "tue": "08:00-20:00"}}, "spaces": rows})
        session.execute(insert(Member), [{"display_name": f"m{n}", "language": "fr", "language_chosen": False,
                                          "is_coordinator": False, "is_organiser": False, "created_at": NOW}
                                         for n in range(MEMBERS)])


def incoming(user: int, text: str) -> Incoming:
    return Incoming(ChatRef(Platform.CONSOLE, f"u{user}", True), UserRef(Platform.CONSOLE, f"u{user}", "U"), text)


def per_call_us(runs: list[tuple[float, float]]) -> str:
    wall = [w for w, _ in runs]
    cpu = [c for _, c in runs]
    return (f"wall min {min(wall):8.2f} median {statistics.median(wall):8.2f} | "
            f"cpu min {min(cpu):8.2f} median {statistics.median(cpu):8.2f}")


def timed(count: int, work: Callable[[int], object]) -> tuple[float, float]:
    """Mean µs per call of ``work(n)`` over ``count`` calls: wall clock, and this process's CPU time (steadier
    on a shared machine: other processes' load shows in the wall clock only)."""
    wall, cpu = time.perf_counter(), time.process_time()
    for n in range(count):
        work(n)
    return (time.perf_counter() - wall) / count * 1e6, (time.process_time() - cpu) / count * 1e6


def three(count: int, work: Callable[[int], object]) -> list[tuple[float, float]]:
    return [timed(count, work) for _ in range(3)]


def make_app(url: str, spaces: int) -> App:
    settings = load_settings({"DATABASE_URL": url, "LOG_LEVEL": "WARNING", "LANGUAGE": "fr",
                              "COMMANDS_PER_MINUTE": "10000"})  # no sender is held back: 6,000 commands at one instant
    app = App(settings, adapters=[], clock=lambda: NOW)
    app.prepare(seed=False)
    seed(app, spaces)
    app.commands = CommandTable([*all_routers(), bench_router])
    app.dispatcher.commands = app.commands
    for n in range(SENDERS):  # every sender is a member before the runs
        app.dispatcher.handle_sync(incoming(n, "/noop"))
    gc.collect()
    gc.freeze()  # as App.start does: what start-up built is not walked by every full collection
    return app


def space_lookup_runs(app: App, count: int, spaces: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    arg = SpaceArg("space")
    user = UserRef(Platform.CONSOLE, "u0", "U")
    by_slug: list[tuple[float, float]] = []
    by_name: list[tuple[float, float]] = []
    for _ in range(3):
        with session_scope(app.engine, read_only=True) as session:
            member, identity = get_or_create_member(session, user, "fr")
            ctx = Ctx(session=session, settings=app.settings, incoming=incoming(0, ""), member=member,
                      identity=identity, now=NOW, translator=app.dispatcher.default_translator(incoming(0, "")),
                      is_coordinator=False, commands=app.commands)
            arg.read(ctx, "space-0000 demain 10h")  # warm: the first read of a transaction
            by_slug.append(timed(count, lambda n, ctx=ctx: arg.read(ctx, f"space-{n % spaces:04d} demain 10h")))
            by_name.append(timed(count, lambda n, ctx=ctx: arg.read(ctx, f"espace {n % spaces:04d} demain 10h")))
    return by_slug, by_name


def bare_sqlite(path: str, count: int) -> list[float]:
    """BEGIN IMMEDIATE; one indexed SELECT; COMMIT on a WAL file: the least a write-locked command costs."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)")
    connection.executemany("INSERT OR IGNORE INTO t VALUES (?, ?)", [(n, f"v{n}") for n in range(1000)])

    def transaction(n: int) -> None:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("SELECT v FROM t WHERE id = ?", (n % 1000,)).fetchone()
        connection.execute("COMMIT")

    runs = three(count, transaction)
    connection.close()
    return runs


def empty_postgres(url: str) -> None:
    """Empty the scratch database (its public schema: tables, trigger functions), before a run and after it."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--postgres", help="a scratch PostgreSQL database URL: run the commands there too")
    args = parser.parse_args()
    count = args.commands

    def nothing(n: int) -> int:
        return n

    print(f"{count} calls per run, 3 runs; µs per call")
    print(f"  bare Python function call          {per_call_us(three(count, nothing))}")
    with tempfile.TemporaryDirectory() as tmp:
        print(f"  bare sqlite3 transaction           {per_call_us(bare_sqlite(f'{tmp}/bare.db', count))}")
        urls = [("SQLite", f"sqlite:///{tmp}/bench.db")]
        if args.postgres:
            empty_postgres(args.postgres)
            urls.append(("PostgreSQL", args.postgres))
        for label, url in urls:
            app = make_app(url, 200)
            dispatcher = app.dispatcher
            print(f"{label}, 200 spaces, {SENDERS} members sending:")
            for text in ("/noop", "/noop-ro", "/mybookings"):
                runs = three(count, lambda n, text=text, d=dispatcher: d.handle_sync(incoming(n % SENDERS, text)))
                print(f"  {text:<34} {per_call_us(runs)}")

            def through_inbox(n: int, app: App = app) -> None:
                with session_scope(app.engine) as session:
                    app.dispatcher.handle_in(session, incoming(n % SENDERS, "/noop"))

            print(f"  {'/noop in the caller transaction':<34} {per_call_us(three(count, through_inbox))}")
            app.engine.dispose()
        for spaces in (200, 2000):
            app = make_app(f"sqlite:///{tmp}/spaces{spaces}.db", spaces)
            by_slug, by_name = space_lookup_runs(app, count, spaces)
            print(f"space lookup among {spaces:>4} spaces, by slug {per_call_us(by_slug)}")
            print(f"                             by name {per_call_us(by_name)}")
            app.engine.dispose()
        if args.postgres:
            empty_postgres(args.postgres)


if __name__ == "__main__":
    main()
