"""Events created the way organisers type them: the space may end the line without "lieu" before it
(" … 12 places salle de réunion"), as long as it is a space's whole name."""

from __future__ import annotations

from tests.harness import Chat


def test_a_space_named_at_the_end_of_an_event_line_is_its_place(chat: Chat) -> None:
    answer = chat.text("coord", '/evenement ajouter "Atelier vélo" samedi 14h-17h 12 places salle de réunion')
    assert "Salle de réunion" in answer and "0/12" in answer
    answer = chat.text("coord", '/evenement ajouter "Compta" lundi 18h-19h la petite salle')
    assert "Petite salle" in answer


def test_words_that_only_start_like_a_space_are_not_taken_for_one(chat: Chat) -> None:
    answer = chat.text("coord", '/evenement ajouter "Apéro" vendredi 19h-22h salle')
    assert "Salle de réunion" not in answer and "Petite salle" not in answer
