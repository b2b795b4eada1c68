"""/report: the activity report for coordinators (Markdown in the chat), and the same report rendered
as Markdown or CSV for `tierslieu report` (annual report, spreadsheets)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from bot.core.context import Ctx
from bot.core.errors import NotAllowed, UserError
from bot.core.i18n import N_, Translator
from bot.core.router import NOT_COORDINATOR, Router, fold
from bot.core.types import Reply
from handlers.decisions.log import decisions_line
from handlers.volunteers import period_label, today_of
from storage.report import RATE_SETTING, ActivityReport, RatePart, build_report, network_reports
from storage.volunteer_rules import PeriodError, parse_period

router = Router("report")

CHAT_EVENT_LINES = 15
NAME_WORDS = {"names", "noms", "detail"}


def _hours(minutes: float) -> Decimal:
    return (Decimal(str(minutes)) / 60).quantize(Decimal("0.01"))


# Babel's number formatting is loaded by the first report only (babel.numbers: ~0.1 MiB held by every
# running bot otherwise; /report is a coordinator's monthly command).


def _number(t: Translator, value: Decimal | float | int) -> str:
    from babel.numbers import format_decimal

    return format_decimal(value, format="#,##0.##", locale=t.locale)


def _percent(t: Translator, rate: float | None) -> str:
    from babel.numbers import format_percent

    return "—" if rate is None else format_percent(rate, format="#,##0.#%", locale=t.locale)


def render_markdown(report: ActivityReport, t: Translator, *, max_events: int | None = None) -> str:
    """Headings and bullet lists: valid Markdown for the annual report, and readable as plain text in a chat."""
    _ = t.gettext
    fmt = t.fmt_duration
    lines = ["# " + _("Activity report — {period}").format(period=period_label(t, report.period))
             + (f" — {report.place}" if report.place else ""), ""]

    lines.append("## " + _("Space bookings"))
    for space in report.spaces:
        lines.append("- " + _("{space}: {bookings}, {hours} booked, occupancy {rate} of opening hours").format(
            space=space.name,
            bookings=t.ngettext("{n} booking", "{n} bookings", space.bookings).format(n=space.bookings),
            hours=fmt(round(space.booked_minutes)), rate=_percent(t, space.occupancy)))
    bookings = sum(s.bookings for s in report.spaces)
    lines.append(_("Total: {bookings}, {hours} booked.").format(
        bookings=t.ngettext("{n} booking", "{n} bookings", bookings).format(n=bookings),
        hours=fmt(round(sum(s.booked_minutes for s in report.spaces)))))
    lines.append("")

    lines.append("## " + _("Events"))
    if report.events is None:
        lines.append(_("(The events feature is not installed.)"))
    else:
        events = report.events
        lines.append(_("{events}, {signups}, fill rate {rate}.").format(
            events=t.ngettext("{n} event", "{n} events", events.count).format(n=events.count),
            signups=t.ngettext("{n} sign-up", "{n} sign-ups", events.attendance).format(n=events.attendance),
            rate=_percent(t, events.fill)))
        if events.recorded:
            lines.append(_("Attendance recorded at {recorded} of {count} dates: {present} present and {no_show} "
                           "no-shows out of {signups} sign-ups, {walk_in} walk-ins.").format(
                recorded=len(events.recorded), count=events.count, present=events.present, no_show=events.no_show,
                signups=events.recorded_signups, walk_in=events.walk_in))
        elif events.count:
            lines.append(_("Attendance was not recorded (sign-ups only)."))
        shown = events.events if max_events is None else events.events[:max_events]
        for event in shown:
            places = f"{event.attendees}/{event.capacity}" if event.capacity else str(event.attendees)
            line = f"- {t.fmt_datetime(event.start)} — {event.title}: {places} ({_percent(t, event.fill)})"
            if event.recorded:
                line += " — " + _("{present} present, {no_show} no-shows, {walk_in} walk-ins").format(
                    present=event.present, no_show=event.no_show, walk_in=event.walk_in)
            lines.append(line)
        if len(shown) < events.count:
            lines.append(_("… and {n} more.").format(n=events.count - len(shown)))
    lines.append("")

    volunteers = report.volunteers
    lines.append("## " + _("Volunteering"))
    for project in volunteers.projects:
        name = f"#{project.project}" if project.project else _("(no project)")
        lines.append(f"- {name}: {fmt(project.minutes)} ("
                     + t.ngettext("{n} volunteer", "{n} volunteers", project.volunteers).format(n=project.volunteers)
                     + ")")
    lines.append(t.ngettext("Total: {hours} by {n} distinct volunteer.", "Total: {hours} by {n} distinct volunteers.",
                            volunteers.volunteers).format(hours=fmt(volunteers.minutes), n=volunteers.volunteers))
    lines.append(_("Shifts offered: {shifts}; places taken: {taken} of {places}.").format(
        shifts=volunteers.shifts, taken=volunteers.places_taken, places=volunteers.places))
    if report.member_names:
        lines += ["", "### " + _("Hours per volunteer")]
        marks = {"eligible": _("reaches the CEC thresholds"), "partial": _("100 h here, 200 h in the year needed")}
        lines += [f"- {report.member_names.get(mid, '?')}: {fmt(minutes)}"
                  + (f" — {marks[report.cec[mid]]}" if mid in report.cec else "")
                  for mid, minutes in volunteers.per_member]
    lines.append("")

    lines += attendance_lines(report, t)

    lines.append("## " + _("Active members"))
    lines.append(t.ngettext("{n} active member (booked, signed up or gave time).",
                            "{n} active members (booked, signed up or gave time).",
                            report.active_members).format(n=report.active_members))
    if report.decisions is not None and report.decisions.decisions:
        lines.append(decisions_line(report.decisions, t))
    lines.append("")

    lines.append("## " + _("Valuation of volunteer work"))
    lines += valuation_lines(report, t)
    return "\n".join(lines)


def attendance_lines(report: ActivityReport, t: Translator) -> list[str]:
    """People received, visitors, hours open, activities by category: counts only, never names."""
    _ = t.gettext
    lines = ["## " + _("Attendance")]
    lines.append(_("{contacts} passages (present and walk-ins at events, daily visitors); {unique} distinct members "
                   "came (present at an event, booked a space or gave time).").format(
        contacts=report.contacts, unique=report.unique_people))
    lines.append(t.ngettext("{n} visitor counted by the day's rota", "{n} visitors counted by the day's rota",
                            report.visits_total).format(n=report.visits_total)
                 + (" (" + ", ".join(f"{name or _('no category')}: {count}"
                                     for name, count in sorted(report.visits.items())) + ")" if report.visits else "")
                 + ".")
    lines.append(_("Open {hours} (at least one space open).").format(hours=t.fmt_duration(round(report.open_minutes))))
    if report.activities and any(a.category for a in report.activities):
        lines.append("### " + _("Activities by category"))
        for activity in report.activities:
            lines.append("- " + _("{category}: {events} dates, {signups} sign-ups, {received} people received").format(
                category=activity.category or _("no category"), events=activity.events, signups=activity.signups,
                received=activity.received))
    lines.append("")
    return lines


def _euros(t: Translator, amount: Decimal) -> str:
    from babel.numbers import format_currency

    return format_currency(amount, "EUR", locale=t.locale)


def rate_name(part: RatePart, t: Translator) -> str:
    """Where the hourly rate comes from, as the annex of the accounts must say."""
    if part.source == RATE_SETTING:
        return t.gettext("the association's own rate (VOLUNTEER_HOUR_VALUE)")
    assert part.since is not None
    return t.gettext("SMIC horaire brut in force from {day}").format(day=_short_day(t, part.since))


def valuation_lines(report: ActivityReport, t: Translator) -> list[str]:
    """Hours × the rate of their day (one line per rate when the SMIC changed within the period), the rate
    named, and the accounts the amount goes to (ANC 2018-06)."""
    lines = []
    for part in report.rates:
        line = t.gettext("{hours} h × {rate} = {amount}").format(
            hours=_number(t, _hours(part.minutes)), rate=_euros(t, part.rate), amount=_euros(t, part.amount))
        if len(report.rates) > 1:
            line = "- " + t.gettext("{first} to {last}: {valuation}").format(
                first=_short_day(t, part.start), last=_short_day(t, part.end - timedelta(days=1)), valuation=line)
        lines.append(line + " (" + rate_name(part, t) + ")")
    if len(report.rates) > 1:
        lines.append(t.gettext("Total: {amount}").format(amount=_euros(t, report.valuation)))
    lines.append(t.gettext(
        "To record as contributions volontaires en nature (ANC regulation 2018-06): debit 864 “Personnel "
        "bénévole”, credit 875 “Bénévolat”, {amount}.").format(amount=_euros(t, report.valuation)))
    return lines


def _short_day(t: Translator, day: date) -> str:
    from babel.dates import format_date

    return format_date(day, format="long", locale=t.locale)


CSV_HEADER = ("section", "item", "metric", "value")


def _site_item(site: str | None, section: str, item: str) -> str:
    """A place's rows keep the four columns; their item says the place: ``site:orgelet/total``."""
    return item if site is None or section == "period" else f"site:{site}/{item}"


