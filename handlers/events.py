"""Events: /events, /event (show, add, edit, cancel, post), /join, /leave, /myevents, /attendees,
and /organiser for coordinators to name who may create events."""

from __future__ import annotations

import re
import shlex
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from bot.core.context import Ctx
from bot.core.dates import DateParseError, When, parse_when
from bot.core.errors import NotAllowed, UsageError, UserError
from bot.core.i18n import N_, Translator
from bot.core.router import Router, fold, is_number
from bot.core.types import Action, Reply
from handlers.explain import date_error, one_member_named, space_error
from storage.event_rules import (
    WEEKDAY_CODES,
    Recurrence,
    RecurrenceError,
    SeriesEnd,
    end_of_day,
    parse_recurrence,
    parse_series_end,
    places_left,
    wall_duration,
)
from storage.events import (
    Change,
    EventNotFound,
    EventRefused,
    SeriesEdit,
    SpaceBusy,
    cancel_occurrence,
    cancel_series,
    create_event,
    edit_series,
    ensure_occurrences,
    find_signup,
    get_occurrence,
    join,
    leave,
    member_signups,
    move_occurrence,
    organisers,
    set_organiser,
    signup_counts,
    signups_of_occurrence,
    upcoming_occurrences,
    waitlist_position,
)
from storage.members import identities_of
from storage.models import Booking, Member, Space
from storage.models_events import (
    EVENT_CANCELLED,
    OCCURRENCE_CANCELLED,
    SIGNUP_CONFIRMED,
    SIGNUP_WAITLISTED,
    Event,
    EventOccurrence,
    EventSignup,
)
from storage.spaces import AmbiguousSpace, SpaceNotFound, SpaceView, space_views, split_space_and_rest

router = Router("events")

MAX_NAMES = 30  # past this, the event message shows counts and points to /attendees
MAX_CARD_CHARS = 3900  # Telegram's limit is 4,096; a card must stay one message so it can be edited
MAX_DESCRIPTION_SHOWN = 600
LIST_LIMIT = 20
ADD_EXAMPLE = '/event add "Repair café" samedi 14h-18h places 12 lieu salle-reunion chaque samedi'
EDIT_EXAMPLE = "/event edit 12 samedi 15h-19h"
ALL_WORDS = {"all", "tout", "toutes", "tous", "serie", "series", "série"}
FORCE_RE = re.compile(r"(?<!\S)(?:force|forcer)(?!\S)", re.I)
QUOTED = r"[\"“«]\s*(?P<q>[^\"”»]*?)\s*[\"”»]"
DESC_RE = re.compile(r"(?<!\S)(?:desc|description)\s*[:=]?\s*" + QUOTED, re.I)
TITLE_RE = re.compile(QUOTED)
CAPACITY_RE = re.compile(r"(?<!\S)(?:places?|seats?|capacit[ée]|capacity|max)\s*[:=]?\s*(?P<n>\d{1,5})(?!\S)"
                         r"|(?<!\S)(?P<n2>\d{1,5})\s+(?:places|seats)(?!\S)", re.I)
NO_LIMIT_RE = re.compile(r"(?<!\S)(?:places?|seats?)\s+(?:illimit[ée]es?|unlimited)|(?<!\S)(?:sans\s+limite|"
                         r"no\s+limit|unlimited)(?!\S)", re.I)
STRONG_PLACE_RE = re.compile(r"(?<!\S)(?:lieu|espace|space|room|@)\s*[:=]?\s+|(?<!\S)@", re.I)
WEAK_PLACE_RE = re.compile(r"(?<!\S)(?:at|in|dans)\s+", re.I)
NO_PLACE_RE = re.compile(r"(?<!\S)(?:lieu|espace|space|room)\s*[:=]?\s+(?:aucun|none|sans|nowhere)(?!\S)", re.I)


# --- reading the request -------------------------------------------------------------------------------

@dataclass
class EventRequest:
    title: str | None = None
    description: str | None = None
    capacity: int | None = None
    no_limit: bool = False
    space: SpaceView | None = None
    no_space: bool = False
    recurrence: Recurrence | None = None
    series_end: SeriesEnd | None = None
    when_text: str = ""
    force: bool = False
    extra: list[str] = field(default_factory=list)


def _cut(text: str, match: re.Match[str]) -> str:
    return re.sub(r"\s+", " ", text[: match.start()] + " " + text[match.end():]).strip()


