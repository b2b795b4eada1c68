"""The spaces are held in memory (storage.catalog) but a space added, renamed or closed by anyone else —
another connection, another process on the same database, the CLI's import — is found by the next command,
and an edit that was rolled back is never seen (issue 15: two `tierslieu run` on one PostgreSQL database)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import text

from storage.db import make_engine, session_scope
from storage.spaces import import_spaces, space_views
from tests.harness import Chat

ROOT = Path(__file__).resolve().parent.parent


def _booked(chat: Chat, user: str, space: str, when: str = "demain 14h-15h") -> str:
    return chat.text(user, f"/book {space} {when}")


def test_a_space_added_by_another_connection_is_found_by_the_next_command(chat: Chat) -> None:
    assert _booked(chat, "alice", "salle-reunion").startswith("Réservé : Salle de réunion")
    assert "Je ne connais pas l'espace « atelier-neuf »" in _booked(chat, "alice", "atelier-neuf")
    other = make_engine(chat.app.settings.database_url)
    with session_scope(other) as session:
        import_spaces(session, {"site": {"slug": "annexe", "name": "Annexe", "hours": {"tue": "08:00-20:00"}},
                                "spaces": [{"slug": "atelier-neuf", "name": "Atelier neuf"}]})
    other.dispose()
    assert _booked(chat, "alice", "atelier-neuf").startswith("Réservé : Atelier neuf")
    assert _booked(chat, "bob", "atelier neuf", "demain 10h-11h").startswith("Réservé : Atelier neuf")


def test_a_rename_by_plain_sql_elsewhere_is_seen_and_the_old_name_is_gone(chat: Chat) -> None:
    assert _booked(chat, "alice", "salle-reunion").startswith("Réservé : Salle de réunion")
    other = make_engine(chat.app.settings.database_url)
    with other.begin() as connection:
        connection.execute(text("UPDATE space SET name = 'Salle Curie', slug = 'curie' WHERE slug = 'salle-reunion'"))
    other.dispose()
    assert _booked(chat, "bob", "curie", "demain 9h-10h").startswith("Réservé : Salle Curie")
    assert "Je ne connais pas l'espace « salle-reunion »" in _booked(chat, "bob", "salle-reunion")


def test_a_rolled_back_edit_is_never_seen(chat: Chat) -> None:
    assert _booked(chat, "alice", "salle-reunion").startswith("Réservé : Salle de réunion")
    with session_scope(chat.app.engine) as session:
        before = [v.name for v in space_views(session)]
    try:
        with session_scope(chat.app.engine) as session:
            session.execute(text("UPDATE space SET name = 'Fantôme' WHERE slug = 'salle-reunion'"))
            # read (and kept in memory) inside the transaction that is then rolled back
            assert "Fantôme" in [v.name for v in space_views(session)]
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    with session_scope(chat.app.engine) as session:
        assert [v.name for v in space_views(session)] == before
    assert _booked(chat, "bob", "salle-reunion", "demain 9h-10h").startswith("Réservé : Salle de réunion")


def test_a_space_closed_by_another_process_is_refused_at_once(chat: Chat) -> None:
    """Another OS process, as a second `tierslieu run` would be: the catalog version is in the database."""
    assert _booked(chat, "alice", "salle-reunion").startswith("Réservé : Salle de réunion")
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from sqlalchemy import text
        from storage.db import make_engine
        engine = make_engine({chat.app.settings.database_url!r})
        with engine.begin() as connection:
            connection.execute(text("UPDATE space SET closed = true WHERE slug = 'salle-reunion'"))
            connection.execute(text("UPDATE site SET name = 'Le Lieu' WHERE id = (SELECT min(id) FROM site)"))
        engine.dispose()
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    answer = _booked(chat, "bob", "salle-reunion", "demain 9h-10h")
    assert not answer.startswith("Réservé"), answer
    with session_scope(chat.app.engine) as session:
        assert "salle-reunion" not in [v.slug for v in space_views(session)]
        assert "salle-reunion" in [v.slug for v in space_views(session, include_closed=True)]


def test_a_space_edited_in_the_same_transaction_is_read_as_edited(chat: Chat) -> None:
    """A handler that edits a space (ORM, not flushed yet) and then lists spaces sees its own edit."""
    from sqlmodel import select

    from storage.models import Space

    with session_scope(chat.app.engine) as session:
        space_views(session)
        space = session.exec(select(Space).where(Space.slug == "salle-reunion")).one()
        space.name = "Salle renommée"
        assert "Salle renommée" in [v.name for v in space_views(session)]
    assert _booked(chat, "alice", "salle renommee").startswith("Réservé : Salle renommée")


def test_every_write_to_spaces_and_sites_changes_the_catalog_version(database_url: str) -> None:
    """The triggers are still there once every migration ran (a later migration that rebuilds the space or
    site table, as SQLite's batch mode does, would drop them: the catalog would then go stale)."""
    from storage.migrate import upgrade

    engine = make_engine(database_url)
    upgrade(engine)
    seen = set()

    def version() -> int:
        with engine.connect() as connection:
            found = connection.execute(text("SELECT version FROM catalogversion WHERE name = 'spaces'"))
            return int(found.scalar_one())

    seen.add(version())
    writes = [
        "INSERT INTO site (slug, name) VALUES ('s2', 'Deux')",
        "INSERT INTO space (site_id, slug, name, kind, capacity, opening_hours, max_duration_minutes,"
        " max_days_ahead, description, closed)"
        " SELECT id, 'p2', 'Poste', 'desk', 1, '{}', 60, 30, '', false FROM site WHERE slug = 's2'",
        "UPDATE space SET name = 'Poste 2' WHERE slug = 'p2'",
        "UPDATE site SET name = 'Site deux' WHERE slug = 's2'",
        "DELETE FROM space WHERE slug = 'p2'",
        "DELETE FROM site WHERE slug = 's2'",
    ]
    for statement in writes:
        with engine.begin() as connection:
            connection.execute(text(statement))
        seen.add(version())
    engine.dispose()
    assert len(seen) == len(writes) + 1
