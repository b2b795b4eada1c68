"""The figures of the weekly digest: space occupancy by day and hour, and last week's activity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from storage.booking_rules import peak_occupancy
from storage.bookings import bookings_between
from storage.models import Booking, Space
from storage.models_places import ChatPlace
from storage.models_volunteers import TaskEntry
from storage.spaces import space_views

FIRST_HOUR, LAST_HOUR = 8, 22


def week_start(now: datetime, tz: ZoneInfo) -> date:
    """The digest covers the seven days from today (on the scheduled Monday: that week) and looks back
    on the seven days before."""
    return now.astimezone(tz).date()


def occupancy_grid(session: Session, first_day: date, tz: ZoneInfo) -> list[list[float]]:
    """Share of all places booked, per day (7) and hour (FIRST_HOUR..LAST_HOUR)."""
    spaces = space_views(session)
    total = sum(s.capacity for s in spaces) or 1
    start = datetime.combine(first_day, time(0), tzinfo=tz)
    by_space = bookings_between(session, [s.id for s in spaces], start, start + timedelta(days=8))
    grid = []
    for offset in range(7):
        day = first_day + timedelta(days=offset)
        row = []
        for hour in range(FIRST_HOUR, LAST_HOUR):
            slot_start = datetime.combine(day, time(hour), tzinfo=tz)
            slot_end = slot_start + timedelta(hours=1)
            taken = sum(min(peak_occupancy(by_space[s.id], slot_start, slot_end), s.capacity) for s in spaces)
            row.append(taken / total)
        grid.append(row)
    return grid


@dataclass(frozen=True)
class SpaceWeek:
    """One space's week: ``grid[day][hour - FIRST_HOUR]`` is the share of its places taken (0..1)."""

    name: str
    capacity: int
    grid: list[list[float]]

    @property
    def load(self) -> float:
        return sum(sum(row) for row in self.grid)


def occupancy_by_space(
    session: Session, first_day: date, tz: ZoneInfo, limit: int = 6, site_id: int | None = None,
) -> tuple[list[SpaceWeek], int]:
    """The ``limit`` busiest spaces of the week (most place-hours taken, then by name; spaces nobody
    booked are left out), each on its own scale (a full meeting room is full, whatever the open space next
    door), and how many spaces were left out. ``site_id``: one place's spaces only (a network of places)."""
    spaces = [s for s in space_views(session) if site_id is None or s.site_id == site_id]
    start = datetime.combine(first_day, time(0), tzinfo=tz)
    by_space = bookings_between(session, [s.id for s in spaces], start, start + timedelta(days=8))
    weeks = []
    for space in spaces:
        grid = []
        for offset in range(7):
            day = first_day + timedelta(days=offset)
            row = []
            for hour in range(FIRST_HOUR, LAST_HOUR):
                slot_start = datetime.combine(day, time(hour), tzinfo=tz)
                taken = peak_occupancy(by_space[space.id], slot_start, slot_start + timedelta(hours=1))
                row.append(min(taken, space.capacity) / max(space.capacity, 1))
            grid.append(row)
        weeks.append(SpaceWeek(space.name, space.capacity, grid))
    weeks.sort(key=lambda w: (-w.load, w.name))
    shown = [w for w in weeks if w.load > 0][:limit] or weeks[:2]  # a quiet week: two empty maps say so
    return shown, len(weeks) - len(shown)


@dataclass(frozen=True)
class WeekFigures:
    bookings: int
    booked_hours: float
    members: int


def past_week_figures(session: Session, first_day: date, tz: ZoneInfo, site_id: int | None = None) -> WeekFigures:
    """Bookings of the seven days before ``first_day`` (not cancelled); ``site_id``: at one place."""
    end = datetime.combine(first_day, time(0), tzinfo=tz)
    start = datetime.combine(first_day - timedelta(days=7), time(0), tzinfo=tz)
    query = select(Booking.start, Booking.end, Booking.member_id).where(
        Booking.status == "active", Booking.start >= start, Booking.start < end)
    if site_id is not None:
        query = query.join(Space, col(Space.id) == Booking.space_id).where(Space.site_id == site_id)
    rows = session.exec(query).all()
    hours = sum((e - s).total_seconds() for s, e, _ in rows) / 3600
    return WeekFigures(len(rows), round(hours, 1), len({m for _, _, m in rows}))


def upcoming_booking_count(session: Session, first_day: date, tz: ZoneInfo, site_id: int | None = None) -> int:
    start = datetime.combine(first_day, time(0), tzinfo=tz)
    query = select(func.count()).select_from(Booking).where(
        Booking.status == "active", col(Booking.start) >= start, col(Booking.start) < start + timedelta(days=7))
    if site_id is not None:
        query = query.join(Space, col(Space.id) == Booking.space_id).where(Space.site_id == site_id)
    return session.exec(query).one()


def volunteer_minutes(session: Session, first: date, last: date) -> int:
    """Volunteer time logged for the days from ``first`` to ``last`` included."""
    total = session.exec(select(func.coalesce(func.sum(TaskEntry.minutes), 0)).where(
        col(TaskEntry.day) >= first, col(TaskEntry.day) <= last)).one()
    return int(total)


def chat_places(session: Session) -> dict[tuple[str, str], int]:
    """Every group chat attached to a place, {(platform, chat id): place}, in one query (the weekly digest
    looks up each subscribed chat: one query per chat held the write lock ~2 ms a chat)."""
    return {(platform, chat_id): site_id
            for platform, chat_id, site_id in session.exec(select(ChatPlace.platform, ChatPlace.chat_id,
                                                                   ChatPlace.site_id))}