def parse_request(ctx: Ctx, text: str) -> EventRequest:
    """Title in quotes, the rest in any order: when, places N, lieu X, a recurrence, its end,
    desc "...", force. French or English keywords."""
    request = EventRequest()
    text = text.replace("’", "'").strip()
    match = DESC_RE.search(text)
    if match:
        request.description, text = match["q"][:2000], _cut(text, match)
    match = TITLE_RE.search(text)
    if match:
        request.title, text = match["q"][:200].strip(), _cut(text, match)
    if re.search(r"[\"“”«»]", text):
        raise UserError(ctx._("A quote is not closed."), example=ADD_EXAMPLE)
    match = FORCE_RE.search(text)
    if match:
        request.force, text = True, _cut(text, match)
    match = NO_LIMIT_RE.search(text)
    if match:
        request.no_limit, text = True, _cut(text, match)
    match = CAPACITY_RE.search(text)
    if match:
        number = int(match["n"] or match["n2"])
        if not 1 <= number <= 10000:
            raise UserError(ctx._("The number of places must be between 1 and 10000."), example=ADD_EXAMPLE)
        request.capacity, text = number, _cut(text, match)
    match = NO_PLACE_RE.search(text)
    if match:
        request.no_space, text = True, _cut(text, match)
    text = _take_space(ctx, request, text)
    try:
        request.series_end, text = parse_series_end(text)
    except RecurrenceError:
        raise UserError(ctx._("A series happens at least once."), example=ADD_EXAMPLE) from None
    request.recurrence, text = parse_recurrence(text)
    request.when_text = text.strip(" ,.")
    return request


def _take_space(ctx: Ctx, request: EventRequest, text: str) -> str:
    spaces = space_views(ctx.session)
    match = STRONG_PLACE_RE.search(text)
    if match:
        try:
            space, rest = split_space_and_rest(spaces, text[match.end():])
        except (SpaceNotFound, AmbiguousSpace) as error:
            raise space_error(ctx, error) from None
        request.space = space
        return f"{text[: match.start()]} {rest}".strip()
    for match in WEAK_PLACE_RE.finditer(text):
        try:
            space, rest = split_space_and_rest(spaces, text[match.end():])
        except (SpaceNotFound, AmbiguousSpace):
            continue
        request.space = space
        return f"{text[: match.start()]} {rest}".strip()
    return text


def _when(ctx: Ctx, text: str, example: str) -> When:
    try:
        when = parse_when(text, ctx.now, ctx.tz)
    except DateParseError as error:
        raise date_error(ctx, error, example) from None
    if when.start is None:
        raise UserError(ctx._("At what time? Give a start and an end."), example=example)
    if when.end is None:
        raise UserError(ctx._("Please give an end time or a length."), example=example)
    return when


def _until(ctx: Ctx, series_end: SeriesEnd | None) -> datetime | None:
    if series_end is None or series_end.until_text is None:
        return None
    try:
        day = parse_when(series_end.until_text, ctx.now, ctx.tz).day
    except DateParseError as error:
        raise date_error(ctx, error, ADD_EXAMPLE) from None
    return end_of_day(day, ctx.tz)


# --- permissions -----------------------------------------------------------------------------------------------

def _may_create(ctx: Ctx) -> bool:
    return ctx.is_coordinator or ctx.member.is_organiser


def _may_manage(ctx: Ctx, event: Event) -> bool:
    return ctx.is_coordinator or (ctx.member.is_organiser and event.organiser_id == ctx.member_id)


def _sees_names(ctx: Ctx, event: Event) -> bool:
    return ctx.incoming.chat.is_private and (ctx.is_coordinator or event.organiser_id == ctx.member_id)


def _require_manage(ctx: Ctx, event: Event, occurrence_id: int) -> None:
    if not _may_manage(ctx, event):
        raise NotAllowed(ctx._("Only its organiser or a coordinator can change event {id}.").format(id=occurrence_id))


# --- showing ---------------------------------------------------------------------------------------------------

_ORDINAL_PHRASES = {
    1: N_("every month on the first {weekday}"),
    2: N_("every month on the second {weekday}"),
    3: N_("every month on the third {weekday}"),
    4: N_("every month on the fourth {weekday}"),
    -1: N_("every month on the last {weekday}"),
}


def describe_rule(t: Translator, event: Event) -> str:
    """'every Saturday, until Tuesday 30 June' in the reader's language."""
    if event.rrule is None:
        return ""
    parts = dict(p.split("=", 1) for p in event.rrule.split(";"))
    weekdays = t.locale.days["format"]["wide"]
    byday = parts.get("BYDAY", "")
    match = re.fullmatch(r"(-?\d)?([A-Z]{2})", byday)
    weekday = weekdays[WEEKDAY_CODES.index(match[2])] if match else ""
    interval = int(parts.get("INTERVAL", "1"))
    freq = parts["FREQ"]
    if freq == "DAILY":
        text = t.gettext("every day")
    elif freq == "MONTHLY" and match and match[1]:
        text = t.gettext(_ORDINAL_PHRASES[int(match[1])]).format(weekday=weekday)
    elif freq == "MONTHLY":
        text = t.gettext("every month")
    elif interval == 2 and weekday:
        text = t.gettext("every other {weekday}").format(weekday=weekday)
    elif interval > 1:
        text = t.gettext("every {n} weeks").format(n=interval)
    elif weekday:
        text = t.gettext("every {weekday}").format(weekday=weekday)
    else:
        text = t.gettext("every week")
    if event.rule_count:
        text += ", " + t.ngettext("{n} time", "{n} times", event.rule_count).format(n=event.rule_count)
    elif event.rule_until:
        text += ", " + t.gettext("until {day}").format(day=t.fmt_day(event.rule_until.astimezone(t.tz).date()))
    return text[:1].upper() + text[1:]


