"""Telegram updates handled per second, the sending limits lifted: a batch of /help commands from many
members pushed at once into the Bot API stand-in (tests/integration/telegram_standin.py), timed until every
one is answered; beside the bare reference, python-telegram-bot's own Application with one CommandHandler
answering one message, polling the same stand-in in the same process. The bare reference runs twice: with
a one-line answer (the issue's first measure), and answering the very text our /help sends (the same HTML,
so the same bytes encoded, carried, parsed by the stand-in and echoed back): the second ratio is the cost
of what the bot adds (inbox, dispatcher, outbox, SQLite), the first adds the cost of a 2 KB answer;
every member has written once before. Best and median of 3 runs each. Also the CPU time this process spent
per update in the timed window (bot or bare library, and the stand-in, which runs in the same process for
both): on a shared machine, wall-clock rates move with the others' load, CPU per update much less.

    .venv/bin/python bench/bench_telegram_updates.py [--updates 600] [--members 200] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.adapters.telegram import TelegramAdapter
from bot.adapters.telegram_limits import SendLimiter
from bot.adapters.telegram_render import render_html_chunks
from bot.app import App
from bot.config import load_settings
from bot.core.types import ChatRef, Incoming, Platform, UserRef
from tests.integration.telegram_standin import BotApiStandIn

Runner = Callable[[BotApiStandIn, str], Awaitable[Callable[[], Awaitable[None]]]]


async def answered(standin: BotApiStandIn, count: int, timeout: float = 300.0) -> None:
    """Until ``count`` messages were sent in all (looking only at the calls made since the last look, so
    the watching costs the bot under test next to nothing)."""
    began, seen, sent = time.monotonic(), 0, 0
    while time.monotonic() - began < timeout:
        calls = standin.calls[seen:]
        seen += len(calls)
        sent += sum(1 for c in calls if c.ok and c.method.lower() == "sendmessage")
        if sent >= count:
            return
        await asyncio.sleep(0.005)


SHORT_ANSWER = "Commandes : /help, /spaces, /free, /book"


def bot_help_html(tmp: str) -> str:
    """Our /help answer as the adapter renders it for Telegram (one message of HTML)."""
    app = App(load_settings({"DATABASE_URL": f"sqlite:///{tmp}/help-text.db", "LANGUAGE": "fr"}), adapters=[])
    app.prepare()
    incoming = Incoming(ChatRef(Platform.TELEGRAM, "9000", is_private=True),
                        UserRef(Platform.TELEGRAM, "9000", "M0", "fr"), "/help")
    chunks = [chunk for reply in app.dispatcher.handle_sync(incoming) for chunk in render_html_chunks(reply)]
    app.engine.dispose()
    assert len(chunks) == 1, "the bench compares one message per answer"
    return chunks[0]


def bare_answering(text: str, parse_mode: str | None = None) -> Runner:
    async def start(standin: BotApiStandIn, tmp: str) -> Callable[[], Awaitable[None]]:
        return await start_bare(standin, tmp, text, parse_mode)
    return start


async def start_bare(standin: BotApiStandIn, _tmp: str, text: str = SHORT_ANSWER,
                     parse_mode: str | None = None) -> Callable[[], Awaitable[None]]:
    async def help_command(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(text, parse_mode=parse_mode)

    application = Application.builder().token(standin.token).base_url(f"{standin.url}/bot").build()
    application.add_handler(CommandHandler("help", help_command))
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0.0, timeout=10)

    async def stop() -> None:
        assert application.updater is not None
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
    return stop


async def start_bot(standin: BotApiStandIn, tmp: str) -> Callable[[], Awaitable[None]]:
    settings = load_settings({
        "DATABASE_URL": f"sqlite:///{tmp}/updates-{time.monotonic_ns()}.db", "TELEGRAM_BOT_TOKEN": standin.token,
        "TELEGRAM_API_URL": standin.url, "LOG_LEVEL": "WARNING", "HTTP_PORT": "0", "LANGUAGE": "fr",
        "COMMANDS_PER_MINUTE": "10000",
    })
    app = App(settings)
    app.prepare()
    adapter = app.adapters[0]
    assert isinstance(adapter, TelegramAdapter)
    adapter.limiter = SendLimiter(overall_per_second=1e6, chat_interval_s=0.0, group_per_minute=10**9)
    await app.start()
    return app.stop


async def one_run(start: Runner, updates: int, members: int, tmp: str) -> tuple[float, float]:
    """Updates per second, and CPU milliseconds per update."""
    standin = BotApiStandIn()
    await standin.start()
    stop = await start(standin, tmp)
    await standin.wait_for("getUpdates", timeout=30)
    users = [standin.user(9000 + n, f"M{n}", "fr") for n in range(members)]
    chats = [standin.private_chat(u) for u in users]
    standin.type_text(chats[0], users[0], "/help")  # warm-up: how many messages one answer is
    await answered(standin, 1)
    await asyncio.sleep(0.5)
    per_answer = len(standin.sent("sendMessage"))
    for n in range(1, members):  # and every member known (a first message records the member)
        standin.type_text(chats[n], users[n], "/help")
    await answered(standin, per_answer * members)
    warm = len(standin.sent("sendMessage"))
    began, cpu = time.monotonic(), time.process_time()
    for n in range(updates):
        standin.type_text(chats[n % members], users[n % members], "/help")
    await answered(standin, warm + per_answer * updates)
    elapsed, cpu = time.monotonic() - began, time.process_time() - cpu
    await stop()
    await standin.stop()
    return updates / elapsed, cpu * 1000 / updates


async def main(updates: int, members: int, runs: int) -> None:
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        help_html = bot_help_html(tmp)
        runners: dict[str, Runner] = {"short": start_bare, "same": bare_answering(help_html, ParseMode.HTML),
                                      "bot": start_bot}
        figures: dict[str, list[float]] = {name: [] for name in runners}
        cpu: dict[str, list[float]] = {name: [] for name in runners}
        for _ in range(runs):
            for name, start in runners.items():  # interleaved: the shared machine's load weighs on all alike
                per_second, cpu_ms = await one_run(start, updates, members, tmp)
                figures[name].append(per_second)
                cpu[name].append(cpu_ms)
    rate = {name: statistics.median(values) for name, values in figures.items()}
    ms = {name: statistics.median(values) for name, values in cpu.items()}
    print(f"{updates} /help updates from {members} members, sending limits lifted ({runs} runs, best / median):")
    lines = (("short", f"bare python-telegram-bot, one CommandHandler, a {len(SHORT_ANSWER)}-character answer:"),
             ("same", f"bare python-telegram-bot answering our /help text ({len(help_html)} characters):"),
             ("bot", "tierslieu-bot (inbox, dispatcher, outbox, SQLite):"))
    for name, label in lines:
        print(f"  {label:<82} {max(figures[name]):.0f} best / {rate[name]:.0f} median updates/s, "
              f"{ms[name]:.2f} ms CPU per update")
    for name, what in (("same", "the same answer"), ("short", "the one-line answer")):
        print(f"  ratio to the bare bot sending {what}: {rate['bot'] / rate[name]:.2f} of medians (goal >= 0.5), "
              f"{ms[name] / ms['bot']:.2f} of CPU per update")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=600)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.updates, arguments.members, arguments.runs))
