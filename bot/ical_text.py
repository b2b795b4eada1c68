"""RFC 5545 text written directly (no icalendar objects): escaping, line folding, date-times and the
VTIMEZONE. ``tests/test_ical_conformance.py`` reads what this writes with icalendar, vobject,
recurring-ical-events and ical.js.

Why by hand: icalendar folds lines one character at a time (30 % of a 5,000-event feed), and its
``Timezone.from_tzinfo`` lists every year's clock change in one comma-separated RDATE that ical.js 2.x
and vobject read only the first value of (every summer date one hour late).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from storage.wall_clock import ambiguous, rule_wall_time

_ESCAPES = str.maketrans({"\\": "\\\\", ";": "\\;", ",": "\\,", "\n": "\\n", "\r": ""})
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def text(value: str) -> str:
    """A TEXT value, escaped."""
    return value.translate(_ESCAPES)


def fold(line: str) -> bytes:
    """One content line, folded at 75 octets without cutting a UTF-8 character, ending in CRLF."""
    raw = line.encode()
    if len(raw) <= 75:
        return raw + b"\r\n"
    parts = []
    start, limit = 0, 75
    while len(raw) - start > limit:
        cut = start + limit
        while raw[cut] & 0xC0 == 0x80:  # a UTF-8 continuation byte: cut before its character
            cut -= 1
        parts.append(raw[start:cut])
        start, limit = cut, 74
    parts.append(raw[start:])
    return b"\r\n ".join(parts) + b"\r\n"


def utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _wall(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


@lru_cache(maxsize=512)
def _change_days(tz_name: str, year: int) -> frozenset[date]:
    """The local days around the clock changes of ``year`` (the only days with odd wall-clock times)."""
    days: set[date] = set()
    for instant, _, _, _ in _transitions(ZoneInfo(tz_name), year):
        day = instant.astimezone(ZoneInfo(tz_name)).date()
        days.update((day - timedelta(days=1), day, day + timedelta(days=1)))
    return frozenset(days)


def near_change(local: datetime) -> bool:
    assert isinstance(local.tzinfo, ZoneInfo)
    return local.date() in _change_days(local.tzinfo.key, local.year)


def date_time(name: str, moment: datetime, tz: ZoneInfo) -> str:
    """``NAME;TZID=zone:local``, or ``NAME:...Z`` for a wall-clock time that happens twice (02:30 on the
    autumn night: RFC 5545 readers take the first, ical.js the second)."""
    local = moment.astimezone(tz)
    if near_change(local) and ambiguous(moment, tz):
        return f"{name}:{utc_stamp(moment)}"
    return f"{name};TZID={tz.key}:{local:%Y%m%dT%H%M%S}"


def rule_date_time(name: str, moment: datetime, tz: ZoneInfo, rule_time: time) -> str:
    """A series' DTSTART, RECURRENCE-ID or EXDATE: the wall-clock time the rule gives (its time of day
    ``rule_time``), which RFC 5545 readers map to ``moment`` (02:30 on the spring night, read as 03:30)."""
    local = moment.astimezone(tz)
    if near_change(local):
        return f"{name};TZID={tz.key}:{_wall(rule_wall_time(moment, tz, rule_time))}"
    return f"{name};TZID={tz.key}:{local:%Y%m%dT%H%M%S}"


# --- VTIMEZONE ------------------------------------------------------------------------------------------

def _offset_text(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{minutes:02d}"


@lru_cache(maxsize=1024)
def _transitions(tz: ZoneInfo, year: int) -> list[tuple[datetime, timedelta, timedelta, str]]:
    """(instant UTC, offset before, offset after, name after) of the clock changes in ``year``."""
    found = []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    step = timedelta(days=1)
    previous = moment.astimezone(tz).utcoffset()
    while moment < end:
        following = moment + step
        after = following.astimezone(tz).utcoffset()
        if after != previous:
            low, high = moment, following
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                if middle.astimezone(tz).utcoffset() == after:
                    high = middle
                else:
                    low = middle
            assert previous is not None and after is not None
            found.append((high.replace(second=0, microsecond=0), previous, after, high.astimezone(tz).tzname() or ""))
        previous, moment = after, following
    return found


def _yearly_rule(instant: datetime, before: timedelta) -> tuple[datetime, str]:
    """The wall-clock start (in the offset before) and the RRULE "the nth/last weekday of the month"."""
    wall = (instant + before).replace(tzinfo=None)
    nth = (wall.day - 1) // 7 + 1
    month_days = ((wall.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)).day
    position = -1 if wall.day + 7 > month_days else nth
    return wall, f"FREQ=YEARLY;BYMONTH={wall.month};BYDAY={position}{_WEEKDAYS[wall.weekday()]}"


def _rule_day(year: int, month: int, byday: str) -> date:
    position, weekday = int(byday[:-2]), _WEEKDAYS.index(byday[-2:])
    if position > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (position - 1))
    last = (date(year, month, 28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


@lru_cache(maxsize=16)
def vtimezone(tz_name: str, first_year: int) -> bytes:
    """The zone as Thunderbird and Google write it: one STANDARD and one DAYLIGHT component with a
    yearly RRULE and the right local transition times (02:00 -> 03:00 in March, 03:00 -> 02:00 in October
    in Paris), checked against the tz database for 25 years; a zone whose rules don't fit that shape gets
    one component per clock change, one RDATE each."""
    tz = ZoneInfo(tz_name)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{tz_name}"]
    reference = _transitions(tz, first_year + 5)
    years = range(first_year, first_year + 26)
    if not reference:
        moment = datetime(first_year + 5, 1, 1, tzinfo=UTC).astimezone(tz)
        offset = moment.utcoffset()
        assert offset is not None
        lines += ["BEGIN:STANDARD", "DTSTART:19700101T000000", f"TZOFFSETFROM:{_offset_text(offset)}",
                  f"TZOFFSETTO:{_offset_text(offset)}", f"TZNAME:{moment.tzname()}", "END:STANDARD"]
    else:
        components = []
        fits = True
        for instant, before, after, name in reference:
            wall, rule = _yearly_rule(instant, before)
            byday = rule.rsplit("=", 1)[1]
            for year in years:
                expected = datetime.combine(_rule_day(year, wall.month, byday), wall.time()) - before
                if not any(t == expected.replace(tzinfo=UTC) and b == before and a == after
                           for t, b, a, _ in _transitions(tz, year)):
                    fits = False
            kind = "DAYLIGHT" if after > before else "STANDARD"
            first = wall.replace(year=1970, day=_rule_day(1970, wall.month, byday).day)
            components.append([f"BEGIN:{kind}", f"DTSTART:{_wall(first)}",
                               f"RRULE:{rule}", f"TZOFFSETFROM:{_offset_text(before)}",
                               f"TZOFFSETTO:{_offset_text(after)}", f"TZNAME:{name}", f"END:{kind}"])
        if fits:
            for component in components:
                lines += component
        else:
            for year in years:
                for instant, before, after, name in _transitions(tz, year):
                    kind = "DAYLIGHT" if after > before else "STANDARD"
                    local = _wall((instant + before).replace(tzinfo=None))
                    lines += [f"BEGIN:{kind}", f"DTSTART:{local}", f"RDATE:{local}",
                              f"TZOFFSETFROM:{_offset_text(before)}", f"TZOFFSETTO:{_offset_text(after)}",
                              f"TZNAME:{name}", f"END:{kind}"]
    lines.append("END:VTIMEZONE")
    return b"".join(fold(line) for line in lines)