def count_line(t: Translator, capacity: int | None, confirmed: int, waitlisted: int) -> str:
    """'12/20 signed up', 'Full: 20/20 signed up, 3 on the waiting list', '7 signed up'."""
    if capacity is None:
        text = t.ngettext("{n} signed up", "{n} signed up", confirmed).format(n=confirmed)
    else:
        text = t.ngettext("{n}/{capacity} signed up", "{n}/{capacity} signed up", confirmed).format(
            n=confirmed, capacity=capacity)
        if confirmed >= capacity:
            text = t.gettext("Full: {counts}").format(counts=text)
    if waitlisted:
        text += ", " + t.ngettext("{n} on the waiting list", "{n} on the waiting list", waitlisted).format(
            n=waitlisted)
    return text


@dataclass(frozen=True)
class Card:
    """What an event message needs, read once."""

    occurrence: EventOccurrence
    event: Event
    space_name: str | None
    organiser_name: str
    confirmed: int
    waitlisted: int


def load_card(ctx: Ctx, occurrence: EventOccurrence, event: Event) -> Card:
    assert occurrence.id is not None
    confirmed, waitlisted = signup_counts(ctx.session, [occurrence.id])[occurrence.id]
    space = ctx.session.get(Space, event.space_id) if event.space_id else None
    organiser = ctx.session.get(Member, event.organiser_id)
    return Card(occurrence, event, space.name if space else None, organiser.display_name if organiser else "?",
                confirmed, waitlisted)


def is_cancelled(occurrence: EventOccurrence, event: Event) -> bool:
    return occurrence.status == OCCURRENCE_CANCELLED or event.status == EVENT_CANCELLED


def render_card(t: Translator, card: Card, *, names: Sequence[tuple[EventSignup, Member]] | None = None) -> str:
    """The event message: when, where, what, the live count, and names when the reader may see them.
    Always under Telegram's 4,096 characters, whatever the description or the number of attendees."""
    occ, event = card.occurrence, card.event
    lines = []
    if is_cancelled(occ, event):
        lines.append(t.gettext("CANCELLED"))
    where = t.fmt_range(occ.start, occ.end)
    if card.space_name:
        where += f" · {card.space_name}"
    lines.append(where)
    rule = describe_rule(t, event)
    if rule:
        lines.append(rule)
    if event.description:
        description = event.description
        if len(description) > MAX_DESCRIPTION_SHOWN:
            description = description[:MAX_DESCRIPTION_SHOWN].rstrip() + "…"
        lines.append(description)
    lines.append(count_line(t, event.capacity, card.confirmed, card.waitlisted))
    if names is not None and names:
        confirmed = [m.display_name for s, m in names if s.status == SIGNUP_CONFIRMED]
        waiting = [m.display_name for s, m in names if s.status == SIGNUP_WAITLISTED]
        if len(confirmed) + len(waiting) <= MAX_NAMES:
            if confirmed:
                lines.append(t.gettext("Coming: {names}").format(names=", ".join(confirmed)))
            if waiting:
                lines.append(t.gettext("Waiting list: {names}").format(names=", ".join(waiting)))
        else:
            lines.append(t.gettext("Full list of names: /attendees {id}").format(id=occ.id))
    lines.append(t.gettext("Organised by {name} · event {id}").format(name=card.organiser_name, id=occ.id))
    text = "\n".join(lines)
    if len(text) > MAX_CARD_CHARS:
        text = text[: MAX_CARD_CHARS - 1] + "…"
    return text


def card_actions(t: Translator, card: Card, *, group: bool, signup: EventSignup | None,
                 now: datetime) -> tuple[Action, ...]:
    occ = card.occurrence
    if is_cancelled(occ, card.event) or occ.start <= now:
        return ()
    join_label = t.gettext("Join")
    if card.event.capacity is not None and card.confirmed >= card.event.capacity:
        join_label = t.gettext("Join the waiting list")
    if group:
        return (Action(join_label, f"/join {occ.id}"), Action(t.gettext("Leave"), f"/leave {occ.id}"))
    if signup is not None and signup.status in (SIGNUP_CONFIRMED, SIGNUP_WAITLISTED):
        return (Action(t.gettext("Leave"), f"/leave {occ.id}"),)
    return (Action(join_label, f"/join {occ.id}"),)


def card_reply(ctx: Ctx, occurrence: EventOccurrence, event: Event, *, status: str | None = None,
               edit: bool = False, public: bool | None = None) -> Reply:
    """The event message for this chat: names only in a private chat with its organiser or a
    coordinator; in a group, Join and Leave buttons for everyone."""
    group = not ctx.incoming.chat.is_private if public is None else public
    card = load_card(ctx, occurrence, event)
    names = None
    if not group and _sees_names(ctx, event):
        assert occurrence.id is not None
        names = signups_of_occurrence(ctx.session, occurrence.id)
    text = render_card(ctx.translator, card, names=names)
    if status:
        text = f"{status}\n\n{text}"[:MAX_CARD_CHARS]
    signup = None if group else find_signup(ctx.session, occurrence.id or 0, ctx.member_id)
    return Reply(text, title=event.title, actions=card_actions(ctx.translator, card, group=group, signup=signup,
                                                                 now=ctx.now), edit_original=edit)


