"""A kept /free answer is remade only for the spaces whose free hours changed since (issue 15); whatever the order
of bookings, cancellations and looks, by this process or another, its answer is word for word the one a process
with nothing kept gives at that moment."""

from __future__ import annotations

import random

from sqlalchemy import text

from storage.availability import _caches
from tests.harness import Chat, make_chat

SPACES = ("salle-reunion", "petite-salle", "open-space", "imprimante-3d", "cuisine")
LOOKS = ("/dispo demain", "/dispo demain 14h-15h", "/dispo demain 10h-11h", "/dispo jeudi", "/dispo demain aprem",
         "/free tomorrow", "/dispo aujourd'hui", "/dispo demain matin")
MEMBERS = ("alice", "bob", "carol", "dede")


def _cold(checker: Chat, looker: str, said: str) -> str:
    """The answer of a process that keeps nothing: its cache of free hours dropped before each look."""
    _caches.pop(checker.app.engine, None)
    return checker.text(looker, said)


def _book_or_cancel(rng: random.Random, writer: Chat) -> None:
    if rng.random() < 0.3:
        with writer.app.engine.connect() as connection:
            ids = [row[0] for row in connection.execute(text("SELECT id FROM booking WHERE status = 'active'"))]
        if ids:
            with writer.app.engine.begin() as connection:
                connection.execute(text("UPDATE booking SET status = 'cancelled' WHERE id = :id"),
                                   {"id": rng.choice(ids)})
            return
    start = rng.randrange(8, 18)
    day = rng.choice(("demain", "demain", "demain", "jeudi", "aujourd'hui"))
    writer.say(rng.choice(MEMBERS), f"/book {rng.choice(SPACES)} {day} {start}h-{start + rng.choice((1, 2))}h")


def test_kept_answers_remade_in_part_read_as_a_fresh_process_would(database_url: str) -> None:
    reader = make_chat(database_url)
    writer = make_chat(database_url, seed=False)  # another process: its own engine and cache
    checker = make_chat(database_url, seed=False)
    rng = random.Random(15)
    try:
        for step in range(150):
            actor = rng.choice((reader, writer, writer))
            if rng.random() < 0.5:
                _book_or_cancel(rng, actor)
            for n, said in enumerate(rng.sample(LOOKS, 3)):
                looker = f"lecteur{(3 * step + n) % 30}"  # under the 30 commands a minute a member may send
                assert reader.text(looker, said) == _cold(checker, looker, said), (step, said)
    finally:
        for chat in (reader, writer, checker):
            chat.app.engine.dispose()
