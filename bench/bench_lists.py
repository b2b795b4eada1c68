"""The listing commands with 1 and with 100 rows to list, on SQLite: the SQL statements each sends (counted
with a SQLAlchemy ``before_cursor_execute`` listener) and its p50 time, beside /help in the same chat, run in
turns with it (the reference: the core's fixed cost of a command). A list that sends more statements with
100 rows than with 1 makes a query per row (issue 15: "no per-row query in lists"). Asserts nothing.

    .venv/bin/python bench/bench_lists.py [--rows 100] [--runs 30] [--only events,polls]

The rows are added through the commands people type (tests/list_scenarios.py, shared with
tests/test_list_queries.py); each scenario has its own fresh database.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.harness import Chat, make_chat
from tests.list_scenarios import SCENARIOS, ListScenario, StatementCounter, grow, statements_of


def p50_ms(chat: Chat, user: str, command: str, runs: int) -> tuple[float, float]:
    """p50 of the command and of /help, run in turns (the machine's load weighs on both alike)."""
    chat.say(user, command)
    chat.say(user, "/help")
    times: dict[str, list[float]] = {command: [], "/help": []}
    for _ in range(runs):
        for text in (command, "/help"):
            started = time.perf_counter()
            chat.say(user, text)
            times[text].append((time.perf_counter() - started) * 1000)
    return statistics.median(times[command]), statistics.median(times["/help"])


def measure(scenario: ListScenario, rows: int, runs: int, folder: Path) -> tuple[int, int, float, float, float]:
    chat = make_chat(f"sqlite:///{folder / (scenario.name.replace(' ', '_') + '.db')}")
    counter = StatementCounter(chat.app.engine)
    try:
        scenario.setup(chat)
        grow(chat, scenario, 0, 1)
        one, _ = statements_of(chat, counter, scenario)
        one_ms, _ = p50_ms(chat, scenario.user, scenario.command, runs)
        grow(chat, scenario, 1, rows)
        many, _ = statements_of(chat, counter, scenario)
        many_ms, help_ms = p50_ms(chat, scenario.user, scenario.command, runs)
    finally:
        counter.close()
        chat.app.engine.dispose()
    return one, many, one_ms, many_ms, help_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    args = parser.parse_args()
    wanted = {n.strip() for n in args.only.split(",") if n.strip()}
    print(f"{'listing':22} {'statements 1 row':>17} {'100 rows':>9}   {'p50 1 row':>10} {'100 rows':>9} "
          f"{'/help':>8}  {'ratio':>6}".replace("100", str(args.rows)))
    grows = []
    with tempfile.TemporaryDirectory(prefix="bench_lists_") as folder:
        for scenario in SCENARIOS:
            if wanted and scenario.name not in wanted:
                continue
            one, many, one_ms, many_ms, help_ms = measure(scenario, args.rows, args.runs, Path(folder))
            flag = "  <- grows with the rows" if many > one else ""
            if many > one:
                grows.append(scenario.name)
            print(f"{scenario.command[:22]:22} {one:17d} {many:9d}   {one_ms:8.2f} ms {many_ms:6.2f} ms "
                  f"{help_ms:5.2f} ms  {many_ms / help_ms:5.1f}x{flag}", flush=True)
    print("statements growing with the rows: " + (", ".join(grows) if grows else "none"))


if __name__ == "__main__":
    main()
