"""Free-text dates and times in French and English ("demain 14h-16h", "tomorrow 9-12",
"lundi 14h pendant 2h", "2026-12-01 14:00-16:00", "ce soir 18h30-20h").

The hours are read by our own small grammar (dateparser guesses badly at ranges); the day is read by
dateparser in the place's time zone, after explicit numeric dates, which we check ourselves so that
"31/02" is refused instead of silently moved.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dateparser


class DateParseError(ValueError):
    """``code`` says what was wrong: no_date, impossible_date, reversed, no_end, nonexistent_time, too_long."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class When:
    """A day, optionally with a start and an end, in UTC: arithmetic between two datetimes that share a
    ZoneInfo is wall-clock arithmetic in Python, wrong by an hour across a clock change."""

    day: date
    start: datetime | None = None
    end: datetime | None = None

    @property
    def has_range(self) -> bool:
        return self.start is not None and self.end is not None


_T = r"(?P<h{n}>[01]?\d|2[0-4])(?:\s*(?:h|:)\s*(?P<m{n}>[0-5]\d)?)?\s*(?P<ap{n}>am|pm)?"
_SEP = r"\s*(?:-|à|a|to|till|until|jusqu'?à|jusqua)\s*"
_RANGE_RE = re.compile(
    r"(?<![\w/.:-])(?:de\s+|from\s+|between\s+|entre\s+)?" + _T.format(n=1) + _SEP + _T.format(n=2) + r"(?![\w/.:])"
)
_START_RE = re.compile(
    r"(?<![\w/.:-])(?:à\s+|a\s+|at\s+|des\s+|dès\s+)?"
    r"(?P<h1>[01]?\d|2[0-3])\s*(?:(?:h|:)\s*(?P<m1>[0-5]\d)?\s*(?P<ap1>am|pm)?|(?P<ap1b>am|pm))(?![\w/.:])"
)
_DURATION_RE = re.compile(
    r"(?:pendant|durant|for|during)\s+(?:(?P<dh>\d{1,2})\s*(?:h|heures?|hours?|hrs?)\s*(?P<dm>[0-5]\d)?"
    r"|(?P<dmin>\d{1,4})\s*(?:min|mins|minutes?))(?![\w])"
)
_ISO_DATE_RE = re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b")
_NUM_DATE_RE = re.compile(r"(?<![\d:])(?P<d>\d{1,2})[/.](?P<m>\d{1,2})(?:[/.](?P<y>\d{2,4}))?(?![\d:])")
_TODAY_WORDS = {
    "aujourd'hui", "aujourdhui", "auj", "today", "ce soir", "ce matin", "cet apres-midi", "cet aprem",
    "cet apres midi", "tonight", "this morning", "this afternoon", "this evening", "now", "maintenant",
}
_WEEKDAYS = {
    "lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5, "dimanche": 6,
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
}
_RELATIVE_DAYS = {"demain": 1, "tomorrow": 1, "apres-demain": 2, "apres demain": 2, "day after tomorrow": 2}
_NEXT = re.compile(r"^(?:next\s+)?(?P<day>[a-z]+)(?:\s+prochain)?$")
_NOISE_WORDS = re.compile(r"\b(?:le|la|on|at|de|du|from|a|à|for|pour|ce|cette)\s*$")
MAX_DAY_TEXT = 60
_FILLER_WORDS = {"le", "la", "on", "the", "de", "du", "a", "à", "at", "from", "des", "dès"}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _normalise(text: str) -> str:
    text = text.casefold().replace("–", "-").replace("—", "-").replace("’", "'")
    text = re.sub(r"\s+", " ", text)
    return text.strip()


def _hour(h: str, m: str | None, ampm: str | None) -> tuple[int, int]:
    hour, minute = int(h), int(m or 0)
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    return hour, minute


