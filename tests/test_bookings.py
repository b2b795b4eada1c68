"""Booking spaces through the chat, on SQLite and PostgreSQL. Now is Monday 23 November 2026, 10:00 Paris."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from storage.models import Booking
from tests.harness import Chat


def bookings(chat: Chat) -> list[Booking]:
    with Session(chat.app.engine) as session:
        return list(session.exec(select(Booking).order_by(Booking.id)))  # type: ignore[arg-type]


def test_booking_is_confirmed_in_french_with_day_hours_and_cancel_button(chat: Chat) -> None:
    replies = chat.say("alice", "/reserver salle-reunion demain 14h-16h")
    assert replies[0].text == "Réservé : Salle de réunion, mardi 24 novembre, 14:00–16:00. Réservation n° 1."
    assert [(a.label, a.command) for a in replies[0].actions] == [("Annuler", "/cancel 1")]
    [booking] = bookings(chat)
    assert booking.start == datetime(2026, 11, 24, 13, tzinfo=UTC)
    assert booking.end == datetime(2026, 11, 24, 15, tzinfo=UTC)


def test_member_who_chose_english_gets_english(chat: Chat) -> None:
    chat.say("bob", "/lang en")
    assert chat.text("bob", "/book salle-reunion tomorrow 9-12") == (
        "Booked: Salle de réunion, Tuesday 24 November, 09:00–12:00. Booking number 1.")


def test_platform_language_hint_is_used_until_member_chooses(chat: Chat) -> None:
    assert chat.text("carol", "/book petite-salle demain 9h-10h", lang="en-GB").startswith("Booked:")
    chat.say("carol", "/langue fr", lang="en-GB")
    assert chat.text("carol", "/mybookings", lang="en-GB").startswith("Vos réservations")


def test_space_name_matches_without_accents_or_case(chat: Chat) -> None:
    assert chat.text("alice", "/book SALLE REUNION demain 9h-10h").startswith("Réservé : Salle de réunion")
    assert chat.text("alice", "/book découpeuse demain 9h-10h").startswith("Je ne peux pas réserver Découpeuse laser")


def test_unknown_space_suggests_the_closest_and_ambiguous_name_lists_candidates(chat: Chat) -> None:
    assert "Vouliez-vous dire salle-reunion" in chat.text("alice", "/book sale-reunion demain 9h-10h")
    answer = chat.text("alice", "/book salle demain 9h-10h")
    assert "Petite salle (petite-salle)" in answer and "Salle de réunion (salle-reunion)" in answer
    assert bookings(chat) == []


def test_overlapping_booking_is_refused_with_nearest_free_slots_and_similar_spaces(chat: Chat) -> None:
    chat.say("alice", "/book salle-reunion demain 14h-16h")
    replies = chat.say("bob", "/book salle-reunion demain 15h-16h")
    text = replies[0].text
    assert text.startswith("Je ne peux pas réserver Salle de réunion pour mardi 24 novembre, 15:00–16:00 :")
    assert "c'est déjà complet" in text
    assert "• mardi 24 novembre, 16:00–17:00" in text
    assert "Libre à ce moment-là : Petite salle (petite-salle)" in text
    assert replies[0].actions, "the nearest free slots are offered as buttons"
    assert len(bookings(chat)) == 1


def test_suggested_slot_button_books_it(chat: Chat) -> None:
    chat.say("alice", "/book salle-reunion demain 14h-16h")
    chat.say("bob", "/book salle-reunion demain 15h-16h")
    [reply] = chat.press("bob", "mardi 24 novembre, 16:00")
    assert reply.text.startswith("Réservé : Salle de réunion, mardi 24 novembre, 16:00–17:00")


def test_open_space_takes_as_many_bookings_as_desks(chat: Chat) -> None:
    for n in range(8):
        assert chat.text(f"m{n}", "/book open-space demain 9h-12h").startswith("Réservé"), n
    assert "complet" in chat.text("m9", "/book open-space demain 11h-13h")
    assert chat.text("m9", "/book open-space demain 12h-13h").startswith("Réservé")


def test_rules_refuse_past_outside_hours_too_long_and_too_far(chat: Chat) -> None:
    assert "déjà passé" in chat.text("alice", "/book salle-reunion 2026-11-23 08:30-09:30")
    assert "heures d'ouverture" in chat.text("alice", "/book salle-reunion demain 20h-21h")
    assert "dure 4h au plus" in chat.text("alice", "/book salle-reunion demain 9h-14h")
    assert "au plus 60 jours à l'avance" in chat.text("alice", "/book salle-reunion 2027-03-01 10h-11h")
    assert bookings(chat) == []


def test_weekly_quota_counts_the_members_own_bookings(chat: Chat) -> None:
    assert "Je ne connais personne" in chat.text("coord", "/grant alice laser")
    chat.say("alice", "/start")
    chat.say("coord", "/grant alice laser")
    assert chat.text("alice", "/book laser demain 14h-16h").startswith("Réservé")
    assert chat.text("alice", "/book laser jeudi 14h-16h").startswith("Réservé")
    answer = chat.text("alice", "/book laser samedi 10h-11h")
    assert "quota hebdomadaire de 4h ici (4h déjà réservé)" in answer
    assert chat.text("alice", "/book laser 2026-12-01 14h-15h").startswith("Réservé"), "next week is a new quota"
    assert chat.text("bob_has_none", "/book laser jeudi 14h-15h").count("habilitation « laser »") == 1


def test_qualification_is_granted_and_revoked_by_a_coordinator(chat: Chat) -> None:
    chat.say("alice", "/start")
    assert "habilitation « laser »" in chat.text("alice", "/book laser demain 14h-15h")
    assert "Seul·e un·e coordinateur·rice" in chat.text("alice", "/grant alice laser")
    assert chat.text("coord", "/habiliter Alice laser") == "Alice est maintenant habilité·e pour « laser »."
    assert chat.text("alice", "/book laser demain 14h-15h").startswith("Réservé")
    chat.say("coord", "/revoke alice laser")
    assert "habilitation « laser »" in chat.text("alice", "/book laser demain 15h-16h")


def test_member_cancels_own_booking_but_not_someone_elses(chat: Chat) -> None:
    chat.say("alice", "/book salle-reunion demain 14h-16h")
    assert "n'est pas la vôtre" in chat.text("bob", "/cancel 1")
    assert chat.text("alice", "/annuler 1") == "Annulé : #1 Salle de réunion, mardi 24 novembre, 14:00–16:00."
    assert "déjà annulée" in chat.text("alice", "/cancel 1")
    assert chat.text("bob", "/book salle-reunion demain 14h-16h").startswith("Réservé")


def test_cancel_button_cancels_and_asks_to_edit_the_confirmation(chat: Chat) -> None:
    chat.say("alice", "/book salle-reunion demain 14h-16h")
    [reply] = chat.press("alice", "Annuler")
    assert reply.edit_original and reply.text.startswith("Annulé")
    assert [b.status for b in bookings(chat)] == ["cancelled"]


def test_someone_else_pressing_the_cancel_button_cannot_cancel(chat: Chat) -> None:
    chat.say("alice", "/book salle-reunion demain 14h-16h", group="g1")
    [reply] = chat.press("alice", "Annuler", presser="mallory")
    assert "n'est pas la vôtre" in reply.text
    assert [b.status for b in bookings(chat)] == ["active"]


def test_coordinator_cancel_tells_the_booker_in_their_language(chat: Chat) -> None:
    chat.say("bob", "/lang en")
    chat.say("bob", "/book salle-reunion demain 14h-16h")
    answer = chat.text("coord", "/cancel 1")
    assert "La personne qui avait réservé a été prévenue." in answer
    [message] = chat.outbox()
    assert (message.platform, message.chat_id, message.status) == ("console", "bob", "pending")
    assert "A coordinator (Coord) cancelled your booking: Salle de réunion, Tuesday 24 November" in message.payload


def test_free_for_a_day_shows_the_gaps_and_for_a_time_lists_free_spaces(chat: Chat) -> None:
    chat.say("alice", "/book salle-reunion demain 14h-16h")
    day = chat.text("bob", "/dispo demain")
    assert day.startswith("Libre le mardi 24 novembre")
    assert "• Salle de réunion (salle-reunion): 08:30–14:00, 16:00–19:00" in day
    slot = chat.text("bob", "/free demain 15h-16h")
    assert "Salle de réunion" not in slot and "• Petite salle (petite-salle)" in slot


def test_free_for_a_part_of_the_day_shows_the_gaps_in_that_part_only(chat: Chat) -> None:
    chat.say("alice", "/book salle-reunion demain 15h-16h")
    afternoon = chat.text("bob", "/dispo demain aprem")
    assert afternoon.startswith("Libre mardi 24 novembre, 14:00–18:00")
    assert "• Salle de réunion (salle-reunion): 14:00–15:00, 16:00–18:00" in afternoon
    assert "08:30" not in afternoon and "19:00" not in afternoon
    chat.say("bob", "/lang en")
    morning = chat.text("bob", "/free tomorrow morning")
    assert morning.startswith("Free Tuesday 24 November, 09:00–12:00")
    assert "• Salle de réunion (salle-reunion): 09:00–12:00" in morning
    assert "decoupeuse-laser" not in morning  # the laser opens at 14:00
    assert "Nothing is free then" in chat.text("bob", "/free tomorrow night")  # everything closes at 19:00


def test_free_for_a_morning_after_the_spring_clock_change_keeps_local_hours(chat: Chat) -> None:
    chat.clock.now = datetime(2027, 3, 25, 9, 0, tzinfo=UTC)  # winter time, Thursday
    assert chat.text("alice", "/dispo lundi matin").startswith("Libre lundi 29 mars, 09:00–12:00")


def test_my_bookings_lists_only_my_upcoming_bookings(chat: Chat) -> None:
    chat.say("alice", "/book salle-reunion demain 14h-16h")
    chat.say("bob", "/book petite-salle demain 14h-16h")
    chat.say("alice", "/book open-space jeudi 9h-12h")
    answer = chat.text("alice", "/mesreservations")
    assert answer.splitlines() == [
        "Vos réservations",
        "#1 Salle de réunion, mardi 24 novembre, 14:00–16:00",
        "#3 Open space coworking, jeudi 26 novembre, 09:00–12:00",
    ]


def test_booking_across_the_spring_clock_change_keeps_local_hours(chat: Chat) -> None:
    chat.clock.now = datetime(2027, 3, 25, 9, 0, tzinfo=UTC)  # winter time, Thursday
    reply = chat.text("alice", "/book salle-reunion lundi 10h-12h")
    assert reply.startswith("Réservé : Salle de réunion, lundi 29 mars, 10:00–12:00")
    [booking] = bookings(chat)
    assert booking.start == datetime(2027, 3, 29, 8, 0, tzinfo=UTC)  # summer time, UTC+2
    assert "n'existe pas ce jour-là" in chat.text("alice", "/book salle-reunion 2027-03-28 02:30-03:30")


def test_coordinator_adds_edits_closes_and_reopens_a_space(chat: Chat) -> None:
    assert chat.text("coord", '/space add atelier-bois "Atelier bois" kind=machine capacity=2 sat=10:00-18:00') == (
        "Espace ajouté : Atelier bois (atelier-bois).\nOuvert : sam. 10:00-18:00")
    assert chat.text("alice", "/book atelier bois samedi 10h-12h").startswith("Réservé : Atelier bois")
    chat.say("coord", "/space edit atelier-bois max_hours=1")
    assert "1h au plus" in chat.text("bob", "/book atelier-bois samedi 14h-16h")
    chat.say("coord", "/espace fermer atelier-bois")
    assert "Atelier bois" not in chat.text("bob", "/spaces")
    chat.say("coord", "/space open atelier-bois")
    assert "Atelier bois" in chat.text("bob", "/spaces")
    assert "Seul·e" in chat.text("bob", "/space close salle-reunion")
    assert "La capacité doit être entre 1 et 1000." in chat.text("coord", "/space edit atelier-bois capacity=0")


def test_booker_never_seen_in_private_is_asked_in_the_group_and_gets_the_message_on_start(chat: Chat) -> None:
    chat.say("bob", "/book salle-reunion demain 14h-16h", group="g1")
    [reply, note] = chat.say("coord", "/cancel 1", group="g1")
    assert reply.private_start_payload is None and note.private_start_payload is not None
    assert "Bob" not in reply.text + note.text  # nobody named in the group
    assert note.text.startswith("J'ai un message pour quelqu'un ici")
    [held] = chat.outbox()
    assert (held.status, held.chat_id) == ("no_route", "member:1")
    assert "J'avais 1 message en attente pour vous" in chat.text("bob", "/start")
    [released] = chat.outbox()
    assert (released.status, released.platform, released.chat_id) == ("pending", "console", "bob")
