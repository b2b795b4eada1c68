"""Deciding together through the in-memory chat: polls, proposals with quorum and roles, date polls that
become events, deadlines on a frozen clock, linked accounts voting once, and votes kept private."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.core.outbox import reply_from_json
from bot.core.types import Platform
from storage import decisions as rules
from storage.models import Identity
from storage.models_decisions import DecisionOption
from storage.models_events import EventOccurrence, EventSignup
from tests.harness import Chat, make_chat

GROUP = "assemblee"
TG, MX = Platform.TELEGRAM, Platform.MATRIX


def notices_to(chat: Chat, chat_id: str) -> list[str]:
    return [reply_from_json(m.payload).text for m in chat.outbox() if m.chat_id == chat_id]


def test_a_poll_counts_one_vote_per_member_who_can_change_it(chat: Chat) -> None:
    created = chat.text("alice", '/sondage "Quel jour pour le rangement ?" "Samedi" "Dimanche"')
    assert "Sondage n° 1" in created and "1. Samedi: 0" in created
    chat.say("bob", "/voter 1 2")
    answer = chat.text("bob", "/voter 1 1")
    assert "Votre vote au n° 1 : Samedi." in answer and "remplace votre vote précédent" in answer
    chat.say("carol", "/vote 1 Dimanche", lang="en")
    listed = chat.text("dan", "/sondages")
    assert "1. Samedi: 1" in listed and "2. Dimanche: 1" in listed and "2 membres ont répondu" in listed
    assert "Un seul choix" in chat.text("dan", "/voter 1 1 2")
    assert "pas de choix « 7 »" in chat.text("dan", "/voter 1 7")


def test_a_poll_with_several_choices_keeps_exactly_the_ones_given(chat: Chat) -> None:
    chat.say("alice", '/sondage "Quoi pour l\'AG ?" "Crêpes" "Soupe" "Gâteau" plusieurs')
    chat.say("bob", "/voter 1 1 3")
    assert "1. Crêpes: 1" in chat.text("bob", "/sondages") and "3. Gâteau: 1" in chat.text("bob", "/sondages")
    chat.say("bob", "/voter 1 2")
    listed = chat.text("bob", "/sondages")
    assert "1. Crêpes: 0" in listed and "2. Soupe: 1" in listed and "3. Gâteau: 0" in listed


def test_only_the_author_or_a_coordinator_closes_a_poll_and_the_group_hears_the_result(chat: Chat) -> None:
    chat.say("alice", '/sondage "Couleur du mur ?" "Vert" "Bleu"', group=GROUP)
    chat.say("bob", "/voter 1 2")
    chat.say("carol", "/voter 1 2")
    assert "Seul·e son auteur·ice" in chat.text("bob", "/sondage fermer 1")
    closed = chat.text("alice", "/sondage fermer 1")  # privately: the group is told through the outbox
    assert "Résultat : Bleu." in closed and "Bleu: 2" in closed
    told = notices_to(chat, GROUP)
    assert len(told) == 1 and "Résultat : Bleu." in told[0]
    assert "est clos" in chat.text("bob", "/voter 1 1")
    assert "déjà clos" in chat.text("coord", "/sondage fermer 1")


def test_votes_stay_private_unless_the_poll_is_public(chat: Chat) -> None:
    chat.say("alice", '/sondage "Secret ?" "Oui" "Non"', group=GROUP)
    in_group = chat.text("bob", "/voter 1 1", group=GROUP)
    assert "votre choix reste privé" in in_group and "Oui" not in in_group
    closed = chat.text("alice", "/sondage fermer 1", group=GROUP)
    assert "Bob" not in closed and "Oui: 1" in closed

    chat.say("alice", '/sondage "Qui apporte quoi ?" "Pain" "Fromage" public', group=GROUP)
    assert "Votre vote au n° 2 : Pain." in chat.text("bob", "/voter 2 1", group=GROUP)
    assert "Pain: 1 (Bob)" in chat.text("alice", "/sondage fermer 2", group=GROUP)


def test_a_deadline_closes_the_poll_on_time_and_refuses_later_votes(chat: Chat) -> None:
    chat.say("alice", '/sondage "Soirée jeux ?" "Vendredi" "Samedi" jusqu\'à mercredi 18h', group=GROUP)
    chat.say("bob", "/voter 1 1")
    chat.clock.now = datetime(2026, 11, 25, 16, 59, tzinfo=UTC)  # Wednesday 17:59 in Paris
    chat.app.jobs.run_now("decision-deadlines")
    assert notices_to(chat, GROUP) == []
    chat.say("carol", "/voter 1 1")
    chat.clock.advance(minutes=1)
    assert "est clos" in chat.text("dan", "/voter 1 2")
    chat.app.jobs.run_now("decision-deadlines")
    chat.app.jobs.run_now("decision-deadlines")
    told = notices_to(chat, GROUP)
    assert len(told) == 1 and "Résultat : Vendredi." in told[0] and "Vendredi: 2" in told[0]


def test_a_deadline_across_the_october_clock_change_is_at_the_local_time_given(sqlite_url: str) -> None:
    chat = make_chat(sqlite_url, now=datetime(2026, 10, 23, 10, 0, tzinfo=UTC))
    chat.say("alice", '/sondage "Après le changement d\'heure ?" "Oui" "Non" jusqu\'à lundi 18h')
    chat.clock.now = datetime(2026, 10, 26, 16, 59, tzinfo=UTC)  # 17:59 in Paris (UTC+1 since Sunday)
    chat.app.jobs.run_now("decision-deadlines")
    assert "Oui: 0" in chat.text("bob", "/sondages")
    chat.clock.advance(minutes=1)
    assert "est clos" in chat.text("bob", "/voter 1 1")
    chat.app.engine.dispose()


def test_a_deadline_across_the_march_clock_change_is_at_the_local_time_given(sqlite_url: str) -> None:
    chat = make_chat(sqlite_url, now=datetime(2027, 3, 26, 10, 0, tzinfo=UTC))  # Friday before the change
    chat.say("alice", '/proposition "Horaires d\'été" jusqu\'à lundi 18h')
    chat.clock.now = datetime(2027, 3, 29, 15, 59, tzinfo=UTC)  # 17:59 in Paris (UTC+2 since Sunday)
    chat.app.jobs.run_now("decision-deadlines")
    assert "Votre vote" in chat.text("bob", "/voter 1 pour")
    chat.clock.advance(minutes=1)
    assert "est clos" in chat.text("carol", "/voter 1 contre")
    chat.app.engine.dispose()


def test_a_date_on_the_october_change_lasts_two_hours_of_real_time(sqlite_url: str) -> None:
    chat = make_chat(sqlite_url, now=datetime(2026, 10, 20, 10, 0, tzinfo=UTC))
    card = chat.text("alice", '/sondage-date "Vide-grenier" samedi 10h, dimanche 1h')
    assert "dimanche 25 octobre, 01:00–02:00" in card  # 01:00 CEST + 2 h = 02:00 CET (the hour is repeated)
    assert "samedi 24 octobre, 10:00–12:00" in card
    chat.app.engine.dispose()


def test_a_proposal_needs_its_quorum_and_more_for_than_against(chat: Chat) -> None:
    for who in ("bob", "carol", "dan", "eve", "fred", "coord"):
        chat.say(who, "/aide")
    card = chat.text("alice", '/proposition "Acheter un lave-vaisselle (450 €)" jusqu\'au 15/12 quorum 50 %',
                     group=GROUP)
    assert "Quorum : 50 %." in card and "15 décembre, 23:59" in card
    chat.say("bob", "/voter 1 pour")
    chat.say("carol", "/voter 1 contre")
    chat.say("alice", "/vote 1 for")  # 3 of 7 members (coord is one): below 50 %
    chat.clock.now = datetime(2026, 12, 15, 23, 0, tzinfo=UTC)
    chat.app.jobs.run_now("decision-deadlines")
    told = notices_to(chat, GROUP)[-1]
    assert "quorum non atteint" in told and "3 membres sur 7" in told and "Quorum de 50 % non atteint" in told

    chat.say("alice", '/proposition "Ouvrir le dimanche" quorum 50 %', group=GROUP)
    for who, choice in (("bob", "pour"), ("carol", "pour"), ("dan", "contre"), ("eve", "abstention")):
        chat.say(who, f"/voter 2 {choice}")
    assert "Résultat : adoptée." in chat.text("alice", "/sondage fermer 2", group=GROUP)


def test_a_tie_between_for_and_against_is_not_adopted() -> None:
    assert rules.proposal_outcome(2, 2, 4, 4, None) == rules.REJECTED
    assert rules.proposal_outcome(3, 2, 5, 10, 50) == rules.ADOPTED
    assert rules.proposal_outcome(3, 1, 4, 10, 50) == rules.NO_QUORUM
    assert not rules.quorum_reached(0, 0, 10)


def test_a_proposal_put_to_a_role_counts_only_its_members(chat: Chat) -> None:
    assert "Personne n'a encore le rôle" in chat.text("coord", '/proposition "Budget 2027" rôle bureau')
    chat.say("alice", "/aide")
    chat.say("bob", "/aide")
    chat.say("carol", "/aide")
    assert "Alice a maintenant le rôle « bureau »" in chat.text("coord", "/role bureau alice")
    assert "Seul·e un·e coordinateur·rice peut faire cela" in chat.text("alice", "/role bureau carol")
    chat.say("coord", "/role bureau bob")
    assert "Seul·e un·e coordinateur·ice" in chat.text("carol", '/proposition "Budget 2027" rôle bureau')
    chat.say("alice", '/proposition "Budget 2027" rôle bureau quorum 100 %')
    assert "rôle « bureau »" in chat.text("carol", "/voter 1 pour")
    chat.say("alice", "/voter 1 pour")
    chat.say("bob", "/voter 1 contre")
    closed = chat.text("alice", "/sondage fermer 1")
    assert "2 membres sur 2 ont participé (100 %)" in closed and "Résultat : rejetée." in closed


def test_only_those_who_have_not_voted_get_one_reminder_a_day_before(chat: Chat) -> None:
    for who in ("alice", "bob", "carol"):
        chat.say(who, "/aide")
    chat.say("alice", '/proposition "Repeindre la façade" jusqu\'à jeudi 18h')  # Thursday 26 November
    chat.say("bob", "/voter 1 pour")
    chat.clock.now = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)  # Wednesday 17:00: 25 hours before
    chat.app.jobs.run_now("decision-deadlines")
    assert not [m for m in chat.outbox() if "Pas encore voté" in m.payload]
    chat.clock.advance(hours=2)
    chat.app.jobs.run_now("decision-deadlines")
    chat.app.jobs.run_now("decision-deadlines")
    reminded = sorted(m.chat_id for m in chat.outbox() if "Pas encore voté" in m.payload)
    assert reminded == ["alice", "carol"]

    chat.say("alice", '/proposition "Fermer plus tôt ce soir" jusqu\'à 22h')  # lasts less than a day
    chat.app.jobs.run_now("decision-deadlines")
    assert sorted(m.chat_id for m in chat.outbox() if "Pas encore voté" in m.payload) == ["alice", "carol"]


def test_the_date_poll_becomes_an_event_with_everyone_who_said_yes(chat: Chat) -> None:
    created = chat.text("alice", '/sondage-date "AG de printemps" mardi 19h, jeudi 19h-21h30, samedi 10h '
                                 'lieu salle-reunion')
    assert "jeudi 26 novembre, 19:00–21:30" in created
    chat.say("bob", "/voter 1 1 non 2 oui 3 si besoin")
    chat.say("carol", "/voter 1 2")
    chat.say("dan", "/voter 1 1 oui 2 si-besoin")
    chat.say("dan", "/voter 1 2 oui")  # changes only the date answered
    assert "Clôturez-le d'abord" in chat.text("alice", "/sondage-date evenement 1")
    chat.say("alice", "/sondage fermer 1")
    closed = chat.text("alice", "/sondages")
    assert "Rien à voter" in closed
    replies = chat.say("alice", "/sondage fermer 1")
    assert "déjà clos" in replies[0].text
    with Session(chat.app.engine) as session:
        assert rules.get_decision(session, 1)[0].result == f"option:{second_option(session)}"
    chat.last_actions["alice"] = []
    chat.say("coord", "/aide")
    made = chat.text("bob", "/sondage-date evenement 1")
    assert "Seul·e son auteur·ice" in made
    made = chat.text("alice", "/sondage-date evenement 1")
    assert "3 membres qui ont répondu oui sont inscrits" in made
    with Session(chat.app.engine) as session:
        occurrence = session.exec(select(EventOccurrence)).one()
        local = occurrence.start.astimezone(chat.app.settings.tz)
        assert (local.weekday(), local.hour, (occurrence.end - occurrence.start)) == (3, 19, timedelta(hours=2.5))
        signups = session.exec(select(EventSignup).where(EventSignup.occurrence_id == occurrence.id)).all()
        assert len(signups) == 3
    assert "déjà l’événement" in chat.text("alice", "/sondage-date evenement 1")
    assert "salle" in chat.text("bob", "/free jeudi 20h-21h") and "Salle de réunion" not in chat.text(
        "bob", "/free jeudi 20h-21h")


def second_option(session: Session) -> int:
    option = session.exec(select(DecisionOption).where(DecisionOption.position == 2)).one()
    assert option.id is not None
    return option.id


@pytest.fixture
def link_chat(database_url: str) -> Iterator[Chat]:
    harness = make_chat(database_url)
    yield harness
    harness.app.engine.dispose()


def test_linked_accounts_vote_once(link_chat: Chat) -> None:
    chat = link_chat
    chat.say("alice", '/sondage "Un ou deux ?" "Un" "Deux"')
    chat.say("mallory", "/voter 1 1", platform=TG)
    chat.say("@mallory:example.org", "/voter 1 2", platform=MX)
    assert "2 membres ont répondu" in chat.text("alice", "/sondages")
    code = chat.text("mallory", "/link", platform=TG).split("/link ")[1].split()[0]
    chat.say("@mallory:example.org", f"/link {code}", platform=MX)
    confirm = reply_from_json(chat.outbox()[-1].payload).actions[0]
    chat.app.dispatcher.handle_sync(chat.incoming("mallory", confirm.command, platform=TG, is_action=True))
    with Session(chat.app.engine) as session:
        members = {i.member_id for i in session.exec(select(Identity).where(Identity.user_id.in_(  # type: ignore[attr-defined]
            ["mallory", "@mallory:example.org"])))}
    assert len(members) == 1
    listed = chat.text("alice", "/sondages")
    assert "1 membre a répondu" in listed and "1. Un: 0" in listed and "2. Deux: 1" in listed
    chat.say("mallory", "/voter 1 1", platform=TG)
    listed = chat.text("alice", "/sondages")
    assert "1 membre a répondu" in listed and "1. Un: 1" in listed and "2. Deux: 0" in listed


def test_the_decision_log_lists_the_year_and_exports_markdown(chat: Chat) -> None:
    chat.say("alice", '/sondage "Nom du bar ?" "Le Comptoir" "La Fabrique"')
    chat.say("bob", "/voter 1 2")
    chat.say("alice", "/sondage fermer 1")
    chat.say("alice", '/proposition "Adhésion à 10 €"')
    log = chat.text("coord", "/decisions")
    assert "Sondage n° 1 — Nom du bar ?" in log and "Résultat : La Fabrique." in log and "Adhésion" not in log
    exported = chat.text("coord", "/decisions 2026 markdown")
    assert exported.startswith("# Décisions 2026") and "| lundi 23 novembre | Sondage n° 1 — Nom du bar ? |" in exported
    assert "Aucune décision" in chat.text("coord", "/decisions 2025")
    with Session(chat.app.engine) as session:
        figures = rules.report_figures(session, datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    assert figures.decisions == 1 and figures.participation == pytest.approx(1 / 2)
    assert "1 décision prise ensemble (/decisions), participation 50 %." in chat.text("coord", "/bilan mois")


def test_bad_requests_get_a_short_answer_with_an_example(chat: Chat) -> None:
    assert "au moins deux choix" in chat.text("alice", '/sondage "Seule question ?" "Oui"')
    assert "Exemple : /sondage" in chat.text("alice", '/sondage "Seule question ?" "Oui"')
    assert "Un guillemet n'est pas fermé" in chat.text("alice", '/sondage "Pas fermé "Oui" "Non"')
    assert "déjà passée" in chat.text("alice", '/sondage "Hier ?" "Oui" "Non" jusqu\'à hier')
    assert "entre 1 et 100" in chat.text("alice", '/proposition "Trop" quorum 150 %')
    assert "au moins deux dates" in chat.text("alice", '/sondage-date "AG" mardi 19h')
    assert "À quelle heure" in chat.text("alice", '/sondage-date "AG" mardi, jeudi 19h')
    assert "pas de sondage ni de proposition n° 99" in chat.text("bob", "/voter 99 pour")
    with Session(chat.app.engine) as session:
        assert rules.open_decisions(session) == []