def render_csv(report: ActivityReport, *, site: str | None = None, header: bool = True) -> str:
    """One figure per row (section, item, metric, value): easy to filter or pivot in a spreadsheet.
    Machine-readable: English keys, dot decimals, hours as decimal numbers, rates between 0 and 1.
    ``site``: one place's report, its items prefixed ``site:<slug>/`` (and, without ``header``, no period rows:
    the lines that follow a network's CSV)."""
    rows: list[tuple[str, str, str, object]] = [
        ("period", report.period.key, "first_day", report.period.start.isoformat()),
        ("period", report.period.key, "last_day", (report.period.end - timedelta(days=1)).isoformat()),
    ]

    def rate(value: float | None) -> object:
        return "" if value is None else round(value, 4)

    for space in report.spaces:
        rows += [("space", space.slug, "bookings", space.bookings),
                 ("space", space.slug, "booked_hours", _hours(space.booked_minutes)),
                 ("space", space.slug, "open_hours", _hours(space.open_minutes)),
                 ("space", space.slug, "capacity", space.capacity),
                 ("space", space.slug, "occupancy_rate", rate(space.occupancy)),
                 ("space", space.slug, "bookers", space.bookers)]
    if report.events is not None:
        rows += [("events", "total", "events", report.events.count),
                 ("events", "total", "signups", report.events.attendance),
                 ("events", "total", "fill_rate", rate(report.events.fill))]
        for event in report.events.events:  # local time; the date's number makes each row's name unique
            item = f"#{event.number} {event.start.astimezone(report.tz):%Y-%m-%d %H:%M} {event.title}"
            rows += [("event", item, "signups", event.attendees),
                     ("event", item, "capacity", event.capacity if event.capacity else ""),
                     ("event", item, "fill_rate", rate(event.fill))]
            # empty when attendance wasn't recorded for that date (not 0: nobody said nobody came)
            rows += [("event", item, metric, value if event.recorded else "") for metric, value in
                     (("present", event.present), ("no_show", event.no_show), ("walk_in", event.walk_in))]
            if event.category:
                rows.append(("event", item, "category", event.category))
        rows += [("events", "total", "recorded_dates", len(report.events.recorded)),
                 ("events", "total", "recorded_signups", report.events.recorded_signups),
                 ("events", "total", "present", report.events.present),
                 ("events", "total", "no_show", report.events.no_show),
                 ("events", "total", "walk_in", report.events.walk_in)]
        for activity in report.activities:
            rows += [("activity", activity.category, "events", activity.events),
                     ("activity", activity.category, "signups", activity.signups),
                     ("activity", activity.category, "received", activity.received)]
    for category, count in sorted(report.visits.items()):
        rows.append(("visits", category or "none", "count", count))
    rows += [("visits", "total", "count", report.visits_total),
             ("people", "total", "unique", report.unique_people),
             ("people", "total", "contacts", report.contacts),
             ("opening", "total", "hours", _hours(report.open_minutes))]
    volunteers = report.volunteers
    for project in volunteers.projects:
        item = project.project or ""
        rows += [("volunteer_project", item, "hours", _hours(project.minutes)),
                 ("volunteer_project", item, "volunteers", project.volunteers)]
    rows += [("volunteers", "total", "hours", _hours(volunteers.minutes)),
             ("volunteers", "total", "volunteers", volunteers.volunteers),
             ("shifts", "total", "shifts", volunteers.shifts),
             ("shifts", "total", "places", volunteers.places),
             ("shifts", "total", "places_taken", volunteers.places_taken),
             ("members", "total", "active", report.active_members),
             ("valuation", "total", "hour_value_eur", report.hour_value if report.hour_value is not None else ""),
             ("valuation", "total", "rate_source", ", ".join(sorted({p.source for p in report.rates}))),
             ("valuation", "total", "amount_eur", report.valuation),
             ("valuation", "total", "debit_account", "864"),
             ("valuation", "total", "credit_account", "875")]
    if len(report.rates) > 1:
        for part in report.rates:
            item = f"{part.start.isoformat()}/{(part.end - timedelta(days=1)).isoformat()}"
            rows += [("valuation", item, "hour_value_eur", part.rate),
                     ("valuation", item, "hours", _hours(part.minutes)),
                     ("valuation", item, "amount_eur", part.amount)]
    if report.member_names:
        rows += [("volunteer", report.member_names.get(mid, str(mid)), "hours", _hours(minutes))
                 for mid, minutes in volunteers.per_member]
        rows += [("volunteer", report.member_names.get(mid, str(mid)), "cec", flag) for mid, flag in report.cec.items()]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(CSV_HEADER)
    writer.writerows((section, _site_item(site, section, item), metric, value) for section, item, metric, value in rows
                     if header or section != "period")
    return buffer.getvalue()


