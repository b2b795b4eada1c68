"""Opening hours per weekday, as stored on a space: {"mon": ["08:30-12:00", "14:00-19:00"], ...}."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE_RE = re.compile(r"^\s*(\d{1,2})[:h](\d{2})\s*-\s*(\d{1,2})[:h](\d{2})\s*$")

Hours = dict[str, list[tuple[time, time]]]


class HoursFormatError(ValueError):
    pass


def _time(h: str, m: str) -> time:
    hour, minute = int(h), int(m)
    if hour == 24 and minute == 0:
        return time.max
    return time(hour, minute)


def parse_hours(raw: Mapping[str, object]) -> Hours:
    """Accepts lists or comma-separated strings of HH:MM-HH:MM per weekday key."""
    hours: Hours = {}
    for key, value in raw.items():
        day = key.strip().lower()[:3]
        if day not in WEEKDAYS:
            raise HoursFormatError(f"unknown weekday '{key}' (use {', '.join(WEEKDAYS)})")
        items = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[call-overload]
        ranges: list[tuple[time, time]] = []
        for item in items:
            item = str(item).strip()
            if not item or item.lower() in {"closed", "ferme", "fermé"}:
                continue
            match = _RANGE_RE.match(item)
            if not match:
                raise HoursFormatError(f"'{item}' on {day} is not a range like 09:00-18:00")
            try:
                start, end = _time(match[1], match[2]), _time(match[3], match[4])
            except ValueError:
                raise HoursFormatError(f"'{item}' on {day} is not a valid time range") from None
            if end <= start:
                raise HoursFormatError(f"'{item}' on {day} ends before it starts")
            ranges.append((start, end))
        if ranges:
            hours[day] = sorted(ranges)
    return hours


def hours_to_json(hours: Hours) -> str:
    def fmt(t: time) -> str:
        return "24:00" if t == time.max else t.strftime("%H:%M")

    return json.dumps({d: [f"{fmt(s)}-{fmt(e)}" for s, e in hours[d]] for d in WEEKDAYS if d in hours})


@lru_cache(maxsize=4096)
def hours_from_json(text: str) -> Hours:
    """Cached: every booking check reads the hours of the spaces involved. Callers must not mutate."""
    return parse_hours(json.loads(text or "{}"))


def open_intervals(hours: Hours, day: date, tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The opening periods of one local day, in UTC (so that durations are real durations)."""
    result = []
    for start, end in hours.get(WEEKDAYS[day.weekday()], []):
        local_start = datetime.combine(day, start, tzinfo=tz)
        if end == time.max:
            local_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
        else:
            local_end = datetime.combine(day, end, tzinfo=tz)
        result.append((local_start.astimezone(UTC), local_end.astimezone(UTC)))
    return result


def is_within_hours(hours: Hours, start: datetime, end: datetime, tz: ZoneInfo) -> bool:
    """True when [start, end) lies inside one opening period of its local day."""
    day = start.astimezone(tz).date()
    return any(s <= start and end <= e for s, e in open_intervals(hours, day, tz))
