"""Attendance queries: presences at an event date, walk-ins, the door code, daily visitors, categories.

The counts of a date come from one pure function (``event_counts``) so that the report, the organiser's
list and the after-event question can't disagree."""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import Booking, Member
from storage.models_attendance import (
    AttendanceCategory,
    BookingCheckin,
    EventCategory,
    EventTally,
    Presence,
    SpaceCheckinRule,
    VisitCount,
)
from storage.models_events import (
    EVENT_CANCELLED,
    OCCURRENCE_CANCELLED,
    SIGNUP_CONFIRMED,
    Event,
    EventOccurrence,
    EventSignup,
)
from storage.models_volunteers import Shift, ShiftSignup

CHECKIN_EARLY = timedelta(minutes=30)  # the door opens a little before the start
MAX_WALK_INS = 10000
MAX_VISITS = 10000
RECENT = timedelta(days=1)  # the jobs look only at dates this recent (no flood of old events at start-up)


@dataclass(frozen=True)
class EventCounts:
    """Sign-ups: confirmed sign-ups. Present: of them, marked present. No-shows: sign-ups not marked
    present. Walk-ins: people counted at the door without a sign-up, plus members present without one."""

    signups: int
    present: int
    no_show: int
    walk_in: int

    @property
    def received(self) -> int:
        return self.present + self.walk_in


def event_counts(signed_up: Iterable[int], presences: Iterable[tuple[int, bool]], walk_ins: int) -> EventCounts:
    """``presences``: (member id, present). A member counts once: signed up and present, signed up and
    absent (no-show), or present without a sign-up (walk-in)."""
    signups = set(signed_up)
    present = {member_id for member_id, here in presences if here}
    return EventCounts(signups=len(signups), present=len(signups & present), no_show=len(signups - present),
                       walk_in=walk_ins + len(present - signups))


def in_progress(occurrence: EventOccurrence, now: datetime) -> bool:
    return occurrence.start - CHECKIN_EARLY <= now < occurrence.end


def tally_of(session: Session, occurrence_id: int, *, lock: bool = False) -> EventTally:
    """The date's tally, made on first use with a fresh door code. ``lock``: its row is locked until the
    command commits (what serialises walk-ins and presences of one date on PostgreSQL; SQLite transactions
    are already serial). Two commands making it at once: the second finds the first's."""
    query = select(EventTally).where(EventTally.occurrence_id == occurrence_id)
    tally = session.exec(query.with_for_update() if lock else query).first()
    if tally is None:
        try:
            with session.begin_nested():
                session.add(EventTally(occurrence_id=occurrence_id, door_code=secrets.token_urlsafe(12)))
        except IntegrityError:
            pass
        tally = session.exec(query.with_for_update() if lock else query).one()
    return tally


def occurrence_by_code(session: Session, occurrence_id: int, code: str) -> EventOccurrence | None:
    tally = session.get(EventTally, occurrence_id)
    if tally is None or not secrets.compare_digest(tally.door_code, code):
        return None
    return session.get(EventOccurrence, occurrence_id)


def confirmed_signups(session: Session, occurrence_id: int) -> list[int]:
    return list(session.exec(select(EventSignup.member_id).where(
        EventSignup.occurrence_id == occurrence_id, EventSignup.status == SIGNUP_CONFIRMED)))


def presences(session: Session, occurrence_id: int) -> dict[int, Presence]:
    return {p.member_id: p for p in session.exec(select(Presence).where(Presence.occurrence_id == occurrence_id))}


def counts_of(session: Session, occurrence_id: int) -> EventCounts:
    tally = session.get(EventTally, occurrence_id)
    return event_counts(confirmed_signups(session, occurrence_id),
                        ((p.member_id, p.present) for p in presences(session, occurrence_id).values()),
                        tally.walk_ins if tally else 0)


def set_presence(session: Session, occurrence_id: int, member_id: int, present: bool, source: str,
                 now: datetime) -> tuple[Presence, bool]:
    """Mark a member present or absent; returns the row and whether it changed."""
    tally_of(session, occurrence_id, lock=True)  # one change at a time per date: a double press marks once
    row = session.exec(select(Presence).where(Presence.occurrence_id == occurrence_id,
                                              Presence.member_id == member_id)).first()
    signed_up = member_id in confirmed_signups(session, occurrence_id)
    if row is None:
        row = Presence(occurrence_id=occurrence_id, member_id=member_id, present=present, signed_up=signed_up,
                       source=source, updated_at=now)
        session.add(row)
        session.flush()
        return row, True
    changed = row.present != present
    row.present, row.source, row.updated_at = present, source, now
    session.add(row)
    return row, changed


