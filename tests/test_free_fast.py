"""/free from its cache (issue 15) answers what the rules answer, and is never stale: a booking, a cancellation,
an event over a space, a changed opening hour show in the next /free, also when another process (another
engine on the same database) or a bare connection wrote them."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel import Session, select

from storage.availability import DayFree, day_free, free_runs, shown
from storage.booking_rules import SpaceRules, free_periods, is_free
from storage.models import Booking, Member, Space
from storage.opening_hours import open_intervals
from storage.spaces import space_views
from tests.harness import Chat, make_chat

PARIS = ZoneInfo("Europe/Paris")


def _random_case(rng: random.Random, day: date) -> tuple[SpaceRules, list[tuple[datetime, datetime]],
                                                          list[tuple[datetime, datetime]]]:
    base = datetime.combine(day, time(0), tzinfo=PARIS).astimezone(UTC)

    def at(quarter: int) -> datetime:
        return base + timedelta(minutes=15 * quarter)

    ranges: list[tuple[time, time]] = []
    edge = rng.randrange(20, 50)
    for _ in range(rng.randrange(0, 4)):  # touching, separate or overlapping periods
        start = edge + rng.choice([0, 0, 2, -3])
        end = start + rng.randrange(1, 30)
        if 0 <= start < end <= 96:
            ranges.append((time(start // 4, start % 4 * 15), time.max if end == 96 else time(end // 4, end % 4 * 15)))
        edge = end
    rules = SpaceRules(capacity=rng.choice([0, 1, 1, 2, 3]), hours={"mon": sorted(ranges)},
                       max_duration=timedelta(hours=8), max_days_ahead=90, weekly_quota=None,
                       required_qualification=None, closed=False)
    bookings = []
    for _ in range(rng.choice([0, 0, 1, 3, 8])):
        start = rng.randrange(-8, 100)
        bookings.append((at(start), at(start + rng.choice([0, 1, 2, 4, 8, 40]))))
    starts = [rng.randrange(20, 90) for _ in range(rng.choice([0, 0, 1]))]
    events = [(at(s), at(s + rng.randrange(1, 12))) for s in starts]
    return rules, bookings, events


def test_the_cached_day_shows_and_answers_what_the_rules_say() -> None:
    """Random hours (touching, apart, overlapping), capacities, bookings (empty, over midnight) and events: the
    day's stretches clipped by any now are ``free_periods``, and a window inside one of them is ``is_free``."""
    rng = random.Random(15)
    day = date(2026, 11, 23)  # a Monday
    for _ in range(1500):
        rules, bookings, events = _random_case(rng, day)
        existing = bookings + [e for e in events for _ in range(rules.capacity)]  # as bookings_between
        entry = DayFree(0, free_runs(open_intervals(rules.hours, day, PARIS), rules.capacity, bookings, events),
                        None)
        base = datetime.combine(day, time(0), tzinfo=PARIS).astimezone(UTC)
        for _ in range(4):
            now = base + timedelta(minutes=rng.randrange(-60, 24 * 60 + 60), seconds=rng.choice([0, 0, 30]))
            assert shown(entry, now) == free_periods(rules, existing, day, now, PARIS), (rules, bookings, events, now)
        for _ in range(6):
            start = base + timedelta(minutes=15 * rng.randrange(0, 96))
            end = start + timedelta(minutes=15 * rng.randrange(1, 40))
            fast = any(a <= start and end <= b for a, b in entry.runs)
            assert fast == is_free(rules, existing, start, end, PARIS), (rules, bookings, events, start, end)


def _hours_of(answer: str, slug: str) -> str | None:
    for line in answer.splitlines():
        if f"({slug})" in line:
            return line.split("): ", 1)[1] if "): " in line else ""
    return None


