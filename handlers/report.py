"""/report: the activity report for coordinators (Markdown in the chat), and the same report rendered
as Markdown or CSV for `tierslieu report` (annual report, spreadsheets)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.i18n import N_, Translator
from bot.core.router import Router, fold
from bot.core.types import Reply
from handlers.volunteers import period_label, today_of
from storage.report import RATE_SETTING, ActivityReport, RatePart, build_report
from storage.volunteer_rules import PeriodError, parse_period

router = Router("report")

CHAT_EVENT_LINES = 15
NAME_WORDS = {"names", "noms", "detail"}


def _hours(minutes: float) -> Decimal:
    return (Decimal(str(minutes)) / 60).quantize(Decimal("0.01"))


def _number(t: Translator, value: Decimal | float | int) -> str:
    return format_decimal(value, format="#,##0.##", locale=t.locale)


def _percent(t: Translator, rate: float | None) -> str:
    return "—" if rate is None else format_percent(rate, format="#,##0.#%", locale=t.locale)


def render_markdown(report: ActivityReport, t: Translator, *, max_events: int | None = None) -> str:
    """Headings and bullet lists: valid Markdown for the annual report, and readable as plain text in a chat."""
    _ = t.gettext
    fmt = t.fmt_duration
    lines = ["# " + _("Activity report — {period}").format(period=period_label(t, report.period)), ""]

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
        shown = events.events if max_events is None else events.events[:max_events]
        for event in shown:
            places = f"{event.attendees}/{event.capacity}" if event.capacity else str(event.attendees)
            lines.append(f"- {t.fmt_datetime(event.start)} — {event.title}: {places} ({_percent(t, event.fill)})")
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
        lines += [f"- {report.member_names.get(mid, '?')}: {fmt(minutes)}" for mid, minutes in volunteers.per_member]
    lines.append("")

    lines.append("## " + _("Active members"))
    lines.append(t.ngettext("{n} active member (booked, signed up or gave time).",
                            "{n} active members (booked, signed up or gave time).",
                            report.active_members).format(n=report.active_members))
    lines.append("")

    lines.append("## " + _("Valuation of volunteer work"))
    lines += valuation_lines(report, t)
    return "\n".join(lines)


def _euros(t: Translator, amount: Decimal) -> str:
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
    return format_date(day, format="long", locale=t.locale)


CSV_HEADER = ("section", "item", "metric", "value")


def render_csv(report: ActivityReport) -> str:
    """One figure per row (section, item, metric, value): easy to filter or pivot in a spreadsheet.
    Machine-readable: English keys, dot decimals, hours as decimal numbers, rates between 0 and 1."""
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
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(rows)
    return buffer.getvalue()


@router.command("report", aliases=["bilan"], coordinator_only=True,
                help=N_("Activity report for funders (coordinators)"),
                usage=N_("/report [month|YYYY-MM|year|YYYY] [names]  e.g. /report 2026-11"))
def report(ctx: Ctx, args: str) -> Reply:
    words = args.split()
    with_names = any(fold(w) in NAME_WORDS for w in words)
    words = [w for w in words if fold(w) not in NAME_WORDS]
    try:
        period = parse_period(" ".join(words), today_of(ctx))
    except PeriodError:
        raise UserError(ctx._("Which period? month, year, a month like 2026-11 or a year like 2026."),
                        example="/report 2026-11") from None
    figures = build_report(ctx.session, period, ctx.tz, ctx.settings.volunteer_hour_value, with_names=with_names)
    return Reply(render_markdown(figures, ctx.translator, max_events=CHAT_EVENT_LINES))
