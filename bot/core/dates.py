"""Saying when, in French and English: one grammar for every command.

``parse_when`` reads a text that is entirely a moment or a range ("demain 14h-16h"), ``find_when`` finds
one anywhere in a message and returns the rest ("vendredi midi déjeuner avec Paul"), ``find_duration``
finds a length ("1h30", "une heure et demie"). The words are in ``bot.core.vocabulary``.

The text is cut into tokens (numbers, words, signs), each remembered with its place in the original text
so the rest can be returned as typed. Small recursive-descent readers each take what they understand at a
position (a day, a part of the day, an hour, a range, a length, "dans 2 h") and say where they stopped; a
moment is a run of such pieces with optional fillers between them ("le", "à", ","). Nothing is guessed:

- a range never ends before it starts (an evening range ending in the small hours ends the next day:
  "22h-2h"); "16h-14h" is refused (``reversed``);
- pieces that contradict each other ("samedi matin 15h", two days, two hours) are refused (``ambiguous``);
- a time repeated or skipped by a clock change is refused (``ambiguous`` / ``nonexistent_time``);
- bare numbers are hours only inside a range ("de 14 à 16", "14-16"); "à 14" next to a moment is refused
  (``ambiguous``) rather than left in the text;
- years outside 2000-2100 are refused (``out_of_range``), so no date arithmetic can overflow;
- a deadline ("avant vendredi", "by friday") or a repetition ("tous les lundis") is refused, the
  repetition read only when the caller asks for it (``weekly=True``: the rota);
- a bare range that could be at night or in the afternoon ("de 2 à 4") needs a part of the day.

dateparser is no longer used: every form it read for us is in the grammar, read in microseconds, and
a form it would have guessed at is now either read exactly or refused.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot.core import vocabulary as V
from bot.core.i18n import N_

MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_TEXT = 10_000
MAX_DURATION = timedelta(hours=24)
# A day and month without a year further than this (back for hours given, ahead otherwise) is refused.
FAR_BACK_DAYS, FAR_AHEAD_DAYS = 200, 300


class DateParseError(ValueError):
    """``code`` says what was wrong:

    - ``no_date``: nothing read as a day or time; ``impossible_date``: "31/02", "25h";
    - ``reversed``: the end before the start; ``no_end``: a range needs an end or a length (handlers);
    - ``nonexistent_time``: skipped by the spring clock change; ``too_long``: a length over 24 h;
    - ``out_of_range``: a year outside 2000-2100; ``ambiguous``: pieces that contradict each other, a time
      repeated by the autumn clock change, "minuit" alone, "à 14"; ``unknown_words``: words left inside
      a text that should be only a moment (``parse_when``); ``zero``: a length of nothing.
    """

    def __init__(self, code: str, words: str = "", *, dated: date | None = None, weekday: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.words = words
        # "lundi 25/12" (ambiguous): the date given and the weekday said with it (Monday 0), which don't agree.
        self.dated = dated
        self.weekday = weekday


# What each code means to a member (message ids in English; French in reminders.po).
ERROR_MESSAGES: dict[str, str] = {
    "no_date": N_("I couldn't read the date or time."),
    "impossible_date": N_("That date doesn't exist."),
    "reversed": N_("The end time comes before the start time."),
    "no_end": N_("Please give an end time or a length."),
    "nonexistent_time": N_("That time doesn't exist on that day (the clocks change)."),
    "too_long": N_("That is more than 24 hours."),
    "out_of_range": N_("Please give a year between 2000 and 2100."),
    "ambiguous": N_("I'm not sure which day or time you mean: please say it another way."),
    "unknown_words": N_("I couldn't read part of the date or time."),
    "zero": N_("That length is zero."),
}


@dataclass(frozen=True)
class When:
    """A day, optionally with a start and an end, in UTC: arithmetic between two datetimes that share a
    ZoneInfo is wall-clock arithmetic in Python, wrong by an hour across a clock change.

    - ``day``: the local day (the day of ``start`` when there is one);
    - ``start``/``end``: aware UTC datetimes, ``end`` only with a range or a length;
    - ``day_stated``: the text named the day (else it is today, or the day of "dans 2 h");
    - ``time_stated``: the text gave a time of day (an hour, "midi", "dans 20 min");
    - ``period``: "morning", "afternoon", "evening" or "night" when the text named a part of the day
      ("demain matin", "ce soir", "8h du soir"), with or without hours;
    - ``duration``: the length the text stated ("pendant 1h30"), if any;
    - ``relative``: the moment was counted from now ("dans une heure", "in 20 min");
    - ``weekly``: the text said it repeats ("tous les mardis", "chaque mardi", "every tuesday"); only
      read when the caller asks for it (``weekly=True``, the rota), refused (``ambiguous``) otherwise.
    """

    day: date
    start: datetime | None = None
    end: datetime | None = None
    day_stated: bool = False
    time_stated: bool = False
    period: str | None = None
    duration: timedelta | None = None
    relative: bool = False
    weekly: bool = False

    @property
    def has_range(self) -> bool:
        return self.start is not None and self.end is not None


# --------------------------------------------------------------------------------------------- tokens

@dataclass(frozen=True)
class _Tok:
    text: str  # folded
    start: int
    end: int
    gap: bool  # whitespace before it
    quoted: bool = False


_TOKEN_RE = re.compile(r"\d+|[^\W\d_]+|\S")
_QUOTES_OPEN = {'"': '"“”', "«": "»", "“": '”"', "„": '“”"'}
_GLUE = {"'", "-", ".", "/"}


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    previous_end = 0
    closing: str | None = None
    for match in _TOKEN_RE.finditer(text):
        raw = match.group(0)
        gap = match.start() > previous_end
        previous_end = match.end()
        if closing is not None:
            if raw in closing:
                closing = None
            out.append(_Tok(raw, match.start(), match.end(), gap, quoted=True))
            continue
        if raw in _QUOTES_OPEN:
            closing = _QUOTES_OPEN[raw]
            out.append(_Tok(raw, match.start(), match.end(), gap, quoted=True))
            continue
        folded = V.fold(raw)
        if raw == "A" and out and out[-1].text.isalpha() and out[-1].text not in {"h", "de", "entre"}:
            folded = "A"  # "salle A": a name, not "à" (but "14 A 16h", "14H A 16H" typed in capitals are "à")
        out.append(_Tok(folded, match.start(), match.end(), gap))
    return out


def _key(toks: list[_Tok]) -> str:
    parts: list[str] = []
    for index, tok in enumerate(toks):
        if index and tok.text not in _GLUE and toks[index - 1].text not in _GLUE:
            parts.append(" ")
        parts.append(tok.text)
    return "".join(parts)


_P = TypeVar("_P")


class _Table(dict[str, _P]):
    """Phrases keyed by their token form ("apres-midi", "apres midi" and "apresmidi" alike)."""

    def __init__(self, source: dict[str, _P] | set[str] | frozenset[str], value: _P | None = None) -> None:
        super().__init__()
        items = source.items() if isinstance(source, dict) else ((k, value) for k in source)
        for phrase, val in items:
            for variant in V.phrase_variants(phrase):
                self[_key(_tokens(variant))] = val  # type: ignore[assignment]
        self.longest = max((len(_tokens(k)) for k in self), default=1)
        # Every start of a key: a phrase's key begins with its first word, so a word that starts no key
        # starts no phrase (``_Reader.phrase`` answers at once for most words, issue 15).
        self.prefixes = frozenset(k[:n] for k in self for n in range(len(k) + 1))


_RELATIVE_DAYS = _Table(V.RELATIVE_DAYS)
_TODAY_PERIODS = _Table(V.TODAY_PERIODS)
_YESTERDAY_PERIODS = _Table(V.YESTERDAY_PERIODS)
_PERIODS = _Table(V.PERIODS)
_WHOLE_DAY = _Table(V.WHOLE_DAY, True)
_QUALIFIERS = _Table(V.PERIOD_QUALIFIERS)
_DURATION_PHRASES = _Table(V.DURATION_PHRASES)
_NUMBER_WORDS = _Table(V.NUMBER_WORDS)
_OPENERS = _Table(V.RANGE_OPENERS, True)
_SEPARATORS = _Table(V.RANGE_SEPARATORS, True)
_AT = _Table(V.AT_WORDS, True)
_DURATION_INTRO = _Table(V.DURATION_INTRO, True)
_IN = _Table(V.IN_WORDS, True)
_AGO_BEFORE = _Table(V.AGO_BEFORE, True)
_AGO_AFTER = _Table(V.AGO_AFTER, True)
_NEXT = _Table(V.NEXT_WORDS, True)
_LAST = _Table(V.LAST_WORDS, True)
_THIS = _Table(V.THIS_WORDS, True)
_FILLERS = _Table(V.FILLERS, True)
# Before the first piece of a moment only these are taken with it ("le 15", "on friday", "pour demain"):
# "salle A demain", "à demain", "la" + day keep their word.
_LEADING = _Table(V.FILLERS - {"la", "et", "and", ",", ":", "a", "at", "des", "qui", "vient", "prochain", "prochaine",
                               "next"}, True)
_HOUR_WORDS = {"h", "heure", "heures", "hres", "hre"}
_AMPM = _Table({"am": "am", "a.m": "am", "a.m.": "am", "pm": "pm", "p.m": "pm", "p.m.": "pm"})


# ------------------------------------------------------------------------------------------- pieces

@dataclass(frozen=True)
class _Clock:
    hour: int
    minute: int
    marked: bool  # "14h", "14:00", "2pm", "midi": an hour by itself; a bare "14" is one only in a range
    ampm: str | None = None
    qualifier: str | None = None  # "du soir"...
    midnight: bool = False
    twelve: bool = False  # "5 o'clock": morning or evening, said by the part of the day or not at all
    bare: bool = False  # a number without "h" (in a range: "de 14 à 16")


@dataclass
class _Pieces:
    day: date | None = None
    period: str | None = None
    start: _Clock | None = None
    end: _Clock | None = None
    duration: timedelta | None = None
    moment: datetime | None = None  # "dans 2 h"
    weekly: bool = False

    def merge(self, other: _Pieces) -> None:
        for name in ("day", "period", "start", "end", "duration", "moment"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if theirs is None:
                continue
            if mine is not None and mine != theirs:
                raise DateParseError("ambiguous")  # "14h-16h ... 14h-18h", "demain ... jeudi"
            setattr(self, name, theirs)
        self.weekly = self.weekly or other.weekly

    @property
    def is_moment(self) -> bool:
        """A period alone ("soirée jeux") or a length alone ("pendant 2h") names no moment."""
        return self.day is not None or self.start is not None or self.moment is not None


def _valid_year(year: int) -> int:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise DateParseError("out_of_range")
    return year


def _make_date(year: int, month: int, day: int) -> date:
    _valid_year(year)
    try:
        return date(year, month, day)
    except ValueError:
        raise DateParseError("impossible_date") from None


def _shift_days(day: date, days: int) -> date:
    try:
        moved = day + timedelta(days=days)
    except OverflowError:
        raise DateParseError("out_of_range") from None
    _valid_year(moved.year)
    return moved


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    _valid_year(year)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


class _Reader:
    def __init__(self, toks: list[_Tok], now: datetime, tz: ZoneInfo, past: bool, weekly: bool = False) -> None:
        self.toks = toks
        self.now = now
        self.tz = tz
        self.past = past
        self.weekly = weekly
        self.today = now.astimezone(tz).date()
        self._keys: dict[tuple[int, int], str] = {}

    # -- helpers
    def text(self, i: int) -> str | None:
        if 0 <= i < len(self.toks) and not self.toks[i].quoted:
            return self.toks[i].text
        return None

    def num(self, i: int, digits: int = 2) -> int | None:
        word = self.text(i)
        if word is not None and word.isdecimal() and len(word) <= digits:
            return int(word)
        return None

    def glued(self, i: int) -> bool:
        return 0 < i < len(self.toks) and not self.toks[i].gap

    def phrase(self, i: int, table: _Table[_P]) -> tuple[_P, int] | None:
        if 0 <= i < len(self.toks):
            first = self.toks[i]
            if first.quoted or first.text not in table.prefixes:
                return None  # every phrase here would begin with this word
        for count in range(min(table.longest, len(self.toks) - i), 0, -1):
            if any(t.quoted for t in self.toks[i:i + count]):
                continue
            key = self._keys.get((i, count))
            if key is None:
                key = self._keys[(i, count)] = _key(self.toks[i:i + count])
            if key in table:
                return table[key], i + count
        return None

    def number(self, i: int, *, words: bool = True, articles: bool = False) -> tuple[int, int] | None:
        value = self.num(i, 9)
        if value is not None:
            return value, i + 1
        if not words:
            return None
        found = self.phrase(i, _NUMBER_WORDS)
        if found is None or (not articles and (self.text(i) in V.ARTICLE_NUMBERS)):
            return None
        return found

    def alone(self, i: int) -> bool:
        """The word is the whole message ("/free sam"), give or take fillers and signs."""
        return all(index == i or tok.text in _FILLERS or not tok.text.isalnum() for index, tok in enumerate(self.toks))

    def skip_dot(self, i: int) -> int:
        return i + 1 if self.text(i) == "." and self.glued(i) else i

    # -- hours
    def clock(self, i: int, *, bare: bool = False, words: bool = False) -> tuple[_Clock, int] | None:
        word = self.text(i)
        if word is None:
            return None
        if word in V.NOON or word in V.MIDNIGHT:
            hour = 12 if word in V.NOON else 24
            j, minute = i + 1, 0
            if self.text(j) in {"et", "and"} and self.text(j + 1) in V.HALF_WORDS:
                j, minute = j + 2, 30
            elif self.text(j) == "et" and self.text(j + 1) == "quart":
                j, minute = j + 2, 15
            return _Clock(hour % 24 if minute else hour, minute, True, midnight=word in V.MIDNIGHT), j
        english = self.english_clock(i)
        if english is not None:
            return english
        value = self.num(i)
        j = i + 1
        if value is None:
            if not words:
                return None
            found = self.number(i, articles=False)
            if found is None or self.text(found[1]) not in {"heure", "heures"}:
                return None
            value, j = found
        if value > 24:
            if value < 100 and (self.text(j) in {"heure", "heures"} or (self.text(j) == "h" and self.glued(j))):
                raise DateParseError("impossible_date")  # "25h"
            return None
        hour, minute, marked, twelve = value, 0, False, False
        unit = self.text(j)
        if unit in _HOUR_WORDS and (self.glued(j) or unit != "h" or self.text(i).isdigit()):  # type: ignore[union-attr]
            marked, j = True, j + 1
            minutes = self.num(j)
            if minutes is not None and len(self.text(j) or "") == 2:
                if minutes > 59:
                    raise DateParseError("impossible_date")
                minute, j = minutes, j + 1
                if self.text(j) in V.MINUTE_UNITS:
                    j += 1
            elif self.text(j) in {"et", "and"} and self.text(j + 1) in V.HALF_WORDS:
                minute, j = 30, j + 2
            elif self.text(j) == "et" and self.text(j + 1) == "quart":
                minute, j = 15, j + 2
            elif self.text(j) == "moins" and self.text(j + 1) == "le" and self.text(j + 2) == "quart":
                if hour == 0:
                    return None
                hour, minute, j = hour - 1, 45, j + 3
        elif unit == ":" and self.glued(j):
            minutes = self.num(j + 1)
            if minutes is None or len(self.text(j + 1) or "") != 2 or not self.glued(j + 1):
                return None
            if minutes > 59:
                raise DateParseError("impossible_date")
            minute, marked, j = minutes, True, j + 2
        elif unit == "." and self.glued(j) and self.text(j + 1) in {"00", "15", "30", "45"} and self.glued(j + 1):
            minute, marked, j = int(self.text(j + 1) or 0), True, j + 2  # "9.30"
        elif self.text(j) == "o" and self.text(j + 1) == "'" and self.text(j + 2) == "clock":
            marked, twelve, j = True, hour <= 12, j + 3
        ampm = self.phrase(j, _AMPM)
        clock_ampm: str | None = None
        if ampm is not None:
            clock_ampm, j = ampm
            j = self.skip_dot(j)
            marked = True
            if hour == 0 or hour > 12:
                raise DateParseError("impossible_date")
        if marked and self.text(j) in {"pile", "precises", "precise", "sharp"}:
            j += 1
        elif self.text(j) == "ish" and self.glued(j) and ampm is None:
            marked, twelve, j = True, hour <= 12, j + 1  # "9ish": morning or evening, said by the part of the day
        qualifier = self.phrase(j, _QUALIFIERS)
        clock_qualifier: str | None = None
        if qualifier is not None and clock_ampm is None and (marked or bare or hour <= 12):
            clock_qualifier, j = qualifier
            marked = True
        if not marked and not bare:
            return None
        if minute and hour == 24:
            raise DateParseError("impossible_date")
        return _Clock(hour, minute, marked, clock_ampm, clock_qualifier, twelve=twelve and not clock_qualifier,
                      bare=not marked), j

    def english_clock(self, i: int) -> tuple[_Clock, int] | None:
        """'half past 2', 'a quarter past 3', 'quarter to 4 pm'."""
        j = i + 1 if self.text(i) == "a" else i
        word = self.text(j)
        if word == "half":
            minutes = 30
        elif word == "quarter":
            minutes = 15
        else:
            return None
        direction = self.text(j + 1)
        if direction not in {"past", "to"}:
            return None
        found = self.number(j + 2)
        if found is None or not 1 <= found[0] <= 12:
            return None
        hour, k = found
        if direction == "to":
            if word == "half":
                return None
            hour, minutes = hour - 1, 45
        ampm = self.phrase(k, _AMPM)
        clock_ampm = None
        if ampm is not None:
            clock_ampm, k = ampm
            k = self.skip_dot(k)
        return _Clock(hour, minutes, True, clock_ampm, twelve=clock_ampm is None), k

    def range_(self, i: int) -> tuple[_Pieces, int] | None:
        opener = self.phrase(i, _OPENERS)
        j = opener[1] if opener else i
        opener_word = _key(self.toks[i:j]) if opener else None
        first = self.clock(j, bare=True, words=opener is not None)
        if first is None:
            return None
        start, k = first
        separator = self.phrase(k, _SEPARATORS)
        if separator is None and self.text(k) == "/" and start.marked:  # "14h/16h"
            separator = (True, k + 1)
        if separator is not None:
            sep_word = _key(self.toks[k:separator[1]])
            allowed = V.PAIRED_SEPARATORS.get(opener_word or "")
            if (allowed is None or sep_word in allowed) and not (sep_word in {"et", "and"} and allowed is None):
                second = self.clock(separator[1], bare=True, words=opener is not None)
                if second is not None:
                    end, m = second
                    bare_ok = start.marked or end.marked or opener is not None or sep_word == "-"
                    if not (start.marked or end.marked) and (opener_word == "du" or sep_word == "au"):
                        bare_ok = False  # "du 12 au 14": days
                    if sep_word == "/" and not end.marked:
                        bare_ok = False
                    if bare_ok and (start.marked or end.marked or not self.daylike_after(m)):
                        if end.ampm and not start.ampm and not start.qualifier and start.hour <= 12:
                            shifted = _resolve_ampm(start.hour, end.ampm)
                            if end.ampm == "am" or shifted < _resolve_ampm(end.hour, end.ampm):
                                start = replace(start, ampm=end.ampm)
                        if end.qualifier and not start.qualifier and not start.ampm:
                            start = replace(start, qualifier=end.qualifier)
                        return _Pieces(start=replace(start, marked=True), end=replace(end, marked=True)), m
        if opener_word in {"a partir de", "des", "from", "starting", "since", "de", "du"} and start.marked:
            return _Pieces(start=start), k
        return None

    def daylike_after(self, i: int) -> bool:
        """'14-16 novembre' is a range of days, not hours."""
        word = self.text(i)
        return word is not None and (word in V.MONTHS or word == "/")

    def start_time(self, i: int, period: str | None = None, alone: bool = False) -> tuple[_Pieces, int] | None:
        at = self.phrase(i, _AT)
        j = at[1] if at else i
        # "ce soir à 8", "tonight at 8": a bare hour is one when the part of the day says which
        bare = at is not None and period in {V.AFTERNOON, V.EVENING}
        found = self.clock(j, words=at is not None, bare=bare)
        if found is not None and bare and not found[0].marked:
            if not 1 <= found[0].hour <= 11 or self.text(found[1]) not in {None, ",", ".", ";", "!"}:
                return None  # "ce soir à 8 personnes"
            found = (replace(found[0], marked=True, bare=True), found[1])
        if found is None:
            return None
        clock, k = found
        if self.text(k) == "/" and self.glued(k):
            return None  # "24h/24", "7j/7"
        if alone and at is None and not clock.midnight and (clock.hour, clock.minute) != (12, 0) \
                and self.length_follows(k):
            return None  # "payer 2h de parking": a length; "demain 9h de sortir", "à 15h d'envoyer": hours
        until = self.until(k)
        if until is not None:
            return _Pieces(start=clock, end=until[0]), until[1]
        return _Pieces(start=clock), k

    def length_follows(self, k: int) -> bool:
        """'2h de parking', '3h d'atelier': the hours before 'de' + a word are a length, not a time."""
        if self.text(k) == "d" and self.text(k + 1) == "'":
            return True
        return self.text(k) in {"de", "of"} and self.text(k + 1) is not None and self.clock(k + 1) is None \
            and self.phrase(k + 1, _QUALIFIERS) is None

    def until(self, i: int) -> tuple[_Clock, int] | None:
        """'... jusqu'à 16h', 'until 4pm' after a start."""
        word = self.phrase(i, _SEPARATORS)
        if word is None or _key(self.toks[i:word[1]]) not in {"jusqu'a", "jusqua", "jusqu a", "until", "till",
                                                              "til", "jusque"}:
            return None
        return self.clock(word[1], bare=True)

    # -- lengths
    def duration(self, i: int) -> tuple[timedelta, int] | None:
        fixed = self.phrase(i, _DURATION_PHRASES)
        if fixed is not None:
            return timedelta(minutes=fixed[0]), fixed[1]
        found = self.number(i, articles=True)
        if found is None:
            return None
        amount, j = found
        fraction = 0.0
        if self.text(j) in {",", "."} and self.glued(j) and self.num(j + 1, 2) is not None and self.glued(j + 1):
            digits = self.text(j + 1) or "0"
            fraction, j = int(digits) / 10 ** len(digits), j + 2
        unit = self.text(j)
        is_article = self.text(i) in V.ARTICLE_NUMBERS
        if unit in V.HOUR_UNITS and not (is_article and unit == "h"):
            j += 1
            if amount > 10_000:
                raise DateParseError("too_long")
            minutes = round((amount + fraction) * 60)
            if not fraction:
                extra = self.num(j)
                if extra is not None and (self.glued(j) or len(self.text(j) or "") == 2
                                          or self.text(j + 1) in V.MINUTE_UNITS):
                    if extra > 59:
                        return None
                    minutes, j = minutes + extra, j + 1
                    if self.text(j) in V.MINUTE_UNITS:
                        j += 1
                elif self.text(j) in {"et", "and"} and self.text(j + 1) in {"demie", "demi"}:
                    minutes, j = minutes + 30, j + 2
                elif self.text(j) == "and" and self.text(j + 1) == "a" and self.text(j + 2) == "half":
                    minutes, j = minutes + 30, j + 3
                elif self.text(j) == "et" and self.text(j + 1) == "quart":
                    minutes, j = minutes + 15, j + 2
                elif self.text(j) == "et" and self.text(j + 1) == "trois" and self.text(j + 2) == "quarts":
                    minutes, j = minutes + 45, j + 3
                else:
                    words = self.number(j)
                    if words is not None and words[0] in {15, 30, 45} and self.text(words[1]) in V.MINUTE_UNITS:
                        minutes, j = minutes + words[0], words[1] + 1
            return timedelta(minutes=minutes), j
        if unit in V.MINUTE_UNITS or (unit == "m" and self.glued(j)):
            if fraction or amount > 100_000:
                raise DateParseError("too_long") if amount > 100_000 else DateParseError("impossible_date")
            return timedelta(minutes=amount), j + 1
        return None

    # -- days
    def day(self, i: int) -> tuple[_Pieces, int] | None:
        relative = self.phrase(i, _RELATIVE_DAYS)
        if relative is not None:
            offset, j = relative
            return _Pieces(day=_shift_days(self.today, offset)), j
        today_period = self.phrase(i, _TODAY_PERIODS)
        if today_period is not None:
            period, j = today_period
            if self.past and _key(self.toks[i:j]) == "cette nuit":
                raise DateParseError("ambiguous")
            return _Pieces(day=self.today, period=period), j
        yesterday_period = self.phrase(i, _YESTERDAY_PERIODS)
        if yesterday_period is not None:
            return _Pieces(day=_shift_days(self.today, -1), period=yesterday_period[0]), yesterday_period[1]
        found = self.weekday(i)
        if found is not None:
            return found
        found = self.numeric_date(i)
        if found is not None:
            return found
        return self.day_month(i)

    def weekday(self, i: int) -> tuple[_Pieces, int] | None:
        j, direction = i, None
        this = self.phrase(j, _THIS)
        if this is not None:
            j, direction = this[1], "this"
        else:
            for table, name in ((_NEXT, "next"), (_LAST, "last")):
                found = self.phrase(j, table)
                if found is not None and self.text(j) in {"next", "last"}:
                    j, direction = found[1], name
        word = self.text(j)
        if word is None:
            return None
        if word in V.WEEKDAYS_PLURAL:
            if not self.weekly:
                raise DateParseError("ambiguous")  # "tous les lundis": every Monday, not one
            return _Pieces(day=self._resolve_weekday(V.WEEKDAYS_PLURAL[word], direction), weekly=True), j + 1
        weekday: int | None = V.WEEKDAYS_FULL.get(word, V.WEEKDAY_TYPOS.get(word))
        k = j + 1
        if weekday is None and word in V.WEEKDAYS_SHORT:
            dotted = self.text(k) == "." and self.glued(k)
            k = self.skip_dot(k)
            after = self.text(k)
            context = dotted or direction is not None or (after is not None and (
                after.isdigit() or after in V.NOON or after in V.MIDNIGHT or self.phrase(k, _PERIODS) is not None
                or self.phrase(k, _WHOLE_DAY) is not None
                or after in {"a", "at", "de", "from", "des", "le", "prochain", "prochaine", "dernier", "derniere"}))
            if not context and not self.alone(j):
                return None
            weekday = V.WEEKDAYS_SHORT[word]
        if weekday is None:
            return None
        if direction is None:
            for table, name in ((_NEXT, "next"), (_LAST, "last")):
                found = self.phrase(k, table)
                if found is not None:
                    k, direction = found[1], name
                    break
        # "mardi 1 décembre", "samedi 28", "sam. 28/11": the date decides, the weekday must agree.
        if self.text(k) == "," and self.text(k + 1) is not None and self.text(k + 1) in V.MONTHS:
            k += 1  # "Monday, December 7"
        dated = self.numeric_date(k)
        bare = False
        if dated is None:
            dated = self.day_month(k, allow_bare=True)
            bare = dated is not None and dated[1] == k + 1  # "samedi 28", not "samedi 28 novembre"
            if bare and (self.phrase(k + 1, _SEPARATORS) is not None or self.phrase(k + 1, _AMPM) is not None):
                dated = None  # "vendredi 5-7pm": hours
        if dated is not None and dated[0].day is not None:
            if dated[0].day.weekday() != weekday:
                if bare:  # "samedi 2": two places, not the 2nd
                    return _Pieces(day=self._resolve_weekday(weekday, direction)), k
                raise DateParseError("ambiguous", dated=dated[0].day, weekday=weekday)
            return dated
        return _Pieces(day=self._resolve_weekday(weekday, direction)), k

    def _resolve_weekday(self, weekday: int, direction: str | None) -> date:
        today = self.today
        if direction == "last" or (self.past and direction != "next"):
            ago = (today.weekday() - weekday) % 7
            if ago == 0 and direction == "last":
                ago = 7
            return today - timedelta(days=ago)
        ahead = (weekday - today.weekday()) % 7
        if ahead == 0 and direction != "this":
            ahead = 7
        return today + timedelta(days=ahead)

    def numeric_date(self, i: int) -> tuple[_Pieces, int] | None:
        """2026-12-01, 1/12, 01/12/2026, 1.12.26."""
        first = self.text(i)
        if first is None or not first.isdecimal():
            return None
        if len(first) == 4 and self.text(i + 1) == "-" and self.glued(i + 1):
            month, day = self.num(i + 2), self.num(i + 4)
            if month is None or self.text(i + 3) != "-" or day is None:
                return None
            return _Pieces(day=_make_date(int(first), month, day)), i + 5
        if len(first) > 2 or self.text(i + 1) not in {"/", "."} or not self.glued(i + 1):
            return None
        separator = self.text(i + 1)
        month = self.num(i + 2)
        if month is None or not self.glued(i + 2):
            return None
        day_num, j = int(first), i + 3
        if separator == "." and (not 1 <= month <= 12 or day_num > 31 or self.text(j) in V.HOUR_UNITS
                                 or self.text(j) == "-"):
            return None
        year: int | None = None
        if self.text(j) == separator and self.glued(j) and self.num(j + 1, 4) is not None:
            year_text = self.text(j + 1) or ""
            if len(year_text) in {2, 4}:
                year = int(year_text) + (2000 if len(year_text) == 2 else 0)
                j += 2
            elif len(year_text) == 3 or len(year_text) == 1:
                raise DateParseError("out_of_range")
        elif self.text(j) == "." and separator == "." and self.glued(j):
            j += 1
        if not 1 <= month <= 12 or not 1 <= day_num <= 31:
            raise DateParseError("impossible_date")
        return _Pieces(day=self._day_in_year(day_num, month, year)), j

    def day_month(self, i: int, allow_bare: bool = False) -> tuple[_Pieces, int] | None:
        """'le 15', '15 mars', '1er décembre 2026', 'the 3rd', 'dec 3rd', 'December 3, 2026'."""
        j, article = i, False
        if self.text(j) in {"le", "the"}:
            j, article = j + 1, True
        elif self.text(j) == "on" and self.text(j + 1) == "the":
            j, article = j + 2, True
        if article:
            numeric = self.numeric_date(j)
            if numeric is not None:
                return numeric  # "le 15/11"
        month_first: int | None = None
        word = self.text(j)
        if word is not None and word in V.MONTHS and not article:
            month_first = V.MONTHS[word]
            j = self.skip_dot(j + 1)
        value = self.num(j)
        if value is None:
            return None
        j += 1
        suffix = self.text(j)
        ordinal = False
        if suffix in V.ORDINAL_SUFFIXES and self.glued(j):
            ordinal, j = True, j + 1
        if self.text(j) in _HOUR_WORDS or self.text(j) == ":" or self.text(j) in V.MINUTE_UNITS \
                or self.phrase(j, _AMPM) is not None or self.text(j) in _NOT_DAYS:
            return None  # an hour, or "1er étage", not a day
        month = month_first
        if month is None:
            word = self.text(j)
            if self.text(j) in {"de", "of"} and self.text(j + 1) in V.MONTHS:  # "the 27th of november"
                j += 1
                word = self.text(j)
            if word is not None and word in V.MONTHS:
                month = V.MONTHS[word]
                j = self.skip_dot(j + 1)
        if month is None and not (article or (ordinal and suffix in {"er", "st", "nd", "rd", "th"}) or allow_bare):
            return None
        if month_first is not None and self.text(j) == ",":
            j += 1
        year: int | None = None
        year_value = self.num(j, 4)
        if month is not None and year_value is not None and len(self.text(j) or "") == 4 \
                and self.text(j + 1) not in _HOUR_WORDS and self.text(j + 1) != ":":
            year, j = year_value, j + 1
        if not 1 <= value <= 31:
            if month is None and not article:
                return None
            raise DateParseError("impossible_date")
        if month is None:
            return _Pieces(day=self._day_in_month(value)), j
        return _Pieces(day=self._day_in_year(value, month, year)), j

    def _day_in_year(self, day_num: int, month: int, year: int | None) -> date:
        if year is not None:
            return _make_date(year, month, day_num)
        if day_num > calendar.monthrange(2000, month)[1]:
            raise DateParseError("impossible_date")
        step = -1 if self.past else 1
        for offset in range(0, 9):
            candidate_year = self.today.year + step * offset
            try:
                candidate = date(_valid_year(candidate_year), month, day_num)
            except ValueError:
                continue
            if (candidate <= self.today) if self.past else (candidate >= self.today):
                # "1er décembre" for hours given on 23 November is not last year's, nor "15/11" for an
                # event next year's: a date that far without its year is asked again, with the year.
                if abs((candidate - self.today).days) > (FAR_BACK_DAYS if self.past else FAR_AHEAD_DAYS):
                    raise DateParseError("ambiguous")
                return candidate
        raise DateParseError("impossible_date")

    def _day_in_month(self, day_num: int) -> date:
        step = -1 if self.past else 1
        for offset in range(0, 13):
            moved = _add_months(self.today.replace(day=1), step * offset)
            try:
                candidate = moved.replace(day=day_num)
            except ValueError:
                continue
            if (candidate <= self.today) if self.past else (candidate >= self.today):
                return candidate
        raise DateParseError("impossible_date")

    def relative(self, i: int) -> tuple[_Pieces, int] | None:
        """'dans 20 min', 'in an hour', 'dans 3 jours', 'in 2 weeks', 'il y a 2 jours', '3 days ago'."""
        intro = self.phrase(i, _IN)
        ago_before = self.phrase(i, _AGO_BEFORE) if intro is None else None
        if intro is None and ago_before is None:
            found = self.count_days(i)
            if found is None:
                return None
            days, j = found
            if self.text(j) == "from" and self.text(j + 1) in {"today", "now"}:
                return _Pieces(day=self._count(days, 1)), j + 2  # "a week from today"
            after = self.phrase(j, _AGO_AFTER)
            if after is None:
                return None
            return _Pieces(day=self._count(days, -1)), after[1]
        j = (intro or ago_before)[1]  # type: ignore[index]
        sign = 1 if intro is not None else -1
        counted = self.count_days(j)
        if counted is not None:
            return _Pieces(day=self._count(counted[0], sign)), counted[1]
        length = self.duration(j)
        if length is None:
            return None
        delta, k = length
        try:
            moment = self.now + sign * delta
        except OverflowError:
            raise DateParseError("out_of_range") from None
        _valid_year(moment.year)
        return _Pieces(moment=moment), k

    def count_days(self, i: int) -> tuple[tuple[int, str], int] | None:
        found = self.number(i, articles=True)
        if found is None:
            return None
        amount, j = found
        unit = self.text(j)
        for units, name in ((V.DAY_UNITS, "day"), (V.WEEK_UNITS, "week"), (V.MONTH_UNITS, "month")):
            if unit in units and not (unit == "j" and not self.glued(j)):
                if amount > 100_000:
                    raise DateParseError("out_of_range")
                return (amount, name), j + 1
        return None

    def _count(self, counted: tuple[int, str], sign: int) -> date:
        amount, unit = counted
        if unit == "month":
            return _add_months(self.today, sign * amount)
        return _shift_days(self.today, sign * amount * (7 if unit == "week" else 1))

    # -- a moment: pieces with fillers between them
    def moment(self, i: int) -> tuple[_Pieces, int] | None:
        pieces = _Pieces()
        j = i
        found_any = False
        end = i
        while j < len(self.toks):
            k = j
            while True:  # fillers are taken only when a piece follows them
                filler = self.phrase(k, _FILLERS if found_any else _LEADING)
                if filler is None:
                    break
                k = filler[1]
            piece = self.piece(j, pieces) or (self.piece(k, pieces) if k != j else None)
            if piece is None:
                break
            part, nxt = piece
            pieces.merge(part)
            found_any = True
            j = end = nxt
        if not found_any:
            return None
        return pieces, end

    def piece(self, i: int, so_far: _Pieces) -> tuple[_Pieces, int] | None:
        readers: tuple[Callable[[int], tuple[_Pieces, int] | None], ...] = (
            self.relative, self.day, self.range_, self.length_piece, self.period_piece, self.start_time)
        if so_far.start is not None:  # "jeu 20h soirée jeux": a part of the day comes before the hour
            readers = (self.relative, self.day, self.range_, self.length_piece, self.start_time, self.whole_day)
        elif so_far.period is not None:
            readers = (self.relative, self.day, self.range_, self.length_piece,
                       lambda j: self.start_time(j, so_far.period))
        elif so_far.day is None:  # "réunion du matin hier": a part of the day follows its day
            readers = (self.relative, self.day, self.range_, self.length_piece,
                       lambda j: self.start_time(j, alone=so_far.duration is None))
        elif so_far.moment is None:  # "demain toute la journée": the day, as it is
            readers = (*readers, self.whole_day)
        for reader in readers:
            found = reader(i)
            if found is not None:
                return found
        return None

    def length_piece(self, i: int) -> tuple[_Pieces, int] | None:
        intro = self.phrase(i, _DURATION_INTRO)
        if intro is None:
            return None
        found = self.duration(intro[1])
        if found is None:
            return None
        return _Pieces(duration=found[0]), found[1]

    def whole_day(self, i: int) -> tuple[_Pieces, int] | None:
        found = self.phrase(i, _WHOLE_DAY)
        return (_Pieces(), found[1]) if found is not None else None

    def period_piece(self, i: int) -> tuple[_Pieces, int] | None:
        j = i
        while j < i + 3 and self.text(j) in {"le", "la", "l", "'", "in", "the", "en", "dans", "during"}:
            j += 1  # "dans l'après-midi", "in the morning", "en soirée"
        found = self.phrase(j, _PERIODS)
        if found is None:
            return None
        return _Pieces(period=found[0]), found[1]


