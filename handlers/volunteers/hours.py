"""The hour log: /task (log, edit, delete) and /tasks (hours by project)."""

from __future__ import annotations

from datetime import date

from bot.core.context import Ctx
from bot.core.errors import NotAllowed, UsageError, UserError
from bot.core.grammar.args import FlagArg, NumberArg, ProjectArg, TextArg
from bot.core.grammar.moments import DurationArg, PastDayArg, PeriodArg
from bot.core.grammar.pieces import fold
from bot.core.i18n import N_
from bot.core.router import NOT_COORDINATOR
from bot.core.types import Action, Reply
from bot.core.vocabulary import MONTHS_FULL, RELATIVE_DAYS, WEEKDAY_TYPOS, WEEKDAYS_FULL
from handlers.volunteers.common import (
    ALL_WORDS,
    MAX_DESCRIPTION,
    MAX_NAMES,
    describe_entry,
    period_label,
    router,
    today_of,
)
from storage import volunteers as store
from storage.models_volunteers import TaskEntry
from storage.report import volunteer_figures
from storage.volunteer_rules import Period, parse_period

RECENT_ENTRIES = 10
TASK_EXAMPLE = N_("/task 2h30 sorting donations #ressourcerie")
# Words that name a day: left in a description, they would be a day the member meant but we did not read.
_DAY_WORDS = set(WEEKDAYS_FULL) | set(WEEKDAY_TYPOS) | set(MONTHS_FULL) | {w for w in RELATIVE_DAYS if " " not in w}


def day_word_in(text: str) -> str | None:
    """The first word of ``text`` that names a day ("jeudi", "hier", "décembre"), if any."""
    for word in text.split():
        if fold(word).strip(".,;:!?()") in _DAY_WORDS:
            return word
    return None


def _checked_description(ctx: Ctx, text: str | None) -> str:
    text = text or ""
    if len(text) > MAX_DESCRIPTION:
        raise UserError(ctx._("Please describe it in {n} characters at most.").format(n=MAX_DESCRIPTION))
    word = day_word_in(text)
    if word is not None:
        raise UserError(ctx._("“{word}” looks like a day, but I couldn't tell which: say the day once, "
                              "at the end (yesterday, last Monday, on the 28th, 2026-11-20).").format(word=word[:30]),
                        example=ctx._("/task 2h sorting donations yesterday"))
    return text


def _month_total(ctx: Ctx) -> int:
    period = parse_period("month", today_of(ctx))
    return sum(minutes for _, _, minutes in store.task_totals(ctx.session, period.start, period.end, ctx.member_id))


task = router.group("task", aliases=["tache", "heures", "benevolat"], help=N_("Log time you gave as a volunteer"))


@task.sub("log", aliases=["noter"], default=True, help=N_("Log hours: a length, what you did, a #project, the day"),
          args=(DurationArg("minutes", question=N_("How long, and what did you do?"), example=TASK_EXAMPLE),
                TextArg("what", optional=True, shown_optional=False, label=N_("<what>")),
                ProjectArg("project"), PastDayArg("day", example=TASK_EXAMPLE)),
          examples=(TASK_EXAMPLE, N_("/task 1h sorting yesterday evening"), N_("/task 2h bar on the 28th")))
def log_task(ctx: Ctx, minutes: int, what: str | None, project: str | None, day: date | None) -> Reply:
    text = _checked_description(ctx, what)
    if not text and project is None:
        raise UserError(ctx._("What did you do? A few words or a #project."), example=ctx._(TASK_EXAMPLE))
    project_id = store.get_or_create_project(ctx.session, project, ctx.now).id if project else None
    entry = store.add_task(ctx.session, ctx.member_id, minutes, text, project_id, day or today_of(ctx), ctx.now)
    return Reply(
        ctx._("Logged, thank you: {entry}.").format(entry=describe_entry(ctx, entry, project)) + "\n"
        + ctx._("Your hours this month: {total}.").format(total=ctx.translator.fmt_duration(_month_total(ctx))),
        actions=(Action(ctx._("Delete"), delete_task.line(entry.id)),),
    )


ENTRY = NumberArg("number", question=N_("Which entry? Give its number (see /tasks)."))


def _own_entry(ctx: Ctx, entry_id: int) -> TaskEntry:
    try:
        entry = store.get_task(ctx.session, entry_id)
    except store.NotFound:
        raise UserError(ctx._("There is no entry number {id}. /tasks lists yours.").format(id=entry_id)) from None
    if entry.member_id != ctx.member_id:
        raise NotAllowed(ctx._("Entry {id} isn't yours: only its author can change it.").format(id=entry_id))
    return entry


