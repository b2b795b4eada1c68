"""What the attendance commands share: the router, who may see names, and the organiser's list."""

from __future__ import annotations

from bot.core.i18n import Translator
from bot.core.router import Router
from bot.core.types import Action, Reply
from storage.attendance import EventCounts
from storage.models_events import Event, EventOccurrence

router = Router("attendance")

MAX_BUTTONS = 40  # past this, the list is text and people are marked by number
ATTENDANCE_PATH = "attendance"


def counts_line(t: Translator, counts: EventCounts) -> str:
    """Counts only: what a group may read."""
    return t.gettext("{signups} signed up, {present} present, {no_show} no-shows, {walk_in} walk-ins").format(
        signups=counts.signups, present=counts.present, no_show=counts.no_show, walk_in=counts.walk_in)


def list_reply(t: Translator, occurrence: EventOccurrence, event: Event,
               rows: list[tuple[int, str, bool, bool | None]], counts: EventCounts, walk_ins: int,
               *, edit: bool = False) -> Reply:
    """The organiser's list (names: private chats only): a button per person to mark present or absent,
    and the walk-ins nobody named."""
    number = occurrence.id
    lines = [t.fmt_range(occurrence.start, occurrence.end), counts_line(t, counts), ""]
    actions: list[Action] = []
    for member_id, name, signed_up, present in rows:
        mark = "✅" if present else ("❌" if present is False else "▫️")
        extra = "" if signed_up else " " + t.gettext("(no sign-up)")
        lines.append(f"{mark} {name}{extra} (#{member_id})")
        if len(actions) < MAX_BUTTONS:
            state = "absent" if present else "present"
            actions.append(Action(f"{mark} {name}", router.line("attendance mark", number, member_id, state)))
    if not rows:
        lines.append(t.gettext("Nobody signed up."))
    lines.append("")
    lines.append(t.ngettext("{n} walk-in counted at the door.", "{n} walk-ins counted at the door.",
                            walk_ins).format(n=walk_ins))
    lines.append(t.gettext("Press a name to mark present/absent; /attendance mark {n} #<member> absent "
                           "does the same.").format(n=number))
    actions += [Action(t.gettext("+1 without sign-up"), router.line("attendance walkins", number, "+1")),
                Action(t.gettext("−1 without sign-up"), router.line("attendance walkins", number, "-1")),
                Action(t.gettext("QR code for the door"), router.line("attendance qr", number))]
    return Reply("\n".join(lines), title=t.gettext("Attendance — {title}").format(title=event.title),
                 actions=tuple(actions), edit_original=edit)
