"""Templates and languages for the web pages.

Jinja2 autoescapes every ``{{ value }}`` in the .html templates, so a title or a description typed in the
chat is shown as text, never as markup. Template strings go through the same gettext catalogs as the chat
(French in ``bot/locale/fr/LC_MESSAGES/site.po``): templates call ``_()`` and ``ngettext()``, which
tests/test_site.py extracts with Babel's Jinja2 extractor."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.core.i18n import LANGUAGES, Translator, normalise_language, translator_for

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"

if TYPE_CHECKING:
    from jinja2 import Environment


@cache
def environment() -> Environment:
    """Built at the first page served: a bot nobody visits the site of never loads Jinja2 (issue 15)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.filters["capfirst"] = lambda value: value[:1].upper() + value[1:]
    return env


def render(template: str, t: Translator, **values: Any) -> str:
    return environment().get_template(template).render(_=t.gettext, ngettext=t.ngettext, t=t, lang=t.language,
                                                       **values)


def choose_language(query: str | None, cookie: str | None, accept: str | None, default: str) -> str:
    """?lang= first (the page's switch), then the cookie it leaves, then the browser's Accept-Language
    (by its q-values), then the bot's LANGUAGE."""
    for hint in (query, cookie):
        chosen = normalise_language(hint)
        if chosen:
            return chosen
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        language = normalise_language(tag)
        if language and quality > 0:
            ranked.append((-quality, index, language))
    return sorted(ranked)[0][2] if ranked else (default if default in LANGUAGES else "fr")


def translator(language: str, timezone: str) -> Translator:
    return translator_for(language, timezone)
