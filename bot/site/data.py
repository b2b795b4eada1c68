"""What the public pages and the dashboard show, read from storage in one short transaction each and
returned as plain values (no ORM rows leave this module). Nothing here knows HTTP or HTML; no member's
name is ever read for a public page."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.core.i18n import Translator
from storage.bookings import bookings_between
from storage.events import get_occurrence, signup_counts, upcoming_occurrences
from storage.models import Site, Space
from storage.models_events import EVENT_CANCELLED, OCCURRENCE_CANCELLED
from storage.opening_hours import hours_from_json, open_intervals
from storage.report import ActivityReport, build_report, event_rows
from storage.volunteer_rules import Period, local_moment
from storage.volunteers import rota_with_gaps

AGENDA_DAYS = 60
AGENDA_LIMIT = 200


@dataclass(frozen=True)
class EventItem:
    number: int  # the occurrence id members type (/join 12)
    title: str
    description: str
    start: datetime
    end: datetime
    space: str | None
    site_slug: str | None
    capacity: int | None
    confirmed: int
    cancelled: bool = False

    @property
    def free(self) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - self.confirmed)


@dataclass(frozen=True)
class SiteRef:
    slug: str
    name: str


def sites(session: Session) -> list[SiteRef]:
    return [SiteRef(s.slug, s.name) for s in session.exec(select(Site).order_by(col(Site.id)))]


def _spaces(session: Session) -> dict[int, tuple[str, str | None]]:
    """Space id -> (name, its site's slug)."""
    slugs = {s.id: s.slug for s in session.exec(select(Site))}
    return {space.id: (space.name, slugs.get(space.site_id)) for space in session.exec(select(Space))
            if space.id is not None}


def agenda(session: Session, now: datetime, *, site: str | None = None, limit: int = AGENDA_LIMIT) -> list[EventItem]:
    """The coming dates (those not over yet), soonest first; ``site``: only events held in that place's spaces."""
    rows = upcoming_occurrences(session, now, now + timedelta(days=AGENDA_DAYS), limit=limit)
    spaces = _spaces(session)
    counts = signup_counts(session, [occ.id for occ, _ in rows if occ.id is not None])
    items = []
    for occurrence, event in rows:
        assert occurrence.id is not None
        if event.status == EVENT_CANCELLED and event.rrule is None:
            continue
        space_name, site_slug = spaces.get(event.space_id or 0, (None, None))
        if site is not None and site_slug != site:
            continue
        items.append(EventItem(occurrence.id, event.title, event.description, occurrence.start, occurrence.end,
                               space_name, site_slug, event.capacity, counts[occurrence.id][0]))
    return items


def event_item(session: Session, number: int) -> EventItem | None:
    try:
        occurrence, event = get_occurrence(session, number)
    except LookupError:
        return None
    assert occurrence.id is not None
    space_name, site_slug = _spaces(session).get(event.space_id or 0, (None, None))
    cancelled = occurrence.status == OCCURRENCE_CANCELLED or (event.status == EVENT_CANCELLED and event.rrule is None)
    return EventItem(occurrence.id, event.title, event.description, occurrence.start, occurrence.end, space_name,
                     site_slug, event.capacity, signup_counts(session, [occurrence.id])[occurrence.id][0], cancelled)


def by_day(items: list[EventItem], tz: ZoneInfo) -> list[tuple[date, list[EventItem]]]:
    days: dict[date, list[EventItem]] = defaultdict(list)
    for item in items:
        days[item.start.astimezone(tz).date()].append(item)
    return sorted(days.items())


# --- availability -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FreeSlot:
    start: datetime
    end: datetime
    free: int  # places free all along


@dataclass(frozen=True)
class DayAvailability:
    day: date
    open: bool
    slots: tuple[FreeSlot, ...]


@dataclass(frozen=True)
class SpaceAvailability:
    slug: str
    name: str
    capacity: int
    description: str
    days: tuple[DayAvailability, ...]


def week_start(today: date) -> date:
    return today - timedelta(days=today.weekday())


def free_slots(windows: list[tuple[datetime, datetime]], busy: list[tuple[datetime, datetime]], capacity: int,
               not_before: datetime) -> list[FreeSlot]:
    """Within opening ``windows``, the stretches where fewer than ``capacity`` places are taken (each busy
    interval takes one place), cut at ``not_before``; neighbouring stretches with the same count merge."""
    slots: list[FreeSlot] = []
    for w_start, w_end in windows:
        w_start = max(w_start, not_before)
        if w_start >= w_end:
            continue
        cuts = sorted({w_start, w_end, *(t for s, e in busy for t in (s, e) if w_start < t < w_end)})
        for a, b in pairwise(cuts):
            taken = sum(1 for s, e in busy if s < b and e > a)
            free = capacity - taken
            if free <= 0:
                continue
            if slots and slots[-1].end == a and slots[-1].free == free:
                slots[-1] = FreeSlot(slots[-1].start, b, free)
            else:
                slots.append(FreeSlot(a, b, free))
    return slots


def availability(session: Session, slug: str, now: datetime, tz: ZoneInfo) -> SpaceAvailability | None:
    space = session.exec(select(Space).where(Space.slug == slug, col(Space.closed).is_(False))).first()
    if space is None or space.id is None:
        return None
    monday = week_start(now.astimezone(tz).date())
    start, end = local_moment(monday, time(0), tz), local_moment(monday + timedelta(days=7), time(0), tz)
    busy = bookings_between(session, [space.id], start, end)[space.id]
    hours = hours_from_json(space.opening_hours)
    days = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        windows = open_intervals(hours, day, tz)
        days.append(DayAvailability(day, bool(windows), tuple(free_slots(windows, busy, space.capacity, now))))
    return SpaceAvailability(space.slug, space.name, space.capacity, space.description, tuple(days))


def open_spaces(session: Session) -> list[tuple[str, str]]:
    return [(s.slug, s.name) for s in session.exec(
        select(Space).where(col(Space.closed).is_(False)).order_by(col(Space.name)))]


# --- dashboard --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekOccupancy:
    label: str  # '2026-W48'
    start: date
    by_space: tuple[tuple[str, float | None, int], ...]  # (space name, occupancy 0..1, bookings)


@dataclass(frozen=True)
class AttendanceRow:
    number: int
    title: str
    start: datetime
    capacity: int | None
    signups: int  # confirmed sign-ups
    came: int | None  # present (signed up or walked in), None when attendance wasn't recorded for the date

    @property
    def fill(self) -> float | None:
        return self.signups / self.capacity if self.capacity else None


@dataclass(frozen=True)
class Dashboard:
    weeks: tuple[WeekOccupancy, ...]
    month: ActivityReport
    attendance: tuple[AttendanceRow, ...]  # past 30 days and coming 30 days
    gaps: tuple[tuple[str, datetime, datetime, int, str | None], ...]  # (title, start, end, missing, project)


DASHBOARD_WEEKS = 6


def dashboard(session: Session, now: datetime, tz: ZoneInfo, hour_value: Decimal | None = None) -> Dashboard:
    today = now.astimezone(tz).date()
    monday = week_start(today)
    weeks = []
    for back in range(DASHBOARD_WEEKS - 1, -1, -1):
        start = monday - timedelta(weeks=back)
        period = Period(start, start + timedelta(days=7), "week")
        report = build_report(session, period, tz)
        weeks.append(WeekOccupancy(period.key, start, tuple((s.name, s.occupancy, s.bookings) for s in report.spaces)))
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    month = build_report(session, Period(first, following, "month"), tz, hour_value)
    rows = event_rows(session, now - timedelta(days=30), now + timedelta(days=30)) or []
    attendance = tuple(AttendanceRow(r.number, r.title, r.start, r.capacity, r.attendees,
                                     r.present + r.walk_in if r.recorded else None) for r in rows)
    gaps = tuple((s.title, s.start, s.end, s.missing, s.project)
                 for s in rota_with_gaps(session, now, now + timedelta(days=14)) if s.missing > 0)
    return Dashboard(tuple(weeks), month, attendance, gaps)


def percent(t: Translator, rate: float | None) -> str:
    from babel.numbers import format_percent

    return "—" if rate is None else format_percent(rate, format="#,##0%", locale=t.locale)
