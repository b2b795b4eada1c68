"""Event rules as pure functions: recurrence phrases in French and English, expansion of a series in
the place's local time (a weekly 14:00 stays 14:00 across a clock change), capacity and waitlist
promotion. No database, no chat."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from bot.core import vocabulary as V

MAX_OCCURRENCES = 400
OPEN_ENDED_HORIZON = timedelta(days=180)
TOP_UP_MARGIN = timedelta(days=30)

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_WEEKDAYS = V.WEEKDAYS_FULL
_WD = r"(?P<wd>lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|monday|tuesday|wednesday|thursday|friday|" \
      r"saturday|sunday)s?"
_ORDINALS = {
    "1": 1, "1er": 1, "1re": 1, "1ere": 1, "1st": 1, "premier": 1, "premiere": 1, "first": 1,
    "2": 2, "2e": 2, "2eme": 2, "2nd": 2, "deuxieme": 2, "second": 2,
    "3": 3, "3e": 3, "3eme": 3, "3rd": 3, "troisieme": 3, "third": 3,
    "4": 4, "4e": 4, "4eme": 4, "4th": 4, "quatrieme": 4, "fourth": 4,
    "dernier": -1, "derniere": -1, "last": -1,
}
_ORD = (r"(?P<ord>1er|1re|1[eè]re|1st|premi[eè]re?|first|2e|2[eè]me|2nd|deuxi[eè]me|second|3e|3[eè]me|3rd|"
        r"troisi[eè]me|third|4e|4[eè]me|4th|quatri[eè]me|fourth|derni[eè]re?|last)")
_EVERY = r"(?:chaque|tous\s+les|toutes\s+les|every|each)"
_MONTH_WORDS = r"(?:tous\s+les\s+mois|chaque\s+mois|every\s+month|each\s+month|monthly|mensuel(?:lement)?)"
_NUMBER_WORDS = {"deux": 2, "two": 2, "trois": 3, "three": 3, "quatre": 4, "four": 4, "other": 2}

# Most specific first: the first pattern that matches wins.
_RECURRENCE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("monthly_nth", re.compile(_MONTH_WORDS + r"\s+(?:le\s+|on\s+the\s+|the\s+)?" + _ORD + r"\s+" + _WD, re.I)),
    ("monthly_nth", re.compile(r"(?:" + _EVERY + r"\s+|le\s+|the\s+|on\s+the\s+)?" + _ORD + r"\s+" + _WD
                               + r"\s+(?:du\s+mois|de\s+chaque\s+mois|of\s+(?:the|each|every)\s+month)", re.I)),
    ("monthly_nth", re.compile(_EVERY + r"\s+" + _ORD + r"\s+" + _WD, re.I)),
    ("weekly_other", re.compile(r"(?:every\s+other|every\s+second|un(?:e)?)\s+" + _WD + r"(?:\s+sur\s+deux)?", re.I)),
    ("weeks", re.compile(r"(?:every|toutes\s+les|tous\s+les)\s+(?P<n>\d{1,2}|deux|two|trois|three|quatre|four)"
                         r"\s+(?:weeks|semaines)(?:\s+(?:on\s+|le\s+)?" + _WD + r")?", re.I)),
    ("fortnight", re.compile(r"tous\s+les\s+(?:15|quinze)\s+jours|every\s+fortnight|fortnightly", re.I)),
    ("weekly_day", re.compile(_EVERY + r"\s+" + _WD, re.I)),
    ("weekly", re.compile(r"(?:chaque\s+semaine|toutes\s+les\s+semaines|every\s+week|each\s+week|weekly|"
                          r"hebdomadaire)", re.I)),
    ("daily", re.compile(r"(?:chaque\s+jour|tous\s+les\s+jours|every\s+day|each\s+day|daily|quotidien)", re.I)),
    ("monthly", re.compile(_MONTH_WORDS, re.I)),
]
_MONTHS = (r"(?:janvier|janv|f[ée]vrier|f[ée]vr|mars|avril|avr|mai|juin|juillet|juil|ao[uû]t|septembre|sept|"
           r"octobre|oct|novembre|nov|d[ée]cembre|d[ée]c|january|jan|february|feb|march|mar|april|apr|may|june|"
           r"jun|july|jul|august|aug|september|sep|october|november|december|dec)\.?")
_DATE = (r"(?P<date>\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.]\d{1,2}(?:[/.]\d{2,4})?|\d{1,2}(?:er)?\s+" + _MONTHS
         + r"(?:\s+\d{4})?|" + _MONTHS + r"\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?)")
_UNTIL_RE = re.compile(r"(?:jusqu'?\s*(?:au|à|a)|until|till|through|up\s+to)\s+(?:le\s+|the\s+)?" + _DATE
                       + r"(?![\w:])", re.I)
_COUNT_RE = re.compile(r"(?<![\w/.:])(?P<n>\d{1,3})\s*(?:fois|times|occurrences?|s[ée]ances?|sessions?)(?!\w)",
                       re.I)


class RecurrenceError(ValueError):
    """``code``: bad_count, until_before_start, too_many, no_occurrence."""

    def __init__(self, code: str, **params: int | str) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Recurrence:
    """A rule in iCalendar form, without its end ("FREQ=WEEKLY;BYDAY=SA")."""

    rule: str


@dataclass(frozen=True)
class SeriesEnd:
    count: int | None = None
    until_text: str | None = None  # a date still to read with the place's calendar (bot.core.dates)


def _weekday_code(word: str) -> str:
    folded = V.fold(word)
    return WEEKDAY_CODES[_WEEKDAYS[folded if folded in _WEEKDAYS else folded[:-1]]]


def _cut(text: str, match: re.Match[str]) -> str:
    return re.sub(r"\s+", " ", text[: match.start()] + " " + text[match.end():]).strip()


def parse_recurrence(text: str) -> tuple[Recurrence | None, str]:
    """Find a recurrence phrase in ``text``; returns the rule and the text without it."""
    for kind, pattern in _RECURRENCE_PATTERNS:
        match = pattern.search(text)
        if match is None:
            continue
        groups = match.groupdict()
        day = _weekday_code(groups["wd"]) if groups.get("wd") else None
        if kind == "monthly_nth":
            nth = _ORDINALS[V.fold(groups["ord"])]
            rule = f"FREQ=MONTHLY;BYDAY={nth}{day}"
        elif kind == "weekly_other":
            rule = f"FREQ=WEEKLY;INTERVAL=2;BYDAY={day}"
        elif kind == "weeks":
            raw = V.fold(groups["n"])
            interval = int(raw) if raw.isascii() and raw.isdigit() else _NUMBER_WORDS[raw]
            if interval < 1:
                continue
            rule = f"FREQ=WEEKLY;INTERVAL={interval}" + (f";BYDAY={day}" if day else "")
            if interval == 1:
                rule = "FREQ=WEEKLY" + (f";BYDAY={day}" if day else "")
        elif kind == "fortnight":
            rule = "FREQ=WEEKLY;INTERVAL=2"
        elif kind == "weekly_day":
            rule = f"FREQ=WEEKLY;BYDAY={day}"
        elif kind == "weekly":
            rule = "FREQ=WEEKLY"
        elif kind == "daily":
            rule = "FREQ=DAILY"
        else:
            rule = "FREQ=MONTHLY"
        return Recurrence(rule), _cut(text, match)
    return None, text


def parse_series_end(text: str) -> tuple[SeriesEnd | None, str]:
    """'jusqu'au 30/06', 'until 2027-06-30', '10 fois', '8 times'; returns the end and the rest."""
    match = _UNTIL_RE.search(text)
    if match is not None:
        return SeriesEnd(until_text=match["date"]), _cut(text, match)
    match = _COUNT_RE.search(text)
    if match is not None:
        count = int(match["n"])
        if count < 1:
            raise RecurrenceError("bad_count")
        return SeriesEnd(count=count), _cut(text, match)
    return None, text


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The last second of ``day`` in the place's time, in UTC (an UNTIL that includes that day)."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class Slot:
    start: datetime  # UTC
    end: datetime  # UTC


