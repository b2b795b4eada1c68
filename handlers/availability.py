"""What is free: /free <day> lists each space's free hours; /free <time> the spaces free then."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

from bot.core.context import Ctx
from bot.core.dates import When
from bot.core.grammar.args import LEADING, CustomArg
from bot.core.grammar.moments import WhenArg
from bot.core.i18n import N_
from bot.core.router import Router
from bot.core.types import Reply
from bot.core.vocabulary import PERIOD_SPANS
from handlers.places import read_place_scope, scope
from storage.booking_rules import free_periods, is_free
from storage.bookings import bookings_between
from storage.models import Site
from storage.spaces import SpaceView, space_views

router = Router("availability")


@router.typed("free", aliases=["dispo", "libre"], help=N_("See what is free (a day or a time)"),
              args=(CustomArg("place", read_place_scope, stage=LEADING, label=N_("[place|all]")),
                    WhenArg("when", need="day", optional=True, example=N_("/free tomorrow 14:00-16:00"))),
              examples=(N_("/free tomorrow"), N_("/free tomorrow 14:00-16:00")), read_only=True)
def free(ctx: Ctx, when: When | None, place: Site | str | None = None) -> Reply:
    if when is None:
        when = When(day=ctx.now.astimezone(ctx.tz).date())
    scoped = scope(ctx, space_views(ctx.session), place, ctx._("/free {place} tomorrow"))
    reply = _free(ctx, when, [s for _, group in scoped.groups for s in group])
    if scoped.footer:
        reply = replace(reply, text=reply.text + "\n\n" + "\n".join(scoped.footer), actions=scoped.actions)
    return reply


def _free(ctx: Ctx, when: When, spaces: list[SpaceView]) -> Reply:
    ids = [s.id for s in spaces]
    if when.start is not None:
        end = when.end or when.start + timedelta(hours=1)
        start = when.start
        intervals = bookings_between(ctx.session, ids, start, end)
        free_now = [s for s in spaces if is_free(s.rules, intervals[s.id], start, end, ctx.tz)]
        title = ctx._("Free {when}").format(when=ctx.translator.fmt_range(start, end))
        if not free_now:
            return Reply(ctx._("Nothing is free then. Try another time with /free."), title=title)
        return Reply("\n".join(f"• {s.name} ({s.slug})" for s in free_now), title=title)
    day_start = datetime.combine(when.day, datetime.min.time(), tzinfo=ctx.tz)
    day_end = day_start + timedelta(days=1)
    part = _part_of_day(when, ctx)
    intervals = bookings_between(ctx.session, ids, day_start, day_end)
    lines = []
    for space in spaces:
        periods = free_periods(space.rules, intervals[space.id], when.day, ctx.now, ctx.tz)
        if part is not None:  # "demain aprem": what is free in that part of the day
            clipped = [(max(a, part[0]), min(b, part[1])) for a, b in periods]
            periods = [(a, b) for a, b in clipped if b - a >= timedelta(minutes=15)]
        if periods:
            hours = ", ".join(f"{ctx.translator.fmt_time(a)}–{ctx.translator.fmt_time(b)}" for a, b in periods)
            lines.append(f"• {space.name} ({space.slug}): {hours}")
    if part is not None:
        title = ctx._("Free {when}").format(when=ctx.translator.fmt_range(*part))
        if not lines:
            return Reply(ctx._("Nothing is free then. Try another time with /free."), title=title)
        return Reply("\n".join(lines), title=title)
    title = ctx._("Free on {day}").format(day=ctx.translator.fmt_day(when.day))
    if not lines:
        return Reply(ctx._("Nothing is free that day (closed, past or fully booked)."), title=title)
    return Reply("\n".join(lines), title=title)


def _part_of_day(when: When, ctx: Ctx) -> tuple[datetime, datetime] | None:
    """The hours of the part of the day named without hours ("demain matin": 9:00-12:00), in UTC."""
    if when.period not in PERIOD_SPANS:
        return None
    start, end = (datetime.combine(when.day, time.fromisoformat(hm), tzinfo=ctx.tz).astimezone(UTC)
                  for hm in PERIOD_SPANS[when.period])
    return start, end
