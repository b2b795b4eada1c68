"""Translations (gettext catalogs managed with Babel) and locale-aware formatting of dates and times.

Message ids are English. French lives in ``bot/locale/fr/LC_MESSAGES/*.po`` (one catalog per area:
core and handlers in ``messages.po``, each adapter in its own); the catalogs are merged and compiled
in memory at first use, so a stale ``.mo`` can never be shipped. They are read by ``read_catalog`` below, not
by Babel's .po parser: the same messages (tests/test_footprint.py compares them), in a few milliseconds
instead of ~0.1 s, which the console chat's first answer waited for (issue 15).
"""

from __future__ import annotations

import gettext
import re
import struct
from datetime import UTC, date, datetime, time
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("fr", "en")


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, where the reader's language is known."""
    return message


def normalise_language(hint: str | None) -> str | None:
    """'fr-FR', 'fr_CA', 'FR' -> 'fr'; anything we don't speak -> None."""
    if not hint:
        return None
    code = hint.strip().replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else None


_ESCAPE = re.compile(r'\\([\\trn"])')
_UNESCAPED = {"n": "\n", "t": "\t", "r": "\r"}
Entry = tuple[str, tuple[str, ...], bool]  # msgid ("singular\0plural" for a plural), msgstr(s), fuzzy


def _unquote(line: str) -> str:
    """The text of one quoted .po string, escapes resolved as Babel does (\\n \\t \\r \\" \\\\)."""
    return _ESCAPE.sub(lambda m: _UNESCAPED.get(m.group(1), m.group(1)), line.strip()[1:-1])


def read_catalog(text: str) -> list[Entry]:
    """The entries of a .po file, in order (the header first): what Babel's ``read_po`` reads from the
    catalogs we write (msgid, msgid_plural, msgstr, msgstr[n], continuation lines, ``#, fuzzy``; obsolete
    ``#~`` entries skipped; no msgctxt is used here)."""
    entries: list[Entry] = []
    msgid: list[str] = []
    plural: list[str] | None = None
    strings: dict[int, list[str]] = {}
    fuzzy = next_fuzzy = False
    current: list[str] | None = None

    def finish() -> None:
        nonlocal msgid, plural, strings, current
        if current is not None:
            key = "".join(msgid) if plural is None else "".join(msgid) + "\0" + "".join(plural)
            entries.append((key, tuple("".join(strings[n]) for n in sorted(strings)), fuzzy))
        msgid, plural, strings, current = [], None, {}, None

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            if line.startswith("#,") and "fuzzy" in line[2:].replace(",", " ").split():
                next_fuzzy = True
            continue
        if line.startswith('"'):
            if current is not None:
                current.append(_unquote(line))
            continue
        keyword, _, rest = line.partition(" ")
        if keyword == "msgid":
            if strings:
                finish()
            fuzzy, next_fuzzy = next_fuzzy, False
            msgid = current = [_unquote(rest)]
        elif keyword == "msgid_plural":
            plural = current = [_unquote(rest)]
        elif keyword == "msgstr" or keyword.startswith("msgstr["):
            index = int(keyword[7:-1]) if keyword != "msgstr" else 0
            strings[index] = current = [_unquote(rest)]
    if strings:
        finish()
    return entries


def _mo_bytes(messages: dict[str, str]) -> bytes:
    """A GNU .mo file of these messages (what ``gettext.GNUTranslations`` reads), as msgfmt writes it."""
    ids = sorted(messages)
    keys = [i.encode() for i in ids]
    values = [messages[i].encode() for i in ids]
    start = 7 * 4 + 16 * len(ids)
    offsets: list[int] = []
    key_blob = b"".join(k + b"\0" for k in keys)
    value_blob = b"".join(v + b"\0" for v in values)
    position = start
    for k in keys:
        offsets += [len(k), position]
        position += len(k) + 1
    position = start + len(key_blob)
    for v in values:
        offsets += [len(v), position]
        position += len(v) + 1
    key_table = offsets[:2 * len(ids)]
    value_table = offsets[2 * len(ids):]
    header = struct.pack("Iiiiiii", 0x950412DE, 0, len(ids), 7 * 4, 7 * 4 + 8 * len(ids), 0, 0)
    return header + struct.pack(f"{len(key_table)}i", *key_table) + struct.pack(
        f"{len(value_table)}i", *value_table) + key_blob + value_blob


@cache
def _translations(language: str) -> gettext.NullTranslations:
    po_paths = sorted((LOCALE_DIR / language / "LC_MESSAGES").glob("*.po"))
    if not po_paths:
        return gettext.NullTranslations()
    # As Babel's Catalog merged them: the first file's header; a msgid is kept as first read (a later one
    # only adds its plural, and its fuzzy flag); after the first file only translated entries count; the
    # compiled catalog leaves out untranslated singulars and fuzzy entries.
    merged: dict[str, Entry] = {}
    header = ""
    for number, po_path in enumerate(po_paths):
        for msgid, strings, fuzzy in read_catalog(po_path.read_text(encoding="utf-8")):
            plural = "\0" in msgid
            if not msgid:
                header = header if number else strings[0]
                continue
            if number and not (plural or strings[0]):
                continue
            key = msgid.partition("\0")[0]
            current = merged.get(key)
            if current is None:
                merged[key] = (msgid, strings, fuzzy)
            elif plural and "\0" not in current[0]:
                merged[key] = (msgid, strings, current[2] or fuzzy)
            else:
                merged[key] = (current[0], current[1], current[2] or fuzzy)
    messages = {"": header}
    messages.update({msgid: "\0".join(strings) for msgid, strings, fuzzy in merged.values()
                     if ("\0" in msgid or strings[0]) and not fuzzy})
    return gettext.GNUTranslations(BytesIO(_mo_bytes(messages)))