def _resolve_ampm(hour: int, ampm: str | None) -> int:
    if ampm == "pm" and hour < 12:
        return hour + 12
    if ampm == "am" and hour == 12:
        return 0
    return hour


def _wall_hour(clock: _Clock, period: str | None, is_end: bool) -> tuple[int, int]:
    """The 24-hour wall time a clock means, given the part of the day it was said in."""
    hour = _resolve_ampm(clock.hour, clock.ampm)
    qualifier = clock.qualifier or (None if clock.ampm else period)
    if clock.twelve and not clock.ampm and qualifier is None:
        raise DateParseError("ambiguous")
    if clock.midnight:
        return (24 if is_end or hour == 24 else hour), clock.minute
    if clock.ampm is None and qualifier in {V.AFTERNOON, V.EVENING, V.NIGHT} and 1 <= hour <= 11:
        if qualifier == V.NIGHT and hour < 8:
            raise DateParseError("ambiguous")
        if qualifier == V.AFTERNOON and hour > 7:
            raise DateParseError("ambiguous")
        hour += 12
    return hour, clock.minute




def _combine(day: date, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    """Local wall time -> aware UTC datetime; a time skipped or repeated by a clock change is refused."""
    if hour == 24 and minute == 0:
        day, hour = _shift_days(day, 1), 0
    if hour > 23:
        raise DateParseError("impossible_date")
    naive = datetime.combine(day, time(hour, minute))
    first, second = naive.replace(tzinfo=tz), naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset():
        utc_first = first.astimezone(UTC)
        if utc_first.astimezone(tz).replace(tzinfo=None) != naive:
            raise DateParseError("nonexistent_time")
        raise DateParseError("ambiguous")
    return first.astimezone(UTC)


def _build(pieces: _Pieces, reader: _Reader) -> When:
    tz, day_stated = reader.tz, pieces.day is not None
    if pieces.moment is not None:
        if pieces.day is not None or pieces.start is not None or pieces.period is not None:
            raise DateParseError("ambiguous")
        moment = pieces.moment.astimezone(UTC).replace(second=0, microsecond=0)
        until = moment + pieces.duration if pieces.duration else None
        return When(moment.astimezone(tz).date(), moment, until, False, True, None, pieces.duration, True)
    day = pieces.day or reader.today
    period = pieces.period
    if pieces.start is None:
        if pieces.end is not None or pieces.duration is not None:
            raise DateParseError("no_date")
        return When(day, day_stated=day_stated, period=period, weekly=pieces.weekly)
    start_clock = pieces.start
    if (start_clock.midnight or start_clock.hour == 24) and pieces.end is None and period not in {V.EVENING, V.NIGHT}:
        raise DateParseError("ambiguous")  # "samedi minuit": the start or the end of Saturday?
    start_hm = _wall_hour(start_clock, period, is_end=pieces.end is None and start_clock.midnight)
    period = period or start_clock.qualifier
    if pieces.period is not None and start_clock.ampm is None:
        low, high = V.PERIOD_HOURS[pieces.period]
        if not (low <= start_hm[0] < high) and not start_clock.midnight:
            raise DateParseError("ambiguous")  # "samedi matin 15h"
    start = _combine(day, *start_hm, tz)
    end: datetime | None = None
    if pieces.end is not None:
        if pieces.duration is not None:
            raise DateParseError("ambiguous")
        end_clock = pieces.end
        plain = (start_clock.bare and end_clock.bare and pieces.period is None and not start_clock.ampm
                 and not end_clock.ampm and not start_clock.qualifier and not end_clock.qualifier)
        if plain and 1 <= start_clock.hour <= 6:
            raise DateParseError("ambiguous")  # "de 2 à 4", "1-12": at night, or in the afternoon, or days?
        end_period = pieces.period if end_clock.ampm is None and end_clock.qualifier is None else None
        end_hm = _wall_hour(end_clock, end_period or start_clock.qualifier, is_end=True)
        afternoon_end = (end_clock.hour + 12, end_clock.minute)
        if end_clock.bare and not end_clock.ampm and not end_clock.qualifier and end_hm < start_hm \
                and 1 <= end_clock.hour <= 11 and afternoon_end > start_hm:
            end_hm = afternoon_end  # "9-5", "de 10 à 2", "midi-2", "2pm-4"
        if end_period and end_hm[0] < start_hm[0] and end_clock.hour + 12 <= 24 and not end_clock.midnight \
                and end_clock.ampm is None and (end_clock.hour + 12, end_clock.minute) > start_hm:
            end_hm = (end_clock.hour + 12, end_clock.minute)  # "ce soir 8-11" is 20:00-23:00
        end_day = day
        if end_hm < start_hm and start_hm[0] >= 17 and end_hm[0] <= 6 and end_hm[0] != 24:
            end_day = _shift_days(day, 1)  # "22h-2h": into the night
        end = _combine(end_day, *end_hm, tz)
    elif pieces.duration is not None:
        if pieces.duration > MAX_DURATION:
            raise DateParseError("too_long")
        if not pieces.duration:
            raise DateParseError("zero")
        end = start + pieces.duration
    if end is not None and end <= start:
        raise DateParseError("reversed")
    return When(day, start, end, day_stated, True, period, pieces.duration, False, pieces.weekly)


# -------------------------------------------------------------------------------------------- public

def _prepare(text: str, now: datetime) -> str:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if len(text) > MAX_TEXT:
        raise DateParseError("no_date")  # longer than any chat message: not read, and not cut either
    return unicodedata.normalize("NFC", text)


def _spans(reader: _Reader, tolerant: bool = False) -> list[tuple[int, int, _Pieces]]:
    """The moments of the text, left to right. ``tolerant``: a place that cannot be read is skipped
    instead of refusing the whole text (to offer the readings that do work)."""
    spans: list[tuple[int, int, _Pieces]] = []
    i = 0
    toks = reader.toks
    while i < len(toks):
        if toks[i].quoted:
            i += 1
            continue
        try:
            found = reader.moment(i)
        except DateParseError:
            if not tolerant:
                raise
            found = None
        if found is None:
            i += 1
            continue
        pieces, end = found
        spans.append((i, end, pieces))
        i = end
    return spans


def _rest(text: str, toks: list[_Tok], taken: list[tuple[int, int]]) -> str:
    keep: list[str] = []
    cursor = 0
    for first, last in taken:
        keep.append(text[cursor:toks[first].start])
        if last < len(toks) and toks[last].text in {",", ":", ";"} and not toks[last].gap:
            last += 1  # "samedi 18h-22h, 2 places", "demain : 14h-16h"
        cursor = toks[last - 1].end
    keep.append(text[cursor:])
    return re.sub(r"\s+", " ", " ".join(keep)).strip(" ,")


_AT_AFTER = {"a", "at", "vers", "@", "around"}
_NOT_DAYS = {"etage", "floor", "rang", "prix", "arrondissement", "arr", "edition", "fois", "time", "times", "place",
             "round", "sous-sol", "annee", "year", "mi-temps"}
# A moment after these is a deadline or a repetition, not a moment: refused rather than read as one.
_BOUNDS = {"avant", "apres", "before", "after", "until", "till", "jusqu", "jusque", "depuis", "since", "ici", "by"}
_EVERY = {"chaque", "every", "each", "tous", "toutes"}  # "tous les lundis": "les" is skipped as a filler


def _check_neighbours(reader: _Reader, first: int, end: int) -> int | None:
    """Numbers touching a moment that could be part of it are refused, not left in the text:
    'demain à 14 ...' (14:00? 2 pm?), 'à 14 demain', '12 et 13 décembre' (two days); so are moments
    after 'avant', 'jusqu'à', 'by'. Returns where 'tous les' / 'chaque' / 'every' starts, when allowed."""
    if reader.text(end) in _AT_AFTER:
        value = reader.number(end + 1, words=False)
        if value is not None and value[0] <= 24:
            raise DateParseError("ambiguous")
    if reader.num(end) is not None and reader.text(end + 1) is not None and reader.moment(end + 1) is not None \
            and reader.num(end, 2) is not None and int(reader.text(end) or 0) <= 24:
        raise DateParseError("ambiguous")  # "demain 14 16h": 14h-16h or 16h?
    core = first
    while core < end and reader.phrase(core, _FILLERS) is not None:
        core = reader.phrase(core, _FILLERS)[1]  # type: ignore[index]
    previous = core - 1
    while previous >= 0 and (reader.text(previous) in {"'", "a", "le", "la", "the", "on", "les"}):
        previous -= 1
    if reader.num(core - 1) is not None and reader.text(core - 2) in _AT_AFTER:
        raise DateParseError("ambiguous")
    if reader.num(core - 2) is not None and reader.text(core - 1) in {"et", "and", "-", "au", "a", "to"} \
            and reader.num(core) is not None:
        raise DateParseError("ambiguous")
    word = reader.text(previous)
    if word in _BOUNDS:
        raise DateParseError("ambiguous")  # "avant vendredi": a deadline, not a moment
    if word in _EVERY:
        if not reader.weekly:
            raise DateParseError("ambiguous")  # "chaque lundi": every Monday, not one
        return previous
    if reader.weekly and reader.text(core - 1) == "les" and reader.text(core) in V.WEEKDAYS_PLURAL:
        return core - 1  # "les samedis"
    return None


def _find(text: str, now: datetime, tz: ZoneInfo, past: bool,
          weekly: bool = False) -> tuple[When | None, str, _Reader]:
    text = _prepare(text, now)
    toks = _tokens(text)
    reader = _Reader(toks, now, tz, past, weekly)
    spans = [s for s in _spans(reader) if s[2].is_moment]
    if not spans:
        return None, text.strip(), reader
    pieces = _Pieces()
    taken: list[tuple[int, int]] = []
    for first, end, part in spans:
        pieces.merge(part)
        every = _check_neighbours(reader, first, end)
        if every is not None:
            pieces.weekly, first = True, every
        taken.append((first, end))
    if pieces.weekly and pieces.day is None:
        raise DateParseError("ambiguous")  # "tous les 15 jours"
    when = _build(pieces, reader)
    return when, _rest(text, toks, taken), reader


def find_when(text: str, now: datetime, tz: ZoneInfo, *, past: bool = False,
              weekly: bool = False) -> tuple[When | None, str]:
    """A moment anywhere in ``text`` and the text without it: ('vendredi midi déjeuner avec Paul') ->
    (Friday 12:00, 'déjeuner avec Paul'). ``past``: a day given without its week, month or year is the
    last one gone (hours logged), otherwise the next one to come. Moments in several places are put
    together when they complete each other ("demain appeler la mairie à 10h"), refused when they clash.
    Text between quotes is never read. ``weekly``: "tous les mardis 14h-18h" is read (the next Tuesday,
    ``When.weekly``) instead of refused. Raises DateParseError; (None, text) when there is no moment."""
    when, rest, _ = _find(text, now, tz, past, weekly)
    return when, rest


def parse_when(text: str, now: datetime, tz: ZoneInfo, *, past: bool = False) -> When:
    """The whole text is a moment ("demain 14h-16h"); an empty text is today. Words that are not part of
    the moment are refused (``unknown_words``), never ignored."""
    when, rest, reader = _find(text, now, tz, past)
    leftover = [w for w in _tokens(rest) if w.text not in _FILLERS and w.text not in {".", ",", ";", "!", "?"}]
    if when is None:
        if leftover:
            raise DateParseError("no_date")
        return When(reader.today)
    if leftover:
        raise DateParseError("unknown_words", " ".join(rest.split()[:6]))
    return when


def when_readings(text: str, now: datetime, tz: ZoneInfo, *, past: bool = False) -> list[tuple[When, str]]:
    """Each moment of the text read on its own, with the rest: the choices to offer when ``find_when``
    refuses a text that names two ("demain 9h préparer la réunion de jeudi"). Readings that fail alone
    are left out; the first and the last moments come first."""
    text = _prepare(text, now)
    toks = _tokens(text)
    reader = _Reader(toks, now, tz, past)
    spans = [s for s in _spans(reader, tolerant=True) if s[2].is_moment]
    if len(spans) > 1:
        spans = [spans[0], spans[-1], *spans[1:-1]]
    readings: list[tuple[When, str]] = []
    for first, last, pieces in spans:
        try:
            readings.append((_build(pieces, reader), _rest(text, toks, [(first, last)])))
        except DateParseError:
            continue
    return readings


def find_duration(text: str) -> tuple[timedelta | None, str]:
    """A length anywhere in ``text`` ('1h', '2h30', '1 h 30', '90 min', '1,5 h', 'une heure et demie',
    'an hour', 'pendant 1h30', 'for 2 hours') and the text without it. Hours that are part of a range
    ('14h-16h') or of 'dans 2 h' are not lengths. Two lengths are refused (``ambiguous``), one over 24 h
    too (``too_long``). Raises DateParseError; (None, text) when there is none."""
    text = _prepare(text, datetime.now(UTC))
    toks = _tokens(text)
    reader = _Reader(toks, datetime(2026, 1, 1, tzinfo=UTC), ZoneInfo("UTC"), False)
    found: list[tuple[int, int, timedelta, bool]] = []
    i = 0
    while i < len(toks):
        if toks[i].quoted:
            i += 1
            continue
        intro = reader.phrase(i, _DURATION_INTRO)
        start = intro[1] if intro else i
        length = reader.duration(start)
        if length is None or _in_range_or_relative(reader, i if intro is None else start, length[1]):
            i += 1
            continue
        found.append((i, length[1], length[0], intro is not None))
        i = length[1]
    if not found:
        return None, text.strip()
    if len(found) > 1:
        introduced = [f for f in found if f[3]]
        if len(introduced) != 1:
            raise DateParseError("ambiguous")
        found = introduced
    first, last, delta, _ = found[0]
    if reader.text(last) in {"de", "of"} and reader.text(last + 1) is not None:
        last += 1  # "2h de tri"
    elif reader.text(last) == "d" and reader.text(last + 1) == "'":
        last += 2  # "2h d'accueil"
    if delta > MAX_DURATION:
        raise DateParseError("too_long")
    if not delta:
        raise DateParseError("zero")
    return delta, _rest(text, toks, [(first, last)])


def _in_range_or_relative(reader: _Reader, first: int, last: int) -> bool:
    before, after = reader.text(first - 1), reader.text(last)
    if before in {"-", "a", "to", "until", "till", "jusqu'a", "de", "from", "entre", "between", "et", "and",
                  "dans", "in", "ici", "des", "vers", "at", "around", "@"}:
        return True
    if before == "y" or (before == "a" and reader.text(first - 2) == "y"):
        return True
    if reader.phrase(last, _QUALIFIERS) is not None:
        return True  # "8h du soir" is an hour
    return after in {"-", "a", "to", "until", "till", "jusqu", "et", "and", "ago", "pm", "am", ":"} or \
        (after is not None and after in V.MINUTE_UNITS)


def _common_day(text: str, today: date) -> date | None:
    """A day word alone ('lundi', 'next friday', 'demain'), read as a booking would: the next one to come."""
    now = datetime.combine(today, time(12), tzinfo=UTC)
    try:
        when = parse_when(text, now, ZoneInfo("UTC"))
    except DateParseError:
        return None
    return when.day if when.day_stated else None


def mentions_time(text: str, now: datetime, tz: ZoneInfo) -> bool:
    """Whether a text (a reminder's words, a task's description) still says a day or an hour somewhere,
    even one we could not place: such a text is asked about, never stored as it is."""
    try:
        when, _ = find_when(text, now, tz)
    except DateParseError:
        return True
    if when is not None:
        return True
    toks = _tokens(_prepare(text, now))
    reader = _Reader(toks, now, tz, False)
    try:
        return _names_a_time(reader)
    except DateParseError:
        return True  # "25h": not a time we can read, but one all the same


def _names_a_time(reader: _Reader) -> bool:
    toks = reader.toks
    for i in range(len(toks)):
        clock = reader.clock(i)
        if (clock is not None and not reader.length_follows(clock[1])) or reader.phrase(i, _PERIODS) is not None:
            return True
        if reader.text(i) in _AT_AFTER:  # "à 14", "at 3": an hour said without its "h"
            found = reader.number(i + 1, words=False)
            if found is not None and found[0] <= 24 and reader.text(found[1]) not in V.MINUTE_UNITS:
                return True
        word = reader.text(i)
        if word is not None and (word in V.WEEKDAYS_FULL or word in V.NOON or word in V.MIDNIGHT):
            return True
    return False


__all__ = ["ERROR_MESSAGES", "DateParseError", "When", "find_duration", "find_when", "mentions_time", "parse_when",
           "when_readings"]

