"""/calendar: a member's calendar links (their own feed, and the public programme), and /calendar reset."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.errors import UsageError
from bot.core.i18n import N_
from bot.core.router import Router, fold
from bot.core.types import Reply
from bot.ical import EVENTS_PATH, MEMBER_PATH, PLACE_PATH, SPACE_PATH, feed_links
from storage.events import calendar_token, reset_calendar_token
from storage.places import is_network, places
from storage.spaces import list_spaces

router = Router("calendar")

RESET_WORDS = {"reset", "reinitialiser", "renouveler", "nouveau", "new"}
SPACES_SHOWN = 8


def space_lines(ctx: Ctx, public_url: str) -> list[str]:
    """Each space's feed, by name (a long list ends with the other spaces' short names)."""
    spaces = list_spaces(ctx.session)
    if not spaces:
        return []
    lines = [ctx._("Each space's bookings and events:")]
    lines += [ctx._("{space}: {url}").format(space=space.name,
                                              url=feed_links(public_url, SPACE_PATH.format(slug=space.slug))[0])
              for space in spaces[:SPACES_SHOWN]]
    others = spaces[SPACES_SHOWN:]
    if others:
        lines.append(ctx.ngettext(
            "And {count} other space: the same link ending with {slugs}.",
            "And {count} other spaces: the same link ending with one of {slugs}.", len(others)).format(
                count=len(others), slugs=", ".join(f"{s.slug}.ics" for s in others)))
    return lines


def place_lines(ctx: Ctx, public_url: str) -> list[str]:
    """A network of places: each place's programme (none with one place)."""
    if not is_network(ctx.session):
        return []
    lines = [ctx._("Each place's programme:")]
    lines += [ctx._("{space}: {url}").format(space=site.name, url=feed_links(public_url, PLACE_PATH.format(
        slug=site.slug))[0]) for site in places(ctx.session)]
    return [*lines, ""]


@router.command("calendar", aliases=["calendrier", "ical"], help=N_("Your calendar links (Google, Thunderbird, Apple)"),
                usage=N_("/calendar [reset]"))
def calendar(ctx: Ctx, args: str) -> Reply:
    word = fold(args.strip())
    if word and word not in RESET_WORDS:
        raise UsageError(ctx._("Say /calendar for your links, or /calendar reset for a new personal link."))
    public_url = ctx.settings.public_url
    if not public_url:
        return Reply(ctx._("The calendar feeds aren't published: the bot has no public address yet. A coordinator "
                           "sets PUBLIC_URL (e.g. https://bot.example.org) and runs the bot with tierslieu run; "
                           "see the README, Calendar feeds."))
    if word:
        token = reset_calendar_token(ctx.session, ctx.member_id, ctx.now)
        intro = ctx._("Your personal link is new; the old one no longer works. Subscribe again with this one:")
    else:
        token = calendar_token(ctx.session, ctx.member_id, ctx.now)
        intro = ctx._("Your bookings and sign-ups, in your calendar app (keep this link to yourself):")
    mine, mine_webcal = feed_links(public_url, MEMBER_PATH.format(token=token))
    programme, programme_webcal = feed_links(public_url, EVENTS_PATH)
    lines = [
        intro, mine, mine_webcal, "",
        ctx._("The programme of events, for everyone:"), programme, programme_webcal, "",
        *place_lines(ctx, public_url),
        *space_lines(ctx, public_url),
        "",
        ctx._("Google Calendar: Other calendars, +, From URL, paste the https link. Thunderbird: New calendar, "
              "On the network, paste the https link. Apple Calendar: File, New Calendar Subscription, paste the "
              "webcal link (or open it on an iPhone). Calendars refresh on their own, every few hours."),
        ctx._("/calendar reset gives you a new personal link if the old one leaked."),
    ]
    reply = Reply("\n".join(lines), title=ctx._("Calendar links"))
    if not ctx.incoming.chat.is_private:
        ctx.notify_member(ctx.member_id, reply)
        return Reply(ctx._("I've sent you your calendar links privately (your personal link is secret)."))
    return reply
