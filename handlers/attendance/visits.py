"""Daily visitors (/visitors 12 café, /visiteurs) by whoever is on the opening rota that day or a
coordinator, and the categories coordinators set (/categories, /rubriques) for visitors and activities."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bot.core.context import Ctx
from bot.core.errors import NotAllowed, UserError
from bot.core.grammar.args import REST, KeywordArg, NumberArg, WordArg
from bot.core.grammar.moments import PastDayArg
from bot.core.i18n import N_
from bot.core.router import fold
from bot.core.types import Reply
from handlers.attendance.common import router
from handlers.events.common import load, may_manage
from storage import attendance as store
from storage.models_attendance import CATEGORY_ACTIVITY, CATEGORY_VISITOR

KINDS = {CATEGORY_VISITOR: ["visiteurs", "visiteur", "visitors", "public"],
         CATEGORY_ACTIVITY: ["activite", "activites", "activités", "activité", "activities"]}


def _day_bounds(ctx: Ctx, day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), ctx.tz).astimezone(ctx.tz)
    end = datetime.combine(day + timedelta(days=1), time(), ctx.tz)
    return start, end


def _category(ctx: Ctx, kind: str, word: str | None) -> str:
    if word is None:
        return ""
    name = fold(word.strip("#"))
    known = store.categories(ctx.session, kind)
    if name not in known:
        listed = ", ".join(known) if known else ctx._("none yet")
        raise UserError(ctx._("“{name}” is not a category (known: {known}). A coordinator adds one with "
                              "/categories add visitors {name}.").format(name=name, known=listed))
    return name


@router.typed("visitors", aliases=["visiteurs", "visites"],
              help=N_("Count the day's visitors (opening rota, coordinators)"),
              args=(NumberArg("count", question=N_("How many visitors? e.g. /visitors 12 cafe")),
                    PastDayArg("day"), WordArg("category", optional=True, order=REST)),
              examples=(N_("/visitors 12"), N_("/visitors 5 cafe yesterday")))
def visitors(ctx: Ctx, count: int, day: date | None, category: str | None) -> Reply:
    day = day or ctx.now.astimezone(ctx.tz).date()
    start, end = _day_bounds(ctx, day)
    if not ctx.is_coordinator and not store.on_rota(ctx.session, ctx.member_id, start, end):
        raise NotAllowed(ctx._("Visitors are counted by whoever is on the opening rota that day, or a coordinator."))
    if not 1 <= count <= store.MAX_VISITS:
        raise UserError(ctx._("Between 1 and {max} visitors, please.").format(max=store.MAX_VISITS),
                        example="/visiteurs 12")
    name = _category(ctx, CATEGORY_VISITOR, category)
    total = store.log_visits(ctx.session, day, count, name, ctx.member_id, ctx.now)
    what = name or ctx._("all visitors")
    return Reply(ctx.ngettext("Noted: {n} visitor on {day} ({what}).", "Noted: {n} visitors on {day} ({what}).",
                              count).format(n=count, day=ctx.translator.fmt_day(day), what=what)
                 + " " + ctx._("Total for that day: {total}.").format(total=total))


categories = router.group("categories", aliases=["rubriques"],
                          help=N_("Categories of visitors and of activities (set by coordinators)"))


@categories.sub("list", aliases=["liste"], default=True, help=N_("The categories"),
                examples=(N_("/categories"),))
def list_categories(ctx: Ctx) -> Reply:
    visitor = ", ".join(store.categories(ctx.session, CATEGORY_VISITOR)) or "—"
    activity = ", ".join(store.categories(ctx.session, CATEGORY_ACTIVITY)) or "—"
    return Reply(ctx._("Visitors: {visitor}\nActivities: {activity}").format(visitor=visitor, activity=activity),
                 title=ctx._("Categories"))


def _kind(question: str) -> KeywordArg:
    return KeywordArg("kind", KINDS, question=question)


@categories.sub("add", aliases=["ajouter"], coordinator_only=True, help=N_("Add a category"),
                args=(_kind(N_("Visitors or activities?")), WordArg("name", question=N_("Which name?"))),
                examples=(N_("/categories add visitors jeunes"), N_("/categories add activities numerique")))
def add_category(ctx: Ctx, kind: str, name: str) -> Reply:
    name = fold(name.strip("#"))[:40]
    added = store.add_category(ctx.session, kind, name)
    return Reply((ctx._("Category “{name}” added.") if added else ctx._("“{name}” was already there."))
                 .format(name=name))


@categories.sub("remove", aliases=["retirer", "supprimer"], coordinator_only=True, help=N_("Remove a category"),
                args=(_kind(N_("Visitors or activities?")), WordArg("name", question=N_("Which name?"))),
                examples=(N_("/categories remove visitors jeunes"),))
def remove_category(ctx: Ctx, kind: str, name: str) -> Reply:
    removed = store.remove_category(ctx.session, kind, fold(name.strip("#")))
    return Reply((ctx._("Category “{name}” removed (figures already counted keep it).") if removed
                  else ctx._("There is no category “{name}”.")).format(name=fold(name)))


@categories.sub("event", aliases=["evenement", "événement"], help=N_("Give an event its activity category"),
                args=(NumberArg("number", question=N_("Which event? Give its number (see /events).")),
                      WordArg("name", question=N_("Which category?"))),
                examples=(N_("/categories event 12 numerique"),))
def event_category(ctx: Ctx, number: int, name: str) -> Reply:
    _occurrence, event = load(ctx, number)
    if not may_manage(ctx, event):
        raise NotAllowed(ctx._("Only its organiser or a coordinator can change event {id}.").format(id=number))
    category = _category_activity(ctx, name)
    assert event.id is not None
    store.set_event_category(ctx.session, event.id, category)
    return Reply(ctx._("“{title}” is now in the category “{name}” (all its dates).").format(
        title=event.title, name=category))


def _category_activity(ctx: Ctx, word: str) -> str:
    name = fold(word.strip("#"))
    known = store.categories(ctx.session, CATEGORY_ACTIVITY)
    if name not in known:
        raise UserError(ctx._("“{name}” is not an activity category (known: {known}).").format(
            name=name, known=", ".join(known) or ctx._("none yet")))
    return name
