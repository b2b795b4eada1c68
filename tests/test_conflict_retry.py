"""Two transactions that meet (PostgreSQL breaks a deadlock by failing one of them): the failed command is
run again, once, as if nothing had happened, never answered "something went wrong" and never lost."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg.errors
import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

import handlers.bookings
from storage.conflicts import is_retryable_conflict
from storage.models import Booking
from tests.harness import Chat
from tests.test_inbox import answers, said

REAL_CREATE = handlers.bookings.create_booking


def deadlock() -> OperationalError:
    """What SQLAlchemy raises when PostgreSQL chose this transaction to break a deadlock."""
    return OperationalError("SELECT ... FOR UPDATE", {}, psycopg.errors.DeadlockDetected("deadlock detected"))


def fails_first(times: int, real: Callable[..., Any]) -> Callable[..., Any]:
    left = [times]

    def call(*args: Any, **kwargs: Any) -> Any:
        if left[0]:
            left[0] -= 1
            raise deadlock()
        return real(*args, **kwargs)
    return call


def active_bookings(chat: Chat) -> int:
    with Session(chat.app.engine) as session:
        return len(session.exec(select(Booking).where(Booking.status == "active")).all())


def test_a_deadlock_or_serialization_failure_is_recognised_but_not_other_errors() -> None:
    assert is_retryable_conflict(deadlock())
    assert is_retryable_conflict(OperationalError("x", {}, psycopg.errors.SerializationFailure("x")))
    try:
        try:
            raise deadlock()
        except OperationalError as inner:
            raise RuntimeError("while booking") from inner
    except RuntimeError as outer:
        assert is_retryable_conflict(outer)
    assert not is_retryable_conflict(OperationalError("x", {}, psycopg.errors.UniqueViolation("dup")))
    assert not is_retryable_conflict(ValueError("deadlock"))


def test_a_booking_that_met_a_deadlock_is_made_once_and_answered(chat: Chat, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handlers.bookings, "create_booking", fails_first(2, handlers.bookings.create_booking))
    text = chat.text("alice", "/book salle-reunion demain 14h-16h")
    assert text.startswith("Réservé"), text
    assert active_bookings(chat) == 1


def test_a_booking_from_the_inbox_that_met_a_deadlock_runs_again_and_is_answered_once(
        chat: Chat, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handlers.bookings, "create_booking", fails_first(1, handlers.bookings.create_booking))
    inbox = chat.app.inbox
    assert inbox.store_sync([said("alice", "/book salle-reunion demain 14h-16h", 1)]) == 1
    assert inbox.drain_sync() == 1
    texts = [payload["text"] for _, payload in answers(chat)]
    assert len(texts) == 1 and str(texts[0]).startswith("Réservé"), texts
    assert active_bookings(chat) == 1


def test_a_deadlock_that_keeps_coming_back_is_not_answered_as_done(chat: Chat, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the retries, the error stands: the inbox keeps the row for later rather than dropping it."""
    monkeypatch.setattr(handlers.bookings, "create_booking", fails_first(100, handlers.bookings.create_booking))
    inbox = chat.app.inbox
    inbox.store_sync([said("alice", "/book salle-reunion demain 14h-16h", 1)])
    with pytest.raises(OperationalError):
        inbox.drain_sync()
    assert answers(chat) == [] and active_bookings(chat) == 0
    monkeypatch.setattr(handlers.bookings, "create_booking", REAL_CREATE)  # the other transaction is gone
    assert inbox.drain_sync() == 1
    assert active_bookings(chat) == 1
