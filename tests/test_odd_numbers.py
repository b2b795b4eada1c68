"""Numbers typed the way phones can produce them (superscripts, circled digits, far too many digits) get the
command's own answer, never an apology from an int() or an SQLite overflow."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness import make_chat

APOLOGY = "problème"  # "Désolé, un problème est survenu…"

ODD = [
    "/start join-99999999999999999999999",
    "/start join-²",
    "/habiliter ² laser",
    "/habiliter 99999999999999999999 laser",
    "/pointage salle-reunion ²",
    "/annuler 99999999999999999999",
    "/inscrire ²",
    "/dispo ⓵",
    "/reserver salle-reunion demain ⓵h-⓶h",
]


@pytest.mark.parametrize("text", ODD)
def test_odd_digits_get_an_answer_not_an_apology(tmp_path: Path, text: str) -> None:
    chat = make_chat(f"sqlite:///{tmp_path / 'odd.db'}", COORDINATORS="console:boss")
    answer = chat.text("boss", text)
    chat.app.engine.dispose()
    assert answer.strip()
    assert APOLOGY not in answer