def test_a_booking_a_cancellation_an_event_and_new_hours_show_in_the_next_free(chat: Chat) -> None:
    assert _hours_of(chat.text("bob", "/dispo demain"), "salle-reunion") == "08:30–19:00"
    assert "(salle-reunion)" in chat.text("bob", "/dispo demain 14h-15h")
    chat.say("alice", "/book salle-reunion demain 14h-16h")
    assert _hours_of(chat.text("bob", "/dispo demain"), "salle-reunion") == "08:30–14:00, 16:00–19:00"
    assert "(salle-reunion)" not in chat.text("bob", "/dispo demain 14h-15h")
    chat.say("alice", "/cancel 1")
    assert _hours_of(chat.text("bob", "/dispo demain"), "salle-reunion") == "08:30–19:00"
    assert "(salle-reunion)" in chat.text("bob", "/dispo demain 14h-15h")
    chat.say("coord", '/event add "Atelier" demain 10h-12h lieu salle-reunion')
    assert _hours_of(chat.text("bob", "/dispo demain"), "salle-reunion") == "08:30–10:00, 12:00–19:00"
    assert "(salle-reunion)" not in chat.text("bob", "/dispo demain 10h-11h")
    chat.say("coord", "/event cancel 1")
    assert _hours_of(chat.text("bob", "/dispo demain"), "salle-reunion") == "08:30–19:00"
    chat.say("coord", "/espace modifier salle-reunion mar=09:00-12:00")
    assert _hours_of(chat.text("bob", "/dispo demain"), "salle-reunion") == "09:00–12:00"
    assert "(salle-reunion)" not in chat.text("bob", "/dispo demain 14h-15h")
    chat.say("coord", "/espace fermer salle-reunion")
    assert _hours_of(chat.text("bob", "/dispo demain"), "salle-reunion") is None


def test_writes_by_another_process_or_connection_show_in_the_next_free(database_url: str) -> None:
    reader = make_chat(database_url)
    writer = make_chat(database_url, seed=False)  # another process: its own engine, its own cache
    try:
        for chat in (reader, writer):  # both have the day cached
            assert _hours_of(chat.text("bob", "/dispo demain"), "petite-salle") == "08:30–19:00"
            assert "(petite-salle)" in chat.text("bob", "/dispo demain 9h-10h")
        writer.say("alice", "/book petite-salle demain 9h-10h")
        assert _hours_of(reader.text("bob", "/dispo demain"), "petite-salle") == "08:30–09:00, 10:00–19:00"
        assert "(petite-salle)" not in reader.text("bob", "/dispo demain 9h-10h")
        writer.say("alice", "/cancel 1")
        assert _hours_of(reader.text("bob", "/dispo demain"), "petite-salle") == "08:30–19:00"
        writer.say("coord", '/event add "Atelier" demain 17h-19h lieu petite-salle')
        assert _hours_of(reader.text("bob", "/dispo demain"), "petite-salle") == "08:30–17:00"
        writer.say("coord", "/espace modifier petite-salle mar=14:00-18:00")
        assert _hours_of(reader.text("bob", "/dispo demain"), "petite-salle") == "14:00–17:00"
        with reader.app.engine.begin() as connection:  # a bare connection (an admin's SQL, a script)
            connection.execute(text("UPDATE eventoccurrence SET status = 'cancelled'"))
        assert _hours_of(reader.text("bob", "/dispo demain"), "petite-salle") == "14:00–18:00"
        with Session(reader.app.engine) as session:
            space = session.exec(select(Space).where(Space.slug == "petite-salle")).one()
            space.capacity = 0
            session.add(space)
            session.commit()
        assert _hours_of(reader.text("bob", "/dispo demain"), "petite-salle") is None
        assert "(petite-salle)" not in reader.text("bob", "/dispo demain 15h-16h")
    finally:
        writer.app.engine.dispose()
        reader.app.engine.dispose()


def test_today_is_clipped_by_the_time_of_each_free(chat: Chat) -> None:
    chat.clock.now = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # Tuesday, 07:00 in Paris: before opening
    assert _hours_of(chat.text("bob", "/dispo"), "salle-reunion") == "08:30–19:00"
    chat.clock.now = datetime(2026, 11, 24, 9, 12, 30, tzinfo=UTC)  # 10:12:30
    assert _hours_of(chat.text("bob", "/dispo"), "salle-reunion") == "10:12–19:00"
    chat.clock.now = datetime(2026, 11, 24, 17, 45, 30, tzinfo=UTC)  # 18:45:30: less than 15 minutes left
    assert _hours_of(chat.text("bob", "/dispo"), "salle-reunion") is None
    chat.clock.now = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    assert _hours_of(chat.text("bob", "/dispo"), "salle-reunion") == "08:30–19:00"


