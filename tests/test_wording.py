"""French agreement and plurals in messages that name a count or a space (issue 14)."""

from __future__ import annotations

from bot.core.outbox import reply_from_json
from bot.core.types import Platform
from tests.harness import Chat
from tests.test_announcements import RecordingPlatform, subscribe_groups


async def test_an_announcement_delivered_to_one_chat_says_so_in_the_singular(sqlite_chat: Chat) -> None:
    subscribe_groups(sqlite_chat, 1)
    sqlite_chat.say("coord", "/announce Fermeture exceptionnelle samedi")
    sqlite_chat.say("coord", "/announce send 1")
    sqlite_chat.app.outbox.register(RecordingPlatform(Platform.CONSOLE))
    await sqlite_chat.app.outbox.flush()
    assert sqlite_chat.app.jobs.run_now("announcement-reports") == 1
    report = reply_from_json(sqlite_chat.outbox()[-1].payload).text
    assert report == "Annonce n° 1 : distribuée à 1 conversation sur 1."


def test_a_space_closed_or_updated_agrees_whatever_its_name(chat: Chat) -> None:
    assert chat.text("coord", "/espace fermer petite-salle").startswith("L'espace Petite salle est fermé")
    assert chat.text("coord", "/espace ouvrir petite-salle").startswith(
        "L'espace Petite salle est de nouveau ouvert")
