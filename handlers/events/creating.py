"""/event: show one; organisers and coordinators add and post them. The request is read by declared
pieces: the title in quotes, then in any order when, places N, lieu X, a repetition, its end,
desc "...", force (French or English words)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from bot.core.context import Ctx
from bot.core.dates import DateParseError, When, parse_when
from bot.core.errors import NotAllowed, UsageError, UserError
from bot.core.grammar.args import CapacityArg, CustomArg, FlagArg, TitleArg
from bot.core.grammar.moments import WhenArg, date_error
from bot.core.grammar.pieces import squash
from bot.core.grammar.refs import SpaceArg
from bot.core.i18n import N_
from bot.core.types import Reply
from handlers.events.cards import card_reply
from handlers.events.common import busy_error, event_number, load, may_create, may_manage, refused_error, router
from handlers.events.notifying import tell_displaced
from storage.event_rules import Recurrence, RecurrenceError, SeriesEnd, end_of_day, parse_recurrence, parse_series_end
from storage.events import EventRefused, SpaceBusy, create_event, ensure_occurrences
from storage.spaces import SpaceView

ADD_EXAMPLE = N_('/event add "Repair café" saturday 14:00-18:00 places 12 lieu salle-reunion every saturday')
NO_LIMIT_RE = re.compile(r"(?<!\S)(?:places?|seats?)\s+(?:illimit[ée]es?|unlimited)|(?<!\S)(?:sans\s+limite|"
                         r"no\s+limit|unlimited)(?!\S)", re.I)
NO_PLACE_RE = re.compile(r"(?<!\S)(?:lieu|espace|space|room)\s*[:=]?\s+(?:aucun|none|sans|nowhere)(?!\S)", re.I)


def _read_no_limit(ctx: Ctx, text: str) -> tuple[bool | None, str]:
    match = NO_LIMIT_RE.search(text)
    return (True, squash(text[: match.start()] + " " + text[match.end():])) if match else (None, text)


def _read_no_space(ctx: Ctx, text: str) -> tuple[bool | None, str]:
    match = NO_PLACE_RE.search(text)
    return (True, squash(text[: match.start()] + " " + text[match.end():])) if match else (None, text)


def _read_series_end(ctx: Ctx, text: str) -> tuple[SeriesEnd | None, str]:
    try:
        return parse_series_end(text)
    except RecurrenceError:
        raise UserError(ctx._("A series happens at least once."), example=ctx._(ADD_EXAMPLE)) from None


def _read_recurrence(ctx: Ctx, text: str) -> tuple[Recurrence | None, str]:
    return parse_recurrence(text)


def request_pieces(*, for_edit: bool) -> tuple[Any, ...]:
    """The pieces of an event request, in the order the usage shows them; ``order`` says which reads
    first where two could take the same words (the description's quotes before the title's)."""
    return (
        TitleArg("title", optional=True, shown_optional=for_edit, order=0.1),
        WhenArg("when", optional=True, shown_optional=for_edit, example=ADD_EXAMPLE),
        CapacityArg("capacity", order=0.4),
        CustomArg("no_limit", _read_no_limit, stage=0.3, hidden=True),
        SpaceArg("space", marked=True, weak=True, order=0.6),
        CustomArg("no_space", _read_no_space, stage=0.5, hidden=True),
        CustomArg("recurrence", _read_recurrence, stage=0.8, label=N_("[every saturday]"), hidden=for_edit),
        CustomArg("series_end", _read_series_end, stage=0.7, label=N_("[until <date>|N times]"), hidden=for_edit),
        TitleArg("description", optional=True, after=r"desc(?:ription)?", label=N_('[desc "..."]'), order=-0.5,
                 sample='desc "Bring your bike"'),
        FlagArg("force", ("forcer",), order=0.2),
    )


def until_of(ctx: Ctx, series_end: SeriesEnd | None) -> datetime | None:
    if series_end is None or series_end.until_text is None:
        return None
    try:
        day = parse_when(series_end.until_text, ctx.now, ctx.tz).day
    except DateParseError as error:
        raise date_error(ctx, error, ctx._(ADD_EXAMPLE)) from None
    return end_of_day(day, ctx.tz)


def _creators_only(ctx: Ctx) -> None:
    if not may_create(ctx):
        raise NotAllowed(ctx._("Only coordinators and organisers can create events. A coordinator can make you "
                               "an organiser with /organiser."))


event = router.group("event", aliases=["evenement"],
                     help=N_("Show an event; organisers add, edit, cancel and post them"))


@event.sub("show", aliases=["voir"], default=True, help=N_("Show an event"), args=(event_number(),),
           examples=(N_("/event 12"),))
def show_event(ctx: Ctx, number: int) -> Reply:
    ensure_occurrences(ctx.session, ctx.now, ctx.tz)
    occurrence, found = load(ctx, number)
    return card_reply(ctx, occurrence, found)


@event.sub("add", aliases=["ajouter", "new", "nouveau", "creer"], guard=_creators_only,
           help=N_("Create an event, once or repeated (organisers)"), args=request_pieces(for_edit=False),
           examples=(ADD_EXAMPLE, N_('/event add "Bike workshop" tomorrow 18:00-20:00 seats 8')))
def add_event(ctx: Ctx, title: str | None, when: When | None, capacity: int | None, no_limit: bool | None,
              space: SpaceView | None, no_space: bool | None, recurrence: Recurrence | None,
              series_end: SeriesEnd | None, description: str | None, force: bool) -> Reply:
    example = ctx._(ADD_EXAMPLE)
    if not (ctx.is_coordinator or ctx.member.is_organiser or (space is not None and ctx.can_manage(space.site_id))):
        raise NotAllowed(ctx._("A place's coordinator creates events at one of their place's spaces "
                               "(lieu <space>)."))
    if not title:
        raise UsageError(ctx._("Give the event's title in quotes."), example=example)
    if when is None:
        raise UserError(ctx._("When is it?"), example=example)
    assert when.start is not None and when.end is not None
    if series_end is not None and recurrence is None:
        raise UserError(ctx._("An end (until, N times) goes with a repetition such as “chaque samedi”."),
                        example=example)
    until = until_of(ctx, series_end)
    if until is not None and until < when.start:
        raise UserError(ctx._("The series would end before it starts."), example=example)
    if force and not ctx.is_coordinator:
        raise NotAllowed(ctx._("Only a coordinator can displace bookings."))
    try:
        created, occurrences, displaced = create_event(
            ctx.session, title=title, organiser_id=ctx.member_id, start=when.start, end=when.end,
            now=ctx.now, tz=ctx.tz, description=description or "", space_id=space.id if space else None,
            capacity=capacity, rule=recurrence.rule if recurrence else None,
            count=series_end.count if series_end else None, until=until, force=force)
    except SpaceBusy as busy:
        assert space is not None
        raise busy_error(ctx, busy, space.name) from None
    except EventRefused as refused:
        raise refused_error(ctx, refused) from None
    tell_displaced(ctx, displaced, created.title)
    first = occurrences[0]
    if created.rrule:
        shown = ", ".join(f"#{o.id} {ctx.translator.fmt_day(o.start.astimezone(ctx.tz).date())}"
                          for o in occurrences[:3])
        status = ctx.ngettext("Event created, {n} date so far: {dates}.", "Event created, {n} dates so far: {dates}.",
                              len(occurrences)).format(n=len(occurrences), dates=shown)
    else:
        status = ctx._("Event created.")
    if displaced:
        status += "\n" + ctx.ngettext("{n} booking was cancelled; its booker has been told.",
                                      "{n} bookings were cancelled; their bookers have been told.",
                                      len(displaced)).format(n=len(displaced))
    status += "\n" + ctx._("Post it in a group with /event post {id}.").format(id=first.id)
    return card_reply(ctx, first, created, status=status)


@event.sub("post", aliases=["publier", "poster", "share", "partager"],
           help=N_("Post an event in this group, with Join and Leave buttons"), args=(event_number(),),
           examples=(N_("/event post 12"),))
def post_event(ctx: Ctx, number: int) -> Reply:
    ensure_occurrences(ctx.session, ctx.now, ctx.tz)
    occurrence, found = load(ctx, number)
    if not may_manage(ctx, found):
        raise NotAllowed(ctx._("Only its organiser or a coordinator can post event {id}.").format(id=occurrence.id))
    card = card_reply(ctx, occurrence, found, public=True)
    if ctx.incoming.chat.is_private or occurrence.id is None:
        return card
    from dataclasses import replace

    from storage.chats import posted_card_key

    chat = ctx.incoming.chat  # once posted, the card's message is known: sign-ups made elsewhere update it
    return replace(card, remember_as=posted_card_key(occurrence.id, chat.platform.value, chat.chat_id))
