"""Watching a taken slot (issue 16), through the chat on SQLite and PostgreSQL. Now is Monday 23 November
2026, 10:00 Paris; the slot watched is tomorrow, Tuesday 24 November, 14:00-16:00 Paris (13:00-15:00 UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from bot.core.outbox import reply_from_json
from bot.core.types import Reply
from storage.models import Booking, Member
from storage.models_watch import BookingWatch
from storage.privacy import forget_member
from tests.harness import Chat


def told(chat: Chat, who: str) -> list[Reply]:
    return [reply_from_json(row.payload) for row in chat.outbox()
            if row.chat_id == who and ("libre" in row.payload or "free again" in row.payload)]


def refused_then_watching(chat: Chat, who: str, lang: str | None = None) -> None:
    text = chat.text(who, "/book salle-reunion demain 14h-16h", lang=lang)
    assert text.startswith(("Je ne peux pas réserver", "I can't book")), text
    pressed = chat.press(who, "Prévenez-moi" if lang is None else "Tell me")
    assert "Je vous préviendrai en privé" in pressed[0].text or "I'll tell you privately" in pressed[0].text


def test_refused_member_watches_is_told_once_when_the_booker_cancels_and_the_first_to_press_gets_it(
        chat: Chat) -> None:
    assert chat.text("alice", "/book salle-reunion demain 14h-16h").startswith("Réservé")
    refused_then_watching(chat, "bob")
    refused_then_watching(chat, "carol", lang="en")
    assert "Vous guettez déjà" in chat.text("bob", "/guetter salle-reunion demain 14h-16h")
    assert told(chat, "bob") == [] and told(chat, "carol") == []

    assert chat.text("alice", "/annuler 1").startswith("Annulé")
    chat.app.jobs.run_now("booking-watch")
    [to_bob], [to_carol] = told(chat, "bob"), told(chat, "carol")
    assert "Salle de réunion est de nouveau libre" in to_bob.text and "14:00" in to_bob.text
    assert "is free again" in to_carol.text, "each watcher in their own language"
    assert [(a.label, a.command) for a in to_bob.actions] == [
        ("Réserver", "/book salle-reunion 2026-11-24 14:00-16:00")]

    assert chat.text("carol", to_carol.actions[0].command, is_action=True).startswith("Booked")
    assert chat.text("bob", to_bob.actions[0].command, is_action=True).startswith("Je ne peux pas réserver")
    chat.app.jobs.run_now("booking-watch")
    assert len(told(chat, "bob")) == 1, "told once"


def test_a_no_show_release_offers_the_rest_of_the_slot_to_the_watcher(chat: Chat) -> None:
    chat.say("coord", "/pointage salle-reunion 15")
    assert chat.text("alice", "/book salle-reunion demain 14h-16h").startswith("Réservé")
    refused_then_watching(chat, "bob")
    chat.clock.now = datetime(2026, 11, 24, 13, 16, tzinfo=UTC)  # 14:16 Paris: Alice never came
    chat.app.jobs.run_now("booking-no-show")
    [offer] = told(chat, "bob")
    assert offer.actions[0].command == "/book salle-reunion 2026-11-24 14:20-16:00"
    assert chat.text("bob", offer.actions[0].command, is_action=True).startswith("Réservé")
    with Session(chat.app.engine) as session:  # (PostgreSQL: Bob's refused try drew a number, not used)
        assert [b.status for b in session.exec(select(Booking).order_by(Booking.id))] == [  # type: ignore[arg-type]
            "cancelled", "active"]


def test_an_expired_watch_says_nothing(chat: Chat) -> None:
    assert chat.text("alice", "/book salle-reunion demain 14h-16h").startswith("Réservé")
    refused_then_watching(chat, "bob")
    chat.clock.now = datetime(2026, 11, 24, 13, 30, tzinfo=UTC)  # 14:30 Paris: the slot has begun
    assert chat.text("alice", "/annuler 1").startswith("Annulé")
    chat.app.jobs.run_now("booking-watch")
    assert told(chat, "bob") == []
    assert "déjà commencé" in chat.text("bob", "/guetter salle-reunion aujourd'hui 14h-16h")


def test_a_slot_freed_by_a_forgotten_member_reaches_the_watcher_and_forgetting_erases_watches(chat: Chat) -> None:
    assert chat.text("alice", "/book salle-reunion demain 14h-16h").startswith("Réservé")
    refused_then_watching(chat, "bob")
    refused_then_watching(chat, "carol")
    with Session(chat.app.engine) as session:
        members = {m.display_name: m.id for m in session.exec(select(Member))}
        forget_member(session, members["Alice"] or 0, chat.clock.now)  # her booking goes back
        forget_member(session, members["Carol"] or 0, chat.clock.now)
        session.commit()
        assert {w.member_id for w in session.exec(select(BookingWatch))} == {members["Bob"]}
    chat.app.jobs.run_now("booking-watch")
    assert len(told(chat, "bob")) == 1 and told(chat, "carol") == []


def test_only_a_full_slot_offers_watching(chat: Chat) -> None:
    chat.say("bob", "/book salle-reunion demain 23h-23h30")
    assert not any(a.label.startswith("Prévenez-moi") for a in chat.last_actions["bob"])
    assert "libre pour" in chat.text("bob", "/guetter salle-reunion demain 14h-16h")


def test_a_member_watches_five_slots_at_most(chat: Chat) -> None:
    for hour in range(9, 14):
        assert chat.text("coord", f"/book salle-reunion demain {hour}h-{hour + 1}h").startswith("Réservé")
        assert "préviendrai" in chat.text("bob", f"/watch salle-reunion demain {hour}h-{hour + 1}h")
    assert chat.text("coord", "/book salle-reunion demain 16h-17h").startswith("Réservé")
    assert "You already watch 5 slots; that is the most." in chat.text(
        "bob", "/watch salle-reunion tomorrow 16:00-17:00", lang="en")
