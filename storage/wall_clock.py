"""Wall-clock times skipped by the spring clock change, as pure functions.

RFC 5545 (3.3.5) reads a local time that doesn't exist ("02:30" on the last Sunday of March in Paris)
with the offset from before the change: 03:30 summer time. A weekly 02:30–03:30 then lasts no time at all
on that night (DTEND = DTSTART, which RFC 5545 forbids, and parsers disagree on it). The bot holds such a
date at the first valid time (03:00), keeping its length; the date keeps its place in the series
(``original_start``, the feeds' RECURRENCE-ID) where RFC 5545 puts it.

The instant alone can't say whether it came from a skipped time: 01:30 UTC that night is both 03:30
summer time and RFC 5545's reading of 02:30. So these functions take the series' time of day
(``rule_time``, the wall-clock time of its DTSTART: our rules never set hours).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from storage.event_rules import Slot, local_slot

_LONGEST_GAP = timedelta(hours=3)


def _offset(moment: datetime, tz: ZoneInfo) -> timedelta:
    offset = moment.astimezone(tz).utcoffset()
    assert offset is not None
    return offset


def exists(wall: datetime, tz: ZoneInfo) -> bool:
    """Whether the naive wall-clock time ``wall`` happens at all in ``tz``."""
    return wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall


def rule_wall_time(moment: datetime, tz: ZoneInfo, rule_time: time) -> datetime:
    """The wall-clock time (naive) of the series' date read as ``moment``: the day's ``rule_time`` when
    RFC 5545 reads it as ``moment`` (02:30 on the spring night, read as 03:30 summer time), else
    ``moment``'s own local time (a date moved on its own)."""
    local = moment.astimezone(tz).replace(tzinfo=None)
    wall = datetime.combine(local.date(), rule_time)
    if wall != local and wall.replace(tzinfo=tz).astimezone(UTC) == moment.astimezone(UTC):
        return wall
    return local


def change_instant(moment: datetime, tz: ZoneInfo) -> datetime:
    """The instant of the clock change just before ``moment`` (within three hours), to the second."""
    low, high = moment - _LONGEST_GAP, moment  # offset(low) differs, offset(high) is the new one
    after = _offset(moment, tz)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if _offset(middle, tz) == after:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0).astimezone(UTC)


def in_real_time(slot: Slot, duration: timedelta, tz: ZoneInfo, rule_time: time) -> Slot:
    """A rule's date as it will be held: unchanged, unless the spring change skipped its time of day
    (``rule_time`` on that date); then it starts at the first valid time (03:00 in Paris) and keeps its
    wall-clock length. Never a zero-length or reversed date."""
    length = max(duration, timedelta(minutes=1))
    wall = datetime.combine(slot.start.astimezone(tz).date(), rule_time)
    if not exists(wall, tz) and wall.replace(tzinfo=tz).astimezone(UTC) == slot.start.astimezone(UTC):
        start = change_instant(slot.start, tz)
        return Slot(start, start + length)
    if slot.end <= slot.start:
        return Slot(slot.start, slot.start + length)
    return slot


def held_slot(original_start: datetime, duration: timedelta, tz: ZoneInfo, rule_time: time) -> Slot:
    """When a series' date is held if nobody moved it: its rule time (``original_start``, as RFC 5545
    reads it) and the series' wall-clock length, through ``in_real_time``."""
    wall = rule_wall_time(original_start, tz, rule_time)
    return in_real_time(local_slot(wall.replace(tzinfo=tz), duration, tz), duration, tz, rule_time)


def ambiguous(moment: datetime, tz: ZoneInfo) -> bool:
    """Whether ``moment``'s wall-clock time happens twice (02:30 on the autumn night): RFC 5545 says a
    reader takes the first, ical.js takes the second, so the feeds write such times in UTC."""
    wall = moment.astimezone(tz).replace(tzinfo=None)  # a time that exists: two readings iff it is doubled
    return wall.replace(tzinfo=tz, fold=0).utcoffset() != wall.replace(tzinfo=tz, fold=1).utcoffset()


def time_of_day(moment: datetime, tz: ZoneInfo) -> time:
    """A series' time of day: the wall-clock time of its first date (never a skipped time: /event refuses
    those)."""
    return moment.astimezone(tz).time().replace(tzinfo=None)
