"""What is free: /free <day> lists each space's free hours; /free <time> the spaces free then."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from operator import attrgetter

from bot.core.context import Ctx
from bot.core.dates import When
from bot.core.grammar.args import LEADING, CustomArg
from bot.core.grammar.moments import WhenArg
from bot.core.i18n import N_
from bot.core.router import Router
from bot.core.types import Reply
from bot.core.vocabulary import PERIOD_SPANS
from handlers.places import read_place_scope, scope
from storage.availability import answer, day_free, free_between, keep_answer, shown, versions
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
    catalog = space_catalog(ctx.session)  # what space_views reads; read once here
    if len(catalog.sites) < 2:  # one place: scope() would show every space and add nothing
        return _free(ctx, when, list(catalog.open_views))
    scoped = scope(ctx, list(catalog.open_views), place, ctx._("/free {place} tomorrow"))
    reply = _free(ctx, when, [s for _, group in scoped.groups for s in group])
    if scoped.footer:
        reply = replace(reply, text=reply.text + "\n\n" + "\n".join(scoped.footer), actions=scoped.actions)
    return reply


def _free(ctx: Ctx, when: When, spaces: list[SpaceView]) -> Reply:
    """The answer, kept whole until a write changes a space's free hours (or, today, until ``now`` would clip
    it): storage.availability."""
    stamps = versions(ctx.session)  # first: what is read after it is at least as new
    key = (when.start, when.end, when.day, when.period, ctx.translator.language, ctx.tz, tuple(map(_ID, spaces)))
    found = answer(ctx.session, key, stamps, ctx.now)
    if isinstance(found, Reply):
        return found
    if when.start is not None:
        end = when.end or when.start + timedelta(hours=1)
        start = when.start
        free_now = free_between(ctx.session, spaces, start, end, ctx.tz, stamps)
        title = ctx._("Free {when}").format(when=ctx.translator.fmt_range(start, end))
        if not free_now:
            reply = Reply(ctx._("Nothing is free then. Try another time with /free."), title=title)
        else:
            reply = Reply("\n".join(f"• {s.name} ({s.slug})" for s in free_now), title=title)
        keep_answer(ctx.session, key, stamps, reply)  # a window's answer doesn't depend on now
        return reply
    # Today, once now clips a stretch: the same answer all along one minute (storage.availability.shown).
    minute = ctx.now.replace(second=0, microsecond=0)
    minute_key = (*key, minute, minute == ctx.now)
    found = answer(ctx.session, minute_key, stamps, ctx.now)
    if isinstance(found, Reply):
        return found
    part = _part_of_day(when, ctx)
    entries = day_free(ctx.session, spaces, when.day, ctx.tz, stamps)
    lines = []
    until: datetime | None = None  # the answer stands while now is before every space's first free stretch
    whole_minutes = True
    now = ctx.now
    line_key = ("line", ctx.translator.language)  # an entry is one zone's (the day's key)
    for space in spaces:
        entry = entries[space.id]
        first = entry.first
        if first is None:  # no free stretch that day
            continue
        if until is None or first < until:
            until = first
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
        if line:
            lines.append(line)
    if part is not None:
        title = ctx._("Free {when}").format(when=ctx.translator.fmt_range(*part))
        if not lines:
            reply = Reply(ctx._("Nothing is free then. Try another time with /free."), title=title)
        else:
            reply = Reply("\n".join(lines), title=title)
    else:
        title = ctx._("Free on {day}").format(day=ctx.translator.fmt_day(when.day))
        if not lines:
            reply = Reply(ctx._("Nothing is free that day (closed, past or fully booked)."), title=title)
        else:
            reply = Reply("\n".join(lines), title=title)
    if until is None or ctx.now <= until:  # clipped by nothing: the same for any now up to ``until``
        keep_answer(ctx.session, key, stamps, reply, until)
    elif whole_minutes and _whole_minute_offset(ctx):
        keep_answer(ctx.session, minute_key, stamps, reply)
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
