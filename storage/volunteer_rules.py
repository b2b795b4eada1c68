"""Volunteer rules as pure functions: reading durations ("2h30", "1,5h", "90 min"), weekdays and times
of the rota, report periods, shift coverage and the once-only "uncovered shift" alert decision.
No database, no chat: tested exhaustively (tests/test_volunteer_rules.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from bot.core.grammar.pieces import TAG_RE as TAG_RE
from bot.core.grammar.pieces import normalise_tag as normalise_tag
from bot.core.vocabulary import fold, weekday_of

MAX_TASK_MINUTES = 24 * 60
ALERT_HORIZON = timedelta(hours=48)
MAX_PLACES = 50


class DurationError(ValueError):
    """``code``: missing, unreadable, zero, too_long."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


_HOURS = r"(?:hours|hour|hrs|hr|heures|heure|h)"
_MINUTES = r"(?:minutes|minute|mins|min|mn|m)"
_MINUTES_WORD = r"(?:minutes|minute|mins|min|mn)"  # after a space a lone "m" is a word ("1h30 M. Dupont")
_AND = r"(?:(?:and|et)\s+)?"
# One grammar for "2h", "2h30", "2 h 30", "1.5h", "1,5 h", "1h 15", "2 hours 30 minutes", "1 heure et demie",
# "90 min", "45min", "2:30". Minutes after the hours are either glued ("2h5"), carry a unit ("1h 5 min") or
# have two digits ("1h 15"): "2h 3 cartons" is two hours and three boxes.
_DURATION_RE = re.compile(
    rf"""\s*(?:
        (?P<hours>\d+(?:[.,]\d+)?)\s*{_HOURS}
        (?:(?P<glued>\d{{1,2}})(?:{_MINUTES}|\s+{_MINUTES_WORD})?
          |\s*{_AND}(?P<with_unit>\d{{1,2}})(?:{_MINUTES}|\s+{_MINUTES_WORD})
          |\s+(?P<spaced>\d{{2}})
          |\s*{_AND}(?P<half>demie|demi|a\s+half)
        )?
      | (?P<minutes>\d+)(?:{_MINUTES}|\s+{_MINUTES_WORD})
      | (?P<clock_h>\d{{1,2}}):(?P<clock_m>\d{{2}})
    )(?![\w])""",
    re.IGNORECASE | re.VERBOSE,
)
_MAX_DIGITS = 6


def _check(minutes: int) -> int:
    if minutes <= 0:
        raise DurationError("zero")
    if minutes > MAX_TASK_MINUTES:
        raise DurationError("too_long")
    return minutes


