"""THE table: each request a sentence can make, the command it builds, whether it changes anything
(then it is shown and confirmed, never run on a guess) and what it needs, asked in this order.

The command built is always one a member could type; confirming runs exactly that command, through the
same checks as if it had been typed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.i18n import N_

Slots = Mapping[str, Any]


def _duration_text(minutes: int) -> str:
    hours, mins = divmod(int(minutes), 60)
    if hours and mins:
        return f"{hours}h{mins:02d}"
    return f"{hours}h" if hours else f"{mins}min"


def _when_words(slots: Slots, with_day: bool = True) -> str:
    parts = []
    if with_day and slots.get("day"):
        parts.append(slots["day"])
    if slots.get("start") and slots.get("end"):
        parts.append(f"{slots['start']}-{slots['end']}")
    elif slots.get("start"):
        parts.append(slots["start"])
    return " ".join(parts)


def _join(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)


@dataclass(frozen=True)
class Request:
    intent: str
    command: str  # the English name of the command it builds
    changes: bool  # True: shown with Confirm / Change buttons; False: answered at once
    needs: tuple[str, ...]  # slots asked for, in this order, when missing
    build: Callable[[Slots], str]
    summary: str = ""  # English msgid of the confirmation, with the slots' display forms
    destructive: bool = False


REQUESTS: dict[str, Request] = {r.intent: r for r in (
    Request("book", "book", True, ("space", "day", "hours"),
            lambda s: f"/book {s['space']} {s['day']} {s['start']}-{s['end']}",
            N_("Book {space}, {when}?")),
    Request("free", "free", False, (), lambda s: _join("/free", _when_words(s))),
    Request("cancel", "cancel", True, ("booking",), lambda s: f"/cancel {s['booking']}",
            N_("Cancel your booking: {booking}?"), destructive=True),
    Request("join", "join", True, ("event",), lambda s: f"/join {s['event']}", N_("Sign you up for {event}?")),
    Request("leave", "leave", True, ("event",), lambda s: f"/leave {s['event']}",
            N_("Give back your place at {event}?"), destructive=True),
    Request("task", "task", True, ("minutes", "what"),
            lambda s: _join("/task", _duration_text(s["minutes"]), s["what"], s.get("day")),
            N_("Log {duration} of volunteering, {day}: {what}?")),
    Request("remind", "remind", True, ("moment", "text"), lambda s: f"/remind {s['moment']} {s['text']}",
            N_("Remind you on {when}: {text}?")),
    Request("take", "take", True, ("shift",), lambda s: f"/take {s['shift']}", N_("Take the shift {shift}?")),
    Request("drop", "drop", True, ("shift",), lambda s: f"/drop {s['shift']}",
            N_("Give back your shift {shift}?"), destructive=True),
    Request("whoopens", "whoopens", False, (), lambda s: _join("/whoopens", s.get("day"))),
    Request("rota", "rota", False, (), lambda s: _join("/rota", s.get("day"))),
    Request("mybookings", "mybookings", False, (), lambda s: "/mybookings"),
    Request("myevents", "myevents", False, (), lambda s: "/myevents"),
    Request("myhours", "tasks", False, (), lambda s: _join("/tasks", s.get("period"))),
    Request("shifts", "shifts", False, (), lambda s: "/shifts"),
    Request("events", "events", False, (), lambda s: _join("/events", s.get("period"))),
    Request("spaces", "spaces", False, (), lambda s: "/spaces"),
    Request("help", "help", False, (), lambda s: "/help"),
)}

# What a member can change on a confirmation, per request: the slot and its label.
CHANGEABLE: dict[str, tuple[tuple[str, str], ...]] = {
    "book": (("space", N_("The space")), ("day", N_("The day")), ("hours", N_("The time"))),
    "task": (("minutes", N_("The duration")), ("what", N_("What you did")), ("day", N_("The day"))),
    "remind": (("moment", N_("The moment")), ("text", N_("The text"))),
    "cancel": (("booking", N_("The booking")),),
    "join": (("event", N_("The event")),),
    "leave": (("event", N_("The event")),),
    "take": (("shift", N_("The shift")),),
    "drop": (("shift", N_("The shift")),),
}

# Commands whose effect takes something away: a typed number that would run one asks once first.
DESTRUCTIVE_COMMANDS = {"cancel", "leave", "drop"}
DESTRUCTIVE_SUBCOMMANDS = {"delete", "supprimer", "cancel", "annuler", "remove", "retirer"}


def is_destructive(command_name: str | None, args: str) -> bool:
    if command_name is None:
        return False
    if command_name in DESTRUCTIVE_COMMANDS:
        return True
    first = args.split(maxsplit=1)[0].casefold() if args.split() else ""
    return first in DESTRUCTIVE_SUBCOMMANDS


# For a sentence not understood: the closest command and a sentence that works (English msgids).
EXAMPLES: dict[str, tuple[str, str]] = {
    "book": (N_("/book salle-reunion tomorrow 14:00-16:00"), N_("“I'd like the meeting room tomorrow 2pm-4pm”")),
    "free": (N_("/free tomorrow"), N_("“what's free tomorrow afternoon?”")),
    "cancel": (N_("/cancel 3"), N_("“cancel my booking on Thursday”")),
    "join": (N_("/join 12"), N_("“sign me up for the bike workshop”")),
    "task": (N_("/task 2h30 sorting donations yesterday"), N_("“I did 2h of sorting yesterday”")),
    "remind": (N_("/remind friday 12:00 call Paul"), N_("“remind me on Friday at noon to call Paul”")),
    "whoopens": (N_("/whoopens saturday"), N_("“who opens on Saturday?”")),
    "reminders": (N_("/reminders"), N_("“remind me tomorrow at 9 to call the town hall”")),
}
