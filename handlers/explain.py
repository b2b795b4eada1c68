"""Turn domain errors (dates, space lookups, refused bookings) into sentences in the member's language.

The sentences for what the grammar reads (dates, spaces, members) live with the grammar
(``bot.core.grammar``); they are re-exported here for the handlers that import them from this module."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.grammar.moments import date_error, duration_error
from bot.core.grammar.refs import space_error
from bot.core.member_refs import one_member_named
from storage.booking_rules import BookingRefused

__all__ = ["date_error", "duration_error", "one_member_named", "refusal_reason", "space_error", "waived_reasons"]


def refusal_reason(ctx: Ctx, refused: BookingRefused) -> str:
    p = refused.params
    reasons = {
        "closed_space": lambda: ctx._("This space is closed for bookings."),
        "past": lambda: ctx._("That time is already past."),
        "too_long": lambda: ctx._("Bookings here last {max} at most.").format(
            max=ctx.translator.fmt_duration(int(p["max_minutes"]))),
        "too_far": lambda: ctx.ngettext("You can book at most {n} day ahead.",
                                        "You can book at most {n} days ahead.",
                                        int(p["days"])).format(n=p["days"]),
        "outside_hours": lambda: ctx._("That is outside the opening hours."),
        "qualification": lambda: ctx._("This space needs the “{name}” qualification; "
                                       "ask a coordinator to grant it.").format(name=p["qualification"]),
        "quota": lambda: ctx._("That would exceed your weekly quota of {quota} here ({used} already booked).")
        .format(quota=ctx.translator.fmt_duration(int(p["quota_minutes"])),
                used=ctx.translator.fmt_duration(int(p["used_minutes"]))),
        "full": lambda: ctx._("It is already fully booked at that time."),
        "event": lambda: ctx._("The space is reserved for the event “{title}” at that time.").format(title=p["title"]),
    }
    return reasons[refused.reason]()


def waived_reasons(ctx: Ctx, waived: list[BookingRefused]) -> str:
    """'3 h > 2 h max, 40 days ahead > 30 max': the rules a coordinator's booking is outside of."""
    fmt = ctx.translator.fmt_duration
    parts = []
    for rule in waived:
        p = rule.params
        if rule.reason == "too_long":
            parts.append(ctx._("{length} > {max} max").format(length=fmt(int(p["minutes"])),
                                                              max=fmt(int(p["max_minutes"]))))
        elif rule.reason == "too_far":
            parts.append(ctx.ngettext("more than {n} day ahead", "more than {n} days ahead",
                                      int(p["days"])).format(n=p["days"]))
        elif rule.reason == "qualification":
            parts.append(ctx._("without the “{name}” qualification").format(name=p["qualification"]))
        elif rule.reason == "quota":
            parts.append(ctx._("over the weekly quota of {quota}").format(quota=fmt(int(p["quota_minutes"]))))
    return ", ".join(parts)
