"""Open shifts: coordinators post them (/need, /need cancel); volunteers see (/shifts), take (/take),
give back (/drop) and confirm the hours they did (/shift done)."""

from __future__ import annotations

from datetime import timedelta

from bot.core.context import Ctx
from bot.core.dates import When
from bot.core.errors import UserError
from bot.core.grammar.args import LEADING, CapacityArg, CustomArg, NumberArg, ProjectArg, TitleArg
from bot.core.grammar.moments import DurationArg, WhenArg
from bot.core.grammar.refs import SpaceArg
from bot.core.i18n import N_, Translator
from bot.core.types import Action, Reply
from handlers.places import chat_site, places_guard, read_place_scope, require_manager, scope_sites
from handlers.volunteers.common import (
    BOARD_DAYS,
    BOARD_LINES,
    SHIFT_QUESTION,
    coordinator_notices,
    describe_entry,
    group_notices,
    no_such_shift,
    refusal,
    router,
    shift_line,
    take_action,
    tell_cancelled,
)
from storage import volunteers as store
from storage.models import Site
from storage.places import shift_sites
from storage.spaces import SpaceView
from storage.volunteer_rules import MAX_PLACES

NEED_EXAMPLE = N_('/need "Run the bar" saturday 18:00-22:00 2 #cafe')
SHIFT = NumberArg("shift", question=SHIFT_QUESTION)

# Network coordinators, and a place's coordinators for the shifts at their place's spaces (issue 18): places_guard
# on each subcommand; with one place, that is the coordinators, as before.
need = router.group("need", aliases=["besoin"], help=N_("Post a shift that needs volunteers (coordinators)"))


@need.sub("post", aliases=["publier"], default=True, guard=places_guard,
          help=N_("Post a shift: what, when, how many people, where"),
          args=(TitleArg("title", first_word=True, question=N_("What, when, and for how many people?")),
                WhenArg("when", example=NEED_EXAMPLE, optional=True, shown_optional=False,
                        no_time=N_("Give a start and an end time.")),
                CapacityArg("places", bare_at_end=True, maximum=MAX_PLACES, label=N_("[people]"),
                            error=N_("Between 1 and {max} people per shift.")),
                ProjectArg("project"), SpaceArg("space", marked=True)),
          examples=(NEED_EXAMPLE, N_('/need "Run the bar" saturday 18:00-22:00 2 places lieu salle-reunion')))
def post_need(ctx: Ctx, title: str, when: When | None, places: int | None, project: str | None,
              space: SpaceView | None) -> Reply:
    example = ctx._(NEED_EXAMPLE)
    if not ctx.is_coordinator:  # a place's coordinator: a shift at one of their place's spaces
        if space is None:
            raise UserError(ctx._("Say at which space of your place, e.g. place salle-orgelet."), example=example)
        require_manager(ctx, ctx.session.get(Site, space.site_id))
    if when is None:
        raise UserError(ctx._("When is it? Give a day and hours."), example=example)
    assert when.start is not None and when.end is not None
    if when.start <= ctx.now:
        raise UserError(ctx._("That time is already past."), example=example)
    project_id = store.get_or_create_project(ctx.session, project, ctx.now).id if project else None
    shift = store.create_shift(ctx.session, title, when.start, when.end, places or 1, ctx.now, project_id=project_id,
                               space_id=space.id if space else None, created_by=ctx.member_id)
    assert shift.id is not None
    if when.start - ctx.now <= timedelta(hours=48):
        shift.uncovered_alert_at = ctx.now  # posting it so close is the alert: the group is told now
    view = store.shift_view(ctx.session, shift)
    ctx.notices += group_notices(ctx.session, ctx.settings, lambda t: Reply(
        t.gettext("Volunteers wanted: {shift}").format(shift=shift_line(t, view)), actions=(take_action(t, view.id),)),
        f"shift-posted:{shift.id}", except_chat=ctx.incoming.chat, shift_id=shift.id)
    return Reply(ctx._("Posted: {shift}. Volunteers take it with /take {id}.").format(
        shift=shift_line(ctx.translator, view), id=shift.id), actions=(take_action(ctx.translator, shift.id),))


