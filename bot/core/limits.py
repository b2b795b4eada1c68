"""Per-member limits with a friendly answer: one member cannot fill the calendar or the reminder queue
(10,000 reminders in 18 s, every meeting-room slot of two months in 4 s were measured). Coordinators
are not limited; the limits are settings (MAX_PENDING_REMINDERS, MAX_FUTURE_BOOKINGS_PER_SPACE).
Handlers call these with one line before they create something."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.errors import UserError
from storage.member_limits import at_limit, future_bookings_in_space, pending_personal_reminders


def check_room_for_reminder(ctx: Ctx) -> None:
    limit = ctx.settings.max_pending_reminders
    if not ctx.is_coordinator and at_limit(pending_personal_reminders(ctx.session, ctx.member_id), limit):
        raise UserError(ctx.ngettext(
            "You already have {n} reminder waiting, the most one member can have. Cancel one first.",
            "You already have {n} reminders waiting, the most one member can have. Cancel one first.",
            limit).format(n=limit), example="/reminders")


def check_room_for_booking(ctx: Ctx, space_id: int, space_name: str, count: int | None = None) -> None:
    """``count``: the member's bookings to come in the space when the caller already read them (under the
    space's lock, storage.bookings.hold_space); otherwise counted here."""
    limit = ctx.settings.max_future_bookings_per_space
    if ctx.is_coordinator:
        return
    if count is None:
        count = future_bookings_in_space(ctx.session, ctx.member_id, space_id, ctx.now)
    if at_limit(count, limit):
        raise UserError(ctx.ngettext(
            "You already have {n} booking to come for {space}, the most one member can have. "
            "Cancel one first, or ask a coordinator.",
            "You already have {n} bookings to come for {space}, the most one member can have. "
            "Cancel one first, or ask a coordinator.",
            limit).format(n=limit, space=space_name), example="/mybookings")
