"""The weekly digest: the week ahead and last week's figures, with a picture of space occupancy.
Sent to every subscribed chat at DIGEST_SCHEDULE; /digest shows it now."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.charts import Panel, occupancy_panels, occupancy_recipe
from bot.core.context import Ctx, JobCtx
from bot.core.i18n import N_, Translator
from bot.core.router import Router
from bot.core.types import Reply
from storage import announcements
from storage.db import session_scope
from storage.digest import (
    FIRST_HOUR,
    SpaceWeek,
    chat_places,
    occupancy_by_space,
    past_week_figures,
    upcoming_booking_count,
    volunteer_minutes,
    week_start,
)
from storage.events import signup_counts, upcoming_occurrences
from storage.models import Space
from storage.places import chat_place, shift_places
from storage.volunteers import materialise_rota, open_needs, rota_with_gaps

router = Router("digest")

Section = Callable[[Session, Translator, date, datetime], list[str]]


def bookings_section(session: Session, t: Translator, first_day: date, now: datetime,
                     site_id: int | None = None) -> list[str]:
    count = upcoming_booking_count(session, first_day, t.tz, site_id)
    return [t.ngettext("{n} booking of spaces this week.", "{n} bookings of spaces this week.", count)
            .format(n=count)]


def last_week_section(session: Session, t: Translator, first_day: date, now: datetime,
                      site_id: int | None = None) -> list[str]:
    figures = past_week_figures(session, first_day, t.tz, site_id)
    return [t.gettext("Last week: {bookings} ({hours}) by {members}.").format(
        bookings=t.ngettext("{n} booking", "{n} bookings", figures.bookings).format(n=figures.bookings),
        hours=t.fmt_duration(round(figures.booked_hours * 60)),
        members=t.ngettext("{n} member", "{n} members", figures.members).format(n=figures.members))]


MAX_LINES = 15


def _week(first_day: date, t: Translator, offset_days: int = 0) -> tuple[datetime, datetime]:
    start = datetime.combine(first_day + timedelta(days=offset_days), time(0), tzinfo=t.tz)
    return start, datetime.combine(first_day + timedelta(days=offset_days + 7), time(0), tzinfo=t.tz)


def events_section(session: Session, t: Translator, first_day: date, now: datetime,
                   site_id: int | None = None) -> list[str]:
    start, end = _week(first_day, t)
    occurrences = upcoming_occurrences(session, max(start, now), end, limit=MAX_LINES if site_id is None else 200)
    if site_id is not None:  # a place's digest: its events, and those held nowhere in particular
        here = set(session.exec(select(Space.id).where(Space.site_id == site_id)))
        occurrences = [(o, e) for o, e in occurrences if e.space_id is None or e.space_id in here][:MAX_LINES]
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
                     + t.gettext("(/join {number})").format(number=occurrence.id))
    return lines


def volunteers_section(session: Session, t: Translator, first_day: date, now: datetime,
                       site_id: int | None = None) -> list[str]:
    start, end = _week(first_day, t)
    materialise_rota(session, now, t.tz, until=first_day + timedelta(days=7))
    gaps = [v for v in rota_with_gaps(session, max(start, now), end) if v.missing > 0]
    if site_id is not None:  # a place's digest: its rota lines and the network's
        place_of = shift_places(session, [v.id for v in gaps])
        gaps = [v for v in gaps if place_of.get(v.id) in (None, site_id)]
    needs = [v for v in open_needs(session, max(start, now), end) if v.rota_kind is None]
    lines: list[str] = []
    if gaps:
        lines.append(t.gettext("Opening rota, still missing:"))
        lines += [f"• {v.title}, {t.fmt_range(v.start, v.end)} — "
                  + t.ngettext("{n} person", "{n} people", v.missing).format(n=v.missing)
                  + " " + t.gettext("(/take {number})").format(number=v.id) for v in gaps[:MAX_LINES]]
    if needs:
        lines.append(t.gettext("Volunteers needed:"))
        lines += [f"• {v.title}, {t.fmt_range(v.start, v.end)} — "
                  + t.ngettext("{n} person", "{n} people", v.missing).format(n=v.missing)
                  + " " + t.gettext("(/take {number})").format(number=v.id) for v in needs[:MAX_LINES]]
    return lines


def last_week_activity_section(session: Session, t: Translator, first_day: date, now: datetime) -> list[str]:
    start, end = _week(first_day, t, offset_days=-7)
    past = upcoming_occurrences(session, start, min(end, now), limit=500)
    counts = signup_counts(session, [o.id for o, _ in past if o.id is not None])
    attendance = sum(confirmed for confirmed, _ in counts.values())
    minutes = volunteer_minutes(session, first_day - timedelta(days=7), first_day - timedelta(days=1))
    return [t.gettext("Last week: {events} with {signups}; {hours} of volunteering.").format(
        events=t.ngettext("{n} event", "{n} events", len(past)).format(n=len(past)),
        signups=t.ngettext("{n} sign-up", "{n} sign-ups", attendance).format(n=attendance),
        hours=t.fmt_duration(minutes))]


SECTIONS: list[Section] = [events_section, volunteers_section, bookings_section, last_week_section,
                           last_week_activity_section]
# Sections that can be one place's (a group attached to a place with /lieu ici): they take ``site_id``.
PLACE_SECTIONS = {events_section, volunteers_section, bookings_section, last_week_section}


def _chart(weeks: list[SpaceWeek], left_out: int, t: Translator, first_day: date) -> dict[str, Any]:
    """What the chart shows: the busiest spaces' week, one heat map each, with their names, the days and a
    0–100 % scale (the arguments of bot.charts.occupancy_panels)."""
    days = [t.fmt_short_day(first_day + timedelta(days=n)) for n in range(7)]
    panels = [Panel(t.ngettext("{space} ({n} place)", "{space} ({n} places)", w.capacity).format(
        space=w.name, n=w.capacity), w.grid) for w in weeks]
    footnote = t.ngettext("{n} other space, less busy, isn't shown.", "{n} other spaces, less busy, aren't shown.",
                          left_out).format(n=left_out) if left_out else ""
    return {"panels": panels, "day_labels": days, "first_hour": FIRST_HOUR,
            "title": t.gettext("Spaces booked, by day and hour"),
            "legend": t.gettext("share of each space's places taken"), "footnote": footnote}


def draw_chart(weeks: list[SpaceWeek], left_out: int, t: Translator, first_day: date) -> bytes:
    """The chart drawn now (the weekly job draws it before its transaction)."""
    return occupancy_panels(**_chart(weeks, left_out, t, first_day))


def chart_recipe(weeks: list[SpaceWeek], left_out: int, t: Translator, first_day: date) -> str:
    """The chart to draw after the transaction: /digest answers with it (bot.core.images)."""
    return occupancy_recipe(**_chart(weeks, left_out, t, first_day))


def compose_digest(session: Session, t: Translator, now: datetime, picture: bytes | None = None,
                   site_id: int | None = None) -> Reply:
    """The digest in ``t``'s language; ``picture``: its chart already drawn (the weekly job draws it
    before its transaction), else the reply carries the chart's recipe, drawn once the transaction has
    committed (bot.core.images): matplotlib never holds the write lock; ``site_id``: one place's (its
    events, bookings, chart)."""
    first_day = week_start(now, t.tz)
    last_day = first_day + timedelta(days=6)
    lines: list[str] = []
    for section in SECTIONS:
        part = (section(session, t, first_day, now, site_id=site_id)
                if site_id is not None and section in PLACE_SECTIONS else section(session, t, first_day, now))
        if part:
            if lines:
                lines.append("")
            lines += part
    recipe = None
    if picture is None:
        recipe = chart_recipe(*occupancy_by_space(session, first_day, t.tz, site_id=site_id), t, first_day)
    iso = first_day.isocalendar()
    return Reply(
        "\n".join(lines),
        title=t.gettext("The week from {start} to {end}").format(start=t.fmt_day(first_day), end=t.fmt_day(last_day)),
        image=picture,
        image_name=f"digest-{iso.year}-W{iso.week:02d}.png",
        image_recipe=recipe,
    )


@router.command("digest", aliases=["resume"], help=N_("Show the weekly digest now"), usage=N_("/digest"))
def show_digest(ctx: Ctx, args: str) -> Reply:
    chat = ctx.incoming.chat
    site_id = None if chat.is_private else chat_place(ctx.session, chat.platform.value, chat.chat_id)
    return compose_digest(ctx.session, ctx.translator, ctx.now, site_id=site_id)


@router.job("weekly-digest", weekly_setting="digest_schedule")
def send_weekly_digest(ctx: JobCtx) -> None:
    """One digest per chat and week: the dedup key stops a second fire (the night clocks go back).

    The charts (one per language) are drawn first, from a short read of their own, before the job's
    transaction begins (it begins at the job's first query): matplotlib's second or so never holds the
    database."""
    first_day = week_start(ctx.now, ctx.tz)
    iso = first_day.isocalendar()
    engine = ctx.session.get_bind()
    assert isinstance(engine, Engine)
    with session_scope(engine) as reading:
        # (language, place): a group attached to a place (/lieu ici) gets that place's digest.
        attached = chat_places(reading)
        kinds = {(s.language, attached.get((s.platform, s.chat_id)))
                 for s in announcements.subscriptions(reading)}
        weeks = {site: occupancy_by_space(reading, first_day, ctx.tz, site_id=site) for site in {k[1] for k in kinds}}
    pictures = {(language, site): draw_chart(*weeks[site], ctx.translator_in(language), first_day)
                for language, site in kinds}
    digests: dict[tuple[str, int | None], Reply] = {}
    attached = chat_places(ctx.session)
    for subscription in announcements.subscriptions(ctx.session):
        kind = (subscription.language, attached.get((subscription.platform, subscription.chat_id)))
        if kind not in digests:
            digests[kind] = compose_digest(ctx.session, ctx.translator_in(subscription.language), ctx.now,
                                           pictures.get(kind), site_id=kind[1])
        ctx.notify_chat(announcements.chat_of(subscription), digests[kind],
                        dedup_key=f"digest:{iso.year}-W{iso.week:02d}:{subscription.platform}:{subscription.chat_id}")
