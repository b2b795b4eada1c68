"""Two real `tierslieu run` processes on one PostgreSQL database, in Telegram webhook mode behind a
round-robin proxy (tests/integration/scaleout_rig.py), started together on a new database (one upgrades it,
the other waits): they share the incoming work, and no command runs twice or out of order within a chat;
the one that sends killed with SIGKILL in the middle of a burst, the other carries on (it takes the
scheduler lock, so it sends), and after the restart nothing is lost or doubled."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.adapters.telegram import SECRET_RE, derived_webhook_secret
from bot.app import App
from bot.config import load_settings
from storage.db import make_engine
from tests.integration.scaleout_rig import (
    BotProcess,
    TelegramSide,
    WebhookProxy,
    answers_report,
    expected_answers,
    failed_commands,
    inbox_counts,
    ran_in_order,
    received_texts,
)
from tests.integration.telegram_standin import BotApiStandIn

pytestmark = pytest.mark.integration

MEMBERS = [8101 + n for n in range(6)]
CONTESTED = "/book salle-reunion demain 10:00-11:00"


def burst(member_index: int, round_: int) -> list[str]:
    """A member's commands in one burst: bookings of their own (one each per day and space), the
    listings, and in the first burst a slot every member asks for at once."""
    day = f"dans {2 + round_} jours"
    hour = 8 + member_index
    contested = [CONTESTED] if round_ == 0 else []
    return [
        *contested,
        f"/book open-space {day} {hour}:00-{hour + 1}:00",
        "/mybookings",
        f"/free {day}",
        f"/book imprimante-3d {day} {hour + 1}:00-{hour + 2}:00",
        "/mybookings",
        f"/book petite-salle {day} {hour}:00-{hour + 1}:00",
        "/mybookings",
    ]


async def wait_until(condition: Callable[[], bool], timeout: float, what: str, *bots: BotProcess) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {b.name} ---\n{b.tail()}" for b in bots)
            raise AssertionError(f"{what}: not within {timeout} s\n{logs}")
        await asyncio.sleep(0.1)


async def test_two_processes_share_the_work_and_survive_a_kill(
    standin: BotApiStandIn, postgres_url: str, tmp_path: Path
) -> None:
    engine = make_engine(postgres_url)
    proxy = WebhookProxy()
    await proxy.start()
    first = BotProcess("first", postgres_url, standin, proxy.url, tmp_path, COMMANDS_PER_MINUTE="1000")
    second = BotProcess("second", postgres_url, standin, proxy.url, tmp_path, COMMANDS_PER_MINUTE="1000")
    bots = (first, second)
    proxy.backends = [first.url, second.url]
    users = {m: standin.user(m, f"Membre{m}", "fr") for m in MEMBERS}
    chats = {m: standin.private_chat(user) for m, user in users.items()}
    try:
        await asyncio.gather(first.start(), second.start())  # at once, on a database not yet created
        await asyncio.gather(first.ready(), second.ready())
        leaders: list[bool] = []
        for _ in range(50):
            leaders = [await b.leads() for b in bots]
            if sum(leaders) == 1:
                break
            await asyncio.sleep(0.1)
        assert sum(leaders) == 1, f"one process holds the scheduler lock: {leaders}"
        sender, other = (first, second) if leaders[0] else (second, first)
        async with TelegramSide(standin, f"{proxy.url}/telegram/webhook") as telegram:
            # 1. A burst, both processes up: every command run exactly once, in order, by both processes.
            sent = 0
            tasks = []
            for n, member in enumerate(MEMBERS):
                texts = burst(n, 0)
                sent += len(texts)
                tasks.append(telegram.chat_sequence(chats[member], users[member], texts))
            await asyncio.gather(*tasks)
            await wait_until(lambda: inbox_counts(engine).get("done") == sent, 30, "the first burst run", *bots)
            ran = {b.name: (await b.metrics()).get("tierslieu_commands_total", 0) for b in bots}
            assert sum(ran.values()) == sent, f"each command run once: {ran}"
            assert min(ran.values()) > 0, f"both processes run commands: {ran}"
            assert proxy.forwarded[first.url] > 0 and proxy.forwarded[second.url] > 0

            # 2. Another burst; the process that sends killed in the middle of it, restarted after.
            delivered = 0

            async def counted(member: int, texts: list[str]) -> None:
                nonlocal delivered
                for text_ in texts:
                    await telegram.deliver(telegram.update(chats[member], users[member], text_))
                    delivered += 1

            second_burst = {member: burst(n, 1) for n, member in enumerate(MEMBERS)}
            sent += sum(len(t) for t in second_burst.values())
            flowing = asyncio.gather(*(counted(m, t) for m, t in second_burst.items()))
            await wait_until(lambda: delivered >= 15, 20, "a third of the second burst stored", *bots)
            await sender.kill()
            await flowing  # the proxy passes everything to the other meanwhile
            await wait_until(lambda: inbox_counts(engine).get("done") == sent, 30, "the second burst run", other)
            assert await other.leads(), "the other process took the scheduler lock: it sends now"
            await sender.start()
            await sender.ready()

        counts = inbox_counts(engine)
        assert counts == {"done": sent}, "each update stored once, and run"
        assert ran_in_order(engine) == [], "within a chat, each command ran after the one received before it"

        def all_received() -> bool:
            _written, _received, _doubled, wrong = answers_report(engine, standin)
            return not wrong

        try:
            await wait_until(all_received, 40, "every answer received, in order", *bots)
        finally:  # on failure: what each wrong chat's commands wrote, what it received, and the rows behind
            written, received, doubled, wrong = answers_report(engine, standin)
            expected = expected_answers(engine)
            for chat_id in wrong:
                print(chat_id, "expected", [t[:40] for t in expected[chat_id]])
                print(chat_id, "received", [t[:40] for t in received_texts(standin, chat_id)])
                with engine.connect() as connection:
                    for row in connection.execute(text(
                            "SELECT id, received_at, done_at FROM inboxmessage WHERE chat_id = :c ORDER BY id"),
                            {"c": chat_id}):
                        print("   inbox", row)
                    for row in connection.execute(text(
                            "SELECT id, dedup_key, status, attempts, created_at, sent_at, lease, left(payload, 40) "
                            "FROM outboxmessage WHERE chat_id = :c ORDER BY id"), {"c": chat_id}):
                        print("   outbox", row)
                print("   calls", [(round(c.at, 3), c.outcome, str(c.params.get('text'))[:30]) for c in standin.calls
                                   if c.chat_id == chat_id])
        assert wrong == []
        assert doubled <= 4, "only answers in flight at the kill are sent again (at most 4 at once)"
        assert failed_commands(engine) == 0, "no command failed (a lock wait, a deadlock between the processes)"
        with engine.connect() as connection:
            contested = connection.execute(text(
                "SELECT count(*) FROM booking b JOIN space s ON s.id = b.space_id "
                "WHERE s.slug = 'salle-reunion' AND b.status = 'active'")).scalar()
            bookings = connection.execute(text("SELECT count(*) FROM booking WHERE status = 'active'")).scalar()
        assert contested == 1, "the slot every member asked for is booked once"
        booked_answers = sum(1 for m in MEMBERS for t in received_texts(standin, str(m))
                             if t.startswith("Réservé :"))
        assert booked_answers - doubled <= bookings <= booked_answers, "one booking per 'Réservé' answer"
        won = [m for m in MEMBERS if any(t.startswith("Réservé : Salle de réunion") for t in
                                         received_texts(standin, str(m)))]
        assert len(won) == 1
        print(f"{sent} commands, {written} answers written, {received} received ({doubled} sent again after "
              f"the kill); proxy: {dict(proxy.forwarded)}; POSTs made again: {dict(telegram.refusals)}")
    finally:
        for bot in bots:
            if bot.alive:
                await bot.terminate()
        await proxy.stop()
        engine.dispose()


def test_processes_without_a_webhook_secret_setting_check_the_same_one(tmp_path: Path) -> None:
    """Two processes of one bot, TELEGRAM_WEBHOOK_SECRET unset: the same secret in both (a random one each:
    the last to call setWebhook wins, and the other refuses every update), not the token, not guessable."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/bot.db", "TELEGRAM_BOT_TOKEN": "123456:TEST-token",
           "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram/webhook", "HTTP_PORT": "0"}
    apps = [App(load_settings(env)), App(load_settings(env))]
    secrets = {app.adapters[0].webhook_secret for app in apps}  # type: ignore[attr-defined]
    for app in apps:
        app.engine.dispose()
    assert len(secrets) == 1
    [secret] = secrets
    assert SECRET_RE.match(secret) and "TEST-token" not in secret
    assert derived_webhook_secret("123456:other-token") != secret
