"""What the volunteer commands share: the router, how a shift and an entry are written, who is told
about shifts (coordinators privately, the volunteers' group), the local day and the report period."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlmodel import Session

from bot.config import Settings
from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.i18n import N_, Translator, translator_for
from bot.core.router import Router
from bot.core.types import Action, ChatRef, Notice, Platform, Reply
from handlers.telling import tell_member
from storage import volunteers as store
from storage.members import coordinator_ids
from storage.models import Member
from storage.models_volunteers import Shift, TaskEntry
from storage.volunteer_rules import Period

router = Router("volunteers")

BOARD_DAYS = 14
BOARD_LINES = 20
MAX_NAMES = 30
MAX_DESCRIPTION = 500
ALL_WORDS = ("tous", "tout", "toutes", "everyone")
SHIFT_QUESTION = N_("Which shift? Give its number (see /shifts).")


def today_of(ctx: Ctx) -> date:
    return ctx.now.astimezone(ctx.tz).date()


def period_label(t: Translator, period: Period) -> str:
    if period.kind == "year":
        return str(period.start.year)
    if period.kind == "month":
        return t.fmt_month(period.start)
    return t.gettext("week of {day}").format(day=t.fmt_day(period.start))


def shift_line(t: Translator, view: store.ShiftView, *, names: bool = True) -> str:
    """'#5 samedi 28 novembre, 18:00–22:00 — Tenir le bar (#cafe, Cuisine du café): 1/2 — Alice'."""
    extras = [f"#{view.project}"] if view.project else []
    if view.space:
        extras.append(view.space)
    line = f"#{view.id} {t.fmt_range(view.start, view.end)} — {view.title}"
    if extras:
        line += f" ({', '.join(extras)})"
    line += f": {view.taken}/{view.places}"
    if names and view.takers:
        line += " — " + ", ".join(name for _, name in view.takers)
    return line


def take_action(t: Translator, shift_id: int) -> Action:
    return Action(t.gettext("I'll take #{id}").format(id=shift_id), router.line("take", shift_id))


def describe_entry(ctx: Ctx, entry: TaskEntry, project: str | None) -> str:
    what = " ".join(p for p in (entry.description, f"#{project}" if project else "") if p)
    t = ctx.translator
    return f"#{entry.id} {t.fmt_day(entry.day)} — {t.fmt_duration(entry.minutes)} {what}".rstrip()


def refusal(ctx: Ctx, refused: store.ShiftRefused, shift_id: int) -> str:
    reasons = {
        "cancelled": lambda: ctx._("Shift {id} was cancelled."),
        "started": lambda: ctx._("Shift {id} has already started."),
        "already_taken": lambda: ctx._("You have already taken shift {id}."),
        "full": lambda: ctx._("Shift {id} is already fully covered, thank you anyway! "
                              "/shifts lists those that still need people."),
        "not_taken": lambda: ctx._("You haven't taken shift {id}."),
        "not_over": lambda: ctx._("Shift {id} isn't over yet: confirm your hours once it is done."),
        "already_logged": lambda: ctx._("Shift {id} is already in your hours (entry {entry}); "
                                        "correct it with /task edit {entry} 3h30."),
    }
    return reasons[refused.reason]().format(id=shift_id, entry=refused.params.get("entry", "?"))


def no_such_shift(ctx: Ctx, shift_id: int) -> UserError:
    return UserError(ctx._("There is no shift number {id}. /shifts lists them.").format(id=shift_id))


def tell_cancelled(ctx: Ctx, shift: Shift, takers: list[int]) -> None:
    for member_id in takers:
        tell_member(ctx, member_id, lambda t: t.gettext(
            "Cancelled by the coordinators: {title}, {when}. You don't need to come.").format(
            title=shift.title, when=t.fmt_range(shift.start, shift.end)),
            dedup_key=f"shift-cancelled:{shift.id}:{member_id}")


def coordinator_notices(
    session: Session, settings: Settings, build: Callable[[Translator], Reply], key: str, *,
    except_member: int | None = None,
) -> list[Notice]:
    """The same news privately to every coordinator, each in their own language."""
    notices = []
    for member_id in coordinator_ids(session, settings.coordinators):
        member = session.get(Member, member_id)
        if member is not None and member_id != except_member:
            t = translator_for(member.language or settings.language, settings.timezone)
            notices.append(Notice(build(t), member_id=member_id, dedup_key=f"{key}:m{member_id}"))
    return notices


def group_notices(
    session: Session, settings: Settings, build: Callable[[Translator], Reply], key: str, *,
    except_chat: ChatRef | None = None, shift_id: int | None = None,
) -> list[Notice]:
    """The same news to every volunteers' group (/volunteers here), in the place's language. ``shift_id``: news
    of that shift; in a network of places, a group attached to another place (/place here) doesn't get it."""
    t = translator_for(settings.language, settings.timezone)
    notices = []
    shift_site: int | None = None
    if shift_id is not None:
        from storage.places import is_network, shift_sites

        shift_site = shift_sites(session, [shift_id]).get(shift_id) if is_network(session) else None
    for group in store.volunteer_groups(session):
        if shift_site is not None:
            from storage.places import chat_place

            if chat_place(session, group.platform, group.chat_id) not in (None, shift_site):
                continue
        chat = ChatRef(Platform(group.platform), group.chat_id, is_private=False)
        if except_chat is None or (chat.platform, chat.chat_id) != (except_chat.platform, except_chat.chat_id):
            notices.append(Notice(build(t), chat=chat, dedup_key=f"{key}:g{group.id}"))
    return notices
