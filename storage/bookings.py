"""Bookings: creation under a lock (no double booking, ever), cancellation, listings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from storage.booking_rules import Interval, check_booking, week_bounds
from storage.models import Booking, Qualification, Space
from storage.spaces import rules_of


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
    return _active_intervals(session, start, end, Booking.space_id == space_id)


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
    check_booking(
        rules_of(space),
        start,
        end,
        now,
        tz,
        existing=active_intervals(session, space_id, start, end),
        member_bookings=member_intervals(session, member_id, space_id, week_start, week_end),
        qualifications=qualifications_of(session, member_id),
        is_coordinator=is_coordinator,
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


def bookings_between(
    session: Session, space_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, list[Interval]]:
    """Active bookings of several spaces over a window, in one query."""
    by_space: dict[int, list[Interval]] = {sid: [] for sid in space_ids}
    if not space_ids:
        return by_space
    rows = session.exec(
        select(Booking.space_id, Booking.start, Booking.end).where(
            col(Booking.space_id).in_(list(space_ids)),
            Booking.status == "active",
            Booking.start < end,
            Booking.end > start,
        )
    ).all()
    for space_id, b_start, b_end in rows:
        by_space[space_id].append((b_start, b_end))
    return by_space


def suggestion_window(around: datetime, days: int = 8) -> tuple[datetime, datetime]:
    return around - timedelta(days=1), around + timedelta(days=days + 1)
