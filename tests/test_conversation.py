"""Talking to the bot in plain sentences, through the in-memory chat, on SQLite and PostgreSQL.
Now is Monday 23 November 2026, 10:00 in Paris."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, select

from bot.core.conversation.plan import date_or_weekday
from bot.core.types import Reply
from storage.models import Booking
from storage.models_conversation import ConversationState
from storage.models_reminders import Reminder
from tests.harness import Chat


def bookings(chat: Chat) -> list[Booking]:
    with Session(chat.app.engine) as session:
        return list(session.exec(select(Booking).order_by(Booking.id)))  # type: ignore[arg-type]


def active_bookings(chat: Chat) -> list[Booking]:
    return [b for b in bookings(chat) if b.status == "active"]


def group_say(chat: Chat, user: str, text: str, *, mentions: bool = False, reply: bool = False,
              group: str = "g1", is_action: bool = False) -> list[Reply]:
    incoming = replace(chat.incoming(user, text, group=group, is_action=is_action),
                       mentions_bot=mentions, replies_to_bot=reply)
    replies = chat.app.dispatcher.handle_sync(incoming)
    chat.last_actions[user] = [a for r in replies for a in r.actions]
    return replies


def press(chat: Chat, user: str, label_start: str) -> list[Reply]:
    """Press a button of the last answer to ``user``; the answer's own buttons become the last ones."""
    replies = chat.press(user, label_start)
    chat.last_actions[user] = [a for r in replies for a in r.actions]
    return replies


def text_of(replies: list[Reply]) -> str:
    return "\n".join((f"{r.title}\n" if r.title else "") + r.text for r in replies)


def test_sentence_is_shown_in_full_with_its_command_and_booked_only_when_confirmed(chat: Chat) -> None:
    [reply] = chat.say("alice", "slt je voudrais la salle de réunion demain de 14h à 16h stp")
    assert reply.text == ("Réserver Salle de réunion, mardi 24 novembre, 14:00–16:00 ?\n"
                          "Commande : /book salle-reunion 2026-11-24 14:00-16:00")
    assert [a.label for a in reply.actions] == ["Oui", "Changer quelque chose", "Non"]
    assert bookings(chat) == [], "nothing is booked on a sentence alone"
    [done] = chat.press("alice", "Oui")
    assert done.text.startswith("Réservé : Salle de réunion, mardi 24 novembre, 14:00–16:00.")
    [booking] = bookings(chat)
    assert booking.start == datetime(2026, 11, 24, 13, tzinfo=UTC)
    assert booking.end == datetime(2026, 11, 24, 15, tzinfo=UTC)


def test_yes_pressed_twice_or_by_another_member_books_once(chat: Chat) -> None:
    group_say(chat, "alice", "je voudrais l'open space demain 9h-12h", mentions=True)
    yes = next(a for a in chat.last_actions["alice"] if a.label == "Oui")
    assert group_say(chat, "bob", yes.command, is_action=True) == [], "bob can't confirm alice's request"
    [done] = group_say(chat, "alice", yes.command, is_action=True)
    assert done.text.startswith("Réservé : Open space coworking")
    assert group_say(chat, "alice", yes.command, is_action=True) == []
    assert len(bookings(chat)) == 1


def test_confirming_runs_the_same_checks_as_the_typed_command(chat: Chat) -> None:
    chat.say("bob", "/book petite-salle demain 14h-16h")
    chat.say("alice", "je peux avoir la petite salle demain de 15h a 16h ?")
    [refused] = chat.press("alice", "Oui")
    assert "Je ne peux pas réserver Petite salle" in refused.text and "complet" in refused.text
    assert len(bookings(chat)) == 1


def test_missing_parts_are_asked_one_at_a_time_and_the_answers_complete_the_request(chat: Chat) -> None:
    [question] = chat.say("alice", "je voudrais réserver une salle demain")
    assert question.text == "Quel espace ?"
    assert [a.label for a in question.actions] == ["Petite salle", "Salle de réunion"]
    [hours] = press(chat, "alice", "Petite salle")
    assert hours.text == "À quelle heure ? (ex. 14h-16h)"
    [confirm] = chat.say("alice", "14h-16h")
    assert confirm.text.startswith("Réserver Petite salle, mardi 24 novembre, 14:00–16:00 ?")
    chat.press("alice", "Oui")
    assert [b.space_id for b in bookings(chat)] and len(bookings(chat)) == 1


