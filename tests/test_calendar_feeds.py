"""What a subscriber sees change in the calendar feeds (issue 14): dates held before "cancel the rest of
the series" stay held, SEQUENCE and DTSTAMP move with every visible change, UIDs don't follow the domain,
PUBLIC_URL is checked at start, and /calendar gives each space's real link. SQLite and PostgreSQL.

Now is Monday 5 January 2026 in Paris."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
import sqlalchemy as sa
from sqlmodel import Session, select

from bot.config import ConfigError, load_settings
from bot.ical import MEMBER_PATH, FeedBuilder, feed_links
from storage.db import make_engine, session_scope
from storage.migrate import upgrade
from storage.models import Site
from storage.models_events import Event
from tests.harness import Chat, with_settings

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 1, 5, 9, tzinfo=UTC)
PUBLIC = "https://bot.example.org"


def builder(chat: Chat, public_url: str | None = PUBLIC) -> FeedBuilder:
    return FeedBuilder("Europe/Paris", "fr", public_url)


def programme(chat: Chat, feeds: FeedBuilder | None = None) -> bytes:
    feeds = feeds or builder(chat)
    with session_scope(chat.app.engine) as session:
        return feeds.body(feeds.events_feed(session, chat.clock.now))


def personal(chat: Chat, user: str) -> bytes:
    with_settings(chat, public_url=PUBLIC)
    match = re.search(r"/ical/members/([A-Za-z0-9_-]+)\.ics", chat.text(user, "/calendar"))
    assert match is not None
    feeds = builder(chat)
    with session_scope(chat.app.engine) as session:
        return feeds.body(feeds.member_feed(session, chat.clock.now, token=match[1]))


def vevents(body: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(body).walk("VEVENT"))


def master(body: bytes) -> icalendar.Event:
    return next(e for e in vevents(body) if "RRULE" in e)


def start(chat: Chat) -> None:
    chat.clock.now = NOW
    chat.say("coord", '/event add "Repair café" 2026-01-10 14h-18h places 1 chaque samedi 10 fois')


def test_dates_already_held_stay_held_when_the_rest_of_the_series_is_cancelled(chat: Chat) -> None:
    start(chat)
    chat.say("alice", "/join 1")  # Saturday 10 January
    chat.clock.now = datetime(2026, 1, 20, 9, tzinfo=UTC)  # two Saturdays held
    chat.say("coord", "/event cancel 3 all")
    assert "ANNULÉ" not in chat.text("coord", "/event 1")
    assert "ANNULÉ" in chat.text("coord", "/event 3")
    mine = vevents(personal(chat, "alice"))
    assert [(str(e["STATUS"]), e["DTSTART"].dt.astimezone(PARIS).date().isoformat()) for e in mine] == [
        ("CONFIRMED", "2026-01-10")]
    body = programme(chat)
    held = recurring_ical_events.of(icalendar.Calendar.from_ical(body)).between(datetime(2026, 1, 1),
                                                                                 datetime(2026, 6, 1))
    assert [e["DTSTART"].dt.astimezone(PARIS).strftime("%d/%m %H:%M") for e in held] == ["10/01 14:00",
                                                                                          "17/01 14:00"]
    assert str(master(body)["STATUS"]) == "CONFIRMED"


def test_a_cancelled_date_raises_the_series_sequence_and_stamp(chat: Chat) -> None:
    start(chat)
    before = master(programme(chat))
    chat.clock.advance(minutes=5)
    chat.say("coord", "/event cancel 4")
    after = master(programme(chat))
    assert "EXDATE" in after and "EXDATE" not in before
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert after["DTSTAMP"].dt > before["DTSTAMP"].dt


def test_a_place_from_the_waiting_list_raises_sequence_and_stamp_in_the_personal_feed(chat: Chat) -> None:
    start(chat)
    chat.say("alice", "/join 1")
    chat.say("bob", "/join 1")  # one place: Bob waits
    waiting = vevents(personal(chat, "bob"))[0]
    assert str(waiting["STATUS"]) == "TENTATIVE"
    chat.clock.advance(minutes=5)
    chat.say("alice", "/leave 1")
    placed = vevents(personal(chat, "bob"))[0]
    assert str(placed["STATUS"]) == "CONFIRMED" and "(" not in str(placed["SUMMARY"])
    assert int(placed["SEQUENCE"]) > int(waiting["SEQUENCE"])
    assert placed["DTSTAMP"].dt > waiting["DTSTAMP"].dt


def test_renaming_a_space_raises_the_sequence_and_stamp_of_its_events_only(chat: Chat) -> None:
    chat.clock.now = NOW
    chat.say("coord", '/event add "Repair café" 2026-01-10 14h-18h places 1 lieu salle-reunion chaque samedi 10 fois')
    chat.say("coord", '/event add "Couture" 2026-01-14 18h-20h places 4 lieu petite-salle')
    chat.say("alice", "/join 1")
    before = {str(e["SUMMARY"]): e for e in vevents(programme(chat))}
    mine_before = vevents(personal(chat, "alice"))[0]
    chat.clock.advance(minutes=5)
    assert "mis" in chat.text("coord", '/espace modifier salle-reunion nom="Salle Hélène Brion"')
    after = {str(e["SUMMARY"]): e for e in vevents(programme(chat))}
    repair, couture = after["Repair café"], after["Couture"]
    assert str(repair["LOCATION"]) == "Salle Hélène Brion"
    assert int(repair["SEQUENCE"]) == int(before["Repair café"]["SEQUENCE"]) + 1
    assert repair["DTSTAMP"].dt > before["Repair café"]["DTSTAMP"].dt
    assert (couture["SEQUENCE"], couture["DTSTAMP"].dt) == (before["Couture"]["SEQUENCE"],
                                                           before["Couture"]["DTSTAMP"].dt), "another space"
    mine = vevents(personal(chat, "alice"))[0]
    assert str(mine["LOCATION"]) == "Salle Hélène Brion" and int(mine["SEQUENCE"]) > int(mine_before["SEQUENCE"])
    assert mine["DTSTAMP"].dt > mine_before["DTSTAMP"].dt
    chat.say("coord", "/espace modifier salle-reunion capacite=6")  # not the name: nothing moves
    again = {str(e["SUMMARY"]): e for e in vevents(programme(chat))}["Repair café"]
    assert int(again["SEQUENCE"]) == int(repair["SEQUENCE"])


def test_uids_stay_the_same_when_the_bot_moves_to_another_domain(chat: Chat) -> None:
    start(chat)
    first = {str(e["UID"]) for e in vevents(programme(chat))}
    assert first == {"event-1@bot.example.org"}
    moved = {str(e["UID"]) for e in vevents(programme(chat, builder(chat, "https://tiers-lieu.example.net")))}
    assert moved == first


def test_renaming_the_site_changes_the_etag(chat: Chat) -> None:
    start(chat)
    feeds = builder(chat)
    with session_scope(chat.app.engine) as session:
        before = feeds.events_feed(session, chat.clock.now, validators_only=True).etag
    with Session(chat.app.engine) as session:
        site = session.exec(select(Site)).first()
        assert site is not None
        site.name = "Le Hangar"
        session.add(site)
        session.commit()
    with session_scope(chat.app.engine) as session:
        after = feeds.events_feed(session, chat.clock.now)
    assert after.etag != before
    assert "X-WR-CALNAME:Le Hangar" in feeds.body(after).decode()


def test_calendar_gives_each_spaces_link_not_a_placeholder(chat: Chat) -> None:
    with_settings(chat, public_url=PUBLIC)
    text = chat.text("alice", "/calendrier")
    assert "{slug}" not in text
    assert "Salle de réunion : https://bot.example.org/ical/spaces/salle-reunion.ics" in text
    assert "Les réservations et événements de chaque espace :" in text


@pytest.mark.parametrize(("value", "problem"), [
    ("ftp://bot.example.org", "is not an http"),
    ("https://bot.example.org/?site=1", "must not have a query"),
    ("https://bot.example.org/#x", "must not have a query"),
    ("https://", "has no host"),
    ("https://bot.example.org/" + "a" * 120, "too long"),
])
def test_a_bad_public_url_stops_the_start_with_one_line(value: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem) as raised:
        load_settings({"PUBLIC_URL": value})
    assert str(raised.value).startswith("PUBLIC_URL: ")


def test_the_longest_accepted_public_url_gives_links_of_200_characters_at_most() -> None:
    for size in range(10, 200):
        value = "https://" + "b" * size + ".org"
        try:
            settings = load_settings({"PUBLIC_URL": value})
        except ConfigError:
            break
        assert settings.public_url is not None
        links = feed_links(settings.public_url, MEMBER_PATH.format(token="t" * 43))
        assert max(len(link) for link in links) <= 200
    else:
        pytest.fail("no PUBLIC_URL was too long")
    assert max(len(link) for link in links) >= 195  # the limit is where it says


def test_a_series_cancelled_before_the_upgrade_gets_its_held_dates_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0002")  # the events tables, as a database from before issue 14 has them
    stamp = "2026-01-05 09:00:00.000000"
    with engine.begin() as connection:
        member_columns = {c["name"] for c in sa.inspect(connection).get_columns("member")}
        values = {"display_name": "Coord", "language": "fr", "language_chosen": False, "is_coordinator": True,
                  "is_organiser": True, "created_at": stamp}
        values = {k: v for k, v in values.items() if k in member_columns}
        connection.execute(sa.text(f"INSERT INTO member ({', '.join(values)}) VALUES "
                                   f"({', '.join(':' + k for k in values)})"), values)
        connection.execute(sa.text(
            "INSERT INTO event (id, title, description, organiser_id, start, \"end\", rrule, rule_count, status, "
            "sequence, created_at, updated_at) VALUES (1, 'Repair café', '', 1, '2026-01-10 13:00:00.000000', "
            "'2026-01-10 17:00:00.000000', 'FREQ=WEEKLY;BYDAY=SA', 4, 'cancelled', 1, :s, :s)"), {"s": stamp})
        for day, status in ((10, "scheduled"), (17, "scheduled"), (24, "cancelled"), (31, "cancelled")):
            moment = f"2026-01-{day} 13:00:00.000000"
            connection.execute(sa.text(
                "INSERT INTO eventoccurrence (event_id, original_start, start, \"end\", status, sequence, "
                "updated_at) VALUES (1, :m, :m, :e, :st, 0, :s)"),
                {"m": moment, "e": moment.replace("13:00", "17:00"), "st": status, "s": stamp})
    upgrade(engine)
    with Session(engine) as session:
        event = session.get(Event, 1)
        assert event is not None
        assert (event.status, event.rule_count, event.sequence) == ("active", None, 2)
        assert event.rule_until == datetime(2026, 1, 17, 13, tzinfo=UTC)
    engine.dispose()