def _combine(day: date, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    """Local wall time -> aware datetime; a time skipped by the spring DST change is refused."""
    if hour == 24 and minute == 0:
        day, hour = day + timedelta(days=1), 0
    if hour > 23:
        raise DateParseError("impossible_date")
    naive = datetime.combine(day, time(hour, minute))
    utc = naive.replace(tzinfo=tz).astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != naive:
        raise DateParseError("nonexistent_time")
    return utc


def _explicit_date(text: str, today: date) -> tuple[date | None, str]:
    match = _ISO_DATE_RE.search(text)
    if match:
        try:
            found = date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            raise DateParseError("impossible_date") from None
        return found, text[: match.start()] + " " + text[match.end():]
    match = _NUM_DATE_RE.search(text)
    if match:
        day_num, month = int(match["d"]), int(match["m"])
        year_text = match["y"]
        try:
            if year_text:
                year = int(year_text) + (2000 if len(year_text) == 2 else 0)
                found = date(year, month, day_num)
            else:
                found = date(today.year, month, day_num) if (month, day_num) != (2, 29) else date(2000, 2, 29)
                if found.year != today.year or found < today:
                    found = _next_valid(today, month, day_num)
        except ValueError:
            raise DateParseError("impossible_date") from None
        return found, text[: match.start()] + " " + text[match.end():]
    return None, text


def _next_valid(today: date, month: int, day_num: int) -> date:
    for year in range(today.year, today.year + 9):
        try:
            candidate = date(year, month, day_num)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise ValueError


def _parse_day(text: str, now_local: datetime) -> date:
    text = text.strip(" ,.")
    while True:
        stripped = _NOISE_WORDS.sub("", text).strip(" ,.")
        if stripped == text:
            break
        text = stripped
    text = re.sub(r"^(?:le|on|the)\s+", "", text)
    if not text or _fold(text) in _TODAY_WORDS:
        return now_local.date()
    if len(text) > MAX_DAY_TEXT:
        raise DateParseError("no_date")
    quick = _common_day(_fold(text), now_local.date())
    if quick is not None:
        return quick
    base = now_local.replace(tzinfo=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = dateparser.parse(
                text,
                languages=["fr", "en"],
                settings={
                    "PREFER_DATES_FROM": "future",
                    "RELATIVE_BASE": base,
                    "DATE_ORDER": "DMY",
                    "RETURN_AS_TIMEZONE_AWARE": False,
                },
            )
        except Exception:
            parsed = None
    if parsed is None:
        if re.search(r"\d", text):
            raise DateParseError("impossible_date")
        raise DateParseError("no_date")
    return parsed.date()


def _common_day(text: str, today: date) -> date | None:
    """The words people use most, read without dateparser (which costs milliseconds per call).
    A bare weekday is the next one to come, today excluded, as dateparser reads it."""
    if text in _RELATIVE_DAYS:
        return today + timedelta(days=_RELATIVE_DAYS[text])
    match = _NEXT.match(text)
    if match and match["day"] in _WEEKDAYS:
        ahead = (_WEEKDAYS[match["day"]] - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)
    return None


def parse_when(text: str, now: datetime, tz: ZoneInfo) -> When:
    """Read a day and optional hours. Raises DateParseError with a code the handler translates."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now_local = now.astimezone(tz)
    text = _normalise(text)
    if len(text) > 200:
        raise DateParseError("no_date")

    day, rest = _explicit_date(text, now_local.date())

    start_hm: tuple[int, int] | None = None
    end_hm: tuple[int, int] | None = None
    duration: timedelta | None = None

    match = _RANGE_RE.search(rest)
    if match and (match["m1"] is not None or match["m2"] is not None or "h" in match.group(0)
                  or ":" in match.group(0) or match["ap1"] or match["ap2"] or day is not None
                  or "-" in match.group(0)):
        start_hm = _hour(match["h1"], match["m1"], match["ap1"] or match["ap2"])
        end_hm = _hour(match["h2"], match["m2"], match["ap2"])
        if match["ap1"] is None and match["ap2"] == "pm" and start_hm[0] + 12 < end_hm[0]:
            start_hm = (start_hm[0] + 12, start_hm[1])
        rest = rest[: match.start()] + " " + rest[match.end():]
    else:
        dmatch = _DURATION_RE.search(rest)
        if dmatch:
            if dmatch["dmin"]:
                duration = timedelta(minutes=int(dmatch["dmin"]))
            else:
                duration = timedelta(hours=int(dmatch["dh"]), minutes=int(dmatch["dm"] or 0))
            rest = rest[: dmatch.start()] + " " + rest[dmatch.end():]
        smatch = _START_RE.search(rest)
        if smatch:
            start_hm = _hour(smatch["h1"], smatch["m1"], smatch["ap1"] or smatch["ap1b"])
            rest = rest[: smatch.start()] + " " + rest[smatch.end():]
        elif duration is not None:
            raise DateParseError("no_date")

    if day is None:
        day = _parse_day(re.sub(r"\s+", " ", rest), now_local)
    else:
        leftover = " ".join(w for w in re.split(r"[\s,.]+", rest) if w and _fold(w) not in _FILLER_WORDS)
        if leftover:
            raise DateParseError("no_date")

    if start_hm is None:
        return When(day=day)
    start = _combine(day, *start_hm, tz)
    if end_hm is not None:
        end = _combine(day, *end_hm, tz)
    elif duration is not None:
        end = start + duration
    else:
        return When(day=day, start=start, end=None)
    if end <= start:
        raise DateParseError("reversed")
    return When(day=day, start=start, end=end)


_IN_RE = re.compile(r"^(?:dans|in)\s+(\d{1,4})\s*(min|mins|minutes?|h|heures?|hours?)\b\s*", re.IGNORECASE)
MAX_WHEN_WORDS = 7


def parse_leading_when(text: str, now: datetime, tz: ZoneInfo, default_hour: int = 9) -> tuple[datetime, str]:
    """'demain 9h appeler la mairie' -> (tomorrow 09:00, 'appeler la mairie'): the longest leading words
    that read as a moment; 'dans 20 min ...' / 'in 2 hours ...' too. A day alone means ``default_hour``."""
    stripped = text.strip()
    relative = _IN_RE.match(stripped)
    if relative:
        amount = int(relative.group(1))
        unit = relative.group(2).lower()
        delta = timedelta(minutes=amount) if unit.startswith("m") else timedelta(hours=amount)
        return now + delta, stripped[relative.end():].strip()
    words = stripped.split()
    last_error = DateParseError("no_date")
    for count in range(min(len(words), MAX_WHEN_WORDS), 0, -1):
        try:
            when = parse_when(" ".join(words[:count]), now, tz)
        except DateParseError as error:
            if error.code != "no_date":
                last_error = error
            continue
        moment = when.start or _combine(when.day, default_hour, 0, tz)
        return moment, " ".join(words[count:])
    raise last_error
