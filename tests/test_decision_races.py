"""Votes under a race: twenty members voting at once are each counted once; one member pressing two
choices at once (two phones) keeps exactly one in a single-choice poll; a vote racing the close is either
counted in the result or refused, never lost from a result already announced."""

from __future__ import annotations

import threading
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from storage import decisions as store
from tests.harness import Chat, make_chat

RACERS = 20


def race(calls: list[Callable[[], str]]) -> list[str]:
    barrier = threading.Barrier(len(calls))
    answers = [""] * len(calls)

    def run(n: int) -> None:
        barrier.wait()
        answers[n] = calls[n]()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def tally(chat: Chat, number: int) -> tuple[int, list[int]]:
    with Session(chat.app.engine) as session:
        counted = store.tally_of(session, number)
        rows = store.votes_of(session, number)
        assert len({(v.member_id, v.option_id) for v in rows}) == len(rows)
        return counted.voters, [counted.yes(o.id or 0) for o in store.options_of(session, number)]


def test_twenty_members_voting_at_once_are_each_counted_once(database_url: str) -> None:
    chat = make_chat(database_url)
    try:
        for n in range(RACERS):
            chat.say(f"racer{n}", "/start")
        chat.say("alice", '/sondage "Pizza ou crêpes ?" "Pizza" "Crêpes"')
        answers = race([lambda n=n: chat.text(f"racer{n}", f"/voter 1 {1 + n % 2}") for n in range(RACERS)])
        assert all("Votre vote au n° 1" in a for a in answers), answers
        assert tally(chat, 1) == (RACERS, [RACERS // 2, RACERS // 2])
    finally:
        chat.app.engine.dispose()


def test_one_member_pressing_two_choices_at_once_keeps_one(database_url: str) -> None:
    chat = make_chat(database_url)
    try:
        chat.say("alice", '/sondage "Pizza ou crêpes ?" "Pizza" "Crêpes"')
        for round_ in range(5):
            race([lambda: chat.text("bob", "/voter 1 1"), lambda: chat.text("bob", "/voter 1 2")])
            voters, counts = tally(chat, 1)
            assert voters == 1 and sum(counts) == 1, (round_, counts)
    finally:
        chat.app.engine.dispose()


def test_a_vote_racing_the_close_is_in_the_result_or_refused(database_url: str) -> None:
    chat = make_chat(database_url)
    try:
        chat.say("bob", "/start")
        chat.say("alice", '/sondage "Pizza ou crêpes ?" "Pizza" "Crêpes"')
        closed, voted = race([lambda: chat.text("alice", "/sondage fermer 1"), lambda: chat.text("bob", "/voter 1 1")])
        if "Votre vote" in voted:
            assert "Pizza: 1" in closed
        else:
            assert "est clos" in voted and "Pizza: 0" in closed
    finally:
        chat.app.engine.dispose()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chosen=st.sets(st.integers(1, 5), min_size=1), separator=st.sampled_from([" ", ", ", " ; ", ",", "  "]),
       order=st.randoms(use_true_random=False))
def test_any_choices_typed_in_any_order_are_exactly_the_ones_counted(
        sqlite_chat: Chat, chosen: set[int], separator: str, order: object) -> None:
    chat = sqlite_chat
    with Session(chat.app.engine) as session:
        numbers = [d.id for d in store.open_decisions(session)]
    if not numbers:
        chat.say("alice", '/sondage "Quels ateliers ?" "Vélo" "Couture" "Bois" "Code" "Cuisine" plusieurs')
        numbers = [1]
    typed = [str(n) for n in sorted(chosen)]
    order.shuffle(typed)  # type: ignore[attr-defined]
    answer = chat.text("bob", f"/voter {numbers[0]} {separator.join(typed)}")
    assert "Votre vote au n° 1" in answer, answer
    voters, counts = tally(chat, 1)
    assert voters == 1 and [i + 1 for i, c in enumerate(counts) if c] == sorted(chosen)
