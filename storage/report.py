"""The activity report for funders and the annual report: figures over a period, computed by pure functions
from plain rows (so the test can recompute them independently), and the queries that fetch those rows.

Figures: bookings per space and the occupancy rate over opening hours; events with sign-ups and fill rate
(when the events feature is installed); volunteer hours by project and distinct volunteers; shifts offered
and covered; active members; the valuation of volunteer work, which French associations report as
contributions volontaires en nature (ANC regulation 2018-06: debit 864 "Personnel bénévole", credit 875
"Bénévolat"). Attendance (issue 16): present, no-shows and walk-ins per event date where it was recorded,
daily visitors by category, distinct people who came, hours open, activities by category.
Hours are valued at the SMIC horaire brut in force on the day they were given (a table by
date, SMIC_HOURLY), or at VOLUNTEER_HOUR_VALUE when an association sets its own rate."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from storage.decisions import DecisionFigures
from storage.decisions import report_figures as decision_figures
from storage.models import Booking, Member, Space
from storage.models_volunteers import Shift, ShiftSignup
from storage.opening_hours import hours_from_json, open_intervals
from storage.volunteer_rules import Period
from storage.volunteers import project_slugs, task_totals

Interval = tuple[datetime, datetime]

# The French SMIC horaire brut, by the day it came into force (décrets de revalorisation). A new rate is one
# line here; an association that values hours otherwise sets VOLUNTEER_HOUR_VALUE.
SMIC_HOURLY: tuple[tuple[date, Decimal], ...] = (
    (date(2023, 5, 1), Decimal("11.52")),
    (date(2024, 1, 1), Decimal("11.65")),
    (date(2024, 11, 1), Decimal("11.88")),
    (date(2026, 1, 1), Decimal("12.02")),
)
RATE_SMIC = "smic"
RATE_SETTING = "setting"


@dataclass(frozen=True)
class RatePart:
    """Part of a period valued at one rate: [start, end) local days, the rate, where it comes from
    (``smic``: the SMIC in force since ``since``; ``setting``: VOLUNTEER_HOUR_VALUE) and the minutes given."""

    start: date
    end: date
    rate: Decimal
    source: str
    since: date | None = None
    minutes: int = 0

    @property
    def amount(self) -> Decimal:
        return valuation(self.minutes, self.rate)


def smic_on(day: date, table: Sequence[tuple[date, Decimal]] = SMIC_HOURLY) -> tuple[date, Decimal]:
    """The SMIC in force on ``day`` (the oldest known for earlier days) and the day it came into force."""
    found = table[0]
    for since, rate in table:
        if since <= day:
            found = (since, rate)
    return found


def rate_parts(start: date, end: date, fixed: Decimal | None,
               table: Sequence[tuple[date, Decimal]] = SMIC_HOURLY) -> list[RatePart]:
    """The period [start, end) cut where the SMIC changes (one part when the rate is set)."""
    if fixed is not None:
        return [RatePart(start, end, fixed, RATE_SETTING)]
    cuts = [start, *(since for since, _ in table if start < since < end), end]
    parts = []
    for first, last in pairwise(cuts):
        since, rate = smic_on(first, table)
        parts.append(RatePart(first, last, rate, RATE_SMIC, since))
    return parts


# --- Pure figures --------------------------------------------------------------------------------------


def overlap_minutes(intervals: Iterable[Interval], windows: Sequence[Interval]) -> float:
    """Total minutes of ``intervals`` inside ``windows``, which are sorted and disjoint (a year of opening
    hours is ~600 windows: each interval looks only at the windows it meets)."""
    ends = [w_end for _, w_end in windows]
    total = timedelta()
    for start, end in intervals:
        index = bisect_right(ends, start)  # the first window still open after ``start``
        while index < len(windows) and windows[index][0] < end:
            w_start, w_end = windows[index]
            total += min(end, w_end) - max(start, w_start)
            index += 1
    return total.total_seconds() / 60


def occupancy_rate(booked_open_minutes: float, open_minutes: float, capacity: int) -> float | None:
    """Share of the seat-time on offer that was booked: a desk space of 8 open 10 hours offers 80 hours.
    None when the space was never open in the period."""
    offered = open_minutes * max(capacity, 1)
    return booked_open_minutes / offered if offered > 0 else None


def valuation(minutes: int, hour_value: Decimal) -> Decimal:
    """Hours × the hourly rate, to the cent (half up)."""
    return (Decimal(minutes) * hour_value / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def fill_rate(attendees: int, capacity: int | None) -> float | None:
    return attendees / capacity if capacity else None


@dataclass(frozen=True)
class SpaceFigures:
    slug: str
    name: str
    capacity: int
    bookings: int  # active bookings starting in the period
    booked_minutes: float  # booked time inside the period
    open_minutes: float  # opening hours in the period
    occupancy: float | None  # booked seat-time within opening hours / seat-time on offer
    bookers: int


@dataclass(frozen=True)
class EventRow:
    """One dated event (an occurrence of a series counts on its own)."""

    title: str
    start: datetime
    capacity: int | None
    attendees: int  # confirmed sign-ups
    member_ids: frozenset[int] = frozenset()
    number: int = 0  # the date's number in /event (the occurrence id)
    # Attendance (issue 16), when recorded for this date (someone marked, checked in or counted walk-ins):
    # present = sign-ups marked present; no_show = sign-ups not marked present; walk_in = people without a
    # sign-up (counted at the door, or members who checked in without one).
    recorded: bool = False
    present: int = 0
    no_show: int = 0
    walk_in: int = 0
    present_ids: frozenset[int] = frozenset()  # members present (signed up or not)
    anonymous_walk_ins: int = 0
    category: str | None = None  # the event's activity category

    @property
    def fill(self) -> float | None:
        return fill_rate(self.attendees, self.capacity)


@dataclass(frozen=True)
class EventFigures:
    events: tuple[EventRow, ...]

    @property
    def count(self) -> int:
        return len(self.events)

    @property
    def attendance(self) -> int:
        return sum(e.attendees for e in self.events)

    @property
    def recorded(self) -> tuple[EventRow, ...]:
        return tuple(e for e in self.events if e.recorded)

    @property
    def present(self) -> int:
        return sum(e.present for e in self.recorded)

    @property
    def no_show(self) -> int:
        return sum(e.no_show for e in self.recorded)

    @property
    def walk_in(self) -> int:
        return sum(e.walk_in for e in self.recorded)

    @property
    def recorded_signups(self) -> int:
        return sum(e.attendees for e in self.recorded)

    @property
    def fill(self) -> float | None:
        """Sign-ups over places, for the events that had a limit."""
        limited = [e for e in self.events if e.capacity]
        places = sum(e.capacity or 0 for e in limited)
        return sum(e.attendees for e in limited) / places if places else None


@dataclass(frozen=True)
class ProjectFigures:
    project: str | None  # None: entries without a project
    minutes: int
    volunteers: int


@dataclass(frozen=True)
class VolunteerFigures:
    projects: tuple[ProjectFigures, ...]
    minutes: int
    volunteers: int
    shifts: int
    places: int
    places_taken: int
    per_member: tuple[tuple[int, int], ...] = ()  # (member id, minutes), most first


@dataclass(frozen=True)
class ActivityFigures:
    """Events of one activity category ("" for events without one): dates held, sign-ups, people received
    (present + walk-ins) at the dates where attendance was recorded."""

    category: str
    events: int
    signups: int
    received: int


def activity_figures(events: Iterable[EventRow]) -> tuple[ActivityFigures, ...]:
    grouped: dict[str, list[EventRow]] = defaultdict(list)
    for event in events:
        grouped[event.category or ""].append(event)
    return tuple(ActivityFigures(category, len(rows), sum(e.attendees for e in rows),
                                 sum(e.present + e.walk_in for e in rows if e.recorded))
                 for category, rows in sorted(grouped.items(), key=lambda item: (item[0] == "", item[0])))


def union_minutes(windows: Iterable[Interval]) -> float:
    """Minutes covered by at least one window: the place is open when any of its spaces is."""
    total = timedelta()
    current: Interval | None = None
    for start, end in sorted(windows):
        if current is None or start > current[1]:
            if current is not None:
                total += current[1] - current[0]
            current = (start, end)
        else:
            current = (current[0], max(current[1], end))
    if current is not None:
        total += current[1] - current[0]
    return total.total_seconds() / 60


@dataclass(frozen=True)
class ActivityReport:
    period: Period
    spaces: tuple[SpaceFigures, ...]
    events: EventFigures | None  # None: the events feature isn't installed
    volunteers: VolunteerFigures
    active_members: int
    rates: tuple[RatePart, ...]
    member_names: dict[int, str] = field(default_factory=dict)
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    # Attendance (issue 16)
    visits: dict[str, int] = field(default_factory=dict)  # daily visitors by category ("" without one)
    unique_people: int = 0  # distinct members who came: present at an event, booked a space, gave time
    open_minutes: float = 0  # minutes when at least one space was open
    activities: tuple[ActivityFigures, ...] = ()
    # Compte d'engagement citoyen, for a year asked with names: member id -> "eligible" | "partial"
    cec: dict[int, str] = field(default_factory=dict)
    decisions: DecisionFigures | None = None  # issue 17: decisions closed in the period, participation
    place: str = ""  # issue 18: the place's name when the report is one place's ("": the whole network)

    @property
    def visits_total(self) -> int:
        return sum(self.visits.values())

    @property
    def contacts(self) -> int:
        """Passages: present + walk-ins at events + daily visitors (a person coming twice counts twice)."""
        events = self.events
        return (events.present + events.walk_in if events else 0) + self.visits_total

    @property
    def valuation(self) -> Decimal:
        return sum((part.amount for part in self.rates), Decimal("0.00"))

    @property
    def hour_value(self) -> Decimal | None:
        """The one rate of the period, None when the SMIC changed within it."""
        return self.rates[0].rate if len({part.rate for part in self.rates}) == 1 else None


@dataclass(frozen=True)
class BookingRow:
    space_id: int
    member_id: int
    start: datetime
    end: datetime


def space_figures(
    space: Space, bookings: Sequence[BookingRow], period_window: Interval, open_windows: Sequence[Interval]
) -> SpaceFigures:
    """Bookings are counted in the period they start in; time is clipped to the period and, for the
    occupancy rate, to the opening hours."""
    starting = [b for b in bookings if period_window[0] <= b.start < period_window[1]]
    intervals = [(b.start, b.end) for b in bookings]
    open_minutes = sum((e - s).total_seconds() / 60 for s, e in open_windows)
    return SpaceFigures(
        slug=space.slug, name=space.name, capacity=space.capacity, bookings=len(starting),
        booked_minutes=overlap_minutes(intervals, [period_window]), open_minutes=open_minutes,
        occupancy=occupancy_rate(overlap_minutes(intervals, open_windows), open_minutes, space.capacity),
        bookers=len({b.member_id for b in starting}),
    )


def volunteer_figures(
    entries: Iterable[tuple[int, str | None, int]], shifts: Iterable[tuple[int, int]] = ()
) -> VolunteerFigures:
    """``entries``: (member id, project or None, minutes), one row per entry or already summed;
    ``shifts``: (places, places taken)."""
    by_project: dict[str | None, list[tuple[int, int]]] = defaultdict(list)
    per_member: dict[int, int] = defaultdict(int)
    for member_id, project, minutes in entries:
        by_project[project].append((member_id, minutes))
        per_member[member_id] += minutes
    projects = sorted(
        (ProjectFigures(project, sum(m for _, m in rows), len({mid for mid, _ in rows}))
         for project, rows in by_project.items()),
        key=lambda p: (-p.minutes, p.project is None, p.project or ""),
    )
    shift_rows = list(shifts)
    return VolunteerFigures(
        projects=tuple(projects), minutes=sum(per_member.values()), volunteers=len(per_member),
        shifts=len(shift_rows), places=sum(p for p, _ in shift_rows),
        places_taken=sum(min(t, p) for p, t in shift_rows),
        per_member=tuple(sorted(per_member.items(), key=lambda item: (-item[1], item[0]))),
    )


def local_days(period: Period) -> list[date]:
    return [period.start + timedelta(days=n) for n in range((period.end - period.start).days)]


# --- Queries -------------------------------------------------------------------------------------------


def booking_rows(session: Session, start: datetime, end: datetime) -> list[BookingRow]:
    rows = session.exec(
        select(Booking.space_id, Booking.member_id, Booking.start, Booking.end).where(
            Booking.status == "active", Booking.start < end, Booking.end > start)
    ).all()
    return [BookingRow(*row) for row in rows]


def event_rows(session: Session, start: datetime, end: datetime) -> list[EventRow] | None:
    """Occurrences starting in [start, end) with their confirmed sign-ups; None when the events feature
    (storage/models_events.py, issue 5) isn't installed."""
    try:
        from storage.models_events import (
            EVENT_CANCELLED,
            OCCURRENCE_CANCELLED,
            SIGNUP_CONFIRMED,
            Event,
            EventOccurrence,
            EventSignup,
        )
    except ImportError:
        return None
    occurrences = session.exec(
        select(EventOccurrence.id, EventOccurrence.start, Event.title, Event.capacity)
        .join(Event, col(Event.id) == EventOccurrence.event_id)
        .where(EventOccurrence.start >= start, EventOccurrence.start < end,
               EventOccurrence.status != OCCURRENCE_CANCELLED,
               # a single event cancelled as a whole; a series' held dates count (storage.events.cancel_series)
               or_(col(Event.status) != EVENT_CANCELLED, col(Event.rrule).is_not(None)))
        .order_by(col(EventOccurrence.start))
    ).all()
    ids = [row[0] for row in occurrences]
    members: dict[int, set[int]] = defaultdict(set)
    if ids:
        for occurrence_id, member_id in session.exec(
            select(EventSignup.occurrence_id, EventSignup.member_id)
            .where(col(EventSignup.occurrence_id).in_(ids), EventSignup.status == SIGNUP_CONFIRMED)
        ):
            members[occurrence_id].add(member_id)
    rows = [EventRow(title, occ_start, capacity, len(members[oid]), frozenset(members[oid]), oid)
            for oid, occ_start, title, capacity in occurrences if oid is not None]
    return with_attendance(session, rows, {oid: event_id for oid, event_id in session.exec(
        select(EventOccurrence.id, EventOccurrence.event_id).where(col(EventOccurrence.id).in_(ids)))} if ids else {})


