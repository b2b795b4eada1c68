"""How well the grammar reads what members type (tests/corpus/when_fr_en.py), per command: phrasings read
right, refused (the bot asks again: safe, but a miss) and misread (must be 0), and the time to read one
message (p50, p99 of every timed read, and p99 of each message's best round, which leaves out the
other processes sharing the machine), beside a bare reference in the same run: a regex that only splits
the words and finds "14h-16h" (what the cheapest possible reading costs on this machine).

    .venv/bin/python bench/bench_language.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.corpus.when_fr_en import CASES, COMMANDS, read, verdict

_BARE = re.compile(r"(\d{1,2})h(\d{2})?\s*-\s*(\d{1,2})h(\d{2})?")


def bare_reference(text: str) -> tuple[list[str], list[tuple[str, ...]]]:
    return text.split(), _BARE.findall(text)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    started = time.perf_counter()
    read(CASES[0])
    first_call = time.perf_counter() - started

    outcomes: dict[str, Counter[str]] = {command: Counter() for command in COMMANDS}
    misread: list[str] = []
    for case in CASES:
        outcome = verdict(case, read(case))
        outcomes[case.command][outcome] += 1
        if outcome == "misread":
            misread.append(f"  misread: /{case.command} {case.text}")

    timings: dict[str, list[float]] = {command: [] for command in COMMANDS}
    best: dict[int, float] = {}
    bare: list[float] = []
    for _ in range(args.rounds):
        for index, case in enumerate(CASES):
            t0 = time.perf_counter()
            read(case)
            t1 = time.perf_counter()
            bare_reference(case.text)
            t2 = time.perf_counter()
            timings[case.command].append((t1 - t0) * 1e6)
            best[index] = min(best.get(index, float("inf")), (t1 - t0) * 1e6)
            bare.append((t2 - t1) * 1e6)

    print(f"corpus: {len(CASES)} phrasings, {args.rounds} rounds; first call (tables built) {first_call * 1e3:.1f} ms")
    print(f"{'command':<8} {'cases':>5} {'right':>6} {'refused':>8} {'misread':>8} {'p50 µs':>8} {'p99 µs':>8} "
          f"{'p99 best':>8}")
    total: Counter[str] = Counter()
    everything: list[float] = []
    for command in COMMANDS:
        counts, spent = outcomes[command], timings[command]
        total.update(counts)
        everything += spent
        own_best = [best[i] for i, case in enumerate(CASES) if case.command == command]
        print(f"{command:<8} {sum(counts.values()):>5} {counts['right']:>6} {counts['refused']:>8} "
              f"{counts['misread']:>8} {statistics.median(spent):>8.0f} {percentile(spent, 0.99):>8.0f} "
              f"{percentile(own_best, 0.99):>8.0f}")
    print(f"{'all':<8} {sum(total.values()):>5} {total['right']:>6} {total['refused']:>8} {total['misread']:>8} "
          f"{statistics.median(everything):>8.0f} {percentile(everything, 0.99):>8.0f} "
          f"{percentile(list(best.values()), 0.99):>8.0f}")
    print(f"{'bare ref':<8} {'':>5} {'':>6} {'':>8} {'':>8} {statistics.median(bare):>8.1f} "
          f"{percentile(bare, 0.99):>8.1f}   (str.split + one regex findall)")
    for line in misread:
        print(line)
    print()
    from bench.bench_intents import sentence_figures  # issue 12: plain sentences per request

    sentence_figures()
    if misread:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