@need.sub("cancel", aliases=["annuler"], guard=places_guard, help=N_("Cancel a posted shift; whoever took it is told"),
          args=(SHIFT,),
          examples=(N_("/need cancel 5"),))
def cancel_need(ctx: Ctx, shift: int) -> Reply:
    shift_id = shift
    try:
        row = store.lock_shift(ctx.session, shift_id)
    except store.NotFound:
        raise no_such_shift(ctx, shift_id) from None
    if not ctx.is_coordinator:  # a place's coordinator: their place's shifts only
        site = shift_sites(ctx.session, [shift_id]).get(shift_id)
        require_manager(ctx, ctx.session.get(Site, site) if site is not None else None)
    if row.status == "cancelled":
        return Reply(ctx._("Shift {id} was already cancelled.").format(id=shift_id))
    takers = store.cancel_shift(ctx.session, row)
    tell_cancelled(ctx, row, takers)
    text = ctx._("Cancelled: #{id} {title}, {when}.").format(id=shift_id, title=row.title,
                                                              when=ctx.translator.fmt_range(row.start, row.end))
    if takers:
        text += "\n" + ctx._("The volunteers who had taken it have been told.")
    return Reply(text, edit_original=ctx.incoming.is_action)


def _confirm_action(t: Translator, shift_id: int, minutes: int) -> Action:
    return Action(t.gettext("Confirm {duration}").format(duration=t.fmt_duration(minutes)),
                  router.line("shift done", shift_id))


@router.typed("shifts", aliases=["creneaux"], help=N_("Shifts that need volunteers, and yours"),
              args=(CustomArg("place", read_place_scope, stage=LEADING, label=N_("[place|all]")),),
              examples=(N_("/shifts"),))
def shifts(ctx: Ctx, place: Site | str | None = None) -> Reply:
    store.materialise_rota(ctx.session, ctx.now, ctx.tz)
    views = store.shifts_between(ctx.session, ctx.now, ctx.now + timedelta(days=BOARD_DAYS))
    open_views = [v for v in views if v.missing > 0 and v.start > ctx.now and not v.taken_by(ctx.member_id)]
    if place is None and (here := chat_site(ctx)) is not None:  # a group attached to a place: its shifts
        place = ctx.session.get(Site, here)
    shown_places, footer, place_actions = scope_sites(ctx, place, ctx._("/shifts {place}"))
    if shown_places is not None:  # a network of places (issue 18): the shown places' shifts and the network's
        site_of = shift_sites(ctx.session, [v.id for v in open_views])
        open_views = [v for v in open_views if site_of.get(v.id) is None or site_of[v.id] in shown_places]
    mine = [v for v in views if v.taken_by(ctx.member_id)]
    to_confirm = store.shifts_to_confirm(ctx.session, ctx.member_id, ctx.now)
    t = ctx.translator
    lines: list[str] = []
    actions: list[Action] = []
    if open_views:
        lines.append(ctx._("Needing people in the next {n} days:").format(n=BOARD_DAYS))
        lines += [shift_line(t, v) for v in open_views[:BOARD_LINES]]
        if len(open_views) > BOARD_LINES:
            lines.append(ctx._("… and {n} more.").format(n=len(open_views) - BOARD_LINES))
        actions += [take_action(t, v.id) for v in open_views[:3]]
    else:
        lines.append(ctx._("Every shift of the next {n} days is covered.").format(n=BOARD_DAYS))
    if mine:
        lines += ["", ctx._("Your shifts:")] + [shift_line(t, v) for v in mine]
        lines.append(ctx._("Can't make it? /drop <n> gives your place back."))
    if to_confirm:
        lines += ["", ctx._("Done? Confirm your hours:")] + [shift_line(t, v, names=False) for v in to_confirm]
        actions += [_confirm_action(t, v.id, store.shift_minutes(v)) for v in to_confirm[:3]]
    if footer:
        lines += ["", *footer]
    return Reply("\n".join(lines), title=ctx._("Shifts"), actions=tuple(actions) + place_actions)


