"""The spaces' catalog version is read once per transaction (storage.catalog: the asker query reads it as one
more column), yet a space written in that same transaction is found as written: by a coordinator's /space
command before another command of the same transaction (the inbox runs several in one), by the ORM, by
text() or raw SQL, and a rollback to a savepoint takes the edit back (issue 15)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event, text
from sqlmodel import Session, select

from bot.core.dispatch import Dispatcher
from storage.catalog import space_catalog
from storage.db import session_scope
from storage.members import find_asker
from storage.models import Space
from tests.harness import Chat


def _names(session: Session) -> set[str]:
    return {view.name for view in space_catalog(session).views}


def _open(session: Session) -> set[str]:
    return {view.slug for view in space_catalog(session).open_views}


@pytest.fixture
def asked(chat: Chat) -> Iterator[Session]:
    """A transaction in which the asker query ran (the version remembered), as in every command."""
    assert chat.text("alice", "/mybookings")  # alice is a member
    with session_scope(chat.app.engine) as session:
        assert find_asker(session, "console", "alice", "console", "alice") is not None
        assert "Salle de réunion" in _names(session)
        yield session


def _say_in(dispatcher: Dispatcher, session: Session, chat: Chat, user: str, said: str) -> str:
    """One command inside the caller's transaction, as the inbox runs a batch of them."""
    handled = dispatcher.handle_in(session, chat.incoming(user, said))
    return "\n".join(reply.text for reply in handled.replies)


def test_a_space_added_then_booked_in_one_transaction(chat: Chat) -> None:
    dispatcher = chat.app.dispatcher
    assert chat.text("alice", "/book salle-reunion demain 9h-10h").startswith("Réservé")
    with session_scope(chat.app.engine) as session:
        assert "Je ne connais pas" in _say_in(dispatcher, session, chat, "alice", "/book atelier-neuf demain 10h-11h")
        added = _say_in(dispatcher, session, chat, "coord", '/space add atelier-neuf "Atelier neuf"')
        assert added.startswith("Espace ajouté"), added
        booked = _say_in(dispatcher, session, chat, "alice", "/book atelier-neuf demain 10h-11h")
        assert booked.startswith("Réservé : Atelier neuf"), booked


def test_a_space_renamed_then_booked_by_its_new_name_in_one_transaction(chat: Chat) -> None:
    dispatcher = chat.app.dispatcher
    with session_scope(chat.app.engine) as session:
        assert _say_in(dispatcher, session, chat, "alice", "/book salle-reunion demain 9h-10h").startswith("Réservé")
        edited = _say_in(dispatcher, session, chat, "coord", "/space edit salle-reunion name=Curie")
        assert "Curie" in edited, edited
        booked = _say_in(dispatcher, session, chat, "alice", "/book curie demain 10h-11h")
        assert booked.startswith("Réservé : Curie"), booked
        closed = _say_in(dispatcher, session, chat, "coord", "/space close curie")
        assert "fermé" in closed, closed
        refused = _say_in(dispatcher, session, chat, "bob", "/book curie demain 11h-12h")
        assert not refused.startswith("Réservé"), refused
    assert not chat.text("bob", "/book curie demain 12h-13h").startswith("Réservé")


def test_an_orm_edit_flushed_or_not_is_read(asked: Session) -> None:
    space = asked.exec(select(Space).where(Space.slug == "salle-reunion")).one()
    space.name = "Salle Curie"
    assert "Salle Curie" in _names(asked)  # pending: flushed by the look
    space.name = "Salle Hopper"
    asked.flush()  # flushed by the handler itself before the look
    assert "Salle Hopper" in _names(asked)


def test_text_and_raw_sql_edits_are_read(asked: Session) -> None:
    asked.execute(text("UPDATE space SET name = 'Par text' WHERE slug = 'salle-reunion'"))
    assert "Par text" in _names(asked)
    asked.connection().exec_driver_sql("UPDATE space SET name = 'Par le pilote' WHERE slug = 'salle-reunion'")
    assert "Par le pilote" in _names(asked)
    asked.connection().exec_driver_sql("UPDATE space SET closed = true WHERE slug = 'salle-reunion'")
    assert "salle-reunion" not in _open(asked)


def test_a_rolled_back_savepoint_takes_its_edit_back(asked: Session) -> None:
    savepoint = asked.begin_nested()
    asked.execute(text("UPDATE space SET name = 'Fantôme' WHERE slug = 'salle-reunion'"))
    assert "Fantôme" in _names(asked)
    savepoint.rollback()
    names = _names(asked)
    assert "Fantôme" not in names and "Salle de réunion" in names


def test_a_command_reads_the_version_with_the_asker_only(chat: Chat) -> None:
    """/book looks the space up and names it in its answer: no statement of its own reads the version."""
    assert chat.text("alice", "/book salle-reunion demain 9h-10h").startswith("Réservé")
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(chat.app.engine, "before_cursor_execute", seen)
    try:
        assert chat.text("alice", "/book salle-reunion demain 10h-11h").startswith("Réservé")
        assert chat.text("alice", "/free demain").strip()
    finally:
        event.remove(chat.app.engine, "before_cursor_execute", seen)
    versions = [s for s in statements if "catalogversion" in s]
    assert len(versions) == 2, versions  # one per command: in its asker query
    assert all("identity" in s for s in versions)