def _occurrence_id(ctx: Ctx, raw: str) -> int:
    number = raw.strip().lstrip("#")
    if not is_number(number):
        raise UsageError(ctx._("Which event? Give its number (see /events)."))
    return int(number)


def _load(ctx: Ctx, raw: str) -> tuple[EventOccurrence, Event]:
    occurrence_id = _occurrence_id(ctx, raw)
    try:
        return get_occurrence(ctx.session, occurrence_id)
    except EventNotFound:
        raise UserError(ctx._("There is no event number {id}. /events lists them.").format(id=occurrence_id)) \
            from None


def _line(ctx: Ctx, occurrence: EventOccurrence, event: Event, counts: tuple[int, int],
          space_names: dict[int, str]) -> str:
    confirmed, waitlisted = counts
    line = f"#{occurrence.id} {ctx.translator.fmt_range(occurrence.start, occurrence.end)} — {event.title}"
    if event.space_id is not None:
        line += f" ({space_names.get(event.space_id, '?')})"
    left = places_left(event.capacity, confirmed)
    if left is None:
        line += " — " + ctx.ngettext("{n} signed up", "{n} signed up", confirmed).format(n=confirmed)
    elif left == 0:
        line += " — " + ctx._("full")
        if waitlisted:
            line += " " + ctx.ngettext("({n} waiting)", "({n} waiting)", waitlisted).format(n=waitlisted)
    else:
        line += " — " + ctx.ngettext("{n} place left", "{n} places left", left).format(n=left)
    return line


def _space_names(ctx: Ctx) -> dict[int, str]:
    return {s.id: s.name for s in space_views(ctx.session, include_closed=True)}


# --- /events ------------------------------------------------------------------------------------------------------

PERIODS = {"today": 0, "aujourd'hui": 0, "aujourdhui": 0, "auj": 0, "week": 7, "semaine": 7, "month": 31, "mois": 31}


@router.command("events", aliases=["agenda", "evenements"], help=N_("What's on: the coming events"),
                usage=N_("/events [today|week|month]"))
def list_events(ctx: Ctx, args: str) -> Reply:
    word = fold(args.strip().replace("’", "'"))
    if word and word not in PERIODS:
        raise UsageError(ctx._("Say today, week or month, or nothing for what's coming."))
    ensure_occurrences(ctx.session, ctx.now, ctx.tz)
    local = ctx.now.astimezone(ctx.tz)
    if word and PERIODS[word] == 0:
        end = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=ctx.tz)
        title = ctx._("Events today")
    elif word:
        end = ctx.now + timedelta(days=PERIODS[word])
        title = ctx._("Events this week") if PERIODS[word] == 7 else ctx._("Events this month")
    else:
        end = ctx.now + timedelta(days=365)
        title = ctx._("Coming events")
    rows = upcoming_occurrences(ctx.session, ctx.now, end, limit=LIST_LIMIT + 1)
    if not rows:
        return Reply(ctx._("Nothing planned yet."), title=title)
    shown = rows[:LIST_LIMIT]
    counts = signup_counts(ctx.session, [o.id for o, _ in shown if o.id is not None])
    names = _space_names(ctx)
    lines = [_line(ctx, o, e, counts[o.id or 0], names) for o, e in shown]
    if len(rows) > LIST_LIMIT:
        lines.append(ctx._("… and more. /event <number> shows one; /join <number> signs you up."))
    else:
        lines.append("")
        lines.append(ctx._("/event <number> shows one; /join <number> signs you up."))
    actions = tuple(Action(f"#{o.id} {e.title[:24]}", f"/event {o.id}") for o, e in shown[:5])
    return Reply("\n".join(lines), title=title, actions=actions)


# --- /event ---------------------------------------------------------------------------------------------------------

SUBCOMMANDS = {
    "add": "add", "ajouter": "add", "new": "add", "nouveau": "add", "creer": "add",
    "edit": "edit", "modifier": "edit", "change": "edit",
    "cancel": "cancel", "annuler": "cancel",
    "post": "post", "publier": "post", "poster": "post", "share": "post", "partager": "post",
    "show": "show", "voir": "show",
}


@router.command("event", aliases=["evenement"], help=N_("Show an event; organisers add, edit, cancel and post them"),
                usage=N_('/event <number> | /event add "Title" <when> [places N] [lieu <space>] [chaque samedi] '
                         '[until <date>|N times] [desc "..."] | /event edit <number> [all] <changes> | '
                         "/event cancel <number> [all] | /event post <number>"))
