"""Booking rules as pure functions: capacity, opening hours, length, horizon, quota, qualification,
and the search for nearby free slots. No database, no chat: easy to test exhaustively."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Protocol
from zoneinfo import ZoneInfo

from storage.opening_hours import Hours, is_within_hours, open_intervals
from storage.refusals import Refused

SLOT_STEP = timedelta(minutes=30)
Interval = tuple[datetime, datetime]


class BookingRefused(Refused):
    """``reason`` is a code the handler turns into a sentence; ``params`` fill it in."""


@dataclass(frozen=True)
class SpaceRules:
    capacity: int
    hours: Hours
    max_duration: timedelta
    max_days_ahead: int
    weekly_quota: timedelta | None
    required_qualification: str | None
    closed: bool


class RuledSpace(Protocol):
    """What the listings of free spaces need of a space (a storage.spaces.SpaceView): its id and rules."""

    @property
    def id(self) -> int: ...

    @property
    def rules(self) -> SpaceRules: ...


def peak_occupancy(bookings: Iterable[Interval], start: datetime, end: datetime) -> int:
    """Most bookings running at the same instant within [start, end)."""
    events: list[tuple[datetime, int]] = []
    for b_start, b_end in bookings:
        if b_start < end and start < b_end:
            events.append((max(b_start, start), 1))
            events.append((min(b_end, end), -1))
    events.sort(key=lambda e: (e[0], e[1]))  # ends before starts at the same instant
    peak = current = 0
    for _, delta in events:
        current += delta
        peak = max(peak, current)
    return peak


def week_bounds(moment: datetime, tz: ZoneInfo) -> Interval:
    local = moment.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    start = datetime.combine(monday, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(monday + timedelta(days=7), datetime.min.time(), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def booked_time(bookings: Iterable[Interval], window: Interval) -> timedelta:
    total = timedelta()
    for b_start, b_end in bookings:
        overlap = min(b_end, window[1]) - max(b_start, window[0])
        if overlap > timedelta():
            total += overlap
    return total


def check_booking(
    rules: SpaceRules,
    start: datetime,
    end: datetime,
    now: datetime,
    tz: ZoneInfo,
    *,
    existing: Sequence[Interval],
    member_bookings: Sequence[Interval],
    qualifications: Iterable[str],
    is_coordinator: bool = False,
    events: Sequence[tuple[datetime, datetime, str]] = (),
) -> None:
    """Raise BookingRefused with the first rule the request breaks. ``events`` (start, end, title)
    take the whole space: a booking over one is refused, whoever asks."""
    if rules.closed:
        raise BookingRefused("closed_space")
    if start < now:
        raise BookingRefused("past")
    if end - start > rules.max_duration and not is_coordinator:
        raise BookingRefused("too_long", max_minutes=int(rules.max_duration.total_seconds() // 60))
    if (start - now) > timedelta(days=rules.max_days_ahead) and not is_coordinator:
        raise BookingRefused("too_far", days=rules.max_days_ahead)
    if not is_within_hours(rules.hours, start, end, tz):
        raise BookingRefused("outside_hours")
    if rules.required_qualification and not is_coordinator and rules.required_qualification not in set(
        qualifications
    ):
        raise BookingRefused("qualification", qualification=rules.required_qualification)
    if rules.weekly_quota is not None and not is_coordinator:
        used = booked_time(member_bookings, week_bounds(start, tz))
        if used + (end - start) > rules.weekly_quota:
            raise BookingRefused(
                "quota",
                quota_minutes=int(rules.weekly_quota.total_seconds() // 60),
                used_minutes=int(used.total_seconds() // 60),
            )
    for e_start, e_end, title in events:
        if e_start < end and start < e_end:
            raise BookingRefused("event", title=title)
    if peak_occupancy(existing, start, end) >= rules.capacity:
        raise BookingRefused("full")


def waived_rules(
    rules: SpaceRules,
    start: datetime,
    end: datetime,
    now: datetime,
    tz: ZoneInfo,
    *,
    member_bookings: Sequence[Interval],
    qualifications: Iterable[str],
) -> list[BookingRefused]:
    """The rules a coordinator is not held to (length, horizon, qualification, weekly quota) that this
    booking breaks, so that the reply can say it was booked outside them."""
    waived = []
    if end - start > rules.max_duration:
        waived.append(BookingRefused("too_long", max_minutes=int(rules.max_duration.total_seconds() // 60),
                                     minutes=int((end - start).total_seconds() // 60)))
    if (start - now) > timedelta(days=rules.max_days_ahead):
        waived.append(BookingRefused("too_far", days=rules.max_days_ahead))
    if rules.required_qualification and rules.required_qualification not in set(qualifications):
        waived.append(BookingRefused("qualification", qualification=rules.required_qualification))
    if rules.weekly_quota is not None:
        used = booked_time(member_bookings, week_bounds(start, tz))
        if used + (end - start) > rules.weekly_quota:
            waived.append(BookingRefused("quota", quota_minutes=int(rules.weekly_quota.total_seconds() // 60),
                                         used_minutes=int(used.total_seconds() // 60)))
    return waived


def is_free(rules: SpaceRules, existing: Sequence[Interval], start: datetime, end: datetime, tz: ZoneInfo) -> bool:
    return (
        not rules.closed
        and is_within_hours(rules.hours, start, end, tz)
        and peak_occupancy(existing, start, end) < rules.capacity
    )


def _ceil_to_step(moment: datetime, tz: ZoneInfo) -> datetime:
    local = moment.astimezone(tz)
    minutes = local.minute % 30
    if minutes or local.second or local.microsecond:
        local = local.replace(second=0, microsecond=0) + timedelta(minutes=30 - minutes)
    return local.astimezone(UTC)


def find_free_slots(
    rules: SpaceRules,
    existing: Sequence[Interval],
    length: timedelta,
    around: datetime,
    now: datetime,
    tz: ZoneInfo,
    *,
    days: int = 7,
    limit: int = 3,
) -> list[Interval]:
    """The free slots of ``length`` nearest to ``around`` (before or after), on a half-hour grid."""
    if rules.closed or length <= timedelta():
        return []
    earliest = _ceil_to_step(now, tz)
    first_day = max(around, now).astimezone(tz).date()
    farthest = now + timedelta(days=rules.max_days_ahead)
    # Every slot of the grid, nearest first; then checked in that order until ``limit`` are free (a few
    # checks, not one per slot of the nine days: the same answer).
    candidates: list[tuple[datetime, datetime, list[Interval]]] = []
    for offset in range(-1, days + 1):
        day: date = first_day + timedelta(days=offset)
        for open_start, open_end in open_intervals(rules.hours, day, tz):
            slot = max(open_start, earliest)
            slot = _ceil_to_step(slot, tz)
            # Only what overlaps this opening can overlap its slots: each slot is checked against a few
            # bookings, not against the whole window's (the same answer, ~20 times fewer comparisons).
            there = [b for b in existing if b[0] < open_end and slot < b[1]]
            while slot + length <= open_end and slot <= farthest:
                candidates.append((slot, slot + length, there))
                slot += SLOT_STEP
    candidates.sort(key=lambda c: (abs(c[0] - around), c[0]))
    chosen: list[Interval] = []
    for slot, end, there in candidates:
        if slot == around or (there and peak_occupancy(there, slot, end) >= rules.capacity):
            continue
        chosen.append((slot, end))
        if len(chosen) == limit:
            break
    return sorted(chosen)


def free_periods(
    rules: SpaceRules, existing: Sequence[Interval], day: date, now: datetime, tz: ZoneInfo
) -> list[Interval]:
    """The stretches of one day during which at least one seat is free (from now on)."""
    periods: list[Interval] = []
    for open_start, open_end in open_intervals(rules.hours, day, tz):
        start = max(open_start, now)
        if start >= open_end:
            continue
        # No booking that day (most spaces): the opening period is the only stretch, no cut to look for.
        cuts = sorted({start, open_end} | {t for b in existing for t in b if start < t < open_end}) if existing \
            else [start, open_end]
        for a, b in pairwise(cuts):
            if peak_occupancy(existing, a, b) < rules.capacity:
                if periods and periods[-1][1] == a:
                    periods[-1] = (periods[-1][0], b)
                else:
                    periods.append((a, b))
    return [(a, b) for a, b in periods if b - a >= timedelta(minutes=15)]
