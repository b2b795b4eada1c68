"""What the calendar feeds keep in the database (storage.models_ical.IcalState): the UIDs' domain and
each feed's Last-Modified, which only moves forward."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models_events import Event, EventOccurrence
from storage.models_ical import IcalState

UID_DOMAIN = "uid-domain"


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
    by_event: dict[int, list[FeedOccurrence]] = {e.id: [] for e in events}
    for row in session.execute(sa_select(*_OCCURRENCE_COLUMNS).where(col(EventOccurrence.event_id).in_(wanted))
                               .order_by(col(EventOccurrence.original_start))):
        occurrence = FeedOccurrence(*row)
        by_event[occurrence.event_id].append(occurrence)
    return [(e, by_event[e.id]) for e in events]
