"""Translations (gettext catalogs managed with Babel) and locale-aware formatting of dates and times.

Message ids are English. French lives in ``bot/locale/fr/LC_MESSAGES/*.po`` (one catalog per area:
core and handlers in ``messages.po``, each adapter in its own); the catalogs are merged and compiled
in memory at first use, so a stale ``.mo`` can never be shipped.
"""

from __future__ import annotations

import gettext
from datetime import UTC, date, datetime, time
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

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


@cache
def _translations(language: str) -> gettext.NullTranslations:
    po_paths = sorted((LOCALE_DIR / language / "LC_MESSAGES").glob("*.po"))
    if not po_paths:
        return gettext.NullTranslations()
    catalog = None
    for po_path in po_paths:
        with po_path.open("rb") as po_file:
            part = read_po(po_file, locale=language)
        if catalog is None:
            catalog = part
            continue
        for message in part:
            if message.id and message.string:
                catalog[message.id] = message
    assert catalog is not None
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class Translator:
    """Everything a reply needs to speak the member's language."""

    def __init__(self, language: str, tz: ZoneInfo) -> None:
        self.language = language
        self.locale = Locale.parse(language)
        self.tz = tz
        self._t = _translations(language)

    def gettext(self, message: str) -> str:
        return self._t.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._t.ngettext(singular, plural, n)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def fmt_day(self, day: date) -> str:
        """'mardi 1 décembre' / 'Tuesday 1 December'."""
        return format_date(day, "EEEE d MMMM", locale=self.locale)

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
