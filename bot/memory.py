"""What keeps a long-running bot's memory small (issue 15: `tierslieu run` within 100 MiB of RSS).

Worker threads: everything blocking (commands, the outbox's reads and writes, scheduled jobs, pages) runs in
the event loop's default executor. asyncio's own is sized for the machine (``min(32, cpus + 4)``: 6 threads
on 2 cores), which the bot never keeps busy: its inbox runs one command at a time on SQLite (its workers on
PostgreSQL), the outbox one round at a time. Each thread costs its stack and, through the connection pool,
a SQLite connection of its own with its prepared statements and page cache: 6 threads against 3 kept
~1.5-2 MiB more RSS after 1,000 commands (bench/bench_footprint.py), for no gain in throughput.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

# Besides the inbox's workers: one for the outbox, one for the rest (scheduled jobs, pages, leadership checks).
OTHER_WORKER_THREADS = 2


def worker_thread_count(inbox_workers: int, readers: int = 0) -> int:
    """Threads enough for each inbox worker to run its commands while the outbox sends and a job or page
    runs: none of them waits for a thread behind another's work. ``readers``: threads held for good by
    what waits for input in one (the console chat's terminal)."""
    return inbox_workers + OTHER_WORKER_THREADS + readers


def use_worker_threads(loop: asyncio.AbstractEventLoop, count: int) -> ThreadPoolExecutor:
    """Make a pool of ``count`` threads the loop's default executor (``asyncio.to_thread`` and
    ``run_in_executor(None, ...)`` use it). A default executor the loop had already made (the database
    preparation runs before the start) is forgotten: its idle threads end once it is collected. The loop
    shuts this one down when it closes (``asyncio.run``)."""
    executor = ThreadPoolExecutor(max_workers=count, thread_name_prefix="tierslieu-worker")
    loop.set_default_executor(executor)
    return executor
