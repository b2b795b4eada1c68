"""The iCal feeds fetched over HTTP from the bot's running aiohttp server, and read back with
recurring-ical-events (its own RRULE/EXDATE/RECURRENCE-ID expansion, not our writer's).

Now is Thursday 1 October 2026 in Paris; a weekly Saturday 14:00 series runs across the clock change
of Sunday 25 October."""

from __future__ import annotations

import gzip
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import icalendar
import pytest
import recurring_ical_events
from multidict import CIMultiDict
from sqlmodel import Session, select

from bot.app import App
from storage.models_events import Event
from tests.harness import Chat, Clock, make_settings

pytestmark = pytest.mark.integration
PARIS = ZoneInfo("Europe/Paris")
PUBLIC = "https://bot.example.org"


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[Chat, str]]:
    clock = Clock(datetime(2026, 10, 1, 8, tzinfo=UTC))
    settings = make_settings(f"sqlite:///{tmp_path / 'feeds.db'}", HTTP_HOST="127.0.0.1", HTTP_PORT="0",
                             PUBLIC_URL=PUBLIC)
    app = App(settings, adapters=[], clock=clock, serve_feeds=True)
    app.prepare()
    await app.web.start()
    try:
        yield Chat(app, clock), f"http://127.0.0.1:{app.web.port}"
    finally:
        await app.web.stop()
        app.engine.dispose()


async def fetch(url: str, **headers: str) -> tuple[int, CIMultiDict[str], bytes]:
    async with aiohttp.ClientSession() as client, client.get(url, headers=headers) as response:
        return response.status, response.headers.copy(), await response.read()


