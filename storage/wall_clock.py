"""Wall-clock times skipped by the spring clock change, as pure functions.

RFC 5545 (3.3.5) reads a local time that doesn't exist ("02:30" on the last Sunday of March in Paris)
with the offset from before the change: 03:30 summer time. A weekly 02:30–03:30 then lasts no time at all
on that night (DTEND = DTSTART, which RFC 5545 forbids, and parsers disagree on it). The bot moves such a
date to the first valid time (03:00), keeping its length; the date keeps its place in the series
(``original_start``, the feeds' RECURRENCE-ID) where RFC 5545 puts it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from storage.event_rules import Slot, local_slot

_LONGEST_GAP = timedelta(hours=3)


def _offset(moment: datetime, tz: ZoneInfo) -> timedelta:
    offset = moment.astimezone(tz).utcoffset()
    assert offset is not None
    return offset


def rule_wall_time(moment: datetime, tz: ZoneInfo) -> datetime:
    """The wall-clock time (naive) that RFC 5545 reads as ``moment``: its local time, unless ``moment``
    is how a time skipped by a spring change is read (then the skipped time itself, e.g. 02:30)."""
    local = moment.astimezone(tz).replace(tzinfo=None)
    before = _offset(moment - _LONGEST_GAP, tz)
    if before >= _offset(moment, tz):
        return local
    candidate = (moment.astimezone(UTC) + before).replace(tzinfo=None)
    read = candidate.replace(tzinfo=tz).astimezone(UTC)
    exists = read.astimezone(tz).replace(tzinfo=None) == candidate
    return candidate if read == moment.astimezone(UTC) and not exists else local


def in_gap(moment: datetime, tz: ZoneInfo) -> bool:
    """Whether ``moment`` is RFC 5545's reading of a wall time that the spring change skipped."""
    return rule_wall_time(moment, tz) != moment.astimezone(tz).replace(tzinfo=None)


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


def in_real_time(slot: Slot, duration: timedelta, tz: ZoneInfo) -> Slot:
    """A rule's date as it will be held: unchanged, unless its start was skipped by the spring change;
    then it starts at the first valid time (03:00 in Paris) and keeps its wall-clock length. Never a
    zero-length or reversed date."""
    if in_gap(slot.start, tz):
        start = change_instant(slot.start, tz)
        return Slot(start, start + max(duration, timedelta(minutes=1)))
    if slot.end <= slot.start:
        return Slot(slot.start, slot.start + max(duration, timedelta(minutes=1)))
    return slot


def held_slot(original_start: datetime, duration: timedelta, tz: ZoneInfo) -> Slot:
    """When a series' date is held if nobody moved it: its rule time (``original_start``, as RFC 5545
    reads it) and the series' wall-clock length, through ``in_real_time``."""
    wall = rule_wall_time(original_start, tz)
    return in_real_time(local_slot(wall.replace(tzinfo=tz), duration, tz), duration, tz)


def ambiguous(moment: datetime, tz: ZoneInfo) -> bool:
    """Whether ``moment``'s wall-clock time happens twice (02:30 on the autumn night): RFC 5545 says a
    reader takes the first, ical.js takes the second, so the feeds write such times in UTC."""
    wall = rule_wall_time(moment, tz)
    return wall.replace(tzinfo=tz, fold=0).utcoffset() != wall.replace(tzinfo=tz, fold=1).utcoffset()
