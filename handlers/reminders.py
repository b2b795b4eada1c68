"""Reminders: automatic ones before bookings (and events and shifts), personal ones with /remind,
settings with /reminders, and the job that sends them when due."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Protocol

from bot.core.context import Ctx, JobCtx
from bot.core.dates import DateParseError, When, find_when, mentions_time, when_readings
from bot.core.errors import NotAllowed, UsageError, UserError
from bot.core.grammar.moments import date_error
from bot.core.i18n import N_, Translator
from bot.core.limits import check_room_for_reminder
from bot.core.router import Router, is_number
from bot.core.types import Action, Reply
from bot.core.vocabulary import PERIOD_SUGGESTIONS
from storage import reminders
from storage.models import Booking, Member, Space
from storage.models_reminders import Reminder

router = Router("reminders")

SNOOZE_MINUTES = 10
MAX_SNOOZE_MINUTES = 24 * 60


def _snooze_action(t: Translator, reminder: Reminder) -> Action:
    return Action(t.gettext("Snooze {minutes} min").format(minutes=SNOOZE_MINUTES),
                  f"/snooze {reminder.id} {SNOOZE_MINUTES}")


def render_booking(ctx: JobCtx, reminder: Reminder, t: Translator) -> Reply | None:
    booking = ctx.session.get(Booking, int(reminder.ref or 0))
    if booking is None or booking.status != "active" or not reminders.still_useful(
            reminder.due_at, booking.start, ctx.now):
        return None
    if not reminders.settings_of(ctx.session, booking.member_id, ctx.settings.booking_reminder_minutes).booking_minutes:
        return None  # "/reminders booking off" said after this one was scheduled: honoured when it is due
    space = ctx.session.get(Space, booking.space_id)
    text = t.gettext("Reminder: you booked {space}, {when}.").format(
        space=space.name if space else "?", when=t.fmt_range(booking.start, booking.end))
    from handlers.attendance.bookings import checkin_actions  # "I'm here" when the space requires a check-in
    return Reply(text, actions=(_snooze_action(t, reminder),
                                Action(t.gettext("Cancel the booking"), f"/cancel {booking.id}"),
                                *checkin_actions(ctx.session, booking, t)))


def render_personal(ctx: JobCtx, reminder: Reminder, t: Translator) -> Reply | None:
    if not reminders.still_useful(reminder.due_at, None, ctx.now):
        return None
    return Reply(t.gettext("Reminder: {text}").format(text=reminder.text), actions=(_snooze_action(t, reminder),))


RENDERERS = {"booking": render_booking, "personal": render_personal}


@router.job("send-reminders", every_seconds=20)
def send_due_reminders(ctx: JobCtx) -> None:
    """Each due reminder is marked sent in the same transaction that queues its message: sent once."""
    for reminder in reminders.due(ctx.session, ctx.now, limit=5000):  # all due: none waits a run behind another's
        member = ctx.session.get(Member, reminder.member_id)
        render = RENDERERS.get(reminder.kind)
        reply = render(ctx, reminder, ctx.translator_for(member)) if member and render else None
        if reply is None:
            reminder.status = "dropped"
        else:
            ctx.notify_member(reminder.member_id, reply, dedup_key=f"reminder:{reminder.id}")
            reminder.status = "sent"
            reminder.sent_at = ctx.now
        ctx.session.add(reminder)


class BookedSlot(Protocol):
    @property
    def id(self) -> int | None: ...

    @property
    def member_id(self) -> int: ...

    @property
    def start(self) -> datetime: ...


def schedule_booking_reminder(ctx: Ctx, booking: BookedSlot) -> None:
    """The reminder before a booking (BOOKING_REMINDER_MINUTES or the member's /reminders choice)."""
    assert booking.id is not None
    reminders.schedule_booking(ctx.session, booking.member_id, booking.id, booking.start, ctx.now,
                               ctx.settings.booking_reminder_minutes)


REMIND_EXAMPLE = N_("/remind tomorrow 9:00 call the town hall")


def _quoted(text: str) -> str:
    """The reminder's words in quotes, so that a button's command never reads them as a moment."""
    return '"' + text.replace('"', "'") + '"'


def _unquoted(text: str) -> str:
    """The reminder's words: without the quotes around them, nor the 'de' of 'demain 9h de sortir le chien'."""
    text = re.sub(r"^(?:de\s+|d['’]\s*)(?=\w)", "", text.strip(), flags=re.IGNORECASE)
    if len(text) >= 2 and text[0] in "\"“«„" and text[-1] in "\"”»“":
        return text[1:-1].strip()
    return text


def _command_for(day: date, hm: str, text: str) -> str:
    return f"/remind {day.isoformat()} {hm} {_quoted(text)}"


def _which_moment(ctx: Ctx, readings: list[tuple[When, str]]) -> Reply:
    """The text names two moments: one button per reading, the other moment kept in the words."""
    actions = []
    for when, rest in readings[:3]:
        if not _unquoted(rest):
            continue
        if when.start is None:
            label = f"{ctx.translator.fmt_day(when.day)} — {_unquoted(rest)}"
            command = f"/remind {when.day.isoformat()} {_quoted(_unquoted(rest))}"
        else:
            label = f"{ctx.translator.fmt_datetime(when.start)} — {_unquoted(rest)}"
            local = when.start.astimezone(ctx.tz)
            command = _command_for(local.date(), local.strftime("%H:%M"), _unquoted(rest))
        actions.append(Action(label[:60], command))
    if not actions:
        raise UserError(ctx._("Your message names more than one day or time: which one is the reminder's?"),
                        example=ctx._("/remind thursday 9:00 \"prepare Friday's meeting\""))
    return Reply(ctx._("Your message names more than one day or time. Which did you mean? "
                       "(Words in quotes are never read as a date.)"), actions=tuple(actions))


def _what_time(ctx: Ctx, when: When, text: str) -> Reply:
    """A day without an hour: never 09:00 in silence. Buttons for the likely hours of that part of the day."""
    local_now = ctx.now.astimezone(ctx.tz)
    hours = [hm for hm in PERIOD_SUGGESTIONS.get(when.period, PERIOD_SUGGESTIONS[None])
             if when.day > local_now.date() or (when.day == local_now.date() and hm > local_now.strftime("%H:%M"))]
    if not hours:
        raise UserError(ctx._("That moment has already passed."), example=ctx._(REMIND_EXAMPLE))
    actions = tuple(Action(hm, _command_for(when.day, hm, text)) for hm in hours)
    return Reply(ctx._("At what time on {day} should I remind you: {text}?").format(
        day=ctx.translator.fmt_day(when.day), text=text), actions=actions)


@router.command("remind", aliases=["rappel"], help=N_("Remind me of something at a given time"),
                usage=N_("/remind <when> <what>  e.g. /remind tomorrow 9:00 call the town hall"))
def remind(ctx: Ctx, args: str) -> Reply:
    """The moment may be anywhere in the message ("vendredi midi déjeuner avec Paul", "payer le loyer le 15
    à 10h"). A day without an hour is asked about with buttons; a message that names two moments is
    asked about too; words in quotes are the reminder's, never a date."""
    example = ctx._(REMIND_EXAMPLE)
    if not args.strip():
        raise UsageError(ctx._("When, and what should I remind you of?"))
    try:
        when, text = find_when(args, ctx.now, ctx.tz)
    except DateParseError as error:
        if error.code == "ambiguous":
            readings = when_readings(args, ctx.now, ctx.tz)
            if len(readings) > 1:
                return _which_moment(ctx, readings)
        raise date_error(ctx, error, ctx._(REMIND_EXAMPLE)) from None
    if when is None:
        raise UserError(ctx._("When should I remind you? Give a day and a time."), example=example)
    if not _unquoted(text):
        raise UserError(ctx._("What should I remind you of?"), example=example)
    if mentions_time(text, ctx.now, ctx.tz):  # words in quotes are not read
        readings = when_readings(args, ctx.now, ctx.tz)
        if len(readings) > 1:
            return _which_moment(ctx, readings)
        raise UserError(ctx._("The words “{text}” still look like a day or a time: say the moment once, "
                              "or put the words in quotes.").format(text=text[:80]),
                        example=ctx._("/remind thursday 9:00 \"prepare Friday's meeting\""))
    text = _unquoted(text)
    if when.start is None:
        return _what_time(ctx, when, text)
    due_at = when.start
    if due_at <= ctx.now and not when.day_stated and not when.relative:
        tomorrow = (due_at.astimezone(ctx.tz) + timedelta(days=1)).date()
        hm = due_at.astimezone(ctx.tz).strftime("%H:%M")
        return Reply(ctx._("{time} has already passed today. Tomorrow at {time}?").format(time=hm),
                     actions=(Action(ctx._("Tomorrow at {time}").format(time=hm), _command_for(tomorrow, hm, text)),))
    if due_at <= ctx.now:
        raise UserError(ctx._("That moment has already passed."), example=example)
    check_room_for_reminder(ctx)  # per-member limit (MAX_PENDING_REMINDERS)
    reminder = reminders.schedule(ctx.session, ctx.member_id, "personal", None, due_at, ctx.now, text[:500])
    assert reminder is not None
    return Reply(ctx._("I'll remind you on {when}: {text}").format(when=ctx.translator.fmt_datetime(due_at),
                                                                    text=reminder.text),
                 actions=(Action(ctx._("Cancel"), f"/reminders cancel {reminder.id}"),))


def _on_off(ctx: Ctx, value: str) -> bool:
    if value in {"on", "oui", "yes", "1"}:
        return True
    if value in {"off", "non", "no", "0"}:
        return False
    raise UsageError(ctx._("Say on or off."))


@router.command("reminders", aliases=["rappels"], help=N_("See and change your reminders"),
                usage=N_("/reminders [booking <minutes>|off] [events on|off] [shifts on|off] [cancel <n>]  "
                         "e.g. /reminders booking 60"))
def my_reminders(ctx: Ctx, args: str) -> Reply:
    words = args.lower().split()
    prefs = reminders.settings_of(ctx.session, ctx.member_id, ctx.settings.booking_reminder_minutes)
    if words:
        if words[0] in {"cancel", "annuler"} and len(words) == 2 and is_number(words[1]):
            return _cancel_personal(ctx, int(words[1]))
        if len(words) != 2:
            raise UsageError(ctx._("I didn't understand that setting."))
        what, value = words
        if what in {"booking", "bookings", "reservation", "reservations", "réservation", "réservations"}:
            if value in {"off", "non", "no"}:
                prefs.booking_minutes = 0
            elif is_number(value) and 0 <= int(value) <= 7 * 24 * 60:
                prefs.booking_minutes = int(value)
            else:
                raise UsageError(ctx._("Give the minutes before a booking, or off."))
        elif what in {"events", "evenements", "événements"}:
            prefs.events = _on_off(ctx, value)
        elif what in {"shifts", "creneaux", "créneaux"}:
            prefs.shifts = _on_off(ctx, value)
        else:
            raise UsageError(ctx._("I didn't understand that setting."))
        ctx.session.add(prefs)
    lines = [
        ctx._("Before a booking: {minutes} min").format(minutes=prefs.booking_minutes)
        if prefs.booking_minutes else ctx._("Before a booking: off"),
        ctx._("Before an event you joined: 24 h and 1 h") if prefs.events else ctx._("Before an event: off"),
        ctx._("Before a shift you took: 24 h") if prefs.shifts else ctx._("Before a shift: off"),
    ]
    personal = reminders.personal_pending(ctx.session, ctx.member_id)
    if personal:
        lines.append("")
        lines += [f"#{r.id} {ctx.translator.fmt_datetime(r.due_at)} — {r.text}" for r in personal[:20]]
    actions = tuple(Action(ctx._("Cancel #{id}").format(id=r.id), f"/reminders cancel {r.id}") for r in personal[:5])
    return Reply("\n".join(lines), title=ctx._("Your reminders"), actions=actions)


def _cancel_personal(ctx: Ctx, reminder_id: int) -> Reply:
    reminder = ctx.session.get(Reminder, reminder_id)
    if reminder is None or reminder.member_id != ctx.member_id:
        raise UserError(ctx._("You have no reminder number {id}.").format(id=reminder_id))
    if reminder.status != "pending":
        return Reply(ctx._("Reminder {id} is no longer pending.").format(id=reminder_id),
                     edit_original=ctx.incoming.is_action)
    reminder.status = "cancelled"
    ctx.session.add(reminder)
    return Reply(ctx._("Reminder {id} cancelled.").format(id=reminder_id), edit_original=ctx.incoming.is_action)


@router.command("snooze", aliases=["repousser"], help=N_("Remind me again a bit later"),
                usage=N_("/snooze <reminder> [minutes]  e.g. /snooze 4 10"), hidden=True)
def snooze(ctx: Ctx, args: str) -> Reply:
    words = args.split()
    if not words or not is_number(words[0]) or (len(words) > 1 and not is_number(words[1], 6)):
        raise UsageError(ctx._("Which reminder, and for how many minutes?"))
    original = ctx.session.get(Reminder, int(words[0]))
    if original is None:
        raise UserError(ctx._("You have no reminder number {id}.").format(id=words[0]))
    if original.member_id != ctx.member_id:
        raise NotAllowed(ctx._("That reminder isn't yours."))
    minutes = min(int(words[1]) if len(words) > 1 else SNOOZE_MINUTES, MAX_SNOOZE_MINUTES)
    again = reminders.schedule(ctx.session, ctx.member_id, original.kind, original.ref,
                               ctx.now + timedelta(minutes=max(minutes, 1)), ctx.now, original.text)
    assert again is not None
    return Reply(ctx._("OK, I'll remind you again at {time}.").format(time=ctx.translator.fmt_time(again.due_at)),
                 edit_original=ctx.incoming.is_action)
