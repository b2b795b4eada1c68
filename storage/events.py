"""Events: creation (with the space they reserve), edits, cancellations, sign-ups under a lock (the last
place never goes to two people), waitlist promotion, the queries behind the listings, the feeds and
the reminders, and members' calendar tokens.

Functions here raise domain errors and return what changed (who is to be told); they know no chat.
"""

from __future__ import annotations

import secrets
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage.bookings import cancel_booking, lock_space
from storage.event_rules import (
    MAX_OCCURRENCES,
    OPEN_ENDED_HORIZON,
    TOP_UP_MARGIN,
    Slot,
    expand,
    first_from,
    local_slot,
    needs_top_up,
    signup_status,
    to_promote,
    wall_duration,
)
from storage.models import Booking, Member, Space
from storage.models_events import (
    EVENT_ACTIVE,
    EVENT_CANCELLED,
    OCCURRENCE_CANCELLED,
    OCCURRENCE_SCHEDULED,
    SIGNUP_CONFIRMED,
    SIGNUP_LEFT,
    SIGNUP_WAITLISTED,
    CalendarToken,
    Event,
    EventOccurrence,
    EventSignup,
)
from storage.refusals import Refused
from storage.wall_clock import held_slot, in_real_time, time_of_day

ACTIVE_SIGNUPS = (SIGNUP_CONFIRMED, SIGNUP_WAITLISTED)


class EventNotFound(LookupError):
    pass


class EventRefused(Refused):
    """``reason``: past, cancelled, too_many, no_occurrence. ``params`` fill in the sentence."""


@dataclass(frozen=True)
class SpaceConflict:
    """Something already in the space when an event would take it: a booking or another event."""

    kind: str  # booking | event
    id: int
    start: datetime
    end: datetime
    title: str = ""
    member_id: int | None = None


class SpaceBusy(Exception):
    def __init__(self, conflicts: Sequence[SpaceConflict]) -> None:
        super().__init__("space busy")
        self.conflicts = list(conflicts)

    @property
    def only_bookings(self) -> bool:
        return all(c.kind == "booking" for c in self.conflicts)


@dataclass
class Change:
    """What an edit or a cancellation did: whom to tell, and the bookings it displaced."""

    occurrences: list[EventOccurrence] = field(default_factory=list)
    told: dict[int, list[int]] = field(default_factory=dict)  # occurrence id -> member ids signed up
    promoted: list[EventSignup] = field(default_factory=list)
    cancelled_bookings: list[Booking] = field(default_factory=list)


# --- space reservation ------------------------------------------------------------------------------

def _overlapping(slots: Sequence[Slot], start: datetime, end: datetime, ends: Sequence[datetime]) -> bool:
    index = bisect_right(ends, start)
    return index < len(slots) and slots[index].start < end


def space_conflicts(
    session: Session, space_id: int, slots: Sequence[Slot], exclude_event_id: int | None = None,
    exclude_occurrence_id: int | None = None,
) -> list[SpaceConflict]:
    """Active bookings and other events' occurrences of the space that overlap any of ``slots``."""
    if not slots:
        return []
    slots = sorted(slots, key=lambda s: s.start)
    ends = [s.end for s in slots]
    low, high = slots[0].start, max(ends)
    conflicts: list[SpaceConflict] = []
    bookings = session.exec(select(Booking.id, Booking.start, Booking.end, Booking.member_id).where(
        Booking.space_id == space_id, Booking.status == "active", Booking.start < high, Booking.end > low,
    ).order_by(col(Booking.start))).all()
    for booking_id, b_start, b_end, member_id in bookings:
        if _overlapping(slots, b_start, b_end, ends):
            assert booking_id is not None
            conflicts.append(SpaceConflict("booking", booking_id, b_start, b_end, member_id=member_id))
    query = select(EventOccurrence.id, EventOccurrence.start, EventOccurrence.end, Event.title).join(
        Event, col(Event.id) == EventOccurrence.event_id
    ).where(
        Event.space_id == space_id, EventOccurrence.status == OCCURRENCE_SCHEDULED,
        EventOccurrence.start < high, EventOccurrence.end > low,
    )
    if exclude_event_id is not None:
        query = query.where(EventOccurrence.event_id != exclude_event_id)
    if exclude_occurrence_id is not None:
        query = query.where(EventOccurrence.id != exclude_occurrence_id)
    for occ_id, o_start, o_end, title in session.exec(query.order_by(col(EventOccurrence.start))).all():
        if _overlapping(slots, o_start, o_end, ends):
            assert occ_id is not None
            conflicts.append(SpaceConflict("event", occ_id, o_start, o_end, title=title))
    return conflicts


