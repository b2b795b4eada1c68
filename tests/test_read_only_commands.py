"""Read-only commands (/free, /spaces, /mybookings, /help) don't wait for SQLite's write lock, and what
they answer is unchanged. Now is Monday 23 November 2026, 10:00 Paris."""

from __future__ import annotations

import sqlite3
import threading
import time

from sqlmodel import Session, func, select

from bot.core.types import Reply
from storage.models import Member
from tests.harness import Chat


def _database_file(chat: Chat) -> str:
    database = chat.app.engine.url.database
    assert database
    return database


def _in_thread(chat: Chat, user: str, text: str) -> tuple[threading.Thread, list[list[Reply]]]:
    answers: list[list[Reply]] = []
    thread = threading.Thread(target=lambda: answers.append(chat.say(user, text)), daemon=True)
    thread.start()
    return thread, answers


def test_free_is_answered_while_another_connection_holds_the_write_lock(sqlite_chat: Chat) -> None:
    sqlite_chat.say("alice", "/book salle-reunion demain 14h-16h")
    sqlite_chat.say("alice", "/free demain")  # answers without buttons: forgets the booking's button
    writer = sqlite3.connect(_database_file(sqlite_chat), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        for text in ("/free demain", "/espaces", "/aide"):
            thread, answers = _in_thread(sqlite_chat, "alice", text)
            thread.join(timeout=10)  # a writer's command would wait for the lock (30 s busy timeout)
            assert answers, f"{text} waited for the write lock"
            assert "Désolé" not in answers[0][0].text
        assert "/reserver" in answers[0][0].text  # /aide answered
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_newcomer_read_only_command_behind_a_writer_is_answered_once_after_it_commits(sqlite_chat: Chat) -> None:
    """A newcomer's /free writes their member row: behind another writer it can't keep its snapshot, so it
    runs again as a writer; answered once, one member created."""
    writer = sqlite3.connect(_database_file(sqlite_chat), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO member (display_name, language, language_chosen, is_coordinator, is_organiser, "
                   "created_at) VALUES ('Someone', 'fr', 0, 0, 0, '2026-11-23 09:00:00.000000')")
    thread, answers = _in_thread(sqlite_chat, "zoe", "/free demain")
    time.sleep(0.5)
    writer.execute("COMMIT")
    writer.close()
    thread.join(timeout=20)
    assert len(answers) == 1
    assert "Désolé" not in answers[0][0].text and "Sorry" not in answers[0][0].text
    with Session(sqlite_chat.app.engine) as session:
        zoes = session.exec(select(func.count()).select_from(Member).where(Member.display_name == "Zoe")).one()
    assert zoes == 1


def test_mybookings_behind_a_writer_that_commits_is_answered_once_with_its_buttons(sqlite_chat: Chat) -> None:
    """/mybookings remembers its buttons (a write): behind another writer it runs again as a writer."""
    sqlite_chat.say("alice", "/book salle-reunion demain 14h-16h")
    writer = sqlite3.connect(_database_file(sqlite_chat), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE space SET capacity = capacity WHERE slug = 'petite-salle'")
    thread, answers = _in_thread(sqlite_chat, "alice", "/mesreservations")
    time.sleep(0.5)
    writer.execute("COMMIT")
    writer.close()
    thread.join(timeout=20)
    assert [r.text for r in answers[0]] == ["#1 Salle de réunion, mardi 24 novembre, 14:00–16:00"]
    assert [a.command for a in answers[0][0].actions] == ["/cancel 1"]
    assert sqlite_chat.text("alice", "1") == "Sûr·e ? « Annuler n° 1 » lance /cancel 1"  # its buttons were kept


def test_mybookings_lists_each_upcoming_booking_with_its_space_and_cancel_buttons(chat: Chat) -> None:
    chat.say("alice", "/book salle-reunion demain 14h-16h")
    chat.say("alice", "/book petite-salle mercredi 9h-10h")
    chat.say("alice", "/book salle-reunion lundi 9h-10h")
    chat.say("alice", "/annuler 3")
    chat.say("bob", "/book petite-salle jeudi 9h-10h")
    [reply] = chat.say("alice", "/mesreservations")
    assert reply.title == "Vos réservations"
    assert reply.text == ("#1 Salle de réunion, mardi 24 novembre, 14:00–16:00\n"
                          "#2 Petite salle, mercredi 25 novembre, 09:00–10:00")
    assert [(a.label, a.command) for a in reply.actions] == [("Annuler n° 1", "/cancel 1"),
                                                             ("Annuler n° 2", "/cancel 2")]
