"""/datepoll (/sondage-date): members answer yes / if needed / no for each proposed date; once closed,
one press turns the winning date into an event (the space reserved if one was named) and signs up
everyone who answered yes."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.core.context import Ctx
from bot.core.dates import DateParseError, parse_when
from bot.core.errors import UsageError, UserError
from bot.core.grammar.args import NumberArg, RawArg, TitleArg
from bot.core.grammar.moments import date_error
from bot.core.grammar.refs import SpaceArg
from bot.core.i18n import N_
from bot.core.types import Reply
from handlers.decisions.common import card, load, may_close, option_label, router, take_deadline
from handlers.decisions.polls import post_here
from storage import decisions as store
from storage.events import EventRefused, SpaceBusy, create_event, join
from storage.spaces import SpaceView

DATEPOLL_EXAMPLE = N_('/datepoll "Spring AG" tuesday 19:00, thursday 19:00, saturday 10:00')
DEFAULT_LENGTH = timedelta(hours=2)

datepoll = router.group("datepoll", aliases=["sondage-date", "sondage_date", "sondagedate"],
                        help=N_("Find a date for a meeting: members answer yes / if needed / no per date"))


@datepoll.sub("new", aliases=["nouveau"], default=True, help=N_("Propose dates for a meeting"),
              args=(TitleArg("title", optional=True), SpaceArg("space", marked=True),
                    RawArg("dates", label=N_("<date>, <date>, … [until <when>]"))),
              examples=(DATEPOLL_EXAMPLE, N_('/datepoll "Board meeting" monday 18:00-20:00, wednesday 18:00-20:00 '
                                             'lieu salle-reunion')))
def new_datepoll(ctx: Ctx, title: str | None, space: SpaceView | None, dates: str) -> Reply:
    example = ctx._(DATEPOLL_EXAMPLE)
    if not title:
        raise UsageError(ctx._("Give the meeting's title in quotes, then the dates separated by commas."),
                         example=example)
    deadline, dates = take_deadline(ctx, dates, example)
    pieces = [p.strip() for p in re.split(r"\s*[,;\n]\s*|\s+(?:ou|or)\s+", dates) if p.strip()]
    if len(pieces) < 2:
        raise UsageError(ctx._("Give at least two dates, separated by commas."), example=example)
    if len(pieces) > store.MAX_OPTIONS:
        raise UserError(ctx._("At most {n} dates, please.").format(n=store.MAX_OPTIONS), example=example)
    options = []
    for piece in pieces:
        try:
            when = parse_when(piece, ctx.now, ctx.tz)
        except DateParseError as error:
            raise date_error(ctx, error, example) from None
        if when.start is None:
            raise UserError(ctx._("At what time on {day}?").format(day=ctx.translator.fmt_day(when.day)),
                            example=example)
        if when.start <= ctx.now:
            raise UserError(ctx._("{when} has already passed.").format(
                when=ctx.translator.fmt_datetime(when.start)), example=example)
        end = when.end or (when.start + DEFAULT_LENGTH)  # UTC arithmetic: right across a clock change
        options.append(store.NewOption(ctx.translator.fmt_range(when.start, end)[:200], when.start, end))
    if len({o.starts_at for o in options}) < len(options):
        raise UserError(ctx._("The same date is given twice."), example=example)
    decision, rows = store.create_decision(
        ctx.session, kind=store.DATEPOLL, question=title, author_id=ctx.member_id, options=options, now=ctx.now,
        deadline=deadline, space_id=space.id if space else None)
    post_here(ctx, decision)
    return card(ctx, decision, rows, status=ctx._("Date poll created."))


@datepoll.sub("event", aliases=["evenement"], help=N_("Turn a closed date poll's winning date into an event"),
              args=(NumberArg("number", question=N_("Which date poll? Give its number.")),),
              examples=(N_("/datepoll event 3"),))
def to_event(ctx: Ctx, number: int) -> Reply:
    decision, options = load(ctx, number, lock=True)
    may_close(ctx, decision)
    if decision.kind != store.DATEPOLL:
        raise UserError(ctx._("n° {id} is not a date poll.").format(id=number))
    if decision.status == store.OPEN:
        raise UserError(ctx._("Close it first: /poll close {id}").format(id=number))
    if decision.event_id is not None:
        return Reply(ctx._("Date poll n° {id} is already event n° {event}.").format(id=number, event=decision.event_id),
                     edit_original=ctx.incoming.is_action)
    winner = next((o for o in options if f"option:{o.id}" == decision.result), None)
    if winner is None or winner.starts_at is None or winner.ends_at is None:
        raise UserError(ctx._("Date poll n° {id} has no winning date.").format(id=number))
    try:
        event, occurrences, _ = create_event(
            ctx.session, title=decision.question, organiser_id=decision.author_id, start=winner.starts_at,
            end=winner.ends_at, now=ctx.now, tz=ctx.tz, space_id=decision.space_id)
    except SpaceBusy:
        raise UserError(ctx._("The space is already taken at that time: create the event with /event add and "
                              "another place.")) from None
    except EventRefused:
        raise UserError(ctx._("That date has passed: create the event with /event add.")) from None
    occurrence = occurrences[0]
    assert occurrence.id is not None and decision.id is not None
    yes = sorted({v.member_id for v in store.votes_of(ctx.session, decision.id)
                  if v.option_id == winner.id and v.answer == store.YES})
    for member_id in yes:
        join(ctx.session, occurrence.id, member_id, ctx.now)
    decision.event_id = event.id
    ctx.session.add(decision)
    text = ctx.ngettext("Event n° {event} created for {date}; {n} member who answered yes is signed up.",
                        "Event n° {event} created for {date}; {n} members who answered yes are signed up.",
                        len(yes)).format(event=occurrence.id, date=option_label(ctx.translator, decision, winner),
                                         n=len(yes))
    text += "\n" + ctx._("Post it in a group with /event post {id}.").format(id=occurrence.id)
    return Reply(text, title=decision.question)
