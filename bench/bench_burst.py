"""A burst of 1,000 commands from 50 members on Telegram (the Bot API stand-in answering 429 past 30
messages a second, the bot keeping Telegram's limits: one message a second per chat, 29 a second
overall), through the inbox and the outbox; while it is under way, another member sends one command.
Prints the time to answer them all and that member's wait, beside bare references: the same commands
run one after another straight through the dispatcher (the core's cost, no I/O), the floor the limits
set (the busiest member's answers at one a second; all answers at 29 a second), and the wait the
late member would have had in one first-come-first-served queue.

    .venv/bin/python bench/bench_burst.py [--commands 1000] [--members 50]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_broadcast import RateLimitedStandIn
from bot.app import App
from bot.config import load_settings
from bot.core.types import ChatRef, Incoming, Platform, UserRef

LATE_MEMBER = 99_999
OVERALL_PER_SECOND = 29


def commands_for(count: int, members: int, seed: int = 7) -> list[tuple[int, str]]:
    rng = random.Random(seed)
    days = ["demain", "mercredi", "jeudi", "vendredi", "samedi"]
    spaces = ["salle-reunion", "petite-salle", "atelier", "cuisine"]
    burst = []
    for n in range(count):
        member = 5000 + n % members
        kind = rng.choice(["free", "book", "remind", "help"])
        hour = rng.randrange(9, 17)
        day = rng.choice(days)
        if kind == "free":
            text = f"/dispo {day}"
        elif kind == "book":
            text = f"/reserver {rng.choice(spaces)} {day} {hour}h-{hour + 1}h"
        elif kind == "remind":
            text = f"/rappel {day} {hour}h rappel numéro {n}"
        else:
            text = "/aide"
        burst.append((member, text))
    return burst


def bare_reference(burst: list[tuple[int, str]], tmp: str) -> float:
    """The same commands straight through the dispatcher, one after another: the core's own cost."""
    settings = load_settings({"DATABASE_URL": f"sqlite:///{tmp}/bare.db", "LOG_LEVEL": "WARNING",
                              "COMMANDS_PER_MINUTE": "10000"})
    app = App(settings, adapters=[])
    app.prepare()
    began = time.perf_counter()
    for member, text in burst:
        user = UserRef(Platform.TELEGRAM, str(member), f"M{member}", "fr")
        app.dispatcher.handle_sync(Incoming(ChatRef(Platform.TELEGRAM, str(member), True), user, text))
    elapsed = time.perf_counter() - began
    app.engine.dispose()
    return elapsed


async def through_the_bot(burst: list[tuple[int, str]], tmp: str) -> tuple[float, float, list[float]]:
    standin = RateLimitedStandIn()
    await standin.start()
    settings = load_settings({
        "DATABASE_URL": f"sqlite:///{tmp}/bench.db", "TELEGRAM_BOT_TOKEN": standin.token,
        "TELEGRAM_API_URL": standin.url, "LOG_LEVEL": "WARNING", "HTTP_PORT": "0", "LANGUAGE": "fr",
    })
    app = App(settings)
    app.prepare()
    await app.start()
    await standin.wait_for("getUpdates", timeout=30)
    users = {m: standin.user(m, f"M{m}", "fr") for m in {m for m, _ in burst}}
    chats = {m: standin.private_chat(u) for m, u in users.items()}
    began = time.monotonic()
    for member, text in burst:
        standin.type_text(chats[member], users[member], text)
    await asyncio.sleep(1.0)  # the burst is being handled ...
    late = standin.user(LATE_MEMBER, "Tard", "fr")
    late_sent = time.monotonic()
    standin.type_text(standin.private_chat(late), late, "/dispo demain")
    expected = len(burst) + 1

    while len(standin.sent("sendMessage")) < expected and time.monotonic() - began < 600:
        await asyncio.sleep(0.1)
    total = time.monotonic() - began
    [late_answer, *_] = standin.sent("sendMessage", chat_id=LATE_MEMBER)
    late_wait = late_answer.at - late_sent
    firsts: dict[int, float] = {}
    for call in standin.sent("sendMessage"):
        firsts.setdefault(int(call.chat_id), call.at)
    first_waits = [firsts[m] - began for m in users if m in firsts]
    await app.stop()
    await standin.stop()
    return total, late_wait, first_waits


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--members", type=int, default=50)
    args = parser.parse_args()
    burst = commands_for(args.commands, args.members)
    with tempfile.TemporaryDirectory() as tmp:
        bare = bare_reference(burst, tmp)
        total, late_wait, first_waits = asyncio.run(through_the_bot(burst, tmp))
    busiest = max(sum(1 for m, _ in burst if m == member) for member in {m for m, _ in burst})
    floor = max(busiest - 1.0, len(burst) / OVERALL_PER_SECOND)
    fifo_late = bare + len(burst) / OVERALL_PER_SECOND
    print(f"burst of {len(burst)} commands from {args.members} members (SQLite, one process)")
    print(f"  bare reference: the core runs them one after another in {bare:.1f} s "
          f"({len(burst) / bare:.0f} commands/s, no I/O)")
    print(f"  through the bot (inbox, outbox, Telegram limits): all {len(burst) + 1} answered in {total:.1f} s; "
          f"floor set by the limits {floor:.1f} s (the busiest member's {busiest} answers at 1/s, "
          f"all at {OVERALL_PER_SECOND}/s)")
    print(f"  a member who sent one command 1 s into the burst waited {late_wait:.2f} s for the answer "
          f"(one first-come-first-served queue: about {fifo_late:.0f} s)")
    print(f"  each burst member's first answer: median {statistics.median(first_waits):.2f} s, "
          f"worst {max(first_waits):.2f} s after the burst began")


if __name__ == "__main__":
    main()
