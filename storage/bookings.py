"""Bookings: creation under a lock (no double booking, ever), cancellation, listings."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnClause,
    CompoundSelect,
    Integer,
    String,
    Table,
    bindparam,
    cast,
    func,
    insert,
    literal_column,
    null,
    union_all,
)
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from storage.booking_rules import Interval, RuledSpace, SpaceRules, check_booking, is_free, week_bounds
from storage.models import Booking, Qualification, Space
from storage.models_events import EVENT_ACTIVE, OCCURRENCE_SCHEDULED, Event, EventOccurrence
from storage.models_reminders import Reminder
from storage.opening_hours import hours_from_json, is_within_hours
from storage.prepared import Prepared, pipelines, rows_together
from storage.reminders import BOOKING_MINUTES
from storage.types import UTCDateTime

EventBlock = tuple[datetime, datetime, str]  # an event's occurrence that takes a whole space: start, end, title


class BookingNotFound(LookupError):
    pass


_LOCK_SPACE = select(Space.id).where(col(Space.id) == bindparam("space_id")).with_for_update()


def lock_space(session: Session, space_id: int) -> None:
    """Serialise bookings of one space. PostgreSQL: a row lock on the space (its id only, no ORM object).
    SQLite: the transaction already began with BEGIN IMMEDIATE (storage.db), which serialises writers."""
    session.connection().execute(_LOCK_SPACE, {"space_id": space_id}).one()


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
    rows = session.connection().execute(_EVENT_BLOCKS, {"ids": list(space_ids), "start": start, "end": end})
    for space_id, o_start, o_end, title in rows:
        if space_id is not None:
            by_space[space_id].append((o_start, o_end, title))
    return by_space


# The /book path: every statement built once, run as a Core query on the session's connection (no ORM
# objects, no autoflush). Overlap conditions are "end > window start AND start < window end": the indexes
# led by the end time (ix_booking_space_end, ix_booking_member_end, ix_occurrence_event_end) read only
# what is not over yet, so the cost doesn't grow with history.

# The space's rules as they are under the lock (not as the command read them a moment before).
_RULE_COLUMNS = (Space.capacity, Space.opening_hours, Space.max_duration_minutes, Space.max_days_ahead,
                 Space.weekly_quota_minutes, Space.required_qualification, Space.closed)
_HOLD_SPACE = Prepared(select(*_RULE_COLUMNS).where(  # type: ignore[call-overload]
    col(Space.id) == bindparam("space_id")).with_for_update())  # ints and text only: run on the driver

_QUALIFICATIONS = select(Qualification.name).where(col(Qualification.member_id) == bindparam("member_id"))

# Everything /book reads of the bookings, in one statement (one round trip): "part" 0, the space's active
# bookings over the asked time; 1, its events' occurrences then (with their title); 2, the member's active
# bookings of the space not over at ``since`` (the limit counts those to come, the weekly quota those of the
# week). Part 2 is read through the space's index led by the end too: "member_id + 0" keeps PostgreSQL from
# AND-ing in the plain member_id index, whose range is the member's whole history (EXPLAIN, 1M past rows).
# Constants written into the statement (Prepared takes only the caller's parameters).
_ACTIVE: ColumnClause[Any] = literal_column("'active'")
_EVENT_ACTIVE: ColumnClause[Any] = literal_column(f"'{EVENT_ACTIVE}'")
_SCHEDULED: ColumnClause[Any] = literal_column(f"'{OCCURRENCE_SCHEDULED}'")
_SLOT_AND_MEMBER = Prepared(union_all(
    select(literal_column("0").label("part"), Booking.start, Booking.end, cast(null(), String).label("title"))
    .where(
        col(Booking.space_id) == bindparam("space_id"),
        col(Booking.status) == _ACTIVE,
        col(Booking.end) > bindparam("start", type_=UTCDateTime()),
        col(Booking.start) < bindparam("end", type_=UTCDateTime()),
    ),
    select(literal_column("1"), EventOccurrence.start, EventOccurrence.end, Event.title)
    .join(Event, col(Event.id) == EventOccurrence.event_id)
    .where(col(Event.space_id) == bindparam("space_id"), col(Event.status) == _EVENT_ACTIVE,
           col(EventOccurrence.status) == _SCHEDULED,
           col(EventOccurrence.end) > bindparam("start", type_=UTCDateTime()),
           col(EventOccurrence.start) < bindparam("end", type_=UTCDateTime())),
    select(literal_column("2"), Booking.start, Booking.end, cast(null(), String)).where(
        col(Booking.member_id) + literal_column("0") == bindparam("member_id"),
        col(Booking.space_id) == bindparam("space_id"),
        col(Booking.status) == _ACTIVE,
        col(Booking.end) > bindparam("since", type_=UTCDateTime()),
    ),
))  # run on the driver: its datetimes are made aware UTC by _utc

_BOOKING_TABLE: Table = Booking.__table__  # type: ignore[attr-defined]
_INSERT_BOOKING = Prepared(insert(_BOOKING_TABLE).values(
    space_id=bindparam("space_id"), member_id=bindparam("member_id"),
    start=bindparam("start", type_=UTCDateTime()), end=bindparam("end", type_=UTCDateTime()),
    status=literal_column("'active'"), created_at=bindparam("created_at", type_=UTCDateTime()),
).returning(_BOOKING_TABLE.c.id))

_REMINDER_TABLE: Table = Reminder.__table__  # type: ignore[attr-defined]

# PostgreSQL: the new booking's number taken from its sequence in the round trip that locks the space and reads
# it (hold_space), so that the booking (and its reminder) can be written without waiting for an answer: sent
# with the COMMIT (Prepared.execute). A number taken for a booking the rules refuse is not used (a gap, as
# after any rollback).
_NEXT_BOOKING_ID_AND_LEAD = Prepared(select(
    func.nextval(func.pg_get_serial_sequence(literal_column("'booking'"), literal_column("'id'"))),
    BOOKING_MINUTES.statement.scalar_subquery()), dialect="postgresql")  # type: ignore[attr-defined]
_BOOKING_WITH_ID = insert(_BOOKING_TABLE).values(
    id=bindparam("id", type_=Integer), space_id=bindparam("space_id"), member_id=bindparam("member_id"),
    start=bindparam("start", type_=UTCDateTime()), end=bindparam("end", type_=UTCDateTime()),
    status=literal_column("'active'"), created_at=bindparam("created_at", type_=UTCDateTime()))
_WRITE_BOOKING = Prepared(_BOOKING_WITH_ID, dialect="postgresql")
# The reminder is the one storage.reminders.schedule_booking inserts at the default lead, when the member kept it
# (else the caller schedules theirs). SQLite takes no INSERT in a WITH: there, the booking alone, then schedule_booking.
_WRITE_BOOKING_AND_REMINDER = Prepared(
    select(literal_column("1")).add_cte(_BOOKING_WITH_ID.cte("new_booking")).add_cte(
        insert(_REMINDER_TABLE).values(
            member_id=bindparam("member_id", type_=Integer), kind=literal_column("'booking'"),
            ref=cast(bindparam("id", type_=Integer), String), text=literal_column("''"),
            due_at=bindparam("due_at", type_=UTCDateTime()), status=literal_column("'pending'"),
            created_at=bindparam("created_at", type_=UTCDateTime())).cte("new_reminder")),
    dialect="postgresql")


def _utc(value: datetime | str) -> datetime:
    """A datetime column read on the driver, as UTCDateTime gives it: SQLite's text, PostgreSQL's aware value."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@lru_cache(maxsize=4096)
