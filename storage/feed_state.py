"""What the calendar feeds keep in the database (storage.models_ical.IcalState): the UIDs' domain and
each feed's Last-Modified, which only moves forward; and how often each event's LOCATION changed because its
space was renamed (its SEQUENCE and DTSTAMP move with it, without touching the event: a rename is not an edit
that re-sends reminders)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models_events import Event, EventOccurrence
from storage.models_ical import IcalState

UID_DOMAIN = "uid-domain"
RELOCATED = "event-location:"  # + event id: value = how many renames of its space it has shown


def uid_domain(session: Session, current_host: str) -> str:
    """The host in every UID: the one recorded the first time (today's UIDs stay as they are when
    PUBLIC_URL moves to a new domain), else ``current_host``, recorded now."""
    row = session.get(IcalState, UID_DOMAIN)
    if row is not None:
        return row.value
    try:
        with session.begin_nested():
            session.add(IcalState(name=UID_DOMAIN, value=current_host[:200]))
    except IntegrityError:  # another process recorded it first
        row = session.get(IcalState, UID_DOMAIN)
        return row.value if row is not None else current_host
    return current_host


def last_modified(session: Session, feed: str, etag: str, newest: datetime) -> datetime:
    """The feed's Last-Modified: unchanged while its ETag is; when the ETag changes, the later of the
    data's newest change and one second after the previous value (an event leaving a space's feed
    makes it newer, never older, so If-Modified-Since can't keep a stale copy)."""
    name = f"feed:{feed}"[:80]
    row = session.exec(select(IcalState).where(IcalState.name == name).with_for_update()).first()
    if row is not None and row.value == etag:
        return row.changed_at
    moment = (newest if row is None else max(newest, row.changed_at + timedelta(seconds=1))).replace(microsecond=0)
    if row is None:
        try:
            with session.begin_nested():
                session.add(IcalState(name=name, value=etag, changed_at=moment))
        except IntegrityError:
            return moment
    else:
        row.value, row.changed_at = etag, moment
        session.add(row)
    return moment


def note_space_renamed(session: Session, space_id: int, now: datetime) -> int:
    """A space's name (the LOCATION of its events) changed: each of its events counts one more change,
    kept per event so that its SEQUENCE never goes back (even if it later moves to another space).
    How many events were touched."""
    event_ids = list(session.exec(select(Event.id).where(Event.space_id == space_id)))
    rows = {row.name: row for row in session.exec(select(IcalState).where(
        col(IcalState.name).in_([f"{RELOCATED}{event_id}" for event_id in event_ids])).with_for_update())}
    for event_id in event_ids:
        name = f"{RELOCATED}{event_id}"
        row = rows.get(name) or IcalState(name=name, value="0")
        row.value, row.changed_at = str(int(row.value) + 1), now
        session.add(row)
    session.flush()
    return len(event_ids)


def relocations(session: Session) -> dict[int, tuple[int, datetime]]:
    """Event id -> (renames of its space it has shown, when the last one was)."""
    rows = session.exec(select(IcalState.name, IcalState.value, IcalState.changed_at).where(
        col(IcalState.name).startswith(RELOCATED))).all()
    return {int(name.removeprefix(RELOCATED)): (int(value), changed_at) for name, value, changed_at in rows}


# --- what the programme and space feeds read, as plain rows (ORM objects cost 3/4 of a 5,000-event build) ---

@dataclass(frozen=True, slots=True)
class FeedEvent:
    id: int
    title: str
    description: str
    space_id: int | None
    start: datetime
    end: datetime
    rrule: str | None
    rule_count: int | None
    rule_until: datetime | None
    status: str
    sequence: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class FeedOccurrence:
    id: int
    event_id: int
    original_start: datetime
    start: datetime
    end: datetime
    status: str
    sequence: int
    updated_at: datetime


_EVENT_COLUMNS: list[Any] = [Event.id, Event.title, Event.description, Event.space_id, Event.start, Event.end,
                             Event.rrule, Event.rule_count, Event.rule_until, Event.status, Event.sequence,
                             Event.updated_at]
_OCCURRENCE_COLUMNS: list[Any] = [EventOccurrence.id, EventOccurrence.event_id, EventOccurrence.original_start,
                                  EventOccurrence.start, EventOccurrence.end, EventOccurrence.status,
                                  EventOccurrence.sequence, EventOccurrence.updated_at]


def feed_event_rows(
    session: Session, since: datetime, space_id: int | None = None,
) -> list[tuple[FeedEvent, list[FeedOccurrence]]]:
    """Events still in view (an occurrence ending after ``since``, optionally in one space) with all
    their occurrences, in two column queries."""
    wanted: Any = sa_select(col(EventOccurrence.event_id)).join(Event, col(Event.id) == EventOccurrence.event_id).where(
        col(EventOccurrence.end) >= since)
    if space_id is not None:
        wanted = wanted.where(col(Event.space_id) == space_id)
    wanted = wanted.distinct()
    events = [FeedEvent(*row) for row in session.execute(
        sa_select(*_EVENT_COLUMNS).where(col(Event.id).in_(wanted)).order_by(col(Event.start), col(Event.id)))]
    moved = relocations(session)
    if moved:  # a renamed space shows in LOCATION: SEQUENCE and DTSTAMP move
        events = [replace(e, sequence=e.sequence + moved[e.id][0], updated_at=max(e.updated_at, moved[e.id][1]))
                  if e.id in moved else e for e in events]
    by_event: dict[int, list[FeedOccurrence]] = {e.id: [] for e in events}
    for row in session.execute(sa_select(*_OCCURRENCE_COLUMNS).where(col(EventOccurrence.event_id).in_(wanted))
                               .order_by(col(EventOccurrence.original_start))):
        occurrence = FeedOccurrence(*row)
        by_event[occurrence.event_id].append(occurrence)
    return [(e, by_event[e.id]) for e in events]
