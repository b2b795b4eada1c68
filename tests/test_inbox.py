"""The inbox: a received message is stored once, its command runs once, in order within its chat, chats
taking turns, and its answer is kept exactly when its effect is."""

from __future__ import annotations

import json
import threading

import pytest
from sqlmodel import Session, col, func, select

from bot.core.inbox import Inbox, incoming_from_json, incoming_to_json
from bot.core.types import ChatRef, Incoming, Platform, UserRef
from storage.models import Booking, OutboxMessage
from storage.models_inbox import InboxMessage
from tests.harness import Chat, make_chat, with_settings

TG = Platform.TELEGRAM


def said(user: str, text: str, update: int, *, group: str | None = None, message_id: int | None = None,
         is_action: bool = False, thread: str | None = None) -> Incoming:
    chat = ChatRef(TG, group or user, is_private=group is None)
    return Incoming(chat, UserRef(TG, user, user.capitalize(), "fr"), text, message_id=str(message_id or update),
                    update_id=str(update), is_action=is_action, thread_id=thread)


def answers(chat: Chat, chat_id: str | None = None) -> list[tuple[str, dict[str, object]]]:
    with Session(chat.app.engine) as session:
        rows = session.exec(select(OutboxMessage).where(col(OutboxMessage.dedup_key).startswith("answer:"))
                            .order_by(col(OutboxMessage.id))).all()
    return [(row.chat_id, json.loads(row.payload)) for row in rows if chat_id is None or row.chat_id == chat_id]


def bookings(chat: Chat) -> list[Booking]:
    with Session(chat.app.engine) as session:
        return list(session.exec(select(Booking).order_by(col(Booking.id))))


def pending(chat: Chat) -> int:
    with Session(chat.app.engine) as session:
        return session.exec(select(func.count()).select_from(InboxMessage)
                            .where(InboxMessage.status == "pending")).one()


def test_an_incoming_message_survives_the_round_trip_through_the_database() -> None:
    incoming = said("alice", "/book salle-reunion demain 14h", 7, group="-100", message_id=3, thread="$root")
    assert incoming_from_json(incoming_to_json(incoming)) == incoming


def test_an_update_received_twice_is_stored_once_and_its_command_runs_once(chat: Chat) -> None:
    inbox = chat.app.inbox
    batch = [said("alice", "/start", 1), said("alice", "/book salle-reunion demain 14h-16h", 2)]
    assert inbox.store_sync(batch) == 2
    assert inbox.store_sync([*batch[1:], said("alice", "/mybookings", 3)]) == 1  # a redelivered batch
    assert inbox.drain_sync() == 3
    assert inbox.store_sync(batch) == 0  # even after it ran
    assert inbox.drain_sync() == 0
    assert len(bookings(chat)) == 1
    texts = [payload["text"] for _, payload in answers(chat)]
    assert len(texts) == 3 and texts[1].startswith("Réservé") and "Salle de réunion" in texts[2]


def test_stored_commands_run_after_a_restart(chat: Chat) -> None:
    chat.app.inbox.store_sync([said("alice", "/book salle-reunion demain 14h-16h", 10)])
    chat.app.engine.dispose()  # the process stops before running it
    restarted = make_chat(chat.app.settings.database_url, now=chat.clock.now, seed=False)
    try:
        assert restarted.app.inbox.drain_sync() == 1
        assert len(bookings(restarted)) == 1 and pending(restarted) == 0
        [(chat_id, payload)] = answers(restarted)
        assert chat_id == "alice" and str(payload["text"]).startswith("Réservé")
    finally:
        restarted.app.engine.dispose()


