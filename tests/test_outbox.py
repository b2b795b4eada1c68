"""Messages the bot starts itself are delivered once, retried when the platform asks, and given up on
when the chat is gone: the outbox worker against the console adapter and a platform that fails."""

from __future__ import annotations

import io
from datetime import timedelta

from bot.adapters.base import DeliveryError
from bot.adapters.console import ConsoleAdapter
from bot.core.types import Platform, Reply
from tests.harness import Chat


class FlakyPlatform:
    """A chat platform that fails the way real ones do, in the order given, then delivers."""

    platform = Platform.CONSOLE

    def __init__(self, *failures: DeliveryError) -> None:
        self.failures = list(failures)
        self.delivered: list[tuple[str, str, str | None]] = []

    async def start(self, on_incoming: object) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, chat_id: str, reply: Reply, *, key: str | None = None) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.delivered.append((chat_id, reply.text, key))


def cancel_by_coordinator(chat: Chat) -> None:
    chat.say("bob", "/start")
    chat.say("bob", "/book salle-reunion demain 14h-16h")
    chat.say("coord", "/cancel 1")


async def test_a_notice_reaches_the_booker_on_the_console_once(sqlite_chat: Chat) -> None:
    cancel_by_coordinator(sqlite_chat)
    out = io.StringIO()
    console = ConsoleAdapter("someone-else", stdin=io.StringIO(), stdout=out)
    sqlite_chat.app.outbox.register(console)
    assert await sqlite_chat.app.outbox.flush() == 1
    assert await sqlite_chat.app.outbox.flush() == 0
    assert out.getvalue().startswith("[→ bob] Un·e coordinateur·rice (Coord) a annulé votre réservation")
    assert [m.status for m in sqlite_chat.outbox()] == ["sent"]


async def test_a_rate_limited_send_waits_retry_after_then_arrives_once(sqlite_chat: Chat) -> None:
    cancel_by_coordinator(sqlite_chat)
    platform = FlakyPlatform(DeliveryError("429 Too Many Requests", retry_after=30))
    sqlite_chat.app.outbox.register(platform)
    assert await sqlite_chat.app.outbox.flush() == 0
    [row] = sqlite_chat.outbox()
    assert (row.status, row.attempts, row.not_before) == ("pending", 1, sqlite_chat.clock.now + timedelta(seconds=30))
    sqlite_chat.clock.advance(seconds=10)
    assert await sqlite_chat.app.outbox.flush() == 0, "not before retry_after"
    sqlite_chat.clock.advance(seconds=21)
    assert await sqlite_chat.app.outbox.flush() == 1
    assert [(chat_id, key) for chat_id, _, key in platform.delivered] == [("bob", f"outbox-{row.id}")]


async def test_a_chat_that_blocked_the_bot_is_given_up_with_the_reason(sqlite_chat: Chat) -> None:
    cancel_by_coordinator(sqlite_chat)
    platform = FlakyPlatform(DeliveryError("Forbidden: bot was blocked by the user", permanent=True))
    sqlite_chat.app.outbox.register(platform)
    await sqlite_chat.app.outbox.flush()
    sqlite_chat.clock.advance(hours=1)
    await sqlite_chat.app.outbox.flush()
    [row] = sqlite_chat.outbox()
    assert (row.status, row.attempts, row.error) == ("failed", 1, "Forbidden: bot was blocked by the user")
    assert platform.delivered == []


async def test_transient_failures_back_off_and_stop_after_the_last_attempt(sqlite_chat: Chat) -> None:
    from bot.core.outbox import MAX_ATTEMPTS

    cancel_by_coordinator(sqlite_chat)
    platform = FlakyPlatform(*[DeliveryError("network down") for _ in range(MAX_ATTEMPTS + 2)])
    sqlite_chat.app.outbox.register(platform)
    delays = []
    for _ in range(MAX_ATTEMPTS + 2):
        await sqlite_chat.app.outbox.flush()
        [row] = sqlite_chat.outbox()
        delays.append(row.not_before - sqlite_chat.clock.now)
        sqlite_chat.clock.advance(seconds=400)
    [row] = sqlite_chat.outbox()
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert delays[:3] == [timedelta(seconds=2), timedelta(seconds=4), timedelta(seconds=8)]


async def test_a_message_interrupted_mid_send_is_not_sent_again_unless_the_platform_drops_duplicates(
    sqlite_chat: Chat,
) -> None:
    from sqlmodel import Session, select

    from storage.models import OutboxMessage

    cancel_by_coordinator(sqlite_chat)
    sqlite_chat.say("alice", "/start")
    sqlite_chat.say("alice", "/book petite-salle demain 9h-10h")
    sqlite_chat.say("coord", "/cancel 2")
    worker = sqlite_chat.app.outbox
    worker.register(FlakyPlatform())
    for row in sqlite_chat.outbox():  # the process takes both messages, then dies while sending
        assert row.id is not None and worker._claim(row.id)
    assert [row.status for row in sqlite_chat.outbox()] == ["sending", "sending"]
    sqlite_chat.clock.advance(minutes=5)
    assert worker.recover_interrupted() == 2
    assert [(m.status, m.error) for m in sqlite_chat.outbox()] == [
        ("failed", "interrupted while sending; not sent again to avoid a duplicate")] * 2
    with Session(sqlite_chat.app.engine) as session:
        for row in session.exec(select(OutboxMessage)):
            row.status = "sending"
            session.add(row)
        session.commit()
    idempotent = FlakyPlatform()
    idempotent.idempotent_sends = True  # type: ignore[attr-defined]
    worker.register(idempotent)
    assert worker.recover_interrupted() == 2
    assert await worker.flush() == 2
    assert sorted(chat_id for chat_id, _, _ in idempotent.delivered) == ["alice", "bob"]
