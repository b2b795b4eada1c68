"""What the event commands share: the router, who may do what, the event a number names, and how a
refusal is said."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.errors import NotAllowed, UserError
from bot.core.grammar.args import NumberArg
from bot.core.i18n import N_
from bot.core.router import Router
from storage.events import EventNotFound, EventRefused, SpaceBusy, get_occurrence
from storage.models import Space
from storage.models_events import Event, EventOccurrence
from storage.places import coordinated_sites
from storage.spaces import space_views

router = Router("events")

MAX_NAMES = 30  # past this, the event message shows counts and points to /attendees
MAX_CARD_CHARS = 3900  # Telegram's limit is 4,096; a card must stay one message so it can be edited
MAX_DESCRIPTION_SHOWN = 600
LIST_LIMIT = 20
ALL_WORDS = ("tout", "toutes", "tous", "serie", "series", "série")
EVENT_QUESTION = N_("Which event? Give its number (see /events).")


def event_number() -> NumberArg:
    return NumberArg("number", question=EVENT_QUESTION)


# --- permissions -----------------------------------------------------------------------------------------------

def may_create(ctx: Ctx) -> bool:
    """Coordinators, organisers, and a place's coordinators (for events at their place's spaces)."""
    return ctx.is_coordinator or ctx.member.is_organiser or bool(coordinated_sites(ctx.session, ctx.member_id))


def may_manage(ctx: Ctx, event: Event) -> bool:
    return (ctx.is_coordinator or (ctx.member.is_organiser and event.organiser_id == ctx.member_id)
            or manages_place_of(ctx, event.space_id))


def manages_place_of(ctx: Ctx, space_id: int | None) -> bool:
    """A place's coordinator (/coordinateur) manages the events held at their place's spaces (issue 18)."""
    space = ctx.session.get(Space, space_id) if space_id is not None else None
    return space is not None and ctx.can_manage(space.site_id)


def sees_names(ctx: Ctx, event: Event) -> bool:
    return ctx.incoming.chat.is_private and (ctx.is_coordinator or event.organiser_id == ctx.member_id)


def require_manage(ctx: Ctx, event: Event, occurrence_id: int) -> None:
    if not may_manage(ctx, event):
        raise NotAllowed(ctx._("Only its organiser or a coordinator can change event {id}.").format(id=occurrence_id))


def load(ctx: Ctx, occurrence_id: int) -> tuple[EventOccurrence, Event]:
    try:
        return get_occurrence(ctx.session, occurrence_id)
    except EventNotFound:
        raise UserError(ctx._("There is no event number {id}. /events lists them.").format(id=occurrence_id)) \
            from None


def space_name(ctx: Ctx, event: Event) -> str | None:
    space = ctx.session.get(Space, event.space_id) if event.space_id else None
    return space.name if space else None


def space_names(ctx: Ctx) -> dict[int, str]:
    return {s.id: s.name for s in space_views(ctx.session, include_closed=True)}


def busy_error(ctx: Ctx, busy: SpaceBusy, space_name: str) -> UserError:
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


def refused_error(ctx: Ctx, refused: EventRefused, occurrence_id: int | None = None) -> UserError:
    messages = {
        "past": lambda: ctx._("That time is already past."),
        "cancelled": lambda: ctx._("Event {id} is cancelled.").format(id=occurrence_id),
        "no_occurrence": lambda: ctx._("That series has no date at all; check its end."),
        "too_many": lambda: ctx._("That makes more than {max} dates; give an earlier end (until <date> or N times).")
        .format(max=refused.params.get("max")),
    }
    return UserError(messages[refused.reason]())
