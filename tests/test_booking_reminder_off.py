"""/rappels reservation off also stops the booking reminders already scheduled (checked when they are due)."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.harness import Chat


def test_reminders_off_stops_a_booking_reminder_already_scheduled(chat: Chat) -> None:
    chat.say("alice", "/book salle-reunion demain 14h-16h")
    chat.say("bob", "/book petite-salle demain 14h-16h")
    chat.say("alice", "/rappels reservation off")
    chat.clock.now = datetime(2026, 11, 24, 12, 30, tzinfo=UTC)  # 13:30 in Paris, both reminders due
    assert chat.app.jobs.run_now("send-reminders") == 1  # Bob's only
    texts = [m.payload for m in chat.outbox()]
    assert sum("Petite salle" in text for text in texts) == 1, "Bob's reminder still comes"
    assert not any("Salle de réunion" in text for text in texts), "Alice said off"
