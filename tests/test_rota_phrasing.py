"""Rota lines as coordinators write them: 'tous les samedis 9h-10h', 'du lundi au vendredi 18h-19h',
'lundi, mercredi et vendredi de 14h à 16h30', 'every saturday 9 to 10am' (not only 'sam 09:00-10:00')."""

from __future__ import annotations

from datetime import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.volunteer_rules import RotaFormatError, split_time_range, split_weekdays
from tests.harness import Chat

MON_FRI = (0, 1, 2, 3, 4)


@pytest.mark.parametrize(("text", "days", "rest"), [
    ("lun-ven 08:30-09:30 1", MON_FRI, "08:30-09:30 1"),
    ("sam 9h-10h", (5,), "9h-10h"),
    ("samedi 9h30-10h", (5,), "9h30-10h"),
    ("tous les samedis 9h-10h", (5,), "9h-10h"),
    ("le mardi de 9h à 10h 2", (1,), "de 9h à 10h 2"),
    ("du lundi au vendredi 18h-19h", MON_FRI, "18h-19h"),
    ("lundi, mercredi et vendredi 14h à 16h30", (0, 2, 4), "14h à 16h30"),
    ("en semaine 8h30-9h", MON_FRI, "8h30-9h"),
    ("tous les jours 9h-10h", tuple(range(7)), "9h-10h"),
    ("tous 9h-10h", tuple(range(7)), "9h-10h"),
    ("every saturday 9 to 10am", (5,), "9 to 10am"),
    ("every day 9-10am", tuple(range(7)), "9-10am"),
    ("weekdays 5 to 6pm 2", MON_FRI, "5 to 6pm 2"),
    ("sam-lun 10h-11h", (0, 5, 6), "10h-11h"),
])
def test_weekdays_are_read_as_people_write_them(text: str, days: tuple[int, ...], rest: str) -> None:
    assert split_weekdays(text) == (days, rest)


@pytest.mark.parametrize(("text", "hours", "rest"), [
    ("08:30-09:30 1", (time(8, 30), time(9, 30)), "1"),
    ("9h30 - 10h", (time(9, 30), time(10)), ""),
    ("de 9h à 10h 2", (time(9), time(10)), "2"),
    ("14h à 16h30", (time(14), time(16, 30)), ""),
    ("9 to 10am", (time(9), time(10)), ""),
    ("5 to 6pm 2", (time(17), time(18)), "2"),
])
def test_hours_are_read_as_people_write_them(text: str, hours: tuple[time, time], rest: str) -> None:
    assert split_time_range(text) == (hours, rest)


@pytest.mark.parametrize("text", ["ménage 9h-10h", "9h-10h", "", "du lundi au 9h-10h"])
def test_a_line_without_days_is_refused_not_guessed(text: str) -> None:
    with pytest.raises(RotaFormatError):
        split_weekdays(text)


@given(st.text(max_size=60))
def test_reading_days_and_hours_never_fails_otherwise_and_never_invents_a_range(text: str) -> None:
    try:
        days, rest = split_weekdays(text)
        assert days and all(0 <= d <= 6 for d in days) and len(rest) <= len(text)
    except RotaFormatError:
        pass
    try:
        (start, end), _rest = split_time_range(text)
        assert start < end
    except RotaFormatError:
        pass


def test_a_coordinator_adds_a_rota_line_in_their_own_words(chat: Chat) -> None:
    answer = chat.text("coord", "/permanences ajouter accueil lundi, mercredi et vendredi de 14h à 16h30 2")
    assert "lun., mer., ven. 14:00–16:30, 2 personnes" in answer
