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

    from bot.core.outbox import INTERRUPTED, OutboxWorker
    from storage.models import OutboxMessage

    cancel_by_coordinator(sqlite_chat)
    sqlite_chat.say("alice", "/start")
    sqlite_chat.say("alice", "/book petite-salle demain 9h-10h")
    sqlite_chat.say("coord", "/cancel 2")
    gone = OutboxWorker(sqlite_chat.app.engine, sqlite_chat.clock)  # another process ...
    for row in sqlite_chat.outbox():  # ... takes both messages, then dies while sending
        assert row.id is not None and gone._claim(row.id)
    assert [(row.status, row.lease) for row in sqlite_chat.outbox()] == [("sending", gone.lease)] * 2
    worker = sqlite_chat.app.outbox
    worker.register(FlakyPlatform())
    assert worker.recover_interrupted() == 2  # at once: no waiting for the rows to get old
    assert [(m.status, m.error) for m in sqlite_chat.outbox()] == [("failed", INTERRUPTED)] * 2
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


async def test_an_answer_interrupted_mid_send_is_sent_again(sqlite_chat: Chat) -> None:
    from bot.core.outbox import OutboxWorker
    from bot.core.types import ChatRef, Incoming, UserRef

    sqlite_chat.app.inbox.store_sync([Incoming(ChatRef(Platform.CONSOLE, "alice", True),
                                               UserRef(Platform.CONSOLE, "alice", "Alice"), "/help", update_id="1")])
    sqlite_chat.app.inbox.drain_sync()
    [answer] = sqlite_chat.outbox()
    gone = OutboxWorker(sqlite_chat.app.engine, sqlite_chat.clock)
    assert answer.id is not None and gone._claim(answer.id)
    platform = FlakyPlatform()
    sqlite_chat.app.outbox.register(platform)
    assert sqlite_chat.app.outbox.recover_interrupted() == 1
    assert await sqlite_chat.app.outbox.flush() == 1  # at least once: a duplicate at worst
    assert [chat_id for chat_id, _, _ in platform.delivered] == ["alice"]


async def test_only_the_lock_holder_sends_and_taking_the_lock_recovers_the_previous_senders_rows(
    sqlite_chat: Chat,
) -> None:
    from bot.core.leadership import Leadership
    from bot.core.outbox import INTERRUPTED, OutboxWorker

    cancel_by_coordinator(sqlite_chat)
    engine = sqlite_chat.app.engine
    first, second = Leadership(engine), Leadership(engine)
    old = OutboxWorker(engine, sqlite_chat.clock, leadership=first)
    new = OutboxWorker(engine, sqlite_chat.clock, leadership=second)
    for worker in (old, new):
        worker.register(FlakyPlatform())
        shared = FlakyPlatform()  # a platform account the processes share (a terminal chat is not shared)
        shared.platform = Platform.TELEGRAM
        worker.register(shared)
    assert first.acquire()
    [row] = sqlite_chat.outbox()
    assert row.id is not None and old._claim(row.id)  # the old leader is sending it ...
    assert await new.flush() == 0  # ... and the other process, not the leader, leaves it alone
    assert [m.status for m in sqlite_chat.outbox()] == ["sending"]
    first.release()  # the old leader dies (the lock goes with it)
    await new.flush()
    assert [(m.status, m.error) for m in sqlite_chat.outbox()] == [("failed", INTERRUPTED)]
    second.release()


async def test_one_chats_thousand_messages_do_not_delay_another_chats_message(sqlite_chat: Chat) -> None:
    """Real Telegram limits (one message a second in a chat): 1,000 reminders due at once for one
    member, then one for another member: the second goes out within a couple of seconds."""
    import asyncio
    import time

    from sqlmodel import Session

    from bot.adapters.telegram_limits import SendLimiter
    from bot.core.outbox import reply_to_json
    from storage.models import OutboxMessage

    class LimitedPlatform(FlakyPlatform):
        def __init__(self) -> None:
            super().__init__()
            self.limiter = SendLimiter()
            self.at: dict[str, list[float]] = {}

        async def until_ready(self, chat_id: str) -> None:
            await asyncio.sleep(max(0.0, self.limiter.earliest(chat_id, is_group=False) - time.monotonic()))

        async def send(self, chat_id: str, reply: Reply, *, key: str | None = None) -> None:
            await self.limiter.wait_turn(chat_id, is_group=False)
            self.at.setdefault(chat_id, []).append(time.monotonic())

    now = sqlite_chat.clock.now
    with Session(sqlite_chat.app.engine) as session:
        for n in range(1000):
            session.add(OutboxMessage(platform="console", chat_id="busy", payload=reply_to_json(Reply(f"Rappel {n}")),
                                      created_at=now, not_before=now))
        session.add(OutboxMessage(platform="console", chat_id="other", payload=reply_to_json(Reply("Rappel")),
                                  created_at=now, not_before=now))
        session.commit()
    platform = LimitedPlatform()
    worker = sqlite_chat.app.outbox
    worker.register(platform)
    began = time.monotonic()
    worker.start()
    try:
        while "other" not in platform.at and time.monotonic() - began < 30:
            await asyncio.sleep(0.05)
    finally:
        await worker.stop()
    assert platform.at["other"][0] - began < 3.0
    assert len(platform.at["busy"]) <= 4  # the busy chat kept its one message a second


async def test_one_members_thousand_due_reminders_do_not_delay_another_members_reminder(sqlite_chat: Chat) -> None:
    """The whole path: the reminders job, then the outbox at Telegram's pace (one message a second in a
    chat). Alice has 1,000 reminders due; Bruno's, due a second after all of hers, arrives within a few
    seconds all the same."""
    import asyncio
    import time
    from datetime import timedelta

    from sqlmodel import Session

    from bot.adapters.telegram_limits import SendLimiter
    from storage import reminders
    from storage.members import find_identity

    class LimitedPlatform(FlakyPlatform):
        def __init__(self) -> None:
            super().__init__()
            self.limiter = SendLimiter()
            self.at: dict[str, list[float]] = {}

        async def until_ready(self, chat_id: str) -> None:
            await asyncio.sleep(max(0.0, self.limiter.earliest(chat_id, is_group=False) - time.monotonic()))

        async def send(self, chat_id: str, reply: Reply, *, key: str | None = None) -> None:
            await self.limiter.wait_turn(chat_id, is_group=False)
            self.at.setdefault(chat_id, []).append(time.monotonic())

    chat = sqlite_chat
    chat.say("alice", "/start")
    chat.say("bruno", "/start")
    now = chat.clock.now
    with Session(chat.app.engine) as session:
        alice, bruno = (find_identity(session, "console", name) for name in ("alice", "bruno"))
        assert alice is not None and bruno is not None
        due = now + timedelta(minutes=1)
        for n in range(1000):
            reminders.schedule(session, alice.member_id, "personal", None, due, now, f"tâche {n}")
        reminders.schedule(session, bruno.member_id, "personal", None, now + timedelta(minutes=1, seconds=1), now,
                           "appeler la mairie")
        session.commit()
    chat.clock.advance(minutes=2)
    platform = LimitedPlatform()
    chat.app.outbox.register(platform)
    began = time.monotonic()
    await asyncio.to_thread(chat.app.jobs.run_now, "send-reminders")  # one tick of the scheduler
    chat.app.outbox.start()
    try:
        while "bruno" not in platform.at and time.monotonic() - began < 30:
            await asyncio.sleep(0.05)
    finally:
        await chat.app.outbox.stop()
    assert "bruno" in platform.at, "Bruno's reminder waited behind Alice's"
    assert platform.at["bruno"][0] - began < 5.0