def expand(body: bytes, start: date = date(2026, 10, 1), end: date = date(2026, 12, 1)) -> list[icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(body)
    return sorted(recurring_ical_events.of(calendar).between(start, end), key=lambda e: e["DTSTART"].dt)


def token_of(chat: Chat, user: str) -> str:
    links = chat.text(user, "/calendar")
    match = re.search(r"https://bot\.example\.org/ical/members/([A-Za-z0-9_-]+)\.ics", links)
    assert match is not None, links
    return match[1]


def set_the_scene(chat: Chat) -> None:
    chat.say("coord", '/event add "Repair café" 2026-10-10 14h-18h places 12 lieu salle-reunion chaque samedi 7 fois')
    chat.say("coord", "/event cancel 2")  # Saturday 17 October
    chat.say("coord", "/event edit 3 2026-10-24 16h-20h")  # Saturday 24 October, moved by two hours
    chat.say("alice", "/join 1")
    chat.say("bob", "/join 4")
    chat.say("alice", "/book petite-salle 2026-10-06 10h-11h")
    chat.say("bob", "/book salle-reunion 2026-10-06 15h-16h")


async def test_public_feed_series_across_the_clock_change_with_cancelled_and_edited_dates(
        served: tuple[Chat, str]) -> None:
    chat, base = served
    set_the_scene(chat)
    status, headers, body = await fetch(f"{base}/ical/events.ics")
    assert status == 200
    assert headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert headers["ETag"].startswith('"') and headers["Last-Modified"].endswith("GMT")
    text = body.decode()
    assert "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris" in text
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in text and "X-PUBLISHED-TTL:PT1H" in text
    assert "RRULE:FREQ=WEEKLY;BYDAY=SA;COUNT=7" in text
    assert "EXDATE;TZID=Europe/Paris:20261017T140000" in text

    occurrences = expand(body)
    local = [(e["DTSTART"].dt.astimezone(PARIS).strftime("%m-%d %H:%M"),
              e["DTEND"].dt.astimezone(PARIS).strftime("%H:%M")) for e in occurrences]
    assert local == [
        ("10-10 14:00", "18:00"), ("10-24 16:00", "20:00"), ("10-31 14:00", "18:00"), ("11-07 14:00", "18:00"),
        ("11-14 14:00", "18:00"), ("11-21 14:00", "18:00")]
    utc_hours = [e["DTSTART"].dt.astimezone(UTC).hour for e in occurrences]
    assert utc_hours == [12, 14, 13, 13, 13, 13]  # 14:00 local is 12:00 UTC in summer time, 13:00 after
    assert {str(e["UID"]) for e in occurrences} == {"event-1@bot.example.org"}
    edited = occurrences[1]
    assert edited["RECURRENCE-ID"].dt.astimezone(PARIS) == datetime(2026, 10, 24, 14, tzinfo=PARIS)
    assert int(edited["SEQUENCE"]) == int(edited["SEQUENCE"])  # the series' SEQUENCE: checked below

    # The cancelled Saturday is gone from the expansion (one EXDATE), and the series says it changed.
    raw = icalendar.Calendar.from_ical(body)
    master = next(c for c in raw.walk("VEVENT") if "RRULE" in c)
    assert int(master["SEQUENCE"]) >= 2
    assert "Alice" not in text and "Bob" not in text


async def test_conditional_requests_get_304_and_a_change_a_new_etag(served: tuple[Chat, str]) -> None:
    chat, base = served
    set_the_scene(chat)
    _, headers, body = await fetch(f"{base}/ical/events.ics")
    status, again_headers, again = await fetch(f"{base}/ical/events.ics")
    assert (status, again, again_headers["ETag"]) == (200, body, headers["ETag"])  # DTSTAMP doesn't move
    status, not_modified, empty = await fetch(f"{base}/ical/events.ics", **{"If-None-Match": headers["ETag"]})
    assert (status, empty) == (304, b"") and not_modified["ETag"] == headers["ETag"]
    status, _, _ = await fetch(f"{base}/ical/events.ics", **{"If-Modified-Since": headers["Last-Modified"]})
    assert status == 304
    status, _, _ = await fetch(f"{base}/ical/events.ics", **{"If-None-Match": '"other"',
                                                              "If-Modified-Since": headers["Last-Modified"]})
    assert status == 200  # If-None-Match decides when both are sent

    chat.clock.advance(minutes=5)
    chat.say("coord", '/event edit 1 all "Repair café et couture"')
    status, changed_headers, changed = await fetch(f"{base}/ical/events.ics", **{"If-None-Match": headers["ETag"]})
    assert status == 200 and changed_headers["ETag"] != headers["ETag"]
    before = next(c for c in icalendar.Calendar.from_ical(body).walk("VEVENT") if "RRULE" in c)
    master = next(c for c in icalendar.Calendar.from_ical(changed).walk("VEVENT") if "RRULE" in c)
    assert str(master["SUMMARY"]) == "Repair café et couture"
    assert int(master["SEQUENCE"]) == int(before["SEQUENCE"]) + 1 and master["DTSTAMP"].dt > before["DTSTAMP"].dt


async def test_member_feed_holds_only_that_members_bookings_and_sign_ups(served: tuple[Chat, str]) -> None:
    chat, base = served
    set_the_scene(chat)
    alice, bob = token_of(chat, "alice"), token_of(chat, "bob")
    status, headers, body = await fetch(f"{base}/ical/members/{alice}.ics")
    assert status == 200 and headers["Cache-Control"].startswith("private")
    mine = expand(body)
    assert [(str(e["SUMMARY"]), e["DTSTART"].dt.astimezone(PARIS).strftime("%m-%d %H:%M")) for e in mine] == [
        ("Réservation : Petite salle", "10-06 10:00"), ("Repair café", "10-10 14:00")]
    assert "Bob" not in body.decode() and "occurrence-4@" not in body.decode()
    assert "booking-2@" not in body.decode()
    _, _, bobs = await fetch(f"{base}/ical/members/{bob}.ics")
    assert [str(e["UID"]) for e in expand(bobs)] == ["booking-2@bot.example.org", "occurrence-4@bot.example.org"]
    assert "Petite salle" not in bobs.decode() and "occurrence-1@" not in bobs.decode()

    chat.say("alice", "/calendar reset")
    status, _, _ = await fetch(f"{base}/ical/members/{alice}.ics")
    assert status == 404


async def test_space_feed_shows_bookings_and_events_without_names(served: tuple[Chat, str]) -> None:
    chat, base = served
    set_the_scene(chat)
    status, _, body = await fetch(f"{base}/ical/spaces/salle-reunion.ics")
    assert status == 200
    items = expand(body)
    assert [str(e["SUMMARY"]) for e in items][:2] == ["Réservé", "Repair café"]
    assert "Bob" not in body.decode() and "Alice" not in body.decode()
    _, _, small = await fetch(f"{base}/ical/spaces/petite-salle.ics")
    assert [str(e["SUMMARY"]) for e in expand(small)] == ["Réservé"]


async def test_unknown_slug_or_token_gets_a_bare_404(served: tuple[Chat, str]) -> None:
    _, base = served
    answers = [await fetch(f"{base}{path}") for path in (
        "/ical/spaces/nowhere.ics", "/ical/members/" + "x" * 43 + ".ics", "/ical/members/short.ics",
        "/ical/spaces/" + "a" * 80 + ".ics")]
    assert {(status, body) for status, _, body in answers} == {(404, b"Not found\n")}


async def test_gzip_when_the_client_accepts_it(served: tuple[Chat, str]) -> None:
    chat, base = served
    set_the_scene(chat)
    async with aiohttp.ClientSession(auto_decompress=False) as client:
        async with client.get(f"{base}/ical/events.ics", headers={"Accept-Encoding": "gzip"}) as response:
            packed, headers = await response.read(), response.headers.copy()
        async with client.get(f"{base}/ical/events.ics", headers={"Accept-Encoding": "identity"}) as response:
            plain, plain_headers = await response.read(), response.headers.copy()
        async with client.get(f"{base}/ical/events.ics", headers={"Accept-Encoding": "gzip",
                                                                   "If-None-Match": headers["ETag"]}) as response:
            assert response.status == 304
    assert headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain_headers
    assert gzip.decompress(packed) == plain and len(packed) < len(plain) / 2
    assert headers["Vary"] == "Accept-Encoding" and headers["ETag"] != plain_headers["ETag"]


async def test_last_modified_moves_forward_when_an_event_leaves_a_space(served: tuple[Chat, str]) -> None:
    chat, base = served
    set_the_scene(chat)
    chat.clock.advance(hours=1)
    chat.say("coord", '/event add "Atelier vélo" 2026-10-20 18h-20h lieu petite-salle')
    _, headers, _ = await fetch(f"{base}/ical/spaces/petite-salle.ics")
    first = parsedate_to_datetime(headers["Last-Modified"])
    chat.clock.advance(hours=1)
    with Session(chat.app.engine) as session:  # the event moves out: the space's newest row is now older
        event = session.exec(select(Event).where(Event.title == "Atelier vélo")).one()
        event.space_id, event.sequence, event.updated_at = None, event.sequence + 1, chat.clock.now
        session.add(event)
        session.commit()
    status, _, _ = await fetch(f"{base}/ical/spaces/petite-salle.ics",
                               **{"If-Modified-Since": headers["Last-Modified"]})
    assert status == 200
    _, later, body = await fetch(f"{base}/ical/spaces/petite-salle.ics")
    assert parsedate_to_datetime(later["Last-Modified"]) > first and "Atelier vélo" not in body.decode()
