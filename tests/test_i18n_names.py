"""The day and month names written out in bot/core/i18n.py are Babel's, for every day of a year in each of
our languages; writing them out spares a running bot Babel's locale data (~4 MiB, issue 15)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from babel.dates import format_date

from bot.core.i18n import LANGUAGES, NAMES, names_of, translator_for
from handlers.spaces import weekday_names

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_written_out_names_are_babels_for_every_day_of_a_year(language: str) -> None:
    assert language in NAMES
    t = translator_for(language, "Europe/Paris")
    for n in range(366):
        day = date(2028, 1, 1) + timedelta(days=n)
        assert t.fmt_day(day) == format_date(day, "EEEE d MMMM", locale=language)
        assert t.fmt_short_day(day) == format_date(day, "EEE d", locale=language)
        assert t.fmt_month(day) == format_date(day, "LLLL yyyy", locale=language)
    monday = date(2028, 1, 3)
    assert weekday_names(t, "wide") == tuple(format_date(monday + timedelta(days=n), "EEEE", locale=language)
                                             for n in range(7))
    assert weekday_names(t) == tuple(format_date(monday + timedelta(days=n), "EEE", locale=language)
                                     for n in range(7))


def test_another_language_takes_its_names_from_babel() -> None:
    names = names_of("de")
    assert names.weekdays[0] == "Montag" and names.standalone_months[2] == "März"


def test_days_and_months_are_named_without_loading_babels_locale_data() -> None:
    probe = ("import sys; sys.path.insert(0, '.'); from datetime import date; "
             "from bot.core.i18n import translator_for; from handlers.spaces import weekday_names; "
             "import babel.localedata as data, babel.core as core\n"
             "for language in ('fr', 'en'):\n"
             "    t = translator_for(language, 'Europe/Paris')\n"
             "    t.fmt_day(date(2026, 12, 1)); t.fmt_short_day(date(2026, 12, 1)); t.fmt_month(date(2026, 12, 1))\n"
             "    weekday_names(t); weekday_names(t, 'wide')\n"
             "print(sorted(data._cache), core._global_data is None)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120,
                         cwd=ROOT).stdout.split("\n")[0]
    assert out == "[] True"