@router.typed("take", aliases=["prendre"], help=N_("Take a shift"), args=(SHIFT,),
              examples=(N_("/take 5"), N_("/take n°5")))
def take(ctx: Ctx, shift: int) -> Reply:
    shift_id = shift
    try:
        row = store.take_shift(ctx.session, shift_id, ctx.member_id, ctx.now)
    except store.NotFound:
        raise no_such_shift(ctx, shift_id) from None
    except store.ShiftRefused as refused:
        return Reply(refusal(ctx, refused, shift_id))
    view = store.shift_view(ctx.session, row)
    return Reply(ctx._("You're on it, thank you! {shift}").format(shift=shift_line(ctx.translator, view)) + "\n"
                 + ctx._("Can't make it after all? /drop {id}").format(id=shift_id),
                 actions=(Action(ctx._("I can't make it"), drop.line(shift_id)),))


@router.typed("drop", aliases=["lacher"], help=N_("Give back a shift you can't make"), args=(SHIFT,),
              examples=(N_("/drop 5"),))
def drop(ctx: Ctx, shift: int) -> Reply:
    shift_id = shift
    try:
        row, signup_id = store.drop_shift(ctx.session, shift_id, ctx.member_id, ctx.now)
    except store.NotFound:
        raise no_such_shift(ctx, shift_id) from None
    except store.ShiftRefused as refused:
        return Reply(refusal(ctx, refused, shift_id), edit_original=ctx.incoming.is_action)
    view = store.shift_view(ctx.session, row)
    key = f"shift-dropped:{signup_id}"
    ctx.notices += coordinator_notices(ctx.session, ctx.settings, lambda t: Reply(
        t.gettext("{name} can't make it: {shift}").format(name=ctx.member.display_name, shift=shift_line(t, view)),
        actions=(take_action(t, shift_id),)), key, except_member=ctx.member_id)
    # The group hears that a place is free, not who gave it back.
    ctx.notices += group_notices(ctx.session, ctx.settings, lambda t: Reply(
        t.gettext("A place is free again, who can stand in? {shift}").format(shift=shift_line(t, view)),
        actions=(take_action(t, shift_id),)), key, shift_id=shift_id)
    return Reply(ctx._("Done: you are off {title}, {when}. The coordinators and the volunteers' group have been "
                       "told, so someone can stand in.").format(
        title=row.title, when=ctx.translator.fmt_range(row.start, row.end)), edit_original=ctx.incoming.is_action)


shift_group = router.group("shift", aliases=["creneau"], help=N_("Confirm the hours of a shift you did"))


@shift_group.sub("done", aliases=["fait", "effectue"], help=N_("Confirm the hours of a shift you did"),
                 args=(SHIFT, DurationArg("minutes", optional=True, example=N_("/shift done 5 3h30"))),
                 examples=(N_("/shift done 5"), N_("/shift done 5 3h30")))
def shift_done(ctx: Ctx, shift: int, minutes: int | None) -> Reply:
    shift_id = shift
    try:
        entry = store.confirm_shift_done(ctx.session, shift_id, ctx.member_id, minutes, ctx.now, ctx.tz)
    except store.NotFound:
        raise no_such_shift(ctx, shift_id) from None
    except store.ShiftRefused as refused:
        return Reply(refusal(ctx, refused, shift_id), edit_original=ctx.incoming.is_action)
    slug = store.project_slugs(ctx.session, [entry.project_id]).get(entry.project_id or 0)
    return Reply(ctx._("Logged, thank you: {entry}.").format(entry=describe_entry(ctx, entry, slug)),
                 edit_original=ctx.incoming.is_action)