def test_a_command_that_fails_keeps_nothing_it_wrote_and_still_gets_an_answer(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("bot.core.dispatch.enqueue", crash)  # fails after the booking was written
    chat.app.inbox.store_sync([said("bruno", "/book salle-reunion demain 14h-16h", 20)])
    assert chat.app.inbox.drain_sync() == 1
    assert bookings(chat) == []
    [(_, payload)] = answers(chat)
    assert "Rien n'a été modifié" in str(payload["text"])
    assert pending(chat) == 0


def test_answers_quote_the_command_in_a_group_and_replace_a_pressed_buttons_message(chat: Chat) -> None:
    inbox = chat.app.inbox
    inbox.store_sync([said("alice", "/book salle-reunion demain 14h-16h", 30, group="-100", message_id=55,
                           thread="$thread")])
    inbox.drain_sync()
    [(_, confirmation)] = answers(chat)
    assert confirmation["reply_to"] == "55" and confirmation["edit_message_id"] is None
    assert confirmation["thread_id"] == "$thread"
    [cancel] = confirmation["actions"]  # type: ignore[misc]
    inbox.store_sync([said("alice", cancel["command"], 31, group="-100", message_id=77, is_action=True)])
    inbox.drain_sync()
    [_, (_, cancelled)] = answers(chat)
    assert cancelled["edit_message_id"] == "77" and cancelled["reply_to"] is None
    assert bookings(chat)[0].status == "cancelled"


def test_private_answers_do_not_quote(chat: Chat) -> None:
    chat.app.inbox.store_sync([said("alice", "/help", 40)])
    chat.app.inbox.drain_sync()
    [(_, payload)] = answers(chat)
    assert payload["reply_to"] is None


def test_commands_run_in_order_within_a_chat_and_chats_take_turns(chat: Chat) -> None:
    inbox = chat.app.inbox
    burst = [said("alice", f"/book salle-reunion demain {9 + n % 9}h-{10 + n % 9}h", 100 + n) for n in range(40)]
    inbox.store_sync(burst)
    inbox.store_sync([said("bruno", "/book petite-salle demain 9h-10h", 500)])
    inbox.drain_sync()
    order = [chat_id for chat_id, _ in answers(chat)]
    assert order.index("bruno") <= 1  # Bruno's one command did not wait behind Alice's forty
    hours = [b.start.hour for b in bookings(chat) if b.member_id == bookings(chat)[0].member_id]
    assert hours == sorted(hours)  # Alice's bookings were made in the order she sent them


def test_a_member_sending_too_many_commands_a_minute_is_asked_to_slow_down(chat: Chat) -> None:
    with_settings(chat, commands_per_minute=5)
    texts = [chat.text("alice", "/spaces") for _ in range(6)]
    assert all("Espaces" in t for t in texts[:5])
    assert "plus de 5 par minute" in texts[5]
    assert "plus de 5" not in chat.text("bruno", "/spaces")  # others are not affected
    assert "Espaces" in "".join(chat.text("coord", "/spaces") for _ in range(8))  # coordinators are exempt
    chat.clock.advance(minutes=1, seconds=1)
    assert "Espaces" in chat.text("alice", "/spaces")


@pytest.mark.parametrize("processes", [2])
def test_two_processes_sharing_the_inbox_run_every_command_once_and_in_order(database_url: str,
                                                                             processes: int) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("sharing the work between processes is a PostgreSQL feature (SKIP LOCKED)")
    chats = [make_chat(database_url, seed=n == 0) for n in range(processes)]
    try:
        members = [f"m{n}" for n in range(6)]
        batch = [said(m, f"/book salle-reunion demain {8 + h}h-{9 + h}h", 1000 + 100 * n + h, group=f"-{n}")
                 for n, m in enumerate(members) for h in range(8)]
        # Same room, same hours: whoever runs first gets each slot; the order within each chat decides
        # nothing here, but every command must run exactly once.
        chats[0].app.inbox.store_sync(batch)
        ran = [0] * processes

        def work(index: int, inbox: Inbox) -> None:
            ran[index] = inbox.drain_sync()

        threads = [threading.Thread(target=work, args=(n, c.app.inbox)) for n, c in enumerate(chats)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(ran) == len(batch)
        assert pending(chats[0]) == 0
        assert len(answers(chats[0])) == len(batch)
        booked = [p for _, p in answers(chats[0]) if str(p["text"]).startswith("Réservé")]
        assert 0 < len(booked) == len(bookings(chats[0])) <= 8  # one booking per "booked" answer, none twice
        with Session(chats[0].app.engine) as session:
            written = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        for n in range(len(members)):  # answers are written in the order the commands ran
            ids = [int(str(row.dedup_key).split(":")[1]) for row in written if row.chat_id == f"-{n}"]
            assert len(ids) == 8 and ids == sorted(ids)  # within a chat, in the order received
    finally:
        for c in chats:
            c.app.engine.dispose()