def _rules(row: tuple[Any, ...]) -> SpaceRules:
    capacity, hours, max_minutes, days_ahead, quota, qualification, closed = row
    return SpaceRules(capacity=capacity, hours=hours_from_json(hours), max_duration=timedelta(minutes=max_minutes),
                      max_days_ahead=days_ahead, weekly_quota=timedelta(minutes=quota) if quota else None,
                      required_qualification=qualification, closed=bool(closed))


@dataclass(frozen=True, slots=True)
class HeldSpace:
    """A space locked for a booking of [start, end), with what the rules need to know, read under the lock."""

    space_id: int
    member_id: int
    start: datetime
    end: datetime
    rules: SpaceRules
    existing: list[Interval]  # the space's active bookings over [start, end)
    events: list[EventBlock]  # its events' occurrences over [start, end)
    future_bookings: int  # the member's active bookings of the space not over yet (MAX_FUTURE_BOOKINGS_PER_SPACE)
    week_bookings: list[Interval]  # theirs in the week of the start (kept when the space has a quota)
    qualifications: list[str]  # read when the space requires one
    new_id: int | None = None  # PostgreSQL: the booking's number, taken from its sequence under the lock
    own_lead: int | None = None  # PostgreSQL (with new_id): the member's own booking lead if they chose one