def event_command(ctx: Ctx, args: str) -> Reply | list[Reply]:
    words = args.strip().split(maxsplit=1)
    if not words:
        raise UsageError(ctx._("Which event? Give its number (see /events)."))
    sub = SUBCOMMANDS.get(fold(words[0]))
    rest = words[1] if len(words) > 1 else ""
    if sub is None:
        sub, rest = "show", args
    if sub == "add":
        return add_event(ctx, rest)
    if sub == "edit":
        return edit_event(ctx, rest)
    if sub == "cancel":
        return cancel_event(ctx, rest)
    ensure_occurrences(ctx.session, ctx.now, ctx.tz)
    occurrence, event = _load(ctx, rest)
    if sub == "post":
        if not _may_manage(ctx, event):
            raise NotAllowed(ctx._("Only its organiser or a coordinator can post event {id}.").format(id=occurrence.id))
        return card_reply(ctx, occurrence, event, public=True)
    return card_reply(ctx, occurrence, event)


def _busy(ctx: Ctx, busy: SpaceBusy, space_name: str) -> UserError:
    lines = [ctx._("{space} is already taken then:").format(space=space_name)]
    for conflict in busy.conflicts[:8]:
        when = ctx.translator.fmt_range(conflict.start, conflict.end)
        if conflict.kind == "booking":
            lines.append("• " + ctx._("booking {id}, {when}").format(id=conflict.id, when=when))
        else:
            lines.append("• " + ctx._("event {id} “{title}”, {when}").format(id=conflict.id, title=conflict.title,
                                                                          when=when))
    if len(busy.conflicts) > 8:
        lines.append(ctx._("… and {n} more.").format(n=len(busy.conflicts) - 8))
    if busy.only_bookings and ctx.is_coordinator:
        lines.append(ctx._("Add “force” to cancel these bookings (their bookers are told) and create it anyway."))
    elif busy.only_bookings:
        lines.append(ctx._("Choose another time or place, or ask a coordinator (who can displace bookings)."))
    else:
        lines.append(ctx._("Choose another time or place."))
    return UserError("\n".join(lines))


def _refused(ctx: Ctx, refused: EventRefused, occurrence_id: int | None = None) -> UserError:
    messages = {
        "past": lambda: ctx._("That time is already past."),
        "cancelled": lambda: ctx._("Event {id} is cancelled.").format(id=occurrence_id),
        "no_occurrence": lambda: ctx._("That series has no date at all; check its end."),
        "too_many": lambda: ctx._("That makes more than {max} dates; give an earlier end (until <date> or N times).")
        .format(max=refused.params.get("max")),
    }
    return UserError(messages[refused.reason]())


def _tell_displaced(ctx: Ctx, bookings: Sequence[Booking], title: str) -> None:
    for booking in bookings:
        booker = ctx.session.get(Member, booking.member_id)
        space = ctx.session.get(Space, booking.space_id)
        if booker is None or booking.member_id == ctx.member_id:
            continue
        t = ctx.translator_for(booker)
        ctx.notify_member(booking.member_id, Reply(
            t.gettext("Your booking {space}, {when} was cancelled: the event “{title}” takes the space.").format(
                space=space.name if space else "?", when=t.fmt_range(booking.start, booking.end), title=title)),
            dedup_key=f"booking-cancelled:{booking.id}")


def add_event(ctx: Ctx, args: str) -> Reply:
    if not _may_create(ctx):
        raise NotAllowed(ctx._("Only coordinators and organisers can create events. A coordinator can make you "
                               "an organiser with /organiser."))
    request = parse_request(ctx, args)
    if not request.title:
        raise UsageError(ctx._("Give the event's title in quotes."), example=ADD_EXAMPLE)
    if not request.when_text:
        raise UserError(ctx._("When is it?"), example=ADD_EXAMPLE)
    when = _when(ctx, request.when_text, ADD_EXAMPLE)
    assert when.start is not None and when.end is not None
    if request.series_end is not None and request.recurrence is None:
        raise UserError(ctx._("An end (until, N times) goes with a repetition such as “chaque samedi”."),
                        example=ADD_EXAMPLE)
    until = _until(ctx, request.series_end)
    if until is not None and until < when.start:
        raise UserError(ctx._("The series would end before it starts."), example=ADD_EXAMPLE)
    if request.force and not ctx.is_coordinator:
        raise NotAllowed(ctx._("Only a coordinator can displace bookings."))
    try:
        event, occurrences, displaced = create_event(
            ctx.session, title=request.title, organiser_id=ctx.member_id, start=when.start, end=when.end,
            now=ctx.now, tz=ctx.tz, description=request.description or "",
            space_id=request.space.id if request.space else None, capacity=request.capacity,
            rule=request.recurrence.rule if request.recurrence else None,
            count=request.series_end.count if request.series_end else None, until=until, force=request.force)
    except SpaceBusy as busy:
        assert request.space is not None
        raise _busy(ctx, busy, request.space.name) from None
    except EventRefused as refused:
        raise _refused(ctx, refused) from None
    _tell_displaced(ctx, displaced, event.title)
    first = occurrences[0]
    if event.rrule:
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
    return card_reply(ctx, first, event, status=status)


