"""A year of more than 30 decisions: the chat shows the last 30 and says where the rest is; the Markdown
export has them all."""

from __future__ import annotations

from tests.harness import Chat


def test_the_chat_shows_the_last_30_decisions_and_the_export_all_of_them(sqlite_chat: Chat) -> None:
    for k in range(1, 32):
        sqlite_chat.say("coord", f'/poll "Question {k}" "Oui" "Non"')
        sqlite_chat.say("coord", f"/poll close {k}")
    shown = sqlite_chat.text("coord", "/decisions")
    assert shown.splitlines()[1] == "Les 30 dernières ; toute l'année avec /decisions 2026 markdown."
    assert "Sondage n° 1 —" not in shown and "Sondage n° 2 —" in shown and "Sondage n° 31 —" in shown
    assert shown.count("• ") == 30
    exported = sqlite_chat.text("coord", "/decisions 2026 markdown")
    assert exported.count("| lundi 23 novembre |") == 31