@dataclass(frozen=True, slots=True)
class NewBooking:
    id: int
    space_id: int
    member_id: int
    start: datetime
    end: datetime
    reminded: bool = False  # its reminder was inserted with it (create_booking's reminder_minutes)


def hold_space(
    session: Session, space_id: int, member_id: int, start: datetime, end: datetime, now: datetime, tz: ZoneInfo,
) -> HeldSpace:
    """Lock the space for a booking (see lock_space) and read, under the lock, its rules, what occupies it
    over [start, end) and the member's bookings there (one statement), and their qualifications (only when
    the space requires one). PostgreSQL: the lock and the read are sent together (one round trip; the read
    runs once the lock is held, with its own snapshot), the member's bookings read from the start of the
    week in case the space has a weekly quota (its rules are not known yet when the read is sent)."""
    connection = session.connection()
    occupying: Sequence[Sequence[Any]]
    new_id = own_lead = None
    if pipelines(connection):
        week_start, week_end = week_bounds(start, tz)
        [[row], occupying, [(new_id, lead)]] = rows_together(connection, [
            (_HOLD_SPACE, {"space_id": space_id}),
            (_SLOT_AND_MEMBER, {"space_id": space_id, "member_id": member_id, "start": start, "end": end,
                                "since": min(now, week_start)}),
            (_NEXT_BOOKING_ID_AND_LEAD, {"member_id": member_id})])
        rules = _rules(tuple(row))
        own_lead = int(lead) if lead is not None else None
    else:
        [row] = _HOLD_SPACE.rows(connection, {"space_id": space_id})
        rules = _rules(tuple(row))
        week_start, week_end = week_bounds(start, tz) if rules.weekly_quota is not None else (now, now)
        occupying = _SLOT_AND_MEMBER.rows(connection, {
            "space_id": space_id, "member_id": member_id, "start": start, "end": end,
            "since": min(now, week_start)})
    existing: list[Interval] = []
    events: list[EventBlock] = []
    mine: list[Interval] = []
    for part, raw_start, raw_end, title in occupying:
        b_start, b_end = _utc(raw_start), _utc(raw_end)
        if part == 0:
            existing.append((b_start, b_end))
        elif part == 1:
            events.append((b_start, b_end, title))
        else:
            mine.append((b_start, b_end))
    future = sum(1 for _s, b_end in mine if b_end > now)
    week = [(b_start, b_end) for b_start, b_end in mine if b_start < week_end and b_end > week_start] \
        if rules.weekly_quota is not None else []
    qualifications = list(connection.execute(_QUALIFICATIONS, {"member_id": member_id}).scalars()) \
        if rules.required_qualification else []
    return HeldSpace(space_id, member_id, start, end, rules, existing, events, future, week, qualifications,
                     new_id, own_lead)


def create_booking(
    session: Session, held: HeldSpace, now: datetime, tz: ZoneInfo, *, is_coordinator: bool = False,
    reminder_minutes: int = 0,
) -> NewBooking:
    """Check every rule and insert, under the space's lock taken by hold_space. Raises BookingRefused.
    ``reminder_minutes`` (the default lead, BOOKING_REMINDER_MINUTES): on PostgreSQL the booking's reminder is
    inserted in the same statement when the member kept that lead (``reminded``); otherwise the caller
    schedules it (storage.reminders.schedule_booking)."""
    check_booking(held.rules, held.start, held.end, now, tz, existing=held.existing,
                  member_bookings=held.week_bookings, qualifications=held.qualifications,
                  is_coordinator=is_coordinator, events=held.events)
    connection = session.connection()
    params = {"space_id": held.space_id, "member_id": held.member_id, "start": held.start, "end": held.end,
              "created_at": now}
    due_at = held.start - timedelta(minutes=reminder_minutes)
    if held.new_id is not None:  # PostgreSQL: written with the COMMIT, no answer to wait for
        params["id"] = held.new_id
        if reminder_minutes > 0 and due_at > now and held.own_lead in (None, reminder_minutes):
            _WRITE_BOOKING_AND_REMINDER.execute(connection, {**params, "due_at": due_at})
            return NewBooking(held.new_id, held.space_id, held.member_id, held.start, held.end, True)
        _WRITE_BOOKING.execute(connection, params)
        return NewBooking(held.new_id, held.space_id, held.member_id, held.start, held.end)
    [(booking_id,)] = _INSERT_BOOKING.rows(connection, params)
    return NewBooking(booking_id, held.space_id, held.member_id, held.start, held.end)