def render_network_csv(total: ActivityReport, places: list[tuple[str, ActivityReport]]) -> str:
    """The network's rows as for one place, then each place's rows with items ``site:<slug>/…``."""
    return render_csv(total) + "".join(render_csv(report, site=slug, header=False) for slug, report in places)


def network_lines(total: ActivityReport, places: list[tuple[str, ActivityReport]], t: Translator) -> list[str]:
    """The places side by side, what belongs to no place, and the network's total (a Markdown table)."""
    _ = t.gettext

    def column(r: ActivityReport) -> list[Decimal]:
        events = r.events
        return [Decimal(sum(s.bookings for s in r.spaces)), _hours(sum(s.booked_minutes for s in r.spaces)),
                Decimal(events.count if events else 0), Decimal(events.attendance if events else 0),
                Decimal(r.volunteers.shifts), Decimal(r.volunteers.places_taken), _hours(r.volunteers.minutes)]

    columns = [(r.place or slug, column(r)) for slug, r in places]
    whole = column(total)
    rest = [w - sum((c[i] for _, c in columns), Decimal(0)) for i, w in enumerate(whole)]
    heads = [name for name, _ in columns]
    values = [c for _, c in columns]
    if any(rest):
        heads.append(_("(at no place in particular)"))
        values.append(rest)
    heads.append(_("Network (total)"))
    values.append(whole)
    labels = [_("Bookings"), _("Hours booked"), _("Events"), _("Sign-ups"), _("Shifts offered"), _("Places taken"),
              _("Volunteer hours")]
    lines = ["| | " + " | ".join(heads) + " |", "|---|" + "---:|" * len(heads)]
    lines += [f"| {label} | " + " | ".join(_number(t, v[i]) for v in values) + " |" for i, label in enumerate(labels)]
    return lines


