"""The feeds read by independent parsers: icalendar + recurring-ical-events, vobject (its own VTIMEZONE
and RRULE reading) and ical.js 2 under Node (Nextcloud's parser; installed once with npm in a cache dir,
skipped when node or the registry is missing). Every occurrence of a year of weekly series, across both
clock changes of 2026 (29 March, 25 October), must be where the bot itself lists it.

Now is Monday 5 January 2026 in Paris."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
import vobject
from sqlmodel import Session, select

from bot.ical import FeedBuilder
from bot.ical_text import fold, text, vtimezone
from storage.db import session_scope
from storage.models_events import OCCURRENCE_SCHEDULED, EventOccurrence
from tests.harness import Chat

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 1, 5, 9, tzinfo=UTC)
FROM, TO = datetime(2025, 12, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC)
ICALJS_VERSION = "2.2.1"
Occurrence = tuple[str, datetime, datetime]  # UID, start, end (UTC)


def feed(chat: Chat) -> bytes:
    settings = chat.app.settings
    builder = FeedBuilder(settings.timezone, settings.language, settings.public_url)
    with session_scope(chat.app.engine) as session:
        built = builder.events_feed(session, chat.clock.now)
    return builder.body(built)


def bots_listing(chat: Chat) -> set[Occurrence]:
    """The dates as /event shows them: the occurrence rows still scheduled."""
    with Session(chat.app.engine) as session:
        rows = session.exec(select(EventOccurrence).where(EventOccurrence.status == OCCURRENCE_SCHEDULED)).all()
        return {(f"event-{o.event_id}@tierslieu-bot.local", o.start.astimezone(UTC), o.end.astimezone(UTC))
                for o in rows}


def with_recurring_ical_events(body: bytes) -> set[Occurrence]:
    calendar = icalendar.Calendar.from_ical(body)
    return {(str(e["UID"]), e["DTSTART"].dt.astimezone(UTC), e["DTEND"].dt.astimezone(UTC))
            for e in recurring_ical_events.of(calendar).between(FROM, TO)
            if str(e.get("STATUS", "")) != "CANCELLED"}


def with_vobject(body: bytes) -> set[Occurrence]:
    """vobject reads the VTIMEZONE into its own tzinfo and expands RRULE/EXDATE with dateutil; overrides
    (RECURRENCE-ID) replace their date, as a calendar app does."""
    calendar = vobject.readOne(body.decode())
    events = calendar.contents.get("vevent", [])
    moved = {(e.uid.value, e.recurrence_id.value.astimezone(UTC)) for e in events if hasattr(e, "recurrence_id")}
    found = set()
    for event in events:
        uid, start, end = event.uid.value, event.dtstart.value, event.dtend.value
        if hasattr(event, "recurrence_id"):
            found.add((uid, start.astimezone(UTC), end.astimezone(UTC)))
            continue
        if getattr(event, "status", None) is not None and event.status.value == "CANCELLED":
            continue
        starts = list(event.getrruleset(addRDate=True)) if hasattr(event, "rrule") else [start]
        wall_length = end.replace(tzinfo=None) - start.replace(tzinfo=None)
        for moment in starts:
            if (uid, moment.astimezone(UTC)) in moved:
                continue
            ends = (moment.replace(tzinfo=None) + wall_length).replace(tzinfo=moment.tzinfo)
            found.add((uid, moment.astimezone(UTC), ends.astimezone(UTC)))
    return found


ICALJS_SCRIPT = r"""
const ICAL = require('ical.js');
const fs = require('fs');
const root = new ICAL.Component(ICAL.parse(fs.readFileSync(0, 'utf8')));
for (const zone of root.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(new ICAL.Timezone(zone));
const byUid = new Map();
for (const vevent of root.getAllSubcomponents('vevent')) {
  const uid = vevent.getFirstPropertyValue('uid');
  if (!byUid.has(uid)) byUid.set(uid, {master: null, exceptions: []});
  if (vevent.hasProperty('recurrence-id')) byUid.get(uid).exceptions.push(vevent);
  else byUid.get(uid).master = vevent;
}
const until = ICAL.Time.fromJSDate(new Date(process.argv[2]), true);
const out = [];
for (const [uid, parts] of byUid) {
  if (!parts.master) continue;
  const event = new ICAL.Event(parts.master);
  if (event.component.getFirstPropertyValue('status') === 'CANCELLED') continue;
  for (const exception of parts.exceptions) event.relateException(exception);
  if (!event.isRecurring()) {
    out.push([uid, event.startDate.toJSDate().toISOString(), event.endDate.toJSDate().toISOString()]);
    continue;
  }
  const iterator = event.iterator();
  for (let next = iterator.next(); next && next.compare(until) < 0; next = iterator.next()) {
    const details = event.getOccurrenceDetails(next);
    out.push([uid, details.startDate.toJSDate().toISOString(), details.endDate.toJSDate().toISOString()]);
  }
}
process.stdout.write(JSON.stringify(out));
"""


@pytest.fixture(scope="session")
def icaljs() -> Iterator[Path]:
    """ical.js installed once in a cache directory (ICALJS_DIR, or ~/.cache/tierslieu-bot/icaljs)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to read the feeds with ical.js")
    home = Path(os.environ.get("ICALJS_DIR", Path.home() / ".cache" / "tierslieu-bot" / "icaljs"))
    package = home / "node_modules" / "ical.js" / "package.json"
    if not package.exists() or json.loads(package.read_text())["version"] != ICALJS_VERSION:
        home.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(home),
                               f"ical.js@{ICALJS_VERSION}"], capture_output=True, text=True, timeout=180)
        if done.returncode != 0:
            pytest.skip(f"npm could not install ical.js: {done.stderr.strip()[-200:]}")
    script = home / "expand.cjs"
    script.write_text(ICALJS_SCRIPT)
    yield script