def with_attendance(session: Session, rows: list[EventRow], event_of: dict[int | None, int]) -> list[EventRow]:
    """The rows with their presences, walk-ins and category (storage/models_attendance.py)."""
    from storage.attendance import event_categories, event_counts
    from storage.models_attendance import EventTally, Presence

    ids = [row.number for row in rows]
    if not ids:
        return rows
    marks: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    for occurrence_id, member_id, present in session.exec(
            select(Presence.occurrence_id, Presence.member_id, Presence.present)
            .where(col(Presence.occurrence_id).in_(ids))):
        marks[occurrence_id].append((member_id, present))
    tallies = {t.occurrence_id: t
               for t in session.exec(select(EventTally).where(col(EventTally.occurrence_id).in_(ids)))}
    categories = event_categories(session, event_of.values())
    result = []
    for row in rows:
        tally = tallies.get(row.number)
        walk_ins = tally.walk_ins if tally else 0
        recorded = bool(marks[row.number]) or walk_ins > 0 or bool(tally and tally.counts_confirmed_at)
        counts = event_counts(row.member_ids, marks[row.number], walk_ins)
        result.append(replace(
            row, recorded=recorded, present=counts.present, no_show=counts.no_show, walk_in=counts.walk_in,
            present_ids=frozenset(m for m, here in marks[row.number] if here), anonymous_walk_ins=walk_ins,
            category=categories.get(event_of.get(row.number, -1))))
    return result


