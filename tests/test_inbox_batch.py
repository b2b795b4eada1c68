"""Commands of several chats run in one transaction (one commit for many, the fast path of the running
inbox): each chat's commands still run in order, a command's effect, answers and done mark still commit
together, a command that fails undoes only itself, and a batch that cannot commit keeps nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event

from bot.core.inbox import Inbox
from tests.harness import Chat
from tests.test_inbox import answers, bookings, pending, said

ALICE, BRUNO, CARLA = ("telegram", "alice"), ("telegram", "bruno"), ("telegram", "carla")


@pytest.fixture(autouse=True)
def _unhurried(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch's time limit out of the way (a first command on a loaded machine may take longer)."""
    monkeypatch.setattr("bot.core.inbox.BATCH_SECONDS", 60.0)


def commits(inbox: Inbox) -> list[int]:
    """A counter of the transactions committed on the inbox's engine from now on."""
    counted = [0]

    def count(_connection: Any) -> None:
        counted[0] += 1

    event.listen(inbox.engine, "commit", count)
    return counted


def test_one_commit_runs_the_next_command_of_each_chat_and_a_chats_next_one_waits_its_turn(chat: Chat) -> None:
    inbox = chat.app.inbox
    inbox.store_sync([said("alice", "/start", 1), said("bruno", "/start", 2),
                      said("alice", "/book salle-reunion demain 14h-16h", 3), said("carla", "/help", 4)])
    counted = commits(inbox)
    batch = inbox.process_batch([ALICE, BRUNO, CARLA])
    assert counted[0] == 1
    assert batch.ran == [ALICE, BRUNO, CARLA] and batch.answered and not batch.left
    assert pending(chat) == 1 and bookings(chat) == []  # Alice's /book comes after her /start
    assert [chat_id for chat_id, _ in answers(chat)] == ["alice", "bruno", "carla"]
    assert inbox.process_batch([ALICE, BRUNO, CARLA]).ran == [ALICE]
    assert len(bookings(chat)) == 1 and pending(chat) == 0
    assert str(answers(chat, "alice")[-1][1]["text"]).startswith("Réservé")


def test_a_command_whose_error_escapes_rolls_the_batch_back_and_the_others_then_run_alone(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = chat.app.inbox
    inbox.store_sync([said("alice", "/book salle-reunion demain 9h-10h", 1),
                      said("bruno", "/book petite-salle demain 9h-10h", 2),
                      said("carla", "/book salle-reunion demain 11h-12h", 3)])
    handle_in = inbox.dispatcher.handle_in

    def broken_for_bruno(session: Any, incoming: Any) -> Any:
        outcome = handle_in(session, incoming)  # Bruno's booking is written, then the database fails
        if incoming.sender.user_id == "bruno":
            raise RuntimeError("disk on fire")
        return outcome

    monkeypatch.setattr(inbox.dispatcher, "handle_in", broken_for_bruno)
    with pytest.raises(RuntimeError):
        inbox.process_batch([ALICE, BRUNO, CARLA])
    assert bookings(chat) == [] and answers(chat) == [] and pending(chat) == 3  # the batch kept nothing
    batch = inbox._process_keys([ALICE, BRUNO, CARLA])  # what the running inbox does then
    assert batch.ran == [ALICE, CARLA] and batch.failed
    assert [chat_id for chat_id, _ in answers(chat)] == ["alice", "carla"]
    assert len(bookings(chat)) == 2 and pending(chat) == 1  # nothing of Bruno's command was kept
    monkeypatch.setattr(inbox.dispatcher, "handle_in", handle_in)
    assert inbox.process_batch([BRUNO]).ran == [BRUNO]
    assert len(bookings(chat)) == 3 and pending(chat) == 0


def test_a_batch_that_cannot_commit_keeps_nothing_and_its_commands_run_later(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = chat.app.inbox
    inbox.store_sync([said("alice", "/book salle-reunion demain 9h-10h", 1),
                      said("bruno", "/book petite-salle demain 9h-10h", 2)])

    def full_disk(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(inbox, "_write_done", full_disk)  # after both commands ran, before the commit
    with pytest.raises(OSError):
        inbox.process_batch([ALICE, BRUNO])
    assert bookings(chat) == [] and answers(chat) == [] and pending(chat) == 2
    monkeypatch.setattr(inbox, "_write_done", Inbox._write_done.__get__(inbox))
    assert inbox.drain_sync() == 2
    assert len(bookings(chat)) == 2 and len(answers(chat)) == 2


def test_a_batch_stops_taking_commands_after_its_time_and_leaves_the_rest_pending(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = chat.app.inbox
    inbox.store_sync([said("alice", "/help", 1), said("bruno", "/help", 2), said("carla", "/help", 3)])
    monkeypatch.setattr("bot.core.inbox.BATCH_SECONDS", -1.0)  # every command is "late" after the first
    batch = inbox.process_batch([ALICE, BRUNO, CARLA])
    assert batch.ran == [ALICE] and batch.left == [BRUNO, CARLA]
    assert pending(chat) == 2 and [chat_id for chat_id, _ in answers(chat)] == ["alice"]


async def test_the_running_inbox_answers_a_burst_from_many_chats_in_few_commits(chat: Chat) -> None:
    inbox = chat.app.inbox
    woken: list[bool] = []
    inbox.on_answers = lambda: woken.append(True)
    inbox.start()
    try:
        counted = commits(inbox)
        await inbox.store([said(f"m{n}", "/help", 100 + n) for n in range(40)])
        for _ in range(600):
            if pending(chat) == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        await inbox.stop()
    assert pending(chat) == 0 and len(answers(chat)) == 40 and woken
    if chat.app.engine.dialect.name == "sqlite":  # PostgreSQL: one command per transaction (no deadlocks)
        assert counted[0] < 40  # the store, then commands in batches (the count depends on timing)