def render_network_markdown(total: ActivityReport, places: list[tuple[str, ActivityReport]], t: Translator,
                            *, max_events: int | None = None) -> str:
    """The network's figures by place side by side, then the network's full report and each place's."""
    lines = ["# " + t.gettext("Report by place — {period}").format(period=period_label(t, total.period)), ""]
    lines += network_lines(total, places, t)
    parts = [render_markdown(total, t, max_events=max_events)]
    parts += [render_markdown(report, t, max_events=max_events) for _, report in places]
    return "\n".join(lines) + "\n\n" + "\n\n".join(parts)


@router.command("report", aliases=["bilan"], coordinator_only=False,
                help=N_("Activity report for funders (coordinators)"),
                usage=N_("/report [month|YYYY-MM|year|YYYY] [names] [caf-evs|fabrique|recensement]  "
                         "e.g. /report 2026-11"))
def report(ctx: Ctx, args: str) -> Reply:
    words = args.split()
    with_names = any(fold(w) in NAME_WORDS for w in words)
    preset = next((fold(w) for w in words if fold(w) in PRESETS), None)
    words = [w for w in words if fold(w) not in NAME_WORDS and fold(w) not in PRESETS]
    site, words = _report_place(ctx, words)
    if not ctx.is_coordinator:
        site = _own_place(ctx, site)
    try:
        period = parse_period(" ".join(words), today_of(ctx))
    except PeriodError:
        raise UserError(ctx._("Which period? month, year, a month like 2026-11 or a year like 2026."),
                        example="/report 2026-11") from None
    if site == NETWORK:
        total, places = network_reports(ctx.session, period, ctx.tz, ctx.settings.volunteer_hour_value)
        if preset is not None:
            return Reply("\n".join(network_lines(total, places, ctx.translator)) + "\n\n"
                         + "\n".join(render_preset_markdown(r, preset, ctx.translator)
                                     for r in [total] + [r for _, r in places]))
        return Reply(render_network_markdown(total, places, ctx.translator, max_events=CHAT_EVENT_LINES))
    figures = build_report(ctx.session, period, ctx.tz, ctx.settings.volunteer_hour_value, with_names=with_names,
                           site_id=site if isinstance(site, int) else None)
    if preset is not None:
        shown = Reply(render_preset_markdown(figures, preset, ctx.translator))
    else:
        shown = Reply(render_markdown(figures, ctx.translator, max_events=CHAT_EVENT_LINES))
    return ctx.privately(shown) if with_names else shown  # names: never in a group


