"""Reading one sentence: which request it is (from the verbs and nouns of ``words``) and the pieces the
date grammar finds in it (a day, hours, a part of the day, a duration, a number, the words left).

Pure functions, no database: what the sentence *names* (a space, an event) is resolved later against
the database by ``plan``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.core.conversation import words as W
from bot.core.dates import DateParseError, find_duration, find_when
from bot.core.router import fold

_PUNCT_EDGES = "?!.,;:()[]{}\"«»“”…*~_"
_CUES = {intent: re.compile("|".join(f"(?:{c})" for c in cues)) for intent, cues in W.CUES.items()}
# Booking verbs that win over "libre"/"dispo" in the same sentence; "a réservé", "est réservé" ask, not book.
_HOW_TO = re.compile(W.HOW_TO)
def names_booking_verb(folded: str) -> bool:
    """'réserver', 'book', 'louer' said (not 'a réservé'): a booking even when nothing else is named yet."""
    return bool(_STRONG_BOOK.search(folded))


_STRONG_BOOK = re.compile(r"(?<!\ba )(?<!\bai )(?<!\best )(?<!\bc'est )\breserv(?!ation)|\bbook(?!ed)|\blouer\b")


_POLITE_PHRASES = re.compile(r"\bs'?il (?:te|vous) pla[iî]t\b|\bstp\b|\bsvp\b|\bif you (?:please|can)\b"
                             r"|\bthank you\b|\bthanks in advance\b|\bmerci d'avance\b|\bmerci beaucoup\b",
                             re.IGNORECASE)


@lru_cache(maxsize=2048)
def clean(text: str) -> str:
    """The sentence as the grammar should see it: phone spellings replaced, punctuation at word edges
    removed, mentions dropped; case and accents of the member's own words kept."""
    text = text.replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", "-").replace("\u00a0", " ")
    text = _POLITE_PHRASES.sub(" ", text)
    out: list[str] = []
    for raw in text.split():
        if raw.startswith("@"):
            continue
        word = raw.strip(_PUNCT_EDGES)
        if word.startswith("@"):
            continue  # a mention in quotes or brackets («@bot»): dropped like a bare one
        if word.endswith("'") and len(word) > 1:
            word = word[:-1]
        key = fold(word)
        if key in W.SPELLINGS:
            word = W.SPELLINGS[key]
        if word:
            out.append(word)
    cleaned = " ".join(out)
    if cleaned.isupper():
        cleaned = cleaned.lower()  # a sentence typed in capitals: its case means nothing
    return _TWO_HOURS.sub(r"\1-\2", _GLUED_HOURS.sub(r"\1h-\2h", cleaned))


# "14h16h": two hours glued are a range (not 14:16).
_GLUED_HOURS = re.compile(r"(?<![\w:-])(\d{1,2})h(\d{1,2})h(?![\w:-])", re.IGNORECASE)
# "14h 16h", "10h30 12h": two hours side by side are a range.
_TWO_HOURS = re.compile(r"(?<![\w:-])(\d{1,2}h(?:[0-5]\d)?) (\d{1,2}h(?:[0-5]\d)?)(?![\w:-])", re.IGNORECASE)


@lru_cache(maxsize=2048)
def intent_of(folded: str) -> str | None:
    """The request a folded, cleaned sentence names, or None. Greetings and politeness in front are
    skipped, so cues that must open the sentence ("rappel demain…", "2h de tri…") still do."""
    folded = folded[_polite_prefix(folded):]
    if _HOW_TO.search(folded):
        return "help"
    strong_book = bool(_STRONG_BOOK.search(folded))
    for intent in W.INTENT_ORDER:
        if intent == "free" and strong_book:
            continue
        if _CUES[intent].search(folded):
            if intent in {"mybookings", "myevents"} and _CUES["cancel"].search(folded):
                return "cancel"  # "annule mes réservations": a cancellation, of one of them
            return intent
    return None


def cue_span(intent: str, folded: str) -> tuple[int, int] | None:
    """Where the words that named the request are, to the end of the last one ("desinscri" -> "desinscris")."""
    skip = _polite_prefix(folded)
    match = _CUES[intent].search(folded[skip:])
    if match is None:
        return None
    end = skip + match.end()
    while end < len(folded) and not folded[end].isspace():
        end += 1
    return skip + match.start(), end


_POLITE_WORD = re.compile(r"\S+\s*")


def _polite_prefix(folded: str) -> int:
    """How many characters of greetings and politeness open the sentence."""
    position = 0
    for match in _POLITE_WORD.finditer(folded):
        if match.group().strip().strip(",!") not in W.FILLER_WORDS | W.GREETINGS:
            break
        position = match.end()
    return position


# --- when ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Moment:
    """What a sentence says about when, in the place's local time."""

    day: date | None = None
    start: time | None = None
    end: time | None = None
    part: str | None = None  # a part of the day ("aprem"), when no hours were given
    relative: datetime | None = None  # "dans 20 minutes": an exact moment (UTC)
    error: str | None = None  # the grammar refused what was said (DateParseError.code)
    refusal: DateParseError | None = None  # and how (for a sentence that says what was wrong)
    hour_unread: bool = False  # an hour was said ("at 3") that the grammar could not read: ask for it

    @property
    def empty(self) -> bool:
        return self.day is None and self.start is None and self.part is None and self.relative is None


def _local(moment: datetime | None, tz: ZoneInfo) -> time | None:
    return moment.astimezone(tz).time().replace(second=0, microsecond=0) if moment else None


_BARE_AT = re.compile(r"(?<!\S)(?:at|a|à|vers|around) \d{1,2}(?![\d:h.,]|\s*(?:am|pm|h\b|heures?\b))", re.IGNORECASE)
_LONE_A = re.compile(r"(?<!\S)[AÀ](?!\S)")


