"""The pure part of the argument grammar: each reader takes what it understands out of a text and
returns it with the rest. No database, no chat: property-tested (tests/test_grammar_pieces.py).

Readers raise only ``GrammarError`` (a ValueError with a ``code``); the pieces in ``args.py`` turn
that into a sentence in the member's language.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache


class GrammarError(ValueError):
    """``code``: unclosed_quote, two_projects, bad_capacity."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@lru_cache(maxsize=16384)
def fold(text: str) -> str:
    """Case- and accent-insensitive key: 'Réunion' -> 'reunion'. Remembered: the same words (command and
    subcommand names, vocabulary, space names) are folded at every command."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def squash(text: str) -> str:
    """One space between words (line breaks kept, for free text), none at the ends; typographic
    apostrophes made straight."""
    text = re.sub(r"[^\S\n]+", " ", text.replace("’", "'"))
    return re.sub(r" ?\n ?", "\n", text).strip()


def _cut(text: str, start: int, end: int) -> str:
    return squash(text[:start] + " " + text[end:])


# --- Item numbers: 12, #12, n°12, n° 12, no 12, N°12, nº12, numéro 12 ------------------------------------

_NUMBER_RE = re.compile(
    r"^(?:#\s*|n\s*[°º]\s*|no\.?\s+|num(?:e|é)ro\s+|number\s+)?(?P<n>[0-9]{1,12})(?=$|\s|[.,;:!?)](?:\s|$))",
    re.IGNORECASE,
)


def take_number(text: str) -> tuple[int | None, str]:
    """A leading item number as the bot writes it or people retype it."""
    text = squash(text)
    match = _NUMBER_RE.match(text)
    if match is None:
        return None, text
    return int(match["n"]), squash(text[match.end():].lstrip(".,;:!?"))


# --- Quoted titles: "…", “…”, « … », '…' is not a quote (apostrophes are everywhere in French) --------------

_OPENING = "\"“«„"
_CLOSING = {"\"": "\"“”", "“": "”\"", "«": "»", "„": "“”\""}


def take_quoted(text: str, *, after: str | None = None) -> tuple[str | None, str]:
    """The first quoted phrase (straight or curly quotes, French guillemets), optionally only right
    after a keyword (``after`` is a regex such as ``desc(?:ription)?``). An opening quote never closed
    is an error, so that the rest is not misread."""
    text = squash(text)
    prefix = rf"(?:(?<=\s)|^)(?:{after})\s*[:=]?\s*" if after else ""
    opening = re.compile(prefix + "[" + re.escape(_OPENING) + "]", re.IGNORECASE)
    match = opening.search(text)
    if match is None:
        return None, text
    quote = text[match.end() - 1]
    close = re.compile("[" + re.escape(_CLOSING[quote]) + "]")
    end = close.search(text, match.end())
    if end is None:
        raise GrammarError("unclosed_quote")
    inside = squash(text[match.end(): end.start()])
    return inside, _cut(text, match.start(), end.end())


def has_quote(text: str) -> bool:
    return any(c in text for c in "\"“”«»„")


# --- Capacity: 12 places, places 12, pour 40 personnes, seats 80, x2, 2 bénévoles -----------------------------

_PEOPLE = r"(?:places?|pl\.?|seats?|personnes?|pers\.?|people|persons?|b[ée]n[ée]voles?|volunteers?|participants?)"
_CAPACITY_RES = (
    re.compile(rf"(?<!\S)(?:pour|for)\s+(?P<n>\d{{1,6}})\s+{_PEOPLE}(?!\S)", re.IGNORECASE),
    re.compile(rf"(?<!\S)(?P<n>\d{{1,6}})\s*{_PEOPLE}(?!\S)", re.IGNORECASE),
    re.compile(r"(?<!\S)(?:places?|seats?|capacit[ée]|capacity|max)\s*[:=]?\s*(?P<n>\d{1,6})(?!\S)", re.IGNORECASE),
    re.compile(r"(?<!\S)x\s*(?P<n>\d{1,6})(?!\S)", re.IGNORECASE),
)
# A bare number at the very end ("samedi 18h-22h 2") counts as people unless a day word comes before it
# ("le 28", "jusqu'au 12", "on the 3").
_BARE_END_RE = re.compile(r"(?:^|\s)(?P<n>\d{1,3})$")
_DAY_BEFORE = {"le", "du", "au", "jusqu'au", "the", "on", "until", "till", "ce", "dimanche", "lundi", "mardi",
               "mercredi", "jeudi", "vendredi", "samedi", "monday", "tuesday", "wednesday", "thursday", "friday",
               "saturday", "sunday", "dans", "in", "pendant", "for", "pour", "durant"}


def take_capacity(text: str, *, bare_at_end: bool = False, maximum: int = 10000) -> tuple[int | None, str]:
    """How many people: a number with a word that says so, anywhere; a bare trailing number too when
    ``bare_at_end``. Out of 1..maximum is an error, never clamped."""
    text = squash(text)
    for pattern in _CAPACITY_RES:
        match = pattern.search(text)
        if match:
            return _checked(int(match["n"]), maximum), _cut(text, match.start(), match.end())
    if bare_at_end:
        match = _BARE_END_RE.search(text)
        if match:
            before = text[: match.start()].split()
            if before and fold(before[-1]) not in _DAY_BEFORE and not re.search(r"[/.-]$", before[-1]):
                return _checked(int(match["n"]), maximum), _cut(text, match.start(), match.end())
    return None, text


def _checked(number: int, maximum: int) -> int:
    if not 1 <= number <= maximum:
        raise GrammarError("bad_capacity")
    return number


# --- #project ------------------------------------------------------------------------------------------------

TAG_RE = re.compile(r"(?<![\w#])#([^\W\d][\w-]{0,63}|[0-9]+[^\W\d][\w-]{0,62})")


def normalise_tag(text: str) -> str:
    """'#Ressourcerie', 'ressourcerie ' and 'RESSOURCERIE' name the same project; accents are kept
    out of the key ('#Café' = '#cafe')."""
    folded = fold(text.strip().lstrip("#"))
    return re.sub(r"[^a-z0-9_-]+", "-", folded).strip("-")[:64]


def take_tag(text: str) -> tuple[str | None, str]:
    """One #project anywhere (an item number such as #12 is not a project); two are an error."""
    text = squash(text)
    tags = {normalise_tag(m) for m in TAG_RE.findall(text)} - {""}
    if len(tags) > 1:
        raise GrammarError("two_projects")
    if not tags:
        return None, text
    return tags.pop(), squash(TAG_RE.sub(" ", text))


