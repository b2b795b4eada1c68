"""The weekly digest: the week ahead and last week's figures, with a picture of space occupancy.
Sent to every subscribed chat at DIGEST_SCHEDULE; /digest shows it now."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from sqlmodel import Session

from bot.charts import occupancy_heatmap
from bot.core.context import Ctx, JobCtx
from bot.core.i18n import N_, Translator
from bot.core.router import Router
from bot.core.types import Reply
from storage import announcements
from storage.digest import (
    FIRST_HOUR,
    occupancy_grid,
    past_week_figures,
    upcoming_booking_count,
    volunteer_minutes,
    week_start,
)
from storage.events import signup_counts, upcoming_occurrences
from storage.volunteers import materialise_rota, open_needs, rota_with_gaps

router = Router("digest")

Section = Callable[[Session, Translator, date, datetime], list[str]]


def bookings_section(session: Session, t: Translator, first_day: date, now: datetime) -> list[str]:
    count = upcoming_booking_count(session, first_day, t.tz)
    return [t.ngettext("{n} booking of spaces this week.", "{n} bookings of spaces this week.", count)
            .format(n=count)]


def last_week_section(session: Session, t: Translator, first_day: date, now: datetime) -> list[str]:
    figures = past_week_figures(session, first_day, t.tz)
    return [t.gettext("Last week: {bookings} bookings ({hours}) by {members} members.").format(
        bookings=figures.bookings, hours=t.fmt_duration(round(figures.booked_hours * 60)), members=figures.members)]


MAX_LINES = 15


def _week(first_day: date, t: Translator, offset_days: int = 0) -> tuple[datetime, datetime]:
    start = datetime.combine(first_day + timedelta(days=offset_days), time(0), tzinfo=t.tz)
    return start, datetime.combine(first_day + timedelta(days=offset_days + 7), time(0), tzinfo=t.tz)


def events_section(session: Session, t: Translator, first_day: date, now: datetime) -> list[str]:
    start, end = _week(first_day, t)
    occurrences = upcoming_occurrences(session, max(start, now), end, limit=MAX_LINES)
    if not occurrences:
        return []
    counts = signup_counts(session, [o.id for o, _ in occurrences if o.id is not None])
    lines = [t.gettext("Events:")]
    for occurrence, event in occurrences:
        assert occurrence.id is not None
        confirmed, _ = counts[occurrence.id]
        if event.capacity is None:
            places = t.gettext("open to all")
        elif confirmed >= event.capacity:
            places = t.gettext("full (waiting list)")
        else:
            free = event.capacity - confirmed
            places = t.ngettext("{n} place left", "{n} places left", free).format(n=free)
        lines.append(f"• {event.title}, {t.fmt_range(occurrence.start, occurrence.end)} — {places} "
                     f"(/join {occurrence.id})")
    return lines


def volunteers_section(session: Session, t: Translator, first_day: date, now: datetime) -> list[str]:
    start, end = _week(first_day, t)
    materialise_rota(session, now, t.tz, until=first_day + timedelta(days=7))
    gaps = [v for v in rota_with_gaps(session, max(start, now), end) if v.missing > 0]
    needs = [v for v in open_needs(session, max(start, now), end) if v.rota_kind is None]
    lines: list[str] = []
    if gaps:
        lines.append(t.gettext("Opening rota, still missing:"))
        lines += [f"• {v.title}, {t.fmt_range(v.start, v.end)} — "
                  + t.ngettext("{n} person", "{n} people", v.missing).format(n=v.missing)
                  + f" (/take {v.id})" for v in gaps[:MAX_LINES]]
    if needs:
        lines.append(t.gettext("Volunteers needed:"))
        lines += [f"• {v.title}, {t.fmt_range(v.start, v.end)} — "
                  + t.ngettext("{n} person", "{n} people", v.missing).format(n=v.missing)
                  + f" (/take {v.id})" for v in needs[:MAX_LINES]]
    return lines


def last_week_activity_section(session: Session, t: Translator, first_day: date, now: datetime) -> list[str]:
    start, end = _week(first_day, t, offset_days=-7)
    past = upcoming_occurrences(session, start, min(end, now), limit=500)
    counts = signup_counts(session, [o.id for o, _ in past if o.id is not None])
    attendance = sum(confirmed for confirmed, _ in counts.values())
    minutes = volunteer_minutes(session, first_day - timedelta(days=7), first_day - timedelta(days=1))
    return [t.gettext("Last week: {events} events with {people} sign-ups; {hours} of volunteering.").format(
        events=len(past), people=attendance, hours=t.fmt_duration(minutes))]


SECTIONS: list[Section] = [events_section, volunteers_section, bookings_section, last_week_section,
                           last_week_activity_section]


def compose_digest(session: Session, t: Translator, now: datetime) -> Reply:
    first_day = week_start(now, t.tz)
    last_day = first_day + timedelta(days=6)
    lines: list[str] = []
    for section in SECTIONS:
        part = section(session, t, first_day, now)
        if part:
            if lines:
                lines.append("")
            lines += part
    days = [t.fmt_day(first_day + timedelta(days=n)).split(" ")[0] for n in range(7)]
    picture = occupancy_heatmap(occupancy_grid(session, first_day, t.tz), days, FIRST_HOUR,
                                t.gettext("Spaces booked, by day and hour"), t.gettext("share of places"))
    iso = first_day.isocalendar()
    return Reply(
        "\n".join(lines),
        title=t.gettext("The week from {start} to {end}").format(start=t.fmt_day(first_day), end=t.fmt_day(last_day)),
        image=picture,
        image_name=f"digest-{iso.year}-W{iso.week:02d}.png",
    )


@router.command("digest", aliases=["resume"], help=N_("Show the weekly digest now"), usage=N_("/digest"))
def show_digest(ctx: Ctx, args: str) -> Reply:
    return compose_digest(ctx.session, ctx.translator, ctx.now)


@router.job("weekly-digest", weekly_setting="digest_schedule")
def send_weekly_digest(ctx: JobCtx) -> None:
    """One digest per chat and week: the dedup key stops a second fire (the night clocks go back)."""
    first_day = week_start(ctx.now, ctx.tz)
    iso = first_day.isocalendar()
    digests: dict[str, Reply] = {}
    for subscription in announcements.subscriptions(ctx.session):
        if subscription.language not in digests:
            digests[subscription.language] = compose_digest(ctx.session, ctx.translator_in(subscription.language),
                                                            ctx.now)
        ctx.notify_chat(announcements.chat_of(subscription), digests[subscription.language],
                        dedup_key=f"digest:{iso.year}-W{iso.week:02d}:{subscription.platform}:{subscription.chat_id}")
