"""Pieces that name things in the database: a space, a member."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.core import vocabulary as V
from bot.core.errors import UserError
from bot.core.grammar.args import LEADING, MARKED, REST, Arg
from bot.core.grammar.pieces import squash, strip_fillers
from bot.core.i18n import N_
from storage.models import Member
from storage.spaces import (
    AmbiguousSpace,
    S,
    SpaceIndex,
    SpaceNotFound,
    SpaceView,
    index_of,
    key_of,
    match_space,
    space_index,
    split_space_and_rest,
)

if TYPE_CHECKING:
    from bot.core.context import Ctx

_STRONG_MARKER = re.compile(r"(?:^|(?<=\s))(?:(?:lieu|espace|space|room)(?:\s*[:=]\s*|\s+)|@\s*)", re.IGNORECASE)
_WEAK_MARKER = re.compile(r"(?:^|(?<=\s))(?:at|in|dans|à|au|en)\s+", re.IGNORECASE)


def space_error(ctx: Ctx, error: LookupError) -> UserError:
    """A space that was named but can't be told apart, or isn't known."""
    if isinstance(error, AmbiguousSpace):
        names = ", ".join(f"{s.name} ({s.slug})" for s in error.candidates[:5])
        return UserError(ctx._("Several spaces match “{query}”: {names}. Which one?")
                         .format(query=error.query[:40], names=names))
    assert isinstance(error, SpaceNotFound)
    if error.suggestions:
        names = ", ".join(s.slug for s in error.suggestions)
        return UserError(ctx._("I don't know the space “{query}”. Did you mean {names}?")
                         .format(query=error.query[:40], names=names))
    return UserError(ctx._("I don't know the space “{query}”. /spaces lists them.").format(query=error.query[:40]))


def find_space(spaces: Sequence[S] | SpaceIndex[S], text: str) -> tuple[S, str]:
    """The space the text starts with, articles and fillers ignored ('la salle de réunion demain',
    "l'open space", 'un poste en coworking'): the longest leading words naming exactly one space."""
    spaces = index_of(spaces)
    text = strip_fillers(text)
    try:
        space, rest = split_space_and_rest(spaces, text)
    except SpaceNotFound as not_found:
        found = _english_space(spaces, text)
        if found is None:
            raise not_found from None
        return found
    longer = _english_space(spaces, text)  # "laser cutter friday": the same space, named by more words
    if longer is not None and longer[0] is space and len(longer[1]) < len(rest):
        return longer
    return space, rest


def _trailing_space(spaces: SpaceIndex[S], text: str) -> tuple[S | None, str]:
    """'… 12 places salle de réunion': a space's whole name or slug ending the text, without "lieu" before
    it (only a whole name: the words of a title or a description never end up read as a space)."""
    words = text.split()
    exact = spaces.exact
    for count in range(min(len(words), 6), 0, -1):
        tail = strip_fillers(" ".join(words[-count:]))
        found = exact.get(key_of(tail))
        if found is not None and tail:
            return found, " ".join(words[:-count])
    return None, text


def _english_space(spaces: SpaceIndex[S], text: str) -> tuple[S, str] | None:
    """'meeting room next monday …' -> (Salle de réunion, 'next monday …'): the leading words read through
    the English words of space names (vocabulary.SPACE_WORDS_EN), when that names exactly one space."""
    words = text.split()
    translated = [V.SPACE_WORDS_EN.get(V.fold(w), V.fold(w)) for w in words[:6]]
    if translated == [V.fold(w) for w in words[:6]]:
        return None  # nothing English in it: what was typed was already tried
    for count in range(len(translated), 0, -1):
        if V.fold(words[count - 1]) not in V.SPACE_WORDS_EN and count > 1:
            continue  # the space's words end with a word read through the table, not with the day
        try:
            space = match_space(spaces, " ".join(translated[:count]))
        except (SpaceNotFound, AmbiguousSpace):
            continue
        return space, " ".join(words[count:])
    return None


class SpaceArg(Arg):
    """A space by slug or name, accents, case and articles ignored. ``marked``: only after "lieu",
    "espace", "space", "room" or "@" (anywhere), and with ``weak`` after "à", "at", "in", "dans" when
    what follows names a space."""

    label = N_("<space>")

    def __init__(self, name: str, *, marked: bool = False, weak: bool = False, include_closed: bool = False,
                 **kwargs: Any) -> None:
        if marked:
            kwargs.setdefault("optional", True)
        super().__init__(name, **kwargs)
        self.marked = marked
        self.weak = weak
        self.include_closed = include_closed
        self.stage = MARKED if marked else LEADING

    def usage(self, ctx_t: Any) -> str:
        text = ctx_t.gettext(self.label)
        if self.marked:
            text = ctx_t.gettext(N_("lieu <space>"))
        return f"[{text}]" if self.shown_optional and not text.startswith("[") else text

    def read(self, ctx: Ctx, text: str) -> tuple[SpaceView | None, str]:
        """Found in the catalog of spaces held in memory (storage.catalog: checked against the database at
        each use): exact slugs and names by dict, words compared only when nothing is exact."""
        if not text:
            return None, text
        spaces = space_index(ctx.session, include_closed=self.include_closed)
        if not self.marked:
            try:
                return find_space(spaces, text)
            except (SpaceNotFound, AmbiguousSpace) as error:
                raise space_error(ctx, error) from None
        match = _STRONG_MARKER.search(text)
        if match:
            try:
                space, rest = find_space(spaces, text[match.end():])
            except (SpaceNotFound, AmbiguousSpace) as error:
                raise space_error(ctx, error) from None
            return space, squash(f"{text[: match.start()]} {rest}")
        if self.weak:
            for weak in _WEAK_MARKER.finditer(text):
                try:
                    space, rest = find_space(spaces, text[weak.end():])
                except (SpaceNotFound, AmbiguousSpace):
                    continue
                return space, squash(f"{text[: weak.start()]} {rest}")
            return _trailing_space(spaces, text)
        return None, text

    def render(self, value: Any) -> str:
        slug = value.slug if isinstance(value, SpaceView) else str(value)
        return f"lieu {slug}" if self.marked else slug

    def sample(self) -> str | None:
        return self._sample if self._sample is not None else self.render("salle-reunion")


class MemberArg(Arg):
    """A member, as ``bot.core.member_refs`` finds them (mention, #number, account, then a name that can
    mean only one member; otherwise a choice with buttons): what is left of the text, quotes removed."""

    default_sample: str | None = 'alice'

    stage: float = REST
    label = N_("<member>")

    def read(self, ctx: Ctx, text: str) -> tuple[Member | None, str]:
        who = text.strip("\"“”«» ")
        if not who:
            return None, text
        from bot.core.member_refs import one_member_named

        return one_member_named(ctx, who), ""

    def render(self, value: Any) -> str:
        return value.display_name if isinstance(value, Member) else str(value)
