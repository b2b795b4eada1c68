"""The opening and closing rota: /rota (the week and its gaps; coordinators add, list, remove lines)
and /whoopens."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

from bot.core.context import Ctx
from bot.core.dates import When
from bot.core.errors import UserError
from bot.core.grammar.args import LEADING, MARKED, REST, CustomArg, KeywordArg, NumberArg, TitleArg
from bot.core.grammar.moments import WhenArg
from bot.core.i18n import N_, Translator
from bot.core.types import Reply
from handlers.places import (
    managed_place,
    places_guard,
    read_place_scope,
    read_place_setting,
    require_manager,
    scope_sites,
)
from handlers.spaces import weekday_names
from handlers.volunteers.common import router, take_action, tell_cancelled, today_of
from storage import volunteers as store
from storage.models import Site
from storage.models_volunteers import RotaSlot
from storage.places import rota_slot_place, set_rota_slot_place, shift_places
from storage.volunteer_rules import MAX_PLACES, RotaFormatError, local_moment, split_time_range, split_weekdays

ROTA_EXAMPLE = "/rota add ouverture lun-ven 08:30-09:30 1"
MAX_ROTA_WEEKS = 12
ROTA_QUESTION = N_("Give a name, the days, the hours and how many people.")


def _weekday_names(t: Translator, weekdays: tuple[int, ...]) -> str:
    names = weekday_names(t)
    if weekdays == tuple(range(weekdays[0], weekdays[-1] + 1)) and len(weekdays) > 2:
        return f"{names[weekdays[0]]}–{names[weekdays[-1]]}"
    return ", ".join(names[d] for d in weekdays)


def _slot_line(ctx: Ctx, slot: RotaSlot) -> str:
    return "#{id} {title}: {days} {start}–{end}, {people}".format(
        id=slot.id, title=slot.title, days=_weekday_names(ctx.translator, store.weekdays_of(slot)),
        start=slot.start_time.strftime("%H:%M"), end=slot.end_time.strftime("%H:%M"),
        people=ctx.ngettext("{n} person", "{n} people", slot.places).format(n=slot.places))


def _read_days(ctx: Ctx, text: str) -> tuple[tuple[int, ...] | None, str]:
    if not text:
        return None, text
    try:
        return split_weekdays(text)
    except RotaFormatError:
        raise UserError(ctx._("I couldn't read the days: write them like lun-ven, sam or mon,wed,fri."),
                        example=ROTA_EXAMPLE) from None


def _read_hours(ctx: Ctx, text: str) -> tuple[tuple[time, time] | None, str]:
    if not text:
        return None, text
    try:
        return split_time_range(text)
    except RotaFormatError:
        raise UserError(ctx._("I couldn't read the hours: write them like 08:30-09:30."),
                        example=ROTA_EXAMPLE) from None


def _read_people(ctx: Ctx, text: str) -> tuple[int, str]:
    if not text:
        return 1, text
    if not (re.fullmatch(r"[0-9]{1,3}", text) and 1 <= int(text) <= MAX_PLACES):
        raise UserError(ctx._("Between 1 and {max} people per shift.").format(max=MAX_PLACES), example=ROTA_EXAMPLE)
    return int(text), ""


rota = router.group("rota", aliases=["permanences"], help=N_("The opening and closing rota, with its gaps"))


@rota.sub("add", aliases=["ajouter"], guard=places_guard, help=N_("Add a weekly line to the rota"),
          args=(TitleArg("title", first_word=True, leading=True, label=N_("<name>"), question=ROTA_QUESTION),
                CustomArg("days", _read_days, stage=LEADING, optional=False, label=N_("<days>"),
                          question=ROTA_QUESTION),
                CustomArg("hours", _read_hours, stage=LEADING, optional=False, label=N_("<hours>"),
                          question=ROTA_QUESTION),
                CustomArg("places", _read_people, stage=REST, label=N_("[people]")),
                CustomArg("place", read_place_setting, stage=MARKED, label=N_("[place=<place>]"))),
          examples=(N_("/rota add ouverture lun-ven 08:30-09:30 1"), N_("/rota add fermeture sam 17:30-18:30 2")))
def add_rota(ctx: Ctx, title: str, days: tuple[int, ...], hours: tuple[time, time], places: int,
             place: str | None = None) -> Reply:
    site = managed_place(ctx, place)  # a network of places: the line of one place (none: the network's)
    require_manager(ctx, site)
    start, end = hours
    slot = store.add_rota_slot(ctx.session, title, days, start, end, places, ctx.member_id, ctx.now)
    if site is not None and site.id is not None and slot.id is not None:
        set_rota_slot_place(ctx.session, slot.id, site.id)
    created = store.materialise_rota(ctx.session, ctx.now, ctx.tz)
    return Reply(ctx._("Added to the rota: {slot}.").format(slot=_slot_line(ctx, slot)) + "\n"
                 + ctx.ngettext("{n} shift created for the coming weeks.", "{n} shifts created for the coming weeks.",
                                created).format(n=created))


@rota.sub("list", aliases=["liste"], guard=places_guard, help=N_("The lines of the rota"),
          examples=(N_("/rota list"),))
def list_rota(ctx: Ctx) -> Reply:
    slots = store.active_rota_slots(ctx.session)
    if not slots:
        return Reply(ctx._("The rota is empty. A coordinator adds to it with {example}").format(example=ROTA_EXAMPLE))
    return Reply("\n".join(_slot_line(ctx, s) for s in slots), title=ctx._("Rota"))


@rota.sub("remove", aliases=["retirer", "supprimer"], guard=places_guard,
          help=N_("Remove a line; its coming shifts are cancelled"),
          args=(NumberArg("line", question=N_("Which rota line? Give its number (see /rota list).")),),
          examples=(N_("/rota remove 2"),))
def remove_rota(ctx: Ctx, line: int) -> Reply:
    slot = ctx.session.get(RotaSlot, line)
    if slot is None or not slot.active:
        raise UserError(ctx._("There is no rota line number {id}. /rota list shows them.").format(id=line))
    assert slot.id is not None
    site_id = rota_slot_place(ctx.session, slot.id)
    require_manager(ctx, ctx.session.get(Site, site_id) if site_id is not None else None)
    cancelled = store.remove_rota_slot(ctx.session, slot, ctx.now)
    for shift, takers in cancelled:
        tell_cancelled(ctx, shift, takers)
    return Reply(ctx._("Removed from the rota: {slot}.").format(slot=_slot_line(ctx, slot)) + "\n"
                 + ctx.ngettext("{n} coming shift cancelled.", "{n} coming shifts cancelled.",
                                len(cancelled)).format(n=len(cancelled)))


@rota.sub("week", aliases=["semaine"], default=True, help=N_("The rota of this week, the next or a given week"),
          args=(CustomArg("place", read_place_scope, stage=LEADING, label=N_("[place|all]")),
                KeywordArg("next", {"next": ("prochaine", "suivante")}, optional=True),
                WhenArg("day", need="day", optional=True, example=N_("/rota 2026-12-07"), label=N_("[day]"))),
          examples=(N_("/rota"), N_("/rota next"), N_("/rota 2026-12-07")))
def rota_week(ctx: Ctx, next: str | None, day: When | None, place: Site | str | None = None) -> Reply:
    today = today_of(ctx)
    if next:
        first = today - timedelta(days=today.weekday()) + timedelta(days=7)
    elif day is None:
        first = today
    else:
        first = max(day.day - timedelta(days=day.day.weekday()), today)
    last = first + timedelta(days=6)
    if last > today + timedelta(weeks=MAX_ROTA_WEEKS):
        raise UserError(ctx._("The rota looks {n} weeks ahead at most.").format(n=MAX_ROTA_WEEKS))
    store.materialise_rota(ctx.session, ctx.now, ctx.tz, until=max(last, store.rota_horizon(today)))
    start = max(local_moment(first, time(0), ctx.tz), ctx.now)
    views = store.rota_with_gaps(ctx.session, start, local_moment(last + timedelta(days=1), time(0), ctx.tz))
    shown_places, footer, place_actions = scope_sites(ctx, place, ctx._("/rota {place}"))
    if shown_places is not None:  # a network of places: their place's lines and the network's
        place_of = shift_places(ctx.session, [v.id for v in views])
        views = [v for v in views if place_of.get(v.id) is None or place_of[v.id] in shown_places]
    title = ctx._("Rota from {first} to {last}").format(first=ctx.translator.fmt_day(first),
                                                         last=ctx.translator.fmt_day(last))
    if not views:
        if not store.active_rota_slots(ctx.session):
            return Reply(ctx._("The rota is empty. A coordinator adds to it with {example}").format(
                example=ROTA_EXAMPLE), title=title)
        return Reply(ctx._("No rota shifts these days."), title=title)
    lines: list[str] = []
    current: date | None = None
    for view in views:
        view_day = view.start.astimezone(ctx.tz).date()
        if view_day != current:
            lines.append(ctx.translator.fmt_day(view_day))
            current = view_day
        who = ", ".join(name for _, name in view.takers)
        if view.missing:
            gap = ctx.ngettext("{n} place free", "{n} places free", view.missing).format(n=view.missing)
            who = f"{who}, {gap}" if who else "⚠️ " + gap
        hours = f"{ctx.translator.fmt_time(view.start)}–{ctx.translator.fmt_time(view.end)}"
        lines.append(f"  #{view.id} {view.title} {hours}: {who}")
    gaps = [v for v in views if v.missing]
    lines.append("")
    lines.append(ctx.ngettext("{n} shift still needs people.", "{n} shifts still need people.", len(gaps)).format(
        n=len(gaps)) if gaps else ctx._("Every shift is covered."))
    lines += footer
    return Reply("\n".join(lines), title=title,
                 actions=tuple(take_action(ctx.translator, v.id) for v in gaps[:3]) + place_actions)


@router.typed("whoopens", aliases=["quiouvre"], help=N_("Who opens tomorrow (or on a given day)"),
              args=(WhenArg("day", need="day", optional=True, example=N_("/whoopens saturday"), label=N_("[day]")),),
              examples=(N_("/whoopens saturday"), N_("/whoopens")))
def who_opens(ctx: Ctx, day: When | None) -> Reply:
    today = today_of(ctx)
    wanted = day.day if day is not None else today + timedelta(days=1)
    if wanted > today + timedelta(weeks=MAX_ROTA_WEEKS):
        raise UserError(ctx._("The rota looks {n} weeks ahead at most.").format(n=MAX_ROTA_WEEKS))
    store.materialise_rota(ctx.session, ctx.now, ctx.tz, until=max(wanted, store.rota_horizon(today)))
    views = store.rota_with_gaps(ctx.session, local_moment(wanted, time(0), ctx.tz),
                                 local_moment(wanted + timedelta(days=1), time(0), ctx.tz))
    day_text = ctx.translator.fmt_day(wanted)
    openings = [v for v in views if v.rota_kind == "open" and v.start.astimezone(ctx.tz).date() == wanted]
    if not openings:
        return Reply(ctx._("No opening shift on the rota for {day}.").format(day=day_text))
    lines, actions = [], []
    for view in openings:
        hours = f"{ctx.translator.fmt_time(view.start)}–{ctx.translator.fmt_time(view.end)}"
        if view.takers:
            names = ", ".join(name for _, name in view.takers)
            lines.append(ctx._("{day}, {title} {hours}: {names}.").format(day=day_text, title=view.title, hours=hours,
                                                                        names=names))
        else:
            lines.append(ctx._("{day}, {title} {hours}: nobody yet! /take {id}").format(
                day=day_text, title=view.title, hours=hours, id=view.id))
            actions.append(take_action(ctx.translator, view.id))
    return Reply("\n".join(lines), actions=tuple(actions))
