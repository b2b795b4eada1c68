"""An image several messages carry (the weekly digest's chart to every subscribed chat) is stored once and
referenced; each chat still receives it; the retention job deletes it once no message refers to it."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from bot.core.types import Platform, Reply
from storage.models_outbox_images import OutboxImage
from storage.privacy import prune_old_rows
from tests.harness import Chat
from tests.test_digest import seed_week


class Recorder:
    platform = Platform.CONSOLE

    def __init__(self) -> None:
        self.delivered: list[tuple[str, bytes | None]] = []

    async def start(self, on_incoming: object) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, chat_id: str, reply: Reply, *, key: str | None = None) -> None:
        self.delivered.append((chat_id, reply.image))


def digest_to_three_groups(chat: Chat) -> None:
    seed_week(chat)
    for group in ("g1", "g2", "g3"):
        chat.say("coord", "/subscribe", group=group)
    assert chat.app.jobs.run_now("weekly-digest") == 3


def images(chat: Chat) -> list[OutboxImage]:
    with Session(chat.app.engine) as session:
        return list(session.exec(select(OutboxImage)))


async def test_a_digest_to_three_chats_stores_its_chart_once_and_each_chat_gets_it(chat: Chat) -> None:
    digest_to_three_groups(chat)
    [image] = images(chat)
    assert image.data.startswith(b"\x89PNG")
    rows = chat.outbox()
    assert len(rows) == 3
    assert all(len(row.payload) < 2_000 for row in rows), "the chart is not inside each message"
    recorder = Recorder()
    chat.app.outbox.register(recorder)  # type: ignore[arg-type]
    assert await chat.app.outbox.flush() == 3
    assert sorted(recorder.delivered) == [("g1", image.data), ("g2", image.data), ("g3", image.data)]


def test_one_chat_keeps_its_picture_inside_its_message(sqlite_chat: Chat) -> None:
    seed_week(sqlite_chat)
    sqlite_chat.say("coord", "/subscribe", group="g1")
    assert sqlite_chat.app.jobs.run_now("weekly-digest") == 1
    assert images(sqlite_chat) == []


def test_the_retention_job_deletes_the_chart_with_the_last_message_using_it(chat: Chat) -> None:
    digest_to_three_groups(chat)
    with Session(chat.app.engine) as session:
        pruned = prune_old_rows(session, chat.clock() + timedelta(days=2), outbox_days=60, inbox_days=30,
                                buttons_days=30)
        session.commit()
    assert pruned["outbox_images"] == 0 and len(images(chat)) == 1, "still referenced by pending messages"
    with Session(chat.app.engine) as session:
        for row in chat.outbox():
            row.status = "sent"
            session.add(row)
        session.commit()
        pruned = prune_old_rows(session, chat.clock() + timedelta(days=61), outbox_days=60, inbox_days=30,
                                buttons_days=30)
        session.commit()
    assert pruned["outbox"] == 3 and pruned["outbox_images"] == 1
    assert images(chat) == []
