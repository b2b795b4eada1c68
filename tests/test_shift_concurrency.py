"""The last place on a shift never goes to two people: twenty volunteers pressing "I'll take it" at once."""

from __future__ import annotations

from sqlmodel import Session, func, select

from storage.models_volunteers import ShiftSignup
from tests.harness import Chat, make_chat
from tests.test_concurrency import RACERS, race


def taken(chat: Chat, shift_id: int) -> int:
    with Session(chat.app.engine) as session:
        return session.exec(select(func.count()).select_from(ShiftSignup).where(ShiftSignup.shift_id == shift_id)).one()


def test_the_last_place_on_a_shift_goes_to_exactly_one_of_twenty(database_url: str) -> None:
    chat = make_chat(database_url)
    try:
        for n in range(RACERS):  # members exist beforehand, so the race is only about the place
            chat.say(f"racer{n}", "/start")
        for round_ in range(1, 4):
            chat.say("coord", f'/need "Ouvrir" jeudi {8 + round_}h-{9 + round_}h 1')
            answers = race(chat, f"/take {round_}", RACERS)
            assert sum(a.startswith("C'est noté") for a in answers) == 1, answers
            assert sum("déjà complet" in a for a in answers) == RACERS - 1, answers
            assert taken(chat, round_) == 1
    finally:
        chat.app.engine.dispose()


def test_a_shift_for_three_never_takes_a_fourth_under_a_race(database_url: str) -> None:
    chat = make_chat(database_url)
    try:
        chat.say("coord", '/need "Tenir le bar" samedi 18h-22h 3')
        answers = race(chat, "/prendre 1", RACERS)
        assert sum(a.startswith("C'est noté") for a in answers) == 3, answers
        assert sum("déjà complet" in a for a in answers) == RACERS - 3
        assert taken(chat, 1) == 3
    finally:
        chat.app.engine.dispose()
