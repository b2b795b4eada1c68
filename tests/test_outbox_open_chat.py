"""A member with nowhere to be written to privately: where the platform lets the bot start a conversation
(Matrix), the outbox opens a direct chat and the held messages go there, in order; elsewhere they wait."""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot.adapters.base import DeliveryError
from bot.core.outbox import NO_ROUTE, enqueue
from bot.core.types import Notice, Platform, Reply
from storage.models import Identity, Member, OutboxMessage
from tests.harness import Chat


class OpeningPlatform:
    """A platform where the bot may open a direct chat itself, refusing or failing as told per user."""

    platform = Platform.MATRIX

    def __init__(self, **failures: DeliveryError) -> None:
        self.failures = failures
        self.opened: list[str] = []
        self.delivered: list[tuple[str, str]] = []

    async def start(self, on_incoming: object) -> None: ...

    async def stop(self) -> None: ...

    async def open_private_chat(self, user_id: str) -> str:
        self.opened.append(user_id)
        failure = self.failures.pop(user_id.strip("@").split(":")[0], None)
        if failure is not None:
            raise failure
        return f"!dm-{user_id.strip('@').split(':')[0]}:example.org"

    async def send(self, chat_id: str, reply: Reply, *, key: str | None = None) -> None:
        self.delivered.append((chat_id, reply.text))


def matrix_member(chat: Chat, name: str, *texts: str) -> int:
    """A member known only from a group room on Matrix, with messages for them held (no private chat)."""
    with Session(chat.app.engine) as session:
        member = Member(display_name=name.title())
        session.add(member)
        session.flush()
        assert member.id is not None
        session.add(Identity(member_id=member.id, platform="matrix", user_id=f"@{name}:example.org"))
        session.flush()
        result = enqueue(session, [Notice(Reply(text), member_id=member.id) for text in texts], chat.clock.now)
        assert result.unreachable == [member.id] * len(texts)
        session.commit()
        return member.id


def rows_of(chat: Chat, member_chat: str, room: str) -> list[tuple[str, str, str | None]]:
    with Session(chat.app.engine) as session:
        rows = session.exec(select(OutboxMessage).where(col(OutboxMessage.chat_id).in_((member_chat, room)))
                            .order_by(col(OutboxMessage.id)))
        return [(r.chat_id, r.status, r.error) for r in rows]


def private_chat(chat: Chat, user_id: str) -> str | None:
    with Session(chat.app.engine) as session:
        return session.exec(select(Identity.private_chat_id).where(Identity.user_id == user_id)).one()


async def test_the_bot_opens_a_direct_chat_and_the_held_messages_go_there_in_order(chat: Chat) -> None:
    member_id = matrix_member(chat, "bob", "Premier message", "Second message")
    platform = OpeningPlatform()
    chat.app.outbox.register(platform)
    assert await chat.app.outbox.flush() == 2
    assert platform.opened == ["@bob:example.org"]
    assert platform.delivered == [("!dm-bob:example.org", "Premier message"),
                                  ("!dm-bob:example.org", "Second message")]
    assert private_chat(chat, "@bob:example.org") == "!dm-bob:example.org"
    assert rows_of(chat, f"member:{member_id}", "!dm-bob:example.org") == [
        ("!dm-bob:example.org", "sent", None)] * 2
    assert await chat.app.outbox.flush() == 0 and platform.opened == ["@bob:example.org"]


async def test_a_refused_direct_chat_fails_the_messages_with_the_reason_and_a_transient_error_waits(
    chat: Chat,
) -> None:
    refused = matrix_member(chat, "ghost", "Pour personne")
    later = matrix_member(chat, "carol", "Pour Carol")
    platform = OpeningPlatform(ghost=DeliveryError("403 user unknown", permanent=True),
                               carol=DeliveryError("homeserver unreachable"))
    chat.app.outbox.register(platform)
    assert await chat.app.outbox.flush() == 0
    [(_, status, error)] = rows_of(chat, f"member:{refused}", "-")
    assert status == "failed" and error is not None and "403 user unknown" in error
    assert rows_of(chat, f"member:{later}", "-") == [(f"member:{later}", NO_ROUTE, None)]
    assert private_chat(chat, "@carol:example.org") is None

    chat.clock.advance(seconds=60)
    assert await chat.app.outbox.flush() == 0
    assert platform.opened.count("@carol:example.org") == 1, "the homeserver is not asked again so soon"
    chat.clock.advance(seconds=300)
    assert await chat.app.outbox.flush() == 1
    assert platform.opened.count("@carol:example.org") == 2 and platform.opened.count("@ghost:example.org") == 1
    assert platform.delivered == [("!dm-carol:example.org", "Pour Carol")]
    assert private_chat(chat, "@carol:example.org") == "!dm-carol:example.org"


async def test_without_a_way_to_open_a_chat_the_messages_keep_waiting_for_the_member(chat: Chat) -> None:
    member_id = matrix_member(chat, "dave", "En attente")

    class NoOpening(OpeningPlatform):
        open_private_chat = None  # type: ignore[assignment]  # like Telegram: a bot may not write first

    platform = NoOpening()
    chat.app.outbox.register(platform)
    chat.clock.advance(minutes=10)
    assert await chat.app.outbox.flush() == 0
    assert rows_of(chat, f"member:{member_id}", "-") == [(f"member:{member_id}", NO_ROUTE, None)]