def _minutes_of(match: re.Match[str]) -> int:
    numbers = [g for g in match.groups() if g and g[0].isdigit()]
    if any(len(n) > _MAX_DIGITS for n in numbers):
        raise DurationError("too_long")
    if match["minutes"] is not None:
        return int(match["minutes"])
    if match["clock_h"] is not None:
        extra = int(match["clock_m"])
        if extra >= 60:
            raise DurationError("unreadable")
        return int(match["clock_h"]) * 60 + extra
    hours_text = match["hours"].replace(",", ".")
    extra_text = match["glued"] or match["with_unit"] or match["spaced"]
    if extra_text is not None or match["half"]:
        if "." in hours_text:  # "1.5h30" means nothing
            raise DurationError("unreadable")
        extra = 30 if match["half"] else int(extra_text or 0)
        if extra >= 60:
            raise DurationError("unreadable")
        return int(hours_text) * 60 + extra
    try:
        hours = Decimal(hours_text)
    except InvalidOperation:
        raise DurationError("unreadable") from None
    return int((hours * 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def split_duration(text: str) -> tuple[int, str]:
    """A duration at the start of ``text`` and what follows: '2h30 tri des dons' -> (150, 'tri des dons').
    Raises DurationError (and nothing else) when there is none, it is zero or longer than a day."""
    if not text.strip():
        raise DurationError("missing")
    match = _DURATION_RE.match(text)
    if match is None:
        raise DurationError("unreadable")
    return _check(_minutes_of(match)), text[match.end():].strip()


def parse_duration(text: str) -> int:
    """The whole of ``text`` as a duration in minutes, between 1 minute and 24 hours."""
    minutes, rest = split_duration(text)
    if rest:
        raise DurationError("unreadable")
    return minutes


# --- Projects -------------------------------------------------------------------------------------------

# ``TAG_RE`` and ``normalise_tag`` live with the command grammar (one reading of "#projet" everywhere);
# they are imported above for the callers that found them here.


# --- Rota: weekdays and times --------------------------------------------------------------------------

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_EVERY_DAY = {"tous", "tlj", "all", "daily", "every", "7/7"}


class RotaFormatError(ValueError):
    """``code``: weekdays, times."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _day(word: str) -> int:
    """A weekday in French or English, full or abbreviated ('lun', 'mardi', 'wed.'): the one vocabulary."""
    day = weekday_of(word)
    if day is None:
        raise RotaFormatError("weekdays")
    return day


def parse_weekdays(text: str) -> tuple[int, ...]:
    """'lun-ven' -> (0..4); 'sam' -> (5,); 'lun,mer,ven'; 'mon-fri'; 'sam-lun' wraps; 'tous' = every day."""
    text = fold(text.strip())
    if text in _EVERY_DAY:
        return tuple(range(7))
    days: set[int] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, sep, last = part.partition("-")
        if not sep:
            days.add(_day(first))
            continue
        start, end = _day(first), _day(last)
        day = start
        days.add(day)
        while day != end:
            day = (day + 1) % 7
            days.add(day)
    if not days:
        raise RotaFormatError("weekdays")
    return tuple(sorted(days))


_TIME_RANGE_RE = re.compile(
    r"^(?P<h1>\d{1,2})(?:[:h](?P<m1>\d{2})?)?\s*-\s*(?P<h2>\d{1,2})(?:[:h](?P<m2>\d{2})?)?$", re.IGNORECASE
)


def parse_time_range(text: str) -> tuple[time, time]:
    """'08:30-09:30', '8h30-9h30', '17h-18h' -> two local times, the end after the start (same day)."""
    match = _TIME_RANGE_RE.match(text.strip())
    if match is None:
        raise RotaFormatError("times")
    try:
        start = time(int(match["h1"]), int(match["m1"] or 0))
        end = time(int(match["h2"]), int(match["m2"] or 0))
    except ValueError:
        raise RotaFormatError("times") from None
    if end <= start:
        raise RotaFormatError("times")
    return start, end


_DAY_LEAD = {"tous", "les", "le", "chaque", "every", "on", "each", "the"}
_DAY_JOIN = {",", "et", "and", "&", "/"}
_DAY_TO = {"au", "a", "to", "-", "jusqu'au", "through", "thru"}
_WEEKDAY_WORDS = {"semaine": (0, 1, 2, 3, 4), "weekdays": (0, 1, 2, 3, 4), "week-end": (5, 6),
                  "weekend": (5, 6), "we": (5, 6), "jours": tuple(range(7)), "days": tuple(range(7)),
                  "day": tuple(range(7)), "jour": tuple(range(7))}


def split_weekdays(text: str) -> tuple[tuple[int, ...], str]:
    """The weekdays a rota line starts with, as people write them, and the rest: 'lun-ven 9h-10h',
    'tous les samedis 9h-10h', 'le mardi …', 'du lundi au vendredi …', 'lundi, mercredi et vendredi …',
    'en semaine …', 'tous les jours …'. Raises RotaFormatError("weekdays") when no day is said."""
    words = re.findall(r"[^\s,&/]+|[,&/]", text.strip())
    if words and "-" in words[0].strip("-"):
        try:
            return parse_weekdays(words[0]), " ".join(words[1:])  # 'lun-ven', 'sam-lun'
        except RotaFormatError:
            pass
    following = fold(words[1]).rstrip("s") if len(words) > 1 else ""
    if words and fold(words[0]) in _EVERY_DAY and following not in {"le", "the"} and weekday_of(following) is None:
        skip = 2 if following in {"day", "jour"} else 1  # 'every day 9-10am', 'tous 9h-10h', 'daily …'
        return tuple(range(7)), " ".join(words[skip:])
    days: list[int] = []
    index, pending_range = 0, False
    while index < len(words):
        key = fold(words[index]).rstrip(".")
        singular = key[:-1] if key.endswith("s") and weekday_of(key[:-1]) is not None else key
        day = weekday_of(singular)
        if day is not None:
            if pending_range and days:
                first = days[-1]
                while first != day:
                    first = (first + 1) % 7
                    days.append(first)
            else:
                days.append(day)
            pending_range = False
        elif key in _WEEKDAY_WORDS and (not days or key.startswith("week")):
            days.extend(_WEEKDAY_WORDS[key])
        elif key in _DAY_TO and days:
            pending_range = True
        elif (key in _DAY_JOIN and days) or key in _DAY_LEAD or (key in {"du", "from", "en", "in", "the"} and not days):
            pass
        else:
            break
        index += 1
    if not days or pending_range:
        raise RotaFormatError("weekdays")
    return tuple(sorted(set(days))), " ".join(words[index:])


_SPOKEN_RANGE_RE = re.compile(
    r"^(?:de\s+|from\s+)?(?P<h1>\d{1,2})(?:\s*[:h]\s*(?P<m1>\d{2})?)?\s*(?P<ap1>am|pm)?\s*"
    r"(?:-|–|à|a|to|jusqu'à)\s*(?P<h2>\d{1,2})(?:\s*[:h]\s*(?P<m2>\d{2})?)?\s*(?P<ap2>am|pm)?(?=\s|$)",
    re.IGNORECASE)


def _clock_hour(hour: str, half: str | None) -> int:
    value = int(hour)
    if half and half.lower() == "pm" and value < 12:
        return value + 12
    if half and half.lower() == "am" and value == 12:
        return 0
    return value


def split_time_range(text: str) -> tuple[tuple[time, time], str]:
    """The hours a rota line gives, as people write them, and the rest: '08:30-09:30 2', '9h30 - 10h',
    'de 9h à 10h', '9h à 10h30'. Raises RotaFormatError("times")."""
    match = _SPOKEN_RANGE_RE.match(text.strip())
    if match is None:
        raise RotaFormatError("times")
    first_half = match["ap1"] or (match["ap2"] if match["ap2"] and match["ap2"].lower() == "am" else None)
    first = _clock_hour(match["h1"], first_half)
    last = _clock_hour(match["h2"], match["ap2"])
    if match["ap2"] and not match["ap1"] and match["ap2"].lower() == "pm" and first + 12 < last:
        first += 12  # '2 to 4pm'
    compact = f"{first}:{match['m1'] or '00'}-{last}:{match['m2'] or '00'}"
    return parse_time_range(compact), text.strip()[match.end():].strip()


def local_moment(day: date, at: time, tz: ZoneInfo) -> datetime:
    """A wall-clock time of a local day, in UTC. On the spring change a time that doesn't exist
    (02:30) reads as the same offset as before the change, i.e. an hour later (03:30)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def rota_occurrences(
    weekdays: tuple[int, ...], start: time, end: time, first_day: date, last_day: date, tz: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """The shifts a weekly rota slot gives between two local days (inclusive), in UTC.
    Built from local wall times day by day, so 08:30 stays 08:30 across the clock changes."""
    result = []
    day = first_day
    while day <= last_day:
        if day.weekday() in weekdays:
            result.append((local_moment(day, start, tz), local_moment(day, end, tz)))
        day += timedelta(days=1)
    return result


def rota_kind(title: str) -> str:
    """Opening and closing shifts are told apart by their name: 'ouverture'/'opening' -> open,
    'fermeture'/'closing' -> close; anything else is another permanence."""
    key = fold(title)
    if key.startswith(("ouv", "open")):
        return "open"
    if key.startswith(("ferm", "clos")):
        return "close"
    return "other"


# --- Periods -------------------------------------------------------------------------------------------


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    """Local days [start, end) and what kind of period it is (week, month, year)."""

    start: date
    end: date
    kind: str

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The period in UTC, from local midnight to local midnight."""
        return local_moment(self.start, time(0), tz), local_moment(self.end, time(0), tz)

    @property
    def key(self) -> str:
        """'2026-11', '2026', '2026-W48' for file names and CSV."""
        if self.kind == "year":
            return f"{self.start.year}"
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        year, week, _ = self.start.isocalendar()
        return f"{year}-W{week:02d}"


_WEEK_WORDS = {"week", "semaine", "sem"}
_MONTH_WORDS = {"month", "mois"}
_YEAR_WORDS = {"year", "annee", "an"}


def month_period(year: int, month: int) -> Period:
    if not (1 <= month <= 12 and 1900 <= year <= 9998):
        raise PeriodError(f"{year}-{month:02d}")
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return Period(date(year, month, 1), end, "month")


def year_period(year: int) -> Period:
    if not 1900 <= year <= 9998:
        raise PeriodError(str(year))
    return Period(date(year, 1, 1), date(year + 1, 1, 1), "year")


def parse_period(text: str, today: date, default: str = "month") -> Period:
    """'week'/'semaine' (this week, Monday to Sunday), 'month'/'mois', 'year'/'année', '2026-11', '2026'."""
    word = fold(text.strip()) or default
    if word in _WEEK_WORDS:
        monday = today - timedelta(days=today.weekday())
        return Period(monday, monday + timedelta(days=7), "week")
    if word in _MONTH_WORDS:
        return month_period(today.year, today.month)
    if word in _YEAR_WORDS:
        return year_period(today.year)
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", word)
    if match:
        return month_period(int(match[1]), int(match[2]))
    if re.fullmatch(r"\d{4}", word):
        return year_period(int(word))
    raise PeriodError(text)


# --- Coverage and alerts -------------------------------------------------------------------------------


def missing_places(places: int, taken: int) -> int:
    return max(places - taken, 0)


def can_take(places: int, taken: int) -> bool:
    """The last place goes to one person: checked under the shift's lock with the count just read."""
    return taken < places


def needs_uncovered_alert(
    start: datetime, now: datetime, places: int, taken: int, alerted_at: datetime | None,
    horizon: timedelta = ALERT_HORIZON,
) -> bool:
    """A shift starting within ``horizon`` and not fully covered alerts once: never again after
    ``alerted_at`` is set, however often the job runs; nothing for a shift already started."""
    return alerted_at is None and taken < places and now < start <= now + horizon