def test_a_typed_answer_to_which_day_and_a_change_of_one_part(chat: Chat) -> None:
    chat.say("alice", "il me faut la petite salle de 10h a 12h")
    [confirm] = chat.say("alice", "jeudi")
    assert confirm.text.startswith("Réserver Petite salle, jeudi 26 novembre, 10:00–12:00 ?")
    [which] = press(chat, "alice", "Changer")
    assert [a.label for a in which.actions] == ["L'espace", "Le jour", "L'heure"]
    [hours] = press(chat, "alice", "L'heure")
    assert hours.text.startswith("À quelle heure")
    [again] = chat.say("alice", "14h-15h")
    assert again.text.startswith("Réserver Petite salle, jeudi 26 novembre, 14:00–15:00 ?")


def test_an_expired_conversation_is_not_completed_by_a_late_answer(chat: Chat) -> None:
    chat.say("alice", "je voudrais la petite salle demain")
    chat.clock.advance(minutes=11)
    [late] = chat.say("alice", "14h-16h")
    assert "Je n'ai pas compris" in late.text
    assert "/reserver salle-reunion demain 14h-16h" in late.text, "the closest command, with an example"
    assert bookings(chat) == []


def test_a_button_of_an_expired_question_says_so(chat: Chat) -> None:
    chat.say("alice", "je voudrais réserver une salle demain")
    chat.clock.advance(minutes=11)
    [expired] = chat.press("alice", "Petite salle")
    assert expired.text == "Cette question a expiré. Redites-moi ce qu'il vous faut."


def test_saying_no_drops_the_request(chat: Chat) -> None:
    chat.say("alice", "je voudrais la salle de réunion demain 14h-16h")
    [dropped] = chat.say("alice", "non")
    assert dropped.text == "D'accord, j'abandonne cette demande."
    [answer] = chat.say("alice", "oui")
    assert "Réserv" not in answer.text
    assert bookings(chat) == []


def test_typing_yes_confirms_and_the_request_is_closed(chat: Chat) -> None:
    chat.say("alice", "je voudrais la salle de réunion demain 14h-16h")
    assert text_of(chat.say("alice", "oui")).startswith("Réservé")
    chat.say("alice", "oui")
    assert len(bookings(chat)) == 1, "a second yes does not book twice"


def test_a_reading_request_is_answered_at_once_with_its_command(chat: Chat) -> None:
    answer = chat.text("alice", "dispo demain aprem ?")
    assert answer.startswith("Libre mardi 24 novembre, 14:00–18:00")
    assert answer.endswith("Commande : /free 2026-11-24 14:00-18:00")


def test_english_sentences_get_english_answers(chat: Chat) -> None:
    chat.say("bob", "/lang en")
    [reply] = chat.say("bob", "I'd like to book the meeting room tomorrow 2pm-4pm")
    assert reply.text == ("Book Salle de réunion, Tuesday 24 November, 14:00–16:00?\n"
                          "Command: /book salle-reunion 2026-11-24 14:00-16:00")


def test_a_reminder_in_words_is_confirmed_then_kept(chat: Chat) -> None:
    [reply] = chat.say("alice", "rappelle-moi vendredi à midi d'appeler Paul")
    assert reply.text.startswith("Vous rappeler le vendredi 27 novembre, 12:00 : appeler Paul ?")
    chat.press("alice", "Oui")
    with Session(chat.app.engine) as session:
        [reminder] = session.exec(select(Reminder)).all()
    assert reminder.text == "appeler Paul" and reminder.due_at == datetime(2026, 11, 27, 11, tzinfo=UTC)


def test_event_titles_match_loosely_and_several_matches_give_a_choice(chat: Chat) -> None:
    chat.say("coord", '/event add "Atelier vélo" samedi 14h-17h places 10')
    chat.say("coord", '/event add "Atelier couture" mercredi 18h-20h places 8')
    [confirm] = chat.say("alice", "inscris moi a l'atelier velo stp")
    assert confirm.text.startswith("Vous inscrire à Atelier vélo, samedi 28 novembre, 14:00 ?")
    [choice] = chat.say("alice", "inscris-moi à l'atelier")
    assert [a.command for a in choice.actions] == ["/join 2", "/join 1"]
    assert "/join 1" in choice.text, "each choice shows its command"


def test_in_a_group_a_sentence_is_read_only_when_it_is_addressed_to_the_bot(chat: Chat) -> None:
    assert group_say(chat, "alice", "je voudrais la salle de réunion demain 14h-16h") == []
    [reply] = group_say(chat, "alice", "je voudrais la salle de réunion demain 14h-16h", mentions=True)
    assert reply.text.startswith("Réserver Salle de réunion")


def test_a_typed_number_presses_a_choice_only_for_the_member_it_was_offered_to(chat: Chat) -> None:
    group_say(chat, "alice", "je voudrais la salle de réunion demain 14h-16h", mentions=True)
    assert group_say(chat, "bob", "1", reply=True) == [], "another member's number is ignored"
    assert group_say(chat, "alice", "1") == [], "not a reply to the bot: ignored"
    assert bookings(chat) == []
    [done] = group_say(chat, "alice", "1", reply=True)
    assert done.text.startswith("Réservé")
    assert len(bookings(chat)) == 1


