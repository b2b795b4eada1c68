"""Turn domain errors (dates, space lookups, refused bookings) into sentences in the member's language."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.dates import DateParseError
from bot.core.errors import UserError
from storage.booking_rules import BookingRefused
from storage.members import find_member_by_name
from storage.models import Member
from storage.spaces import AmbiguousSpace, SpaceNotFound


def date_error(ctx: Ctx, error: DateParseError, example: str | None = None) -> UserError:
    example = example or ctx._("/book salle-reunion tomorrow 14:00-16:00")
    messages = {
        "no_date": ctx._("I couldn't read the date or time."),
        "impossible_date": ctx._("That date doesn't exist."),
        "reversed": ctx._("The end time comes before the start time."),
        "no_end": ctx._("Please give an end time or a length."),
        "nonexistent_time": ctx._("That time doesn't exist on that day (the clocks change)."),
    }
    return UserError(messages.get(error.code, messages["no_date"]), example=example)


def space_error(ctx: Ctx, error: LookupError) -> UserError:
    if isinstance(error, AmbiguousSpace):
        names = ", ".join(f"{s.name} ({s.slug})" for s in error.candidates[:5])
        return UserError(ctx._("Several spaces match “{query}”: {names}. Which one?")
                         .format(query=error.query[:40], names=names))
    assert isinstance(error, SpaceNotFound)
    if error.suggestions:
        names = ", ".join(s.slug for s in error.suggestions)
        return UserError(ctx._("I don't know the space “{query}”. Did you mean {names}?")
                         .format(query=error.query[:40], names=names))
    return UserError(ctx._("I don't know the space “{query}”. /spaces lists them.").format(query=error.query[:40]))


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


def one_member_named(ctx: Ctx, who: str) -> Member:
    """The member a coordinator names (display name or chat id), or a sentence saying why not."""
    members = find_member_by_name(ctx.session, who)
    if not members:
        raise UserError(ctx._("I don't know anyone called “{who}”. They must have written to me once.")
                        .format(who=who[:40]))
    if len(members) > 1:
        names = ", ".join(m.display_name for m in members[:5])
        raise UserError(ctx._("Several members match “{who}”: {names}.").format(who=who[:40], names=names))
    return members[0]