def _occupying(space_filter: Callable[[Any], Any], *, with_space_id: bool) -> CompoundSelect[Any]:
    """What occupies the spaces ``space_filter`` picks (given a space-id column) over [start, end): their active
    bookings (title NULL) and their events' scheduled occurrences (with their title), each row led by its
    space's id when ``with_space_id``."""
    booking_space = (col(Booking.space_id),) if with_space_id else ()
    event_space = (col(Event.space_id),) if with_space_id else ()
    return union_all(
        core_select(*booking_space, col(Booking.start), col(Booking.end), cast(null(), String).label("title")).where(
            space_filter(col(Booking.space_id)),
            col(Booking.status) == _ACTIVE,
            col(Booking.end) > bindparam("start", type_=UTCDateTime()),
            col(Booking.start) < bindparam("end", type_=UTCDateTime()),
        ),
        core_select(*event_space, col(EventOccurrence.start), col(EventOccurrence.end), col(Event.title))
        .join(Event, col(Event.id) == EventOccurrence.event_id)
        .where(space_filter(col(Event.space_id)), col(Event.status) == _EVENT_ACTIVE,
               col(EventOccurrence.status) == _SCHEDULED,
               col(EventOccurrence.end) > bindparam("start", type_=UTCDateTime()),
               col(EventOccurrence.start) < bindparam("end", type_=UTCDateTime())),
    )


# The refused /book's reads (handlers.bookings._alternatives): what occupies the space over the suggestion window,
# and a first look at similar spaces over the asked time. Prepared (run on the driver, datetimes made aware UTC by
# _utc) and, on PostgreSQL, sent together: one round trip, as the booked path's own reads (issue 15).
_SPACE_OCCUPIED = Prepared(_occupying(lambda space_id: space_id == bindparam("space_id"), with_space_id=False))

_FIRST_LOOK = 6  # most spaces are free at a given time: the first few usually give the answer
# Prepared takes no expanding IN: the first look names _FIRST_LOOK ids, a shorter look repeats its first one
# (a space named twice in an IN is read once).
_LOOK_IDS = tuple(f"id{n}" for n in range(_FIRST_LOOK))
_FIRST_LOOK_OCCUPIED = Prepared(_occupying(
    lambda space_id: space_id.in_([bindparam(name, type_=Integer) for name in _LOOK_IDS]), with_space_id=True))

# The rest of the similar spaces, when the first look didn't find enough free (rare): any number of ids.
_OCCUPIED_MANY = _occupying(lambda space_id: space_id.in_(bindparam("ids", expanding=True)), with_space_id=True)


R = TypeVar("R", bound=RuledSpace)


@dataclass(frozen=True, slots=True)
class Alternatives(Generic[R]):
    """What a refused booking offers instead: what occupies the space over the suggestion window (for its
    nearest free slots), and the first similar spaces free at the asked time, in their order."""

    taken: list[Interval]
    free_similar: list[R]


