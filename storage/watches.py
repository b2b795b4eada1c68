"""Booking watches: storing them and finding those whose slot is free again (storage only; the handler
tells the members)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from storage.attendance import checkin_rules
from storage.booking_rules import is_free
from storage.bookings import bookings_between
from storage.models import Space
from storage.models_watch import BookingWatch
from storage.spaces import rules_of

MIN_REST = timedelta(minutes=15)  # less than this left of a begun slot: not worth offering


class TooManyWatches(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


def add_watch(session: Session, member_id: int, space_id: int, start: datetime, end: datetime, now: datetime,
              *, limit: int) -> tuple[BookingWatch, bool]:
    """The member's watch of this slot, and whether it is new. Raises TooManyWatches past ``limit`` live ones."""
    existing = session.exec(select(BookingWatch).where(
        BookingWatch.member_id == member_id, BookingWatch.space_id == space_id,
        BookingWatch.start == start, BookingWatch.end == end)).first()
    if existing is not None and existing.told_at is None:
        return existing, False
    live = session.exec(select(func.count()).select_from(BookingWatch).where(
        BookingWatch.member_id == member_id, col(BookingWatch.told_at).is_(None),
        col(BookingWatch.start) > now)).one()
    if live >= limit:
        raise TooManyWatches(limit)
    watch = existing or BookingWatch(member_id=member_id, space_id=space_id, start=start, end=end)
    watch.told_at, watch.created_at = None, now
    session.add(watch)
    session.flush()
    return watch, True


def offered_span(watch: BookingWatch, now: datetime) -> tuple[datetime, datetime] | None:
    """What can still be booked of a watched slot: all of it before its start; once it has begun (a no-show
    released in a space that requires a check-in), from the next five minutes to its end."""
    if watch.start > now:
        return watch.start, watch.end
    start = now.replace(second=0, microsecond=0) + timedelta(minutes=5 - now.minute % 5)
    return (start, watch.end) if watch.end - start >= MIN_REST else None


def freed_watches(session: Session, now: datetime, tz: ZoneInfo,
                  space_id: int | None = None) -> list[tuple[BookingWatch, datetime, datetime]]:
    """Live watches whose slot is free now, oldest first, with what can be booked of it, locked so that two
    sweeps don't tell twice. A watch lives until its slot's start, or, in a space that requires a check-in
    (where a no-show is released after the start), until its end; and until its member has been told."""
    query = select(BookingWatch).where(col(BookingWatch.told_at).is_(None), col(BookingWatch.end) > now)
    if space_id is not None:
        query = query.where(BookingWatch.space_id == space_id)
    watches = list(session.exec(query.order_by(col(BookingWatch.created_at), col(BookingWatch.id)).with_for_update()))
    checkin = checkin_rules(session) if any(w.start <= now for w in watches) else {}
    spans = {w.id: offered_span(w, now) for w in watches if w.start > now or w.space_id in checkin}
    watches = [w for w in watches if spans.get(w.id) is not None]
    if not watches:
        return []
    spaces = {s.id: s for s in session.exec(select(Space).where(
        col(Space.id).in_({w.space_id for w in watches}))) if s.id is not None}
    occupied = bookings_between(session, list(spaces), min(w.start for w in watches), max(w.end for w in watches))
    found = []
    for w in watches:
        span = spans[w.id]
        assert span is not None
        if w.space_id in spaces and is_free(rules_of(spaces[w.space_id]), occupied[w.space_id], *span, tz):
            found.append((w, *span))
    return found
