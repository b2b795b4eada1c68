"""Reminders fire once, at the right local time, across clock changes and restarts."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.leadership import Leadership
from bot.core.outbox import reply_from_json
from storage.db import make_engine
from tests.harness import Chat, make_chat


def sent(chat: Chat) -> list[tuple[str, str]]:
    return [(m.chat_id, reply_from_json(m.payload).text) for m in chat.outbox()]


def run_reminders(chat: Chat) -> int:
    return chat.app.jobs.run_now("send-reminders")


def test_booking_reminder_comes_30_minutes_before_once_with_buttons(chat: Chat) -> None:
    chat.say("alice", "/book salle-reunion demain 14h-16h")
    chat.clock.now = datetime(2026, 11, 24, 12, 29, tzinfo=UTC)  # 13:29 in Paris
    assert run_reminders(chat) == 0
    chat.clock.advance(minutes=1)
    assert run_reminders(chat) == 1
    assert run_reminders(chat) == 0
    [message] = chat.outbox()
    reply = reply_from_json(message.payload)
    assert reply.text == "Rappel : vous avez réservé Salle de réunion, mardi 24 novembre, 14:00–16:00."
    assert [a.label for a in reply.actions] == ["Repousser de 10 min", "Annuler la réservation"]


def test_cancelled_booking_sends_no_reminder(chat: Chat) -> None:
    chat.say("alice", "/book salle-reunion demain 14h-16h")
    chat.say("alice", "/cancel 1")
    chat.clock.now = datetime(2026, 11, 24, 12, 45, tzinfo=UTC)
    assert run_reminders(chat) == 0 and chat.outbox() == []


def test_member_chooses_an_hour_before_or_no_booking_reminder(chat: Chat) -> None:
    """Both databases: PostgreSQL writes the booking and its reminder with the COMMIT, from the lead it read."""
    chat.say("alice", "/rappels reservation 60")
    chat.say("alice", "/book salle-reunion demain 14h-16h")
    chat.clock.now = datetime(2026, 11, 24, 11, 59, tzinfo=UTC)  # 12:59 Paris: not yet
    assert run_reminders(chat) == 0
    chat.clock.now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # 13:00 Paris
    assert run_reminders(chat) == 1
    chat.say("bob", "/reminders booking off")
    chat.say("bob", "/book petite-salle 2026-11-25 14h-16h")
    chat.clock.now = datetime(2026, 11, 25, 12, 59, tzinfo=UTC)
    assert run_reminders(chat) == 0


def test_reminder_keeps_local_time_across_the_autumn_clock_change(sqlite_chat: Chat) -> None:
    sqlite_chat.clock.now = datetime(2026, 10, 22, 8, 0, tzinfo=UTC)  # Thursday, summer time
    sqlite_chat.say("alice", "/book salle-reunion lundi 10h-11h")  # Monday 26 Oct, winter time
    sqlite_chat.clock.now = datetime(2026, 10, 26, 8, 29, tzinfo=UTC)  # 09:29 Paris (UTC+1)
    assert run_reminders(sqlite_chat) == 0
    sqlite_chat.clock.now = datetime(2026, 10, 26, 8, 30, tzinfo=UTC)  # 09:30 Paris
    assert run_reminders(sqlite_chat) == 1


def test_after_a_restart_a_late_reminder_goes_out_if_still_useful_and_is_dropped_otherwise(sqlite_url: str) -> None:
    chat = make_chat(sqlite_url)
    chat.say("alice", "/book salle-reunion demain 14h-16h")
    chat.say("bob", "/book petite-salle demain 11h-12h")
    chat.app.engine.dispose()
    # The bot was down from 10:00 to 13:45 Paris: Bob's booking has started, Alice's has not.
    restarted = make_chat(sqlite_url, now=datetime(2026, 11, 24, 12, 45, tzinfo=UTC))
    assert restarted.app.jobs.run_now("send-reminders") == 1
    assert [chat_id for chat_id, _ in sent(restarted)] == ["alice"]
    restarted.app.engine.dispose()


def test_two_processes_sending_due_reminders_at_once_send_each_once(database_url: str) -> None:
    chat = make_chat(database_url)
    for n in range(10):
        space = "open-space" if n < 8 else "imprimante-3d"
        assert chat.text(f"m{n}", f"/book {space} demain 10h-11h").startswith("Réservé")
    later = datetime(2026, 11, 24, 8, 35, tzinfo=UTC)  # 09:35 Paris: ten reminders due, none too late
    first, second = make_chat(database_url, now=later, seed=False), make_chat(database_url, now=later, seed=False)
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def run(other: Chat) -> None:
        barrier.wait()
        counts.append(other.app.jobs.run_now("send-reminders"))

    threads = [threading.Thread(target=run, args=(c,)) for c in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 10
    assert len(chat.outbox()) == 10
    for c in (chat, first, second):
        c.app.engine.dispose()


def test_only_one_process_holds_the_scheduler(database_url: str) -> None:
    engines = [make_engine(database_url), make_engine(database_url)]
    first, second = Leadership(engines[0]), Leadership(engines[1])
    try:
        assert first.acquire() is True
        assert second.acquire() is False
        first.release()
        assert second.acquire() is True
    finally:
        first.release()
        second.release()
        for engine in engines:
            engine.dispose()


def test_personal_reminder_is_understood_listed_snoozed_and_cancelled(sqlite_chat: Chat) -> None:
    answer = sqlite_chat.text("alice", "/rappel demain 9h appeler la mairie")
    assert answer == "Je vous le rappellerai le mardi 24 novembre, 09:00 : appeler la mairie"
    assert "appeler la mairie" in sqlite_chat.text("alice", "/rappels")
    sqlite_chat.clock.now = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert sqlite_chat.app.jobs.run_now("send-reminders") == 1
    assert sent(sqlite_chat) == [("alice", "Rappel : appeler la mairie")]
    assert "mairie" not in sqlite_chat.text("bob", "/rappels"), "a member sees only their own"
    assert "pas le vôtre" in sqlite_chat.text("bob", "/snooze 1 10")
    assert sqlite_chat.text("alice", "/snooze 1 10") == "D'accord, je vous le rappellerai à 09:10."
    sqlite_chat.clock.advance(minutes=10)
    assert sqlite_chat.app.jobs.run_now("send-reminders") == 1
    sqlite_chat.say("alice", "/rappel dans 20 min relancer le devis")
    assert sqlite_chat.text("alice", "/rappels annuler 3") == "Rappel n° 3 annulé."
    sqlite_chat.clock.advance(minutes=30)
    assert sqlite_chat.app.jobs.run_now("send-reminders") == 0


def test_reminder_requests_that_make_no_sense_are_explained(sqlite_chat: Chat) -> None:
    assert "De quoi dois-je vous faire penser" in sqlite_chat.text("alice", "/rappel demain 9h")
    assert "Ce moment est déjà passé" in sqlite_chat.text("alice", "/rappel 2026-11-01 9h payer")
    assert "Cette date n'existe pas" in sqlite_chat.text("alice", "/rappel 31/02 9h payer")


def test_weekly_schedule_fires_monday_8am_local_on_both_sides_of_the_clock_changes() -> None:
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    trigger = CronTrigger(day_of_week="mon", hour=8, minute=0, timezone=paris)
    for start in (datetime(2026, 10, 13, tzinfo=paris), datetime(2027, 3, 16, tzinfo=paris)):
        fires, moment = [], start
        for _ in range(3):
            moment = trigger.get_next_fire_time(None, moment + timedelta(seconds=1))
            fires.append(moment)
        assert [(f.weekday(), f.hour, f.minute) for f in fires] == [(0, 8, 0)] * 3
        assert len({f.utcoffset() for f in fires}) == 2, "the offset changes, the local time doesn't"


def test_due_lead_picks_the_shortest_reminder_whose_time_has_come() -> None:
    from storage.reminders import due_lead

    start = datetime(2026, 12, 5, 14, tzinfo=UTC)
    leads = (timedelta(hours=24), timedelta(hours=1))
    long_ago = start - timedelta(days=3)
    assert due_lead(start, start - timedelta(hours=30), long_ago, leads) is None
    assert due_lead(start, start - timedelta(hours=23), long_ago, leads) == timedelta(hours=24)
    assert due_lead(start, start - timedelta(minutes=30), long_ago, leads) == timedelta(hours=1)
    assert due_lead(start, start, long_ago, leads) is None
    joined_late = start - timedelta(hours=10)
    assert due_lead(start, start - timedelta(hours=5), joined_late, leads) is None, "no late 'tomorrow' reminder"
    assert due_lead(start, start - timedelta(minutes=59), joined_late, leads) == timedelta(hours=1)


@settings(max_examples=300, deadline=None)
@given(st.integers(-3000, 3000), st.integers(-5000, 3000))
def test_a_due_lead_is_always_between_its_time_and_the_start(minutes_before: int, joined_minutes_before: int) -> None:
    from storage.reminders import due_lead

    start = datetime(2026, 12, 5, 14, tzinfo=UTC)
    leads = (timedelta(hours=24), timedelta(hours=1))
    now, joined = start - timedelta(minutes=minutes_before), start - timedelta(minutes=joined_minutes_before)
    lead = due_lead(start, now, joined, leads)
    if lead is not None:
        assert lead in leads and start - lead <= now < start and joined <= start - lead
    elif 0 < minutes_before <= 60 and joined_minutes_before >= 60:
        raise AssertionError("the one-hour reminder was due")


def test_event_reminders_come_a_day_and_an_hour_before_with_a_way_to_give_the_place_back(chat: Chat) -> None:
    chat.say("coord", '/event add "Repair café" 2026-11-28 14h-18h places 1')
    chat.say("bob", "/join 1")
    chat.say("carol", "/join 1")  # waiting list
    chat.clock.now = datetime(2026, 11, 27, 12, 59, tzinfo=UTC)  # 13:59 the day before
    assert chat.app.jobs.run_now("event-reminders") == 0
    chat.clock.advance(minutes=1)
    assert chat.app.jobs.run_now("event-reminders") == 1
    assert chat.app.jobs.run_now("event-reminders") == 0
    [message] = [m for m in chat.outbox() if m.dedup_key and m.dedup_key.startswith("event-reminder")]
    reply = reply_from_json(message.payload)
    assert (message.chat_id, reply.text) == ("bob", "Rappel : « Repair café », samedi 28 novembre, 14:00–18:00.")
    assert [a.command for a in reply.actions][1] == "/leave 1"
    chat.clock.now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # 13:00, an hour before
    assert chat.app.jobs.run_now("event-reminders") == 1
    chat.say("bob", "/leave 1")  # "I can't come": carol, first on the waiting list, gets the place
    chat.clock.advance(minutes=10)
    assert chat.app.jobs.run_now("event-reminders") == 1
    assert chat.outbox()[-1].chat_id == "carol"


def test_shift_reminder_comes_a_day_before_and_offers_to_drop_it(sqlite_chat: Chat) -> None:
    sqlite_chat.say("coord", '/need "Tenir le bar" 2026-11-28 18h-22h 2')
    sqlite_chat.say("alice", "/take 1")
    sqlite_chat.say("bob", "/rappels creneaux off")
    sqlite_chat.say("bob", "/take 1")
    sqlite_chat.clock.now = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)  # 18:00 the day before
    assert sqlite_chat.app.jobs.run_now("shift-reminders") == 1
    assert sqlite_chat.app.jobs.run_now("shift-reminders") == 0
    [message] = sqlite_chat.outbox()
    reply = reply_from_json(message.payload)
    assert message.chat_id == "alice"
    assert reply.text == "Rappel : vous êtes bénévole pour « Tenir le bar », samedi 28 novembre, 18:00–22:00."
    assert reply.actions[1].command == "/drop 1"


def test_the_moment_is_read_wherever_it_stands_in_the_reminder(sqlite_chat: Chat) -> None:
    # Monday 23 November 2026, 10:00 in Paris.
    assert sqlite_chat.text("alice", "/rappel vendredi midi déjeuner avec Paul") == (
        "Je vous le rappellerai le vendredi 27 novembre, 12:00 : déjeuner avec Paul")
    assert sqlite_chat.text("alice", "/rappel dans une heure sortir le linge") == (
        "Je vous le rappellerai le lundi 23 novembre, 11:00 : sortir le linge")
    assert sqlite_chat.text("alice", "/rappel le 15 à 10h payer le loyer") == (
        "Je vous le rappellerai le mardi 15 décembre, 10:00 : payer le loyer")
    assert sqlite_chat.text("alice", "/remind call the plumber tomorrow at 2pm") == (
        "Je vous le rappellerai le mardi 24 novembre, 14:00 : call the plumber")


def test_a_day_without_an_hour_is_asked_about_with_buttons_never_set_at_nine(sqlite_chat: Chat) -> None:
    answer = sqlite_chat.text("alice", "/rappel demain appeler la mairie")
    assert answer == "À quelle heure, mardi 24 novembre, dois-je vous le rappeler : appeler la mairie ?"
    assert [a.label for a in sqlite_chat.last_actions["alice"]] == ["09:00", "12:00", "18:00"]
    assert "appeler la mairie" not in sqlite_chat.text("alice", "/rappels"), "nothing stored before the answer"
    sqlite_chat.say("alice", "/rappel demain appeler la mairie")
    [reply] = sqlite_chat.press("alice", "12:00")
    assert reply.text == "Je vous le rappellerai le mardi 24 novembre, 12:00 : appeler la mairie"
    sqlite_chat.say("alice", "/rappel demain soir sortir les poubelles")
    assert [a.label for a in sqlite_chat.last_actions["alice"]] == ["18:00", "19:00", "20:00"]


def test_a_reminder_that_still_names_a_moment_is_asked_about_not_stored(sqlite_chat: Chat) -> None:
    answer = sqlite_chat.text("alice", "/rappel demain 9h préparer la réunion de jeudi")
    assert answer.startswith("Votre message contient plusieurs jours ou heures.")
    assert [a.command for a in sqlite_chat.last_actions["alice"]] == [
        '/remind 2026-11-24 09:00 "préparer la réunion de jeudi"',
        '/remind 2026-11-26 "demain 9h préparer la réunion"',
    ]
    [reply] = sqlite_chat.press("alice", "mardi")
    assert reply.text == "Je vous le rappellerai le mardi 24 novembre, 09:00 : préparer la réunion de jeudi"
    assert "Je ne suis pas sûr" in sqlite_chat.text("alice", "/rappel demain à 14 appeler Paul")
    assert "ressemblent encore" in sqlite_chat.text("alice", "/rappel demain 9h appeler Paul vers 14")
    assert "ressemblent encore" not in sqlite_chat.text("alice", '/rappel demain 14h "appeler Paul à 15"')
    assert "14:00" in sqlite_chat.text("alice", "/rappels")
    assert "appeler Paul à 15" in sqlite_chat.text("alice", "/rappels")
    assert "Je ne suis pas sûr" in sqlite_chat.text("alice", "/rappel samedi matin 15h ranger")
    assert "2000 et 2100" in sqlite_chat.text("alice", "/rappel 0001-01-01 10h payer")


def test_the_hours_offered_are_only_those_still_to_come(sqlite_chat: Chat) -> None:
    sqlite_chat.clock.now = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)  # 19:30 in Paris
    sqlite_chat.say("alice", "/rappel ce soir sortir les poubelles")
    assert [a.label for a in sqlite_chat.last_actions["alice"]] == ["20:00"]
    assert "déjà passé" in sqlite_chat.text("alice", "/rappel hier appeler Paul")
    assert "déjà passé" in sqlite_chat.text("alice", "/rappel ce matin appeler Paul")


def test_the_words_of_a_spoken_reminder_lose_their_de(sqlite_chat: Chat) -> None:
    assert sqlite_chat.text("alice", "/rappel demain 9h de sortir les poubelles") == (
        "Je vous le rappellerai le mardi 24 novembre, 09:00 : sortir les poubelles")
    assert sqlite_chat.text("alice", "/rappel vendredi à midi d'appeler Paul") == (
        "Je vous le rappellerai le vendredi 27 novembre, 12:00 : appeler Paul")
    assert sqlite_chat.text("alice", "/rappel le 15 à 10h payer 2h de parking") == (
        "Je vous le rappellerai le mardi 15 décembre, 10:00 : payer 2h de parking")


def test_an_hour_already_gone_today_is_offered_for_tomorrow_in_the_members_language(sqlite_chat: Chat) -> None:
    assert sqlite_chat.text("alice", "/rappel 9h appeler la banque") == (
        "09:00 est déjà passé aujourd'hui. Demain à 09:00 ?")
    [reply] = sqlite_chat.press("alice", "Demain à 09:00")
    assert reply.text == "Je vous le rappellerai le mardi 24 novembre, 09:00 : appeler la banque"
    english = sqlite_chat.text("bob", "/remind friday noon lunch with Paul", lang="en")
    assert english == "I'll remind you on Friday 27 November, 12:00: lunch with Paul"
    assert sqlite_chat.text("bob", "/remind tomorrow call the bank", lang="en") == (
        "At what time on Tuesday 24 November should I remind you: call the bank?")