def build_report(
    session: Session, period: Period, tz: ZoneInfo, hour_value: Decimal | None = None, *, with_names: bool = False,
    site_id: int | None = None,
) -> ActivityReport:
    """``hour_value``: VOLUNTEER_HOUR_VALUE when set; None values each day's hours at that day's SMIC.
    ``site_id`` (issue 18): one place's report — its spaces' bookings and opening hours, the events held at its
    spaces, the shifts at its spaces or on its rota lines and the hours logged for them. Other logged hours, daily
    visitors and decisions belong to no place: they are in the network's report only."""
    start, end = period.bounds(tz)
    window = (start, end)
    days = local_days(period)
    at_place: set[int] | None = None
    if site_id is not None:
        at_place = {i for i in session.exec(select(Space.id).where(Space.site_id == site_id)) if i is not None}

    bookings = booking_rows(session, start, end)
    if at_place is not None:
        bookings = [b for b in bookings if b.space_id in at_place]
    by_space: dict[int, list[BookingRow]] = defaultdict(list)
    for booking in bookings:
        by_space[booking.space_id].append(booking)
    spaces = []
    all_windows: list[Interval] = []
    every_space = list(session.exec(select(Space).order_by(col(Space.site_id), col(Space.name))))
    from storage.places import display_names, site_names

    shown_as = display_names(every_space, site_names(session))  # "Salle de réunion (Orgelet)" in a network
    for space in every_space:
        assert space.id is not None
        if site_id is not None and space.site_id != site_id:
            continue
        if space.closed and not by_space[space.id]:
            continue
        hours = hours_from_json(space.opening_hours)
        open_windows = [w for day in days for w in open_intervals(hours, day, tz)]
        if not space.closed:
            all_windows += open_windows
        spaces.append(replace(space_figures(space, by_space[space.id], window, open_windows),
                              name=shown_as.get(space.id, space.name)))

    events = event_rows(session, start, end)
    if at_place is not None and events is not None:
        held = _occurrences_at(session, [e.number for e in events], at_place)
        events = [e for e in events if e.number in held]

    entries = (task_totals(session, period.start, period.end) if site_id is None
               else place_task_totals(session, period.start, period.end, site_id))
    slugs = project_slugs(session, (project_id for _, project_id, _ in entries))
    taken = func.count(col(ShiftSignup.id))
    shift_rows: list[tuple[int | None, int | None, int, int]] = [tuple(row) for row in session.exec(  # type: ignore[misc]
        select(Shift.id, Shift.space_id, Shift.places, taken)
        .join(ShiftSignup, col(ShiftSignup.shift_id) == Shift.id, isouter=True)
        .where(Shift.status == "open", Shift.start >= start, Shift.start < end).group_by(col(Shift.id)))]
    if at_place is not None:
        from storage.places import shift_places

        on_line = shift_places(session, [int(row[0] or 0) for row in shift_rows])
        shift_rows = [row for row in shift_rows
                      if row[1] in at_place or on_line.get(int(row[0] or 0)) == site_id]
    shift_ids = [int(row[0] or 0) for row in shift_rows]
    volunteers = volunteer_figures(
        ((mid, slugs.get(pid) if pid is not None else None, minutes) for mid, pid, minutes in entries),
        ((places, int(count)) for _, _, places, count in shift_rows))

    active: set[int] = {b.member_id for b in bookings if start <= b.start < end}
    active |= {mid for mid, _, _ in entries}
    active |= set(session.exec(
        select(ShiftSignup.member_id).where(col(ShiftSignup.shift_id).in_(shift_ids)))) if shift_ids else set()
    for event in events or []:
        active |= event.member_ids

    came: set[int] = {b.member_id for b in bookings if start <= b.start < end}
    came |= {mid for mid, _, _ in entries}
    for event in events or []:
        came |= event.present_ids
    from storage.attendance import visits_between

    visits = visits_between(session, period.start, period.end) if site_id is None else {}

    names: dict[int, str] = {}
    if with_names and volunteers.per_member:
        ids = [mid for mid, _ in volunteers.per_member]
        names = {mid: name for mid, name in session.exec(
            select(Member.id, Member.display_name).where(col(Member.id).in_(ids))) if mid is not None}
    cec: dict[int, str] = {}
    if with_names and period.kind == "year":
        from storage.attestations import cec_flag, roles

        with_role = roles(session)
        cec = {mid: flag for mid, minutes in volunteers.per_member
               if (flag := cec_flag(minutes, with_role.get(mid))) is not None}
    parts = rate_parts(period.start, period.end, hour_value)
    if len(parts) > 1:  # hours given before and after a change of the SMIC: each at its own rate
        parts = [RatePart(p.start, p.end, p.rate, p.source, p.since,
                          sum(m for _, _, m in (task_totals(session, p.start, p.end) if site_id is None
                                                else place_task_totals(session, p.start, p.end, site_id))))
                 for p in parts]
    else:
        parts = [RatePart(p.start, p.end, p.rate, p.source, p.since, volunteers.minutes) for p in parts]
    return ActivityReport(
        period=period, spaces=tuple(spaces),
        events=EventFigures(tuple(events)) if events is not None else None,
        volunteers=volunteers, active_members=len(active), rates=tuple(parts), member_names=names, tz=tz,
        visits=visits, unique_people=len(came), open_minutes=union_minutes(all_windows),
        activities=activity_figures(events or []), cec=cec,
        decisions=decision_figures(session, start, end) if site_id is None else None,
        place=_place_name(session, site_id),
    )