# --- Keywords with synonyms ------------------------------------------------------------------------------------

def keyword_table(words: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """{canonical: synonyms} -> {folded synonym: canonical}; the canonical word is a synonym of itself."""
    table: dict[str, str] = {}
    for canonical, synonyms in words.items():
        for word in (canonical, *synonyms):
            table[fold(squash(word))] = canonical
    return table


def take_keyword(text: str, table: Mapping[str, str], *, anywhere: bool = False) -> tuple[str | None, str]:
    """A keyword (up to three words, accents and case ignored) at the start, or anywhere as a whole
    word when ``anywhere``."""
    text = squash(text)
    words = text.split(" ") if text else []
    longest = max((len(k.split()) for k in table), default=1)
    starts = range(len(words)) if anywhere else range(min(1, len(words)))
    for start in starts:
        for count in range(min(longest, len(words) - start), 0, -1):
            key = fold(" ".join(words[start: start + count])).strip(",.;:!?")
            if key in table:
                return table[key], " ".join(words[:start] + words[start + count:])
    return None, text


# --- Space references: articles and fillers go -------------------------------------------------------------------

_FILLERS = re.compile(
    r"^(?:(?:un|une)\s+(?:poste|place|bureau|table)\s+(?:en|au|a|à|dans|de)\s+(?:la\s+|l'\s*|le\s+)?"
    r"|(?:a|one)\s+(?:desk|seat|place|spot)\s+(?:in|at)\s+(?:the\s+)?"
    r"|l'\s*"
    r"|(?:la|le|les|the|un|une|a|an|au|aux|en)\s+)",
    re.IGNORECASE,
)


def strip_fillers(text: str) -> str:
    """'la salle de réunion …' -> 'salle de réunion …', "l'open space" -> 'open space',
    'un poste en coworking' -> 'coworking': an article is never read as a space name."""
    text = squash(text)
    while True:
        stripped = _FILLERS.sub("", text, count=1).lstrip()
        if stripped == text or not stripped:
            return stripped or text
        text = stripped
