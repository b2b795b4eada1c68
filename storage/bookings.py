"""Bookings: creation under a lock (no double booking, ever), cancellation, listings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from storage.booking_rules import Interval, check_booking, week_bounds
from storage.models import Booking, Qualification, Space
from storage.models_events import EVENT_ACTIVE, OCCURRENCE_SCHEDULED, Event, EventOccurrence
from storage.spaces import rules_of
from storage.types import UTCDateTime

EventBlock = tuple[datetime, datetime, str]  # an event's occurrence that takes a whole space: start, end, title


class BookingNotFound(LookupError):
    pass


def lock_space(session: Session, space_id: int) -> Space:
    """Serialise bookings of one space. PostgreSQL: a row lock. SQLite: the transaction already
    began with BEGIN IMMEDIATE (storage.db), which serialises writers."""
    space = session.exec(select(Space).where(Space.id == space_id).with_for_update()).one()
    return space


def _active_intervals(session: Session, start: datetime, end: datetime, *where: Any) -> list[Interval]:
    rows = session.exec(
        select(Booking.start, Booking.end).where(
            Booking.status == "active", Booking.start < end, Booking.end > start, *where
        )
    ).all()
    return [(s, e) for s, e in rows]


def active_intervals(session: Session, space_id: int, start: datetime, end: datetime) -> list[Interval]:
    """What occupies a space over a window: its active bookings, and its events (see bookings_between)."""
    return bookings_between(session, [space_id], start, end)[space_id]


_EVENT_BLOCKS = (
    select(Event.space_id, EventOccurrence.start, EventOccurrence.end, Event.title)
    .join(Event, col(Event.id) == EventOccurrence.event_id)
    .where(col(Event.space_id).in_(bindparam("ids", expanding=True)), Event.status == EVENT_ACTIVE,
           EventOccurrence.status == OCCURRENCE_SCHEDULED,
           col(EventOccurrence.start) < bindparam("end", type_=UTCDateTime()),
           col(EventOccurrence.end) > bindparam("start", type_=UTCDateTime()))
)


def event_blocks(
    session: Session, space_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, list[EventBlock]]:
    """The scheduled event occurrences held in these spaces over a window, in one query."""
    by_space: dict[int, list[EventBlock]] = {sid: [] for sid in space_ids}
    if not space_ids:
        return by_space
    rows = session.exec(_EVENT_BLOCKS, params={"ids": list(space_ids), "start": start, "end": end}).all()
    for space_id, o_start, o_end, title in rows:
        if space_id is not None:
            by_space[space_id].append((o_start, o_end, title))
    return by_space


def member_intervals(
    session: Session, member_id: int, space_id: int, start: datetime, end: datetime
) -> list[Interval]:
    return _active_intervals(session, start, end, Booking.member_id == member_id, Booking.space_id == space_id)


def qualifications_of(session: Session, member_id: int) -> list[str]:
    return list(session.exec(select(Qualification.name).where(Qualification.member_id == member_id)))


def create_booking(
    session: Session,
    space_id: int,
    member_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    tz: ZoneInfo,
    *,
    is_coordinator: bool = False,
) -> Booking:
    """Check every rule and insert, under the space's lock. Raises BookingRefused."""
    space = lock_space(session, space_id)
    week_start, week_end = week_bounds(start, tz)
    events = event_blocks(session, [space_id], start, end)[space_id]
    check_booking(
        rules_of(space),
        start,
        end,
        now,
        tz,
        existing=_active_intervals(session, start, end, Booking.space_id == space_id),
        member_bookings=member_intervals(session, member_id, space_id, week_start, week_end),
        qualifications=qualifications_of(session, member_id),
        is_coordinator=is_coordinator,
        events=events,
    )
    booking = Booking(space_id=space_id, member_id=member_id, start=start, end=end, created_at=now)
    session.add(booking)
    session.flush()
    return booking


def get_booking(session: Session, booking_id: int) -> Booking:
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise BookingNotFound(booking_id)
    return booking


def cancel_booking(session: Session, booking: Booking, by_member_id: int, now: datetime) -> None:
    booking.status = "cancelled"
    booking.cancelled_at = now
    booking.cancelled_by = by_member_id
    session.add(booking)


def upcoming_bookings(session: Session, member_id: int, now: datetime, limit: int = 50) -> list[Booking]:
    return list(
        session.exec(
            select(Booking)
            .where(Booking.member_id == member_id, Booking.status == "active", Booking.end > now)
            .order_by(col(Booking.start))
            .limit(limit)
        )
    )


def upcoming_booking_lines(
    session: Session, member_id: int, now: datetime, limit: int = 50
) -> list[tuple[int, str, datetime, datetime]]:
    """A member's upcoming bookings as (number, space name, start, end), in one column query."""
    rows = session.exec(
        select(Booking.id, Space.name, Booking.start, Booking.end)
        .join(Space, col(Space.id) == col(Booking.space_id))
        .where(Booking.member_id == member_id, Booking.status == "active", Booking.end > now)
        .order_by(col(Booking.start), col(Booking.id))
        .limit(limit)
    ).all()
    return [(booking_id, name, start, end) for booking_id, name, start, end in rows if booking_id is not None]


# Built once (the listing commands run it for every space at each call): an expanding IN list instead of
# one bound value coerced per space each time.
_BOOKINGS_BETWEEN = select(Booking.space_id, Booking.start, Booking.end).where(
    col(Booking.space_id).in_(bindparam("ids", expanding=True)),
    Booking.status == "active",
    col(Booking.start) < bindparam("end", type_=UTCDateTime()),
    col(Booking.end) > bindparam("start", type_=UTCDateTime()),
)


def bookings_between(
    session: Session, space_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, list[Interval]]:
    """What occupies several spaces over a window: active bookings, in one query, and event
    occurrences, each counted as many times as the space has places, so the space shows full."""
    by_space: dict[int, list[Interval]] = {sid: [] for sid in space_ids}
    if not space_ids:
        return by_space
    rows = session.exec(_BOOKINGS_BETWEEN, params={"ids": list(space_ids), "start": start, "end": end}).all()
    for space_id, b_start, b_end in rows:
        by_space[space_id].append((b_start, b_end))
    blocks = {sid: found for sid, found in event_blocks(session, space_ids, start, end).items() if found}
    if blocks:
        capacities = dict(session.exec(select(Space.id, Space.capacity).where(col(Space.id).in_(list(blocks)))).all())
        for space_id, found in blocks.items():
            for b_start, b_end, _title in found:
                by_space[space_id].extend([(b_start, b_end)] * capacities[space_id])
    return by_space


def suggestion_window(around: datetime, days: int = 8) -> tuple[datetime, datetime]:
    return around - timedelta(days=1), around + timedelta(days=days + 1)