def _own_place(ctx: Ctx, asked: int | str | None) -> int:
    """A place's coordinator (/coordinateur) gets their place's report, never another's nor the network's;
    anyone else: only a coordinator can."""
    from storage.places import coordinated_sites

    mine = coordinated_sites(ctx.session, ctx.member_id)
    if not mine:
        raise NotAllowed(ctx._(NOT_COORDINATOR))
    if asked is None and len(mine) == 1:
        return next(iter(mine))
    if isinstance(asked, int) and asked in mine:
        return asked
    from storage.models import Site

    slugs = sorted(site.slug for site in (ctx.session.get(Site, i) for i in mine) if site is not None)
    raise NotAllowed(ctx._("You see the report of the place you coordinate: e.g. /report month {place}.")
                     .format(place=slugs[0] if slugs else ""))


NETWORK = "network"
NETWORK_WORDS = {"reseau", "network", "lieux", "places"}


def _report_place(ctx: Ctx, words: list[str]) -> tuple[int | str | None, list[str]]:
    """In a network of places, a last word naming a place gives that place's report, ``réseau`` the places side
    by side with the total (issue 18). With one place, nothing is read: the words are the period's."""
    from storage.places import find_place, is_network

    if not words or not is_network(ctx.session):
        return None, words
    last = fold(words[-1])
    if last in NETWORK_WORDS:
        return NETWORK, words[:-1]
    try:
        parse_period(last, today_of(ctx))
        return None, words  # a period, not a place
    except PeriodError:
        pass
    try:
        site = find_place(ctx.session, words[-1])
    except LookupError:
        return None, words  # not a place: the period's parser says what it expects
    return site.id, words[:-1]


