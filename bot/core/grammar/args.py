"""Typed argument pieces declared on commands (maubot's ``@command.argument``, aiogram's filters).

A command declares what it takes, e.g. ``args=(SpaceArg("space"), WhenArg("when"))``; the router reads
the text with those pieces and calls ``handler(ctx, space=..., when=...)``. The same declaration writes
the usage line, ``/help <command>`` and the button commands, so they always agree with what is read.

Each piece takes what it understands out of the text and returns the rest. Pieces run in stages, so
that the unambiguous ones go first whatever the order people type things in:

(-1. an item number, always read first from the start: "/event edit 12 places 20";)
0. MARKED: things that announce themselves anywhere ("« titre »", "#projet", "12 places", "lieu X");
1. LEADING: things read from the start (an item number, a space, a keyword, a duration);
2. FOUND: things found anywhere by a scanner (a date in a task description);
3. REST: what is left (a moment, free text, a member's name).

Inside a stage pieces read in the order declared, unless a piece says otherwise (``order=``); the
usage line always shows them in the order declared. Whatever is left after the last piece is not
silently dropped: the command answers that it did not understand it, with its usage.

A plain ``def cmd(ctx, args: str)`` declared with ``router.command`` still reads its own text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.core.errors import UsageError, UserError
from bot.core.grammar.pieces import (
    GrammarError,
    has_quote,
    keyword_table,
    squash,
    take_capacity,
    take_keyword,
    take_number,
    take_quoted,
    take_tag,
)
from bot.core.i18n import N_

if TYPE_CHECKING:
    from bot.core.context import Ctx
    from bot.core.i18n import Translator

MARKED, LEADING, FOUND, REST = 0, 1, 2, 3


class Arg:
    """One typed piece of a command's arguments. Subclasses implement ``read``."""

    stage: float = LEADING
    label = N_("<value>")

    def __init__(self, name: str, *, optional: bool = False, question: str | None = None,
                 label: str | None = None, example: str | None = None, shown_optional: bool | None = None,
                 hidden: bool = False, order: float | None = None, sample: str | None = None) -> None:
        self.name = name
        self._sample = sample  # a text this piece reads, for the examples the tests write from the usage
        # ``order``: when this piece reads, if not at its kind's stage (a feature whose pieces overlap
        # orders them itself: a description's quotes before the title's).
        self._order = order
        self.hidden = hidden  # read but not shown in the usage (a Telegram /start payload)
        self.optional = optional
        # A piece the handler asks for itself (with a better question) is optional for the parser only.
        self.shown_optional = optional if shown_optional is None else shown_optional
        self.question = question  # English msgid, asked when a required piece is missing
        if label is not None:
            self.label = label
        self._example = example

    @property
    def position(self) -> float:
        return self.stage if self._order is None else self._order

    def read(self, ctx: Ctx, text: str) -> tuple[Any, str]:
        raise NotImplementedError

    def take(self, ctx: Ctx, text: str) -> tuple[Any, str]:
        value, rest = self.read(ctx, squash(text))
        if value is None and not self.optional:
            raise UsageError(ctx._(self.question or N_("Something is missing.")))
        return value, squash(rest)

    def usage(self, t: Translator) -> str:
        if self.hidden:
            return ""
        text = t.gettext(self.label)
        return f"[{text}]" if self.shown_optional and not text.startswith("[") else text

    def example(self, t: Translator) -> str | None:
        return t.gettext(self._example) if self._example else None

    def render(self, value: Any) -> str:
        """The canonical text for ``value`` (for button commands)."""
        return str(value)

    def sample(self) -> str | None:
        """A text this piece reads (None: none to offer), to write an example from the usage."""
        return self._sample if self._sample is not None else self.default_sample

    default_sample: str | None = None


class NumberArg(Arg):
    """An item number: 12, #12, n°12, n° 12, no 12, N°12 (the bot writes "n° 1", people retype it).
    Read first, before any piece that could take a number ("/event edit 12 places 20")."""

    default_sample: str | None = '12'

    stage: float = MARKED - 1
    label = N_("<number>")

    def read(self, ctx: Ctx, text: str) -> tuple[int | None, str]:
        number, rest = take_number(text)
        if number is None and not self.optional and text:
            raise UsageError(ctx._(self.question or N_("Which one? Give its number.")))
        return number, rest


