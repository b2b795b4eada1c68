"""Reminders before events one joined and shifts one took. They are derived from the sign-ups at each
run rather than stored: a moved, cancelled or left event needs no bookkeeping, and the outbox's dedup
key (which includes the event's version) makes each go out once."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.core.context import JobCtx
from bot.core.i18n import Translator
from bot.core.router import Router
from bot.core.types import Action, Reply
from handlers.reminders import SNOOZE_MINUTES
from storage import reminders
from storage.events import find_signup, upcoming_signups
from storage.models import Member
from storage.models_volunteers import ShiftSignup
from storage.volunteers import upcoming_shift_assignments

router = Router("activity-reminders")

EVENT_LEADS = (timedelta(hours=24), timedelta(hours=1))
SHIFT_LEADS = (timedelta(hours=24),)
LOOKAHEAD = timedelta(hours=25)  # more than the longest lead, so its boundary is inside the window


def _lead_label(lead: timedelta) -> str:
    return f"{int(lead.total_seconds() // 3600)}h"


def _snooze(t: Translator, what: str) -> Action:
    # A snooze is a personal reminder ten minutes from now: the same command a member could type.
    return Action(t.gettext("Snooze {minutes} min").format(minutes=SNOOZE_MINUTES),
                  f"/remind in {SNOOZE_MINUTES} min {what}"[:200])


@router.job("event-reminders", every_seconds=60)
def send_event_reminders(ctx: JobCtx) -> None:
    for signup in upcoming_signups(ctx.session, ctx.now, ctx.now + LOOKAHEAD):
        prefs = reminders.settings_of(ctx.session, signup.member_id, ctx.settings.booking_reminder_minutes)
        row = find_signup(ctx.session, signup.occurrence_id, signup.member_id)
        member = ctx.session.get(Member, signup.member_id)
        if not prefs.events or row is None or member is None:
            continue
        lead = reminders.due_lead(signup.start, ctx.now, row.joined_at, EVENT_LEADS)
        if lead is None:
            continue
        t = ctx.translator_for(member)
        when = t.fmt_range(signup.start, signup.end)
        reply = Reply(t.gettext("Reminder: “{title}”, {when}.").format(title=signup.title, when=when),
                      actions=(_snooze(t, f"{signup.title} ({when})"),
                               Action(t.gettext("I can't come"), f"/leave {signup.occurrence_id}")))
        ctx.notify_member(signup.member_id, reply, dedup_key=(
            f"event-reminder:{signup.occurrence_id}:{signup.member_id}:{signup.sequence}:{_lead_label(lead)}"))


@router.job("shift-reminders", every_seconds=60)
def send_shift_reminders(ctx: JobCtx) -> None:
    for shift, member_id in upcoming_shift_assignments(ctx.session, ctx.now, ctx.now + LOOKAHEAD):
        prefs = reminders.settings_of(ctx.session, member_id, ctx.settings.booking_reminder_minutes)
        member = ctx.session.get(Member, member_id)
        taken = ctx.session.exec(select(ShiftSignup).where(
            ShiftSignup.shift_id == shift.id, ShiftSignup.member_id == member_id)).first()
        if not prefs.shifts or member is None or taken is None:
            continue
        lead = reminders.due_lead(shift.start, ctx.now, taken.created_at, SHIFT_LEADS)
        if lead is None:
            continue
        t = ctx.translator_for(member)
        when = t.fmt_range(shift.start, shift.end)
        reply = Reply(t.gettext("Reminder: you volunteer for “{title}”, {when}.").format(title=shift.title, when=when),
                      actions=(_snooze(t, f"{shift.title} ({when})"),
                               Action(t.gettext("I can't come"), f"/drop {shift.id}")))
        ctx.notify_member(member_id, reply, dedup_key=(
            f"shift-reminder:{shift.id}:{member_id}:{shift.start.isoformat()}:{_lead_label(lead)}"))
