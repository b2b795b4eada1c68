"""What is free, per space and local day, computed once and kept in this process while the database says
nothing changed (issue 15).

Correct with several processes on one database: every write that can change a space's free hours (a
booking made, moved or cancelled, an event or one of its occurrences over the space, the space's opening
hours, capacity, closing, name) raises the space's version in ``freestamp`` by a random step, in the writing
transaction (database triggers, migration 0023). A /free first reads the sum of the versions (one row): it moves
at every committed bump; when it moved, it reads the versions and recomputes the spaces whose version changed.
Versions are read BEFORE the bookings, so a cached day is never older than the version it is filed under (at
worst newer, and then only recomputed once more). A whole answer is kept the same way, under the sum.

A day's free stretches are kept whole (from the opening, not from now, and before the 15-minute rule), so the
same entry answers today and every other day: ``shown`` clips them by now when it renders them.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, bindparam, select
from sqlmodel import Session, col

from storage.booking_rules import Interval, RuledSpace, is_free
from storage.bookings import bookings_between
from storage.models import Booking
from storage.models_events import EVENT_ACTIVE, OCCURRENCE_SCHEDULED, Event, EventOccurrence
from storage.opening_hours import open_intervals
from storage.types import UTCDateTime

SHORTEST = timedelta(minutes=15)  # a free stretch shorter than this is not shown (as free_periods)
DAYS_KEPT = 16  # (day, zone) pairs kept per database, the least recently asked dropped first (2,000 spaces: ~8 MB)
ANSWERS_KEPT = 128  # whole answers kept per database (see ``answer``; 2,000 spaces: up to ~60 kB each)
Stamps = tuple[tuple[int, int], dict[int, int]]  # (sum and count of the versions, each space's version)


S = TypeVar("S", bound=RuledSpace)


@dataclass(frozen=True, slots=True)
class DayFree:
    """One space's free stretches over one local day, whole: per opening period in order, stretches of that
    period where a seat is free, joined within the period only (``shown`` joins across periods, as
    ``free_periods`` does). ``memo`` keeps what callers derive from it (its hours as text)."""

    version: int
    runs: tuple[Interval, ...]
    first: datetime | None  # the earliest start of a run: a ``now`` before it clips nothing
    whole_minutes: bool = True  # every run starts and ends on a minute: ``shown`` is the same all along one
    memo: dict[Hashable, Any] = field(default_factory=dict, compare=False)


_STAMP_SUM = "SELECT CAST(coalesce(sum(version), 0) AS BIGINT), count(*) FROM freestamp"
_STAMPS = "SELECT space_id, version FROM freestamp"

# What occupies the spaces over a day, in one statement: active bookings (0) and scheduled occurrences of active
# events (1); bounded by "end" first (the indexes led by it): history doesn't count.
_DAY_ROWS = (
    'SELECT 0, space_id, start, "end" FROM booking WHERE space_id {among} AND status = {p} AND "end" > {p} '
    "AND start < {p} "
    'UNION ALL SELECT 1, e.space_id, o.start, o."end" FROM eventoccurrence o JOIN event e ON e.id = o.event_id '
    'WHERE e.space_id {among} AND e.status = {p} AND o.status = {p} AND o."end" > {p} AND o.start < {p}'
)


def _day_rows(
    session: Session, ids: list[int], start: datetime, end: datetime
) -> list[tuple[int, int, datetime, datetime]]:
    dialect = session.connection().dialect.name
    if dialect == "sqlite":  # as SQLAlchemy stores them there: naive UTC text, compared as text
        bounds: tuple[Any, ...] = tuple(m.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
                                        for m in (start, end))
        among = f"IN ({', '.join('?' * len(ids))})"
        sql = _DAY_ROWS.format(among=among, p="?")
        params: list[Any] = [*ids, "active", *bounds, *ids, EVENT_ACTIVE, OCCURRENCE_SCHEDULED, *bounds]
        return [(kind, sid, _from_sqlite(s), _from_sqlite(e)) for kind, sid, s, e in _fetch(session, sql, params)]
    if dialect == "postgresql":
        sql = _DAY_ROWS.format(among="= ANY(%s)", p="%s")
        params = [ids, "active", start, end, ids, EVENT_ACTIVE, OCCURRENCE_SCHEDULED, start, end]
        return [(kind, sid, s.astimezone(UTC), e.astimezone(UTC)) for kind, sid, s, e in _fetch(session, sql, params)]
    connection = session.connection()  # another database: the same through SQLAlchemy
    bound = {"ids": ids, "start": start, "end": end}
    return ([(0, sid, s, e) for sid, s, e in connection.execute(_DAY_BOOKINGS, bound)]
            + [(1, sid, s, e) for sid, s, e in connection.execute(_DAY_BLOCKS, bound)])


def _from_sqlite(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


_DAY_BOOKINGS = select(Booking.space_id, Booking.start, Booking.end).where(  # type: ignore[call-overload]
    col(Booking.space_id).in_(bindparam("ids", expanding=True)),
    Booking.status == "active",
    col(Booking.end) > bindparam("start", type_=UTCDateTime()),  # led by "end": history doesn't count
    col(Booking.start) < bindparam("end", type_=UTCDateTime()),
)
_DAY_BLOCKS = (
    select(Event.space_id, EventOccurrence.start, EventOccurrence.end)  # type: ignore[call-overload]
    .join(Event, col(Event.id) == EventOccurrence.event_id)
    .where(col(Event.space_id).in_(bindparam("ids", expanding=True)), Event.status == EVENT_ACTIVE,
           EventOccurrence.status == OCCURRENCE_SCHEDULED,
           col(EventOccurrence.end) > bindparam("start", type_=UTCDateTime()),
           col(EventOccurrence.start) < bindparam("end", type_=UTCDateTime()))
)


class _Cache:
    """One database's cache (several engines in one process, as in tests, never share one)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stamps: Stamps = ((-1, -1), {})
        self.days: OrderedDict[tuple[date, ZoneInfo], dict[int, DayFree]] = OrderedDict()
        self.answers: OrderedDict[Hashable, tuple[tuple[int, int], datetime | None, Any]] = OrderedDict()


