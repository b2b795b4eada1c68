"""Plain sentences (issue 12): the public corpus (tests/corpus/sentences.txt) read against its world, per
request: how many lead to their command (understood), to a question (asked), to nothing acted on (not
understood / answer), and how many would act wrongly (a command other than the expected one; must be 0).
Then the same sentences as people also type them (no accents, capitals, "bonjour …", "… stp"): how many
keep their outcome and how many turn wrong. Times: the reading of a sentence (p50/p99), and a sentence's
full round trip through the dispatcher beside the same request typed as a command (the bare reference).
Asserts nothing.

    .venv/bin/python bench/bench_intents.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core.router import fold
from tests.test_intents_corpus import Case, Reader, build_world, load_corpus


def same(outcome: str, expected: str) -> bool:
    """The same outcome; a description or reminder text may differ in case and accents only."""
    return fold(outcome) == fold(expected)


def category(outcome: str, expected: str) -> str:
    if same(outcome, expected):
        return "understood" if expected.startswith("/") else "as expected"
    if outcome.startswith("/"):
        return "WRONG"
    if outcome == "ask":
        return "asked"
    return "not understood"


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


VARIANTS = {
    "no accents": strip_accents,
    "capitals": str.upper,
    "bonjour first": lambda s: "bonjour " + s,
    "stp after": lambda s: s + " stp",
    "lower case, no punctuation": lambda s: s.lower().rstrip(" ?!."),
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def print_figures(reader: Reader, cases: list[Case], runs: int) -> None:
    """The per-request table (understood, asked, not understood, wrongly acted on) and the time to read
    one sentence (p50/p99). bench_language.py prints it too, after the grammar's figures."""
    figures: dict[str, Counter[str]] = defaultdict(Counter)
    times: list[float] = []
    wrong: list[tuple[Case, str]] = []
    for run in range(runs):
        for case in cases:
            started = time.perf_counter()
            outcome = reader.plan(case.sentence).outcome
            times.append(time.perf_counter() - started)
            if run == 0:
                kind = category(outcome, case.expected)
                figures[case.section][kind] += 1
                if kind == "WRONG":
                    wrong.append((case, outcome))
    kinds = ["understood", "asked", "as expected", "not understood", "WRONG"]
    print(f"sentences (tests/corpus/sentences.txt): {len(cases)} in {len(figures)} sections")
    print(f"{'section':<10}" + "".join(f"{k:>16}" for k in kinds))
    total: Counter[str] = Counter()
    for section, counts in figures.items():
        total.update(counts)
        print(f"{section:<10}" + "".join(f"{counts[k]:>16}" for k in kinds))
    print(f"{'all':<10}" + "".join(f"{total[k]:>16}" for k in kinds))
    print("('as expected': the corpus says ask / answer / not understood and that is what happened)")
    for case, outcome in wrong:
        print(f"  WRONG: {case.sentence!r} -> {outcome} (expected {case.expected})")
    print(f"reading one sentence: p50 {statistics.median(times) * 1000:.2f} ms, "
          f"p99 {percentile(times, 0.99) * 1000:.2f} ms, max {max(times) * 1000:.2f} ms ({len(times)} readings)")


def sentence_figures(runs: int = 1) -> None:
    """For bench_language.py: the sentence corpus read against its world, per request."""
    with tempfile.TemporaryDirectory() as folder:
        chat = build_world(f"sqlite:///{Path(folder) / 'bench.db'}")
        reader = Reader(chat)
        print_figures(reader, load_corpus(), runs)
        reader.close()
        chat.app.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3, help="readings of the corpus for the timings")
    args = parser.parse_args()
    cases = load_corpus()
    with tempfile.TemporaryDirectory() as folder:
        chat = build_world(f"sqlite:///{Path(folder) / 'bench.db'}")
        reader = Reader(chat)
        print_figures(reader, cases, args.runs)

        print("\nthe same sentences, typed otherwise:")
        for name, change in VARIANTS.items():
            kept = turned_wrong = 0
            for case in cases:
                outcome = reader.plan(change(case.sentence)).outcome
                kept += same(outcome, case.expected)
                if category(outcome, case.expected) == "WRONG":
                    turned_wrong += 1
                    print(f"  WRONG ({name}): {change(case.sentence)!r} -> {outcome}")
            print(f"  {name:<28} same outcome {kept}/{len(cases)}, wrongly acted on {turned_wrong}")

        reader.close()

        dispatcher = chat.app.dispatcher
        pairs = [("qui ouvre samedi ?", "/whoopens 2026-11-28"),
                 ("dispo demain aprem ?", "/free 2026-11-24 14:00-18:00"),
                 ("je voudrais la salle de réunion demain de 14h à 16h", "/mybookings")]
        for sentence, command in pairs:
            said, typed = [], []
            for _ in range(20 * args.runs):
                started = time.perf_counter()
                dispatcher.handle_sync(chat.incoming("bench", sentence))
                said.append(time.perf_counter() - started)
                started = time.perf_counter()
                dispatcher.handle_sync(chat.incoming("bench", command))
                typed.append(time.perf_counter() - started)
            print(f"round trip {sentence!r}: p50 {statistics.median(said) * 1000:.1f} ms, "
                  f"p99 {percentile(said, 0.99) * 1000:.1f} ms; typed {command!r} (reference): "
                  f"p50 {statistics.median(typed) * 1000:.1f} ms, p99 {percentile(typed, 0.99) * 1000:.1f} ms")
        chat.app.engine.dispose()


if __name__ == "__main__":
    main()