def wall_duration(start: datetime, end: datetime, tz: ZoneInfo) -> timedelta:
    """Length on the wall clock (14:00–18:00 is 4 hours even on the night the clocks change)."""
    return end.astimezone(tz).replace(tzinfo=None) - start.astimezone(tz).replace(tzinfo=None)


def local_slot(local_start: datetime, duration: timedelta, tz: ZoneInfo) -> Slot:
    """A start on the wall clock and a wall-clock length -> UTC start and end."""
    naive = local_start.replace(tzinfo=None)
    return Slot(naive.replace(tzinfo=tz).astimezone(UTC), (naive + duration).replace(tzinfo=tz).astimezone(UTC))


def expand(
    first_start: datetime,
    first_end: datetime,
    tz: ZoneInfo,
    rule: str | None,
    *,
    count: int | None = None,
    until: datetime | None = None,
    before: datetime | None = None,
    after: datetime | None = None,
    limit: int = MAX_OCCURRENCES + 1,
) -> list[Slot]:
    """The occurrences of a series, in order, expanded on the local wall clock.

    ``first_start`` may lie before the rule's first day (a weekly Saturday rule given a Monday):
    the first occurrence is then the first the rule yields. ``before`` stops the expansion (open-ended
    series); ``after`` skips the occurrences starting at or before it.
    """
    duration = wall_duration(first_start, first_end, tz)
    local = first_start.astimezone(tz).replace(tzinfo=None).replace(tzinfo=tz)
    if rule is None:
        slots = [local_slot(local, duration, tz)]
    else:
        from dateutil.rrule import rrulestr  # dateutil (and six) loaded by the first series only: ~0.4 MiB

        rset = rrulestr(f"RRULE:{rule}", dtstart=local)
        if count is not None:
            rset = rset.replace(count=count)
        if until is not None:
            rset = rset.replace(until=until.astimezone(tz))
        slots = []
        for moment in islice(rset, limit):
            slot = local_slot(moment, duration, tz)
            if before is not None and slot.start >= before:
                break
            slots.append(slot)
    if after is not None:
        slots = [s for s in slots if s.start > after]
    return slots


