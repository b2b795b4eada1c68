"""A mistyped or shortened command is answered with the command it most likely meant (never run)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.router import nearest_command
from tests.harness import Chat

NAMES = ("aide", "help", "mesheures", "mesreservations", "mybookings", "reserver", "book", "libre", "free",
         "rappels", "annuler", "benevolat", "evenements", "mesdonnees", "lang")


@pytest.mark.parametrize(("typed", "meant"), [
    ("mesresas", "mesreservations"),  # how "mes réservations" is shortened on a phone
    ("mesresa", "mesreservations"),
    ("mesrés", "mesreservations"),
    ("mesres", "mesreservations"),
    ("mesheure", "mesheures"),
    ("reserve", "reserver"),
    ("annul", "annuler"),
    ("rappel", "rappels"),
    ("bénévolat", "benevolat"),
    ("Evenement", "evenements"),
    ("mesdonees", "mesdonnees"),
    ("hlp", "help"),
])
def test_a_shortened_or_misspelled_command_is_recognised(typed: str, meant: str) -> None:
    assert nearest_command(typed, NAMES) == meant


@pytest.mark.parametrize("typed", ["frobnicate", "x", "zz", "qwerty"])
def test_nothing_is_suggested_for_what_looks_like_no_command(typed: str) -> None:
    assert nearest_command(typed, NAMES) is None


@given(st.text(max_size=30))
def test_a_suggestion_is_always_one_of_the_commands(typed: str) -> None:
    found = nearest_command(typed, NAMES)
    assert found is None or found in NAMES


def test_a_member_typing_mesresas_is_pointed_to_their_bookings(sqlite_chat: Chat) -> None:
    answer = sqlite_chat.text("alice", "/mesresas")
    assert answer == "Je ne connais pas /mesresas. Vouliez-vous dire /mesreservations ? Tapez /aide pour la liste."