def add_walk_ins(session: Session, occurrence_id: int, delta: int) -> int:
    """Walk-ins += delta (never below 0 nor above MAX_WALK_INS), under the tally's row lock."""
    tally = tally_of(session, occurrence_id, lock=True)
    tally.walk_ins = max(0, min(MAX_WALK_INS, tally.walk_ins + delta))
    session.add(tally)
    return tally.walk_ins


def attendance_list(session: Session, occurrence_id: int) -> list[tuple[int, str, bool, bool | None]]:
    """(member id, name, signed up, present or None when not marked): sign-ups first, then walk-in members."""
    signups = confirmed_signups(session, occurrence_id)
    marks = presences(session, occurrence_id)
    ids = list(dict.fromkeys([*signups, *marks]))
    names = {mid: name for mid, name in session.exec(
        select(Member.id, Member.display_name).where(col(Member.id).in_(ids)))} if ids else {}
    rows = []
    for member_id in ids:
        mark = marks.get(member_id)
        rows.append((member_id, str(names.get(member_id, "?")), member_id in signups,
                     mark.present if mark else None))
    rows.sort(key=lambda r: (not r[2], r[1].casefold()))
    return rows


def live_occurrences(session: Session, now: datetime) -> list[tuple[EventOccurrence, Event]]:
    """Dates whose door is open now (from a little before the start to the end)."""
    rows = session.exec(
        select(EventOccurrence, Event).join(Event, col(Event.id) == EventOccurrence.event_id)
        .where(EventOccurrence.start <= now + CHECKIN_EARLY, EventOccurrence.end > now,
               EventOccurrence.status != OCCURRENCE_CANCELLED, Event.status != EVENT_CANCELLED)
        .order_by(col(EventOccurrence.start))).all()
    return [(o, e) for o, e in rows]


def member_presences(session: Session, member_id: int, since: datetime,
                     limit: int = 30) -> list[tuple[datetime, int, str, bool]]:
    """The member's last ``limit`` presences since ``since``, newest first: (start, date's number, event's
    title, present), read as columns."""
    rows = session.exec(
        select(EventOccurrence.start, col(EventOccurrence.id), Event.title, Presence.present)
        .join(Presence, col(Presence.occurrence_id) == EventOccurrence.id)
        .join(Event, col(Event.id) == EventOccurrence.event_id)
        .where(Presence.member_id == member_id, EventOccurrence.start >= since)
        .order_by(col(EventOccurrence.start).desc()).limit(limit)).all()
    return [(start, occurrence_id or 0, title, bool(present)) for start, occurrence_id, title, present in rows]


def lists_due(session: Session, now: datetime) -> list[tuple[EventOccurrence, Event]]:
    """Dates that have started (and not ended) whose organiser hasn't had the list yet."""
    return [(o, e) for o, e in live_occurrences(session, now)
            if o.start <= now and o.start > now - RECENT
            and ((t := session.get(EventTally, o.id)) is None or t.list_sent_at is None)]


def counts_questions_due(session: Session, now: datetime) -> list[tuple[EventOccurrence, Event]]:
    """Dates just ended whose organiser hasn't been asked to confirm the counts."""
    rows = session.exec(
        select(EventOccurrence, Event).join(Event, col(Event.id) == EventOccurrence.event_id)
        .where(EventOccurrence.end <= now, EventOccurrence.end > now - RECENT,
               EventOccurrence.status != OCCURRENCE_CANCELLED, Event.status != EVENT_CANCELLED)
        .order_by(col(EventOccurrence.end))).all()
    return [(o, e) for o, e in rows
            if (t := session.get(EventTally, o.id)) is None or t.counts_asked_at is None]


# --- Daily visits and categories -----------------------------------------------------------------------


def on_rota(session: Session, member_id: int, start: datetime, end: datetime) -> bool:
    """Whether the member holds a shift starting in [start, end) (the day's opening rota)."""
    return session.exec(
        select(ShiftSignup.id).join(Shift, col(Shift.id) == ShiftSignup.shift_id)
        .where(ShiftSignup.member_id == member_id, Shift.status == "open", Shift.start >= start, Shift.start < end)
    ).first() is not None


def log_visits(session: Session, day: date, count: int, category: str, member_id: int, now: datetime) -> int:
    """Adds an entry; returns the day's total for that category."""
    session.add(VisitCount(day=day, count=count, category=category, member_id=member_id, created_at=now))
    session.flush()
    return sum(session.exec(select(VisitCount.count).where(VisitCount.day == day,
                                                             VisitCount.category == category)))