def _notify_change(ctx: Ctx, event: Event, change: Change, *, cancelled: bool) -> int:
    """Tell everyone signed up (once per member, in their language) what changed."""
    by_member: dict[int, list[EventOccurrence]] = defaultdict(list)
    occurrences = {o.id: o for o in change.occurrences}
    for occurrence_id, member_ids in change.told.items():
        for member_id in member_ids:
            if member_id != ctx.member_id:
                by_member[member_id].append(occurrences[occurrence_id])
    for member_id, touched in by_member.items():
        member = ctx.session.get(Member, member_id)
        if member is None:
            continue
        t = ctx.translator_for(member)
        dates = "\n".join(f"• {t.fmt_range(o.start, o.end)}" for o in touched[:5])
        if len(touched) > 5:
            dates += "\n" + t.gettext("… and {n} more.").format(n=len(touched) - 5)
        if cancelled:
            text = t.gettext("Cancelled: “{title}”. You were signed up for:\n{dates}").format(
                title=event.title, dates=dates)
            key = f"event-cancelled:{event.id}:{member_id}:{','.join(str(o.id) for o in touched[:20])}"
        else:
            space = ctx.session.get(Space, event.space_id) if event.space_id else None
            text = t.gettext("“{title}” has changed:\n{dates}").format(title=event.title, dates=dates)
            if space is not None:
                text += "\n" + t.gettext("Place: {space}").format(space=space.name)
            key = f"event-changed:{event.id}:{event.sequence}:{member_id}:{touched[0].id}:{touched[0].sequence}"
        actions = () if cancelled else (Action(t.gettext("Leave"), f"/leave {touched[0].id}"),)
        ctx.notify_member(member_id, Reply(text, title=event.title, actions=actions), dedup_key=key[:255])
    return len(by_member)


def _notify_promoted(ctx: Ctx, promoted: Sequence[EventSignup]) -> None:
    for signup in promoted:
        member = ctx.session.get(Member, signup.member_id)
        occurrence, event = get_occurrence(ctx.session, signup.occurrence_id)
        if member is None:
            continue
        t = ctx.translator_for(member)
        ctx.notify_member(signup.member_id, Reply(
            t.gettext("A place freed up: you are now signed up for “{title}”, {when}. If you can no longer come, "
                      "give it back and it goes to the next person waiting.").format(
                title=event.title, when=t.fmt_range(occurrence.start, occurrence.end)),
            title=event.title, actions=(Action(t.gettext("Give my place back"), f"/leave {occurrence.id}"),)),
            dedup_key=f"event-promoted:{signup.id}:{signup.updated_at.isoformat()}")


def _split_all(ctx: Ctx, args: str) -> tuple[str, bool, str]:
    words = args.strip().split(maxsplit=1)
    if not words:
        raise UsageError(ctx._("Which event? Give its number (see /events)."))
    rest = words[1] if len(words) > 1 else ""
    parts = rest.split(maxsplit=1)
    if parts and fold(parts[0]) in {fold(w) for w in ALL_WORDS}:
        return words[0], True, parts[1] if len(parts) > 1 else ""
    return words[0], False, rest


def edit_event(ctx: Ctx, args: str) -> Reply:
    raw_id, whole, rest = _split_all(ctx, args)
    occurrence, event = _load(ctx, raw_id)
    _require_manage(ctx, event, occurrence.id or 0)
    if is_cancelled(occurrence, event):
        raise _refused(ctx, EventRefused("cancelled"), occurrence.id)
    request = parse_request(ctx, rest)
    if request.recurrence or request.series_end:
        raise UserError(ctx._("The repetition of a series can't be changed: cancel it and create a new one."))
    if request.force and not ctx.is_coordinator:
        raise NotAllowed(ctx._("Only a coordinator can displace bookings."))
    shared = [request.title, request.description, request.capacity, request.space]
    shared_change = any(v is not None for v in shared) or request.no_limit or request.no_space
    if not shared_change and not request.when_text:
        raise UsageError(ctx._("What should change? e.g. a new time, places 20, lieu <space>, \"New title\"."),
                         example=EDIT_EXAMPLE)
    series = event.rrule is not None
    if series and not whole and shared_change:
        raise UserError(ctx._("Title, places, place and description belong to the whole series: add “all”, "
                              "e.g. /event edit {id} all places 20").format(id=occurrence.id))
    when = _when(ctx, request.when_text, EDIT_EXAMPLE) if request.when_text else None
    space_name = request.space.name if request.space else None
    try:
        if when is not None and not (series and whole):
            assert when.start is not None and when.end is not None
            change = move_occurrence(ctx.session, occurrence, event, when.start, when.end, ctx.now, ctx.member_id,
                                     force=request.force)
            space_name = space_name or _space_name(ctx, event)
            if shared_change:
                change2 = edit_series(ctx.session, event, _series_edit(request, None, ctx), ctx.now, ctx.tz,
                                      ctx.member_id, force=request.force)
                change.promoted += change2.promoted
                change.cancelled_bookings += change2.cancelled_bookings
        else:
            times = None
            if when is not None:
                assert when.start is not None and when.end is not None
                times = (when.start.astimezone(ctx.tz).time(), wall_duration(when.start, when.end, ctx.tz))
            change = edit_series(ctx.session, event, _series_edit(request, times, ctx), ctx.now, ctx.tz,
                                 ctx.member_id, force=request.force)
    except SpaceBusy as busy:
        raise _busy(ctx, busy, space_name or _space_name(ctx, event) or "?") from None
    except EventRefused as refused:
        raise _refused(ctx, refused, occurrence.id) from None
    _tell_displaced(ctx, change.cancelled_bookings, event.title)
    told = _notify_change(ctx, event, change, cancelled=False)
    _notify_promoted(ctx, change.promoted)
    status = ctx._("Event updated.")
    if series and whole and when is not None:
        status += " " + ctx._("Each date keeps its day; the new hours apply to the dates to come.")
    if told:
        status += " " + ctx.ngettext("{n} person signed up has been told.", "{n} people signed up have been told.",
                                     told).format(n=told)
    ctx.session.refresh(occurrence)
    return card_reply(ctx, occurrence, event, status=status)


