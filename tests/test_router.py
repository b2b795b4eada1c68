"""Whatever people type, the bot answers briefly in their language and changes nothing it shouldn't."""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, func, select

from bot.core.dispatch import clean_text
from storage.models import Booking
from tests.harness import Chat


def booking_count(chat: Chat) -> int:
    with Session(chat.app.engine) as session:
        return session.exec(select(func.count()).select_from(Booking)).one()


@pytest.mark.parametrize(("text", "expected"), [
    ("/frobnicate", "Je ne connais pas /frobnicate. Tapez /aide"),
    ("/reserve salle-reunion demain 9h-10h", "Vouliez-vous dire /reserver"),
    ("/book", "Quel espace, et quand ?\nUtilisation : /reserver <espace> <quand>"),
    ("/book salle-reunion", "Pour quand voulez-vous Salle de réunion ?\nExemple : /book salle-reunion demain 14h-16h"),
    ("/book salle-reunion 31 février 10h-12h", "Cette date n'existe pas."),
    ("/book salle-reunion demain 16h-14h", "L'heure de fin est avant l'heure de début."),
    ("/book salle-reunion demain 14h", "Donnez une heure de fin ou une durée."),
    ("/book salle-reunion demain 0h-24h", "dure 4h au plus"),
    ("/cancel abc", "Quelle réservation ? Donnez son numéro"),
    ("/cancel 99999999999999999999", "Quelle réservation ? Donnez son numéro"),
    ("/lang klingon", "Quelle langue ? Je parle : fr, en."),
    ("/cancel ²", "Quelle réservation ? Donnez son numéro"),
    ("/leave ³", "numéro"),
    ("/snooze ² 10", "Quel rappel"),
    ("/book salle-reunion\x00\x07 demain\u200b 9h-10h", "Réservé"),
])
def test_bad_input_gets_a_short_answer_with_an_example(sqlite_chat: Chat, text: str, expected: str) -> None:
    answer = sqlite_chat.text("alice", text)
    assert expected in answer
    assert "Traceback" not in answer and len(answer) < 600


def test_huge_message_is_refused_without_reading_it(sqlite_chat: Chat) -> None:
    answer = sqlite_chat.text("alice", "/book salle-reunion demain 9h-10h " + "x" * 100_000)
    assert answer.startswith("Ce message est trop long pour moi (100") and "caractères)" in answer
    assert booking_count(sqlite_chat) == 0


def test_plain_text_in_a_group_is_ignored_and_in_private_gets_a_hint(sqlite_chat: Chat) -> None:
    assert sqlite_chat.say("alice", "bonjour tout le monde", group="g1") == []
    assert "/aide" in sqlite_chat.text("alice", "bonjour")


def test_a_crash_inside_a_handler_is_logged_and_answered_with_an_apology(
    sqlite_chat: Chat, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import handlers.bookings as bookings

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(bookings, "create_booking", explode)
    with caplog.at_level(logging.ERROR):
        answer = sqlite_chat.text("alice", "/book salle-reunion demain 9h-10h")
    assert answer == "Désolé, un problème est survenu de mon côté. Rien n'a été modifié ; réessayez dans un instant."
    assert "command /book failed for console:alice" in caplog.text and "disk on fire" in caplog.text
    assert booking_count(sqlite_chat) == 0


commands = st.sampled_from(["/book ", "/reserver ", "!book ", "/free ", "/cancel ", "/space ", "/grant ",
                            "/lang ", "/mybookings ", "/help ", "/", "!", ""])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commands, st.text(max_size=120))
def test_router_never_raises_and_always_answers_a_command(sqlite_chat: Chat, command: str, rest: str) -> None:
    text = command + rest
    replies = sqlite_chat.say("fuzzer", text)
    if clean_text(text).strip():
        assert len(replies) >= 1, "a private message always gets an answer"
    for reply in replies:
        assert reply.text and "Traceback" not in reply.text
