"""What is free, per space and local day, computed once and kept in this process while the database says
nothing changed (issue 15).

Correct with several processes on one database: every write that can change a space's free hours (a
booking made, moved or cancelled, an event or one of its occurrences over the space, the space's opening
hours, capacity, closing, name) raises the space's version in ``freestamp`` by a random step and gives its row
the next sequence number, in the writing transaction (database triggers, migrations 0023 and 0024). A /free
first reads, in one statement, the sum and count of the versions and the rows numbered past the highest number
this process has seen: nothing when nothing changed, the few rows bumped since otherwise. Those rows applied,
the versions must add up to the sum read: versions only grow, so a row missed (on PostgreSQL, a transaction
that took its number before another's and committed after it) leaves the sum short; then the rows a little
further back are read, and failing that every row (as after a restore or a rolled-back write seen by its own
transaction). Versions are read BEFORE the bookings, so a cached day is never older than the version it is
filed under (at worst newer, and then only recomputed once more).

Each set of versions this process applies is a generation, with the spaces it changed. A whole answer is kept
with the generation it was made at and the spaces it shows: while none of them changed since, it stands; when
a few did, the caller remakes their part only (``answer``).

A day's free stretches are kept whole (from the opening, not from now, and before the 15-minute rule), so the
same entry answers today and every other day: ``shown`` clips them by now when it renders them.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, bindparam, select
from sqlmodel import Session, col

from storage.booking_rules import Interval, RuledSpace, is_free
from storage.bookings import bookings_between
from storage.db import in_read_only_scope
from storage.models import Booking
from storage.models_events import EVENT_ACTIVE, OCCURRENCE_SCHEDULED, Event, EventOccurrence
from storage.opening_hours import open_intervals
from storage.types import UTCDateTime

SHORTEST = timedelta(minutes=15)  # a free stretch shorter than this is not shown (as free_periods)
DAYS_KEPT = 16  # (day, zone) pairs kept per database, the least recently asked dropped first (2,000 spaces: ~8 MB)
ANSWERS_KEPT = 128  # whole answers kept per database (see ``answer``; 2,000 spaces: up to ~60 kB each)
GENERATIONS_KEPT = 256  # the spaces changed at each of the last generations (older answers are remade whole)
LOOK_BACK = 64  # the last numbered rows read again when those past the highest number don't add up


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


@dataclass(frozen=True, slots=True)
class Stamps:
    """The versions as one transaction read them, and the generation of this process's cache they are (-1: not
    the cache's own, as when another thread moved it meanwhile: nothing is kept under them)."""

    token: tuple[int, int]  # sum and count of the versions
    versions: Mapping[int, int]  # each space's version (never changed once made: threads share it)
    high: int  # the highest sequence number among them
    generation: int
    committed: bool = False  # SQLite: read by a transaction that wrote nothing (see ``versions``)


_UNREAD = Stamps((-1, -1), {}, 0, 0)
# SQLite: the rows numbered past a given number, and the highest number (the row whose space is NULL).
_SQLITE_SINCE = ("SELECT space_id, version, seq FROM freestamp WHERE seq > ? UNION ALL "
                 "SELECT NULL, NULL, max(seq) FROM freestamp")
# One statement (one snapshot on PostgreSQL, whose statements each see the latest commits): the rows numbered
# past a given number (or the last few numbered), then the sum and count of every version (the NULL space).
_SUM = "SELECT NULL, CAST(coalesce(sum(version), 0) AS BIGINT), count(*) FROM freestamp"
_STAMPS_SINCE = "SELECT space_id, version, seq FROM freestamp WHERE seq > {p} UNION ALL " + _SUM
_STAMPS_LAST = (f"SELECT * FROM (SELECT space_id, version, seq FROM freestamp ORDER BY seq DESC LIMIT {LOOK_BACK}) "
                "AS last UNION ALL " + _SUM)