def _space_name(ctx: Ctx, event: Event) -> str | None:
    space = ctx.session.get(Space, event.space_id) if event.space_id else None
    return space.name if space else None


def _series_edit(request: EventRequest, times: tuple[time, timedelta] | None, ctx: Ctx) -> SeriesEdit:
    return SeriesEdit(title=request.title, description=request.description, capacity=request.capacity,
                      clear_capacity=request.no_limit, space_id=request.space.id if request.space else None,
                      clear_space=request.no_space, times=times)


def cancel_event(ctx: Ctx, args: str) -> Reply:
    raw_id, whole, _rest = _split_all(ctx, args)
    occurrence, event = _load(ctx, raw_id)
    _require_manage(ctx, event, occurrence.id or 0)
    try:
        if whole or event.rrule is None:
            change = cancel_series(ctx.session, event, ctx.now)
        else:
            change = cancel_occurrence(ctx.session, occurrence, event, ctx.now)
    except EventRefused as refused:
        raise _refused(ctx, refused, occurrence.id) from None
    told = _notify_change(ctx, event, change, cancelled=True)
    if whole and event.rrule is not None:
        text = ctx.ngettext("Series “{title}” cancelled: {n} date to come is off.",
                            "Series “{title}” cancelled: {n} dates to come are off.",
                            len(change.occurrences)).format(title=event.title, n=len(change.occurrences))
    else:
        text = ctx._("Cancelled: “{title}”, {when}.").format(
            title=event.title, when=ctx.translator.fmt_range(occurrence.start, occurrence.end))
    if told:
        text += "\n" + ctx.ngettext("{n} person signed up has been told.", "{n} people signed up have been told.",
                                    told).format(n=told)
    if event.rrule is not None and not whole:
        text += "\n" + ctx._("The other dates stay; /event cancel {id} all cancels the whole series.").format(
            id=occurrence.id)
    return Reply(text, edit_original=ctx.incoming.is_action)


# --- /join, /leave --------------------------------------------------------------------------------------------------

def _answer(ctx: Ctx, occurrence: EventOccurrence, event: Event, status: str) -> Reply:
    """In a group, a pressed button updates the event message in place (live count) and the member
    hears privately how it went (if they opened a private chat with the bot: the shared message is
    not the place for a personal note); elsewhere the answer carries the updated event message."""
    if ctx.incoming.is_action and not ctx.incoming.chat.is_private:
        if any(i.private_chat_id for i in identities_of(ctx.session, ctx.member_id)):
            own = find_signup(ctx.session, occurrence.id or 0, ctx.member_id)
            actions = card_actions(ctx.translator, load_card(ctx, occurrence, event), group=False, signup=own,
                                   now=ctx.now)
            ctx.notify_member(ctx.member_id, Reply(status, title=event.title, actions=actions))
        return card_reply(ctx, occurrence, event, edit=True, public=True)
    return card_reply(ctx, occurrence, event, status=status, edit=ctx.incoming.is_action)


@router.command("join", aliases=["inscrire", "participer"], help=N_("Sign up for an event"),
                usage=N_("/join <number>  e.g. /join 12"))
def join_event(ctx: Ctx, args: str) -> Reply:
    occurrence_id = _occurrence_id(ctx, args)
    try:
        occurrence, event = get_occurrence(ctx.session, occurrence_id)
        result = join(ctx.session, occurrence_id, ctx.member_id, ctx.now)
    except EventNotFound:
        raise UserError(ctx._("There is no event number {id}. /events lists them.").format(id=occurrence_id)) \
            from None
    except EventRefused as refused:
        if refused.reason == "past":
            raise UserError(ctx._("“{title}” has already started or is over.").format(title=event.title)) from None
        raise UserError(ctx._("“{title}” ({when}) is cancelled.").format(
            title=event.title, when=ctx.translator.fmt_range(occurrence.start, occurrence.end))) from None
    if result.already and result.status == SIGNUP_CONFIRMED:
        status = ctx._("You are already signed up.")
    elif result.already:
        status = ctx._("You are already on the waiting list (position {n}).").format(n=result.position)
    elif result.status == SIGNUP_CONFIRMED:
        status = ctx._("You are signed up for “{title}”, {when}.").format(
            title=event.title, when=ctx.translator.fmt_range(occurrence.start, occurrence.end))
    else:
        status = ctx._("It's full: you are on the waiting list, position {n}. If a place frees up, it's yours and "
                       "I'll tell you.").format(n=result.position)
    return _answer(ctx, occurrence, event, status)


