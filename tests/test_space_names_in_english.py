"""Members who write in English name the French-named spaces in English: "the meeting room" is the Salle de
réunion, "the small room" the Petite salle, "the laser cutter" the Découpeuse laser. Now is Monday
23 November 2026, 10:00 in Paris (tests/harness.py)."""

from __future__ import annotations

import pytest

from tests.harness import Chat


@pytest.mark.parametrize(("typed", "space"), [
    ("/book meeting room next monday 10am to noon", "Salle de réunion"),
    ("/book the meeting room tomorrow 2-4pm", "Salle de réunion"),
    ("/book small room tomorrow 2-4pm", "Petite salle"),
    ("/book the kitchen tomorrow 9-11am", "Cuisine du café"),
    ("/book 3d printer friday 2-4pm", "Imprimante 3D"),
])
def test_a_space_named_in_english_is_booked(sqlite_chat: Chat, typed: str, space: str) -> None:
    answer = sqlite_chat.text("carol", typed, lang="en")
    assert answer.startswith(f"Booked: {space},"), answer


def test_the_english_name_of_a_space_is_read_whole_not_left_in_the_date(sqlite_chat: Chat) -> None:
    answer = sqlite_chat.text("carol", "/book laser cutter saturday 2-4pm", lang="en")
    assert "Découpeuse laser" in answer and "date" not in answer


def test_an_english_word_that_fits_two_spaces_books_neither(sqlite_chat: Chat) -> None:
    answer = sqlite_chat.text("carol", "/book room tomorrow 2-4pm", lang="en")
    assert not answer.startswith("Booked")
