"""Every user-facing text exists in French, with the same placeholders as the English."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.core.i18n import Translator
from bot.core.router import CommandTable
from handlers import all_routers

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def source_messages() -> set[str | tuple[str, ...]]:
    found: set[str | tuple[str, ...]] = set()
    for folder in ("bot", "handlers", "storage"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, keywords=KEYWORDS, comment_tags=()
        ):
            found.add(message if isinstance(message, str) else tuple(message))
    return found


def french_catalog() -> dict[str | tuple[str, ...], str | tuple[str, ...]]:
    catalog: dict[str | tuple[str, ...], str | tuple[str, ...]] = {}
    for po in sorted((ROOT / "bot" / "locale" / "fr" / "LC_MESSAGES").glob("*.po")):
        for message in read_po(po.open("rb")):
            if message.id:
                key = message.id if isinstance(message.id, str) else tuple(message.id)
                catalog[key] = message.string if isinstance(message.string, str) else tuple(message.string)
    return catalog


def test_every_message_in_the_code_has_a_french_translation() -> None:
    catalog = french_catalog()
    missing = [m for m in source_messages() if not catalog.get(m) or not all(catalog[m])]
    assert missing == []


def test_translations_keep_the_placeholders() -> None:
    for msgid, msgstr in french_catalog().items():
        ids = [msgid] if isinstance(msgid, str) else list(msgid)
        strs = [msgstr] if isinstance(msgstr, str) else list(msgstr)
        expected = set(PLACEHOLDER.findall(ids[-1]))
        for text in strs:
            assert set(PLACEHOLDER.findall(text)) <= expected | {"{n}"}, (msgid, text)
            assert expected <= set(PLACEHOLDER.findall(text)) | {"{n}"}, (msgid, text)


def test_every_command_has_a_french_alias_and_translated_help() -> None:
    from zoneinfo import ZoneInfo

    french = Translator("fr", ZoneInfo("Europe/Paris"))
    for command in CommandTable(all_routers()).commands:
        assert command.aliases, f"/{command.name} has no French alias"
        assert french.gettext(command.help) != command.help, command.name


def test_dates_are_written_the_french_or_english_way() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    start, end = datetime(2026, 12, 1, 13, tzinfo=UTC), datetime(2026, 12, 1, 15, tzinfo=UTC)
    assert Translator("fr", ZoneInfo("Europe/Paris")).fmt_range(start, end) == "mardi 1 décembre, 14:00–16:00"
    assert Translator("en", ZoneInfo("Europe/Paris")).fmt_range(start, end) == "Tuesday 1 December, 14:00–16:00"