def with_icaljs(script: Path, body: bytes) -> set[Occurrence]:
    done = subprocess.run(["node", str(script), TO.isoformat()], input=body, capture_output=True, timeout=60,
                          check=True)
    def instant(value: str) -> datetime:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))

    return {(uid, instant(start), instant(end)) for uid, start, end in json.loads(done.stdout)}


def a_year_of_series(chat: Chat) -> None:
    chat.clock.now = NOW
    chat.say("coord", '/event add "Repair café" 2026-01-10 14h-18h lieu salle-reunion chaque samedi 52 fois')
    chat.say("coord", '/event add "Veillée; contes, chants \\ et thé" 2026-01-04 02h30-03h30 chaque dimanche 52 fois')
    assert chat.text("coord", "/event 53").startswith("Veillée")
    chat.say("coord", "/event cancel 12")  # Saturday 28 March, the eve of the spring change
    chat.say("coord", "/event edit 42 2026-10-24 16h-20h")  # Saturday 24 October, the eve of the autumn change
    chat.say("coord", '/event add "Assemblée générale" 2026-06-12 18h30-21h')


def local(occurrences: set[Occurrence]) -> list[str]:
    return sorted(f"{s.astimezone(PARIS):%m-%d %H:%M}–{e.astimezone(PARIS):%H:%M}" for _, s, e in occurrences)


def test_every_parser_puts_a_year_of_weekly_dates_where_the_bot_lists_them(chat: Chat) -> None:
    a_year_of_series(chat)
    listing = bots_listing(chat)
    assert len(listing) == 52 - 1 + 52 + 1
    body = feed(chat)
    assert with_recurring_ical_events(body) == listing
    assert with_vobject(body) == listing
    saturdays = local({o for o in listing if o[0].startswith("event-1@")})
    assert "03-21 14:00–18:00" in saturdays and "03-28 14:00–18:00" not in saturdays
    assert "04-04 14:00–18:00" in saturdays and "10-24 16:00–20:00" in saturdays
    assert "10-31 14:00–18:00" in saturdays
    assert all(t.endswith("14:00–18:00") for t in saturdays if not t.startswith("10-24"))


def test_ical_js_reads_the_same_dates(chat: Chat, icaljs: Path) -> None:
    a_year_of_series(chat)
    assert with_icaljs(icaljs, feed(chat)) == bots_listing(chat)


def test_a_date_skipped_by_the_spring_change_is_held_at_three_and_read_so_everywhere(chat: Chat) -> None:
    a_year_of_series(chat)
    nights = {o for o in bots_listing(chat) if o[0].startswith("event-2@")}
    shown = local(nights)
    assert "03-29 03:00–04:00" in shown  # 02:30 doesn't exist that night: the first valid time, same length
    assert "03-22 02:30–03:30" in shown and "04-05 02:30–03:30" in shown
    assert "10-25 02:30–03:30" in shown  # the first of the two 02:30s of the autumn night
    assert all(end > start for _, start, end in nights)
    body = feed(chat)
    for parsed in (with_recurring_ical_events(body), with_vobject(body)):
        assert {o for o in parsed if o[0].startswith("event-2@")} == nights
    assert "RECURRENCE-ID;TZID=Europe/Paris:20260329T023000" in body.decode()


def test_the_time_zone_is_written_as_thunderbird_and_google_write_it() -> None:
    zone = vtimezone("Europe/Paris", 2021).decode()
    assert ("BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
            "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nEND:DAYLIGHT") in zone
    assert ("BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
            "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nEND:STANDARD") in zone
    assert "RDATE" not in zone
    # Read back by icalendar, the zone changes clocks where the tz database does, for years ahead.
    calendar = icalendar.Calendar.from_ical("BEGIN:VCALENDAR\r\n" + zone + "END:VCALENDAR\r\n")
    tz = calendar.walk("VTIMEZONE")[0].to_tz()
    for day in (date(2026, 7, 1), date(2030, 3, 31), date(2040, 10, 28), date(2045, 12, 24)):
        moment = datetime(day.year, day.month, day.day, 12)
        assert tz.utcoffset(moment) == moment.replace(tzinfo=PARIS).utcoffset()


@pytest.mark.parametrize("value", [
    "Répar'café; vélos, grille-pain \\ et « lampes »\nApportez vos objets 🔧.",
    "é" * 200,
    "x" * 74 + "é" + "🔧" * 30,
    "",
])
def test_text_is_escaped_and_folded_so_that_every_parser_reads_it_back(value: str) -> None:
    line = fold("DESCRIPTION:" + text(value))
    assert all(len(part) <= 75 for part in line.split(b"\r\n"))
    body = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//FR\r\nBEGIN:VEVENT\r\nUID:x\r\n"
            b"DTSTAMP:20260101T000000Z\r\nDTSTART:20260101T100000Z\r\n" + line + b"END:VEVENT\r\nEND:VCALENDAR\r\n")
    assert str(icalendar.Calendar.from_ical(body).walk("VEVENT")[0].get("DESCRIPTION", "")) == value
    assert vobject.readOne(body.decode()).vevent.description.value == value


def test_nothing_in_the_feed_is_zero_length_or_reversed(chat: Chat) -> None:
    a_year_of_series(chat)
    calendar = icalendar.Calendar.from_ical(feed(chat))
    for component in calendar.walk("VEVENT"):
        assert component["DTEND"].dt > component["DTSTART"].dt
    assert all(end - start >= timedelta(minutes=30) for _, start, end in with_recurring_ical_events(feed(chat)))
