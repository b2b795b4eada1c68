"""Watching a taken slot (issue 16): when /book is refused because the slot is full, the answer offers
"Tell me if it frees up" (/watch, /guetter, /surveiller). When a booking of that space is cancelled or
released (/cancel, the no-show release) the watchers of a slot now free are told privately, once, in their
language, with a one-press /book; the first to press gets it (the normal booking checks apply). A sweep job
catches the other ways a slot frees up (/oublie-moi, an event cancelled). A watch ends at the slot's start
(in a space that requires a check-in, at its end: a no-show is released after the start)."""

from __future__ import annotations

from datetime import datetime, tzinfo

from bot.core.context import Ctx, JobCtx
from bot.core.dates import When
from bot.core.errors import UserError
from bot.core.grammar.moments import WhenArg
from bot.core.grammar.refs import SpaceArg
from bot.core.i18n import N_, Translator
from bot.core.router import Router
from bot.core.types import Action, Reply
from handlers.telling import tell_member
from storage.booking_rules import is_free
from storage.bookings import active_intervals
from storage.models import Space
from storage.spaces import SpaceView
from storage.watches import TooManyWatches, add_watch, freed_watches

router = Router("watch")

MAX_WATCHES_PER_MEMBER = 5


def _slot_text(start: datetime, end: datetime, tz: tzinfo) -> str:
    ls, le = start.astimezone(tz), end.astimezone(tz)
    return f"{ls:%Y-%m-%d} {ls:%H:%M}-{le:%H:%M}"


def watch_action(ctx: Ctx, space: SpaceView, start: datetime, end: datetime) -> Action:
    """The button of a /book refused because the slot is taken."""
    return Action(ctx._("Tell me if it frees up"), watch.line(space, _slot_text(start, end, ctx.tz)))


@router.typed("watch", aliases=["guetter", "surveiller"], help=N_("Be told if a taken slot frees up"),
              args=(SpaceArg("space", question=N_("Which space, and when?")),
                    WhenArg("when", example=N_("/watch salle-reunion tomorrow 14:00-16:00"))),
              examples=(N_("/watch salle-reunion tomorrow 14:00-16:00"),))
def watch(ctx: Ctx, space: SpaceView, when: When) -> Reply:
    assert when.start is not None and when.end is not None
    assert space.id is not None
    slot = ctx.translator.fmt_range(when.start, when.end)
    if when.start <= ctx.now:
        raise UserError(ctx._("That time has already begun; there is nothing to watch."),
                        example=f"/watch {space.slug} " + ctx._("tomorrow 14:00-16:00"))
    book_line = f"/book {space.slug} {_slot_text(when.start, when.end, ctx.tz)}"
    if is_free(space.rules, active_intervals(ctx.session, space.id, when.start, when.end), when.start, when.end,
               ctx.tz):
        return Reply(ctx._("{space} is free for {when}: book it now.").format(space=space.name, when=slot),
                     actions=(Action(ctx._("Book it"), book_line),))
    try:
        _watch, new = add_watch(ctx.session, ctx.member_id, space.id, when.start, when.end, ctx.now,
                                limit=MAX_WATCHES_PER_MEMBER)
    except TooManyWatches as too_many:
        raise UserError(ctx.ngettext("You already watch {n} slot; that is the most.",
                                     "You already watch {n} slots; that is the most.",
                                     too_many.limit).format(n=too_many.limit)) from None
    if not new:
        return Reply(ctx._("You are already watching {space}, {when}.").format(space=space.name, when=slot),
                     edit_original=ctx.incoming.is_action)
    return Reply(ctx._("I'll tell you privately if {space} frees up for {when} (until it starts). "
                       "The first to book it gets it.").format(space=space.name, when=slot),
                 edit_original=ctx.incoming.is_action)


def offer_freed_slots(ctx: Ctx | JobCtx, space_id: int | None = None) -> int:
    """Tell the watchers of slots that are free now (of one space, or all), once each; how many were told."""
    told = 0
    for found, start, end in freed_watches(ctx.session, ctx.now, ctx.tz, space_id):
        found.told_at = ctx.now
        ctx.session.add(found)
        space = ctx.session.get(Space, found.space_id)
        if space is None:
            continue
        line = f"/book {space.slug} {_slot_text(start, end, ctx.tz)}"

        def build(t: Translator, space: Space = space, start: datetime = start, end: datetime = end,
                  line: str = line) -> Reply:
            return Reply(t.gettext("{space} is free again for {when}, the slot you were watching. The first to "
                                   "book it gets it.").format(space=space.name, when=t.fmt_range(start, end)),
                         actions=(Action(t.gettext("Book it"), line),))

        stamp = f"{found.created_at:%Y%m%dT%H%M%S}"
        told += tell_member(ctx, found.member_id, build, dedup_key=f"watch-freed:{found.id}:{stamp}")
    ctx.session.flush()
    return told


@router.job("booking-watch", every_seconds=60)
def sweep_watches(ctx: JobCtx) -> None:
    """Slots freed in other ways than /cancel and the no-show release (/oublie-moi, an event cancelled)."""
    offer_freed_slots(ctx)
