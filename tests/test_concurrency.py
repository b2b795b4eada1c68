"""No double booking, ever: racers for the last seat get exactly one success and clean refusals."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import date, timedelta
from pathlib import Path

from sqlmodel import Session, func, select

from storage.models import Booking
from tests.harness import Chat, make_chat

RACERS = 20
ROUNDS = 5


def race(chat: Chat, command: str, racers: int) -> list[str]:
    barrier = threading.Barrier(racers)
    answers: list[str] = [""] * racers

    def book(n: int) -> None:
        barrier.wait()
        answers[n] = chat.text(f"racer{n}", command)

    threads = [threading.Thread(target=book, args=(n,)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def active_bookings(chat: Chat) -> int:
    with Session(chat.app.engine) as session:
        return session.exec(select(func.count()).select_from(Booking).where(Booking.status == "active")).one()


def test_last_seat_goes_to_exactly_one_of_twenty_concurrent_bookers(database_url: str) -> None:
    chat = make_chat(database_url)
    for members in range(RACERS):  # members exist beforehand, so the race is only about the seat
        chat.say(f"racer{members}", "/start")
    try:
        for round_ in range(ROUNDS):
            hour = 9 + round_
            answers = race(chat, f"/book salle-reunion demain {hour}h-{hour + 1}h", RACERS)
            successes = [a for a in answers if a.startswith("Réservé")]
            refusals = [a for a in answers if "c'est déjà complet" in a]
            assert len(successes) == 1, answers
            assert len(refusals) == RACERS - 1, [a for a in answers if a not in successes + refusals]
            assert active_bookings(chat) == round_ + 1
    finally:
        chat.app.engine.dispose()


def test_open_space_never_takes_more_bookers_than_desks_under_a_race(database_url: str) -> None:
    chat = make_chat(database_url)
    try:
        answers = race(chat, "/book open-space demain 9h-12h", RACERS)
        assert sum(a.startswith("Réservé") for a in answers) == 8
        assert sum("complet" in a for a in answers) == RACERS - 8
    finally:
        chat.app.engine.dispose()


def next_weekday_in(days: int, weekday: int) -> date:
    day = date.today() + timedelta(days=days)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def test_separate_chat_processes_on_one_sqlite_file_book_the_last_seat_once(tmp_path: Path) -> None:
    database = tmp_path / "shared.db"
    make_chat(f"sqlite:///{database}").app.engine.dispose()  # migrate and seed once
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "LANGUAGE": "fr"}
    slot = next_weekday_in(10, 1).isoformat()  # a Tuesday, well within the booking horizon
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "chat", "--user", f"proc{n}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            cwd=tmp_path,
        )
        for n in range(6)
    ]
    for process in processes:
        assert process.stdin is not None
        process.stdin.write(f"/book salle-reunion {slot} 10h-11h\n")
        process.stdin.close()
    outputs = [(p.stdout.read() if p.stdout else "", p.wait(timeout=120)) for p in processes]
    assert [code for _, code in outputs] == [0] * 6, [p.stderr.read() if p.stderr else "" for p in processes]
    assert sum(out.startswith("Réservé") for out, _ in outputs) == 1, outputs
    assert sum("c'est déjà complet" in out for out, _ in outputs) == 5, outputs
