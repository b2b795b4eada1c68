"""iCalendar feeds (RFC 5545): the public programme, a space's occupancy and a member's own calendar.

- The text is written directly (bot.ical_text): fast line folding, a VTIMEZONE with yearly RRULEs that
  every parser reads the same; ``tests/test_ical_conformance.py`` checks it against icalendar, vobject,
  recurring-ical-events and ical.js.
- UIDs are stable and don't follow the domain: ``event-12@<host>`` where <host> is the PUBLIC_URL host the
  first time a feed was built (kept in the database), so a move to a new domain re-keys nothing.
- DTSTAMP and LAST-MODIFIED are the last change a subscriber would see (an EXDATE, a moved date, a place
  from the waiting list); SEQUENCE grows with each. A feed fetched twice is byte-identical.
- A series is one VEVENT with RRULE in the place's time zone, EXDATE for its cancelled dates, and one VEVENT
  per moved date (RECURRENCE-ID). A date the spring change skipped is held at the first valid time
  (storage.wall_clock) and appears as such a moved date.
- Each feed has a version read with a few aggregate queries: its ETag comes from it (and from the site's
  name), so a conditional request is answered without building anything. Last-Modified is kept in the
  database and only moves forward (bot.feeds).
- Every VEVENT's text is kept, keyed by everything it shows; a feed after a change writes only what changed.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from threading import Lock
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.core.i18n import translator_for
from bot.ical_text import date_time, fold, rule_date_time, text, utc_stamp, vtimezone
from storage.event_rules import Slot, rrule_value, wall_duration
from storage.events import (
    bookings_version,
    events_version,
    feed_bookings,
    member_by_token,
    member_feed_signups,
    member_signups_version,
    space_by_slug,
    space_names,
    spaces_version,
)
from storage.feed_state import FeedEvent, FeedOccurrence, feed_event_rows, relocations, uid_domain
from storage.models import Booking, Member, Site, Space
from storage.models_events import (
    EVENT_CANCELLED,
    OCCURRENCE_CANCELLED,
    SIGNUP_WAITLISTED,
    Event,
    EventOccurrence,
)
from storage.spaces import default_site
from storage.wall_clock import ambiguous, held_slot, time_of_day

FEED_FORMAT = 2  # bump when the output changes for the same data, so ETags change too
REFRESH = timedelta(hours=1)
HISTORY = timedelta(days=90)  # how far back a feed goes
PRODID = "-//tierslieu-bot//iCal feeds//FR"
COMPONENT_CACHE_SIZE = 50_000
BODY_CACHE_SIZE = 16
DEFAULT_UID_HOST = "tierslieu-bot.local"

MEMBER_PATH = "/ical/members/{token}.ics"
EVENTS_PATH = "/ical/events.ics"
SPACE_PATH = "/ical/spaces/{slug}.ics"
PLACE_PATH = "/ical/places/{slug}.ics"  # a network of places: one place's programme (issue 18)


def feed_links(public_url: str, path: str) -> tuple[str, str]:
    """The https and webcal addresses of a feed (kept short: Google ignores subscription URLs over
    256 characters; bot.config refuses a PUBLIC_URL that would make them longer than 200)."""
    https = public_url.rstrip("/") + path
    return https, "webcal://" + https.split("://", 1)[1]


@dataclass(frozen=True)
class Feed:
    """One feed's validators and, unless only they were asked for, ``render``: it builds the body from
    rows already read, so the database transaction can end before the (slower) writing.
    ``key`` names the feed for the Last-Modified kept in the database."""

    etag: str
    last_modified: datetime
    render: Callable[[], bytes] | None = None
    key: str = ""


class FeedNotFound(LookupError):
    pass


def window_start(now: datetime) -> datetime:
    """Start of the feeds' history, on a day boundary so it changes once a day, not at every request."""
    day = (now - HISTORY).astimezone(UTC).date()
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)


def _newest(values: Iterable[object]) -> datetime:
    found = [v for v in values if isinstance(v, datetime)]
    return max(found) if found else datetime(2000, 1, 1, tzinfo=UTC)


