"""The last place never goes to two people: 20 members press Join at once, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

from sqlalchemy import Engine
from sqlmodel import Session, func, select

from storage.models_events import EventSignup
from tests.harness import Chat, make_chat
from tests.test_concurrency import RACERS, race

ROUNDS = 3


def confirmed(engine: Engine, occurrence_id: int) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(EventSignup).where(
            EventSignup.occurrence_id == occurrence_id, EventSignup.status == "confirmed")).one()


def test_last_place_goes_to_exactly_one_of_twenty_concurrent_joiners(database_url: str) -> None:
    chat = make_chat(database_url)
    try:
        for n in range(RACERS):  # members exist beforehand, so the race is only about the place
            chat.say(f"racer{n}", "/start")
        for round_ in range(ROUNDS):
            occurrence_id = round_ + 1
            chat.say("coord", f'/event add "Atelier {round_}" 12/12 {9 + round_}h-{10 + round_}h places 3')
            chat.say("early-a", f"/join {occurrence_id}")
            chat.say("early-b", f"/join {occurrence_id}")  # one place left
            answers = race(chat, f"/join {occurrence_id}", RACERS)
            signed = [a for a in answers if "Vous êtes inscrit·e à" in a]
            waiting = [a for a in answers if "C'est complet : vous êtes sur la liste d'attente" in a]
            assert len(signed) == 1, answers
            assert len(waiting) == RACERS - 1, [a for a in answers if a not in signed + waiting]
            assert confirmed(chat.app.engine, occurrence_id) == 3
            positions = sorted(int(a.split("en position ")[1].split(".")[0]) for a in waiting)
            assert positions == list(range(1, RACERS))  # a strict waiting order, no duplicates
    finally:
        chat.app.engine.dispose()


def test_racing_to_join_twice_signs_up_once(database_url: str) -> None:
    chat = make_chat(database_url)
    try:
        chat.say("coord", '/event add "Concert" 12/12 20h-23h seats 80')
        chat.say("same", "/start")
        answers = race_same_member(chat, 10)
        assert sum("Vous êtes inscrit·e à" in a for a in answers) == 1, answers
        assert sum("Vous êtes déjà inscrit·e." in a for a in answers) == 9, answers
        assert confirmed(chat.app.engine, 1) == 1
    finally:
        chat.app.engine.dispose()


def race_same_member(chat: Chat, racers: int) -> list[str]:
    barrier = threading.Barrier(racers)
    answers = [""] * racers

    def join(n: int) -> None:
        barrier.wait()
        answers[n] = chat.text("same", "/join 1")

    threads = [threading.Thread(target=join, args=(n,)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers
