"""iCalendar feeds (RFC 5545), built with icalendar: the public programme, a space's occupancy and a
member's own calendar.

- UIDs are stable (``event-12@host``, ``booking-7@host``); DTSTAMP and LAST-MODIFIED are the row's last
  change, so a feed fetched twice is byte-identical; SEQUENCE grows with every change.
- A series is one VEVENT with RRULE in the place's time zone (its VTIMEZONE is included), EXDATE for its
  cancelled dates, and one VEVENT per moved or cancelled date (RECURRENCE-ID, STATUS:CANCELLED).
- Each feed has a version read with a few aggregate queries (``storage.events.*_version``): its ETag and
  Last-Modified come from it, so a conditional request is answered without building anything.
- Every VEVENT is serialised once by icalendar and kept, keyed by everything it shows; a feed after a
  change re-serialises only what changed.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from threading import Lock
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from icalendar import Calendar, Timezone, vDDDTypes, vDuration, vInt, vRecur, vText
from icalendar import Event as VEvent
from sqlmodel import Session

from bot.core.i18n import translator_for
from storage.event_rules import local_slot, rrule_value, wall_duration
from storage.events import (
    bookings_version,
    events_version,
    feed_bookings,
    feed_events,
    member_by_token,
    member_feed_signups,
    member_signups_version,
    space_by_slug,
    space_names,
    spaces_version,
)
from storage.models import Booking, Member, Space
from storage.models_events import (
    EVENT_CANCELLED,
    OCCURRENCE_CANCELLED,
    SIGNUP_WAITLISTED,
    Event,
    EventOccurrence,
)
from storage.spaces import default_site

FEED_FORMAT = 1  # bump when the output changes for the same data, so ETags change too
REFRESH = timedelta(hours=1)
HISTORY = timedelta(days=90)  # how far back a feed goes
PRODID = "-//tierslieu-bot//iCal feeds//FR"
COMPONENT_CACHE_SIZE = 50_000
BODY_CACHE_SIZE = 16


MEMBER_PATH = "/ical/members/{token}.ics"
EVENTS_PATH = "/ical/events.ics"
SPACE_PATH = "/ical/spaces/{slug}.ics"


def feed_links(public_url: str, path: str) -> tuple[str, str]:
    """The https and webcal addresses of a feed (kept short: Google ignores subscription URLs over
    256 characters)."""
    https = public_url.rstrip("/") + path
    return https, "webcal://" + https.split("://", 1)[1]


@dataclass(frozen=True)
class Feed:
    """One feed's validators and, unless only they were asked for, ``render``: it builds the body from
    rows already read, so the database transaction can end before the (slower) serialisation."""

    etag: str
    last_modified: datetime
    render: Callable[[], bytes] | None = None


class FeedNotFound(LookupError):
    pass


def window_start(now: datetime) -> datetime:
    """Start of the feeds' history, on a day boundary so it changes once a day, not at every request."""
    day = (now - HISTORY).astimezone(UTC).date()
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)


@lru_cache(maxsize=16)
def _vtimezone(tz_name: str, first_year: int) -> Timezone:
    return Timezone.from_tzinfo(ZoneInfo(tz_name), first_date=date(first_year, 1, 1),
                                last_date=date(first_year + 25, 1, 1))


def _newest(values: Iterable[object]) -> datetime:
    found = [v for v in values if isinstance(v, datetime)]
    return max(found) if found else datetime(2000, 1, 1, tzinfo=UTC)


class _LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[object, bytes] = OrderedDict()
        self.lock = Lock()

    def get(self, key: object) -> bytes | None:
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key: object, value: bytes) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


class FeedBuilder:
    """Builds the three kinds of feed for one deployment (time zone, default language, public host)."""

    def __init__(self, timezone: str, language: str, public_url: str | None) -> None:
        self.tz_name = timezone
        self.tz = ZoneInfo(timezone)
        self.language = language
        self.host = (urlparse(public_url).hostname if public_url else None) or "tierslieu-bot.local"
        self.components = _LRU(COMPONENT_CACHE_SIZE)
        self.bodies = _LRU(BODY_CACHE_SIZE)

    # --- the feeds -------------------------------------------------------------------------------------------

    def events_feed(self, session: Session, now: datetime, *, validators_only: bool = False) -> Feed:
        since = window_start(now)
        version = (events_version(session), spaces_version(session))
        return self._answer(("events",), version, since, validators_only,
                            lambda: self._events_body(session, since))

    def space_feed(self, session: Session, now: datetime, *, slug: str, validators_only: bool = False) -> Feed:
        space = space_by_slug(session, slug)
        if space is None or space.id is None:
            raise FeedNotFound(slug)
        since = window_start(now)
        version = (events_version(session, space.id), bookings_version(session, space_id=space.id),
                   spaces_version(session))
        return self._answer(("space", space.id), version, since, validators_only,
                            lambda: self._space_body(session, space, since))

    def member_feed(self, session: Session, now: datetime, *, token: str, validators_only: bool = False) -> Feed:
        member_id = member_by_token(session, token)
        member = session.get(Member, member_id) if member_id is not None else None
        if member is None or member.id is None:
            raise FeedNotFound(token)
        since = window_start(now)
        version = (member_signups_version(session, member.id), bookings_version(session, member_id=member.id),
                   spaces_version(session), member.language, token)
        return self._answer(("member", member.id), version, since, validators_only,
                            lambda: self._member_body(session, member, since))

    def _answer(self, key: tuple[object, ...], version: tuple[object, ...], since: datetime,
                validators_only: bool, load: Callable[[], Callable[[], bytes]]) -> Feed:
        fingerprint = repr((FEED_FORMAT, key, version, since.isoformat(), self.host, self.tz_name, self.language))
        etag = '"' + hashlib.sha256(fingerprint.encode()).hexdigest()[:32] + '"'
        last_modified = _newest(_flatten(version)).replace(microsecond=0)
        if validators_only:
            return Feed(etag, last_modified)
        cached = self.bodies.get(etag)
        if cached is not None:
            return Feed(etag, last_modified, lambda: cached)
        render = load()

        def render_and_keep() -> bytes:
            body = render()
            self.bodies.put(etag, body)
            return body

        return Feed(etag, last_modified, render_and_keep)

    def body(self, feed: Feed) -> bytes:
        assert feed.render is not None, "validators only"
        return feed.render()

    # --- bodies: each reads its rows now and returns what serialises them later --------------------------

    def _calendar(self, name: str, since: datetime, chunks: Iterable[bytes]) -> bytes:
        calendar = Calendar()
        calendar.add("prodid", PRODID)
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        calendar.add("name", name)
        calendar.add("x-wr-calname", name)
        calendar.add("x-wr-timezone", self.tz_name)
        calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", vDuration(REFRESH))
        calendar.add_component(_vtimezone(self.tz_name, since.year - 5))
        head = calendar.to_ical()
        closing = b"END:VCALENDAR\r\n"
        assert head.endswith(closing)
        return head[: -len(closing)] + b"".join(chunks) + closing

    def _site_name(self, session: Session) -> str:
        site = default_site(session)
        return site.name if site else "tierslieu"

    def _events_body(self, session: Session, since: datetime) -> Callable[[], bytes]:
        t = translator_for(self.language, self.tz_name)
        names = space_names(session)
        events = feed_events(session, since)
        name = t.gettext("{site}: programme").format(site=self._site_name(session))
        return lambda: self._calendar(name, since, (
            chunk for event, occurrences in events
            for chunk in self.event_components(event, occurrences, names.get(event.space_id or 0))))

    def _space_body(self, session: Session, space: Space, since: datetime) -> Callable[[], bytes]:
        t = translator_for(self.language, self.tz_name)
        events = feed_events(session, since, space.id)
        bookings = feed_bookings(session, since, space_id=space.id)
        booked = t.gettext("Booked")
        name = t.gettext("{site}: {space}").format(site=self._site_name(session), space=space.name)

        def render() -> bytes:
            chunks = [chunk for event, occurrences in events
                      for chunk in self.event_components(event, occurrences, space.name)]
            chunks += [self.booking_component(b, booked, space.name) for b in bookings]
            return self._calendar(name, since, chunks)

        return render

    def _member_body(self, session: Session, member: Member, since: datetime) -> Callable[[], bytes]:
        t = translator_for(member.language or self.language, self.tz_name)
        names = space_names(session)
        signups = member_feed_signups(session, member.id or 0, since)
        bookings = feed_bookings(session, since, member_id=member.id)
        waiting = t.gettext("(waiting list)")
        booking_label = t.gettext("Booking: {space}")
        name = t.gettext("{site}: my calendar").format(site=self._site_name(session))

        def render() -> bytes:
            chunks = [self.signup_component(occurrence, event, names.get(event.space_id or 0),
                                            waiting if signup.status == SIGNUP_WAITLISTED else None)
                      for signup, occurrence, event in signups]
            for booking in bookings:
                space_name = names.get(booking.space_id, "?")
                chunks.append(self.booking_component(booking, booking_label.format(space=space_name), space_name))
            return self._calendar(name, since, chunks)

        return render

    # --- components ------------------------------------------------------------------------------------

    def _local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def _cached(self, key: tuple[object, ...], build: Callable[[], VEvent]) -> bytes:
        chunk = self.components.get(key)
        if chunk is None:
            chunk = build().to_ical()
            self.components.put(key, chunk)
        return chunk

    def _base(self, uid: str, title: str, description: str, location: str | None, start: datetime,
              end: datetime, stamp: datetime, sequence: int, status: str) -> VEvent:
        # Properties set with their value types directly: VEvent.add() infers them, at twice the cost.
        vevent = VEvent()
        vevent["UID"] = vText(uid)
        vevent["DTSTAMP"] = vDDDTypes(stamp.astimezone(UTC))
        vevent["LAST-MODIFIED"] = vDDDTypes(stamp.astimezone(UTC))
        vevent["DTSTART"] = vDDDTypes(self._local(start))
        vevent["DTEND"] = vDDDTypes(self._local(end))
        vevent["SUMMARY"] = vText(title)
        if description:
            vevent["DESCRIPTION"] = vText(description)
        if location:
            vevent["LOCATION"] = vText(location)
        vevent["SEQUENCE"] = vInt(sequence)
        vevent["STATUS"] = vText(status)
        return vevent

    def event_components(self, event: Event, occurrences: list[EventOccurrence], location: str | None) -> list[bytes]:
        """A single event, or a series' master with its exceptions."""
        uid = f"event-{event.id}@{self.host}"
        if event.rrule is None or not occurrences:
            occurrence = occurrences[0] if occurrences else None
            start, end = (occurrence.start, occurrence.end) if occurrence else (event.start, event.end)
            cancelled = event.status == EVENT_CANCELLED or (occurrence is not None
                                                            and occurrence.status == OCCURRENCE_CANCELLED)
            sequence = event.sequence + (occurrence.sequence if occurrence else 0)
            stamp = max(event.updated_at, occurrence.updated_at) if occurrence else event.updated_at
            single_key = ("single", uid, start, end, cancelled, sequence, stamp, event.title, event.description,
                          location)
            return [self._cached(single_key, lambda: self._base(
                uid, event.title, event.description, location, start, end, stamp, sequence,
                "CANCELLED" if cancelled else "CONFIRMED"))]

        duration = wall_duration(event.start, event.end, self.tz)
        exceptions = [o for o in occurrences if o.status == OCCURRENCE_CANCELLED
                      or local_slot(self._local(o.original_start), duration, self.tz).end != o.end
                      or o.start != o.original_start]
        cancelled_dates = [o.original_start for o in occurrences if o.status == OCCURRENCE_CANCELLED]
        held = [o for o in occurrences if o.status != OCCURRENCE_CANCELLED]
        until = event.rule_until
        count = event.rule_count
        series_cancelled = False
        if event.status == EVENT_CANCELLED:
            # The dates that took place stay; the rule ends at the last of them.
            if held:
                until, count = max(o.original_start for o in held), None
            else:
                series_cancelled = True
        rule = rrule_value(event.rrule, count, until)
        key = ("series", uid, event.sequence, event.updated_at, rule, tuple(cancelled_dates), series_cancelled,
               location)

        def master() -> VEvent:
            vevent = self._base(uid, event.title, event.description, location, event.start, event.end,
                                event.updated_at, event.sequence,
                                "CANCELLED" if series_cancelled else "CONFIRMED")
            vevent.add("rrule", vRecur.from_ical(rule))
            if cancelled_dates:
                vevent.add("exdate", [self._local(d) for d in cancelled_dates])
            return vevent

        chunks = [self._cached(key, master)]
        if series_cancelled:
            return chunks
        for occurrence in exceptions:
            chunks.append(self._override(uid, event, occurrence, location))
        return chunks

    def _override(self, uid: str, event: Event, occurrence: EventOccurrence, location: str | None) -> bytes:
        sequence = event.sequence + occurrence.sequence
        stamp = max(event.updated_at, occurrence.updated_at)
        cancelled = occurrence.status == OCCURRENCE_CANCELLED
        key = ("override", uid, occurrence.id, occurrence.original_start, occurrence.start, occurrence.end,
               cancelled, sequence, stamp, event.title, event.description, location)

        def build() -> VEvent:
            vevent = self._base(uid, event.title, event.description, location, occurrence.start, occurrence.end,
                                stamp, sequence, "CANCELLED" if cancelled else "CONFIRMED")
            vevent.add("recurrence-id", self._local(occurrence.original_start))
            return vevent

        return self._cached(key, build)

    def signup_component(self, occurrence: EventOccurrence, event: Event, location: str | None,
                         waiting_label: str | None) -> bytes:
        """One date a member signed up for, on its own (a member's feed has no series)."""
        uid = f"occurrence-{occurrence.id}@{self.host}"
        cancelled = occurrence.status == OCCURRENCE_CANCELLED or event.status == EVENT_CANCELLED
        sequence = event.sequence + occurrence.sequence
        stamp = max(event.updated_at, occurrence.updated_at)
        title = f"{event.title} {waiting_label}" if waiting_label else event.title
        status = "CANCELLED" if cancelled else ("TENTATIVE" if waiting_label else "CONFIRMED")
        key = ("signup", uid, occurrence.start, occurrence.end, status, sequence, stamp, title, event.description,
               location)
        return self._cached(key, lambda: self._base(uid, title, event.description, location, occurrence.start,
                                                    occurrence.end, stamp, sequence, status))

    def booking_component(self, booking: Booking, title: str, location: str) -> bytes:
        uid = f"booking-{booking.id}@{self.host}"
        key = ("booking", uid, booking.start, booking.end, booking.created_at, title, location)
        return self._cached(key, lambda: self._base(uid, title, "", location, booking.start, booking.end,
                                                    booking.created_at, 0, "CONFIRMED"))


def _flatten(values: Iterable[object]) -> Iterable[object]:
    for value in values:
        if isinstance(value, tuple):
            yield from _flatten(value)
        else:
            yield value
