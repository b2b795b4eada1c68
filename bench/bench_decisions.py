"""Voting and closing through the core on SQLite: p50/p99 latency of /vote with 1,000 members who all
vote, beside /help (the bare reference: a command that reads nothing), and the time to close a poll and a
proposal counted over 1,000 votes and announce it. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_decisions.py [--members 1000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.harness import make_chat

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(run: Callable[[], object]) -> float:
    began = time.perf_counter()
    run()
    return (time.perf_counter() - began) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        chat = make_chat(f"sqlite:///{folder}/bench.db", now=NOW)
        members = [f"m{n}" for n in range(args.members)]
        for name in members:
            chat.say(name, "/start")
        chat.say("m0", '/sondage "Quel jour ?" "Lundi" "Mardi" "Mercredi" "Jeudi" plusieurs')
        chat.say("m0", '/proposition "Acheter un lave-vaisselle" quorum 30 %')
        help_ms = [timed(partial(chat.say, name, "/help")) for name in members]
        vote_ms = [timed(partial(chat.say, name, f"/voter 1 {1 + n % 4} {1 + (n + 1) % 4}"))
                   for n, name in enumerate(members)]
        proposal_ms = [timed(partial(chat.say, name, f"/voter 2 {('pour', 'contre')[n % 2]}"))
                       for n, name in enumerate(members)]
        listing_ms = timed(lambda: chat.say("m1", "/sondages"))
        close_poll_ms = timed(lambda: chat.say("m0", "/sondage fermer 1"))
        close_proposal_ms = timed(lambda: chat.say("m0", "/sondage fermer 2"))
        log_ms = timed(lambda: chat.say("m1", "/decisions 2026 markdown"))
        chat.app.engine.dispose()
    print(f"{args.members} members, SQLite, one process")
    for label, values in (("/help (reference)", help_ms), ("/vote, poll, 2 choices", vote_ms),
                          ("/vote, proposal", proposal_ms)):
        print(f"  {label:<24} p50 {statistics.median(values):6.1f} ms   p99 {percentile(values, 0.99):6.1f} ms")
    print(f"  /polls (2 open, {args.members} votes each)   {listing_ms:6.1f} ms")
    print(f"  close a poll ({2 * args.members} answers)     {close_poll_ms:6.1f} ms")
    print(f"  close a proposal ({args.members} votes)   {close_proposal_ms:6.1f} ms")
    print(f"  /decisions markdown              {log_ms:6.1f} ms")


if __name__ == "__main__":
    main()
