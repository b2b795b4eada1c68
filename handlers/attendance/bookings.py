"""Bookings: a space can require a check-in within N minutes of a booking's start (/spacecheckin,
/pointage, coordinators); the member checks in with /checkin (/ici) or the button of the booking reminder;
a booking nobody checked in by then is released by a job and its member told.

Offering the freed slot: whoever watches it (/watch, offered when /book is refused because the slot is full)
is told privately with a one-press /book (handlers/watch.py)."""

from __future__ import annotations

from sqlmodel import Session

from bot.core.context import Ctx, JobCtx
from bot.core.errors import UserError
from bot.core.grammar.args import NumberArg, WordArg
from bot.core.grammar.refs import SpaceArg
from bot.core.i18n import N_, Translator
from bot.core.router import is_number
from bot.core.types import Action, Reply
from handlers.attendance.common import router
from handlers.watch import offer_freed_slots
from storage import attendance as store
from storage.bookings import cancel_booking
from storage.models import Booking, Member, Space
from storage.spaces import SpaceView

MAX_CHECKIN_MINUTES = 240
OFF_WORDS = {"off", "non", "aucun", "none", "0"}


@router.typed("spacecheckin", aliases=["pointage"], coordinator_only=True,
              help=N_("Require a check-in within N minutes of a booking's start, or release it (coordinators)"),
              args=(SpaceArg("space"), WordArg("minutes", question=N_("How many minutes after the start? e.g. 15, "
                                                                    "or off"))),
              examples=(N_("/spacecheckin salle-reunion 15"), N_("/spacecheckin salle-reunion off")))
def space_checkin(ctx: Ctx, space: SpaceView, minutes: str) -> Reply:
    if minutes.lower() in OFF_WORDS:
        store.set_checkin_rule(ctx.session, space.id, None)
        return Reply(ctx._("Bookings of {space} no longer need a check-in.").format(space=space.name))
    if not is_number(minutes, max_digits=4) or not 1 <= int(minutes) <= MAX_CHECKIN_MINUTES:
        raise UserError(ctx._("Give minutes between 1 and {max}, or off.").format(max=MAX_CHECKIN_MINUTES),
                        example="/pointage salle-reunion 15")
    store.set_checkin_rule(ctx.session, space.id, int(minutes))
    return Reply(ctx._("Bookings of {space} must now be checked in within {n} minutes of their start (/checkin); "
                       "otherwise they are released and their member told.").format(space=space.name, n=minutes))


def checkin_actions(session: Session, booking: Booking, t: Translator) -> tuple[Action, ...]:
    """The check-in button of a booking reminder, when its space requires one."""
    if booking.id is None or booking.space_id not in store.checkin_rules(session):
        return ()
    return (Action(t.gettext("I'm here"), router.line("bookingcheckin", booking.id)),)


@router.typed("bookingcheckin", aliases=["pointer-reservation"], hidden=True,
              help=N_("Check in for your booking"), args=(NumberArg("number"),),
              examples=(N_("/bookingcheckin 3"),))
def booking_checkin(ctx: Ctx, number: int) -> Reply:
    booking = ctx.session.get(Booking, number)
    if booking is None or booking.member_id != ctx.member_id:
        raise UserError(ctx._("You have no booking number {id}.").format(id=number))
    return check_in_booking(ctx, booking)


def check_in_booking(ctx: Ctx, booking: Booking) -> Reply:
    space = ctx.session.get(Space, booking.space_id)
    name = space.name if space else "?"
    minutes = store.checkin_rules(ctx.session).get(booking.space_id)
    if booking.status != "active":
        raise UserError(ctx._("That booking is no longer active."))
    if minutes is not None:
        opens, closes = store.checkin_window(booking, minutes)
        if ctx.now < opens:
            raise UserError(ctx._("Too early: check in from {time}.").format(time=ctx.translator.fmt_time(opens)))
        row = store.booking_checkin(ctx.session, booking.id or 0)
        if ctx.now > closes and (row is None or row.checked_in_at is None):
            raise UserError(ctx._("Too late: check-in closed at {time}.").format(time=ctx.translator.fmt_time(closes)))
    done = store.check_in_booking(ctx.session, booking, ctx.now)
    text = ctx._("Checked in at {space}, {when}.") if done else ctx._("You were already checked in at {space}.")
    return Reply(text.format(space=name, when=ctx.translator.fmt_range(booking.start, booking.end)))


@router.job("booking-no-show", every_seconds=60)
def release_no_shows(ctx: JobCtx) -> None:
    released = store.bookings_to_release(ctx.session, ctx.now)
    for booking, minutes in released:
        cancel_booking(ctx.session, booking, booking.member_id, ctx.now)
        store.mark_released(ctx.session, booking, ctx.now)
        space = ctx.session.get(Space, booking.space_id)
        member = ctx.session.get(Member, booking.member_id)
        if member is None:
            continue
        t = ctx.translator_for(member)
        ctx.notify_member(booking.member_id, Reply(t.gettext(
            "Nobody checked in within {n} minutes of the start, so your booking of {space}, {when} was released "
            "for others.").format(n=minutes, space=space.name if space else "?",
                                  when=t.fmt_range(booking.start, booking.end))),
            dedup_key=f"booking-released-{booking.id}")
    for space_id in sorted({booking.space_id for booking, _minutes in released}):
        offer_freed_slots(ctx, space_id)  # whoever watches a slot now free is told
