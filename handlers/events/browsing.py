"""Finding events: /events (what's on), /myevents (what I signed up for), /attendees (who comes, for
the organiser and coordinators, in private)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.context import Ctx
from bot.core.errors import NotAllowed, UserError
from bot.core.grammar.args import LEADING, REST, CustomArg
from bot.core.grammar.pieces import fold, squash
from bot.core.i18n import N_
from bot.core.types import Action, Reply
from handlers.events.cards import count_line, is_cancelled, list_line
from handlers.events.common import LIST_LIMIT, MAX_CARD_CHARS, event_number, load, router, space_names
from handlers.places import read_place_scope, scope_sites
from storage.events import (
    ensure_occurrences,
    member_signups,
    signup_counts,
    signup_names,
    upcoming_occurrences,
    waitlist_positions,
)
from storage.models import Site
from storage.models_events import SIGNUP_CONFIRMED, SIGNUP_WAITLISTED
from storage.spaces import space_views

PERIODS = {"today": 0, "aujourd'hui": 0, "aujourdhui": 0, "auj": 0, "week": 7, "semaine": 7, "month": 31, "mois": 31}


def _read_period(ctx: Ctx, text: str) -> tuple[int | None, str]:
    word = fold(squash(text))
    if not word:
        return None, ""
    if word not in PERIODS:
        raise UserError(ctx._("Say today, week or month, or nothing for what's coming."))
    return PERIODS[word], ""


@router.typed("events", aliases=["agenda", "evenements"], help=N_("What's on: the coming events"),
              args=(CustomArg("place", read_place_scope, stage=LEADING, label=N_("[place|all]")),
                    CustomArg("days", _read_period, stage=REST, label=N_("[today|week|month]"))),
              examples=(N_("/events"), N_("/events week")))
def list_events(ctx: Ctx, days: int | None, place: Site | str | None = None) -> Reply:
    ensure_occurrences(ctx.session, ctx.now, ctx.tz)
    local = ctx.now.astimezone(ctx.tz)
    if days == 0:
        end = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=ctx.tz)
        title = ctx._("Events today")
    elif days is not None:
        end = ctx.now + timedelta(days=days)
        title = ctx._("Events this week") if days == 7 else ctx._("Events this month")
    else:
        end = ctx.now + timedelta(days=365)
        title = ctx._("Coming events")
    sites, footer, place_actions = scope_sites(ctx, place, ctx._("/events {place}"))
    rows = upcoming_occurrences(ctx.session, ctx.now, end, limit=LIST_LIMIT + 1 if sites is None else 1000)
    if sites is not None:  # a network of places: theirs (and events held at no space in particular)
        site_of = {s.id: s.site_id for s in space_views(ctx.session, include_closed=True)}
        rows = [(o, e) for o, e in rows if e.space_id is None or site_of.get(e.space_id) in sites][:LIST_LIMIT + 1]
    if not rows:
        return Reply("\n".join([ctx._("Nothing planned yet."), *footer]), title=title, actions=place_actions)
    shown = rows[:LIST_LIMIT]
    counts = signup_counts(ctx.session, [o.id for o, _ in shown if o.id is not None])
    names = space_names(ctx)
    lines = [list_line(ctx, o, e, counts[o.id or 0], names) for o, e in shown]
    if len(rows) > LIST_LIMIT:
        lines.append(ctx._("… and more. /event <number> shows one; /join <number> signs you up."))
    else:
        lines.append("")
        lines.append(ctx._("/event <number> shows one; /join <number> signs you up."))
    actions = tuple(Action(f"#{o.id} {e.title[:24]}", router.line("event show", o.id)) for o, e in shown[:5])
    return Reply("\n".join([*lines, *footer]), title=title, actions=actions + place_actions)


@router.typed("myevents", aliases=["mesevenements"], help=N_("The events you signed up for"),
              examples=(N_("/myevents"),))
def my_events(ctx: Ctx) -> Reply:
    rows = member_signups(ctx.session, ctx.member_id, ctx.now)
    if not rows:
        return Reply(ctx._("You haven't signed up for anything yet. /events shows what's coming."),
                     title=ctx._("Your events"))
    positions = waitlist_positions(ctx.session, [s for s, _, _ in rows])
    lines = []
    for signup, occurrence, event in rows:
        line = f"#{occurrence.id} {ctx.translator.fmt_range(occurrence.start, occurrence.end)} — {event.title}"
        if is_cancelled(occurrence, event):
            line += " — " + ctx._("cancelled")
        elif signup.status == SIGNUP_WAITLISTED:
            line += " — " + ctx._("waiting list, position {n}").format(n=positions.get(signup.id or 0, 0))
        else:
            line += " — " + ctx._("signed up")
        lines.append(line)
    actions = tuple(Action(ctx._("Leave #{id}").format(id=o.id), router.line("leave", o.id)) for _, o, e in rows[:5]
                    if not is_cancelled(o, e))
    return Reply("\n".join(lines), title=ctx._("Your events"), actions=actions)


@router.typed("attendees", aliases=["participants", "inscrits"],
              help=N_("Who comes to an event (its organiser and coordinators)"), args=(event_number(),),
              examples=(N_("/attendees 12"),))
def attendees(ctx: Ctx, number: int) -> list[Reply]:
    occurrence, event = load(ctx, number)
    if not (ctx.is_coordinator or event.organiser_id == ctx.member_id):
        raise NotAllowed(ctx._("Only its organiser or a coordinator sees who comes."))
    rows = signup_names(ctx.session, occurrence.id or 0)
    confirmed = [name for status, name in rows if status == SIGNUP_CONFIRMED]
    waiting = [name for status, name in rows if status == SIGNUP_WAITLISTED]
    title = f"{event.title} — {ctx.translator.fmt_range(occurrence.start, occurrence.end)}"
    lines = [count_line(ctx.translator, event.capacity, len(confirmed), len(waiting))]
    lines += [f"{n}. {name}" for n, name in enumerate(confirmed, 1)]
    if waiting:
        lines.append(ctx._("Waiting list:"))
        lines += [f"{n}. {name}" for n, name in enumerate(waiting, 1)]
    replies: list[Reply] = []
    chunk: list[str] = []
    for line in lines:
        if chunk and sum(len(c) + 1 for c in chunk) + len(line) > MAX_CARD_CHARS:
            replies.append(Reply("\n".join(chunk), title=title if not replies else None))
            chunk = []
        chunk.append(line)
    replies.append(Reply("\n".join(chunk), title=title if not replies else None))
    if not ctx.incoming.chat.is_private:  # asked in a group: the names go privately
        return [ctx.privately(reply) for reply in replies][-1:]
    return replies