# --- Funders' presets ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One figure a funder's form asks for: its CSV key, its value, and (msgids) what it is called, what it
    counts and where it comes from."""

    section: str
    item: str
    metric: str
    value: object
    label: str
    definition: str
    source: str


PRESETS = {
    "caf-evs": N_("CAF — Espace de Vie Sociale (SENACS survey)"),
    "fabrique": N_("ANCT — Fabrique de territoire"),
    "recensement": N_("France Tiers-Lieux — census"),
}
SRC_PRESENCE = N_("Organisers' lists and check-ins (/attendance, /checkin, the door QR code)")
SRC_EVENTS = N_("Events and their sign-ups (/events, /join)")
SRC_VISITS = N_("Daily visitors counted by the opening rota (/visitors)")
SRC_HOURS = N_("Volunteer hours logged and confirmed shifts (/task, /shift done)")
SRC_SPACES = N_("Opening hours of the spaces (spaces file)")
SRC_BOOKINGS = N_("Space bookings (/book)")


def _figures(report: ActivityReport) -> dict[str, list[Figure]]:
    events = report.events
    volunteers = report.volunteers
    f: dict[str, list[Figure]] = {
        "contacts": [Figure("people", "total", "contacts", report.contacts, N_("Attendance (passages)"),
                            N_("People present and walk-ins at events, plus daily visitors; someone who comes "
                               "twice counts twice."), SRC_PRESENCE + " ; " + SRC_VISITS)],
        "unique": [Figure("people", "total", "unique", report.unique_people, N_("Distinct members received"),
                          N_("Members present at an event, who booked a space or gave volunteer time, each counted "
                             "once. Walk-ins and visitors are counts without names: not included."),
                          SRC_PRESENCE + " ; " + SRC_BOOKINGS + " ; " + SRC_HOURS)],
        "open": [Figure("opening", "total", "hours", _hours(report.open_minutes), N_("Hours open"),
                        N_("Hours when at least one space was open."), SRC_SPACES)],
        "events": [Figure("events", "total", "events", events.count if events else 0, N_("Event dates held"),
                          N_("Dates of events in the period, cancelled ones left out."), SRC_EVENTS)],
        "signups": [Figure("events", "total", "signups", events.attendance if events else 0, N_("Sign-ups"),
                           N_("Confirmed sign-ups (waiting list left out)."), SRC_EVENTS)],
        "present": [Figure("events", "total", "present", events.present if events else 0, N_("Present"),
                           N_("Signed-up people marked present, at the dates where attendance was recorded."),
                           SRC_PRESENCE)],
        "no_show": [Figure("events", "total", "no_show", events.no_show if events else 0, N_("No-shows"),
                           N_("Signed-up people not marked present, at the dates where attendance was recorded."),
                           SRC_PRESENCE)],
        "walk_in": [Figure("events", "total", "walk_in", events.walk_in if events else 0, N_("Walk-ins"),
                           N_("People who came to an event without signing up (counted at the door, or checked "
                              "in)."), SRC_PRESENCE)],
        "visits": [Figure("visits", "total", "count", report.visits_total, N_("Daily visitors"),
                          N_("Visitors counted each day by the person on the opening rota."), SRC_VISITS)]
        + [Figure("visits", category or "none", "count", count, N_("Daily visitors by category"),
                  N_("Visitors counted each day, in the categories the coordinators set."), SRC_VISITS)
           for category, count in sorted(report.visits.items())],
        "activities": [Figure("activity", a.category, "events", a.events, N_("Activities by category (dates)"),
                              N_("Event dates by the activity category of the event."), SRC_EVENTS)
                       for a in report.activities],
        "volunteers": [Figure("volunteers", "total", "volunteers", volunteers.volunteers, N_("Volunteers"),
                              N_("Distinct members who logged volunteer time."), SRC_HOURS)],
        "volunteer_hours": [Figure("volunteers", "total", "hours", _hours(volunteers.minutes), N_("Volunteer hours"),
                                   N_("Hours of volunteer work logged or confirmed."), SRC_HOURS)],
        "valuation": [Figure("valuation", "total", "amount_eur", report.valuation, N_("Valuation of volunteer work"),
                             N_("Hours × the SMIC horaire brut of their day (or VOLUNTEER_HOUR_VALUE)."), SRC_HOURS)],
        "bookings": [Figure("bookings", "total", "bookings", sum(sp.bookings for sp in report.spaces),
                            N_("Space bookings"), N_("Bookings starting in the period, cancelled ones left out."),
                            SRC_BOOKINGS)],
        "active": [Figure("members", "total", "active", report.active_members, N_("Active members"),
                          N_("Members who booked, signed up or gave time."), SRC_BOOKINGS + " ; " + SRC_EVENTS)],
    }
    return f


PRESET_FIGURES = {
    "caf-evs": ("contacts", "unique", "open", "events", "activities", "visits", "volunteers", "volunteer_hours",
                "valuation"),
    "fabrique": ("contacts", "unique", "events", "present", "walk_in", "activities", "bookings", "open",
                 "volunteers", "volunteer_hours"),
    "recensement": ("contacts", "visits", "events", "signups", "present", "no_show", "walk_in", "active",
                    "bookings", "open", "volunteers", "volunteer_hours"),
}


def preset_figures(report: ActivityReport, preset: str) -> list[Figure]:
    every = _figures(report)
    return [figure for key in PRESET_FIGURES[preset] for figure in every[key]]


def render_preset_csv(report: ActivityReport, preset: str, t: Translator, *, site: str | None = None,
                      header: bool = True) -> str:
    """The usual four columns first (the same keys as the full CSV), then what each figure is and its source.
    ``site``: one place's figures, items prefixed ``site:<slug>/`` as in the full CSV."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow((*CSV_HEADER, "label", "definition", "source"))
    for figure in preset_figures(report, preset):
        writer.writerow((figure.section, _site_item(site, figure.section, figure.item), figure.metric,
                         figure.value, t.gettext(figure.label),
                         t.gettext(figure.definition), " ; ".join(t.gettext(s) for s in figure.source.split(" ; "))))
    return buffer.getvalue()


def render_preset_markdown(report: ActivityReport, preset: str, t: Translator) -> str:
    _ = t.gettext
    lines = ["# " + _(PRESETS[preset]) + " — " + period_label(t, report.period)
             + (f" — {report.place}" if report.place else ""), "",
             "| " + " | ".join((_("Figure"), _("Value"), _("What it counts"), _("Source"))) + " |",
             "|---|---:|---|---|"]
    for figure in preset_figures(report, preset):
        label = _(figure.label) + (f" — {figure.item or _('no category')}" if figure.item != "total" else "")
        value = _number(t, figure.value) if isinstance(figure.value, int | Decimal) else str(figure.value)
        source = " ; ".join(_(s) for s in figure.source.split(" ; "))
        lines.append(f"| {label} | {value} | {_(figure.definition)} | {source} |")
    return "\n".join(lines) + "\n"
