"""/book through Core statements (issue 15): what the fast path must keep doing, on SQLite and PostgreSQL.
Now is Monday 23 November 2026, 10:00 Paris."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event
from sqlmodel import Session, func, select

from storage.bookings import _SLOT_AND_MEMBER, create_booking, hold_space
from storage.db import session_scope
from storage.models import Booking, Member, Space
from storage.models_reminders import Reminder
from tests.harness import Chat, make_chat

PARIS = ZoneInfo("Europe/Paris")
TOMORROW_14 = datetime(2026, 11, 24, 13, tzinfo=UTC)  # 14:00 in Paris


def ids(chat: Chat, slug: str, member: str) -> tuple[int, int]:
    chat.say(member, "/start")
    with Session(chat.app.engine) as session:
        space_id = session.exec(select(Space.id).where(Space.slug == slug)).one()
        member_id = session.exec(select(Member.id).where(Member.display_name == member.capitalize())).one()
    assert space_id is not None and member_id is not None
    return space_id, member_id


def test_a_booking_shows_in_mybookings_gets_its_reminder_and_its_cancellation_takes_both(chat: Chat) -> None:
    assert chat.text("alice", "/book salle-reunion demain 14h-16h") == (
        "Réservé : Salle de réunion, mardi 24 novembre, 14:00–16:00. Réservation n° 1.")
    assert "#1 Salle de réunion, mardi 24 novembre, 14:00–16:00" in chat.text("alice", "/mesreservations")
    with Session(chat.app.engine) as session:
        [reminder] = session.exec(select(Reminder)).all()
        [booking] = session.exec(select(Booking)).all()
    assert (reminder.kind, reminder.ref, reminder.status) == ("booking", "1", "pending")
    assert reminder.due_at == TOMORROW_14 - timedelta(minutes=30) and reminder.member_id == booking.member_id
    assert booking.created_at == chat.clock.now and booking.status == "active"
    chat.clock.now = TOMORROW_14 - timedelta(minutes=29)
    assert chat.app.jobs.run_now("send-reminders") == 1
    assert any("Salle de réunion" in m.payload for m in chat.outbox())
    chat.say("alice", "/book petite-salle demain 14h-15h")
    chat.say("alice", "/annuler 2")
    assert "Petite salle" not in chat.text("alice", "/mesreservations")
    with Session(chat.app.engine) as session:
        statuses = dict(session.exec(select(Reminder.ref, Reminder.status)).all())
    assert statuses == {"1": "sent", "2": "cancelled"}


def test_the_members_own_reminder_setting_is_read_for_a_booking(chat: Chat) -> None:
    chat.say("alice", "/rappels reservation 60")
    chat.say("bob", "/rappels reservation off")
    chat.say("alice", "/book salle-reunion demain 14h-15h")
    chat.say("bob", "/book petite-salle demain 14h-15h")
    with Session(chat.app.engine) as session:
        assert session.exec(select(Reminder.due_at)).all() == [TOMORROW_14 - timedelta(hours=1)]


def test_a_second_booker_waits_for_the_space_held_by_the_first_and_is_refused(database_url: str) -> None:
    """Two sessions: one holds the space (hold_space) and books; the other, a /book of the same slot started
    meanwhile, must wait for it and then see its booking (PostgreSQL: the row lock; SQLite: BEGIN IMMEDIATE)."""
    chat = make_chat(database_url)
    try:
        space_id, alice = ids(chat, "salle-reunion", "alice")
        chat.say("bob", "/start")
        answers: list[str] = []
        with session_scope(chat.app.engine) as session:
            held = hold_space(session, space_id, alice, TOMORROW_14, TOMORROW_14 + timedelta(hours=1),
                              chat.clock.now, PARIS)
            other = threading.Thread(target=lambda: answers.append(
                chat.text("bob", "/book salle-reunion demain 14h-15h")))
            other.start()
            other.join(0.5)  # give it time to reach the lock (it can't get past it before this commits)
            create_booking(session, held, chat.clock.now, PARIS)
        other.join(30)
        assert not other.is_alive()
        assert answers and "c'est déjà complet" in answers[0], answers
        with Session(chat.app.engine) as session:
            assert session.exec(select(func.count()).select_from(Booking)).one() == 1
    finally:
        chat.app.engine.dispose()


def test_the_limit_and_the_weekly_quota_count_the_members_bookings_in_that_space_only(database_url: str) -> None:
    chat = make_chat(database_url, MAX_FUTURE_BOOKINGS_PER_SPACE="2")
    try:
        assert chat.text("alice", "/book petite-salle demain 9h-10h").startswith("Réservé")
        assert chat.text("alice", "/book petite-salle demain 10h-11h").startswith("Réservé")
        assert "2 réservations à venir" in chat.text("alice", "/book petite-salle demain 11h-12h")
        assert chat.text("alice", "/book salle-reunion demain 11h-12h").startswith("Réservé")
        assert chat.text("bob", "/book petite-salle demain 11h-12h").startswith("Réservé")
        chat.say("alice", "/annuler 1")
        assert chat.text("alice", "/book petite-salle demain 11h-12h").startswith("Je ne peux pas réserver")  # Bob's
        assert chat.text("alice", "/book petite-salle demain 12h-13h").startswith("Réservé")
    finally:
        chat.app.engine.dispose()


def test_a_booking_over_an_event_of_the_space_is_refused_and_the_suggestions_go_around_it(chat: Chat) -> None:
    chat.say("alice", "/book salle-reunion demain 9h-10h")
    chat.say("coord", '/event add "Atelier couture" demain 14h-16h lieu salle-reunion')
    answer = chat.text("bob", "/book salle-reunion demain 14h-15h")
    assert answer.startswith("Je ne peux pas réserver Salle de réunion pour mardi 24 novembre, 14:00–15:00"), answer
    assert "Atelier couture" in answer
    assert "• mardi 24 novembre, 14:" not in answer and "• mardi 24 novembre, 15:" not in answer
    assert "• mardi 24 novembre, 13:00–14:00" in answer
    assert "Libre à ce moment-là : Petite salle (petite-salle)" in answer


def test_the_booking_queries_read_only_what_is_not_over_yet(sqlite_url: str) -> None:
    """History must not slow /book down: the overlap and the member's bookings are read through an index led
    by the end time, with a lower bound on it (SQLite's plan; PostgreSQL was checked with EXPLAIN)."""
    chat = make_chat(sqlite_url)
    try:
        seen: list[tuple[str, object]] = []
        event.listen(chat.app.engine, "before_cursor_execute", lambda *a: seen.append((a[2], a[3])))
        chat.say("alice", "/book salle-reunion demain 14h-15h")
        with chat.app.engine.connect() as connection:
            sql = str(_SLOT_AND_MEMBER.statement.compile(dialect=connection.dialect))
            [params] = [p for s, p in seen if s == sql]
            plan = [r[-1] for r in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)]
            searches = [line for line in plan if "booking" in line.split(" USING")[0]]
            # the space's bookings over the slot, the member's in the space: both bounded by the end, both read
            # from the index alone (it holds status and member: no table row per booking still to come)
            assert searches == ["SEARCH booking USING COVERING INDEX ix_booking_space_end (space_id=? AND end>?)"] \
                * 2, plan
            assert "SEARCH eventoccurrence USING INDEX ix_occurrence_event_end (event_id=? AND end>?)" in plan, plan
    finally:
        chat.app.engine.dispose()
