"""Booking spaces: /book, /mybookings, /cancel (/free is in handlers/availability.py)."""

from __future__ import annotations

from datetime import datetime

from bot.core.context import Ctx
from bot.core.dates import When
from bot.core.errors import NotAllowed, UserError
from bot.core.grammar.args import NumberArg
from bot.core.grammar.moments import WhenArg
from bot.core.grammar.refs import SpaceArg
from bot.core.i18n import N_
from bot.core.limits import check_room_for_booking
from bot.core.router import Router
from bot.core.types import Action, Reply
from handlers.explain import refusal_reason, waived_reasons
from handlers.reminders import schedule_booking_reminder
from handlers.telling import tell_member
from handlers.watch import offer_freed_slots, watch_action
from storage import reminders
from storage.booking_rules import BookingRefused, find_free_slots, waived_rules
from storage.bookings import (
    BookingNotFound,
    alternatives,
    cancel_booking,
    create_booking,
    get_booking,
    hold_space,
    suggestion_window,
    upcoming_booking_lines,
)
from storage.catalog import space_catalog
from storage.models import Booking, Space
from storage.spaces import SpaceView

router = Router("bookings")


def _alternatives(ctx: Ctx, space: SpaceView, start: datetime, end: datetime) -> tuple[list[str], tuple[Action, ...]]:
    """Nearest free slots of the same length here (also as buttons), and similar spaces free at the
    asked time (read together: storage.bookings.alternatives)."""
    lines: list[str] = []
    similar = [s for s in space_catalog(ctx.session).open_views if s.kind == space.kind and s.id != space.id]
    found = alternatives(ctx.session, space, suggestion_window(start), similar, start, end, ctx.tz, limit=3)
    slots = find_free_slots(space.rules, found.taken, end - start, start, ctx.now, ctx.tz)
    if slots:
        lines.append(ctx._("Free in {space}:").format(space=space.name))
        lines += [f"• {ctx.translator.fmt_range(s, e)}" for s, e in slots]
    actions = []
    for s, e in slots[:2]:
        ls, le = s.astimezone(ctx.tz), e.astimezone(ctx.tz)
        actions.append(Action(ctx.translator.fmt_range(s, e), book.line(space, f"{ls:%Y-%m-%d} {ls:%H:%M}-{le:%H:%M}")))
    if found.free_similar:
        names = ", ".join(f"{s.name} ({s.slug})" for s in found.free_similar)
        lines.append(ctx._("Free at that time: {names}").format(names=names))
    return lines, tuple(actions)


@router.typed("book", aliases=["reserver"], help=N_("Book a space"),
              args=(SpaceArg("space", question=N_("Which space, and when?")),
                    WhenArg("when", optional=True, shown_optional=False,
                            example=N_("/book salle-reunion tomorrow 14:00-16:00"))),
              examples=(N_("/book salle-reunion tomorrow 14:00-16:00"), N_("/book cuisine friday 12:00-14:00")))
