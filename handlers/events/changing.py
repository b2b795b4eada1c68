"""Organisers change their events: /event edit (one date, or "all" for the series) and /event cancel;
everyone signed up is told."""

from __future__ import annotations

from datetime import time, timedelta

from bot.core.context import Ctx
from bot.core.dates import When
from bot.core.errors import NotAllowed, UsageError, UserError
from bot.core.grammar.args import FlagArg
from bot.core.i18n import N_
from bot.core.types import Reply
from handlers.events.cards import card_reply, is_cancelled
from handlers.events.common import (
    ALL_WORDS,
    busy_error,
    event_number,
    load,
    refused_error,
    require_manage,
    space_name,
)
from handlers.events.creating import event, request_pieces
from handlers.events.notifying import notify_change, notify_promoted, tell_displaced
from storage.event_rules import Recurrence, SeriesEnd, wall_duration
from storage.events import (
    EventRefused,
    SeriesEdit,
    SpaceBusy,
    cancel_occurrence,
    cancel_series,
    edit_series,
    move_occurrence,
)
from storage.spaces import SpaceView

EDIT_EXAMPLE = N_("/event edit 12 saturday 15:00-19:00")


def _all() -> FlagArg:
    return FlagArg("whole", (*ALL_WORDS, "all"), leading=True, label=N_("[all]"), sample="all")


@event.sub("edit", aliases=["modifier", "change", "changer"], help=N_("Change a date, or all dates with “all”"),
           args=(event_number(), _all(), *request_pieces(for_edit=True)),
           examples=(EDIT_EXAMPLE, N_("/event edit 12 all places 20")))
def edit_event(ctx: Ctx, number: int, whole: bool, title: str | None, when: When | None, capacity: int | None,
               no_limit: bool | None, space: SpaceView | None, no_space: bool | None,
               recurrence: Recurrence | None, series_end: SeriesEnd | None, description: str | None,
               force: bool) -> Reply:
    occurrence, found = load(ctx, number)
    require_manage(ctx, found, occurrence.id or 0)
    if is_cancelled(occurrence, found):
        raise refused_error(ctx, EventRefused("cancelled"), occurrence.id)
    if recurrence or series_end:
        raise UserError(ctx._("The repetition of a series can't be changed: cancel it and create a new one."))
    if force and not ctx.is_coordinator:
        raise NotAllowed(ctx._("Only a coordinator can displace bookings."))
    shared_change = any(v is not None for v in (title, description, capacity, space)) or bool(no_limit or no_space)
    if not shared_change and when is None:
        raise UsageError(ctx._("What should change? e.g. a new time, places 20, lieu <space>, \"New title\"."),
                         example=ctx._(EDIT_EXAMPLE))
    series = found.rrule is not None
    if series and not whole and shared_change:
        raise UserError(ctx._("Title, places, place and description belong to the whole series: add “all”, "
                              "e.g. /event edit {id} all places 20").format(id=occurrence.id))
    edit = SeriesEdit(title=title, description=description, capacity=capacity, clear_capacity=bool(no_limit),
                      space_id=space.id if space else None, clear_space=bool(no_space), times=None)
    shown_space = space.name if space else None
    try:
        if when is not None and not (series and whole):
            assert when.start is not None and when.end is not None
            change = move_occurrence(ctx.session, occurrence, found, when.start, when.end, ctx.now, ctx.member_id,
                                     force=force)
            shown_space = shown_space or space_name(ctx, found)
            if shared_change:
                more = edit_series(ctx.session, found, edit, ctx.now, ctx.tz, ctx.member_id, force=force)
                change.promoted += more.promoted
                change.cancelled_bookings += more.cancelled_bookings
        else:
            times: tuple[time, timedelta] | None = None
            if when is not None:
                assert when.start is not None and when.end is not None
                times = (when.start.astimezone(ctx.tz).time(), wall_duration(when.start, when.end, ctx.tz))
            edit = SeriesEdit(title=title, description=description, capacity=capacity, clear_capacity=bool(no_limit),
                              space_id=space.id if space else None, clear_space=bool(no_space), times=times)
            change = edit_series(ctx.session, found, edit, ctx.now, ctx.tz, ctx.member_id, force=force)
    except SpaceBusy as busy:
        raise busy_error(ctx, busy, shown_space or space_name(ctx, found) or "?") from None
    except EventRefused as refused:
        raise refused_error(ctx, refused, occurrence.id) from None
    tell_displaced(ctx, change.cancelled_bookings, found.title)
    told = notify_change(ctx, found, change, cancelled=False)
    notify_promoted(ctx, change.promoted)
    status = ctx._("Event updated.")
    if series and whole and when is not None:
        status += " " + ctx._("Each date keeps its day; the new hours apply to the dates to come.")
    if told:
        status += " " + ctx.ngettext("{n} person signed up has been told.", "{n} people signed up have been told.",
                                     told).format(n=told)
    ctx.session.refresh(occurrence)
    return card_reply(ctx, occurrence, found, status=status)


@event.sub("cancel", aliases=["annuler"], help=N_("Cancel a date, or the whole series with “all”"),
           args=(event_number(), _all()), examples=(N_("/event cancel 12"), N_("/event cancel 12 all")))
def cancel_event(ctx: Ctx, number: int, whole: bool) -> Reply:
    occurrence, found = load(ctx, number)
    require_manage(ctx, found, occurrence.id or 0)
    try:
        if whole or found.rrule is None:
            change = cancel_series(ctx.session, found, ctx.now)
        else:
            change = cancel_occurrence(ctx.session, occurrence, found, ctx.now)
    except EventRefused as refused:
        raise refused_error(ctx, refused, occurrence.id) from None
    told = notify_change(ctx, found, change, cancelled=True)
    if whole and found.rrule is not None:
        text = ctx.ngettext("Series “{title}” cancelled: {n} date to come is off.",
                            "Series “{title}” cancelled: {n} dates to come are off.",
                            len(change.occurrences)).format(title=found.title, n=len(change.occurrences))
    else:
        text = ctx._("Cancelled: “{title}”, {when}.").format(
            title=found.title, when=ctx.translator.fmt_range(occurrence.start, occurrence.end))
    if told:
        text += "\n" + ctx.ngettext("{n} person signed up has been told.", "{n} people signed up have been told.",
                                    told).format(n=told)
    if found.rrule is not None and not whole:
        text += "\n" + ctx._("The other dates stay; /event cancel {id} all cancels the whole series.").format(
            id=occurrence.id)
    return Reply(text, edit_original=ctx.incoming.is_action)