def visits_between(session: Session, first: date, end: date) -> dict[str, int]:
    """Visitors per category for local days in [first, end) ("" for no category)."""
    totals: dict[str, int] = defaultdict(int)
    for category, count in session.exec(select(VisitCount.category, VisitCount.count).where(
            VisitCount.day >= first, VisitCount.day < end)):
        totals[category] += count
    return dict(totals)


def categories(session: Session, kind: str) -> list[str]:
    return list(session.exec(select(AttendanceCategory.name).where(AttendanceCategory.kind == kind)
                             .order_by(col(AttendanceCategory.name))))


def add_category(session: Session, kind: str, name: str) -> bool:
    if name in categories(session, kind):
        return False
    session.add(AttendanceCategory(kind=kind, name=name))
    return True


def remove_category(session: Session, kind: str, name: str) -> bool:
    row = session.exec(select(AttendanceCategory).where(AttendanceCategory.kind == kind,
                                                        AttendanceCategory.name == name)).first()
    if row is None:
        return False
    session.delete(row)
    return True


def set_event_category(session: Session, event_id: int, category: str | None) -> None:
    row = session.get(EventCategory, event_id)
    if category is None:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        row = EventCategory(event_id=event_id, category=category)
    row.category = category
    session.add(row)


def event_categories(session: Session, event_ids: Iterable[int]) -> dict[int, str]:
    ids = list(set(event_ids))
    if not ids:
        return {}
    return {event_id: category for event_id, category in session.exec(
        select(EventCategory.event_id, EventCategory.category).where(col(EventCategory.event_id).in_(ids)))}


# --- Bookings: check-in and no-show release ---------------------------------------------------------------


def checkin_rules(session: Session) -> dict[int, int]:
    return {space_id: minutes for space_id, minutes in session.exec(
        select(SpaceCheckinRule.space_id, SpaceCheckinRule.minutes))}


def set_checkin_rule(session: Session, space_id: int, minutes: int | None) -> None:
    row = session.get(SpaceCheckinRule, space_id)
    if minutes is None:
        if row is not None:
            session.delete(row)
        return
    row = row or SpaceCheckinRule(space_id=space_id, minutes=minutes)
    row.minutes = minutes
    session.add(row)


def booking_checkin(session: Session, booking_id: int) -> BookingCheckin | None:
    return session.get(BookingCheckin, booking_id)


def check_in_booking(session: Session, booking: Booking, now: datetime) -> bool:
    """Returns False when it was already checked in."""
    assert booking.id is not None
    row = session.get(BookingCheckin, booking.id) or BookingCheckin(booking_id=booking.id)
    if row.checked_in_at is not None:
        return False
    row.checked_in_at = now
    session.add(row)
    return True


def checkin_window(booking: Booking, minutes: int) -> tuple[datetime, datetime]:
    """From a little before the start to ``minutes`` after it."""
    return booking.start - CHECKIN_EARLY, booking.start + timedelta(minutes=minutes)


def bookings_awaiting_checkin(session: Session, member_id: int, now: datetime) -> list[Booking]:
    rules = checkin_rules(session)
    if not rules:
        return []
    rows = session.exec(select(Booking).where(
        Booking.member_id == member_id, Booking.status == "active", col(Booking.space_id).in_(list(rules)),
        Booking.start <= now + CHECKIN_EARLY, Booking.end > now).order_by(col(Booking.start))).all()
    waiting = []
    for booking in rows:
        row = session.get(BookingCheckin, booking.id)
        if (row is None or row.checked_in_at is None) and booking.start - CHECKIN_EARLY <= now \
                <= booking.start + timedelta(minutes=rules[booking.space_id]):
            waiting.append(booking)
    return waiting


def bookings_to_release(session: Session, now: datetime) -> list[tuple[Booking, int]]:
    """Active bookings of spaces that require a check-in, whose deadline has passed with none: (booking,
    minutes of the rule). Only recent ones: a rule set today doesn't release last week's bookings."""
    rules = checkin_rules(session)
    if not rules:
        return []
    rows = session.exec(select(Booking).where(
        Booking.status == "active", col(Booking.space_id).in_(list(rules)), Booking.start <= now,
        Booking.start > now - RECENT).order_by(col(Booking.start))).all()
    due = []
    for booking in rows:
        assert booking.id is not None
        row = session.get(BookingCheckin, booking.id)
        if row is not None and (row.checked_in_at is not None or row.released_at is not None):
            continue
        if booking.start + timedelta(minutes=rules[booking.space_id]) <= now:
            due.append((booking, rules[booking.space_id]))
    return due


def mark_released(session: Session, booking: Booking, now: datetime) -> None:
    assert booking.id is not None
    row = session.get(BookingCheckin, booking.id) or BookingCheckin(booking_id=booking.id)
    row.released_at = now
    session.add(row)