def _claim_space(
    session: Session, space_id: int, slots: Sequence[Slot], by_member_id: int, now: datetime, *,
    force: bool, exclude_event_id: int | None = None, exclude_occurrence_id: int | None = None,
) -> list[Booking]:
    """Lock the space and make sure ``slots`` are free in it. Another event always refuses; bookings
    refuse unless ``force``, which cancels them (returned, so their bookers can be told)."""
    lock_space(session, space_id)
    conflicts = space_conflicts(session, space_id, slots, exclude_event_id, exclude_occurrence_id)
    if not conflicts:
        return []
    if not force or not all(c.kind == "booking" for c in conflicts):
        raise SpaceBusy(conflicts)
    cancelled = []
    for conflict in conflicts:
        booking = session.get(Booking, conflict.id)
        assert booking is not None
        cancel_booking(session, booking, by_member_id, now)
        cancelled.append(booking)
    return cancelled


# --- creation and top-up ------------------------------------------------------------------------------

def _horizon(now: datetime) -> datetime:
    return now + OPEN_ENDED_HORIZON


def create_event(
    session: Session,
    *,
    title: str,
    organiser_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    tz: ZoneInfo,
    description: str = "",
    space_id: int | None = None,
    capacity: int | None = None,
    rule: str | None = None,
    count: int | None = None,
    until: datetime | None = None,
    force: bool = False,
) -> tuple[Event, list[EventOccurrence], list[Booking]]:
    """Create a single event or a series with its occurrence rows (an open-ended series gets rows for
    the next months, topped up later). Raises EventRefused or SpaceBusy."""
    open_ended = rule is not None and count is None and until is None
    if rule is not None and start < now:
        first = first_from(start, end, tz, rule, now)
        if first is not None:
            start, end = first.start, first.end
    slots = expand(start, end, tz, rule, count=count, until=until, before=_horizon(now) if open_ended else None)
    if not slots:
        raise EventRefused("no_occurrence")
    if len(slots) > MAX_OCCURRENCES:
        raise EventRefused("too_many", max=MAX_OCCURRENCES)
    if slots[0].start < now:
        raise EventRefused("past")
    duration = wall_duration(start, end, tz)
    rule_time = time_of_day(slots[0].start, tz)
    held = [in_real_time(s, duration, tz, rule_time) for s in slots]  # a skipped time: the first valid one
    cancelled: list[Booking] = []
    if space_id is not None:
        cancelled = _claim_space(session, space_id, held, organiser_id, now, force=force)
    event = Event(
        title=title[:200], description=description, organiser_id=organiser_id, space_id=space_id,
        capacity=capacity, start=slots[0].start, end=slots[0].end, rrule=rule, rule_count=count,
        rule_until=until, materialised_until=_horizon(now) if open_ended else None,
        created_at=now, updated_at=now,
    )
    session.add(event)
    session.flush()
    assert event.id is not None
    occurrences = [EventOccurrence(event_id=event.id, original_start=s.start, start=h.start, end=h.end,
                                   updated_at=now) for s, h in zip(slots, held, strict=True)]
    session.add_all(occurrences)
    session.flush()
    return event, occurrences, cancelled


def ensure_occurrences(session: Session, now: datetime, tz: ZoneInfo) -> int:
    """Give open-ended series their rows for the coming months; returns how many were added.

    A weekly repair café goes on for ever; its rows are kept OPEN_ENDED_HORIZON ahead. Series whose
    space is taken by then get those dates as cancelled occurrences (nobody can sign up for them)."""
    due = session.exec(select(Event.id).where(
        Event.status == EVENT_ACTIVE, col(Event.materialised_until).is_not(None),
        col(Event.materialised_until) < now + OPEN_ENDED_HORIZON - TOP_UP_MARGIN,
    )).all()
    added = 0
    for event_id in due:
        event = session.exec(select(Event).where(Event.id == event_id).with_for_update()).one()
        if not needs_top_up(event.materialised_until, now) or event.status != EVENT_ACTIVE:
            continue
        assert event.materialised_until is not None and event.id is not None
        horizon = _horizon(now)
        slots = expand(event.start, event.end, tz, event.rrule, before=horizon, after=event.materialised_until,
                       limit=MAX_OCCURRENCES * 4)
        length, rule_time = wall_duration(event.start, event.end, tz), time_of_day(event.start, tz)
        conflicts: list[SpaceConflict] = []
        if event.space_id is not None and slots:
            lock_space(session, event.space_id)
            conflicts = space_conflicts(session, event.space_id, slots, event.id)
        for rule_slot in slots:
            slot = in_real_time(rule_slot, length, tz, rule_time)
            clash = any(c.start < slot.end and slot.start < c.end for c in conflicts)
            session.add(EventOccurrence(event_id=event.id, original_start=rule_slot.start, start=slot.start,
                                        end=slot.end, status=OCCURRENCE_CANCELLED if clash else OCCURRENCE_SCHEDULED,
                                        updated_at=now))
            added += 1
        event.materialised_until = horizon
        session.add(event)
    if added:
        session.flush()
    return added