def test_the_same_day_read_in_another_language_is_answered_in_it(chat: Chat) -> None:
    assert chat.text("bob", "/dispo demain").startswith("Libre le mardi 24 novembre")
    chat.say("alice", "/lang en")
    assert chat.text("alice", "/free tomorrow").startswith("Free on Tuesday 24 November")
    assert chat.text("alice", "/free tomorrow 14:00-15:00").startswith("Free Tuesday 24 November, 14:00–15:00")
    assert chat.text("bob", "/dispo demain 14h-15h").startswith("Libre mardi 24 novembre, 14:00–15:00")


def test_what_a_rolled_back_write_showed_is_not_taken_for_a_later_commit(database_url: str) -> None:
    """A day computed inside a transaction that wrote and then rolled back is filed under a version no later
    commit makes (a bump is a random step, not +1), so the next /free doesn't show the rolled-back booking."""
    chat = make_chat(database_url)
    try:
        day = date(2026, 11, 24)
        ten, eleven = (datetime.combine(day, time(h), tzinfo=PARIS) for h in (10, 11))
        member_id = _member(chat)
        with Session(chat.app.engine) as session:
            space = session.exec(select(Space).where(Space.slug == "petite-salle")).one()
            assert space.id is not None
            view = next(v for v in space_views(session) if v.id == space.id)
            session.add(Booking(space_id=space.id, member_id=member_id, start=ten, end=eleven))
            session.flush()
            seen = day_free(session, [view], day, PARIS)[space.id]  # the uncommitted booking, in this process
            assert not any(a <= ten.astimezone(UTC) and eleven <= b for a, b in seen.runs)
            session.rollback()
        chat.say("alice", "/book petite-salle demain 15h-16h")  # a committed bump of the same space
        assert _hours_of(chat.text("bob", "/dispo demain"), "petite-salle") == "08:30–15:00, 16:00–19:00"
    finally:
        chat.app.engine.dispose()


def _member(chat: Chat) -> int:
    chat.say("alice", "/start")
    with Session(chat.app.engine) as session:
        found = session.exec(select(Member.id)).first()
        assert found is not None
        return found


def test_today_through_the_day_is_what_the_rules_show_at_each_moment(sqlite_chat: Chat) -> None:
    """Answers kept for a minute (once now clips a stretch) are the rules' answer at every second tried: on the
    minute, just after, just before the next, across a booking's end and the 15 minutes before a closing."""
    chat = sqlite_chat
    chat.clock.now = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    chat.say("alice", "/book salle-reunion aujourd'hui 14h-16h")
    chat.say("alice", "/book petite-salle aujourd'hui 9h-10h30")
    today = date(2026, 11, 24)
    for minute in (7 * 60, 9 * 60, 10 * 60 + 29, 10 * 60 + 30, 14 * 60 + 59, 16 * 60, 18 * 60 + 44, 18 * 60 + 45):
        for second, micro in ((0, 0), (0, 1), (1, 0), (59, 999_999)):
            local = datetime.combine(today, time(minute // 60, minute % 60, second, micro), PARIS)
            chat.clock.now = local.astimezone(UTC)
            assert chat.text("bob", "/dispo") == _expected_day(chat, today), local


def _expected_day(chat: Chat, day: date) -> str:
    """/free <day> as the rules (free_periods over bookings_between) write it, without any cache."""
    from bot.core.i18n import translator_for
    from storage.bookings import bookings_between

    t = translator_for("fr", "Europe/Paris")
    with Session(chat.app.engine) as session:
        spaces = space_views(session)
        start = datetime.combine(day, time(0), PARIS)
        taken = bookings_between(session, [s.id for s in spaces], start, start + timedelta(days=1))
        lines = []
        for s in spaces:
            periods = free_periods(s.rules, taken[s.id], day, chat.clock.now, PARIS)
            if periods:
                hours = ", ".join(f"{t.fmt_time(a)}–{t.fmt_time(b)}" for a, b in periods)
                lines.append(f"• {s.name} ({s.slug}): {hours}")
    title = t.gettext("Free on {day}").format(day=t.fmt_day(day))
    body = "\n".join(lines) or t.gettext("Nothing is free that day (closed, past or fully booked).")
    return f"{title}\n{body}"