_STAMPS = "SELECT space_id, version, seq FROM freestamp"

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
        self.stamps = _UNREAD
        # The spaces changed at each generation (None: unknown, every space), the last GENERATIONS_KEPT.
        self.changes: OrderedDict[int, frozenset[int] | None] = OrderedDict()
        self.days: OrderedDict[tuple[date, ZoneInfo], dict[int, DayFree]] = OrderedDict()
        self.answers: OrderedDict[Hashable, _Kept] = OrderedDict()
        self.lists: OrderedDict[tuple[int, ...], SpaceList] = OrderedDict()  # by the spaces' ids in order
        self.lists_by_object: dict[int, tuple[Sequence[RuledSpace], SpaceList]] = {}  # by id() of the sequence
        self.lists_made = 0

    def publish(self, base: Stamps, token: tuple[int, int], versions: Mapping[int, int], high: int,
                changed: frozenset[int] | None, committed: bool) -> Stamps:
        """The next generation, made of ``base`` (``changed=None``: read whole, not from ``base``), if ``base``
        is still the latest (else unpublished, or the latest when it is the same versions)."""
        with self.lock:
            latest = self.stamps
            if (latest.token == token and latest.high == high and latest.committed == committed
                    and latest.versions == versions):
                return latest
            if changed is not None and latest is not base:
                return Stamps(token, versions, high, -1, committed)
            made = self.stamps = Stamps(token, versions, high, latest.generation + 1, committed)
            self.changes[made.generation] = changed
            while len(self.changes) > GENERATIONS_KEPT:
                self.changes.popitem(last=False)
            return made

    def changed_between(self, since: int, until: int) -> frozenset[int] | None:
        """The spaces changed after generation ``since`` up to ``until``; None when not known."""
        if since == until:
            return frozenset()
        if since < 0 or until < since:
            return None
        with self.lock:
            spaces: set[int] = set()
            for generation in range(since + 1, until + 1):
                found = self.changes.get(generation, None)
                if found is None:
                    return None
                spaces |= found
        return frozenset(spaces)


@dataclass(frozen=True, slots=True)
class _Kept:
    generation: int
    until: datetime | None
    spaces: Collection[int]
    value: Any


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
    return _rows(session.connection().connection, sql, params)


def _rows(connection: Any, sql: str, params: Sequence[Any] = ()) -> Sequence[Any]:
    cursor = connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        cursor.close()


def versions(session: Session) -> Stamps:
    """The versions as this transaction sees them (see the module's docstring): one statement when nothing
    changed or the rows bumped since the last read add up, more only when they don't.

    SQLite commits one writer at a time, in the order of the numbers they took: the rows past the highest
    number seen are then exactly what changed since, if the versions seen were committed ones. A read-only
    transaction (``session_scope(read_only=True)``, as /free's) writes nothing, so what it read was committed;
    another may have read its own bumps and rolled them back: the next reader then checks the sum."""
    cache = _cache(session)
    known = cache.stamps
    connection = session.connection()
    raw = connection.connection
    committed = connection.dialect.name == "sqlite" and in_read_only_scope()
    if known.generation == 0:  # nothing read yet in this process
        return _read_whole(raw, cache, committed)
    if committed and known.committed and known.high > 0:
        rows = _rows(raw, _SQLITE_SINCE, (known.high,))
        top = next(seq for space_id, _version, seq in rows if space_id is None)
        if top == known.high:  # the usual case: nothing changed
            return known
        if top is not None and top > known.high:
            applied = _applied(known, rows, None)
            assert applied is not None
            return cache.publish(known, *applied, committed=True)
    sql = _STAMPS_SINCE.format(p="?" if connection.dialect.name == "sqlite" else "%s")
    rows = _rows(raw, sql, (known.high,))
    if len(rows) == 1 and tuple(rows[0][1:]) == known.token and known.committed == committed:
        return known  # nothing changed
    applied = _applied(known, rows, _token(rows)) or _applied(known, last := _rows(raw, _STAMPS_LAST), _token(last))
    if applied is not None:
        return cache.publish(known, *applied, committed=committed)
    return _read_whole(raw, cache, committed)


def _token(rows: Sequence[Any]) -> tuple[int, int]:
    return next((version, count) for space_id, version, count in rows if space_id is None)