@router.command("leave", aliases=["desinscrire", "quitter"], help=N_("Give back your place at an event"),
                usage=N_("/leave <number>  e.g. /leave 12"))
def leave_event(ctx: Ctx, args: str) -> Reply:
    occurrence_id = _occurrence_id(ctx, args)
    try:
        occurrence, event = get_occurrence(ctx.session, occurrence_id)
        result = leave(ctx.session, occurrence_id, ctx.member_id, ctx.now)
    except EventNotFound:
        raise UserError(ctx._("There is no event number {id}. /events lists them.").format(id=occurrence_id)) \
            from None
    except EventRefused:
        raise UserError(ctx._("“{title}” is already over.").format(title=event.title)) from None
    if result.was is None:
        status = ctx._("You weren't signed up for “{title}”; nothing changed.").format(title=event.title)
    elif result.was == SIGNUP_WAITLISTED:
        status = ctx._("You have left the waiting list of “{title}”.").format(title=event.title)
    else:
        status = ctx._("You have given back your place at “{title}”.").format(title=event.title)
        if result.promoted:
            status += " " + ctx._("It goes to the next person waiting.")
    _notify_promoted(ctx, result.promoted)
    return _answer(ctx, occurrence, event, status)


# --- /myevents, /attendees --------------------------------------------------------------------------------------------

@router.command("myevents", aliases=["mesevenements"], help=N_("The events you signed up for"),
                usage=N_("/myevents"))
def my_events(ctx: Ctx, args: str) -> Reply:
    rows = member_signups(ctx.session, ctx.member_id, ctx.now)
    if not rows:
        return Reply(ctx._("You haven't signed up for anything yet. /events shows what's coming."),
                     title=ctx._("Your events"))
    lines = []
    for signup, occurrence, event in rows:
        line = f"#{occurrence.id} {ctx.translator.fmt_range(occurrence.start, occurrence.end)} — {event.title}"
        if is_cancelled(occurrence, event):
            line += " — " + ctx._("cancelled")
        elif signup.status == SIGNUP_WAITLISTED:
            line += " — " + ctx._("waiting list, position {n}").format(n=waitlist_position(ctx.session, signup))
        else:
            line += " — " + ctx._("signed up")
        lines.append(line)
    actions = tuple(Action(ctx._("Leave #{id}").format(id=o.id), f"/leave {o.id}") for _, o, e in rows[:5]
                    if not is_cancelled(o, e))
    return Reply("\n".join(lines), title=ctx._("Your events"), actions=actions)


@router.command("attendees", aliases=["participants", "inscrits"],
                help=N_("Who comes to an event (its organiser and coordinators)"), usage=N_("/attendees <number>"))
def attendees(ctx: Ctx, args: str) -> list[Reply]:
    occurrence, event = _load(ctx, args)
    if not (ctx.is_coordinator or event.organiser_id == ctx.member_id):
        raise NotAllowed(ctx._("Only its organiser or a coordinator sees who comes."))
    if not ctx.incoming.chat.is_private:
        raise UserError(ctx._("Ask me in a private chat: names aren't shown in groups."))
    rows = signups_of_occurrence(ctx.session, occurrence.id or 0)
    confirmed = [m.display_name for s, m in rows if s.status == SIGNUP_CONFIRMED]
    waiting = [m.display_name for s, m in rows if s.status == SIGNUP_WAITLISTED]
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
    return replies


# --- /organiser ---------------------------------------------------------------------------------------------

REMOVE_WORDS = {"remove", "retirer", "revoke", "enlever", "supprimer", "off"}


@router.command("organiser", aliases=["organisateur", "organizer"], coordinator_only=True,
                help=N_("Let a member create events, or stop them (coordinators)"),
                usage=N_("/organiser <member> | /organiser remove <member> | /organiser (list)"))
def organiser(ctx: Ctx, args: str) -> Reply:
    try:
        words = shlex.split(args)
    except ValueError:
        words = args.split()
    if not words:
        names = ", ".join(m.display_name for m in organisers(ctx.session))
        return Reply(names or ctx._("Nobody yet. /organiser <member> names one."), title=ctx._("Organisers"))
    remove = fold(words[0]) in REMOVE_WORDS
    who = " ".join(words[1:] if remove else words)
    if not who:
        raise UsageError(ctx._("Who?"))
    member = one_member_named(ctx, who)
    changed = set_organiser(ctx.session, member, not remove)
    assert member.id is not None
    if remove:
        text = ctx._("{name} can no longer create events.") if changed else ctx._("{name} wasn't an organiser.")
        return Reply(text.format(name=member.display_name))
    if changed:
        t = ctx.translator_for(member)
        ctx.notify_member(member.id, Reply(t.gettext(
            "You can now create events, e.g. /event add \"Repair café\" saturday 14:00-18:00 places 12.")))
        return Reply(ctx._("{name} can now create events.").format(name=member.display_name))
    return Reply(ctx._("{name} is already an organiser.").format(name=member.display_name))