# --- lookups ----------------------------------------------------------------------------------------------

def get_occurrence(session: Session, occurrence_id: int) -> tuple[EventOccurrence, Event]:
    occurrence = session.get(EventOccurrence, occurrence_id)
    if occurrence is None:
        raise EventNotFound(occurrence_id)
    event = session.get(Event, occurrence.event_id)
    assert event is not None
    return occurrence, event


def lock_occurrence(session: Session, occurrence_id: int) -> EventOccurrence:
    """Serialise sign-ups of one occurrence. PostgreSQL: a row lock. SQLite: BEGIN IMMEDIATE already
    serialises writers (storage.db)."""
    occurrence = session.exec(
        select(EventOccurrence).where(EventOccurrence.id == occurrence_id).with_for_update()
    ).first()
    if occurrence is None:
        raise EventNotFound(occurrence_id)
    session.refresh(occurrence)
    return occurrence


def signup_counts(session: Session, occurrence_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """Occurrence id -> (confirmed, waitlisted), in one query."""
    ids = list(occurrence_ids)
    counts = {i: (0, 0) for i in ids}
    if not ids:
        return counts
    rows = session.exec(select(EventSignup.occurrence_id, EventSignup.status, func.count()).where(
        col(EventSignup.occurrence_id).in_(ids), col(EventSignup.status).in_(ACTIVE_SIGNUPS),
    ).group_by(col(EventSignup.occurrence_id), col(EventSignup.status))).all()
    for occurrence_id, status, number in rows:
        confirmed, waitlisted = counts[occurrence_id]
        counts[occurrence_id] = (number, waitlisted) if status == SIGNUP_CONFIRMED else (confirmed, number)
    return counts


def upcoming_occurrences(
    session: Session, start: datetime, end: datetime, limit: int = 50, space_id: int | None = None,
) -> list[tuple[EventOccurrence, Event]]:
    """Scheduled occurrences running in [start, end), soonest first."""
    query = select(EventOccurrence, Event).join(Event, col(Event.id) == EventOccurrence.event_id).where(
        EventOccurrence.status == OCCURRENCE_SCHEDULED, EventOccurrence.end > start, EventOccurrence.start < end,
    )
    if space_id is not None:
        query = query.where(Event.space_id == space_id)
    rows = session.exec(query.order_by(col(EventOccurrence.start), col(EventOccurrence.id)).limit(limit)).all()
    return [(occ, event) for occ, event in rows]


def next_occurrences(session: Session, event_id: int, after: datetime, limit: int = 5) -> list[EventOccurrence]:
    return list(session.exec(select(EventOccurrence).where(
        EventOccurrence.event_id == event_id, EventOccurrence.status == OCCURRENCE_SCHEDULED,
        EventOccurrence.start > after,
    ).order_by(col(EventOccurrence.start)).limit(limit)))


def find_signup(session: Session, occurrence_id: int, member_id: int) -> EventSignup | None:
    return session.exec(select(EventSignup).where(
        EventSignup.occurrence_id == occurrence_id, EventSignup.member_id == member_id)).first()


def waitlist(session: Session, occurrence_id: int) -> list[EventSignup]:
    return list(session.exec(select(EventSignup).where(
        EventSignup.occurrence_id == occurrence_id, EventSignup.status == SIGNUP_WAITLISTED,
    ).order_by(col(EventSignup.joined_at), col(EventSignup.id))))


def waitlist_position(session: Session, signup: EventSignup) -> int:
    """1 for the first in line."""
    ahead = [s.id for s in waitlist(session, signup.occurrence_id)]
    return ahead.index(signup.id) + 1 if signup.id in ahead else 0


def waitlist_positions(session: Session, signups: Sequence[EventSignup]) -> dict[int, int]:
    """``waitlist_position`` of several sign-ups (a member's list), their waiting lists read in one query:
    {sign-up id: 1 for the first in line, 0 if not waiting}."""
    occurrences = {s.occurrence_id for s in signups if s.status == SIGNUP_WAITLISTED}
    in_line: dict[int, list[int | None]] = {o: [] for o in occurrences}
    if occurrences:
        for signup_id, occurrence_id in session.exec(
            select(EventSignup.id, EventSignup.occurrence_id)
            .where(col(EventSignup.occurrence_id).in_(occurrences), EventSignup.status == SIGNUP_WAITLISTED)
            .order_by(col(EventSignup.occurrence_id), col(EventSignup.joined_at), col(EventSignup.id))
        ).all():
            in_line[occurrence_id].append(signup_id)
    positions = {}
    for signup in signups:
        line = in_line.get(signup.occurrence_id, [])
        if signup.id is not None:
            positions[signup.id] = line.index(signup.id) + 1 if signup.id in line else 0
    return positions


def signup_names(session: Session, occurrence_id: int) -> list[tuple[str, str]]:
    """(status, member's name) of one occurrence's sign-ups, in ``signups_of_occurrence``'s order, read as
    columns (a list of names builds no objects)."""
    rows = session.exec(select(EventSignup.status, Member.display_name)
                        .join(Member, col(Member.id) == EventSignup.member_id)
                        .where(EventSignup.occurrence_id == occurrence_id,
                               col(EventSignup.status).in_(list(ACTIVE_SIGNUPS)))
                        .order_by(col(EventSignup.status), col(EventSignup.joined_at), col(EventSignup.id))).all()
    return [(status, name) for status, name in rows]


def signups_of_occurrence(
    session: Session, occurrence_id: int, statuses: Sequence[str] = ACTIVE_SIGNUPS,
) -> list[tuple[EventSignup, Member]]:
    """The sign-ups of one occurrence with their members: confirmed first in joining order, then the
    waitlist in its order."""
    rows = session.exec(select(EventSignup, Member).join(Member, col(Member.id) == EventSignup.member_id).where(
        EventSignup.occurrence_id == occurrence_id, col(EventSignup.status).in_(list(statuses)),
    ).order_by(col(EventSignup.status), col(EventSignup.joined_at), col(EventSignup.id))).all()
    return [(signup, member) for signup, member in rows]


@dataclass(frozen=True)
class UpcomingSignup:
    """A confirmed place at a scheduled occurrence: what a reminder needs."""

    signup_id: int
    member_id: int
    occurrence_id: int
    event_id: int
    title: str
    start: datetime
    end: datetime
    space_id: int | None
    sequence: int  # changes when the occurrence or its series is edited: a reminder key can include it


def upcoming_signups(session: Session, start: datetime, end: datetime) -> list[UpcomingSignup]:
    """Confirmed sign-ups of scheduled occurrences starting in [start, end), soonest first."""
    columns: list[Any] = [EventSignup.id, EventSignup.member_id, EventOccurrence.id, Event.id, Event.title,
                          EventOccurrence.start, EventOccurrence.end, Event.space_id, EventOccurrence.sequence,
                          Event.sequence]
    rows = session.execute(
        sa_select(*columns)
        .join(EventOccurrence, col(EventOccurrence.id) == EventSignup.occurrence_id)
        .join(Event, col(Event.id) == EventOccurrence.event_id)
        .where(col(EventSignup.status) == SIGNUP_CONFIRMED, col(EventOccurrence.status) == OCCURRENCE_SCHEDULED,
               col(Event.status) == EVENT_ACTIVE, col(EventOccurrence.start) >= start,
               col(EventOccurrence.start) < end)
        .order_by(col(EventOccurrence.start), col(EventSignup.id))
    ).all()
    return [UpcomingSignup(sid, mid, oid, eid, title, s, e, space, oseq + eseq)
            for sid, mid, oid, eid, title, s, e, space, oseq, eseq in rows]


def member_signups(
    session: Session, member_id: int, now: datetime, limit: int = 50,
) -> list[tuple[EventSignup, EventOccurrence, Event]]:
    rows = session.exec(
        select(EventSignup, EventOccurrence, Event)
        .join(EventOccurrence, col(EventOccurrence.id) == EventSignup.occurrence_id)
        .join(Event, col(Event.id) == EventOccurrence.event_id)
        .where(EventSignup.member_id == member_id, col(EventSignup.status).in_(ACTIVE_SIGNUPS),
               EventOccurrence.end > now)
        .order_by(col(EventOccurrence.start)).limit(limit)
    ).all()
    return [(s, o, e) for s, o, e in rows]


# --- joining and leaving -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class JoinResult:
    status: str  # confirmed | waitlisted
    already: bool
    position: int = 0  # on the waitlist


def _check_open(occurrence: EventOccurrence, event: Event, now: datetime) -> None:
    if occurrence.status == OCCURRENCE_CANCELLED or event.status == EVENT_CANCELLED:
        raise EventRefused("cancelled")
    if occurrence.start <= now:
        raise EventRefused("past")


def join(session: Session, occurrence_id: int, member_id: int, now: datetime) -> JoinResult:
    """Sign up: a place if one is free, else the waitlist. Signing up twice changes nothing."""
    occurrence = lock_occurrence(session, occurrence_id)
    event = session.get(Event, occurrence.event_id)
    assert event is not None
    signup = find_signup(session, occurrence_id, member_id)
    if signup is not None and signup.status in ACTIVE_SIGNUPS:
        position = waitlist_position(session, signup) if signup.status == SIGNUP_WAITLISTED else 0
        return JoinResult(signup.status, already=True, position=position)
    _check_open(occurrence, event, now)
    confirmed, _ = signup_counts(session, [occurrence_id])[occurrence_id]
    status = signup_status(event.capacity, confirmed)
    if signup is None:
        signup = EventSignup(occurrence_id=occurrence_id, member_id=member_id, status=status, joined_at=now,
                             updated_at=now)
    else:
        signup.status, signup.joined_at, signup.updated_at = status, now, now
    session.add(signup)
    session.flush()
    position = waitlist_position(session, signup) if status == SIGNUP_WAITLISTED else 0
    return JoinResult(status, already=False, position=position)


def promote(session: Session, occurrence: EventOccurrence, event: Event, now: datetime) -> list[EventSignup]:
    """Give the free places to the first on the waitlist (before the occurrence starts)."""
    if occurrence.status != OCCURRENCE_SCHEDULED or event.status != EVENT_ACTIVE or occurrence.start <= now:
        return []
    assert occurrence.id is not None
    confirmed, _ = signup_counts(session, [occurrence.id])[occurrence.id]
    line = waitlist(session, occurrence.id)
    chosen = set(to_promote(event.capacity, confirmed, [s.id for s in line if s.id is not None]))
    promoted = [s for s in line if s.id in chosen]
    for signup in promoted:
        signup.status, signup.updated_at = SIGNUP_CONFIRMED, now
        session.add(signup)
    session.flush()
    return promoted


@dataclass(frozen=True)
class LeaveResult:
    was: str | None  # confirmed | waitlisted | None (wasn't signed up)
    promoted: list[EventSignup]


def leave(session: Session, occurrence_id: int, member_id: int, now: datetime) -> LeaveResult:
    """Give one's place back (or leave the waitlist); the first on the waitlist takes the place."""
    occurrence = lock_occurrence(session, occurrence_id)
    event = session.get(Event, occurrence.event_id)
    assert event is not None
    signup = find_signup(session, occurrence_id, member_id)
    if signup is None or signup.status not in ACTIVE_SIGNUPS:
        return LeaveResult(None, [])
    if occurrence.end <= now:
        raise EventRefused("past")
    was = signup.status
    signup.status, signup.updated_at = SIGNUP_LEFT, now
    session.add(signup)
    session.flush()
    promoted = promote(session, occurrence, event, now) if was == SIGNUP_CONFIRMED else []
    return LeaveResult(was, promoted)


# --- edits and cancellations -----------------------------------------------------------------------------

def _active_members(session: Session, occurrence_ids: Sequence[int]) -> dict[int, list[int]]:
    told: dict[int, list[int]] = {i: [] for i in occurrence_ids}
    if not occurrence_ids:
        return told
    rows = session.exec(select(EventSignup.occurrence_id, EventSignup.member_id).where(
        col(EventSignup.occurrence_id).in_(list(occurrence_ids)), col(EventSignup.status).in_(ACTIVE_SIGNUPS),
    ).order_by(col(EventSignup.id))).all()
    for occurrence_id, member_id in rows:
        told[occurrence_id].append(member_id)
    return told


def future_occurrences(session: Session, event_id: int, now: datetime) -> list[EventOccurrence]:
    return list(session.exec(select(EventOccurrence).where(
        EventOccurrence.event_id == event_id, EventOccurrence.end > now,
    ).order_by(col(EventOccurrence.start))))


def cancel_occurrence(session: Session, occurrence: EventOccurrence, event: Event, now: datetime) -> Change:
    _check_open(occurrence, event, now)
    occurrence.status, occurrence.sequence, occurrence.updated_at = OCCURRENCE_CANCELLED, occurrence.sequence + 1, now
    session.add(occurrence)
    assert occurrence.id is not None
    return Change([occurrence], _active_members(session, [occurrence.id]))


def cancel_series(session: Session, event: Event, now: datetime) -> Change:
    """Cancel every occurrence still to come; past ones stay in the calendars as they happened.

    A series with dates already held isn't cancelled as a whole: it ends at the last of them (they stay
    held in /event, the feeds and the report); only a series that never took place is cancelled."""
    if event.status == EVENT_CANCELLED:
        raise EventRefused("cancelled")
    upcoming = [o for o in future_occurrences(session, event.id or 0, now)
                if o.status == OCCURRENCE_SCHEDULED and o.start > now]
    upcoming_ids = {o.id for o in upcoming}
    held = list(session.exec(select(EventOccurrence).where(
        EventOccurrence.event_id == (event.id or 0), EventOccurrence.status == OCCURRENCE_SCHEDULED)))
    held = [o for o in held if o.id not in upcoming_ids]
    if held and not upcoming and event.rrule is not None:
        raise EventRefused("past")
    for occurrence in upcoming:
        occurrence.status, occurrence.sequence, occurrence.updated_at = (
            OCCURRENCE_CANCELLED, occurrence.sequence + 1, now)
        session.add(occurrence)
    if held and event.rrule is not None:
        event.rule_until, event.rule_count = max(o.original_start for o in held), None
    else:
        event.status = EVENT_CANCELLED
    event.sequence, event.updated_at = event.sequence + 1, now
    event.materialised_until = None
    session.add(event)
    session.flush()
    return Change(upcoming, _active_members(session, [o.id for o in upcoming if o.id is not None]))


def move_occurrence(
    session: Session, occurrence: EventOccurrence, event: Event, start: datetime, end: datetime,
    now: datetime, by_member_id: int, *, force: bool = False,
) -> Change:
    """Move one occurrence (its series keeps its rule; the feeds show it as an exception)."""
    _check_open(occurrence, event, now)
    if start < now:
        raise EventRefused("past")
    cancelled = []
    if event.space_id is not None:
        cancelled = _claim_space(session, event.space_id, [Slot(start, end)], by_member_id, now, force=force,
                                 exclude_occurrence_id=occurrence.id)
    occurrence.start, occurrence.end = start, end
    occurrence.sequence, occurrence.updated_at = occurrence.sequence + 1, now
    if event.rrule is None:  # a single event: its one occurrence is the event
        occurrence.original_start = start
        event.start, event.end, event.sequence, event.updated_at = start, end, event.sequence + 1, now
        session.add(event)
    session.add(occurrence)
    session.flush()
    assert occurrence.id is not None
    return Change([occurrence], _active_members(session, [occurrence.id]), cancelled_bookings=cancelled)


@dataclass(frozen=True)
class SeriesEdit:
    title: str | None = None
    description: str | None = None
    capacity: int | None = None
    clear_capacity: bool = False
    space_id: int | None = None
    clear_space: bool = False
    times: tuple[time, timedelta] | None = None  # new local start time and wall-clock length


def edit_series(
    session: Session, event: Event, edit: SeriesEdit, now: datetime, tz: ZoneInfo, by_member_id: int,
    *, force: bool = False,
) -> Change:
    """Change what the whole series shares. New times keep each occurrence's day; occurrences moved
    on their own keep their times. A larger capacity promotes from the waitlists."""
    if event.status == EVENT_CANCELLED:
        raise EventRefused("cancelled")
    assert event.id is not None
    rows = list(session.exec(select(EventOccurrence).where(EventOccurrence.event_id == event.id)
                             .order_by(col(EventOccurrence.start))))
    upcoming = [o for o in rows if o.status == OCCURRENCE_SCHEDULED and o.start > now]
    duration = wall_duration(event.start, event.end, tz)
    old_time = time_of_day(event.start, tz)
    new_time, new_duration = edit.times if edit.times is not None else (old_time, duration)
    new_slots: dict[int, Slot] = {}
    if edit.times is not None:

        def retimed(moment: datetime) -> Slot:
            day = moment.astimezone(tz).date()
            return local_slot(datetime.combine(day, new_time, tzinfo=tz), new_duration, tz)

        for occurrence in rows:
            assert occurrence.id is not None
            new_slots[occurrence.id] = retimed(occurrence.original_start)
        first = retimed(event.start)
        if first.start < now and event.rrule is None:
            raise EventRefused("past")
    space_id = None if edit.clear_space else (edit.space_id if edit.space_id is not None else event.space_id)
    cancelled: list[Booking] = []
    if space_id is not None and (edit.times is not None or space_id != event.space_id):
        def planned(o: EventOccurrence) -> Slot:
            moved_alone = held_slot(o.original_start, duration, tz, old_time) != Slot(o.start, o.end)
            return Slot(o.start, o.end) if moved_alone or o.id not in new_slots else in_real_time(
                new_slots[o.id], new_duration, tz, new_time)

        cancelled = _claim_space(session, space_id, [planned(o) for o in upcoming], by_member_id, now,
                                 force=force, exclude_event_id=event.id)
    if edit.times is not None:
        upcoming_ids = {o.id for o in upcoming}
        for occurrence in rows:
            assert occurrence.id is not None
            slot = new_slots[occurrence.id]
            moved_alone = held_slot(occurrence.original_start, duration, tz, old_time) != Slot(
                occurrence.start, occurrence.end)
            occurrence.original_start = slot.start
            if occurrence.id in upcoming_ids and not moved_alone:
                real = in_real_time(slot, new_duration, tz, new_time)
                occurrence.start, occurrence.end = real.start, real.end
            occurrence.updated_at = now
            session.add(occurrence)
        first = retimed(event.start)
        event.start, event.end = first.start, first.end
    if edit.title is not None:
        event.title = edit.title[:200]
    if edit.description is not None:
        event.description = edit.description
    if edit.clear_capacity:
        event.capacity = None
    elif edit.capacity is not None:
        event.capacity = edit.capacity
    event.space_id = space_id
    event.sequence, event.updated_at = event.sequence + 1, now
    session.add(event)
    session.flush()
    change = Change(upcoming, _active_members(session, [o.id for o in upcoming if o.id is not None]),
                    cancelled_bookings=cancelled)
    if edit.capacity is not None or edit.clear_capacity:
        for occurrence in upcoming:
            change.promoted += promote(session, occurrence, event, now)
    return change


# --- organisers and calendar tokens --------------------------------------------------------------------------

def set_organiser(session: Session, member: Member, value: bool) -> bool:
    """Returns whether anything changed."""
    if member.is_organiser == value:
        return False
    member.is_organiser = value
    session.add(member)
    return True


def organisers(session: Session) -> list[Member]:
    return list(session.exec(select(Member).where(Member.is_organiser == True)  # noqa: E712
                             .order_by(col(Member.display_name))))


def new_token() -> str:
    """43 URL-safe characters, 256 bits of randomness."""
    return secrets.token_urlsafe(32)


def calendar_token(session: Session, member_id: int, now: datetime) -> str:
    row = session.get(CalendarToken, member_id)
    if row is None:
        row = CalendarToken(member_id=member_id, token=new_token(), created_at=now)
        session.add(row)
        session.flush()
    return row.token


def reset_calendar_token(session: Session, member_id: int, now: datetime) -> str:
    row = session.get(CalendarToken, member_id)
    if row is None:
        return calendar_token(session, member_id, now)
    row.token, row.created_at = new_token(), now
    session.add(row)
    session.flush()
    return row.token


def member_by_token(session: Session, token: str) -> int | None:
    if not token or len(token) > 64:
        return None
    return session.exec(select(CalendarToken.member_id).where(CalendarToken.token == token)).first()


def space_by_slug(session: Session, slug: str) -> Space | None:
    return session.exec(select(Space).where(Space.slug == slug)).first()


# --- what the calendar feeds read ------------------------------------------------------------------------------

def _events_since(since: datetime, space_id: int | None = None) -> Any:
    """Ids of the events with an occurrence ending after ``since`` (optionally in one space)."""
    query = select(EventOccurrence.event_id).join(Event, col(Event.id) == EventOccurrence.event_id).where(
        EventOccurrence.end >= since)
    if space_id is not None:
        query = query.where(Event.space_id == space_id)
    return query.distinct()


def feed_events(
    session: Session, since: datetime, space_id: int | None = None,
) -> list[tuple[Event, list[EventOccurrence]]]:
    """Events still in view (an occurrence ending after ``since``) with all their occurrences, in two queries."""
    wanted = _events_since(since, space_id)
    events = list(session.exec(select(Event).where(col(Event.id).in_(wanted)).order_by(col(Event.start),
                                                                                         col(Event.id))))
    by_event: dict[int, list[EventOccurrence]] = {e.id: [] for e in events if e.id is not None}
    for occurrence in session.exec(select(EventOccurrence).where(col(EventOccurrence.event_id).in_(wanted))
                                   .order_by(col(EventOccurrence.original_start))):
        by_event[occurrence.event_id].append(occurrence)
    return [(e, by_event[e.id or 0]) for e in events]


def member_feed_signups(
    session: Session, member_id: int, since: datetime,
) -> list[tuple[EventSignup, EventOccurrence, Event]]:
    rows = session.exec(
        select(EventSignup, EventOccurrence, Event)
        .join(EventOccurrence, col(EventOccurrence.id) == EventSignup.occurrence_id)
        .join(Event, col(Event.id) == EventOccurrence.event_id)
        .where(EventSignup.member_id == member_id, col(EventSignup.status).in_(ACTIVE_SIGNUPS),
               EventOccurrence.end >= since)
        .order_by(col(EventOccurrence.start))
    ).all()
    return [(s, o, e) for s, o, e in rows]


def feed_bookings(session: Session, since: datetime, *, space_id: int | None = None,
                  member_id: int | None = None) -> list[Booking]:
    query = select(Booking).where(Booking.status == "active", Booking.end >= since)
    if space_id is not None:
        query = query.where(Booking.space_id == space_id)
    if member_id is not None:
        query = query.where(Booking.member_id == member_id)
    return list(session.exec(query.order_by(col(Booking.start), col(Booking.id))))


FeedVersion = tuple[object, ...]


def events_version(session: Session, space_id: int | None = None) -> FeedVersion:
    """Changes whenever an event or occurrence that a feed shows changes: counts catch additions, and
    every edit or cancellation raises a SEQUENCE, so their sums move even within one clock tick.
    Aggregates only: this is all a conditional request (304) costs."""
    event_query = select(func.count(), func.max(Event.updated_at), func.sum(Event.sequence))
    occurrence_query = select(func.count(), func.max(EventOccurrence.updated_at), func.sum(EventOccurrence.sequence))
    if space_id is not None:
        event_query = event_query.where(Event.space_id == space_id)
        occurrence_query = occurrence_query.join(Event, col(Event.id) == EventOccurrence.event_id).where(
            Event.space_id == space_id)
    return (*session.exec(event_query).one(), *session.exec(occurrence_query).one())


def bookings_version(session: Session, *, space_id: int | None = None, member_id: int | None = None) -> FeedVersion:
    active = func.sum(case((col(Booking.status) == "active", 1), else_=0))
    query = select(func.count(), active, func.max(Booking.created_at), func.max(Booking.cancelled_at))
    if space_id is not None:
        query = query.where(Booking.space_id == space_id)
    if member_id is not None:
        query = query.where(Booking.member_id == member_id)
    return tuple(session.exec(query).one())


def member_signups_version(session: Session, member_id: int) -> FeedVersion:
    """A member's few sign-ups, row by row, with what their dates and events last became."""
    columns: list[Any] = [EventSignup.id, EventSignup.status, EventSignup.updated_at, EventOccurrence.status,
                          EventOccurrence.sequence, EventOccurrence.updated_at, Event.status, Event.sequence,
                          Event.updated_at]
    return tuple(tuple(row) for row in session.execute(
        sa_select(*columns)
        .join(EventOccurrence, col(EventOccurrence.id) == EventSignup.occurrence_id)
        .join(Event, col(Event.id) == EventOccurrence.event_id)
        .where(col(EventSignup.member_id) == member_id).order_by(col(EventSignup.id))).all())


def spaces_version(session: Session) -> FeedVersion:
    """Space names appear in the feeds (LOCATION); a rename must change them."""
    return tuple(session.exec(select(Space.id, Space.name, Space.slug).order_by(col(Space.id))).all())


def space_names(session: Session) -> dict[int, str]:
    return {sid: name for sid, name in session.exec(select(Space.id, Space.name)).all() if sid is not None}