@task.sub("edit", aliases=["modifier", "corriger", "correct"], help=N_("Correct one of your entries"),
          args=(ENTRY, DurationArg("minutes", optional=True), TextArg("what", optional=True, label=N_("[what]")),
                ProjectArg("project"), PastDayArg("day")),
          examples=(N_("/task edit 3 1h30"), N_("/task edit 3 #ressourcerie yesterday")))
def edit_task(ctx: Ctx, number: int, minutes: int | None, what: str | None, project: str | None,
              day: date | None) -> Reply:
    entry = _own_entry(ctx, number)
    if minutes is None and what is None and project is None and day is None:
        raise UsageError(ctx._("What should I change? A duration, a #project, a day or the description."))
    if minutes is not None:
        entry.minutes = minutes
    if project is not None:
        entry.project_id = store.get_or_create_project(ctx.session, project, ctx.now).id
    if day is not None:
        entry.day = day
    if what:
        entry.description = _checked_description(ctx, what)
    ctx.session.add(entry)
    slug = store.project_slugs(ctx.session, [entry.project_id]).get(entry.project_id or 0)
    return Reply(ctx._("Corrected: {entry}.").format(entry=describe_entry(ctx, entry, slug)))


@task.sub("delete", aliases=["supprimer", "effacer", "remove"], help=N_("Delete one of your entries"),
          args=(ENTRY,), examples=(N_("/task delete 3"),))
def delete_task(ctx: Ctx, number: int) -> Reply:
    entry = _own_entry(ctx, number)
    slug = store.project_slugs(ctx.session, [entry.project_id]).get(entry.project_id or 0)
    text = ctx._("Deleted: {entry}.").format(entry=describe_entry(ctx, entry, slug))
    ctx.session.delete(entry)
    return Reply(text, edit_original=ctx.incoming.is_action)


@router.typed("tasks", aliases=["taches", "mesheures"], help=N_("Your volunteer hours by project"),
              args=(FlagArg("all", ALL_WORDS, leading=True, label=N_("[all]")), PeriodArg("period")),
              examples=(N_("/tasks month"), N_("/tasks all month"), N_("/tasks 2026-11")))
def tasks(ctx: Ctx, all: bool, period: Period) -> Reply:
    everyone = all
    if everyone and not ctx.is_coordinator:
        raise NotAllowed(ctx._(NOT_COORDINATOR))
    totals = store.task_totals(ctx.session, period.start, period.end, None if everyone else ctx.member_id)
    fmt = ctx.translator.fmt_duration
    title = (ctx._("Everyone's volunteer hours — {period}") if everyone else ctx._("Your hours — {period}")).format(
        period=period_label(ctx.translator, period))
    if not totals:
        return Reply(ctx._("No hours logged for this period. Log some with /task 2h sorting donations #ressourcerie"),
                     title=title)
    slugs = store.project_slugs(ctx.session, (project_id for _, project_id, _ in totals))
    figures = volunteer_figures((mid, slugs.get(pid) if pid else None, minutes) for mid, pid, minutes in totals)
    no_project = ctx._("(no project)")
    lines = []
    for project in figures.projects:
        line = f"• {f'#{project.project}' if project.project else no_project}: {fmt(project.minutes)}"
        if everyone:
            line += " (" + ctx.ngettext("{n} volunteer", "{n} volunteers", project.volunteers).format(
                n=project.volunteers) + ")"
        lines.append(line)
    if everyone:
        lines.append(ctx.ngettext("Total: {total} by {n} volunteer", "Total: {total} by {n} volunteers",
                                  figures.volunteers).format(total=fmt(figures.minutes), n=figures.volunteers))
        shown = figures.per_member[:MAX_NAMES]
        names = store.member_names(ctx.session, (mid for mid, _ in shown))
        lines += ["", ctx._("By volunteer:")]
        lines += [f"• {names.get(mid, '?')}: {fmt(minutes)}" for mid, minutes in shown]
        if len(figures.per_member) > MAX_NAMES:
            lines.append(ctx._("… and {n} more.").format(n=len(figures.per_member) - MAX_NAMES))
        return ctx.privately(Reply("\n".join(lines), title=title))  # names: never in a group
    lines.append(ctx._("Total: {total}").format(total=fmt(figures.minutes)))
    entries, count = store.recent_tasks(ctx.session, ctx.member_id, period.start, period.end, RECENT_ENTRIES)
    lines += ["", ctx._("Your entries:")]
    lines += [describe_entry(ctx, e, slugs.get(e.project_id or 0)) for e in entries]
    if count > len(entries):
        lines.append(ctx._("… and {n} more.").format(n=count - len(entries)))
    lines.append(ctx._("Correct one with /task edit <n> 1h30, remove it with /task delete <n>."))
    return Reply("\n".join(lines), title=title)
