"""The two jobs the scheduler runs for volunteers: alert about uncovered shifts, ask for the hours of
shifts that are over."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from bot.config import Settings
from bot.core.context import JobCtx
from bot.core.i18n import Translator, translator_for
from bot.core.types import Action, ChatRef, Notice, Platform, Reply
from handlers.volunteers.common import BOARD_LINES, coordinator_notices, group_notices, router, shift_line, take_action
from storage import volunteers as store
from storage.models import Member


def alert_uncovered_shifts(session: Session, now: datetime, settings: Settings) -> list[Notice]:
    """Tell the coordinators (privately, each in their language) and the volunteers' group(s) about the
    shifts starting within 48 hours that still lack people — once per shift, however often this runs.
    Materialises the rota first, so its shifts are seen. The caller enqueues the notices in the same
    transaction (``bot.core.outbox.enqueue(session, notices, now)``)."""
    store.materialise_rota(session, now, settings.tz)
    views = store.uncovered_shifts_to_alert(session, now)
    if not views:
        return []
    key = f"shifts-uncovered:{views[0].id}"

    def message(t: Translator, views: list[store.ShiftView] = views) -> Reply:
        lines = [shift_line(t, v) for v in views[:BOARD_LINES]]
        if len(views) > BOARD_LINES:
            lines.append(t.gettext("… and {n} more.").format(n=len(views) - BOARD_LINES))
        heading = t.ngettext("{n} shift in the next 48 hours still needs people:",
                             "{n} shifts in the next 48 hours still need people:", len(views)).format(n=len(views))
        return Reply(heading + "\n" + "\n".join(lines), actions=tuple(take_action(t, v.id) for v in views[:3]))

    return coordinator_notices(session, settings, message, key) + place_group_notices(
        session, settings, views, lambda chosen: (lambda t: message(t, chosen)), key)


def place_group_notices(session: Session, settings: Settings, views: list[store.ShiftView],
                        build: Callable[[list[store.ShiftView]], Callable[[Translator], Reply]],
                        key: str) -> list[Notice]:
    """The volunteers' groups: in a network of places (issue 18), a group attached to a place (/lieu ici) hears
    of its place's shifts and the network's only; other groups of every shift. One place: every group, as before."""
    from storage.places import chat_place, is_network, shift_sites

    if not is_network(session):
        return group_notices(session, settings, build(views), key)
    site_of = shift_sites(session, [v.id for v in views])
    t = translator_for(settings.language, settings.timezone)
    notices = []
    for group in store.volunteer_groups(session):
        site = chat_place(session, group.platform, group.chat_id)
        chosen = views if site is None else [v for v in views if site_of.get(v.id) in (None, site)]
        if chosen:
            chat = ChatRef(Platform(group.platform), group.chat_id, is_private=False)
            notices.append(Notice(build(chosen)(t), chat=chat, dedup_key=f"{key}:g{group.id}"))
    return notices


def ask_shift_confirmations(session: Session, now: datetime, settings: Settings) -> list[Notice]:
    """After a shift, ask each volunteer who took it to confirm (or correct) the hours — once."""
    notices = []
    for shift, signup in store.done_prompts_due(session, now):
        member = session.get(Member, signup.member_id)
        if member is None:
            continue
        t = translator_for(member.language or settings.language, settings.timezone)
        minutes = store.shift_minutes(shift)
        assert shift.id is not None
        text = t.gettext("Thank you for {title}, {when}! Shall I log {duration} in your hours? "
                         "Another length: /shift done {id} 3h30").format(
            title=shift.title, when=t.fmt_range(shift.start, shift.end), duration=t.fmt_duration(minutes), id=shift.id)
        action = Action(t.gettext("Confirm {duration}").format(duration=t.fmt_duration(minutes)),
                        router.line("shift done", shift.id))
        notices.append(Notice(Reply(text, actions=(action,)), member_id=signup.member_id,
                              dedup_key=f"shift-done-asked:{signup.id}"))
    return notices


@router.job("volunteer-shifts", every_seconds=15 * 60)
def volunteer_shift_jobs(ctx: JobCtx) -> None:
    """Every quarter of an hour: alert once about shifts still uncovered 48 h ahead, and ask volunteers
    to confirm the hours of shifts that are over."""
    ctx.notices += alert_uncovered_shifts(ctx.session, ctx.now, ctx.settings)
    ctx.notices += ask_shift_confirmations(ctx.session, ctx.now, ctx.settings)
