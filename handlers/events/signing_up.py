"""Members sign up and give their place back: /join, /leave (also the buttons of an event message)."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.i18n import N_
from bot.core.types import Reply
from handlers.events.cards import card_reply, refresh_posted_cards
from handlers.events.common import event_number, router
from handlers.events.notifying import notify_promoted
from storage.chats import remember_posted_card
from storage.events import EventNotFound, EventRefused, get_occurrence, join, leave
from storage.models_events import SIGNUP_CONFIRMED, SIGNUP_WAITLISTED, Event, EventOccurrence


def answer(ctx: Ctx, occurrence: EventOccurrence, event: Event, status: str) -> list[Reply]:
    """In a group, a pressed button updates the event message in place (live count, in the group's
    language) and the member alone hears how it went (Reply.personal: the button's pop-up on Telegram;
    the shared message is not the place for a personal note); elsewhere the answer carries the updated
    event message."""
    incoming = ctx.incoming
    if incoming.is_action and not incoming.chat.is_private and incoming.message_id and occurrence.id:
        # The pressed message is this event's card in this group: later sign-ups update it too.
        remember_posted_card(ctx.session, occurrence.id, incoming.chat.platform.value, incoming.chat.chat_id,
                             incoming.message_id, ctx.now)
    refresh_posted_cards(ctx, occurrence, event)
    if incoming.is_action and not incoming.chat.is_private:
        # The presser's pop-up first: it must arrive while their button still waits for it.
        return [Reply(status, personal=True), card_reply(ctx, occurrence, event, edit=True, public=True)]
    return [card_reply(ctx, occurrence, event, status=status, edit=incoming.is_action)]


@router.typed("join", aliases=["inscrire", "participer"], help=N_("Sign up for an event"), args=(event_number(),),
              examples=(N_("/join 12"), N_("/join n°12")))
def join_event(ctx: Ctx, number: int) -> list[Reply]:
    occurrence_id = number
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
    return answer(ctx, occurrence, event, status)


@router.typed("leave", aliases=["desinscrire", "quitter"], help=N_("Give back your place at an event"),
              args=(event_number(),), examples=(N_("/leave 12"),))
def leave_event(ctx: Ctx, number: int) -> list[Reply]:
    occurrence_id = number
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
    notify_promoted(ctx, result.promoted)
    return answer(ctx, occurrence, event, status)