def find_moment(text: str, now: datetime, tz: ZoneInfo, *, past: bool = False) -> tuple[Moment, str]:
    """The day, hours or part of the day said anywhere in ``text``, through the date grammar
    (``find_when``), and the text without them. A moment the grammar refuses (two days, "16h-14h")
    is returned with its error code, so the member is asked again instead of misread."""
    text = _LONE_A.sub(lambda m: m.group().lower(), text)  # "DE 14 A 16H": the grammar wants "à"/"a"
    try:
        when, rest = find_when(text, now, tz, past=past)
    except DateParseError as error:
        # "at 3 tomorrow", "à 14 demain": the grammar refuses a bare hour; the day is still worth keeping
        # (the hours are then asked for).
        without = _BARE_AT.sub(" ", text)
        if without == text:
            return Moment(error=error.code, refusal=error), text
        try:
            when, rest = find_when(without, now, tz, past=past)
        except DateParseError:
            return Moment(error=error.code, refusal=error), text
        if when is None or when.time_stated:
            return Moment(error=error.code, refusal=error), text
        return Moment(day=when.day if when.day_stated else None, part=when.period, hour_unread=True), rest
    if when is None:
        return Moment(), text
    if when.relative and when.start is not None:
        return Moment(relative=when.start), rest
    day = when.day if when.day_stated else None
    start = _local(when.start, tz) if when.time_stated else None
    end = _local(when.end, tz) if when.time_stated else None
    return Moment(day=day, start=start, end=end, part=when.period if start is None else None), rest


def find_minutes(text: str) -> tuple[int | None, str]:
    """A length of time in minutes ('2h', '2h30', 'une heure et demie', '45 min') and the rest."""
    try:
        length, rest = find_duration(text)
    except DateParseError:
        return None, text
    if length is None:
        # "1h30 à ranger": the grammar leaves a length followed by "à" alone (it could open a range).
        match = _PLAIN_LENGTH.search(text)
        if match is None:
            return None, text
        if match["h"]:
            length = timedelta(hours=int(match["h"]), minutes=int(match["m"] or 0))
        else:
            length = timedelta(minutes=int(match["min"]))
        rest = re.sub(r"\s+", " ", text[: match.start()] + " " + text[match.end():]).strip()
    minutes = int(length.total_seconds() // 60)
    return (minutes, rest) if 0 < minutes <= 24 * 60 else (None, text)


_PLAIN_LENGTH = re.compile(r"(?<![\w:/-])(?:(?P<h>\d{1,2}) ?h(?P<m>[0-5]\d)?|(?P<min>\d{1,3}) ?min)(?![\w:/-])",
                           re.IGNORECASE)


_REF_RE = re.compile(r"(?:#|\bn° ?|\bno\.? |\bnumero |\bnum |\bnumber |\bnr )(\d{1,9})\b")
# A bare number is a booking's, event's or shift's only right after a word that says so ("annule la 2",
# "booking 2"); "du 26", "le 5" are days, read by the date grammar.
_BARE_NUMBER_RE = re.compile(
    r"(?<![^\s'])(?:la|booking|reservation|resa|shift|creneau|perm|permanence|evenement|event|atelier|n|nr|nb)"
    r" (\d{1,6})(?![\w:/.-])|^(\d{1,6})$"
)


def find_reference(text: str, bare: bool) -> tuple[int | None, str]:
    """'#3', 'n°3', 'numéro 3' (and with ``bare``, a lone '3'): the number of a booking, event or shift."""
    folded = fold(text)
    match = _REF_RE.search(folded) or (_BARE_NUMBER_RE.search(folded) if bare else None)
    if match is None:
        return None, text
    number = next(g for g in match.groups() if g is not None)
    start = match.start(match.lastindex or 1)
    return int(number), re.sub(r"\s+", " ", text[:start] + " " + text[match.end():]).strip()


def content_words(text: str) -> list[str]:
    """Folded words that carry meaning: no articles, prepositions or politeness."""
    out = []
    for word in re.split(r"[\s'’-]+", fold(text)):
        word = word.strip(_PUNCT_EDGES)
        if word and word not in W.SMALL_WORDS and word not in W.FILLER_WORDS:
            out.append(word)
    return out


def strip_span(text: str, span: tuple[int, int] | None) -> str:
    if span is None:
        return text
    return re.sub(r"\s+", " ", text[: span[0]] + " " + text[span[1]:]).strip()


_LEADING_SMALL = re.compile(
    r"^(?:(?:de|du|des|a|à|au|aux|pour|que|to|that|of|for|me|moi|le|la|les|sur|on|about|en|et|and|at|in|the|with|avec)(?:\s+|$)"
    r"|(?:d|qu|m|l)'\s*)+",
    re.IGNORECASE,
)
_TRAILING_SMALL = re.compile(r"(?:\s+(?:de|du|des|a|à|au|pour|le|la|les|the|on|at|et|and|s'il|please))+$",
                             re.IGNORECASE)


def tidy_free_text(text: str) -> str:
    """What is left of a sentence as a description: no leading 'de', 'd'', 'to'; no politeness."""
    kept = [w for w in text.split() if fold(w) not in W.FILLER_WORDS]
    text = " ".join(kept)
    previous = None
    while previous != text:
        previous = text
        text = _LEADING_SMALL.sub("", text).strip()
        text = _TRAILING_SMALL.sub("", text).strip()
    return text


@dataclass
class Sentence:
    """One sentence read: the request it names and the pieces found in it."""

    text: str
    folded: str
    intent: str | None
    moment: Moment = field(default_factory=Moment)
    duration: int | None = None
    reference: int | None = None
    rest: str = ""