def place_task_totals(
    session: Session, first_day: date, end_day: date, site_id: int
) -> list[tuple[int, int | None, int]]:
    """(member id, project id, minutes) of the hours logged for shifts held at this place (at its spaces or on
    its rota lines): a place's volunteer hours. Hours logged for no shift belong to the network only, so a
    shared project's (#repair-cafe-itinerant) hours are counted once, in the network's total."""
    from storage.models_volunteers import TaskEntry
    from storage.places import shift_sites

    rows = session.exec(select(TaskEntry.member_id, TaskEntry.project_id, TaskEntry.minutes, TaskEntry.shift_id)
                        .where(TaskEntry.day >= first_day, TaskEntry.day < end_day,
                               col(TaskEntry.shift_id).is_not(None))).all()
    site_of = shift_sites(session, [int(r[3] or 0) for r in rows])
    totals: dict[tuple[int, int | None], int] = defaultdict(int)
    for member_id, project_id, minutes, shift_id in rows:
        if site_of.get(int(shift_id or 0)) == site_id:
            totals[(member_id, project_id)] += minutes
    return [(mid, pid, minutes) for (mid, pid), minutes in totals.items()]


def _place_name(session: Session, site_id: int | None) -> str:
    if site_id is None:
        return ""
    from storage.models import Site

    site = session.get(Site, site_id)
    return site.name if site is not None else ""


def _occurrences_at(session: Session, occurrence_ids: list[int | None], spaces: set[int]) -> set[int | None]:
    """The occurrences (of these) whose event is held at one of these spaces."""
    from storage.models_events import Event, EventOccurrence

    ids = [i for i in occurrence_ids if i is not None]
    if not ids or not spaces:
        return set()
    return set(session.exec(select(EventOccurrence.id).join(Event, col(Event.id) == EventOccurrence.event_id)
                            .where(col(EventOccurrence.id).in_(ids), col(Event.space_id).in_(list(spaces)))))


def network_reports(
    session: Session, period: Period, tz: ZoneInfo, hour_value: Decimal | None = None
) -> tuple[ActivityReport, list[tuple[str, ActivityReport]]]:
    """The network's report (everything) and each place's (slug, report), in the places' order."""
    from storage.models import Site

    total = build_report(session, period, tz, hour_value)
    sites = session.exec(select(Site).order_by(col(Site.id))).all()
    return total, [(site.slug, build_report(session, period, tz, hour_value, site_id=site.id))
                   for site in sites if site.id is not None]