def test_a_typed_number_in_private_presses_and_expires(chat: Chat) -> None:
    chat.say("alice", "je voudrais la salle de réunion demain 14h-16h")
    chat.clock.advance(minutes=6)
    [stale] = chat.say("alice", "1")
    assert stale.text.startswith("Aucun choix n° 1 ne vous attend.")
    assert bookings(chat) == []


def test_a_typed_number_that_would_cancel_asks_once(chat: Chat) -> None:
    chat.say("alice", "/book petite-salle demain 9h-10h")
    chat.say("alice", "/mybookings")
    [sure] = chat.say("alice", "1")
    assert sure.text == "Sûr·e ? « Annuler n° 1 » lance /cancel 1"
    assert len(active_bookings(chat)) == 1
    [done] = chat.say("alice", "1")
    assert done.text.startswith("Annulé")
    assert active_bookings(chat) == []


def test_a_cancellation_in_words_names_the_booking_and_waits_for_yes(chat: Chat) -> None:
    chat.say("alice", "/book petite-salle jeudi 14h-16h")
    chat.say("alice", "/book salle-reunion vendredi 10h-12h")
    [confirm] = chat.say("alice", "annule ma resa de jeudi")
    assert confirm.text.startswith("Annuler votre réservation : Petite salle, jeudi 26 novembre, 14:00–16:00 (n° 1) ?")
    assert len(active_bookings(chat)) == 2
    chat.press("alice", "Oui")
    assert [b.id for b in active_bookings(chat)] == [2]


def test_the_conversation_is_kept_per_member_and_chat(chat: Chat) -> None:
    chat.say("alice", "je voudrais la petite salle demain")
    chat.say("bob", "je voudrais la salle de réunion jeudi")
    [alice] = chat.say("alice", "14h-16h")
    assert alice.text.startswith("Réserver Petite salle, mardi 24 novembre")
    with Session(chat.app.engine) as session:
        rows = session.exec(select(ConversationState)).all()
    assert {(r.chat_id, r.member_id) for r in rows} == {("alice", 1), ("bob", 2)}


def test_conversations_no_longer_usable_are_forgotten_by_the_daily_job(chat: Chat) -> None:
    from storage.conversation import forget_expired

    chat.say("alice", "je voudrais la petite salle demain")
    chat.clock.advance(minutes=30)
    chat.say("bob", "je voudrais la salle de réunion jeudi")
    with Session(chat.app.engine) as session:
        assert forget_expired(session, chat.clock.now, grace=timedelta(minutes=15)) == 1
        session.commit()
        [left] = session.exec(select(ConversationState)).all()
    assert left.chat_id == "bob", "a conversation still in progress is kept"


def test_a_typed_number_answers_a_question_like_its_button(chat: Chat) -> None:
    chat.say("alice", "je voudrais réserver une salle demain")
    [hours] = chat.say("alice", "1")
    assert hours.text == "À quelle heure ? (ex. 14h-16h)"
    [confirm] = chat.say("alice", "de 9 à 11")
    assert confirm.text.startswith("Réserver Petite salle, mardi 24 novembre, 09:00–11:00 ?")
    [dropped] = chat.say("alice", "3")
    assert dropped.text == "D'accord, j'abandonne cette demande."
    assert bookings(chat) == []


def test_a_question_in_a_group_mentioning_the_bot_is_answered_at_once(chat: Chat) -> None:
    chat.say("coord", "/rota add ouverture sam 09:00-10:00 1")
    [answer] = group_say(chat, "alice", "qui ouvre samedi ?", mentions=True)
    assert answer.text.startswith("samedi 28 novembre, ouverture 09:00–10:00")
    assert answer.text.endswith("Commande : /whoopens 2026-11-28")


def test_the_confirmation_of_a_typed_cancel_takes_yes_or_no_in_words(chat: Chat) -> None:
    chat.say("alice", "/book petite-salle demain 9h-10h")
    chat.say("alice", "/mybookings")
    chat.say("alice", "1")
    [kept] = chat.say("alice", "non")
    assert kept.text == "D'accord, j'abandonne cette demande."
    assert len(active_bookings(chat)) == 1
    chat.say("alice", "/mybookings")
    chat.say("alice", "1")
    assert text_of(chat.say("alice", "oui")).startswith("Annulé")
    assert active_bookings(chat) == []


def test_changing_the_day_of_logged_hours_offers_days_gone(chat: Chat) -> None:
    chat.say("alice", "j'ai fait 2h de tri hier")
    press(chat, "alice", "Changer")
    [day] = press(chat, "alice", "Le jour")
    assert [(a.label, a.command) for a in day.actions] == [
        ("Aujourd'hui", "2026-11-23"), ("Hier", "2026-11-22"), ("samedi 21 novembre", "2026-11-21")]
    [confirm] = press(chat, "alice", "samedi")
    assert confirm.text.startswith("Noter 2h de bénévolat, samedi 21 novembre : tri ?")


