"""One member cannot fill the reminder queue or a space's calendar: a friendly refusal past the limit,
which coordinators can raise by setting and which does not apply to coordinators themselves."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings
from tests.harness import Chat, with_settings


def test_a_member_past_the_pending_reminders_limit_is_asked_to_cancel_one_first(chat: Chat) -> None:
    with_settings(chat, max_pending_reminders=3)
    for n in range(3):
        assert chat.text("alice", f"/rappel demain 9h appeler la mairie {n}").startswith("Je vous le rappellerai")
    refusal = chat.text("alice", "/rappel demain 10h arroser les plantes")
    assert "Vous avez déjà 3 rappels en attente" in refusal and "/reminders" in refusal
    assert chat.text("bruno", "/rappel demain 9h appeler Alice").startswith("Je vous le rappellerai")
    assert chat.text("coord", "/rappel demain 9h a").startswith("Je vous le rappellerai")


def test_a_member_past_the_future_bookings_limit_of_a_space_is_refused_there_only(chat: Chat) -> None:
    with_settings(chat, max_future_bookings_per_space=2)
    assert chat.text("alice", "/book salle-reunion demain 9h-10h").startswith("Réservé")
    assert chat.text("alice", "/book salle-reunion demain 11h-12h").startswith("Réservé")
    refusal = chat.text("alice", "/book salle-reunion demain 14h-15h")
    assert "Vous avez déjà 2 réservations à venir pour Salle de réunion" in refusal
    assert chat.text("alice", "/book petite-salle demain 14h-15h").startswith("Réservé")  # another space
    assert chat.text("coord", "/book salle-reunion demain 16h-17h").startswith("Réservé")
    assert chat.text("alice", "/cancel 1").startswith("Annul")
    assert chat.text("alice", "/book salle-reunion demain 14h-15h").startswith("Réservé")


def test_limits_are_settings_checked_at_start() -> None:
    settings = load_settings({"COMMANDS_PER_MINUTE": "120", "MAX_PENDING_REMINDERS": "1000",
                              "MAX_FUTURE_BOOKINGS_PER_SPACE": "500"})
    assert (settings.commands_per_minute, settings.max_pending_reminders,
            settings.max_future_bookings_per_space) == (120, 1000, 500)
    with pytest.raises(ConfigError, match=r"^MAX_PENDING_REMINDERS: '0' should be a whole number from 1"):
        load_settings({"MAX_PENDING_REMINDERS": "0"})