def book(ctx: Ctx, space: SpaceView, when: When | None) -> Reply:
    example = f"/book {space.slug} " + ctx._("tomorrow 14:00-16:00")
    if when is None:
        raise UserError(ctx._("When would you like {space}?").format(space=space.name), example=example)
    assert when.start is not None and when.end is not None
    waived: list[BookingRefused] = []
    # the space's lock, its rules, what occupies it then, the member's bookings there
    held = hold_space(ctx.session, space.id, ctx.member_id, when.start, when.end, ctx.now, ctx.tz)
    if ctx.is_coordinator:
        waived = waived_rules(held.rules, when.start, when.end, ctx.now, ctx.tz,
                              member_bookings=held.week_bookings, qualifications=held.qualifications)
    # per-member limit (MAX_FUTURE_BOOKINGS_PER_SPACE)
    check_room_for_booking(ctx, space.id, space.name, count=held.future_bookings)
    try:
        booking = create_booking(ctx.session, held, ctx.now, ctx.tz, is_coordinator=ctx.is_coordinator,
                                 reminder_minutes=ctx.settings.booking_reminder_minutes)
    except BookingRefused as refused:
        lines = [ctx._("I can't book {space} for {when}: {reason}").format(
            space=space.name, when=ctx.translator.fmt_range(when.start, when.end), reason=refusal_reason(ctx, refused))]
        actions: tuple[Action, ...] = ()
        if refused.reason in {"full", "event", "outside_hours", "past"}:
            more, actions = _alternatives(ctx, space, when.start, when.end)
            lines += more
        if refused.reason == "full" and when.start > ctx.now:
            actions = (*actions, watch_action(ctx, space, when.start, when.end))
        return Reply("\n".join(lines), actions=actions)
    if not booking.reminded:  # PostgreSQL inserts it with the booking when the member kept the default lead
        schedule_booking_reminder(ctx, booking)
    name = space_catalog(ctx.session).display_name(space.name, space.site_id)  # "(Orgelet)" if another place has one
    text = ctx._("Booked: {space}, {when}. Booking number {id}.").format(
        space=name, when=ctx.translator.fmt_range(booking.start, booking.end), id=booking.id)
    if waived:
        text += "\n" + ctx._("Outside the rules (coordinator): {reasons}.").format(reasons=waived_reasons(ctx, waived))
    return Reply(text, actions=(Action(ctx._("Cancel"), cancel.line(booking.id)),))


def _describe(ctx: Ctx, booking: Booking, space: Space | None) -> str:
    name = space.name if space else "?"
    return f"#{booking.id} {name}, {ctx.translator.fmt_range(booking.start, booking.end)}"


@router.typed("mybookings", aliases=["mesreservations"], help=N_("List your upcoming bookings"),
              examples=(N_("/mybookings"),), read_only=True)
def my_bookings(ctx: Ctx) -> Reply:
    bookings = upcoming_booking_lines(ctx.session, ctx.member_id, ctx.now)
    if not bookings:
        return Reply(ctx._("You have no upcoming bookings. Book with /book salle-reunion tomorrow 14:00-16:00"))
    lines = [f"#{number} {name}, {ctx.translator.fmt_range(start, end)}" for number, name, start, end in bookings]
    actions = tuple(Action(ctx._("Cancel #{id}").format(id=number), cancel.line(number))
                    for number, _name, _start, _end in bookings[:5])
    return Reply("\n".join(lines), title=ctx._("Your bookings"), actions=actions)


@router.typed("cancel", aliases=["annuler"], help=N_("Cancel one of your bookings"),
              args=(NumberArg("number", question=N_("Which booking? Give its number (see /mybookings).")),),
              examples=(N_("/cancel 3"), N_("/cancel n°3")))
def cancel(ctx: Ctx, number: int) -> Reply:
    try:
        booking = get_booking(ctx.session, number)
    except BookingNotFound:
        raise UserError(ctx._("There is no booking number {id}. /mybookings lists yours.").format(id=number)) from None
    own = booking.member_id == ctx.member_id
    if not own and not ctx.is_coordinator:
        raise NotAllowed(ctx._("Booking {id} isn't yours, so you can't cancel it.").format(id=number))
    space = ctx.session.get(Space, booking.space_id)
    if booking.status != "active":
        return Reply(ctx._("Booking {id} was already cancelled.").format(id=number),
                     edit_original=ctx.incoming.is_action)
    if booking.end <= ctx.now:
        raise UserError(ctx._("Booking {id} is already over.").format(id=number))
    cancel_booking(ctx.session, booking, ctx.member_id, ctx.now)
    reminders.cancel_for(ctx.session, "booking", str(booking.id))
    offer_freed_slots(ctx, booking.space_id)  # whoever watches a slot now free is told
    if not own:
        tell_member(ctx, booking.member_id, lambda t: t.gettext(
            "A coordinator ({name}) cancelled your booking: {space}, {when}.").format(
            name=ctx.member.display_name, space=space.name if space else "?",
            when=t.fmt_range(booking.start, booking.end)), dedup_key=f"booking-cancelled:{booking.id}")
    text = ctx._("Cancelled: {booking}.").format(booking=_describe(ctx, booking, space))
    if not own:
        text += "\n" + ctx._("The booker has been told.")
    return Reply(text, edit_original=ctx.incoming.is_action)