class TitleArg(Arg):
    """A quoted title (straight or curly quotes, « guillemets »), anywhere, or with ``leading`` only at
    the start; with ``first_word`` an unquoted first word is the title too (never a ``key=value``)."""

    default_sample: str | None = '"Repair café"'

    stage: float = MARKED
    label = N_('"<title>"')

    def __init__(self, name: str, *, first_word: bool = False, after: str | None = None, leading: bool = False,
                 max_length: int = 200, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.first_word = first_word
        self.after = after
        self.leading = leading
        self.max_length = max_length
        if leading:
            self.stage = LEADING

    def read(self, ctx: Ctx, text: str) -> tuple[str | None, str]:
        title: str | None = None
        rest = text
        if not self.leading or text[:1] in "\"“«„":
            try:
                title, rest = take_quoted(text, after=self.after)
            except GrammarError:
                raise UserError(ctx._("A quote is not closed.")) from None
        if title is None and self.first_word and text and not has_quote(text.partition(" ")[0]):
            first, _, remainder = text.partition(" ")
            if "=" not in first:
                title, rest = first, remainder
        if title is not None and self.after is None and not self.leading and has_quote(rest):
            raise UserError(ctx._("A quote is not closed."))
        if title is not None:
            title = title[: self.max_length].strip() or None
        return title, rest

    def render(self, value: Any) -> str:
        return f'"{value}"'


class CapacityArg(Arg):
    """How many people: "12 places", "places 12", "pour 40 personnes", "seats 80", "x2"; a bare
    trailing number too when ``bare_at_end``."""

    default_sample: str | None = '12 places'

    stage: float = MARKED
    label = N_("[N places]")

    def __init__(self, name: str, *, bare_at_end: bool = False, maximum: int = 10000, error: str | None = None,
                 **kwargs: Any) -> None:
        kwargs.setdefault("optional", True)
        super().__init__(name, **kwargs)
        self.bare_at_end = bare_at_end
        self.maximum = maximum
        self.error = error or N_("The number of places must be between 1 and {max}.")
        if bare_at_end:
            self.stage = MARKED + 0.5  # after the other marked pieces: the trailing number is then really last

    def read(self, ctx: Ctx, text: str) -> tuple[int | None, str]:
        try:
            return take_capacity(text, bare_at_end=self.bare_at_end, maximum=self.maximum)
        except GrammarError:
            raise UserError(ctx._(self.error).format(max=self.maximum)) from None

    def usage(self, t: Translator) -> str:
        return t.gettext(self.label) if self.shown_optional else t.gettext(self.label).strip("[]")

    def render(self, value: Any) -> str:
        return f"{value} places"


class ProjectArg(Arg):
    """One #project anywhere in the text."""

    default_sample: str | None = '#cafe'

    stage: float = MARKED
    label = N_("#project")

    def __init__(self, name: str, **kwargs: Any) -> None:
        kwargs.setdefault("optional", True)
        super().__init__(name, **kwargs)

    def read(self, ctx: Ctx, text: str) -> tuple[str | None, str]:
        try:
            return take_tag(text)
        except GrammarError:
            raise UserError(ctx._("One project per entry, please.")) from None

    def render(self, value: Any) -> str:
        return f"#{value}"


class KeywordArg(Arg):
    """One of a few words, French or English synonyms: ``{"week": ["semaine"], "month": ["mois"]}``.
    The handler receives the canonical (first) word. ``anywhere``: a flag such as "force"."""

    label = N_("<word>")

    def __init__(self, name: str, words: Mapping[str, Iterable[str]], *, anywhere: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.words = {k: tuple(v) for k, v in words.items()}
        self.table = keyword_table(self.words)
        self.anywhere = anywhere
        if anywhere:
            self.stage = MARKED

    def read(self, ctx: Ctx, text: str) -> tuple[str | None, str]:
        return take_keyword(text, self.table, anywhere=self.anywhere)

    def sample(self) -> str | None:
        return self._sample if self._sample is not None else next(iter(self.words))

    def usage(self, t: Translator) -> str:
        if self.label != Arg.label and self.label != KeywordArg.label:
            return super().usage(t)
        choices = "|".join(self.words)
        return f"[{choices}]" if self.shown_optional else choices


class FlagArg(Arg):
    """A word that switches something on, anywhere: ``FlagArg("force", ["forcer"])`` -> True/False."""

    stage: float = MARKED

    def __init__(self, name: str, synonyms: Iterable[str] = (), *, leading: bool = False, **kwargs: Any) -> None:
        kwargs["optional"] = True
        super().__init__(name, **kwargs)
        self.table = keyword_table({name: tuple(synonyms)})
        self.leading = leading
        if leading:
            self.stage = LEADING

    def read(self, ctx: Ctx, text: str) -> tuple[bool | None, str]:
        word, rest = take_keyword(text, self.table, anywhere=not self.leading)
        return (True if word else None), rest

    def take(self, ctx: Ctx, text: str) -> tuple[bool, str]:
        value, rest = super().take(ctx, text)
        return bool(value), rest

    def sample(self) -> str | None:
        return self._sample if self._sample is not None else self.name

    def usage(self, t: Translator) -> str:
        return t.gettext(self.label) if self.label != Arg.label else f"[{self.name}]"


class WordArg(Arg):
    """One word, at the start or (``last=True``) at the end: a qualification, a slug."""

    default_sample: str | None = 'laser'

    label = N_("<word>")

    def __init__(self, name: str, *, last: bool = False, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.last = last
        if last:
            self.stage = MARKED

    def read(self, ctx: Ctx, text: str) -> tuple[str | None, str]:
        words = text.split(" ") if text else []
        if not words or (self.last and len(words) < 2 and not self.optional):
            return None, text
        if self.last:
            return words[-1], " ".join(words[:-1])
        return words[0], " ".join(words[1:])


class TextArg(Arg):
    """Whatever is left: an announcement, a description."""

    default_sample: str | None = 'tri des dons'

    stage: float = REST
    label = N_("<text>")

    def __init__(self, name: str, *, max_length: int | None = None, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.max_length = max_length

    def read(self, ctx: Ctx, text: str) -> tuple[str | None, str]:
        if not text:
            return None, ""
        if self.max_length is not None and len(text) > self.max_length:
            raise UserError(ctx._("Please say it in {n} characters at most.").format(n=self.max_length))
        return text, ""


class RawArg(TextArg):
    """The rest as typed (possibly empty), for pieces of grammar a handler reads itself."""

    default_sample: str | None = ''

    def __init__(self, name: str, **kwargs: Any) -> None:
        kwargs["optional"] = True
        super().__init__(name, **kwargs)

    def read(self, ctx: Ctx, text: str) -> tuple[str, str]:
        return text, ""

    def take(self, ctx: Ctx, text: str) -> tuple[str, str]:
        return squash(text), ""


class CustomArg(Arg):
    """A piece read by a pure function ``read(ctx, text) -> (value | None, rest)`` owned by a feature
    (an event's recurrence, its end): declared like the others, so it shows in the usage."""

    def __init__(self, name: str, reader: Callable[[Ctx, str], tuple[Any, str]], *, stage: float = MARKED,
                 **kwargs: Any) -> None:
        kwargs.setdefault("optional", True)
        super().__init__(name, **kwargs)
        self.reader = reader
        self.stage = stage

    def read(self, ctx: Ctx, text: str) -> tuple[Any, str]:
        return self.reader(ctx, text)


@dataclass(frozen=True)
class Parsed:
    """What a command's pieces read: values by name, and the words nobody took."""

    values: dict[str, Any]
    leftover: str


def read_args(ctx: Ctx, args: Iterable[Arg], text: str) -> Parsed:
    """Run the pieces stage by stage (declaration order inside a stage)."""
    pieces = list(args)
    values: dict[str, Any] = {}
    rest = squash(text)
    for stage in sorted({arg.position for arg in pieces}):
        for arg in pieces:
            if arg.position == stage:
                values[arg.name], rest = arg.take(ctx, rest)
    return Parsed(values, rest)


def duration_minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)
