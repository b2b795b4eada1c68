"""Writers of one process on one SQLite file: N threads each running short write transactions (one
INSERT) through storage.db's session_scope, with the in-process writer queue (a Python lock taken before
BEGIN IMMEDIATE, the waiter woken as soon as the writer before it ends) and without it (SQLite's busy
handler alone, sleeping 1, 2, 5, 10 ... 100 ms between tries); beside bare sqlite3 threads doing the
same transaction with the same busy timeout. Prints transactions per second and the p99 wait for the
write lock (time from asking to the first statement done:
the BEGIN and the INSERT), min and median of the runs, each variant in its own subprocess (the
queue is switched at engine creation by TIERSLIEU_SQLITE_WRITER_QUEUE=0, a bench/debug switch).

    .venv/bin/python bench/bench_sqlite_writers.py [--threads 8] [--seconds 3] [--runs 3] [--hold-ms 0]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VARIANTS = ("queue", "busy handler", "bare sqlite3")


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0


def one_run(variant: str, path: str, threads: int, seconds: float, hold: float) -> dict[str, float]:
    from sqlalchemy import text

    from storage.db import SQLITE_BUSY_TIMEOUT_S, make_engine, session_scope

    engine = make_engine(f"sqlite:///{path}", pool_size=threads + 2)
    with session_scope(engine) as session:
        session.execute(text("CREATE TABLE IF NOT EXISTS w (id INTEGER PRIMARY KEY, who INTEGER, at REAL)"))
    waits: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    start = threading.Barrier(threads + 1)
    stop_at = [0.0]

    def orm_writer(index: int) -> None:
        start.wait()
        while time.perf_counter() < stop_at[0]:
            asked = time.perf_counter()
            try:
                with session_scope(engine) as session:
                    # The session begins (queue, BEGIN IMMEDIATE) at its first statement.
                    session.execute(text("INSERT INTO w (who, at) VALUES (:who, :at)"),
                                    {"who": index, "at": asked})
                    waits[index].append(time.perf_counter() - asked)
                    if hold:
                        time.sleep(hold)
            except Exception:
                errors[index] += 1

    def bare_writer(index: int) -> None:
        conn = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S, isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA synchronous=NORMAL")
        start.wait()
        while time.perf_counter() < stop_at[0]:
            asked = time.perf_counter()
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("INSERT INTO w (who, at) VALUES (?, ?)", (index, asked))
                waits[index].append(time.perf_counter() - asked)
                if hold:
                    time.sleep(hold)
                conn.execute("COMMIT")
            except sqlite3.Error:
                errors[index] += 1
        conn.close()

    target = bare_writer if variant == "bare sqlite3" else orm_writer
    workers = [threading.Thread(target=target, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    stop_at[0] = time.perf_counter() + seconds
    began, cpu = time.perf_counter(), time.process_time()
    start.wait()
    for worker in workers:
        worker.join()
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    engine.dispose()
    done = sum(len(w) for w in waits)
    per_thread = [len(w) for w in waits]
    all_waits = [x for w in waits for x in w]
    return {
        "tx_per_s": done / elapsed,
        "p99_wait_ms": _p99(all_waits) * 1000,
        "max_wait_ms": max(all_waits, default=0.0) * 1000,
        "cpu_ms_per_tx": cpu * 1000 / max(done, 1),
        "fairness": min(per_thread) / max(max(per_thread), 1),
        "errors": float(sum(errors)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--hold-ms", type=float, default=0.0, help="sleep inside each transaction")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one_run(args.child, args.path, args.threads, args.seconds, args.hold_ms / 1000)))
        return

    results: dict[str, list[dict[str, float]]] = {v: [] for v in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            for variant in VARIANTS:  # interleaved, so that the machine's load moves all alike
                path = str(Path(tmp) / f"{run}-{VARIANTS.index(variant)}.db")
                env = dict(os.environ)
                env["TIERSLIEU_SQLITE_WRITER_QUEUE"] = "0" if variant == "busy handler" else "1"
                out = subprocess.run(
                    [sys.executable, __file__, "--child", variant, "--path", path, "--threads", str(args.threads),
                     "--seconds", str(args.seconds), "--hold-ms", str(args.hold_ms)],
                    env=env, capture_output=True, text=True, check=True,
                )
                results[variant].append(json.loads(out.stdout.strip().splitlines()[-1]))

    def figures(variant: str, key: str) -> tuple[float, float, float]:
        values = [r[key] for r in results[variant]]
        return min(values), statistics.median(values), max(values)

    print(f"{args.threads} threads, one SQLite file, one INSERT per write transaction"
          f"{f' held {args.hold_ms:g} ms' if args.hold_ms else ''}, {args.seconds:g} s x {args.runs} runs "
          "(min / median / max):")
    for variant in VARIANTS:
        tx, p99, mx = (figures(variant, k) for k in ("tx_per_s", "p99_wait_ms", "max_wait_ms"))
        cpu, fair = figures(variant, "cpu_ms_per_tx"), figures(variant, "fairness")
        errs = sum(r["errors"] for r in results[variant])
        label = {"queue": "session_scope, writer queue", "busy handler": "session_scope, busy handler only",
                 "bare sqlite3": "bare sqlite3, busy handler"}[variant]
        print(f"  {label:34s} {tx[0]:7.0f} / {tx[1]:7.0f} tx/s; p99 wait {p99[0]:6.1f} / {p99[1]:6.1f} ms; "
              f"max wait {mx[1]:6.1f} ms; CPU {cpu[1]:.2f} ms/tx; fairness (min/max thread) {fair[1]:.2f}; "
              f"errors {errs:.0f}")
    q, b, s = (statistics.median(r["tx_per_s"] for r in results[v]) for v in VARIANTS)
    qp, bp = (statistics.median(r["p99_wait_ms"] for r in results[v]) for v in ("queue", "busy handler"))
    print(f"  ratios of medians: queue / busy handler {q / b:.2f} tx/s, p99 wait {qp / max(bp, 1e-9):.2f}; "
          f"queue / bare sqlite3 {q / s:.2f} tx/s")


if __name__ == "__main__":
    main()
