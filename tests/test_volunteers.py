"""Volunteers through the chat, on SQLite and PostgreSQL: the hour log, projects, shifts taken and given
back, the rota and who opens, the once-only alert for uncovered shifts. Now is Monday 23 November 2026,
10:00 in Paris."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, select

from bot.core.outbox import enqueue, reply_from_json
from bot.core.types import Notice, Platform
from handlers.volunteers import alert_uncovered_shifts, ask_shift_confirmations
from storage.db import session_scope
from storage.models import Member
from storage.models_volunteers import Shift, ShiftSignup, TaskEntry
from tests.harness import Chat, make_chat


def entries(chat: Chat) -> list[TaskEntry]:
    with Session(chat.app.engine) as session:
        return list(session.exec(select(TaskEntry).order_by(TaskEntry.id)))  # type: ignore[arg-type]


def signups(chat: Chat, shift_id: int) -> list[str]:
    with Session(chat.app.engine) as session:
        rows = session.exec(select(Member.display_name).join(ShiftSignup, ShiftSignup.member_id == Member.id)
                            .where(ShiftSignup.shift_id == shift_id).order_by(ShiftSignup.id))  # type: ignore[arg-type]
        return list(rows)


def messages(chat: Chat) -> list[tuple[str, str]]:
    """(chat id, text) of every message the bot started itself."""
    return [(m.chat_id, json.loads(m.payload)["text"]) for m in chat.outbox()]


def run_job(chat: Chat, job: object) -> list[Notice]:
    with session_scope(chat.app.engine) as session:
        notices: list[Notice] = job(session, chat.clock.now, chat.app.settings)  # type: ignore[operator]
        enqueue(session, notices, chat.clock.now)
    return notices


# --- The hour log ---------------------------------------------------------------------------------------


def test_logging_time_with_a_project_and_a_day_in_french(chat: Chat) -> None:
    [reply] = chat.say("alice", "/tache 2h30 tri des dons #Ressourcerie")
    assert reply.text == ("C'est noté, merci : #1 lundi 23 novembre — 2h30 tri des dons #ressourcerie.\n"
                          "Vos heures ce mois-ci : 2h30.")
    assert [(a.label, a.command) for a in reply.actions] == [("Supprimer", "/task delete 1")]
    assert chat.text("alice", "/tache 45min compta hier").startswith(
        "C'est noté, merci : #2 dimanche 22 novembre — 45 min compta.\nVos heures ce mois-ci : 3h15.")
    assert "#3 vendredi 20 novembre — 1h30 atelier vélo #repair" in chat.text(
        "alice", "/task 1,5h atelier vélo #repair 2026-11-20")
    assert "#4 lundi 16 novembre — 1h accueil" in chat.text("alice", "/task 1 hour accueil last monday")
    assert [(e.minutes, e.day, e.description) for e in entries(chat)] == [
        (150, date(2026, 11, 23), "tri des dons"), (45, date(2026, 11, 22), "compta"),
        (90, date(2026, 11, 20), "atelier vélo"), (60, date(2026, 11, 16), "accueil")]


def test_a_weekday_or_a_date_without_year_is_the_last_one_past(chat: Chat) -> None:
    chat.clock.now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # Thursday
    chat.say("alice", "/task 2h permanence lundi")
    chat.say("alice", "/task 2h inventaire jeudi")
    chat.say("alice", "/task 2h bilan 20/10")
    # Eleven months back is more likely a slip than the last 20 December: the year is asked for.
    assert "Je ne suis pas sûr du jour" in chat.text("alice", "/task 2h bilan 20/12")
    chat.say("alice", "/task 2h bilan 20/12/2025")
    assert [e.day for e in entries(chat)] == [date(2026, 11, 23), date(2026, 11, 26), date(2026, 10, 20),
                                              date(2025, 12, 20)]


def test_future_days_zero_and_absurd_lengths_are_refused_and_nothing_is_written(chat: Chat) -> None:
    assert "pas encore arrivé" in chat.text("alice", "/task 2h tri demain")
    assert "pas encore arrivé" in chat.text("alice", "/task 2h tri 2026-12-01")
    assert "durée nulle" in chat.text("alice", "/task 0h tri")
    assert "plus de 24 heures" in chat.text("alice", "/task 30h tri")
    answer = chat.text("alice", "/task beaucoup de tri")
    assert answer == ("Je n'ai pas compris la durée. Écrivez-la comme 2h, 2h30, 1,5h ou 45min.\n"
                      "Exemple : /tache 2h30 tri des dons #ressourcerie")
    assert "Qu'avez-vous fait" in chat.text("alice", "/task 2h")
    assert "Un seul projet" in chat.text("alice", "/task 2h tri #a #b")
    assert entries(chat) == []


def test_tasks_shows_my_hours_by_project_and_not_other_peoples(chat: Chat) -> None:
    chat.say("alice", "/task 2h30 tri #ressourcerie")
    chat.say("alice", "/task 1h tri #ressourcerie hier")
    chat.say("alice", "/task 45min compta")
    chat.say("alice", "/task 3h bar #cafe 2026-10-31")  # last month
    chat.say("bob", "/task 5h bar #cafe")
    answer = chat.text("alice", "/taches")
    assert answer.splitlines()[:5] == [
        "Vos heures — novembre 2026", "• #ressourcerie: 3h30", "• (sans projet): 45 min", "Total : 4h15", ""]
    assert "Bob" not in answer and "#cafe" not in answer
    assert "#cafe: 3h" in chat.text("alice", "/tasks year")
    assert "Aucune heure" in chat.text("carol", "/tasks week")


def test_coordinators_see_everyones_hours_with_names_members_cannot(chat: Chat) -> None:
    chat.say("alice", "/task 2h tri #ressourcerie")
    chat.say("bob", "/task 3h tri #ressourcerie")
    chat.say("bob", "/task 1h bar #cafe")
    answer = chat.text("coord", "/taches tous mois")
    assert answer.splitlines() == [
        "Heures de bénévolat de tout le monde — novembre 2026",
        "• #ressourcerie: 5h (2 bénévoles)", "• #cafe: 1h (1 bénévole)", "Total : 6h par 2 bénévoles", "",
        "Par bénévole :", "• Bob: 4h", "• Alice: 2h"]
    assert "Seul·e un·e coordinateur·rice" in chat.text("alice", "/tasks all month")


def test_members_correct_and_delete_only_their_own_entries(chat: Chat) -> None:
    chat.say("alice", "/task 2h tri")
    assert "n'est pas la vôtre" in chat.text("bob", "/task edit 1 5h")
    assert "n'est pas la vôtre" in chat.text("coord", "/task delete 1")
    assert chat.text("alice", "/tache modifier 1 1h30 #ressourcerie hier") == (
        "Corrigé : #1 dimanche 22 novembre — 1h30 tri #ressourcerie.")
    assert chat.text("alice", "/task edit 1 tri des vêtements") == (
        "Corrigé : #1 dimanche 22 novembre — 1h30 tri des vêtements #ressourcerie.")
    assert "plus de 24 heures" in chat.text("alice", "/task edit 1 26h")
    [entry] = entries(chat)
    assert (entry.minutes, entry.description) == (90, "tri des vêtements")
    chat.say("alice", "/task 1h x")
    [reply] = chat.press("alice", "Supprimer")
    assert reply.text.startswith("Supprimé : #2") and reply.edit_original
    assert chat.text("alice", "/tache supprimer 1").startswith("Supprimé : #1")
    assert entries(chat) == []
    assert "pas d'entrée n° 1" in chat.text("alice", "/task delete 1")


def test_coordinators_rename_and_merge_projects(chat: Chat) -> None:
    chat.say("alice", "/task 2h tri #recyclerie")
    chat.say("bob", "/task 1h tri #ressourcerie")
    chat.say("bob", "/task 1h compta #compta")
    assert "Seul·e" in chat.text("alice", "/projet fusionner recyclerie ressourcerie")
    assert chat.text("coord", "/projet fusionner #recyclerie ressourcerie") == (
        "#recyclerie fusionné dans #ressourcerie (1 entrée déplacée).")
    assert "existe déjà" in chat.text("coord", "/project rename compta ressourcerie")
    assert chat.text("coord", "/project rename compta gestion") == "#compta s'appelle maintenant #gestion."
    assert chat.text("alice", "/projet").splitlines() == ["Projets", "• #ressourcerie: 3h", "• #gestion: 1h"]


# --- Shifts ---------------------------------------------------------------------------------------------


def test_a_coordinator_posts_a_need_and_volunteers_take_it_until_it_is_full(chat: Chat) -> None:
    assert "Seul·e" in chat.text("alice", '/besoin "Tenir le bar" samedi 18h-22h 2')
    [posted] = chat.say("coord", '/besoin "Tenir le bar" samedi 18h-22h 2 #cafe lieu cuisine')
    assert posted.text == ("Publié : #1 samedi 28 novembre, 18:00–22:00 — Tenir le bar (#cafe, Cuisine du café): 0/2. "
                           "Les bénévoles le prennent avec /prendre 1.")
    assert [a.command for a in posted.actions] == ["/take 1"]
    [taken] = chat.press("coord", "Je prends", presser="alice")
    assert taken.text.startswith("C'est noté, merci ! #1 samedi 28 novembre, 18:00–22:00 — Tenir le bar")
    assert [(a.label, a.command) for a in taken.actions] == [("Je ne peux plus venir", "/drop 1")]
    assert "déjà pris" in chat.text("alice", "/prendre 1")
    assert chat.text("bob", "/take 1").endswith("2/2 — Alice, Bob\nFinalement empêché·e ? /lacher 1")
    assert "déjà complet" in chat.text("carol", "/prendre 1")
    assert signups(chat, 1) == ["Alice", "Bob"]
    assert chat.text("carol", "/take ²").startswith("Quel créneau ? Donnez son numéro")
    assert "pas de créneau n° 99" in chat.text("carol", "/take 99")


def test_needs_are_refused_in_the_past_without_hours_or_with_silly_numbers(chat: Chat) -> None:
    assert "déjà passé" in chat.text("coord", '/need "Bar" 2026-11-22 18h-22h')
    assert "heure de début et une heure de fin" in chat.text("coord", '/need "Bar" samedi')
    assert "Entre 1 et 50 personnes" in chat.text("coord", '/need "Bar" samedi 18h-22h 80')
    assert "Je ne connais pas l'espace" in chat.text("coord", '/need "Bar" samedi 18h-22h lieu grenier')
    assert chat.text("coord", "/shifts").count("#") == 0


def test_dropping_a_shift_frees_the_place_and_tells_coordinators_and_the_group(chat: Chat) -> None:
    chat.say("coord", "/start")
    chat.say("coord", "/volunteers here", group="benevoles")
    chat.say("coord", '/need "Tenir le bar" samedi 18h-22h 1')
    chat.say("alice", "/take 1")
    before = len(chat.outbox())
    [reply] = chat.press("alice", "Je ne peux plus venir")
    assert reply.edit_original
    assert reply.text.startswith("C'est fait : vous n'êtes plus sur Tenir le bar, samedi 28 novembre, 18:00–22:00.")
    assert signups(chat, 1) == []
    told = messages(chat)[before:]
    assert ("coord", "Alice ne peut plus venir : #1 samedi 28 novembre, 18:00–22:00 — Tenir le bar: 0/1") in told
    assert ("benevoles", "Une place se libère, qui peut remplacer ? "
                         "#1 samedi 28 novembre, 18:00–22:00 — Tenir le bar: 0/1") in told
    assert len(told) == 2
    assert chat.text("bob", "/prendre 1").startswith("C'est noté"), "a stand-in takes it"
    assert "Vous n'avez pas pris le créneau 1" in chat.text("alice", "/drop 1")


def test_the_volunteers_group_is_chosen_in_a_group_and_hears_of_new_needs(chat: Chat) -> None:
    assert "pas en privé" in chat.text("coord", "/benevoles ici")
    assert "Seul·e" in chat.text("alice", "/volunteers here", group="benevoles")
    assert "Ce groupe sera prévenu" in chat.text("coord", "/benevoles ici", group="benevoles")
    chat.say("coord", '/need "Tri" jeudi 14h-16h 3')
    assert messages(chat) == [("benevoles", "On cherche des bénévoles : #1 jeudi 26 novembre, 14:00–16:00 — Tri: 0/3")]
    chat.say("coord", '/need "Tri" vendredi 14h-16h', group="benevoles")
    assert len(messages(chat)) == 1, "a need posted in the group itself is not announced twice"
    assert "ne sera plus prévenu" in chat.text("coord", "/volunteers off", group="benevoles")


def test_a_done_shift_becomes_logged_hours_confirmed_or_corrected(chat: Chat) -> None:
    chat.say("coord", '/need "Tenir le bar" samedi 18h-22h 2 #cafe')
    chat.say("alice", "/take 1")
    chat.say("bob", "/take 1")
    assert "pas encore fini" in chat.text("alice", "/shift done 1")
    chat.clock.now = datetime(2026, 11, 28, 21, 30, tzinfo=UTC)  # 22:30 in Paris, the shift is over
    assert run_job(chat, ask_shift_confirmations) != []
    assert "C'est fait ? Confirmez vos heures :" in chat.text("alice", "/creneaux")
    [reply] = chat.press("alice", "Confirmer 4h")
    assert reply.text == "C'est noté, merci : #1 samedi 28 novembre — 4h Tenir le bar #cafe."
    assert chat.text("bob", "/creneau fait 1 3h30") == (
        "C'est noté, merci : #2 samedi 28 novembre — 3h30 Tenir le bar #cafe.")
    assert "déjà dans vos heures (entrée 1)" in chat.text("alice", "/shift done 1")
    assert "Vous n'avez pas pris le créneau 1" in chat.text("carol", "/shift done 1")
    assert [(e.minutes, e.shift_id) for e in entries(chat)] == [(240, 1), (210, 1)]


def test_volunteers_are_asked_once_to_confirm_their_hours(chat: Chat) -> None:
    chat.say("coord", '/need "Accueil" demain 9h-12h')
    chat.say("alice", "/lang en")
    chat.say("alice", "/take 1")
    assert run_job(chat, ask_shift_confirmations) == [], "not before the end"
    chat.clock.now = datetime(2026, 11, 24, 11, 5, tzinfo=UTC)
    [notice] = run_job(chat, ask_shift_confirmations)
    assert notice.reply.text == ("Thank you for Accueil, Tuesday 24 November, 09:00–12:00! Shall I log 3h in your "
                                 "hours? Another length: /shift done 1 3h30")
    assert [(a.label, a.command) for a in notice.reply.actions] == [("Confirm 3h", "/shift done 1")]
    chat.clock.advance(minutes=15)
    assert run_job(chat, ask_shift_confirmations) == []


# --- The uncovered-shift alert --------------------------------------------------------------------------


def test_an_uncovered_shift_alerts_coordinators_and_the_group_once_not_every_hour(chat: Chat) -> None:
    chat.say("coord", "/start")
    chat.say("coord", "/volunteers here", group="benevoles")
    chat.say("coord", '/need "Tenir le bar" jeudi 18h-22h 2')   # Thursday 26, 18:00 Paris = 17:00 UTC
    chat.say("coord", '/need "Tri" jeudi 14h-16h 1')
    chat.say("alice", "/take 1")
    chat.say("bob", "/take 2")                                    # covered: never alerted
    before = len(chat.outbox())
    alerts = []
    for _ in range(4 * 60):  # every 15 minutes for 60 hours
        alerts.append(len(run_job(chat, alert_uncovered_shifts)))
        chat.clock.advance(minutes=15)
    assert sum(alerts) == 2, "one message to the coordinator, one to the group, once"
    first = next(i for i, n in enumerate(alerts) if n)
    assert datetime(2026, 11, 23, 9, 0, tzinfo=UTC) + timedelta(minutes=15 * first) == datetime(
        2026, 11, 24, 17, 0, tzinfo=UTC), "exactly 48 hours before the shift"
    told = messages(chat)[before:]
    assert told == [
        ("coord", "1 créneau des prochaines 48 heures cherche encore du monde :\n"
                  "#1 jeudi 26 novembre, 18:00–22:00 — Tenir le bar: 1/2 — Alice"),
        ("benevoles", "1 créneau des prochaines 48 heures cherche encore du monde :\n"
                      "#1 jeudi 26 novembre, 18:00–22:00 — Tenir le bar: 1/2 — Alice"),
    ]


def test_a_drop_inside_48_hours_counts_as_the_alert(chat: Chat) -> None:
    chat.say("coord", "/start")
    chat.say("coord", '/need "Tri" jeudi 14h-16h 1')
    chat.say("alice", "/take 1")
    chat.clock.now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    chat.say("alice", "/drop 1")
    assert run_job(chat, alert_uncovered_shifts) == []
    assert sum("ne peut plus venir" in text for _, text in messages(chat)) == 1


def test_rota_shifts_are_alerted_too_and_coordinators_from_settings_or_roles_hear_it(chat: Chat) -> None:
    chat.say("coord", "/rota add ouverture mer 08:30-09:30 1")
    chat.say("dana", "/start")
    with session_scope(chat.app.engine) as session:
        dana = session.exec(select(Member).where(Member.display_name == "Dana")).one()
        dana.is_coordinator = True
        dana.language = "en"
    chat.clock.now = datetime(2026, 11, 23, 7, 30, tzinfo=UTC) + timedelta(days=1)  # Tuesday 08:30
    notices = run_job(chat, alert_uncovered_shifts)
    texts = sorted(n.reply.text.splitlines()[0] for n in notices)
    assert texts == ["1 créneau des prochaines 48 heures cherche encore du monde :",
                     "1 shift in the next 48 hours still needs people:"]
    assert "#" in notices[0].reply.text and "ouverture" in notices[0].reply.text


# --- The rota -------------------------------------------------------------------------------------------


def test_the_rota_shows_the_week_with_its_gaps_and_who_opens(chat: Chat) -> None:
    assert "Seul·e" in chat.text("alice", "/rota add ouverture lun-ven 08:30-09:30 1")
    assert chat.text("coord", "/permanences ajouter ouverture lun-ven 08:30-09:30 1") == (
        "Ajouté aux permanences : #1 ouverture: lun.–ven. 08:30–09:30, 1 personne.\n"
        "19 créneaux créés pour les semaines à venir.")  # today's 08:30 is past; 4 weeks ahead
    for bad, answer in (("fermeture sam 17:30-18:30 deux", "Entre 1 et 50 personnes"),
                        ("fermeture sam 17:30-18:30 0", "Entre 1 et 50 personnes"),
                        ("fermeture xyz 17:30-18:30 1", "compris les jours"),
                        ("fermeture sam 18:30-17:30 1", "compris les heures"),
                        ("fermeture sam", "Donnez un nom, les jours")):
        assert answer in chat.text("coord", f"/rota add {bad}"), bad
    chat.say("coord", "/rota add fermeture sam 17:30-18:30 2")
    week = chat.text("alice", "/rota")
    assert week.splitlines()[:3] == ["Permanences du lundi 23 novembre au dimanche 29 novembre",
                                     "mardi 24 novembre", "  #1 ouverture 08:30–09:30: ⚠️ 1 place libre"]
    assert "5 créneaux cherchent encore du monde." in week
    [opens] = chat.say("bob", "/quiouvre")
    assert opens.text == "mardi 24 novembre, ouverture 08:30–09:30 : personne pour l'instant ! /prendre 1"
    chat.press("bob", "Je prends")
    assert chat.text("carol", "/whoopens") == "mardi 24 novembre, ouverture 08:30–09:30 : Bob."
    assert "#1 ouverture 08:30–09:30: Bob" in chat.text("alice", "/rota")
    assert chat.text("alice", "/quiouvre dimanche") == "Pas de permanence d'ouverture prévue le dimanche 29 novembre."
    assert "fermeture 17:30–18:30: ⚠️ 2 places libres" in chat.text("alice", "/rota prochaine")


def test_rota_shifts_keep_local_hours_across_the_october_clock_change(sqlite_chat: Chat) -> None:
    chat = sqlite_chat
    chat.clock.now = datetime(2026, 10, 21, 9, 0, tzinfo=UTC)  # Wednesday, summer time
    chat.say("coord", "/rota add ouverture lun-ven 08:30-09:30 1")
    with Session(chat.app.engine) as session:
        starts = {s.start.date(): s.start for s in session.exec(select(Shift))}
    assert starts[date(2026, 10, 23)] == datetime(2026, 10, 23, 6, 30, tzinfo=UTC)  # UTC+2
    assert starts[date(2026, 10, 26)] == datetime(2026, 10, 26, 7, 30, tzinfo=UTC)  # UTC+1
    assert "#4 ouverture 08:30–09:30" in chat.text("alice", "/rota 2026-10-26")


def test_removing_a_rota_line_cancels_its_coming_shifts_and_tells_who_took_them(chat: Chat) -> None:
    chat.say("coord", "/rota add fermeture sam 17:30-18:30 1")
    chat.say("alice", "/take 1")
    assert chat.text("coord", "/rota list") == "Permanences\n#1 fermeture: sam. 17:30–18:30, 1 personne"
    assert chat.text("coord", "/rota retirer 1").endswith("4 créneaux à venir annulés.")
    assert messages(chat) == [("alice", "Annulé par la coordination : fermeture, samedi 28 novembre, 17:30–18:30. "
                                        "Inutile de venir.")]
    assert "Aucune permanence" in chat.text("alice", "/rota")


def test_linking_two_accounts_keeps_hours_and_drops_a_duplicate_signup(database_url: str) -> None:
    chat = make_chat(database_url)
    try:
        chat.say("coord", '/need "Bar" samedi 18h-22h 3')
        chat.say("alice", "/task 2h tri")
        chat.say("alice", "/take 1")
        chat.say("alice-phone", "/take 1", platform=Platform.TELEGRAM)
        code = chat.text("alice", "/link").split("/link ")[1].split()[0]
        chat.say("alice-phone", f"/link {code}", platform=Platform.TELEGRAM)
        [confirm, _no] = reply_from_json(chat.outbox()[-1].payload).actions  # the first account confirms
        assert "liés" in chat.text("alice", confirm.command, is_action=True)
        assert signups(chat, 1) == ["Alice"]
        assert len(entries(chat)) == 1
        assert "1/3 — Alice" in chat.text("alice-phone", "/shifts", platform=Platform.TELEGRAM)
    finally:
        chat.app.engine.dispose()


def test_the_queries_reminders_and_the_digest_read(chat: Chat) -> None:
    """upcoming_shift_assignments (shift reminders), rota_with_gaps and open_needs (the digest)."""
    from storage.volunteers import materialise_rota, open_needs, rota_with_gaps, upcoming_shift_assignments

    chat.say("coord", "/rota add ouverture mar,mer 08:30-09:30 1")   # #1 Tue 24, #2 Wed 25, …
    need_id = chat.text("coord", '/need "Tri" mercredi 14h-16h 2').split()[2].lstrip("#")
    chat.say("alice", "/take 1")
    chat.say("bob", f"/take {need_id}")
    start, end = datetime(2026, 11, 23, 23, 0, tzinfo=UTC), datetime(2026, 11, 25, 23, 0, tzinfo=UTC)
    with session_scope(chat.app.engine) as session:
        assert materialise_rota(session, chat.clock.now, chat.app.settings.tz) == 0, "already there"
        assignments = [(view.title, view.start, member_id) for view, member_id in
                       upcoming_shift_assignments(session, start, end)]
        rota = [(v.title, v.start.date(), v.missing) for v in rota_with_gaps(session, start, end)]
        needs = [(v.title, v.missing) for v in open_needs(session, start, end)]
        names = {mid: name for mid, name in session.exec(select(Member.id, Member.display_name))}
    assert [(title, start.astimezone(chat.app.settings.tz).strftime("%a %H:%M"), names[mid])
            for title, start, mid in assignments] == [("ouverture", "Tue 08:30", "Alice"), ("Tri", "Wed 14:00", "Bob")]
    assert rota == [("ouverture", date(2026, 11, 24), 0), ("ouverture", date(2026, 11, 25), 1)]
    assert needs == [("ouverture", 1), ("Tri", 1)]


def test_the_scheduled_job_alerts_coordinators_once_about_an_uncovered_shift(sqlite_chat: Chat) -> None:
    sqlite_chat.say("coord", "/start")
    sqlite_chat.say("coord", '/need "Tenir le bar" 2026-11-28 18h-22h 2')
    first_alert = None
    while sqlite_chat.clock.now < datetime(2026, 11, 28, 16, 0, tzinfo=UTC):  # every 15 minutes until then
        if sqlite_chat.app.jobs.run_now("volunteer-shifts") and first_alert is None:
            first_alert = sqlite_chat.clock.now
        sqlite_chat.clock.advance(minutes=15)
    alerts = [m for m in sqlite_chat.outbox() if m.chat_id == "coord"]
    assert len(alerts) == 1
    assert first_alert == datetime(2026, 11, 26, 17, 0, tzinfo=UTC), "48 hours before 18:00 Paris"
