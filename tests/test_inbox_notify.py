"""Processes sharing one PostgreSQL database wake each other (bot/core/inbox.py, NOTIFY/LISTEN): a row
stored by one process is run at once by another that is idle, and answers written by any process wake the
outbox of the others, without waiting for their next look at the tables (here made a minute long)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

import bot.core.inbox as inbox_module
from bot.core.inbox import OUTBOX_CHANNEL, Inbox
from storage.db import session_scope
from storage.models_inbox import InboxMessage
from tests.harness import Chat, make_chat


@pytest.fixture
def pg_chat(postgres_url: str) -> Iterator[Chat]:
    harness = make_chat(postgres_url)
    yield harness
    harness.app.engine.dispose()


async def wait_for(condition: object, seconds: float = 10.0) -> bool:
    for _ in range(int(seconds / 0.02)):
        if condition():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.02)
    return False


async def test_a_row_stored_by_one_process_is_run_by_another_without_waiting_for_its_next_look(
    pg_chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox_module, "POLL_SECONDS", 60.0)
    app = pg_chat.app
    answered = asyncio.Event()
    storing = Inbox(app.engine, app.dispatcher)  # the process the webhook reached: busy, runs nothing
    running = Inbox(app.engine, app.dispatcher, on_answers=answered.set)  # idle
    running.start()
    try:
        await asyncio.sleep(0.3)  # listening, and its first look (nothing yet) done
        storing.store_sync([pg_chat.incoming("alice", "/help")])

        def done() -> bool:
            with Session(app.engine) as session:
                return [r.status for r in session.exec(select(InboxMessage))] == ["done"]

        assert await wait_for(done), "run by the idle process well before its next look, a minute later"
        assert answered.is_set()
    finally:
        await running.stop()


async def test_answers_written_by_one_process_wake_the_outbox_of_the_others(pg_chat: Chat) -> None:
    app = pg_chat.app
    woken = asyncio.Event()
    writer = Inbox(app.engine, app.dispatcher)
    sender = Inbox(app.engine, app.dispatcher, on_answers=woken.set)
    sender.start()
    try:
        await asyncio.sleep(0.3)
        with session_scope(app.engine) as session:
            writer._notify(session, OUTBOX_CHANNEL)
            await asyncio.sleep(0.2)
            assert not woken.is_set(), "told at the commit, not before"
        assert await wait_for(woken.is_set)
        woken.clear()
        with session_scope(app.engine) as session:
            sender._notify(session, OUTBOX_CHANNEL)  # its own: it knows already
        await asyncio.sleep(0.3)
        assert not woken.is_set()
    finally:
        await sender.stop()


def test_sqlite_stores_without_notifying(sqlite_chat: Chat) -> None:
    inbox = Inbox(sqlite_chat.app.engine, sqlite_chat.app.dispatcher)
    assert inbox.store_sync([sqlite_chat.incoming("alice", "/help")]) == 1
    assert inbox.drain_sync() == 1
