"""Events and sign-ups through the chat, on SQLite and PostgreSQL. Now is Monday 23 November 2026, 10:00 Paris."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.core.outbox import reply_from_json
from bot.core.types import Reply
from storage.db import session_scope
from storage.events import signups_of_occurrence, upcoming_signups
from storage.models import Booking
from storage.models_events import Event, EventOccurrence, EventSignup
from tests.harness import Chat, with_settings

PARIS = ZoneInfo("Europe/Paris")
REPAIR = '/event add "Repair café" samedi 14h-18h places 2 lieu salle-reunion chaque samedi'


def occurrences(chat: Chat) -> list[EventOccurrence]:
    with Session(chat.app.engine) as session:
        return list(session.exec(select(EventOccurrence).order_by(EventOccurrence.id)))  # type: ignore[arg-type]


def signups(chat: Chat) -> list[tuple[int, str, str]]:
    with Session(chat.app.engine) as session:
        rows = session.exec(select(EventSignup).order_by(EventSignup.id)).all()  # type: ignore[arg-type]
        from storage.models import Member
        return [(r.occurrence_id, session.get(Member, r.member_id).display_name, r.status) for r in rows]  # type: ignore[union-attr]


def notices(chat: Chat) -> list[tuple[str, Reply]]:
    return [(row.chat_id, reply_from_json(row.payload)) for row in chat.outbox()]


def group_press(chat: Chat, user: str, command: str, group: str = "g1") -> list[Reply]:
    return chat.app.dispatcher.handle_sync(chat.incoming(user, command, group=group, is_action=True))


def test_coordinator_creates_a_weekly_series_that_reserves_its_space(chat: Chat) -> None:
    replies = chat.say("coord", REPAIR)
    assert replies[0].title == "Repair café"
    text = replies[0].text
    assert text.startswith("Événement créé, 25 dates pour l'instant : #1 samedi 28 novembre, #2 samedi 5 décembre")
    assert "samedi 28 novembre, 14:00–18:00 · Salle de réunion\nChaque samedi\n0/2 inscrit" in text
    assert [(a.label, a.command) for a in replies[0].actions] == [("S'inscrire", "/join 1")]
    first, second = occurrences(chat)[:2]
    assert first.start == datetime(2026, 11, 28, 13, tzinfo=UTC)
    assert second.start == datetime(2026, 12, 5, 13, tzinfo=UTC)
    # The space is the event's: /book refuses with the reason, /free doesn't offer it.
    refused = chat.text("alice", "/book salle-reunion samedi 15h-16h")
    assert "l'espace est réservé pour l'événement « Repair café » à ce moment-là" in refused
    assert "Salle de réunion" not in chat.text("alice", "/free samedi 14h-18h")
    assert chat.text("alice", "/book salle-reunion samedi 12h-13h").startswith("Réservé")


def test_an_event_over_bookings_is_refused_unless_a_coordinator_forces_it(chat: Chat) -> None:
    chat.say("alice", "/lang en")
    chat.say("alice", "/book salle-reunion samedi 15h-16h")
    chat.say("bob", "/start")
    chat.say("coord", "/organiser bob")
    refused = chat.text("bob", '/event add "Concert" samedi 14h-18h lieu salle-reunion')
    assert "Salle de réunion est déjà pris à ce moment-là :\n• réservation n° 1, samedi 28 novembre, 15:00–16:00" \
        in refused
    assert "demandez à un·e coordinateur·rice" in refused
    assert "forcer" in chat.text("coord", '/event add "Concert" samedi 14h-18h lieu salle-reunion')
    assert occurrences(chat) == []
    forced = chat.text("coord", '/event add "Concert" samedi 14h-18h lieu salle-reunion forcer')
    assert "1 réservation a été annulée ; la personne a été prévenue." in forced
    with Session(chat.app.engine) as session:
        assert session.exec(select(Booking.status)).all() == ["cancelled"]
    told = notices(chat)[-1][1]
    assert told.text == ("Your booking Salle de réunion, Saturday 28 November, 15:00–16:00 was cancelled: "
                         "the event “Concert” takes the space.")
    assert "Choose another time or place." in chat.text(
        "coord", '/event add "Other" samedi 17h-19h lieu salle-reunion force', lang="en")


def test_only_coordinators_and_organisers_create_and_organisers_edit_only_theirs(chat: Chat) -> None:
    assert "Seuls la coordination et les organisateur·rices" in chat.text("alice", '/event add "Yoga" demain 9h-10h')
    assert "coordinat" in chat.text("alice", "/organiser bob")
    chat.say("alice", "/start")
    assert chat.text("coord", "/organisateur alice") == "Alice peut maintenant créer des événements."
    assert chat.text("coord", "/organiser") == "Organisateur·rices\nAlice"
    assert chat.text("alice", '/event add "Yoga" demain 9h-10h').startswith("Yoga\nÉvénement créé.")
    chat.say("coord", '/event add "AG" 15/12 19h-21h')
    assert chat.text("alice", "/event cancel 2") == "Seul·e son organisateur·rice ou la coordination peut " \
                                                    "modifier l'événement 2."
    assert chat.text("alice", "/event edit 1 demain 10h-11h").startswith("Yoga\nÉvénement modifié.")
    assert chat.text("coord", "/event edit 1 places 5").startswith("Yoga\nÉvénement modifié.")
    assert chat.text("coord", "/organiser retirer alice") == "Alice ne peut plus créer d'événements."
    assert "Seul·e son organisateur·rice" in chat.text("alice", "/event cancel 1")


def test_join_waitlist_promotion_and_giving_the_place_back(chat: Chat) -> None:
    chat.say("coord", '/event add "Atelier soudure" demain 18h-20h places 1')
    assert chat.text("alice", "/inscrire 1").startswith(
        "Atelier soudure\nVous êtes inscrit·e à « Atelier soudure », mardi 24 novembre, 18:00–20:00.")
    chat.say("bob", "/lang en")
    bob = chat.say("bob", "/join 1")[0]
    assert bob.text.startswith("It's full: you are on the waiting list, position 1.")
    assert "Full: 1/1 signed up, 1 on the waiting list" in bob.text
    assert [a.command for a in bob.actions] == ["/leave 1"]
    chat.say("carol", "/join 1")
    assert "liste d'attente, position 2" in chat.text("carol", "/mesevenements")
    left = chat.text("alice", "/desinscrire 1")
    assert left.startswith("Atelier soudure\nVous avez rendu votre place à « Atelier soudure ». Elle revient à la "
                           "personne suivante")
    [(_, promoted)] = notices(chat)
    assert promoted.text.startswith("A place freed up: you are now signed up for “Atelier soudure”, Tuesday 24 "
                                    "November, 18:00–20:00.")
    assert [(a.label, a.command) for a in promoted.actions] == [("Give my place back", "/leave 1")]
    # Bob presses "give it back": the place passes on to Carol, who is told.
    chat.last_actions["bob"] = list(promoted.actions)
    [answer] = chat.press("bob", "Give my place back")
    assert answer.edit_original and answer.text.startswith("You have given back your place")
    assert notices(chat)[-1][1].text.startswith("Une place s'est libérée : vous êtes maintenant inscrit·e")
    assert signups(chat) == [(1, "Alice", "left"), (1, "Bob", "left"), (1, "Carol", "confirmed")]
    assert "inscrit·e" in chat.text("carol", "/myevents")


def test_repeated_or_impossible_sign_ups_change_nothing(chat: Chat) -> None:
    chat.say("coord", '/event add "Concert" 12/12 20h-23h seats 80')
    chat.say("alice", "/join 1")
    assert "Vous êtes déjà inscrit·e." in chat.text("alice", "/join 1")
    assert "Vous n'étiez pas inscrit·e à « Concert » ; rien n'a changé." in chat.text("bob", "/leave 1")
    assert chat.text("bob", "/join 99") == "Il n'y a pas d'événement n° 99. /agenda les liste."
    assert chat.text("bob", "/join douze").startswith("Quel événement ?")
    chat.say("coord", "/event cancel 1")
    assert chat.text("bob", "/join 1") == "« Concert » (samedi 12 décembre, 20:00–23:00) est annulé."
    chat.clock.now = datetime(2026, 12, 12, 20, 30, tzinfo=UTC)
    chat.say("coord", '/event add "Bal" 2026-12-12 22h-23h')
    chat.clock.now = datetime(2026, 12, 12, 21, 30, tzinfo=UTC)
    assert chat.text("bob", "/join 2") == "« Bal » a déjà commencé ou est terminé."
    assert signups(chat) == [(1, "Alice", "confirmed")]


def test_moving_one_date_and_cancelling_tell_everyone_signed_up_in_their_language(chat: Chat) -> None:
    chat.say("coord", REPAIR)
    chat.say("alice", "/join 2")
    chat.say("bob", "/lang en")
    chat.say("bob", "/join 2")
    moved = chat.text("coord", "/event edit 2 2026-12-06 15h-19h")
    assert "2 personnes inscrites ont été prévenues." in moved
    assert "dimanche 6 décembre, 15:00–19:00" in moved
    texts = [r.text for _, r in notices(chat)]
    assert texts[0].startswith("« Repair café » a changé :\n• dimanche 6 décembre, 15:00–19:00")
    assert texts[1].startswith("“Repair café” has changed:\n• Sunday 6 December, 15:00–19:00")
    assert "Titre, places, lieu et description valent pour toute la série" in chat.text(
        "coord", "/event edit 3 places 20")
    assert chat.text("coord", "/event edit 3 all places 20").startswith("Repair café\nÉvénement modifié.")
    cancelled = chat.text("coord", "/event cancel 2")
    assert cancelled.startswith("Annulé : « Repair café », dimanche 6 décembre, 15:00–19:00.")
    assert "/event cancel 2 all" in cancelled or "/evenement annuler 2 tout" in cancelled
    texts = [r.text for _, r in notices(chat)]
    assert texts[-2].startswith("Annulé : « Repair café ». Vous étiez inscrit·e pour :")
    assert texts[-1].startswith("Cancelled: “Repair café”. You were signed up for:")
    series = chat.text("coord", "/event cancel 1 all")
    assert series.startswith("Série « Repair café » annulée : 24 dates à venir sont supprimées.")
    assert chat.text("alice", "/events") == "Événements à venir\nRien de prévu pour l'instant."


def test_series_hours_change_keeps_each_day(chat: Chat) -> None:
    chat.say("coord", REPAIR)
    chat.say("coord", "/event edit 5 2026-12-27 10h-12h")  # moved on its own: keeps its time
    reply = chat.text("coord", "/event edit 1 all 15h-19h")
    assert "Chaque date garde son jour" in reply
    rows = occurrences(chat)
    assert rows[0].start == datetime(2026, 11, 28, 14, tzinfo=UTC)
    assert rows[3].start == datetime(2026, 12, 19, 14, tzinfo=UTC)
    assert rows[4].start == datetime(2026, 12, 27, 9, tzinfo=UTC)
    assert rows[4].original_start == datetime(2026, 12, 26, 14, tzinfo=UTC)


def test_english_keywords_and_listings(chat: Chat) -> None:
    chat.say("coord", "/lang en")
    reply = chat.text("coord", '/event add "Members meeting" every month on the first monday 7pm-9pm '
                               'at salle-reunion 3 times desc "Agenda on the wiki"')
    assert "Event created, 3 dates so far: #1 Monday 7 December, #2 Monday 4 January, #3 Monday 1 February." in reply
    assert "Every month on the first Monday, 3 times" in reply and "Agenda on the wiki" in reply
    chat.say("coord", '/event add "Concert" 12/12 20h-23h seats 80')
    agenda = chat.text("alice", "/agenda", lang="en")
    assert "#1 Monday 7 December, 19:00–21:00 — Members meeting (Salle de réunion) — 0 signed up" in agenda
    assert "#4 Saturday 12 December, 20:00–23:00 — Concert — 80 places left" in agenda
    assert chat.text("alice", "/events today", lang="en") == "Events today\nNothing planned yet."
    assert "#1 Monday 7 December" not in chat.text("alice", "/events week", lang="en")
    assert "Say today, week or month" in chat.text("alice", "/events tomorrow", lang="en")


def test_posted_event_shows_the_live_count_and_join_edits_it_in_place(chat: Chat) -> None:
    chat.say("coord", '/event add "Concert" 12/12 20h-23h seats 80')
    chat.say("alice", "/join 1")
    [posted] = chat.say("coord", "/event post 1", group="g1")
    assert "1/80 inscrit" in posted.text and "Alice" not in posted.text
    assert [a.command for a in posted.actions] == ["/join 1", "/leave 1"]
    # Never wrote privately: the card is updated and Carol alone hears how it went (personal reply).
    own, silent = group_press(chat, "carol", "/join 1")
    assert silent.edit_original and "2/80 inscrits" in silent.text and "Carol" not in silent.text
    assert own.personal and own.text.startswith("Vous êtes inscrit·e à « Concert »")
    assert chat.outbox() == []
    group_press(chat, "carol", "/leave 1")
    chat.say("bob", "/start")
    own, edited = group_press(chat, "bob", "/join 1")
    assert edited.edit_original and "2/80 inscrits" in edited.text and "Bob" not in edited.text
    assert [a.command for a in edited.actions] == ["/join 1", "/leave 1"]
    assert own.personal and own.text == "Vous êtes inscrit·e à « Concert », samedi 12 décembre, 20:00–23:00."
    _own, left = group_press(chat, "bob", "/leave 1")
    assert left.edit_original and "1/80 inscrit" in left.text
    assert "Seul·e son organisateur·rice" in chat.text("alice", "/event post 1", group="g1")


def test_names_only_for_organiser_and_coordinators_and_long_lists_stay_short(chat: Chat) -> None:
    chat.say("coord", '/event add "Fête" 12/12 18h-23h places 250 desc "' + "x" * 3000 + '"')
    for n in range(3):
        chat.say(f"m{n}", "/join 1")
    assert "Inscrits : M0, M1, M2" in chat.text("coord", "/event 1")
    assert "M0" not in chat.text("m1", "/event 1")
    assert "M0" not in chat.text("coord", "/event 1", group="g1")
    for n in range(3, 220):
        chat.say(f"m{n}-with-a-name-long-enough-to-need-two-pages", "/join 1")
    [card] = chat.say("coord", "/event 1")
    assert len(card.text) < 4000 and len((card.title or "") + card.text) < 4096
    assert "220/250 inscrits" in card.text and "Liste complète des noms : /participants 1" in card.text
    assert "M0" not in card.text
    pages = chat.say("coord", "/participants 1")
    assert len(pages) >= 2 and all(len(p.text) <= 3900 for p in pages)
    assert "220. M219-with-a-name" in pages[-1].text
    assert "Seul·e son organisateur·rice" in chat.text("m1", "/attendees 1")


def test_calendar_links_and_reset(chat: Chat) -> None:
    assert "Les flux d'agenda ne sont pas publiés" in chat.text("alice", "/calendrier")
    with_settings(chat, public_url="https://bot.example.org")
    links = chat.text("alice", "/calendar")
    personal = next(line for line in links.splitlines() if line.startswith("https://bot.example.org/ical/members/"))
    assert len(personal) < 256 and len(personal.rsplit("/", 1)[1]) >= 40 + 4
    assert "webcal://bot.example.org/ical/members/" in links
    assert "https://bot.example.org/ical/events.ics" in links
    assert personal in chat.text("alice", "/calendar")  # stable until reset
    renewed = chat.text("alice", "/calendar reset")
    assert "l'ancien ne marche plus" in renewed and personal not in renewed
    in_group = chat.text("alice", "/calendar", group="g1")
    assert in_group == "Je vous ai envoyé vos liens d'agenda en privé (votre lien personnel est secret)."
    assert "ical/members/" not in in_group
    assert "ical/members/" in notices(chat)[-1][1].text


def test_query_functions_for_reminders(chat: Chat) -> None:
    chat.say("coord", REPAIR)
    chat.say("alice", "/join 1")
    chat.say("bob", "/join 1")
    chat.say("carol", "/join 1")  # waitlisted: no reminder
    with session_scope(chat.app.engine) as session:
        found = upcoming_signups(session, datetime(2026, 11, 28, 0, tzinfo=UTC), datetime(2026, 11, 29, tzinfo=UTC))
        assert [(s.occurrence_id, s.title, s.start) for s in found] == [
            (1, "Repair café", datetime(2026, 11, 28, 13, tzinfo=UTC))] * 2
        assert [m.display_name for _, m in signups_of_occurrence(session, 1)] == ["Alice", "Bob", "Carol"]
        assert [m.display_name for _, m in signups_of_occurrence(session, 1, ("confirmed",))] == ["Alice", "Bob"]
        event = session.exec(select(Event)).one()
        assert json.loads(json.dumps(event.rrule)) == "FREQ=WEEKLY;BYDAY=SA"


def test_an_open_ended_series_gets_new_dates_as_time_passes(chat: Chat) -> None:
    chat.say("coord", REPAIR)
    assert len(occurrences(chat)) == 25  # six months ahead
    assert chat.text("coord", "/book salle-reunion 2027-06-12 14h-15h").startswith("Réservé")  # beyond the dates made
    chat.clock.now = datetime(2027, 3, 1, 9, tzinfo=UTC)
    chat.say("bob", "/events")
    rows = occurrences(chat)
    assert rows[-1].start.astimezone(PARIS).date().isoformat() == "2027-08-21"  # 180 days on
    assert len({r.original_start for r in rows}) == len(rows)
    # The date already booked by then is kept off: the booking stays, nobody can join it.
    june_12 = next(r for r in rows if r.start.astimezone(PARIS).date().isoformat() == "2027-06-12")
    assert june_12.status == "cancelled"
    chat.say("carol", "/events")  # nothing more to add
    assert len(occurrences(chat)) == len(rows)