def _applied(known: Stamps, rows: Sequence[Any], token: tuple[int, int] | None) -> tuple[
        tuple[int, int], dict[int, int], int, frozenset[int]] | None:
    """``known`` with the numbered ``rows`` applied (the row whose space is None is skipped), if the versions
    then add up to ``token`` (sum and count; None: not checked)."""
    old = known.versions
    changed: dict[int, int] = {}
    high = known.high
    total, count = known.token
    for space_id, version, seq in rows:
        if space_id is None:
            continue
        if seq > high:
            high = seq
        before = old.get(space_id)
        if before != version:
            changed[space_id] = version
            if before is None:
                count += 1
            else:
                total -= before
            total += version
    if token is not None and token != (total, count):
        return None
    versions = dict(old)
    versions.update(changed)
    return (total, count), versions, high, frozenset(changed)


def _read_whole(raw: Any, cache: _Cache, committed: bool) -> Stamps:
    """Every space's version: one statement (the sum is made from the versions read, so they match)."""
    known = cache.stamps
    versions: dict[int, int] = {}
    high = 0
    for space_id, version, seq in _rows(raw, _STAMPS):
        versions[space_id] = version
        if seq > high:
            high = seq
    return cache.publish(known, (sum(versions.values()), len(versions)), versions, high, None, committed)


@dataclass(frozen=True, slots=True, eq=False)
class SpaceList:
    """A list of spaces as answers are kept for it: a small number standing for their ids in order (the same
    for the same ids, in one cache), and each one's place in it."""

    number: int
    places: dict[int, int]


def space_list(session: Session, spaces: Sequence[RuledSpace]) -> SpaceList:
    """The ``SpaceList`` of ``spaces``: found by the sequence's identity when the same one comes again (the
    catalog's tuple of open spaces, unchanged while the catalog is), else by the ids (one pass over them)."""
    cache = _cache(session)
    found = cache.lists_by_object.get(id(spaces))
    if found is not None and found[0] is spaces:
        return found[1]
    ids = tuple(s.id for s in spaces)
    with cache.lock:
        made = cache.lists.get(ids)
        if made is None:
            cache.lists_made += 1
            made = cache.lists[ids] = SpaceList(cache.lists_made, {sid: n for n, sid in enumerate(ids)})
            while len(cache.lists) > 8:
                cache.lists.popitem(last=False)
        if len(cache.lists_by_object) >= 8:
            cache.lists_by_object.clear()
        cache.lists_by_object[id(spaces)] = (spaces, made)  # kept alive with it, so its id() isn't reused
    return made


def answer(session: Session, key: Hashable, stamps: Stamps, now: datetime) -> tuple[Any, frozenset[int]] | None:
    """A value kept by ``keep_answer`` under ``key`` (what it was made of: the day or the window, the spaces'
    ids, the language and zone), if ``now`` is not past its ``until``: with the spaces it shows that changed
    since it was made (empty: it stands as it is; kept again under ``stamps``), or None when there is none
    (or no telling what changed)."""
    cache = _cache(session)
    found = cache.answers.get(key)
    if found is None or (found.until is not None and now > found.until):
        return None
    if found.generation == stamps.generation:
        return found.value, frozenset()
    changed = cache.changed_between(found.generation, stamps.generation)
    if changed is None:
        return None
    shown_changed = frozenset(sid for sid in changed if sid in found.spaces)
    if not shown_changed:  # still right: filed under these versions, so the next look is the quick one
        _keep(cache, key, _Kept(stamps.generation, found.until, found.spaces, found.value))
    return found.value, shown_changed


def keep_answer(session: Session, key: Hashable, stamps: Stamps, value: Any, spaces: Collection[int],
                until: datetime | None = None) -> None:
    """Keep an answer made from the versions ``stamps`` (read before what it was made of) showing ``spaces``;
    ``until``: the last ``now`` at which it is still the same (an answer clipped by now)."""
    if stamps.generation > 0:
        _keep(_cache(session), key, _Kept(stamps.generation, until, spaces, value))


def _keep(cache: _Cache, key: Hashable, kept: _Kept) -> None:
    with cache.lock:
        cache.answers[key] = kept
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
    current = (stamps or versions(session)).versions  # before reading bookings (see the module's docstring)
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
    session: Session, spaces: Sequence[RuledSpace], day: date, tz: ZoneInfo, current: Mapping[int, int]
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