_caches: weakref.WeakKeyDictionary[Engine, _Cache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def _cache(session: Session) -> _Cache:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    found = _caches.get(engine)
    if found is None:
        with _caches_lock:
            found = _caches.setdefault(engine, _Cache())
    return found


def _fetch(session: Session, sql: str, params: Sequence[Any] = ()) -> Sequence[Any]:
    """Rows on the driver's own cursor, in the session's transaction: /free's few hot statements are plain SQL
    (SQLAlchemy's statement and result machinery cost ten times the query here)."""
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        cursor.close()


def versions(session: Session) -> Stamps:
    """The stamp (sum and count of the versions) and each space's version, as this transaction sees them: one
    one-row query when nothing changed since this process last looked, two otherwise."""
    cache = _cache(session)
    token = tuple(_fetch(session, _STAMP_SUM)[0])
    known = cache.stamps
    if known[0] == token:
        return known
    found = dict(_fetch(session, _STAMPS))
    fresh = ((sum(found.values()), len(found)), found)  # one statement: the token matches the versions read
    cache.stamps = fresh
    return fresh


def answer(session: Session, key: Hashable, stamps: Stamps, now: datetime) -> Any | None:
    """A whole answer kept by ``keep_answer`` under ``key`` (what it was made of: the day or the window, the
    spaces' ids, the language and zone), if no version moved since and ``now`` is not past its ``until``."""
    cache = _cache(session)
    found = cache.answers.get(key)
    if found is None or found[0] != stamps[0] or (found[1] is not None and now > found[1]):
        return None
    return found[2]


def keep_answer(session: Session, key: Hashable, stamps: Stamps, value: Any, until: datetime | None = None) -> None:
    """Keep an answer made from the versions ``stamps`` (read before what it was made of); ``until``: the last
    ``now`` at which it is still the same (an answer clipped by now)."""
    cache = _cache(session)
    with cache.lock:
        cache.answers[key] = (stamps[0], until, value)
        cache.answers.move_to_end(key)
        while len(cache.answers) > ANSWERS_KEPT:
            cache.answers.popitem(last=False)


def day_free(
    session: Session, spaces: Sequence[RuledSpace], day: date, tz: ZoneInfo, stamps: Stamps | None = None
) -> dict[int, DayFree]:
    """Each space's free stretches over ``day`` (local to ``tz``), by space id: from the cache when the space's
    version hasn't moved, else computed for all the stale spaces in two queries. ``stamps``: ``versions`` read
    earlier in this transaction (else read here)."""
    cache = _cache(session)
    _token, current = stamps or versions(session)  # before reading bookings (see the module's docstring)
    key = (day, tz)
    with cache.lock:
        entries = cache.days.get(key)
        if entries is None:
            entries = cache.days[key] = {}
            while len(cache.days) > DAYS_KEPT:
                cache.days.popitem(last=False)
        else:
            cache.days.move_to_end(key)
    stale = [s for s in spaces if (e := entries.get(s.id)) is None or e.version != current.get(s.id, 0)]
    if stale:
        entries.update(_compute(session, stale, day, tz, current))
    return entries


def _compute(
    session: Session, spaces: Sequence[RuledSpace], day: date, tz: ZoneInfo, current: dict[int, int]
) -> dict[int, DayFree]:
    day_start = datetime.combine(day, time.min, tzinfo=tz)
    day_end = day_start + timedelta(days=1)
    ids = [s.id for s in spaces]
    taken: dict[int, list[Interval]] = {sid: [] for sid in ids}
    blocked: dict[int, list[Interval]] = {}
    for is_event, space_id, start, end in _day_rows(session, ids, day_start, day_end):
        if is_event:
            blocked.setdefault(space_id, []).append((start, end))
        else:
            taken[space_id].append((start, end))
    computed = {}
    opening: dict[int, list[Interval]] = {}  # spaces with the same hours share one list (and its datetimes)
    for space in spaces:
        hours = space.rules.hours
        periods = opening.get(id(hours))
        if periods is None:
            periods = opening[id(hours)] = open_intervals(hours, day, tz)
        runs = free_runs(periods, space.rules.capacity, taken[space.id], blocked.get(space.id, ()))
        computed[space.id] = DayFree(current.get(space.id, 0), runs, min((a for a, _ in runs), default=None),
                                     all(not t.second and not t.microsecond for run in runs for t in run))
    return computed


def free_runs(
    opening: Sequence[Interval], capacity: int, bookings: Sequence[Interval], blocks: Sequence[Interval]
) -> tuple[Interval, ...]:
    """Per opening period (``open_intervals`` of a day), in order, the stretches where a seat is free: fewer
    bookings than the capacity, and no event (an event takes the whole space). The same cuts and counts as
    ``free_periods`` (whose occupancy counts an event as many bookings as the space has seats), without now."""
    if not bookings and not blocks:  # most spaces on most days: the opening hours themselves
        return tuple(opening) if capacity > 0 else ()
    runs: list[Interval] = []
    for open_start, open_end in opening:
        if open_start >= open_end:  # an opening period lost in a clock change
            continue
        cuts = sorted({open_start, open_end} | {t for b in bookings for t in b if open_start < t < open_end}
                      | {t for b in blocks for t in b if open_start < t < open_end})
        joined_from: datetime | None = None  # the start of the run being built in this period
        previous = open_start
        for b in cuts[1:]:
            a = previous
            previous = b
            # No cut inside [a, b): what overlaps it covers it, so the count is the peak (as peak_occupancy).
            used = sum(1 for s, e in bookings if s < b and a < e)
            if used < capacity and not any(s < b and a < e for s, e in blocks):
                if joined_from is None:
                    joined_from = a
                continue
            if joined_from is not None:
                runs.append((joined_from, a))
                joined_from = None
        if joined_from is not None:
            runs.append((joined_from, open_end))
    return tuple(runs)


def shown(entry: DayFree, now: datetime) -> list[Interval]:
    """What /free <day> shows of a day: its free stretches from ``now`` on, joined where they touch, at least
    15 minutes long (``free_periods``, from the cached whole day). When every run starts and ends on a minute
    (``whole_minutes``), it shows the same for any ``now`` strictly inside one minute: the stretches it drops,
    clips or keeps change only where ``now`` crosses a run's end, its start or its end less 15 minutes."""
    periods: list[Interval] = []
    for a, b in entry.runs:
        if a < now:
            a = now
        if a >= b:
            continue
        if periods and periods[-1][1] == a:
            periods[-1] = (periods[-1][0], b)
        else:
            periods.append((a, b))
    return [(a, b) for a, b in periods if b - a >= SHORTEST]


def free_between(
    session: Session, spaces: Sequence[S], start: datetime, end: datetime, tz: ZoneInfo, stamps: Stamps | None = None
) -> list[S]:
    """The spaces free over [start, end) (``is_free``: open then, in one opening period, a seat free all along),
    from the cached day of ``start``."""
    if end <= start:  # an empty or reversed window: the rule itself (not a day's stretches) says
        intervals = bookings_between(session, [s.id for s in spaces], start, end)
        return [s for s in spaces if is_free(s.rules, intervals[s.id], start, end, tz)]
    entries = day_free(session, spaces, start.astimezone(tz).date(), tz, stamps)
    return [s for s in spaces
            if not s.rules.closed and any(a <= start and end <= b for a, b in entries[s.id].runs)]
