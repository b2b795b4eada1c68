"""Event check-in: the organiser's list (/attendance, /presences), walk-ins, the door QR code, members
checking themselves in (/checkin, /ici), and the jobs that send the list at the start and ask the
organiser once, privately, to confirm the counts after the end."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from bot.core.context import Ctx, JobCtx
from bot.core.errors import NotAllowed, UserError
from bot.core.grammar.args import MARKED, CustomArg, FlagArg, KeywordArg, NumberArg, WordArg
from bot.core.i18n import N_, Translator
from bot.core.router import is_number
from bot.core.types import Action, Reply
from handlers.attendance.common import counts_line, list_reply, router
from handlers.events.common import load, may_manage
from storage import attendance as store
from storage.models import Member
from storage.models_attendance import SOURCE_DOOR, SOURCE_ORGANISER, SOURCE_SELF, EventTally
from storage.models_events import Event, EventOccurrence

EVENT_QUESTION = N_("Which event? Give its number (see /events).")
DOOR_PATH = "/ici/{number}/{code}"
MY_PRESENCE_DAYS = 365

attendance = router.group("attendance", aliases=["presences", "appel"],
                          help=N_("Who came to an event: the list, walk-ins, the door QR code (organisers)"))


def _manageable(ctx: Ctx, number: int) -> tuple[EventOccurrence, Event]:
    occurrence, event = load(ctx, number)
    if not may_manage(ctx, event):
        raise NotAllowed(ctx._("Only its organiser or a coordinator can see who came to event {id}.")
                         .format(id=number))
    return occurrence, event


def _list(ctx: Ctx, occurrence: EventOccurrence, event: Event, *, edit: bool = False) -> Reply:
    assert occurrence.id is not None
    tally = store.tally_of(ctx.session, occurrence.id)
    counts = store.counts_of(ctx.session, occurrence.id)
    if not ctx.incoming.chat.is_private:  # names never in a group: counts here, the list privately
        ctx.notify_member(ctx.member_id, list_reply(ctx.translator, occurrence, event,
                                                    store.attendance_list(ctx.session, occurrence.id), counts,
                                                    tally.walk_ins))
        return Reply(counts_line(ctx.translator, counts) + "\n" + ctx._("I've sent you the list privately."),
                     title=event.title)
    return list_reply(ctx.translator, occurrence, event, store.attendance_list(ctx.session, occurrence.id),
                      counts, tally.walk_ins, edit=edit)


@attendance.sub("list", aliases=["liste"], default=True, help=N_("The list of an event date, to mark who came"),
                args=(NumberArg("number", question=EVENT_QUESTION),), examples=(N_("/attendance 12"),))
def show_list(ctx: Ctx, number: int) -> Reply:
    occurrence, event = _manageable(ctx, number)
    return _list(ctx, occurrence, event)


@attendance.sub("mark", aliases=["marquer", "pointer"], help=N_("Mark a person present or absent"),
                args=(NumberArg("number", question=EVENT_QUESTION),
                      NumberArg("member", question=N_("Who? Give their #number from the list.")),
                      KeywordArg("state", {"present": ["present", "présent", "présente", "la", "là", "yes", "oui"],
                                           "absent": ["absente", "no", "non"]}, anywhere=True,
                                 question=N_("Present or absent?"))),
                examples=(N_("/attendance mark 12 #5 absent"),))
def mark(ctx: Ctx, number: int, member: int, state: str) -> Reply:
    occurrence, event = _manageable(ctx, number)
    assert occurrence.id is not None
    if ctx.session.get(Member, member) is None:
        raise UserError(ctx._("There is no member #{id}.").format(id=member))
    store.set_presence(ctx.session, occurrence.id, member, state == "present", SOURCE_ORGANISER, ctx.now)
    return _list(ctx, occurrence, event, edit=ctx.incoming.is_action)


_SIGNED = re.compile(r"^([+\-−]?)\s*(\d{1,5})\b\s*(.*)$", re.DOTALL)


def _read_signed(ctx: Ctx, text: str) -> tuple[tuple[str, int] | None, str]:
    """'+3' adds, '-1' takes away, '5' sets the count."""
    match = _SIGNED.match(text)
    if match is None:
        return None, text
    return (match.group(1).replace("−", "-"), int(match.group(2))), match.group(3)


@attendance.sub("walkins", aliases=["sans-inscription", "sansinscription", "walkin", "entrees", "entrées"],
                help=N_("Walk-ins without a sign-up: +N adds, -N takes away, N sets"),
                args=(NumberArg("number", question=EVENT_QUESTION),
                      CustomArg("change", _read_signed, stage=MARKED + 1, optional=False, label=N_("+N|-N|N"),
                                question=N_("How many? +3 adds three, -1 takes one away, 5 sets five."))),
                examples=(N_("/attendance walkins 12 +3"),))
def walk_ins(ctx: Ctx, number: int, change: tuple[str, int]) -> Reply:
    occurrence, event = _manageable(ctx, number)
    assert occurrence.id is not None
    sign, value = change
    current = store.tally_of(ctx.session, occurrence.id, lock=True).walk_ins
    delta = value if sign == "+" else -value if sign == "-" else value - current
    store.add_walk_ins(ctx.session, occurrence.id, delta)
    return _list(ctx, occurrence, event, edit=ctx.incoming.is_action)


def door_link(ctx: Ctx, occurrence: EventOccurrence) -> str | None:
    assert occurrence.id is not None
    if not ctx.settings.public_url:
        return None
    code = store.tally_of(ctx.session, occurrence.id).door_code
    return ctx.settings.public_url.rstrip("/") + DOOR_PATH.format(number=occurrence.id, code=code)


@attendance.sub("qr", aliases=["code", "porte"], help=N_("The QR code to put at the door (valid during the event)"),
                args=(NumberArg("number", question=EVENT_QUESTION),), examples=(N_("/attendance qr 12"),))
def door_qr(ctx: Ctx, number: int) -> Reply:
    occurrence, event = _manageable(ctx, number)
    assert occurrence.id is not None
    code = store.tally_of(ctx.session, occurrence.id).door_code
    command = "/" + ctx._("checkin") + f" {occurrence.id} {code}"
    link = door_link(ctx, occurrence)
    when = ctx.translator.fmt_range(occurrence.start, occurrence.end)
    if link is None:
        return Reply(ctx._("No PUBLIC_URL is set, so there is no link to print; people can send {command} "
                           "during the event ({when}).").format(command=command, when=when), title=event.title)
    image = io.BytesIO()
    import segno  # only the door QR code draws one: not loaded at start

    segno.make(link, error="m").save(image, kind="png", scale=8, border=4)
    return Reply(ctx._("Print it for the door: opened during the event ({when}), it lets people check in from "
                       "their chat, without a login. {link}").format(when=when, link=link),
                 title=event.title, image=image.getvalue(), image_name=f"checkin-{occurrence.id}.png")


@attendance.sub("confirm", aliases=["confirmer", "valider"], help=N_("Confirm the counts of an event date"),
                args=(NumberArg("number", question=EVENT_QUESTION),), examples=(N_("/attendance confirm 12"),))
def confirm_counts(ctx: Ctx, number: int) -> Reply:
    occurrence, event = _manageable(ctx, number)
    assert occurrence.id is not None
    tally = store.tally_of(ctx.session, occurrence.id)
    tally.counts_confirmed_at = ctx.now
    ctx.session.add(tally)
    counts = store.counts_of(ctx.session, occurrence.id)
    return Reply(ctx._("Thank you: these counts go into the report. {counts}.").format(
        counts=counts_line(ctx.translator, counts)), title=event.title, edit_original=ctx.incoming.is_action)


# --- Members check themselves in -------------------------------------------------------------------------


def _checkin_line(number: int | None, undo: bool) -> str:
    return router.line("checkin", number) + (" no" if undo else "")


@router.typed("checkin", aliases=["ici", "jesuisla", "arrive"], help=N_("Say you are here, at an event going on now"),
              args=(NumberArg("number", optional=True),
                    FlagArg("undo", ["non", "annuler", "absent", "absente", "no", "cancel"]),
                    WordArg("code", optional=True)),
              examples=(N_("/checkin"), N_("/checkin 12"), N_("/checkin 12 no")))
def check_in(ctx: Ctx, number: int | None, undo: bool, code: str | None) -> Reply:
    if number is None:
        return _which_event(ctx, undo)
    occurrence, event = load(ctx, number)
    assert occurrence.id is not None
    if undo:  # a member corrects their own presence, at any time
        store.set_presence(ctx.session, occurrence.id, ctx.member_id, False, SOURCE_SELF, ctx.now)
        return Reply(ctx._("Noted: you were not at “{title}”.").format(title=event.title))
    if code is not None and store.occurrence_by_code(ctx.session, occurrence.id, code) is None:
        raise UserError(ctx._("That code isn't the one of event {id}: scan the code at the door again.")
                        .format(id=number))
    if not store.in_progress(occurrence, ctx.now):
        raise UserError(ctx._("Check-in for “{title}” is open only during the event ({when}).").format(
            title=event.title, when=ctx.translator.fmt_range(occurrence.start, occurrence.end)))
    _, changed = store.set_presence(ctx.session, occurrence.id, ctx.member_id, True,
                                    SOURCE_DOOR if code else SOURCE_SELF, ctx.now)
    text = ctx._("Welcome to “{title}”: you are checked in.") if changed else \
        ctx._("You were already checked in at “{title}”.")
    undo_line = _checkin_line(occurrence.id, True)
    return Reply(text.format(title=event.title),
                 actions=(Action(ctx._("Undo"), undo_line),))


def _which_event(ctx: Ctx, undo: bool) -> Reply:
    live = store.live_occurrences(ctx.session, ctx.now)
    mine = [(o, e) for o, e in live if ctx.member_id in store.confirmed_signups(ctx.session, o.id or 0)]
    bookings = store.bookings_awaiting_checkin(ctx.session, ctx.member_id, ctx.now) if not undo else []
    if bookings and not mine:  # a booking of a space that requires a check-in
        from handlers.attendance.bookings import check_in_booking

        return check_in_booking(ctx, bookings[0])
    if len(mine) == 1 and not undo:
        return check_in(ctx, mine[0][0].id, False, None)
    choices = mine or live
    if not choices:
        raise UserError(ctx._("No event is on right now. /events lists what's coming."))
    actions = tuple(Action(f"{e.title} ({ctx.translator.fmt_time(o.start)})",
                           _checkin_line(o.id, undo)) for o, e in choices[:10])
    return Reply(ctx._("Which event are you at?"), actions=actions)


@router.typed("mypresence", aliases=["mespresences"], help=N_("The events you were marked present at"),
              examples=(N_("/mypresence"),))
def my_presence(ctx: Ctx) -> Reply:
    rows = store.member_presences(ctx.session, ctx.member_id, ctx.now - timedelta(days=MY_PRESENCE_DAYS))
    if not rows:
        return Reply(ctx._("Nothing recorded about you this year."))
    lines = []
    for start, number, title, present in rows:
        state = ctx._("present") if present else ctx._("absent")
        lines.append(f"• {ctx.translator.fmt_datetime(start)} — {title} (n° {number}): {state}")
    lines.append(ctx._("Wrong? /checkin 12 no says you weren't there; the organiser can correct the rest."))
    return Reply("\n".join(lines), title=ctx._("Your presence"))


# --- Jobs ------------------------------------------------------------------------------------------------


@router.job("attendance-lists", every_seconds=60)
def send_lists_and_questions(ctx: JobCtx) -> None:
    """At the start: the organiser gets the list. After the end: the organiser is asked, once, privately,
    to confirm the counts."""
    for occurrence, event in store.lists_due(ctx.session, ctx.now):
        assert occurrence.id is not None
        tally, t = _mark_for_organiser(ctx, occurrence.id, event, "list_sent_at")
        if t is None:
            continue
        reply = list_reply(t, occurrence, event, store.attendance_list(ctx.session, occurrence.id),
                           store.counts_of(ctx.session, occurrence.id), tally.walk_ins)
        ctx.notify_member(event.organiser_id, reply, dedup_key=f"attendance-list-{occurrence.id}")
    for occurrence, event in store.counts_questions_due(ctx.session, ctx.now):
        assert occurrence.id is not None
        _tally, t = _mark_for_organiser(ctx, occurrence.id, event, "counts_asked_at")
        if t is None:
            continue
        counts = store.counts_of(ctx.session, occurrence.id)
        text = t.gettext("“{title}” is over: {counts}. Are these right?").format(
            title=event.title, counts=counts_line(t, counts))
        ctx.notify_member(event.organiser_id, Reply(text, title=event.title, actions=(
            Action(t.gettext("Yes, confirm"), router.line("attendance confirm", occurrence.id)),
            Action(t.gettext("Correct"), router.line("attendance list", occurrence.id)))),
            dedup_key=f"attendance-counts-{occurrence.id}")


def _mark_for_organiser(ctx: JobCtx, occurrence_id: int, event: Event,
                        done: str) -> tuple[EventTally, Translator | None]:
    """Note on the date's tally that this step is done (``done``: the moment's column, so it is done once
    whether or not the organiser is still a member), and the organiser's language (None: no organiser)."""
    tally = store.tally_of(ctx.session, occurrence_id)
    setattr(tally, done, ctx.now)
    ctx.session.add(tally)
    organiser = ctx.session.get(Member, event.organiser_id)
    return tally, ctx.translator_for(organiser) if organiser is not None else None


def check_in_from_door(ctx: Ctx, payload: str) -> Reply:
    """``/start ici-<number>-<code>``: the Telegram link of the door page (bot/checkin_page.py)."""
    number, _, code = payload.partition("-")
    if not is_number(number) or not code:
        raise UserError(ctx._("That check-in link is damaged: scan the code at the door again."))
    return check_in(ctx, int(number), False, code)