class Names:
    """The day and month names our date forms use, as Babel's CLDR data gives them: Monday first, January first."""

    def __init__(self, weekdays: tuple[str, ...], short_weekdays: tuple[str, ...], months: tuple[str, ...],
                 standalone_months: tuple[str, ...]) -> None:
        self.weekdays = weekdays  # "EEEE": mardi
        self.short_weekdays = short_weekdays  # "EEE": mar.
        self.months = months  # "MMMM", in a date: 1 décembre
        self.standalone_months = standalone_months  # "LLLL", on its own: décembre 2026


# Written out for LANGUAGES (tests/test_i18n_names.py compares them with Babel's for every day of a year): the
# first name asked of Babel loads the whole of its locale data and its global data, ~3.9 MiB (French; ~1.1 more
# for English) that a running bot then holds for its life, for these few words (bench_footprint, issue 15).
_FR_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre")
_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")
NAMES = {
    "fr": Names(("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
                ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."), _FR_MONTHS, _FR_MONTHS),
    "en": Names(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
                ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), _EN_MONTHS, _EN_MONTHS),
}


@cache
def names_of(language: str) -> Names:
    """The names of one of LANGUAGES from the table above; another language's from Babel."""
    found = NAMES.get(language)
    if found is not None:
        return found
    locale = Locale.parse(language)
    days, months = locale.days, locale.months
    return Names(tuple(days["format"]["wide"][n] for n in range(7)),
                 tuple(days["format"]["abbreviated"][n] for n in range(7)),
                 tuple(months["format"]["wide"][n] for n in range(1, 13)),
                 tuple(months["stand-alone"]["wide"][n] for n in range(1, 13)))


class Translator:
    """Everything a reply needs to speak the member's language."""

    def __init__(self, language: str, tz: ZoneInfo) -> None:
        self.language = language
        self.locale = Locale.parse(language)
        self.tz = tz
        self._t = _translations(language)
        self.names = names_of(language)

    def gettext(self, message: str) -> str:
        return self._t.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._t.ngettext(singular, plural, n)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def fmt_day(self, day: date) -> str:
        """'mardi 1 décembre' / 'Tuesday 1 December' (Babel's "EEEE d MMMM")."""
        names = self.names
        return f"{names.weekdays[day.weekday()]} {day.day} {names.months[day.month - 1]}"

    def fmt_day_month(self, day: date) -> str:
        """'1er décembre', '25 décembre' / '1 December': a date said in a sentence, without its weekday."""
        number = "1er" if day.day == 1 and self.language == "fr" else str(day.day)
        return f"{number} {self.names.months[day.month - 1]}"

    def fmt_short_day(self, day: date) -> str:
        """'mar. 1' / 'Tue 1' (Babel's "EEE d")."""
        return f"{self.names.short_weekdays[day.weekday()]} {day.day}"

    def fmt_month(self, day: date) -> str:
        """'décembre 2026' / 'December 2026' (Babel's "LLLL yyyy")."""
        return f"{self.names.standalone_months[day.month - 1]} {day.year:04d}"

    def fmt_time(self, moment: datetime | time) -> str:
        # 24-hour HH:MM is the form in both our locales; strftime is ~20x faster than Babel here.
        if isinstance(moment, datetime):
            # /free shows the same few hours hundreds of times. Cached by the UTC instant: two local times of
            # a zone's repeated hour compare equal (fold is ignored within a zone) though they are an hour apart.
            return _local_hhmm(moment if moment.tzinfo is UTC else moment.astimezone(UTC), self.tz)
        return moment.strftime("%H:%M")

    def fmt_datetime(self, moment: datetime) -> str:
        local = self.local(moment)
        return f"{self.fmt_day(local.date())}, {self.fmt_time(local)}"

    def fmt_range(self, start: datetime, end: datetime) -> str:
        """'mardi 1 décembre, 14:00–16:00'; a range over midnight names both days."""
        ls, le = self.local(start), self.local(end)
        if ls.date() == le.date():
            return f"{self.fmt_day(ls.date())}, {self.fmt_time(ls)}–{self.fmt_time(le)}"
        return f"{self.fmt_datetime(start)} – {self.fmt_datetime(end)}"

    def fmt_duration(self, minutes: int) -> str:
        hours, mins = divmod(int(minutes), 60)
        if hours and mins:
            return f"{hours}h{mins:02d}"
        if hours:
            return f"{hours}h"
        return f"{mins} min"


@lru_cache(maxsize=64)
def translator_for(language: str, timezone: str) -> Translator:
    return Translator(language, ZoneInfo(timezone))


@lru_cache(maxsize=4096)
def _local_hhmm(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%H:%M")
