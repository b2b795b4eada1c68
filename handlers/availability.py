"""What is free: /free <day> lists each space's free hours; /free <time> the spaces free then."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from operator import attrgetter
from typing import Any, cast

from bot.core.context import Ctx
from bot.core.dates import When
from bot.core.grammar.args import LEADING, CustomArg
from bot.core.grammar.moments import WhenArg
from bot.core.i18n import N_
from bot.core.router import Router
from bot.core.types import Reply
from bot.core.vocabulary import PERIOD_SPANS
from handlers.places import read_place_scope, scope
from storage.availability import (
    SpaceList,
    Stamps,
    answer,
    day_free,
    free_between,
    keep_answer,
    shown,
    space_list,
    versions,
)
from storage.catalog import space_catalog
from storage.models import Site
from storage.spaces import SpaceView

router = Router("availability")
_ID = attrgetter("id")


def _read_place(ctx: Ctx, text: str) -> tuple[Site | str | None, str]:
    """read_place_scope, without its query of the places when there is nothing to read or one place (the
    sites in memory say, storage.catalog)."""
    if not text or len(space_catalog(ctx.session).sites) < 2:
        return None, text
    return read_place_scope(ctx, text)


@router.typed("free", aliases=["dispo", "libre"], help=N_("See what is free (a day or a time)"),
              args=(CustomArg("place", _read_place, stage=LEADING, label=N_("[place|all]")),
                    WhenArg("when", need="day", optional=True, example=N_("/free tomorrow 14:00-16:00"))),
              examples=(N_("/free tomorrow"), N_("/free tomorrow 14:00-16:00")), read_only=True)
def free(ctx: Ctx, when: When | None, place: Site | str | None = None) -> Reply:
    if when is None:
        when = When(day=ctx.now.astimezone(ctx.tz).date())
    # The versions first: the spaces read after them are at least as new (a renamed space's line is then
    # filed under its version before the rename at worst, so it is made again).
    stamps = versions(ctx.session)
    catalog = space_catalog(ctx.session)  # what space_views reads; read once here
    if len(catalog.sites) < 2:  # one place: scope() would show every space and add nothing
        return _free(ctx, when, catalog.open_views, stamps)
    scoped = scope(ctx, list(catalog.open_views), place, ctx._("/free {place} tomorrow"))
    reply = _free(ctx, when, [s for _, group in scoped.groups for s in group], stamps)
    if scoped.footer:
        reply = replace(reply, text=reply.text + "\n\n" + "\n".join(scoped.footer), actions=scoped.actions)
    return reply


@dataclass(frozen=True, slots=True)
class _Listing:
    """A kept answer and what it is made of, per space in the order shown: its line ("" when nothing is free)
    and, for a day, its first free instant; a write to a few of the spaces remakes their lines only."""

    reply: Reply
    title: str
    lines: list[str]  # never changed once kept: a remade answer has its own
    firsts: list[datetime | None] | None  # a day's; None for a window
    until: datetime | None  # a day's: the earliest of ``firsts``
    whole_minutes: bool  # a day's: every space's stretches start and end on a minute


def _free(ctx: Ctx, when: When, spaces: Sequence[SpaceView], stamps: Stamps) -> Reply:
    """The answer, kept whole until a write changes a space's free hours (then remade for that space only), or,
    today, until ``now`` would clip it: storage.availability. ``stamps``: read before the spaces."""
    listed = space_list(ctx.session, spaces)
    key = (when.start, when.end, when.day, when.period, ctx.translator.language, ctx.tz, listed.number)
    found = answer(ctx.session, key, stamps, ctx.now)
    if when.start is not None:
        end = when.end or when.start + timedelta(hours=1)
        if found is not None and not found[1]:
            return cast(_Listing, found[0]).reply
        return _window(ctx, key, spaces, listed, when.start, end, stamps, found)
    if found is not None and not found[1]:
        return cast(_Listing, found[0]).reply
    # Today, once now clips a stretch: the same answer all along one minute (storage.availability.shown).
    minute = ctx.now.replace(second=0, microsecond=0)
    minute_key = (*key, minute, minute == ctx.now)
    if found is None:
        found = answer(ctx.session, minute_key, stamps, ctx.now)
        if found is not None and not found[1]:
            return cast(_Listing, found[0]).reply
    return _day(ctx, when, key, minute_key, spaces, listed, stamps, found)


def _window(ctx: Ctx, key: tuple[Any, ...], spaces: Sequence[SpaceView], listed: SpaceList, start: datetime,
            end: datetime, stamps: Stamps, found: tuple[Any, frozenset[int]] | None) -> Reply:
    """/free <time>: the spaces free over [start, end); ``found``: the kept answer with the spaces that changed
    since, remade for them only."""
    places = listed.places
    if found is None:
        todo, lines = list(spaces), [""] * len(spaces)
        title = ctx._("Free {when}").format(when=ctx.translator.fmt_range(start, end))
    else:
        kept = cast(_Listing, found[0])
        todo, lines, title = [spaces[places[sid]] for sid in found[1]], list(kept.lines), kept.title
    free_ids = set(map(_ID, free_between(ctx.session, todo, start, end, ctx.tz, stamps)))
    for space in todo:
        lines[places[space.id]] = f"• {space.name} ({space.slug})" if space.id in free_ids else ""
    text = "\n".join(filter(None, lines)) or ctx._("Nothing is free then. Try another time with /free.")
    reply = Reply(text, title=title)
    keep_answer(ctx.session, key, stamps, _Listing(reply, title, lines, None, None, True), places)  # not on now
    return reply


def _day(ctx: Ctx, when: When, key: tuple[Any, ...], minute_key: tuple[Any, ...], spaces: Sequence[SpaceView],
         listed: SpaceList, stamps: Stamps, found: tuple[Any, frozenset[int]] | None) -> Reply:
    """/free <day>: each space's free hours that day from now on (in the part of the day named, if any);
    ``found``: the kept answer with the spaces that changed since, remade for them only."""
    assert when.day is not None
    part = _part_of_day(when, ctx)
    places = listed.places
    lines: list[str]
    firsts: list[datetime | None]
    if found is None:
        todo, lines, firsts, whole_minutes = list(spaces), [""] * len(spaces), [None] * len(spaces), True
        title = ""
        until: datetime | None = None
        earliest_gone = True  # ``until`` to be found again among all the spaces
    else:
        kept = cast(_Listing, found[0])
        assert kept.firsts is not None
        todo, lines, firsts = [spaces[places[sid]] for sid in found[1]], list(kept.lines), list(kept.firsts)
        whole_minutes, title, until, earliest_gone = kept.whole_minutes, kept.title, kept.until, False
    entries = day_free(ctx.session, todo, when.day, ctx.tz, stamps)
    now = ctx.now
    line_key = ("line", ctx.translator.language)  # an entry is one zone's (the day's key)
    for space in todo:
        entry = entries[space.id]
        place = places[space.id]
        first = entry.first
        if firsts[place] == until and first != until:
            earliest_gone = True
        elif first is not None and (until is None or first < until):
            until = first
        firsts[place] = first
        if first is None:  # no free stretch that day
            lines[place] = ""
            continue
        if not entry.whole_minutes:
            whole_minutes = False
        if part is None and now <= first:  # clipped by nothing: the line kept with the entry
            line = entry.memo.get(line_key)
            if line is None:  # a renamed space has a new version, so a new entry
                line = entry.memo[line_key] = _line(ctx, space, shown(entry, now))
        elif part is None:
            line = _line(ctx, space, shown(entry, now))
        else:  # "demain aprem": what is free in that part of the day
            clipped = [(max(a, part[0]), min(b, part[1])) for a, b in shown(entry, now)]
            line = _line(ctx, space, [(a, b) for a, b in clipped if b - a >= timedelta(minutes=15)])
        lines[place] = line
    text = "\n".join(filter(None, lines))
    if not title:
        if part is not None:
            title = ctx._("Free {when}").format(when=ctx.translator.fmt_range(*part))
        else:
            title = ctx._("Free on {day}").format(day=ctx.translator.fmt_day(when.day))
    if not text:
        if part is not None:
            text = ctx._("Nothing is free then. Try another time with /free.")
        else:
            text = ctx._("Nothing is free that day (closed, past or fully booked).")
    reply = Reply(text, title=title)
    if earliest_gone:  # the answer stands while now is before every space's first free stretch
        until = min(filter(None, firsts), default=None)
    listing = _Listing(reply, title, lines, firsts, until, whole_minutes)
    if until is None or now <= until:  # clipped by nothing: the same for any now up to ``until``
        keep_answer(ctx.session, key, stamps, listing, places, until)
    elif whole_minutes and _whole_minute_offset(ctx):
        keep_answer(ctx.session, minute_key, stamps, listing, places)
    return reply


def _whole_minute_offset(ctx: Ctx) -> bool:
    """The zone is a whole number of minutes from UTC now (all but old local mean times): the local minute
    shown for ``now`` is then the same all along one UTC minute."""
    offset = ctx.now.astimezone(ctx.tz).utcoffset()
    return offset is not None and offset.total_seconds() % 60 == 0


def _line(ctx: Ctx, space: SpaceView, periods: list[tuple[datetime, datetime]]) -> str:
    """A space's line ("• Salle (salle): 09:00–12:00, 14:00–20:00"), or "" when nothing is free."""
    return f"• {space.name} ({space.slug}): {_hours_text(ctx, periods)}" if periods else ""


def _hours_text(ctx: Ctx, periods: list[tuple[datetime, datetime]]) -> str:
    fmt = ctx.translator.fmt_time
    return ", ".join(f"{fmt(a)}–{fmt(b)}" for a, b in periods)


def _part_of_day(when: When, ctx: Ctx) -> tuple[datetime, datetime] | None:
    """The hours of the part of the day named without hours ("demain matin": 9:00-12:00), in UTC."""
    if when.period not in PERIOD_SPANS:
        return None
    start, end = (datetime.combine(when.day, time.fromisoformat(hm), tzinfo=ctx.tz).astimezone(UTC)
                  for hm in PERIOD_SPANS[when.period])
    return start, end