class LRU:
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
        self.public_host = (urlparse(public_url).hostname if public_url else None) or DEFAULT_UID_HOST
        self._uid_host: str | None = None
        self.components = LRU(COMPONENT_CACHE_SIZE)
        self.bodies = LRU(BODY_CACHE_SIZE)

    def uid_host(self, session: Session) -> str:
        """The UIDs' domain: the first one ever used by this database (see storage.feed_state)."""
        if self._uid_host is None:
            self._uid_host = uid_domain(session, self.public_host)
        return self._uid_host

    # --- the feeds -------------------------------------------------------------------------------------------

    def events_feed(self, session: Session, now: datetime, *, validators_only: bool = False) -> Feed:
        since = window_start(now)
        version = (events_version(session), spaces_version(session), self._site_name(session))
        return self._answer(session, ("events",), version, since, validators_only,
                            lambda: self._events_body(session, since))

    def space_feed(self, session: Session, now: datetime, *, slug: str, validators_only: bool = False) -> Feed:
        space = space_by_slug(session, slug)
        if space is None or space.id is None:
            raise FeedNotFound(slug)
        since = window_start(now)
        version = (events_version(session, space.id), bookings_version(session, space_id=space.id),
                   spaces_version(session), self._site_name(session))
        return self._answer(session, ("space", space.id), version, since, validators_only,
                            lambda: self._space_body(session, space, since))

    def place_feed(self, session: Session, now: datetime, *, slug: str, validators_only: bool = False) -> Feed:
        """One place's programme: the events held at its spaces."""
        site = session.exec(select(Site).where(Site.slug == slug)).first()
        if site is None or site.id is None:
            raise FeedNotFound(slug)
        since = window_start(now)
        version = (events_version(session), spaces_version(session), site.name)
        return self._answer(session, ("place", site.id), version, since, validators_only,
                            lambda: self._place_body(session, site, since))

    def _place_body(self, session: Session, site: Site, since: datetime) -> Callable[[], bytes]:
        t = translator_for(self.language, self.tz_name)
        names = space_names(session)
        here = set(session.exec(select(Space.id).where(Space.site_id == site.id)))
        events = [(e, o) for e, o in feed_event_rows(session, since) if e.space_id in here]
        host = self.uid_host(session)
        name = t.gettext("{site}: programme").format(site=site.name)
        return lambda: self._calendar(name, since, (
            chunk for event, occurrences in events
            for chunk in self.event_components(event, occurrences, names.get(event.space_id or 0), host)))

    def member_feed(self, session: Session, now: datetime, *, token: str, validators_only: bool = False) -> Feed:
        member_id = member_by_token(session, token)
        member = session.get(Member, member_id) if member_id is not None else None
        if member is None or member.id is None:
            raise FeedNotFound(token)
        since = window_start(now)
        version = (member_signups_version(session, member.id), bookings_version(session, member_id=member.id),
                   spaces_version(session), member.language, token, self._site_name(session))
        return self._answer(session, ("member", member.id), version, since, validators_only,
                            lambda: self._member_body(session, member, since))

    def _answer(self, session: Session, key: tuple[object, ...], version: tuple[object, ...], since: datetime,
                validators_only: bool, load: Callable[[], Callable[[], bytes]]) -> Feed:
        fingerprint = repr((FEED_FORMAT, key, version, since.isoformat(), self.uid_host(session), self.tz_name,
                            self.language))
        etag = '"' + hashlib.sha256(fingerprint.encode()).hexdigest()[:32] + '"'
        last_modified = _newest(_flatten(version)).replace(microsecond=0)
        name = ":".join(str(part) for part in key)
        if validators_only:
            return Feed(etag, last_modified, key=name)
        cached = self.bodies.get(etag)
        if cached is not None:
            return Feed(etag, last_modified, lambda: cached, key=name)
        render = load()

        def render_and_keep() -> bytes:
            body = render()
            self.bodies.put(etag, body)
            return body

        return Feed(etag, last_modified, render_and_keep, key=name)

    def body(self, feed: Feed) -> bytes:
        assert feed.render is not None, "validators only"
        return feed.render()

    # --- bodies: each reads its rows now and returns what writes them later --------------------------------

    def _calendar(self, name: str, since: datetime, chunks: Iterable[bytes]) -> bytes:
        head = [
            "BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
            f"NAME:{text(name)}", f"X-WR-CALNAME:{text(name)}", f"X-WR-TIMEZONE:{self.tz_name}",
            "REFRESH-INTERVAL;VALUE=DURATION:PT1H", "X-PUBLISHED-TTL:PT1H",
        ]
        return b"".join([*(fold(line) for line in head), vtimezone(self.tz_name, since.year - 5), *chunks,
                         b"END:VCALENDAR\r\n"])

    def _site_name(self, session: Session) -> str:
        site = default_site(session)
        return site.name if site else "tierslieu"

    def _events_body(self, session: Session, since: datetime) -> Callable[[], bytes]:
        t = translator_for(self.language, self.tz_name)
        names = space_names(session)
        events = feed_event_rows(session, since)
        host = self.uid_host(session)
        name = t.gettext("{site}: programme").format(site=self._site_name(session))
        return lambda: self._calendar(name, since, (
            chunk for event, occurrences in events
            for chunk in self.event_components(event, occurrences, names.get(event.space_id or 0), host)))

    def _space_body(self, session: Session, space: Space, since: datetime) -> Callable[[], bytes]:
        t = translator_for(self.language, self.tz_name)
        events = feed_event_rows(session, since, space.id)
        bookings = feed_bookings(session, since, space_id=space.id)
        host = self.uid_host(session)
        booked = t.gettext("Booked")
        name = t.gettext("{site}: {space}").format(site=self._site_name(session), space=space.name)

        def render() -> bytes:
            chunks = [chunk for event, occurrences in events
                      for chunk in self.event_components(event, occurrences, space.name, host)]
            chunks += [self.booking_component(b, booked, space.name, host) for b in bookings]
            return self._calendar(name, since, chunks)

        return render

    def _member_body(self, session: Session, member: Member, since: datetime) -> Callable[[], bytes]:
        t = translator_for(member.language or self.language, self.tz_name)
        names = space_names(session)
        signups = member_feed_signups(session, member.id or 0, since)
        moved = relocations(session) if signups else {}
        bookings = feed_bookings(session, since, member_id=member.id)
        host = self.uid_host(session)
        waiting = t.gettext("(waiting list)")
        booking_label = t.gettext("Booking: {space}")
        name = t.gettext("{site}: my calendar").format(site=self._site_name(session))

        def render() -> bytes:
            chunks = [self.signup_component(occurrence, event, names.get(event.space_id or 0),
                                            waiting if signup.status == SIGNUP_WAITLISTED else None, host,
                                            signup.updated_at, moved.get(event.id or 0))
                      for signup, occurrence, event in signups]
            for booking in bookings:
                space_name = names.get(booking.space_id, "?")
                chunks.append(self.booking_component(booking, booking_label.format(space=space_name), space_name,
                                                     host))
            return self._calendar(name, since, chunks)

        return render

    # --- components ------------------------------------------------------------------------------------

    def _cached(self, key: tuple[object, ...], build: Callable[[], list[str]]) -> bytes:
        chunk = self.components.get(key)
        if chunk is None:
            chunk = b"".join(fold(line) for line in build())
            self.components.put(key, chunk)
        return chunk

    def _lines(self, uid: str, title: str, description: str, location: str | None, stamp: datetime,
               sequence: int, status: str, times: list[str]) -> list[str]:
        stamp_text = utc_stamp(stamp)
        lines = ["BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{stamp_text}", f"LAST-MODIFIED:{stamp_text}", *times,
                 f"SUMMARY:{text(title)}"]
        if description:
            lines.append(f"DESCRIPTION:{text(description)}")
        if location:
            lines.append(f"LOCATION:{text(location)}")
        lines += [f"SEQUENCE:{sequence}", f"STATUS:{status}"]
        return lines

    def _plain_times(self, start: datetime, end: datetime) -> list[str]:
        if end <= start:  # never a zero-length or reversed date (RFC 5545 forbids DTEND <= DTSTART)
            end = start + timedelta(minutes=1)
        return [date_time("DTSTART", start, self.tz), date_time("DTEND", end, self.tz)]

    def event_components(self, event: FeedEvent, occurrences: list[FeedOccurrence], location: str | None,
                         host: str) -> list[bytes]:
        """A single event, or a series' master with its exceptions."""
        uid = f"event-{event.id}@{host}"
        if event.rrule is None or not occurrences:
            occurrence = occurrences[0] if occurrences else None
            start, end = (occurrence.start, occurrence.end) if occurrence else (event.start, event.end)
            cancelled = event.status == EVENT_CANCELLED or (occurrence is not None
                                                            and occurrence.status == OCCURRENCE_CANCELLED)
            sequence = event.sequence + (occurrence.sequence if occurrence else 0)
            stamp = max(event.updated_at, occurrence.updated_at) if occurrence else event.updated_at
            single_key = ("single", uid, start, end, cancelled, sequence, stamp, event.title, event.description,
                          location)
            return [self._cached(single_key, lambda: [*self._lines(
                uid, event.title, event.description, location, stamp, sequence,
                "CANCELLED" if cancelled else "CONFIRMED", self._plain_times(start, end)), "END:VEVENT"])]

        duration = wall_duration(event.start, event.end, self.tz)
        rule_time = time_of_day(event.start, self.tz)
        held = [o for o in occurrences if o.status != OCCURRENCE_CANCELLED]
        until, count = event.rule_until, event.rule_count
        series_cancelled = False
        if event.status == EVENT_CANCELLED:
            # Series cancelled before issue 14 kept this status: the dates that took place stay, the rule
            # ends at the last of them.
            if held:
                until, count = max(o.original_start for o in held), None
            else:
                series_cancelled = True
        in_rule = occurrences if until is None else [o for o in occurrences if o.original_start <= until]
        cancelled_dates = [o.original_start for o in in_rule if o.status == OCCURRENCE_CANCELLED]
        exceptions = [o for o in in_rule if o.status != OCCURRENCE_CANCELLED and (
            held_slot(o.original_start, duration, self.tz, rule_time) != Slot(o.start, o.end)
            or o.start != o.original_start
            or ambiguous(o.original_start, self.tz))]  # written in UTC, so that ical.js reads it as the others
        # Every change to a date shows in the series (an EXDATE, a moved date): the whole series moves on.
        # (a date cancelled when an open-ended series was extended counts although its SEQUENCE is 0).
        changes = [(o.sequence + (o.status == OCCURRENCE_CANCELLED), o.updated_at) for o in occurrences]
        sequence = event.sequence + sum(number for number, _ in changes)
        stamp = max([event.updated_at, *(moment for number, moment in changes if number)])
        rule = rrule_value(event.rrule, count, until)
        key = ("series", uid, sequence, stamp, event.start, event.end, rule, tuple(cancelled_dates),
               series_cancelled, event.title, event.description, location)

        def master() -> list[str]:
            start_line = rule_date_time("DTSTART", event.start, self.tz, rule_time)
            end_wall = datetime.strptime(start_line.rsplit(":", 1)[1], "%Y%m%dT%H%M%S") + duration
            lines = self._lines(uid, event.title, event.description, location, stamp, sequence,
                                "CANCELLED" if series_cancelled else "CONFIRMED",
                                [start_line, f"DTEND;TZID={self.tz_name}:{end_wall:%Y%m%dT%H%M%S}"])
            lines.append(f"RRULE:{rule}")
            lines += [rule_date_time("EXDATE", moment, self.tz, rule_time) for moment in cancelled_dates]
            lines.append("END:VEVENT")
            return lines

        chunks = [self._cached(key, master)]
        if series_cancelled:
            return chunks
        for occurrence in exceptions:
            chunks.append(self._override(uid, event, occurrence, location, sequence, stamp, rule_time))
        return chunks

    def _override(self, uid: str, event: FeedEvent, occurrence: FeedOccurrence, location: str | None,
                  sequence: int, stamp: datetime, rule_time: time) -> bytes:
        key = ("override", uid, occurrence.id, occurrence.original_start, occurrence.start, occurrence.end,
               sequence, stamp, event.title, event.description, location)
        return self._cached(key, lambda: [
            *self._lines(uid, event.title, event.description, location, stamp, sequence, "CONFIRMED",
                         self._plain_times(occurrence.start, occurrence.end)),
            rule_date_time("RECURRENCE-ID", occurrence.original_start, self.tz, rule_time), "END:VEVENT"])

    def signup_component(self, occurrence: EventOccurrence, event: Event, location: str | None,
                         waiting_label: str | None, host: str, signed_up_at: datetime | None = None,
                         relocated: tuple[int, datetime] | None = None) -> bytes:
        """One date a member signed up for, on its own (a member's feed has no series). A place given
        from the waiting list is a change: SEQUENCE and DTSTAMP move; so does a rename of its space
        (``relocated``: how many, when the last)."""
        uid = f"occurrence-{occurrence.id}@{host}"
        # A date already held stays held when the rest of its series is cancelled.
        cancelled = occurrence.status == OCCURRENCE_CANCELLED or (event.status == EVENT_CANCELLED
                                                                 and event.rrule is None)
        sequence = event.sequence + occurrence.sequence + (0 if waiting_label else 1) + (relocated or (0,))[0]
        stamp = max(event.updated_at, occurrence.updated_at, signed_up_at or event.updated_at,
                    relocated[1] if relocated else event.updated_at)
        title = f"{event.title} {waiting_label}" if waiting_label else event.title
        status = "CANCELLED" if cancelled else ("TENTATIVE" if waiting_label else "CONFIRMED")
        key = ("signup", uid, occurrence.start, occurrence.end, status, sequence, stamp, title, event.description,
               location)
        return self._cached(key, lambda: [
            *self._lines(uid, title, event.description, location, stamp, sequence, status,
                         self._plain_times(occurrence.start, occurrence.end)), "END:VEVENT"])

    def booking_component(self, booking: Booking, title: str, location: str, host: str) -> bytes:
        uid = f"booking-{booking.id}@{host}"
        key = ("booking", uid, booking.start, booking.end, booking.created_at, title, location)
        return self._cached(key, lambda: [
            *self._lines(uid, title, "", location, booking.created_at, 0, "CONFIRMED",
                         self._plain_times(booking.start, booking.end)), "END:VEVENT"])


def _flatten(values: Iterable[object]) -> Iterable[object]:
    for value in values:
        if isinstance(value, tuple):
            yield from _flatten(value)
        else:
            yield value
