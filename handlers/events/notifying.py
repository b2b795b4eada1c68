"""Telling people what an organiser's change means for them, each privately and in their own language:
bookers whose booking an event displaced, members signed up for a changed or cancelled date, and
whoever a freed place now goes to."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from bot.core.context import Ctx
from bot.core.i18n import Translator
from bot.core.types import Action, Reply
from handlers.events.common import router
from handlers.telling import tell_member
from storage.events import Change, get_occurrence
from storage.models import Booking, Space
from storage.models_events import Event, EventOccurrence, EventSignup


def tell_displaced(ctx: Ctx, bookings: Sequence[Booking], title: str) -> None:
    for booking in bookings:
        if booking.member_id == ctx.member_id:
            continue
        space = ctx.session.get(Space, booking.space_id)

        def message(t: Translator, b: Booking = booking, s: Space | None = space) -> str:
            return t.gettext("Your booking {space}, {when} was cancelled: the event “{title}” takes the space.").format(
                space=s.name if s else "?", when=t.fmt_range(b.start, b.end), title=title)

        tell_member(ctx, booking.member_id, message, dedup_key=f"booking-cancelled:{booking.id}")


def notify_change(ctx: Ctx, event: Event, change: Change, *, cancelled: bool) -> int:
    """Tell everyone signed up (once per member, in their language) what changed."""
    by_member: dict[int, list[EventOccurrence]] = defaultdict(list)
    occurrences = {o.id: o for o in change.occurrences}
    for occurrence_id, member_ids in change.told.items():
        for member_id in member_ids:
            if member_id != ctx.member_id:
                by_member[member_id].append(occurrences[occurrence_id])
    space = ctx.session.get(Space, event.space_id) if event.space_id else None
    for member_id, touched in by_member.items():
        def message(t: Translator, touched: list[EventOccurrence] = touched) -> Reply:
            dates = "\n".join(f"• {t.fmt_range(o.start, o.end)}" for o in touched[:5])
            if len(touched) > 5:
                dates += "\n" + t.gettext("… and {n} more.").format(n=len(touched) - 5)
            if cancelled:
                text = t.gettext("Cancelled: “{title}”. You were signed up for:\n{dates}").format(
                    title=event.title, dates=dates)
                return Reply(text, title=event.title)
            text = t.gettext("“{title}” has changed:\n{dates}").format(title=event.title, dates=dates)
            if space is not None:
                text += "\n" + t.gettext("Place: {space}").format(space=space.name)
            leave = Action(t.gettext("Leave"), router.line("leave", touched[0].id))
            return Reply(text, title=event.title, actions=(leave,))

        if cancelled:
            key = f"event-cancelled:{event.id}:{member_id}:{','.join(str(o.id) for o in touched[:20])}"
        else:
            key = f"event-changed:{event.id}:{event.sequence}:{member_id}:{touched[0].id}:{touched[0].sequence}"
        tell_member(ctx, member_id, message, dedup_key=key[:255])
    return len(by_member)


def notify_promoted(ctx: Ctx, promoted: Sequence[EventSignup]) -> None:
    for signup in promoted:
        occurrence, event = get_occurrence(ctx.session, signup.occurrence_id)

        def message(t: Translator, o: EventOccurrence = occurrence, e: Event = event) -> Reply:
            return Reply(t.gettext("A place freed up: you are now signed up for “{title}”, {when}. If you can no "
                                   "longer come, give it back and it goes to the next person waiting.").format(
                title=e.title, when=t.fmt_range(o.start, o.end)),
                title=e.title, actions=(Action(t.gettext("Give my place back"), router.line("leave", o.id)),))

        tell_member(ctx, signup.member_id, message,
                    dedup_key=f"event-promoted:{signup.id}:{signup.updated_at.isoformat()}")
