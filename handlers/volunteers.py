"""Volunteers: the hour log (/task, /tasks, /project), open shifts (/need, /shifts, /take, /drop, /shift done),
the opening rota (/rota, /whoopens), the volunteers' group (/volunteers here), and the two jobs the
scheduler runs: ``alert_uncovered_shifts`` and ``ask_shift_confirmations``."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from babel.dates import format_date
from sqlmodel import Session

from bot.config import Settings
from bot.core.context import Ctx, JobCtx
from bot.core.dates import DateParseError, parse_when
from bot.core.dispatch import NOT_COORDINATOR
from bot.core.errors import NotAllowed, UsageError, UserError
from bot.core.i18n import N_, Translator, translator_for
from bot.core.router import Router, fold
from bot.core.types import Action, ChatRef, Notice, Platform, Reply
from handlers.explain import date_error, space_error
from storage import volunteers as store
from storage.members import coordinator_ids
from storage.models import Member
from storage.models_volunteers import RotaSlot, Shift, TaskEntry
from storage.report import volunteer_figures
from storage.spaces import AmbiguousSpace, SpaceNotFound, match_space, space_views
from storage.volunteer_rules import (
    MAX_PLACES,
    TAG_RE,
    DurationError,
    Period,
    PeriodError,
    RotaFormatError,
    local_moment,
    normalise_tag,
    parse_duration,
    parse_period,
    parse_time_range,
    parse_weekdays,
    split_duration,
)

router = Router("volunteers")

BOARD_DAYS = 14
BOARD_LINES = 20
RECENT_ENTRIES = 10
MAX_NAMES = 30
MAX_DESCRIPTION = 500
EDIT_WORDS = {"edit", "modifier", "corriger", "correct"}
DELETE_WORDS = {"delete", "supprimer", "effacer", "remove"}
ALL_WORDS = {"all", "tous", "tout", "toutes", "everyone"}


# --- Shared wording ------------------------------------------------------------------------------------


def duration_error(ctx: Ctx, error: DurationError, example: str) -> UserError:
    messages = {
        "missing": ctx._("How long? Start with a duration such as 2h, 2h30, 1.5h or 45min."),
        "unreadable": ctx._("I couldn't read the duration. Write it like 2h, 2h30, 1.5h or 45min."),
        "zero": ctx._("A duration of zero can't be logged."),
        "too_long": ctx._("That is more than 24 hours for one entry: split it into several days."),
    }
    return UserError(messages[error.code], example=example)


def _number(ctx: Ctx, text: str, question: str) -> int:
    number = text.strip().lstrip("#").removeprefix("n°").strip()
    if not re.fullmatch(r"[0-9]{1,12}", number):
        raise UsageError(question)
    return int(number)


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
    return Action(t.gettext("I'll take #{id}").format(id=shift_id), f"/take {shift_id}")


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
    except_chat: ChatRef | None = None,
) -> list[Notice]:
    """The same news to every volunteers' group (/volunteers here), in the place's language."""
    t = translator_for(settings.language, settings.timezone)
    notices = []
    for group in store.volunteer_groups(session):
        chat = ChatRef(Platform(group.platform), group.chat_id, is_private=False)
        if except_chat is None or (chat.platform, chat.chat_id) != (except_chat.platform, except_chat.chat_id):
            notices.append(Notice(build(t), chat=chat, dedup_key=f"{key}:g{group.id}"))
    return notices


def today_of(ctx: Ctx) -> date:
    return ctx.now.astimezone(ctx.tz).date()


def period_label(t: Translator, period: Period) -> str:
    if period.kind == "year":
        return str(period.start.year)
    if period.kind == "month":
        return format_date(period.start, "LLLL yyyy", locale=t.locale)
    return t.gettext("week of {day}").format(day=t.fmt_day(period.start))


def _period(ctx: Ctx, text: str) -> Period:
    try:
        return parse_period(text, today_of(ctx))
    except PeriodError:
        raise UserError(ctx._("Which period? week, month, year, a month like 2026-11 or a year like 2026."),
                        example=ctx._("/tasks month")) from None


# --- /task: log, correct, delete ------------------------------------------------------------------------

_WEEKDAY_NAMES = ("lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|"
                  "monday|tuesday|wednesday|thursday|friday|saturday|sunday")
_MONTH_NAMES = ("janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre|"
                "january|february|march|april|may|june|july|august|september|october|november|december|"
                "janv|fevr?|avr|juil|sept?|oct|nov|dec|jan|feb|apr|jun|jul|aug")
_WEEKDAY_RE = re.compile(rf"^(?:last\s+)?(?P<day>{_WEEKDAY_NAMES})(?:\s+(?P<last>derniere?|last))?$")
# The words that may end (or start) a task as its day: nothing else is taken from the description.
_DAY_PHRASE_RE = re.compile(
    rf"""^(?:le\s+|on\s+|the\s+)?(?:
        hier|avant-hier|avant\s+hier|yesterday|today|aujourd'hui|aujourdhui|auj
      | demain|apres-demain|apres\s+demain|tomorrow
      | (?:last\s+)?(?:{_WEEKDAY_NAMES})(?:\s+(?:derniere?|last))?
      | \d{{4}}-\d{{1,2}}-\d{{1,2}}
      | \d{{1,2}}[/.]\d{{1,2}}(?:[/.]\d{{2,4}})?
      | (?:(?:{_WEEKDAY_NAMES})\s+)?\d{{1,2}}(?:er|st|nd|rd|th)?\s+(?:{_MONTH_NAMES})\.?(?:\s+\d{{4}})?
    )$""",
    re.VERBOSE,
)
_WEEKDAY_INDEX = {name: i % 7 for i, name in enumerate(_WEEKDAY_NAMES.split("|"))}
# Read without dateparser, whose first call costs a quarter of a second.
_DAYS_AGO = {"hier": 1, "yesterday": 1, "avant-hier": 2, "avant hier": 2, "today": 0, "aujourd'hui": 0,
             "aujourdhui": 0, "auj": 0}


def _past_day(ctx: Ctx, phrase: str, example: str) -> date:
    """The day a task was done: 'lundi' is the last Monday (today if it is Monday), a date without a
    year is the last one to have passed; a day still to come is refused."""
    today = today_of(ctx)
    key = re.sub(r"^(?:le|on|the)\s+", "", fold(phrase).strip())
    if key in _DAYS_AGO:
        return today - timedelta(days=_DAYS_AGO[key])
    weekday = _WEEKDAY_RE.match(key)
    if weekday:
        ago = (today.weekday() - _WEEKDAY_INDEX[weekday["day"]]) % 7
        if ago == 0 and (weekday["last"] or key.startswith("last")):
            ago = 7
        return today - timedelta(days=ago)
    try:
        day = parse_when(phrase, ctx.now, ctx.tz).day
    except DateParseError as error:
        raise date_error(ctx, error, example) from None
    if day > today and re.search(r"\d", phrase) and not re.search(r"\d{4}", phrase):
        try:
            day = day.replace(year=day.year - 1)
        except ValueError:  # 29 February
            day = day.replace(year=day.year - 1, day=28)
    if day > today:
        raise UserError(ctx._("That day hasn't come yet: log the time once it is done."), example=example)
    return day


def _take_day(ctx: Ctx, text: str, example: str) -> tuple[date | None, str]:
    """A day at the end (or the start) of the text, and the text without it."""
    words = text.split()
    for count in range(min(len(words), 4), 0, -1):
        for phrase, rest in ((words[-count:], words[:-count]), (words[:count], words[count:])):
            if _DAY_PHRASE_RE.match(fold(" ".join(phrase))):
                return _past_day(ctx, " ".join(phrase), example), " ".join(rest)
    return None, text


def _take_tag(ctx: Ctx, text: str, example: str) -> tuple[str | None, str]:
    tags = {normalise_tag(m) for m in TAG_RE.findall(text)} - {""}
    if len(tags) > 1:
        raise UserError(ctx._("One project per entry, please."), example=example)
    rest = re.sub(r"\s+", " ", TAG_RE.sub(" ", text)).strip()
    return (tags.pop() if tags else None), rest


def _describe_entry(ctx: Ctx, entry: TaskEntry, project: str | None) -> str:
    what = " ".join(p for p in (entry.description, f"#{project}" if project else "") if p)
    t = ctx.translator
    return f"#{entry.id} {t.fmt_day(entry.day)} — {t.fmt_duration(entry.minutes)} {what}".rstrip()


def _own_entry(ctx: Ctx, text: str) -> tuple[TaskEntry, str]:
    number, _, rest = text.strip().partition(" ")
    entry_id = _number(ctx, number, ctx._("Which entry? Give its number (see /tasks)."))
    try:
        entry = store.get_task(ctx.session, entry_id)
    except store.NotFound:
        raise UserError(ctx._("There is no entry number {id}. /tasks lists yours.").format(id=entry_id)) from None
    if entry.member_id != ctx.member_id:
        raise NotAllowed(ctx._("Entry {id} isn't yours: only its author can change it.").format(id=entry_id))
    return entry, rest.strip()


def _month_total(ctx: Ctx) -> int:
    period = parse_period("month", today_of(ctx))
    return sum(minutes for _, _, minutes in store.task_totals(ctx.session, period.start, period.end, ctx.member_id))


@router.command("task", aliases=["tache"], help=N_("Log time you gave as a volunteer"),
                usage=N_("/task <duration> <what> [#project] [day]  e.g. /task 2h30 sorting donations "
                         "#ressourcerie yesterday; /task edit <n> 1h30; /task delete <n>"))
def task(ctx: Ctx, args: str) -> Reply:
    first, _, rest = args.strip().partition(" ")
    if fold(first) in EDIT_WORDS:
        return _edit_task(ctx, rest)
    if fold(first) in DELETE_WORDS:
        return _delete_task(ctx, rest)
    example = ctx._("/task 2h30 sorting donations #ressourcerie")
    if not args.strip():
        raise UsageError(ctx._("How long, and what did you do?"))
    try:
        minutes, text = split_duration(args)
    except DurationError as error:
        raise duration_error(ctx, error, example) from None
    project, text = _take_tag(ctx, text, example)
    day, text = _take_day(ctx, text, example)
    if not text and project is None:
        raise UserError(ctx._("What did you do? A few words or a #project."), example=example)
    if len(text) > MAX_DESCRIPTION:
        raise UserError(ctx._("Please describe it in {n} characters at most.").format(n=MAX_DESCRIPTION))
    project_id = store.get_or_create_project(ctx.session, project, ctx.now).id if project else None
    entry = store.add_task(ctx.session, ctx.member_id, minutes, text, project_id, day or today_of(ctx), ctx.now)
    return Reply(
        ctx._("Logged, thank you: {entry}.").format(entry=_describe_entry(ctx, entry, project)) + "\n"
        + ctx._("Your hours this month: {total}.").format(total=ctx.translator.fmt_duration(_month_total(ctx))),
        actions=(Action(ctx._("Delete"), f"/task delete {entry.id}"),),
    )


def _edit_task(ctx: Ctx, args: str) -> Reply:
    entry, text = _own_entry(ctx, args)
    example = ctx._("/task edit {id} 1h30").format(id=entry.id)
    if not text:
        raise UsageError(ctx._("What should I change? A duration, a #project, a day or the description."))
    try:
        entry.minutes, text = split_duration(text)
    except DurationError as error:
        if error.code in {"zero", "too_long"}:
            raise duration_error(ctx, error, example) from None
    project, text = _take_tag(ctx, text, example)
    day, text = _take_day(ctx, text, example)
    if project is not None:
        entry.project_id = store.get_or_create_project(ctx.session, project, ctx.now).id
    if day is not None:
        entry.day = day
    if text:
        if len(text) > MAX_DESCRIPTION:
            raise UserError(ctx._("Please describe it in {n} characters at most.").format(n=MAX_DESCRIPTION))
        entry.description = text
    ctx.session.add(entry)
    slug = store.project_slugs(ctx.session, [entry.project_id]).get(entry.project_id or 0)
    return Reply(ctx._("Corrected: {entry}.").format(entry=_describe_entry(ctx, entry, slug)))


def _delete_task(ctx: Ctx, args: str) -> Reply:
    entry, _ = _own_entry(ctx, args)
    slug = store.project_slugs(ctx.session, [entry.project_id]).get(entry.project_id or 0)
    text = ctx._("Deleted: {entry}.").format(entry=_describe_entry(ctx, entry, slug))
    ctx.session.delete(entry)
    return Reply(text, edit_original=ctx.incoming.is_action)


# --- /tasks: hours by project ---------------------------------------------------------------------------


@router.command("tasks", aliases=["taches"], help=N_("Your volunteer hours by project"),
                usage=N_("/tasks [week|month|year]  e.g. /tasks month; coordinators: /tasks all month"))
def tasks(ctx: Ctx, args: str) -> Reply:
    words = args.split()
    everyone = bool(words) and fold(words[0]) in ALL_WORDS
    if everyone:
        words = words[1:]
        if not ctx.is_coordinator:
            raise NotAllowed(ctx._(NOT_COORDINATOR))
    period = _period(ctx, " ".join(words))
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
        return Reply("\n".join(lines), title=title)
    lines.append(ctx._("Total: {total}").format(total=fmt(figures.minutes)))
    entries, count = store.recent_tasks(ctx.session, ctx.member_id, period.start, period.end, RECENT_ENTRIES)
    lines += ["", ctx._("Your entries:")]
    lines += [_describe_entry(ctx, e, slugs.get(e.project_id or 0)) for e in entries]
    if count > len(entries):
        lines.append(ctx._("… and {n} more.").format(n=count - len(entries)))
    lines.append(ctx._("Correct one with /task edit <n> 1h30, remove it with /task delete <n>."))
    return Reply("\n".join(lines), title=title)


# --- /project: list, rename, merge ----------------------------------------------------------------------


@router.command("project", aliases=["projet"], help=N_("List the projects; coordinators rename or merge them"),
                usage=N_("/project [list | rename <old> <new> | merge <from> <into>]  e.g. /project merge recyclerie "
                         "ressourcerie"))
def project(ctx: Ctx, args: str) -> Reply:
    words = args.split()
    action = fold(words[0]) if words else "list"
    if action in {"list", "liste"}:
        projects = store.list_projects(ctx.session)
        if not projects:
            return Reply(ctx._("No projects yet: tag an entry with #name, e.g. /task 2h sorting #ressourcerie"))
        return Reply("\n".join(f"• #{p.slug}: {ctx.translator.fmt_duration(minutes)}" for p, minutes in projects),
                     title=ctx._("Projects"))
    if action not in {"rename", "renommer", "merge", "fusionner"} or len(words) != 3:
        raise UsageError(ctx._("Rename or merge which projects?"))
    if not ctx.is_coordinator:
        raise NotAllowed(ctx._(NOT_COORDINATOR))
    old_slug, new_slug = normalise_tag(words[1]), normalise_tag(words[2])
    source = store.find_project(ctx.session, old_slug)
    if source is None:
        raise UserError(ctx._("There is no project #{name}. /project lists them.").format(name=old_slug or words[1]))
    if not new_slug or new_slug == old_slug:
        raise UsageError(ctx._("Give a different project name."))
    target = store.find_project(ctx.session, new_slug)
    if action in {"rename", "renommer"}:
        if target is not None:
            raise UserError(ctx._("#{new} already exists: merge the two with /project merge {old} {new}.").format(
                new=new_slug, old=old_slug))
        store.rename_project(ctx.session, source, new_slug)
        return Reply(ctx._("#{old} is now #{new}.").format(old=old_slug, new=new_slug))
    if target is None:
        store.rename_project(ctx.session, source, new_slug)
        return Reply(ctx._("#{old} is now #{new}.").format(old=old_slug, new=new_slug))
    moved = store.merge_projects(ctx.session, source, target)
    return Reply(ctx.ngettext("Merged #{old} into #{new} ({n} entry moved).",
                              "Merged #{old} into #{new} ({n} entries moved).", moved).format(
        old=old_slug, new=new_slug, n=moved))


# --- /need: coordinators post shifts --------------------------------------------------------------------

_TITLE_RE = re.compile(r'^\s*["“«]\s*(?P<title>[^"”»]+?)\s*["”»]\s*(?P<rest>.*)$', re.DOTALL)
_SPACE_RE = re.compile(r"(?:^|\s)(?:lieu|espace|space|room)(?:\s*[:=]\s*|\s+)(?P<space>\S+)", re.IGNORECASE)
_PLACES_RE = re.compile(
    r"(?:^|\s)(?:x\s*)?(?P<n>\d{1,3})(?:\s*(?:p|pers|personnes?|people|persons?|b[ée]n[ée]voles?|volunteers?|"
    r"places?))?\s*$", re.IGNORECASE)


def _split_title(text: str) -> tuple[str, str]:
    match = _TITLE_RE.match(text)
    if match:
        return match["title"], match["rest"]
    title, _, rest = text.strip().partition(" ")
    return title, rest


@router.command("need", aliases=["besoin"], coordinator_only=True,
                help=N_("Post a shift that needs volunteers (coordinators)"),
                usage=N_('/need "<what>" <when> [people] [#project] [space <space>]  e.g. /need "Run the bar" '
                         "saturday 18:00-22:00 2 #cafe; /need cancel <n>"))
def need(ctx: Ctx, args: str) -> Reply:
    first, _, rest = args.strip().partition(" ")
    if fold(first) in {"cancel", "annuler"}:
        return _cancel_need(ctx, rest)
    example = ctx._('/need "Run the bar" saturday 18:00-22:00 2 #cafe')
    if not args.strip():
        raise UsageError(ctx._("What, when, and for how many people?"))
    title, text = _split_title(args)
    project, text = _take_tag(ctx, text, example)
    space_id = None
    space_match = _SPACE_RE.search(text)
    if space_match:
        try:
            space = match_space(space_views(ctx.session), space_match["space"])
        except (SpaceNotFound, AmbiguousSpace) as error:
            raise space_error(ctx, error) from None
        space_id = space.id
        text = text[: space_match.start()] + " " + text[space_match.end():]
    places = 1
    places_match = _PLACES_RE.search(text)
    if places_match:
        places = int(places_match["n"])
        text = text[: places_match.start()]
    if not 1 <= places <= MAX_PLACES:
        raise UserError(ctx._("Between 1 and {max} people per shift.").format(max=MAX_PLACES), example=example)
    if not text.strip():
        raise UserError(ctx._("When is it? Give a day and hours."), example=example)
    try:
        when = parse_when(text, ctx.now, ctx.tz)
    except DateParseError as error:
        raise date_error(ctx, error, example) from None
    if when.start is None or when.end is None:
        raise UserError(ctx._("Give a start and an end time."), example=example)
    if when.start <= ctx.now:
        raise UserError(ctx._("That time is already past."), example=example)
    project_id = store.get_or_create_project(ctx.session, project, ctx.now).id if project else None
    shift = store.create_shift(ctx.session, title, when.start, when.end, places, ctx.now, project_id=project_id,
                               space_id=space_id, created_by=ctx.member_id)
    assert shift.id is not None
    if when.start - ctx.now <= timedelta(hours=48):
        shift.uncovered_alert_at = ctx.now  # posting it so close is the alert: the group is told now
    view = store.shift_view(ctx.session, shift)
    ctx.notices += group_notices(ctx.session, ctx.settings, lambda t: Reply(
        t.gettext("Volunteers wanted: {shift}").format(shift=shift_line(t, view)), actions=(take_action(t, view.id),)),
        f"shift-posted:{shift.id}", except_chat=ctx.incoming.chat)
    return Reply(ctx._("Posted: {shift}. Volunteers take it with /take {id}.").format(
        shift=shift_line(ctx.translator, view), id=shift.id), actions=(take_action(ctx.translator, shift.id),))


def _tell_cancelled(ctx: Ctx, shift: Shift, takers: list[int]) -> None:
    for member_id in takers:
        member = ctx.session.get(Member, member_id)
        if member is None:
            continue
        t = ctx.translator_for(member)
        text = t.gettext("Cancelled by the coordinators: {title}, {when}. You don't need to come.").format(
            title=shift.title, when=t.fmt_range(shift.start, shift.end))
        ctx.notify_member(member_id, Reply(text), dedup_key=f"shift-cancelled:{shift.id}:{member_id}")


def _cancel_need(ctx: Ctx, args: str) -> Reply:
    shift_id = _number(ctx, args, ctx._("Which shift? Give its number (see /shifts)."))
    try:
        shift = store.lock_shift(ctx.session, shift_id)
    except store.NotFound:
        raise UserError(ctx._("There is no shift number {id}. /shifts lists them.").format(id=shift_id)) from None
    if shift.status == "cancelled":
        return Reply(ctx._("Shift {id} was already cancelled.").format(id=shift_id))
    takers = store.cancel_shift(ctx.session, shift)
    _tell_cancelled(ctx, shift, takers)
    text = ctx._("Cancelled: #{id} {title}, {when}.").format(id=shift_id, title=shift.title,
                                                              when=ctx.translator.fmt_range(shift.start, shift.end))
    if takers:
        text += "\n" + ctx._("The volunteers who had taken it have been told.")
    return Reply(text, edit_original=ctx.incoming.is_action)


# --- /shifts, /take, /drop, /shift done -----------------------------------------------------------------


def _shift_or_error(ctx: Ctx, args: str) -> int:
    return _number(ctx, args.split()[0] if args.split() else "", ctx._("Which shift? Give its number (see /shifts)."))


def _refusal(ctx: Ctx, refused: store.ShiftRefused, shift_id: int) -> str:
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


@router.command("shifts", aliases=["creneaux"], help=N_("Shifts that need volunteers, and yours"),
                usage=N_("/shifts"))
def shifts(ctx: Ctx, args: str) -> Reply:
    store.materialise_rota(ctx.session, ctx.now, ctx.tz)
    views = store.shifts_between(ctx.session, ctx.now, ctx.now + timedelta(days=BOARD_DAYS))
    open_views = [v for v in views if v.missing > 0 and v.start > ctx.now and not v.taken_by(ctx.member_id)]
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
    return Reply("\n".join(lines), title=ctx._("Shifts"), actions=tuple(actions))


@router.command("take", aliases=["prendre"], help=N_("Take a shift"), usage=N_("/take <n>  e.g. /take 5"))
def take(ctx: Ctx, args: str) -> Reply:
    shift_id = _shift_or_error(ctx, args)
    try:
        shift = store.take_shift(ctx.session, shift_id, ctx.member_id, ctx.now)
    except store.NotFound:
        raise UserError(ctx._("There is no shift number {id}. /shifts lists them.").format(id=shift_id)) from None
    except store.ShiftRefused as refused:
        return Reply(_refusal(ctx, refused, shift_id))
    view = store.shift_view(ctx.session, shift)
    return Reply(ctx._("You're on it, thank you! {shift}").format(shift=shift_line(ctx.translator, view)) + "\n"
                 + ctx._("Can't make it after all? /drop {id}").format(id=shift_id),
                 actions=(Action(ctx._("I can't make it"), f"/drop {shift_id}"),))


@router.command("drop", aliases=["lacher"], help=N_("Give back a shift you can't make"),
                usage=N_("/drop <n>  e.g. /drop 5"))
def drop(ctx: Ctx, args: str) -> Reply:
    shift_id = _shift_or_error(ctx, args)
    try:
        shift, signup_id = store.drop_shift(ctx.session, shift_id, ctx.member_id, ctx.now)
    except store.NotFound:
        raise UserError(ctx._("There is no shift number {id}. /shifts lists them.").format(id=shift_id)) from None
    except store.ShiftRefused as refused:
        return Reply(_refusal(ctx, refused, shift_id), edit_original=ctx.incoming.is_action)
    view = store.shift_view(ctx.session, shift)
    key = f"shift-dropped:{signup_id}"
    ctx.notices += coordinator_notices(ctx.session, ctx.settings, lambda t: Reply(
        t.gettext("{name} can't make it: {shift}").format(name=ctx.member.display_name, shift=shift_line(t, view)),
        actions=(take_action(t, shift_id),)), key, except_member=ctx.member_id)
    # The group hears that a place is free, not who gave it back.
    ctx.notices += group_notices(ctx.session, ctx.settings, lambda t: Reply(
        t.gettext("A place is free again, who can stand in? {shift}").format(shift=shift_line(t, view)),
        actions=(take_action(t, shift_id),)), key)
    return Reply(ctx._("Done: you are off {title}, {when}. The coordinators and the volunteers' group have been "
                       "told, so someone can stand in.").format(
        title=shift.title, when=ctx.translator.fmt_range(shift.start, shift.end)), edit_original=ctx.incoming.is_action)


def _confirm_action(t: Translator, shift_id: int, minutes: int) -> Action:
    return Action(t.gettext("Confirm {duration}").format(duration=t.fmt_duration(minutes)), f"/shift done {shift_id}")


@router.command("shift", aliases=["creneau"], help=N_("Confirm the hours of a shift you did"),
                usage=N_("/shift done <n> [duration]  e.g. /shift done 5 or /shift done 5 3h30"))
def shift_done(ctx: Ctx, args: str) -> Reply:
    words = args.split(maxsplit=2)
    if not words or fold(words[0]) not in {"done", "fait", "effectue"}:
        raise UsageError(ctx._("Which shift did you do?"))
    shift_id = _shift_or_error(ctx, words[1] if len(words) > 1 else "")
    minutes = None
    if len(words) > 2:
        try:
            minutes = parse_duration(words[2])
        except DurationError as error:
            raise duration_error(ctx, error, f"/shift done {shift_id} 3h30") from None
    try:
        entry = store.confirm_shift_done(ctx.session, shift_id, ctx.member_id, minutes, ctx.now, ctx.tz)
    except store.NotFound:
        raise UserError(ctx._("There is no shift number {id}. /shifts lists them.").format(id=shift_id)) from None
    except store.ShiftRefused as refused:
        return Reply(_refusal(ctx, refused, shift_id), edit_original=ctx.incoming.is_action)
    slug = store.project_slugs(ctx.session, [entry.project_id]).get(entry.project_id or 0)
    return Reply(ctx._("Logged, thank you: {entry}.").format(entry=_describe_entry(ctx, entry, slug)),
                 edit_original=ctx.incoming.is_action)


# --- /rota and /whoopens --------------------------------------------------------------------------------

ROTA_EXAMPLE = "/rota add ouverture lun-ven 08:30-09:30 1"
MAX_ROTA_WEEKS = 12


def _weekday_names(t: Translator, weekdays: tuple[int, ...]) -> str:
    names = t.locale.days["format"]["abbreviated"]
    if weekdays == tuple(range(weekdays[0], weekdays[-1] + 1)) and len(weekdays) > 2:
        return f"{names[weekdays[0]]}–{names[weekdays[-1]]}"
    return ", ".join(names[d] for d in weekdays)


def _slot_line(ctx: Ctx, slot: RotaSlot) -> str:
    return "#{id} {title}: {days} {start}–{end}, {people}".format(
        id=slot.id, title=slot.title, days=_weekday_names(ctx.translator, store.weekdays_of(slot)),
        start=slot.start_time.strftime("%H:%M"), end=slot.end_time.strftime("%H:%M"),
        people=ctx.ngettext("{n} person", "{n} people", slot.places).format(n=slot.places))


def _rota_add(ctx: Ctx, text: str) -> Reply:
    title, rest = _split_title(text)
    words = rest.split()
    if not title or len(words) not in (2, 3):
        raise UserError(ctx._("Give a name, the days, the hours and how many people."), example=ROTA_EXAMPLE)
    try:
        weekdays = parse_weekdays(words[0])
        start, end = parse_time_range(words[1])
    except RotaFormatError as error:
        message = (ctx._("I couldn't read the days: write them like lun-ven, sam or mon,wed,fri.")
                   if error.code == "weekdays" else
                   ctx._("I couldn't read the hours: write them like 08:30-09:30."))
        raise UserError(message, example=ROTA_EXAMPLE) from None
    places = words[2] if len(words) == 3 else "1"
    if not (re.fullmatch(r"[0-9]{1,3}", places) and 1 <= int(places) <= MAX_PLACES):
        raise UserError(ctx._("Between 1 and {max} people per shift.").format(max=MAX_PLACES), example=ROTA_EXAMPLE)
    slot = store.add_rota_slot(ctx.session, title, weekdays, start, end, int(places), ctx.member_id, ctx.now)
    created = store.materialise_rota(ctx.session, ctx.now, ctx.tz)
    return Reply(ctx._("Added to the rota: {slot}.").format(slot=_slot_line(ctx, slot)) + "\n"
                 + ctx.ngettext("{n} shift created for the coming weeks.", "{n} shifts created for the coming weeks.",
                                created).format(n=created))


def _rota_remove(ctx: Ctx, text: str) -> Reply:
    slot_id = _number(ctx, text, ctx._("Which rota line? Give its number (see /rota list)."))
    slot = ctx.session.get(RotaSlot, slot_id)
    if slot is None or not slot.active:
        raise UserError(ctx._("There is no rota line number {id}. /rota list shows them.").format(id=slot_id))
    cancelled = store.remove_rota_slot(ctx.session, slot, ctx.now)
    for shift, takers in cancelled:
        _tell_cancelled(ctx, shift, takers)
    return Reply(ctx._("Removed from the rota: {slot}.").format(slot=_slot_line(ctx, slot)) + "\n"
                 + ctx.ngettext("{n} coming shift cancelled.", "{n} coming shifts cancelled.",
                                len(cancelled)).format(n=len(cancelled)))


def _rota_week(ctx: Ctx, text: str) -> Reply:
    today = today_of(ctx)
    if fold(text) in {"next", "prochaine", "suivante"}:
        first = today - timedelta(days=today.weekday()) + timedelta(days=7)
    elif fold(text) in {"", "week", "semaine"}:
        first = today
    else:
        try:
            day = parse_when(text, ctx.now, ctx.tz).day
        except DateParseError as error:
            raise date_error(ctx, error, "/rota 2026-12-07") from None
        first = max(day - timedelta(days=day.weekday()), today)
    last = first + timedelta(days=6)
    if last > today + timedelta(weeks=MAX_ROTA_WEEKS):
        raise UserError(ctx._("The rota looks {n} weeks ahead at most.").format(n=MAX_ROTA_WEEKS))
    store.materialise_rota(ctx.session, ctx.now, ctx.tz, until=max(last, store.rota_horizon(today)))
    start = max(local_moment(first, time(0), ctx.tz), ctx.now)
    views = store.rota_with_gaps(ctx.session, start, local_moment(last + timedelta(days=1), time(0), ctx.tz))
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
        day = view.start.astimezone(ctx.tz).date()
        if day != current:
            lines.append(ctx.translator.fmt_day(day))
            current = day
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
    return Reply("\n".join(lines), title=title, actions=tuple(take_action(ctx.translator, v.id) for v in gaps[:3]))


@router.command("rota", aliases=["permanences"], help=N_("The opening and closing rota, with its gaps"),
                usage=N_("/rota [next|<day>]; coordinators: /rota add <name> <days> <hours> [people], e.g. "
                         "/rota add ouverture lun-ven 08:30-09:30 1; /rota list; /rota remove <n>"))
def rota(ctx: Ctx, args: str) -> Reply:
    first, _, rest = args.strip().partition(" ")
    action = fold(first)
    if action in {"add", "ajouter", "remove", "retirer", "supprimer", "list", "liste"}:
        if not ctx.is_coordinator:
            raise NotAllowed(ctx._(NOT_COORDINATOR))
        if action in {"add", "ajouter"}:
            return _rota_add(ctx, rest)
        if action in {"remove", "retirer", "supprimer"}:
            return _rota_remove(ctx, rest)
        slots = store.active_rota_slots(ctx.session)
        if not slots:
            return Reply(ctx._("The rota is empty. A coordinator adds to it with {example}").format(
                example=ROTA_EXAMPLE))
        return Reply("\n".join(_slot_line(ctx, s) for s in slots), title=ctx._("Rota"))
    return _rota_week(ctx, args.strip())


@router.command("whoopens", aliases=["quiouvre"], help=N_("Who opens tomorrow (or on a given day)"),
                usage=N_("/whoopens [day]  e.g. /whoopens saturday"))
def who_opens(ctx: Ctx, args: str) -> Reply:
    try:
        day = parse_when(args or "tomorrow", ctx.now, ctx.tz).day
    except DateParseError as error:
        raise date_error(ctx, error, ctx._("/whoopens saturday")) from None
    today = today_of(ctx)
    if day > today + timedelta(weeks=MAX_ROTA_WEEKS):
        raise UserError(ctx._("The rota looks {n} weeks ahead at most.").format(n=MAX_ROTA_WEEKS))
    store.materialise_rota(ctx.session, ctx.now, ctx.tz, until=max(day, store.rota_horizon(today)))
    views = store.rota_with_gaps(ctx.session, local_moment(day, time(0), ctx.tz),
                                 local_moment(day + timedelta(days=1), time(0), ctx.tz))
    day_text = ctx.translator.fmt_day(day)
    openings = [v for v in views if v.rota_kind == "open" and v.start.astimezone(ctx.tz).date() == day]
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


# --- /volunteers here: the group told about gaps and drops ----------------------------------------------


@router.command("volunteers", aliases=["benevoles"], coordinator_only=True,
                help=N_("Choose the group told about uncovered shifts (coordinators)"),
                usage=N_("/volunteers here (in the group) or /volunteers off"))
def volunteers_group(ctx: Ctx, args: str) -> Reply:
    action = fold(args.strip())
    chat = ctx.incoming.chat
    if action in {"here", "ici"}:
        if chat.is_private:
            raise UserError(ctx._("Send this in the volunteers' group itself, not in a private chat."))
        store.set_volunteer_group(ctx.session, chat.platform.value, chat.chat_id, ctx.member_id, ctx.now)
        return Reply(ctx._("This group will be told about shifts that need people and places given back."))
    if action in {"off", "stop", "non"}:
        if store.remove_volunteer_group(ctx.session, chat.platform.value, chat.chat_id):
            return Reply(ctx._("This group won't be told about shifts any more."))
        return Reply(ctx._("This chat wasn't the volunteers' group."))
    count = len(store.volunteer_groups(ctx.session))
    return Reply(ctx.ngettext("{n} group is told about shifts. Send /volunteers here in a group to add it.",
                              "{n} groups are told about shifts. Send /volunteers here in a group to add it.",
                              count).format(n=count))


# --- Jobs the scheduler runs ----------------------------------------------------------------------------


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

    def message(t: Translator) -> Reply:
        lines = [shift_line(t, v) for v in views[:BOARD_LINES]]
        if len(views) > BOARD_LINES:
            lines.append(t.gettext("… and {n} more.").format(n=len(views) - BOARD_LINES))
        heading = t.ngettext("{n} shift in the next 48 hours still needs people:",
                             "{n} shifts in the next 48 hours still need people:", len(views)).format(n=len(views))
        return Reply(heading + "\n" + "\n".join(lines), actions=tuple(take_action(t, v.id) for v in views[:3]))

    return coordinator_notices(session, settings, message, key) + group_notices(session, settings, message, key)


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
        notices.append(Notice(Reply(text, actions=(_confirm_action(t, shift.id, minutes),)), member_id=signup.member_id,
                              dedup_key=f"shift-done-asked:{signup.id}"))
    return notices


@router.job("volunteer-shifts", every_seconds=15 * 60)
def volunteer_shift_jobs(ctx: JobCtx) -> None:
    """Every quarter of an hour: alert once about shifts still uncovered 48 h ahead, and ask volunteers
    to confirm the hours of shifts that are over."""
    ctx.notices += alert_uncovered_shifts(ctx.session, ctx.now, ctx.settings)
    ctx.notices += ask_shift_confirmations(ctx.session, ctx.now, ctx.settings)
