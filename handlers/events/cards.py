"""The event message ("card"): when, where, what, the live count, names for those who may see them,
and the Join/Leave buttons; one line per event for the lists."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.context import Ctx
from bot.core.i18n import N_, Translator
from bot.core.types import Action, Reply
from handlers.events.common import MAX_CARD_CHARS, MAX_DESCRIPTION_SHOWN, MAX_NAMES, router, sees_names
from handlers.spaces import weekday_names
from storage.event_rules import WEEKDAY_CODES, places_left
from storage.events import find_signup, signup_counts, signup_names
from storage.models import Member, Space
from storage.models_events import (
    EVENT_CANCELLED,
    OCCURRENCE_CANCELLED,
    SIGNUP_CONFIRMED,
    SIGNUP_WAITLISTED,
    Event,
    EventOccurrence,
    EventSignup,
)

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
    weekdays = weekday_names(t, "wide")
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


def render_card(t: Translator, card: Card, *, names: Sequence[tuple[str, str]] | None = None) -> str:
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
        confirmed = [name for status, name in names if status == SIGNUP_CONFIRMED]
        waiting = [name for status, name in names if status == SIGNUP_WAITLISTED]
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
        return (Action(join_label, router.line("join", occ.id)),
                Action(t.gettext("Leave"), router.line("leave", occ.id)))
    if signup is not None and signup.status in (SIGNUP_CONFIRMED, SIGNUP_WAITLISTED):
        return (Action(t.gettext("Leave"), router.line("leave", occ.id)),)
    return (Action(join_label, router.line("join", occ.id)),)


def card_reply(ctx: Ctx, occurrence: EventOccurrence, event: Event, *, status: str | None = None,
               edit: bool = False, public: bool | None = None) -> Reply:
    """The event message for this chat: names only in a private chat with its organiser or a
    coordinator; in a group, Join and Leave buttons for everyone."""
    group = not ctx.incoming.chat.is_private if public is None else public
    card = load_card(ctx, occurrence, event)
    names = None
    if not group and sees_names(ctx, event):
        assert occurrence.id is not None
        names = signup_names(ctx.session, occurrence.id)
    # A card shared in a group is in the group's language, whoever pressed its button last.
    t = ctx.chat_translator() if group else ctx.translator
    text = render_card(t, card, names=names)
    if status:
        text = f"{status}\n\n{text}"[:MAX_CARD_CHARS]
    signup = None if group else find_signup(ctx.session, occurrence.id or 0, ctx.member_id)
    return Reply(text, title=event.title, actions=card_actions(t, card, group=group, signup=signup, now=ctx.now),
                 edit_original=edit)


def refresh_posted_cards(ctx: Ctx, occurrence: EventOccurrence, event: Event) -> None:
    """The event's cards shown in groups get the new count (a sign-up typed privately, a press in another
    group): each edited through the outbox, in its group's language, with no names."""
    from bot.core.types import ChatRef, Platform
    from storage.chats import chat_language, posted_cards

    assert occurrence.id is not None
    here = (ctx.incoming.chat.platform.value, ctx.incoming.chat.chat_id, ctx.incoming.message_id)
    cards = [c for c in posted_cards(ctx.session, occurrence.id) if c != here]
    if not cards:
        return
    card = load_card(ctx, occurrence, event)
    for platform, chat_id, message_id in cards:
        t = ctx.translator_in(chat_language(ctx.session, platform, chat_id))
        reply = Reply(render_card(t, card), title=event.title, edit_message_id=message_id,
                      actions=card_actions(t, card, group=True, signup=None, now=ctx.now))
        ctx.notify_chat(ChatRef(Platform(platform), chat_id, is_private=False), reply)


def list_line(ctx: Ctx, occurrence: EventOccurrence, event: Event, counts: tuple[int, int],
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