def first_from(first_start: datetime, first_end: datetime, tz: ZoneInfo, rule: str, moment: datetime) -> Slot | None:
    """The rule's first occurrence starting at or after ``moment`` ("chaque samedi 14h" said on a
    Saturday afternoon starts next Saturday)."""
    duration = wall_duration(first_start, first_end, tz)
    local = first_start.astimezone(tz)
    from dateutil.rrule import rrulestr

    found = rrulestr(f"RRULE:{rule}", dtstart=local).after(moment.astimezone(tz), inc=True)
    return local_slot(found, duration, tz) if found is not None else None


def rrule_value(rule: str, count: int | None, until: datetime | None) -> str:
    """The full RRULE value for a feed: the rule and its end (UNTIL in UTC, as RFC 5545 asks)."""
    if count is not None:
        return f"{rule};COUNT={count}"
    if until is not None:
        return f"{rule};UNTIL={until.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    return rule


def needs_top_up(materialised_until: datetime | None, now: datetime) -> bool:
    return materialised_until is not None and materialised_until < now + OPEN_ENDED_HORIZON - TOP_UP_MARGIN


# --- capacity and waitlist -------------------------------------------------------------------------

def signup_status(capacity: int | None, confirmed: int) -> str:
    """Where a new sign-up goes: a place if one is free, else the waitlist."""
    if capacity is None or confirmed < capacity:
        return "confirmed"
    return "waitlisted"


def to_promote(capacity: int | None, confirmed: int, waitlist: Sequence[int]) -> list[int]:
    """Which waitlisted sign-ups (in waitlist order) get the places that are free now."""
    if capacity is None:
        return list(waitlist)
    free = max(capacity - confirmed, 0)
    return list(waitlist[:free])


def places_left(capacity: int | None, confirmed: int) -> int | None:
    return None if capacity is None else max(capacity - confirmed, 0)