def alternatives(
    session: Session, space: RuledSpace, window: tuple[datetime, datetime], similar: Sequence[R],
    start: datetime, end: datetime, tz: ZoneInfo, limit: int = 3,
) -> Alternatives[R]:
    """What occupies ``space`` over ``window`` (its events counted ``capacity`` times: the space shows full)
    and the first ``limit`` of ``similar`` free over [start, end). Bookings and events are read only for the
    similar spaces open then, for a few of them first, with the space's own read (on PostgreSQL one round
    trip), then, if that didn't find enough, for the rest: not for every space each time."""
    candidates = _open_then(similar, start, end, tz)
    first = candidates[:_FIRST_LOOK]
    statements: list[tuple[Prepared, Mapping[str, Any] | None]] = [
        (_SPACE_OCCUPIED, {"space_id": space.id, "start": window[0], "end": window[1]})]
    if first:
        statements.append((_FIRST_LOOK_OCCUPIED, _look_params(first, start, end)))
    [own, *looked] = rows_together(session.connection(), statements)
    taken = [interval for raw_start, raw_end, title in own
             for interval in _counted(raw_start, raw_end, title, space.rules.capacity)]
    free = _free_among(first, looked[0] if looked else (), start, end, tz, limit)
    rest = candidates[_FIRST_LOOK:]
    if len(free) < limit and rest:
        free += _free_among(rest, _rest_rows(session, rest, start, end), start, end, tz, limit - len(free))
    return Alternatives(taken, free)


def _open_then(spaces: Sequence[R], start: datetime, end: datetime, tz: ZoneInfo) -> list[R]:
    """The spaces open over [start, end) by their hours and not closed, in their order (spaces with the same
    hours share the parsed object: each set of hours is checked once)."""
    open_then: dict[int, bool] = {}
    found = []
    for space in spaces:
        hours = space.rules.hours
        if id(hours) not in open_then:
            open_then[id(hours)] = is_within_hours(hours, start, end, tz)
        if open_then[id(hours)] and not space.rules.closed:
            found.append(space)
    return found


def _look_params(spaces: Sequence[RuledSpace], start: datetime, end: datetime) -> dict[str, Any]:
    """The first look's parameters: its fixed number of ids, a shorter look's first one repeated (which reads
    nothing more: a Prepared statement's SQL is fixed, so its IN list can't shrink)."""
    ids = [space.id for space in spaces]
    ids += [ids[0]] * (_FIRST_LOOK - len(ids))
    return {**dict(zip(_LOOK_IDS, ids, strict=True)), "start": start, "end": end}


def _rest_rows(session: Session, spaces: Sequence[RuledSpace], start: datetime, end: datetime) -> Sequence[Any]:
    """What occupies the similar spaces past the first look (any number: an expanding IN, which Prepared
    doesn't take; rare, so SQLAlchemy's statement and its own round trip are fine here)."""
    return session.connection().execute(
        _OCCUPIED_MANY, {"ids": [space.id for space in spaces], "start": start, "end": end}).all()


def _counted(raw_start: Any, raw_end: Any, title: str | None, capacity: int) -> list[Interval]:
    """A row's interval (datetimes as the driver gives them): an event's occurrence (a title) counted as many
    times as the space has places, so that the space shows full."""
    return [(_utc(raw_start), _utc(raw_end))] * (1 if title is None else capacity)


def _free_among(spaces: Sequence[R], rows: Iterable[Sequence[Any]], start: datetime, end: datetime,
                tz: ZoneInfo, limit: int) -> list[R]:
    """The first ``limit`` of these spaces free over [start, end), given what occupies them then (``rows``:
    space id, start, end, title)."""
    capacity = {space.id: space.rules.capacity for space in spaces}
    taken: dict[int, list[Interval]] = {space.id: [] for space in spaces}
    for sid, raw_start, raw_end, title in rows:
        taken[sid] += _counted(raw_start, raw_end, title, capacity[sid])
    free: list[R] = []
    for space in spaces:
        if is_free(space.rules, taken[space.id], start, end, tz):
            free.append(space)
            if len(free) == limit:
                break
    return free


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


# A member's upcoming bookings (/mybookings), built once, read as columns through ix_booking_member_end.
_UPCOMING_LINES = (
    select(Booking.id, Space.name, Booking.start, Booking.end)
    .join(Space, col(Space.id) == col(Booking.space_id))
    .where(col(Booking.member_id) == bindparam("member_id"), Booking.status == "active",
           col(Booking.end) > bindparam("now", type_=UTCDateTime()))
    .order_by(col(Booking.start), col(Booking.id))
    .limit(bindparam("limit"))
)


def upcoming_booking_lines(
    session: Session, member_id: int, now: datetime, limit: int = 50
) -> list[tuple[int, str, datetime, datetime]]:
    """A member's upcoming bookings as (number, space name, start, end), in one column query."""
    rows = session.connection().execute(_UPCOMING_LINES, {"member_id": member_id, "now": now, "limit": limit})
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
