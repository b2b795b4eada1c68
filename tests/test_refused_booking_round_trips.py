"""A refused /book: the free slots it suggests in the space and the similar spaces free at the asked time,
read together (issue 15: on PostgreSQL one round trip, as the booked path's reads). Now is Monday 23 November
2026, 10:00 Paris; "demain" is Tuesday 24 November. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.harness import Chat, make_chat
from tests.round_trips import RoundTripCounter

FULL = ("Je ne peux pas réserver Salle de réunion pour mardi 24 novembre, 15:00–16:00 : "
        "c'est déjà complet à ce moment-là.")


def _meeting_rooms(chat: Chat, letters: str) -> None:
    for letter in letters:
        added = chat.text("coord", f'/space add salle-{letter} "Salle {letter.upper()}" kind=meeting_room capacity=1')
        assert "salle-" + letter in added, added


def _refused_answer(chat: Chat) -> list[str]:
    chat.say("alice", "/book salle-reunion demain 14h-16h")
    chat.say("carol", "/book salle-reunion demain 16h-17h")
    [reply] = chat.say("bob", "/book salle-reunion demain 15h-16h")
    return reply.text.splitlines()


def test_a_refused_booking_suggests_the_nearest_free_slots_and_the_free_similar_spaces(chat: Chat) -> None:
    _meeting_rooms(chat, "ab")
    chat.say("dave", "/book petite-salle demain 15h-16h")  # a similar space taken then: not offered
    assert _refused_answer(chat) == [
        FULL,
        "Libre dans Salle de réunion :",
        "• mardi 24 novembre, 12:30–13:30",
        "• mardi 24 novembre, 13:00–14:00",
        "• mardi 24 novembre, 17:00–18:00",
        "Libre à ce moment-là : Salle A (salle-a), Salle B (salle-b)",
    ]


def test_the_similar_spaces_past_the_first_look_are_read_when_the_first_are_taken(chat: Chat) -> None:
    _meeting_rooms(chat, "abcdefg")  # with the small room, eight similar spaces: six at the first look
    for n, slug in enumerate(["petite-salle", "salle-a", "salle-b", "salle-c", "salle-d", "salle-e"]):
        assert chat.text(f"m{n}", f"/book {slug} demain 15h-16h").startswith("Réservé"), slug
    assert _refused_answer(chat)[-1] == "Libre à ce moment-là : Salle F (salle-f), Salle G (salle-g)"


def test_only_three_similar_spaces_are_offered_in_their_order(chat: Chat) -> None:
    _meeting_rooms(chat, "abcdefg")
    chat.say("dave", "/book salle-a demain 15h-16h")
    assert _refused_answer(chat)[-1] == "Libre à ce moment-là : Petite salle (petite-salle), Salle B (salle-b), " \
                                        "Salle C (salle-c)"


def test_an_event_fills_a_space_of_several_places_for_the_suggestions_and_the_similar_spaces(chat: Chat) -> None:
    assert "coin-calme" in chat.text("coord", '/space add coin-calme "Coin calme" kind=desk capacity=4')
    for slug in ("open-space", "coin-calme"):  # an event takes the whole space, whatever its places
        assert "Atelier" in chat.text("coord", f'/event add "Atelier" demain 16h-17h lieu {slug}')
    for n in range(8):
        assert chat.text(f"m{n}", "/book open-space demain 15h-16h").startswith("Réservé"), n
    lines = chat.text("bob", "/book open-space demain 16h-17h").splitlines()
    assert lines[0].startswith("Je ne peux pas réserver Open space coworking pour mardi 24 novembre, 16:00–17:00")
    assert lines[1:] == [
        "Libre dans Open space coworking :",
        "• mardi 24 novembre, 14:00–15:00",
        "• mardi 24 novembre, 17:00–18:00",
        "• mardi 24 novembre, 17:30–18:30",
    ]
    assert not any(line.startswith("Libre à ce moment-là") for line in lines), "the event fills Coin calme too"
    assert "Libre à ce moment-là : Coin calme (coin-calme)" in chat.text("bob", "/book open-space demain 15h-16h")


@pytest.mark.postgres
def test_a_refused_booking_reads_its_alternatives_in_one_round_trip(postgres_url: str) -> None:
    with RoundTripCounter(postgres_url) as counter:
        chat = make_chat(counter.url, COMMANDS_PER_MINUTE="10000")
        try:
            _meeting_rooms(chat, "ab")
            chat.say("alice", "/book salle-reunion demain 14h-16h")
            chat.say("carol", "/book salle-reunion demain 16h-17h")
            chat.say("bob", "/book salle-reunion 2026-12-01 9h-10h")  # bob is known, his connection warm
            before = counter.trips
            [reply] = chat.say("bob", "/book salle-reunion demain 15h-16h")
            trips = counter.trips - before
        finally:
            chat.app.engine.dispose()
    assert reply.text.splitlines()[1:] == [
        "Libre dans Salle de réunion :",
        "• mardi 24 novembre, 12:30–13:30",
        "• mardi 24 novembre, 13:00–14:00",
        "• mardi 24 novembre, 17:00–18:00",
        "Libre à ce moment-là : Petite salle (petite-salle), Salle A (salle-a), Salle B (salle-b)",
    ]
    # BEGIN with the asker, the lock with the read, the space's occupancy with the first look at the similar
    # spaces, the COMMIT (with the offered buttons' write): one more than a booking, not two
    assert trips <= 4, trips