def test_a_moment_that_cannot_be_is_asked_again_with_the_reason(chat: Chat) -> None:
    [asked] = chat.say("alice", "réserver la salle de réunion le 31 février 14h-16h")
    assert asked.text.startswith("Cette date n'existe pas.\n")
    [past] = chat.say("alice", "rappelle-moi hier de dormir")
    assert past.text.startswith("Ce moment est déjà passé.\nQuand dois-je vous le rappeler ?")
    [which] = chat.say("alice", "je voudrais réserver la salle de réunion lundi 25/12 à 10h")
    assert which.text.startswith("Le 25 décembre est un vendredi, pas un lundi : quel jour voulez-vous dire ?\n")
    assert [a.label for a in which.actions] == ["lundi 21 décembre", "vendredi 25 décembre", "lundi 28 décembre"]
    assert bookings(chat) == []


def test_reminders_in_words_across_both_clock_changes(chat: Chat) -> None:
    chat.clock.now = datetime(2026, 10, 20, 9, tzinfo=UTC)  # a Tuesday before the autumn change
    [twice] = chat.say("alice", "rappelle-moi dimanche à 2h30 de vérifier l'alarme")
    assert twice.text.startswith("Je ne suis pas sûr du jour ou de l'heure"), "02:30 happens twice that night"
    chat.say("alice", "non")
    chat.say("alice", "rappelle-moi dimanche à 14h de vérifier l'alarme")
    press(chat, "alice", "Oui")
    chat.clock.now = datetime(2027, 3, 23, 9, tzinfo=UTC)  # a Tuesday before the spring change
    [skipped] = chat.say("alice", "rappelle-moi dimanche à 2h30 de vérifier l'alarme")
    assert skipped.text.startswith("Cette heure n'existe pas ce jour-là")
    chat.say("alice", "non")
    chat.say("alice", "rappelle-moi dimanche à 14h de vérifier l'alarme")
    press(chat, "alice", "Oui")
    with Session(chat.app.engine) as session:
        due = sorted(r.due_at for r in session.exec(select(Reminder)).all())
    assert due == [datetime(2026, 10, 25, 13, tzinfo=UTC), datetime(2027, 3, 28, 12, tzinfo=UTC)]


def test_a_second_hours_sentence_while_the_first_waits_is_its_own_entry_not_a_change_of_the_first(
    chat: Chat,
) -> None:
    [first] = chat.say("alice", "j'ai aidé au repair café samedi dernier de 14h à 17h")
    assert "Commande : /task 3h repair café 2026-11-21" in first.text
    [second] = chat.say("alice", "j'ai fait le bar hier soir de 19h à 23h30")
    assert "Commande : /task 4h30 bar 2026-11-22" in second.text


def test_hours_typed_as_a_range_log_the_range_length(chat: Chat) -> None:
    answer = chat.text("alice", "/tache 14h-17h repair café samedi")
    assert "3h repair café" in answer and "samedi 21 novembre" in answer
    answer = chat.text("alice", "/tache de 19h à 1h bar hier")
    assert "6h bar" in answer and "dimanche 22 novembre" in answer


def test_saying_you_come_to_an_event_you_are_signed_up_for_is_answered_not_asked_again(chat: Chat) -> None:
    chat.say("coord", '/event add "Repair café" samedi 14h-17h 1 place')
    [asked] = chat.say("alice", "je viens au repair café samedi")
    assert asked.text.startswith("Vous inscrire à Repair café, samedi 28 novembre, 14:00 ?")
    assert "Vous êtes inscrit·e à « Repair café »" in text_of(press(chat, "alice", "Oui"))
    [said] = chat.say("alice", "je viens au repair café samedi")
    assert said.text == "Vous êtes déjà inscrit·e à Repair café, samedi 28 novembre, 14:00." and not said.actions
    chat.say("bob", "/join 1")  # full: Bob waits
    [waiting] = chat.say("bob", "je viens au repair café")
    assert waiting.text == "Vous êtes déjà sur la liste d'attente de Repair café, samedi 28 novembre, 14:00."


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)), st.integers(0, 6))
def test_the_days_offered_for_a_weekday_and_a_date_that_disagree(dated: date, weekday: int) -> None:
    before, same, after = date_or_weekday(dated, weekday)
    assert same == dated
    assert before.weekday() == after.weekday() == weekday
    assert timedelta(days=1) <= dated - before <= timedelta(days=7)
    assert timedelta(days=1) <= after - dated <= timedelta(days=7)
