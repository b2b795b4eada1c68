"""The outbox writes in rounds (one transaction claims the sends that start and records those that
ended): every message still goes once, in its chat's order, and a kill never leaves more messages in
doubt ("sending") than there are send slots."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import Session, col, func, select

from bot.core.outbox import INTERRUPTED, MAX_IN_FLIGHT, SENDING, OutboxWorker
from bot.core.types import Platform, Reply
from storage.models import OutboxMessage
from tests.harness import Chat


class SlowPlatform:
    """Takes a moment per message, and notes how many messages the database says are being sent."""

    platform = Platform.CONSOLE

    def __init__(self, chat: Chat) -> None:
        self.chat = chat
        self.delivered: list[tuple[str, str]] = []
        self.in_doubt: list[int] = []

    async def start(self, on_incoming: object) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, chat_id: str, reply: Reply, *, key: str | None = None) -> None:
        self.in_doubt.append(await asyncio.to_thread(sending, self.chat))
        await asyncio.sleep(0.01)
        self.delivered.append((chat_id, reply.text))


def sending(chat: Chat) -> int:
    with Session(chat.app.engine) as session:
        return session.exec(select(func.count()).select_from(OutboxMessage)
                            .where(OutboxMessage.status == SENDING)).one()


def queue(chat: Chat, chats: int, each: int, *, answers: bool = False) -> None:
    with Session(chat.app.engine) as session:
        for number in range(each):
            for c in range(chats):
                session.add(OutboxMessage(
                    platform=Platform.CONSOLE.value, chat_id=f"c{c}", payload=f'{{"text": "{c}.{number}"}}',
                    dedup_key=f"answer:{c}:{number}" if answers else None, status="pending",
                    created_at=chat.clock.now, not_before=chat.clock.now))
        session.commit()


async def test_many_chats_messages_go_once_each_in_order_never_more_in_doubt_than_send_slots(
    sqlite_chat: Chat,
) -> None:
    queue(sqlite_chat, chats=30, each=3)
    platform = SlowPlatform(sqlite_chat)
    sqlite_chat.app.outbox.register(platform)
    assert await sqlite_chat.app.outbox.flush() == 90
    assert sorted(platform.delivered) == sorted({(f"c{c}", f"{c}.{n}") for c in range(30) for n in range(3)})
    for c in range(30):
        assert [text for chat_id, text in platform.delivered if chat_id == f"c{c}"] == [f"{c}.{n}" for n in range(3)]
    assert max(platform.in_doubt) <= MAX_IN_FLIGHT
    assert {row.status for row in sqlite_chat.outbox()} == {"sent"}
    assert {row.attempts for row in sqlite_chat.outbox()} == {1}


async def test_a_chat_with_more_messages_than_are_read_at_once_gets_them_all(sqlite_chat: Chat) -> None:
    queue(sqlite_chat, chats=1, each=40)
    platform = SlowPlatform(sqlite_chat)
    sqlite_chat.app.outbox.register(platform)
    assert await sqlite_chat.app.outbox.flush() == 40
    assert [text for _, text in platform.delivered] == [f"0.{n}" for n in range(40)]


async def test_sends_whose_results_were_not_written_before_a_kill_stay_in_doubt(sqlite_chat: Chat) -> None:
    """A kill between a send and the round that records it: the row is still "sending", so the next
    process reports it interrupted (or, for an answer, sends it again), as for a kill during the send."""
    queue(sqlite_chat, chats=2, each=1)
    queue_answer = OutboxMessage(platform=Platform.CONSOLE.value, chat_id="c9", payload='{"text": "answer"}',
                                 dedup_key="answer:9:0", status="pending", created_at=sqlite_chat.clock.now,
                                 not_before=sqlite_chat.clock.now)
    with Session(sqlite_chat.app.engine) as session:
        session.add(queue_answer)
        session.commit()
    killed = OutboxWorker(sqlite_chat.app.engine, sqlite_chat.clock)
    platform = SlowPlatform(sqlite_chat)
    killed.register(platform)
    killed._record_later = lambda *args, **kwargs: None  # type: ignore[method-assign]  # dies before the round
    await killed.flush()
    assert len(platform.delivered) == 3 and sending(sqlite_chat) == 3
    restarted = sqlite_chat.app.outbox
    again = SlowPlatform(sqlite_chat)
    restarted.register(again)
    assert restarted.recover_interrupted() == 3
    with Session(sqlite_chat.app.engine) as session:
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
    assert [(row.status, row.error) for row in rows] == [("failed", INTERRUPTED)] * 2 + [("pending", None)]
    assert await restarted.flush() == 1 and again.delivered == [("c9", "answer")]


async def test_a_failed_send_is_retried_after_its_wait_and_its_chats_next_message_waits_that_round(
    sqlite_chat: Chat,
) -> None:
    from bot.adapters.base import DeliveryError

    queue(sqlite_chat, chats=1, each=2)

    class FailsOnce(SlowPlatform):
        async def send(self, chat_id: str, reply: Reply, *, key: str | None = None) -> None:
            if not self.in_doubt:
                self.in_doubt.append(0)
                raise DeliveryError("busy", retry_after=5)
            await super().send(chat_id, reply, key=key)

    platform = FailsOnce(sqlite_chat)
    sqlite_chat.app.outbox.register(platform)
    assert await sqlite_chat.app.outbox.flush() == 0  # the first failed: the second waits its turn
    rows = sqlite_chat.outbox()
    assert [(row.status, row.attempts) for row in rows] == [("pending", 1), ("pending", 0)]
    sqlite_chat.clock.advance(seconds=6)
    assert await sqlite_chat.app.outbox.flush() == 2
    assert [text for _, text in platform.delivered] == ["0.0", "0.1"]
    assert rows[0].not_before == sqlite_chat.clock.now - timedelta(seconds=1)


def test_a_reply_is_stored_exactly_as_before_and_read_back_whole() -> None:
    import json
    from dataclasses import asdict

    from bot.core.outbox import reply_from_json, reply_to_json
    from bot.core.types import Action, PollSpec

    replies = [
        Reply("Réservé"),
        Reply("Choisissez", title="Sondage", actions=(Action("Oui", "/vote 3 1", undo="/vote 3 withdraw"),
                                                        Action("Non", "/vote 3 2")),
              poll=PollSpec(3, "Quand ?", ("lundi", "mardi"), multiple=True), reply_to="55", thread_id="$t",
              personal=True, for_user="42", action_id="q1", remember_as="card:3"),
        Reply("Graphique", image=b"\x89PNG..", image_name="chart.png", edit_original=True,
              private_start_payload="hello", edit_message_id="77"),
    ]
    for reply in replies:
        before = asdict(reply)  # what was stored until now
        before["image"] = reply.image.hex() if reply.image else None
        assert reply_to_json(reply) == json.dumps(before, ensure_ascii=False)
        assert reply_from_json(reply_to_json(reply)) == reply


def test_a_woken_read_takes_a_chats_older_row_that_committed_late_before_its_newer_one(sqlite_chat: Chat) -> None:
    """Ids are given at INSERT, so rows commit out of id order: a row of chat X committed after a newer
    row of chat Y was read must still go before X's next row (found by scale-out's test on PostgreSQL)."""
    from sqlmodel import update

    queue(sqlite_chat, chats=2, each=1)  # c0 (id 1), c1 (id 2)
    with Session(sqlite_chat.app.engine) as session:
        session.exec(update(OutboxMessage).where(col(OutboxMessage.chat_id) == "c0").values(status="held"))
        session.commit()
    worker = sqlite_chat.app.outbox
    worker.register(SlowPlatform(sqlite_chat))
    assert [row.chat_id for row in worker._due_rows()] == ["c1"]  # c0's row is not committed yet
    with Session(sqlite_chat.app.engine) as session:  # ... now it is, and c0 has a newer one
        session.exec(update(OutboxMessage).where(col(OutboxMessage.chat_id) == "c0").values(status="pending"))
        session.commit()
    queue(sqlite_chat, chats=1, each=1)
    assert [(row.chat_id, row.id) for row in worker._due_rows(after=2)] == [("c0", 1), ("c0", 3)]


def chat_row_ids(chat: Chat, chat_id: str) -> list[int]:
    with Session(chat.app.engine) as session:
        return [int(i or 0) for i in session.exec(select(OutboxMessage.id).where(OutboxMessage.chat_id == chat_id)
                                             .order_by(col(OutboxMessage.id)))]


def test_a_backlog_already_queued_is_not_read_again_with_its_text_at_each_look(sqlite_chat: Chat) -> None:
    queue(sqlite_chat, chats=2, each=4)
    sqlite_chat.app.outbox.register(SlowPlatform(sqlite_chat))
    ids = chat_row_ids(sqlite_chat, "c0")
    key = (Platform.CONSOLE.value, "c0")
    due = sqlite_chat.app.outbox._due_rows(0, queued={key: ids[1]})
    texts = {row.id: row.payload for row in due}
    assert [texts[i] for i in ids] == [None, None, '{"text": "0.2"}', '{"text": "0.3"}']
    assert all(row.payload for row in due if row.chat_id == "c1")  # nothing of c1 queued: all read


async def test_rows_read_without_their_text_for_a_chat_no_longer_sending_still_go_out_all_in_order(
    sqlite_chat: Chat,
) -> None:
    """A look began while c0's first rows were queued; by its end c0's sender had stopped (a failure):
    the rows it read without their text are read again by c0's new sender, from the first, in order."""
    queue(sqlite_chat, chats=2, each=4)
    outbox = sqlite_chat.app.outbox
    platform = SlowPlatform(sqlite_chat)
    outbox.register(platform)
    outbox._loop = asyncio.get_running_loop()
    ids = chat_row_ids(sqlite_chat, "c0")
    stale_look = outbox._due_rows(0, queued={(Platform.CONSOLE.value, "c0"): ids[2]})
    await asyncio.gather(*outbox._queue_rows(stale_look))
    await outbox._written(5.0)
    assert [text for chat_id, text in platform.delivered if chat_id == "c0"] == [f"0.{n}" for n in range(4)]
    assert [text for chat_id, text in platform.delivered if chat_id == "c1"] == [f"1.{n}" for n in range(4)]
    assert {row.status for row in sqlite_chat.outbox()} == {"sent"}
