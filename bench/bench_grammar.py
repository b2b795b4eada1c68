"""How long reading a command's arguments takes with the declared pieces (bot/core/grammar), per command,
on the examples /aide shows (French and English), against the seeded spaces on SQLite. Prints the median
and p99 per command and, as a bare reference, ``str.split`` of the same texts; asserts nothing.

    .venv/bin/python bench/bench_grammar.py [--runs 200]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import Session

from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.i18n import translator_for
from bot.core.router import split_command
from bot.core.types import ChatRef, Incoming, Platform, UserRef
from storage.members import get_or_create_member
from tests.harness import make_chat


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    runs = parser.parse_args().runs
    chat = make_chat(f"sqlite:///{tempfile.mkdtemp()}/bench.db")
    for name in ("alice", "marie curie"):
        chat.say(name, "/start")
    table = chat.app.dispatcher.commands
    user = UserRef(Platform.CONSOLE, "coord", "Coord")
    print(f"{'command':<14} {'texts':>5} {'median µs':>10} {'p99 µs':>8}   (str.split median µs)")
    everything: list[float] = []
    with Session(chat.app.engine) as session:
        member, identity = get_or_create_member(session, user, "fr")
        for command in table.commands:
            if command.args is None and not command.subcommands:
                continue
            texts = []
            for language in ("fr", "en"):
                t = translator_for(language, "Europe/Paris")
                texts += [split_command(t.gettext(e)) for e in command.all_examples()]
            timings, bare = [], []
            for language in ("fr", "en"):
                ctx = Ctx(session=session, settings=chat.app.settings,
                          incoming=Incoming(ChatRef(Platform.CONSOLE, "coord", True), user, ""), member=member,
                          identity=identity, now=chat.clock.now, translator=translator_for(language, "Europe/Paris"),
                          is_coordinator=True, commands=table)
                for _ in range(runs):
                    for parsed in texts:
                        assert parsed is not None
                        started = time.perf_counter()
                        with contextlib.suppress(UserError):  # an example may not read in the other language
                            command.parse(ctx, parsed[1])
                        timings.append((time.perf_counter() - started) * 1e6)
                        started = time.perf_counter()
                        parsed[1].split()
                        bare.append((time.perf_counter() - started) * 1e6)
            everything += timings
            print(f"/{command.name:<13} {len(texts):>5} {statistics.median(timings):>10.0f} "
                  f"{percentile(timings, 0.99):>8.0f}   ({statistics.median(bare):.1f})")
    print(f"{'all':<14} {'':>5} {statistics.median(everything):>10.0f} {percentile(everything, 0.99):>8.0f}")


if __name__ == "__main__":
    main()
