"""A network of places (issue 18), through the chat, on SQLite and PostgreSQL: La Fabrique (the sample
spaces file), Orgelet and Foncine. Now is Monday 23 November 2026, 10:00 Paris."""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import Session, select

from bot.cli import main
from bot.core.outbox import reply_from_json
from storage.models import Space
from storage.models_places import PlaceInfo
from storage.places import can_manage
from tests.harness import Chat, with_settings


def network(chat: Chat) -> Chat:
    """Three places; alice coordinates Orgelet."""
    assert chat.text("coord", '/lieu ajouter orgelet "Orgelet" adresse="2 rue du Pont" mar=9h-18h').startswith(
        "Lieu ajouté : Orgelet (orgelet).")
    assert chat.text("coord", '/site add foncine "Foncine-le-Haut"').startswith("Lieu ajouté")
    chat.say("alice", "/bonjour")
    assert chat.text("coord", "/coordinateur alice orgelet") == (
        "Alice coordonne désormais Orgelet (ses espaces, événements, permanences et bilan).")
    return chat


def spaces_of(chat: Chat) -> dict[str, int]:
    with Session(chat.app.engine) as session:
        return {s.slug: s.site_id for s in session.exec(select(Space))}


def test_the_permission_rule_network_coordinators_everything_place_coordinators_their_place() -> None:
    assert can_manage(True, 2, set()) and can_manage(True, None, set())
    assert can_manage(False, 2, {2}) and not can_manage(False, 3, {2})
    assert not can_manage(False, None, {2})


def test_places_are_listed_with_address_hours_and_the_members_own_place(chat: Chat) -> None:
    network(chat)
    answer = chat.text("bob", "/lieux")
    assert "• La Fabrique (la-fabrique) — 6 espaces" in answer
    assert "• Orgelet (orgelet) — 0 espace\n   2 rue du Pont\n   mar. 09:00-18:00" in answer
    assert "• Foncine-le-Haut (foncine)" in answer
    assert chat.text("bob", "/lieu orgelet").startswith("Votre lieu est maintenant Orgelet")
    assert "Orgelet (orgelet) — 0 espace — votre lieu" in chat.text("bob", "/lieux")


def test_only_network_coordinators_add_places_and_name_place_coordinators(chat: Chat) -> None:
    network(chat)
    assert "Seul" in chat.text("alice", '/lieu ajouter bief "Le Bief"')
    assert "Seul" in chat.text("alice", "/coordinateur bob orgelet")
    assert "existe déjà" in chat.text("coord", '/lieu ajouter orgelet "Encore"')
    assert "Je ne connais pas le lieu « nulle-part »" in chat.text("coord", "/coordinateur alice nulle-part")


def test_a_place_coordinator_manages_only_their_places_spaces(chat: Chat) -> None:
    network(chat)
    answer = chat.text("alice", '/espace ajouter salle-orgelet "Salle de réunion" capacite=10')
    assert answer.startswith("Espace ajouté : Salle de réunion (salle-orgelet). Lieu : Orgelet.")
    assert chat.text("alice", "/espace fermer salle-orgelet").startswith("L'espace Salle de réunion est fermé")
    assert "Seul" not in chat.text("alice", "/espace ouvrir salle-orgelet")
    assert chat.text("alice", "/espace fermer petite-salle") == (
        "Seul·es les coordinateur·rices de La Fabrique peuvent faire cela.")
    assert "Seul·es" in chat.text("alice", "/espace modifier petite-salle capacite=9")
    assert "Seul·es" in chat.text("alice", '/espace ajouter atelier "Atelier" lieu=foncine')
    assert "Seul" in chat.text("bob", '/espace ajouter atelier "Atelier"')
    with Session(chat.app.engine) as session:
        sites = {s.slug: s.site_id for s in session.exec(select(Space))}
        closed = {s.slug: s.closed for s in session.exec(select(Space))}
    assert sites["salle-orgelet"] != sites["petite-salle"] and "atelier" not in sites
    assert closed["petite-salle"] is False
    # a network coordinator manages every place
    assert "Lieu : Foncine-le-Haut." in chat.text("coord", '/espace ajouter atelier "Atelier" lieu=foncine')
    assert chat.text("coord", "/espace fermer salle-orgelet").startswith("L'espace Salle de réunion est fermé")


def two_places_with_members(chat: Chat) -> Chat:
    network(chat)
    chat.say("coord", '/espace ajouter salle-orgelet "Salle de réunion" lieu=orgelet capacite=10')
    chat.say("bob", "/lieu orgelet")
    chat.say("carol", "/lieu la-fabrique")
    return chat


def test_members_of_two_places_see_their_own_place_first_and_how_to_see_another(chat: Chat) -> None:
    two_places_with_members(chat)
    bob = chat.text("bob", "/espaces")
    assert "— Orgelet —\n• Salle de réunion (salle-orgelet)" in bob and "petite-salle" not in bob
    assert "Autres lieux : La Fabrique, Foncine-le-Haut. Voyez-en un avec /espaces la-fabrique, ou tous avec " \
           "/espaces tout." in bob
    carol = chat.text("carol", "/espaces")
    assert "— La Fabrique —" in carol and "salle-orgelet" not in carol
    everything = chat.text("carol", "/espaces tout")
    order = [everything.index(f"— {place} —") for place in ("La Fabrique", "Orgelet", "Foncine-le-Haut")]
    assert order == sorted(order)
    free = chat.text("bob", "/dispo demain")
    assert "• Salle de réunion (salle-orgelet): 09:00–18:00" in free and "petite-salle" not in free
    assert "/dispo la-fabrique demain" in free
    other = chat.text("bob", "/dispo La Fabrique demain")
    assert "Petite salle (petite-salle)" in other and "salle-orgelet" not in other
    # and they book at either place by naming the space
    assert chat.text("bob", "/reserver salle-orgelet demain 14h-16h").startswith("Réservé : Salle de réunion (Orgelet)")
    assert chat.text("bob", "/reserver salle-reunion demain 14h-16h").startswith(
        "Réservé : Salle de réunion (La Fabrique)")
    assert chat.text("bob", "/reserver petite-salle demain 14h-16h").startswith("Réservé : Petite salle")


def test_a_member_without_a_place_is_asked_with_a_button_per_place(chat: Chat) -> None:
    network(chat)
    [reply] = chat.say("dave", "/espaces")
    assert "Quel est votre lieu ?" in reply.text
    assert [a.label for a in reply.actions] == ["La Fabrique", "Orgelet", "Foncine-le-Haut"]
    [answer] = chat.press("dave", "Orgelet")
    assert answer.text.startswith("Votre lieu est maintenant Orgelet")
    assert "Quel est votre lieu" not in chat.text("dave", "/espaces")


def test_a_new_member_is_asked_for_their_place_when_they_say_hello(chat: Chat) -> None:
    network(chat)
    [hello] = chat.say("erin", "/bonjour")
    assert hello.text.endswith("Quel est votre lieu ? Vos listes le montreront en premier (/lieu <nom>).")
    assert [a.command for a in hello.actions] == ["/place la-fabrique", "/place orgelet", "/place foncine"]
    chat.press("erin", "Foncine")
    [again] = chat.say("erin", "/bonjour")
    assert "Quel est votre lieu" not in again.text and not again.actions


def test_one_place_lists_are_unchanged(chat: Chat) -> None:
    spaces = chat.text("alice", "/espaces")
    assert spaces.split("\n")[1].startswith("• Cuisine du café")
    assert "Autres lieux" not in spaces and "Quel est votre lieu" not in spaces
    assert "Autres lieux" not in chat.text("alice", "/dispo demain")
    [hello] = chat.say("alice", "/bonjour")
    assert "lieu" not in hello.text and not hello.actions


def test_a_group_attached_to_a_place_gets_only_that_places_digest(chat: Chat) -> None:
    two_places_with_members(chat)
    chat.say("bob", "/reserver salle-orgelet mercredi 10h-12h")
    chat.say("bob", "/reserver salle-orgelet jeudi 10h-12h")
    chat.say("carol", "/reserver petite-salle mercredi 14h-15h")
    chat.say("coord", '/evenement ajouter "Repair café d\'Orgelet" samedi 14h-18h lieu salle-orgelet places 12')
    chat.say("coord", '/evenement ajouter "Atelier vélo" samedi 10h-12h lieu open-space places 6')
    assert "seul" in chat.text("bob", "/lieu ici orgelet", group="g-orgelet").lower()  # not an admin there
    assert chat.text("alice", "/lieu ici orgelet", group="g-orgelet").startswith("Ce groupe suit désormais Orgelet")
    chat.say("coord", "/abonner", group="g-orgelet")
    chat.say("coord", "/lieu ici la-fabrique", group="g-fabrique")
    chat.say("coord", "/abonner", group="g-fabrique")
    chat.say("coord", "/abonner", group="g-reseau")
    assert chat.app.jobs.run_now("weekly-digest") == 3
    texts = {m.chat_id: reply_from_json(m.payload).text for m in chat.outbox() if m.chat_id.startswith("g-")}
    assert "2 réservations d'espaces cette semaine." in texts["g-orgelet"]
    assert "Repair café d'Orgelet" in texts["g-orgelet"] and "Atelier vélo" not in texts["g-orgelet"]
    assert "1 réservation d'espace cette semaine." in texts["g-fabrique"]
    assert "Atelier vélo" in texts["g-fabrique"] and "Orgelet" not in texts["g-fabrique"]
    assert "3 réservations d'espaces cette semaine." in texts["g-reseau"]
    assert "2 réservations" in chat.text("carol", "/resume", group="g-orgelet")


def test_a_spaces_file_with_several_sites_makes_a_network_with_unique_slugs(sqlite_url: str) -> None:
    from pathlib import Path

    import pytest

    from storage.db import make_engine, session_scope
    from storage.migrate import upgrade
    from storage.places import place_info, places
    from storage.spaces import SpaceFileError, import_spaces, load_spaces_file

    engine = make_engine(sqlite_url)
    upgrade(engine)
    data = load_spaces_file(Path(__file__).resolve().parent.parent / "examples" / "spaces-network.toml")
    with session_scope(engine) as session:
        assert import_spaces(session, data) == (4, 0)
    with session_scope(engine) as session:
        sites = {s.slug: s for s in places(session)}
        assert list(sites) == ["la-fabrique", "orgelet"]
        orgelet = sites["orgelet"]
        assert orgelet.id is not None
        info = place_info(session, orgelet.id)
        assert info is not None and info.address == "2 rue du Pont, Orgelet"
        at_orgelet = session.exec(select(Space).where(Space.site_id == orgelet.id)).all()
        assert sorted(s.slug for s in at_orgelet) == ["fablab-orgelet", "salle-reunion-orgelet"]
        assert next(s for s in at_orgelet if s.slug == "fablab-orgelet").opening_hours != "{}"
    data["sites"][1]["spaces"][0]["slug"] = "salle-reunion"
    with session_scope(engine) as session, pytest.raises(SpaceFileError, match="unique across the network"):
        import_spaces(session, data)
    engine.dispose()


def test_an_existing_single_site_database_becomes_a_network_of_one_with_nothing_changed(database_url: str) -> None:
    from sqlalchemy import text

    from storage.db import make_engine
    from storage.migrate import upgrade
    from tests.harness import make_chat

    engine = make_engine(database_url)
    upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO site (id, slug, name) VALUES (1, 'la-fabrique', 'La Fabrique')"))
        connection.execute(text(
            "INSERT INTO space (id, site_id, slug, name, kind, capacity, opening_hours, max_duration_minutes, "
            "max_days_ahead, description, closed) VALUES (1, 1, 'atelier', 'Atelier', 'room', 2, "
            "'{\"tue\": [\"09:00-18:00\"]}', 240, 60, '', false)"))
    engine.dispose()
    chat = make_chat(database_url)  # upgrades to every head, 0017 included
    try:
        spaces = chat.text("alice", "/espaces")
        assert spaces.startswith("Espaces\n• Atelier (atelier) — salle, 2 places\n   mar. 09:00-18:00")
        assert "Autres lieux" not in spaces and "Quel est votre lieu" not in spaces and "—  " not in spaces
        assert chat.text("alice", "/reserver atelier demain 10h-11h").startswith("Réservé : Atelier")
        assert "• La Fabrique (la-fabrique) — 1 espace — votre lieu" in chat.text("alice", "/lieux")
        with Session(chat.app.engine) as session:
            assert [(i.site_id, i.address) for i in session.exec(select(PlaceInfo))] == [(1, "")]
    finally:
        chat.app.engine.dispose()


def test_the_network_report_shows_each_place_and_totals_that_are_their_sum(chat: Chat) -> None:
    import re

    two_places_with_members(chat)
    chat.say("bob", "/reserver salle-orgelet mercredi 10h-12h")
    chat.say("bob", "/reserver salle-orgelet jeudi 10h-11h")
    chat.say("carol", "/reserver petite-salle mercredi 14h-15h")
    chat.say("coord", '/evenement ajouter "Repair café" samedi 14h-18h lieu salle-orgelet places 12')
    chat.say("coord", '/evenement ajouter "Atelier vélo" samedi 10h-12h lieu open-space places 6')
    chat.say("coord", '/evenement ajouter "Marché" vendredi 17h-19h')
    chat.say("bob", "/inscrire 1")
    chat.say("carol", "/inscrire 1")
    chat.say("carol", "/inscrire 2")
    [reply] = chat.say("coord", "/lieu bilan 2026-11")
    assert reply.title == "Bilan par lieu — novembre 2026"
    lines = reply.text.splitlines()
    assert lines == [
        "La Fabrique : 1 réservation (1h), 1 événement, 1 inscription",
        "Orgelet : 2 réservations (3h), 1 événement, 2 inscriptions",
        "Foncine-le-Haut : 0 réservation (0 min), 0 événement, 0 inscription",
        "(sans lieu particulier) : 0 réservation (0 min), 1 événement, 0 inscription",
        "Réseau (total) : 3 réservations (4h), 3 événements, 3 inscriptions",
    ]
    numbers = [[int(n) for n in re.findall(r"(\d+) (?:réservation|événement|inscription)", line)] for line in lines]
    assert [sum(column) for column in zip(*numbers[:-1], strict=True)] == numbers[-1]
    # a place's coordinator sees their place only; a member nothing
    assert chat.text("alice", "/lieu bilan 2026-11").splitlines()[1:] == [
        "Orgelet : 2 réservations (3h), 1 événement, 2 inscriptions"]
    assert "Seul" in chat.text("bob", "/lieu bilan 2026-11")


def test_a_place_coordinator_manages_the_events_at_their_place_only(chat: Chat) -> None:
    two_places_with_members(chat)
    added = chat.text("alice", '/evenement ajouter "Repair café" samedi 14h-18h lieu salle-orgelet places 12')
    assert "Repair café" in added and "Seul" not in added
    assert "coordinateur·rice de lieu" in chat.text(
        "alice", '/evenement ajouter "Vélo" samedi 10h-12h lieu petite-salle')
    assert "coordinateur·rice de lieu" in chat.text("alice", '/evenement ajouter "Marché" samedi 10h-12h')
    chat.say("coord", '/evenement ajouter "Atelier" dimanche 10h-12h lieu salle-orgelet')
    chat.say("coord", '/evenement ajouter "Couture" dimanche 10h-12h lieu petite-salle')
    assert chat.text("alice", "/evenement annuler 2").startswith("Annulé : « Atelier »")
    assert "Seul" in chat.text("alice", "/evenement annuler 3")
    assert "Seul" in chat.text("bob", "/evenement annuler 1")


def test_each_place_has_its_own_programme_feed(chat: Chat) -> None:
    import pytest

    from bot.ical import FeedBuilder, FeedNotFound
    from storage.db import session_scope

    two_places_with_members(chat)
    chat.say("coord", '/evenement ajouter "Repair café" samedi 14h-18h lieu salle-orgelet places 12')
    chat.say("coord", '/evenement ajouter "Atelier vélo" samedi 10h-12h lieu open-space places 6')
    feeds = FeedBuilder("Europe/Paris", "fr", "https://bot.example.org")
    with session_scope(chat.app.engine) as session:
        orgelet = feeds.body(feeds.place_feed(session, chat.clock.now, slug="orgelet")).decode()
        fabrique = feeds.body(feeds.place_feed(session, chat.clock.now, slug="la-fabrique")).decode()
        everything = feeds.body(feeds.events_feed(session, chat.clock.now)).decode()
        with pytest.raises(FeedNotFound):
            feeds.place_feed(session, chat.clock.now, slug="nulle-part")
    assert "X-WR-CALNAME:Orgelet : programme" in orgelet
    assert "SUMMARY:Repair café" in orgelet and "Atelier vélo" not in orgelet
    assert "SUMMARY:Atelier vélo" in fabrique and "Repair café" not in fabrique
    assert "Repair café" in everything and "Atelier vélo" in everything
    with_settings(chat, public_url="https://bot.example.org")
    links = chat.text("bob", "/calendrier")
    assert "Le programme de chaque lieu :\nLa Fabrique : https://bot.example.org/ical/places/la-fabrique.ics" in links
    assert "Orgelet : https://bot.example.org/ical/places/orgelet.ics" in links


def test_an_announcement_for_one_place_goes_only_to_the_groups_attached_to_it(chat: Chat) -> None:
    network(chat)
    chat.say("coord", "/lieu ici orgelet", group="g-orgelet")
    chat.say("coord", "/abonner", group="g-orgelet")
    chat.say("coord", "/lieu ici la-fabrique", group="g-fabrique")
    chat.say("coord", "/abonner", group="g-fabrique")
    chat.say("coord", "/abonner", group="g-reseau")
    [draft] = chat.say("coord", "/annonce lieu=orgelet Le café d'Orgelet est fermé samedi")
    assert draft.text == ("Pour Orgelet seulement. Elle partira vers 1 conversation :\n\n"
                          "Le café d'Orgelet est fermé samedi")
    chat.press("coord", "Envoyer à 1 conversation")
    chat.say("coord", "/annonce Assemblée générale du réseau le 12 décembre")
    chat.press("coord", "Envoyer à 3 conversations")
    sent = [(m.chat_id, reply_from_json(m.payload).text) for m in chat.outbox() if m.chat_id.startswith("g-")]
    assert [c for c, t in sent if "Orgelet est fermé" in t] == ["g-orgelet"]
    assert sorted(c for c, t in sent if "Assemblée" in t) == ["g-fabrique", "g-orgelet", "g-reseau"]
    assert "Je ne connais pas le lieu « bief »" in chat.text("coord", "/annonce lieu=bief Bonjour")


def test_the_agenda_shows_the_members_place_first_with_events_held_nowhere_in_particular(chat: Chat) -> None:
    two_places_with_members(chat)
    chat.say("coord", '/evenement ajouter "Repair café" samedi 14h-18h lieu salle-orgelet places 12')
    chat.say("coord", '/evenement ajouter "Atelier vélo" samedi 10h-12h lieu open-space places 6')
    chat.say("coord", '/evenement ajouter "Assemblée du réseau" vendredi 18h-20h')
    bob = chat.text("bob", "/agenda")
    assert "Repair café" in bob and "Assemblée du réseau" in bob and "Atelier vélo" not in bob
    assert "Voyez-en un avec /agenda la-fabrique, ou tous avec /agenda tout." in bob
    carol = chat.text("carol", "/agenda semaine")
    assert "Atelier vélo" in carol and "Repair café" not in carol
    everything = chat.text("bob", "/agenda tout")
    assert "Atelier vélo" in everything and "Repair café" in everything
    assert "Atelier vélo" in chat.text("bob", "/agenda la-fabrique") and "Repair café" not in chat.text(
        "bob", "/agenda la-fabrique")


def test_a_place_coordinator_runs_their_places_rota_and_members_see_their_place(chat: Chat) -> None:
    two_places_with_members(chat)
    assert chat.text("alice", "/permanences ajouter ouverture sam 09:30-10:00 1").startswith("Ajouté")
    assert chat.text("coord", "/permanences ajouter fermeture sam 17:30-18:30 2 lieu=la-fabrique").startswith(
        "Ajouté")
    assert chat.text("coord", "/permanences ajouter inventaire dim 10:00-11:00 1").startswith("Ajouté")
    assert chat.text("alice", "/permanences ajouter x sam 12:00-13:00 1 lieu=orgelet").startswith("Ajouté")
    assert "Seul·es les coordinateur·rices de La Fabrique" in chat.text(
        "alice", "/permanences ajouter y sam 12:00-13:00 1 lieu=la-fabrique")
    assert "Seul" in chat.text("alice", "/permanences retirer 2")  # La Fabrique's line
    assert "Seul" in chat.text("alice", "/permanences retirer 3")  # the network's line
    assert "Seul" in chat.text("bob", "/permanences ajouter z sam 12:00-13:00 1")
    bob = chat.text("bob", "/permanences")
    assert "ouverture" in bob and "inventaire" in bob and "fermeture" not in bob
    assert "/permanences la-fabrique" in bob
    carol = chat.text("carol", "/permanences")
    assert "fermeture" in carol and "inventaire" in carol and "ouverture" not in carol
    assert "ouverture" in chat.text("carol", "/permanences tout")
    chat.say("coord", "/lieu ici orgelet", group="g-orgelet")
    chat.say("coord", "/abonner", group="g-orgelet")
    [digest] = chat.say("carol", "/resume", group="g-orgelet")
    assert "ouverture" in digest.text and "inventaire" in digest.text and "fermeture" not in digest.text
    assert chat.text("alice", "/permanences retirer 1").startswith("Retiré")


def report_network(chat: Chat) -> Chat:
    two_places_with_members(chat)
    chat.say("bob", "/reserver salle-orgelet mercredi 10h-12h")
    chat.say("bob", "/reserver salle-orgelet jeudi 10h-11h")
    chat.say("carol", "/reserver petite-salle mercredi 14h-15h")
    chat.say("coord", '/evenement ajouter "Repair café" samedi 14h-18h lieu salle-orgelet places 12')
    chat.say("coord", '/evenement ajouter "Atelier vélo" samedi 10h-12h lieu open-space places 6')
    chat.say("coord", '/evenement ajouter "Marché" vendredi 17h-19h')
    chat.say("bob", "/inscrire 1")
    chat.say("carol", "/inscrire 1")
    chat.say("carol", "/inscrire 2")
    return chat


def test_the_activity_report_per_place_and_for_the_network_in_every_format(
        chat: Chat, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    report_network(chat)
    orgelet = chat.text("coord", "/bilan 2026-11 orgelet")
    assert orgelet.startswith("# Bilan d'activité — novembre 2026 — Orgelet")
    assert "Repair café" in orgelet and "Atelier vélo" not in orgelet and "Marché" not in orgelet
    network = chat.text("coord", "/bilan 2026-11 réseau")
    table = [line for line in network.splitlines() if line.startswith("| ")]
    assert table[0] == "| | La Fabrique | Orgelet | Foncine-le-Haut | (sans lieu particulier) | Réseau (total) |"
    rows = {line.split(" | ")[0][2:]: [float(v.replace(",", ".")) for v in line.strip(" |").split(" | ")[1:]]
            for line in table[1:] if not line.startswith("|---")}
    assert rows["Réservations"] == [1, 2, 0, 0, 3]
    assert rows["Événements"] == [1, 1, 0, 1, 3]
    for values in rows.values():  # the network's total is the sum of the places (and what belongs to none)
        assert sum(values[:-1]) == values[-1]
    preset = chat.text("coord", "/bilan 2026-11 orgelet caf-evs")
    assert "— Orgelet" in preset.splitlines()[0]
    # a member gets no report, of a place or the network
    assert "Seul" in chat.text("bob", "/bilan 2026-11 réseau")

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("TIMEZONE", "Europe/Paris")
    monkeypatch.setenv("LANGUAGE", "fr")
    capsys.readouterr()
    assert main(["report", "--month", "2026-11", "--format", "csv", "--site", "network"]) == 0
    rows_csv = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows_csv[0] == ["section", "item", "metric", "value"]
    figures = {(s, i, m): v for s, i, m, v in rows_csv[1:]}
    slugs = ("la-fabrique", "orgelet", "foncine")
    for metric in ("events", "signups"):
        assert int(figures[("events", "total", metric)]) == sum(
            int(figures[("events", f"site:{slug}/total", metric)]) for slug in slugs) + (1 if metric == "events" else 0)
    assert figures[("space", "site:orgelet/salle-orgelet", "bookings")] == "2"
    assert main(["report", "--month", "2026-11", "--format", "csv", "--site", "orgelet"]) == 0
    only = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert {row[1] for row in only[1:] if row[0] != "period"} <= {
        i for i in (row[1] for row in only[1:]) if i.startswith("site:orgelet/")}
    assert main(["report", "--month", "2026-11", "--format", "fabrique", "--site", "orgelet"]) == 0
    assert "— Orgelet" in capsys.readouterr().out.splitlines()[0]
    assert main(["report", "--month", "2026-11", "--format", "recensement", "--site", "network"]) == 0
    assert "| Réseau (total) |" in capsys.readouterr().out
    assert main(["report", "--month", "2026-11", "--site", "bief"]) == 1


def test_open_shifts_alerts_and_volunteer_hours_per_place(chat: Chat) -> None:
    from bot.core.outbox import enqueue
    from handlers.volunteers import alert_uncovered_shifts
    from storage.db import session_scope

    two_places_with_members(chat)
    chat.say("coord", "/lieu ici orgelet", group="g-orgelet")
    chat.say("coord", "/benevoles ici", group="g-orgelet")
    chat.say("coord", "/benevoles ici", group="g-reseau")
    before = len(chat.outbox())
    chat.say("coord", '/besoin "Bar Orgelet" mardi 18h-22h 2 lieu salle-orgelet')
    chat.say("coord", '/besoin "Bar Fabrique" mardi 18h-22h 1 lieu petite-salle')
    chat.say("coord", '/besoin "Assemblée" mardi 10h-12h 1 #repair-cafe-itinerant')
    chat.say("coord", '/besoin "Bar Fabrique jeudi" jeudi 18h-22h 1 lieu petite-salle')
    chat.say("coord", '/besoin "Bar Orgelet jeudi" jeudi 18h-22h 1 lieu salle-orgelet')
    posted = [(m.chat_id, reply_from_json(m.payload).text) for m in chat.outbox()[before:]]
    assert sorted(c for c, t in posted if "Bar Orgelet" in t) == ["g-orgelet", "g-orgelet", "g-reseau", "g-reseau"]
    assert sorted(c for c, t in posted if "Bar Fabrique" in t) == ["g-reseau", "g-reseau"]
    assert sorted(c for c, t in posted if "Assemblée" in t) == ["g-orgelet", "g-reseau"]
    bob = chat.text("bob", "/creneaux")
    assert "Bar Orgelet" in bob and "Assemblée" in bob and "Bar Fabrique" not in bob
    assert "/creneaux la-fabrique" in bob
    assert "Bar Fabrique" in chat.text("bob", "/creneaux tout")
    in_group = chat.text("carol", "/creneaux", group="g-orgelet")
    assert "Bar Orgelet" in in_group and "Bar Fabrique" not in in_group
    chat.say("bob", "/prendre 1")
    chat.say("carol", "/prendre 2")
    chat.clock.advance(days=1, hours=9)  # Tuesday 19:00: Thursday's shifts are within 48 hours and lack people
    before = len(chat.outbox())
    with session_scope(chat.app.engine) as session:
        enqueue(session, alert_uncovered_shifts(session, chat.clock.now, chat.app.settings), chat.clock.now)
    sent = {m.chat_id: reply_from_json(m.payload).text for m in chat.outbox()[before:] if m.chat_id.startswith("g-")}
    assert "Bar Orgelet jeudi" in sent["g-orgelet"] and "Bar Fabrique jeudi" not in sent["g-orgelet"]
    assert "Bar Orgelet jeudi" in sent["g-reseau"] and "Bar Fabrique jeudi" in sent["g-reseau"]

    chat.clock.advance(days=1)
    assert chat.text("bob", "/shift done 1").startswith("C'est noté")
    assert chat.text("carol", "/shift done 2").startswith("C'est noté")
    chat.say("alice", "/tache 2h réparations #repair-cafe-itinerant")
    network = chat.text("coord", "/bilan 2026-11 réseau")
    [hours] = [line for line in network.splitlines() if line.startswith("| Heures bénévoles |")]
    # the shared project's hours, logged for no place's shift, are counted once: in the network's total
    assert hours == "| Heures bénévoles | 4 | 4 | 0 | 2 | 10 |"


def test_help_marks_place_coordinators_commands_and_shows_places_only_in_a_network(chat: Chat) -> None:
    assert "/lieu" not in chat.text("bob", "/aide"), "one place: nothing to choose"
    assert "/places = /lieux" in chat.text("coord", "/aide"), "a coordinator sees how to add a second place"
    network(chat)
    assert "/lieux" in chat.text("bob", "/aide") and "/lieu" in chat.text("bob", "/aide")
    member = chat.text("bob", "/aide permanences").split("Exemples")[0]
    assert "ajouter" not in member and "retirer" not in member
    alice = chat.text("alice", "/aide permanences")
    [add] = [line for line in alice.splitlines() if "Ajouter une ligne" in line]
    assert add.endswith("(coordinateur·rices)")


def test_a_place_coordinator_announces_to_their_places_groups_only(chat: Chat) -> None:
    network(chat)
    chat.say("coord", "/lieu ici orgelet", group="g-orgelet")
    chat.say("coord", "/abonner", group="g-orgelet")
    chat.say("coord", "/lieu ici la-fabrique", group="g-fabrique")
    chat.say("coord", "/abonner", group="g-fabrique")
    chat.say("coord", "/abonner", group="g-reseau")
    [draft] = chat.say("alice", "/annonce Le café d'Orgelet est fermé samedi")
    assert draft.text.startswith("Pour Orgelet seulement. Elle partira vers 1 conversation")
    assert "Seul·es les coordinateur·rices de La Fabrique" in chat.text("alice", "/annonce lieu=la-fabrique Bonjour")
    chat.say("coord", "/annonce lieu=la-fabrique Atelier couture jeudi")  # announcement 2, La Fabrique's
    assert "Seul·es les coordinateur·rices de La Fabrique" in chat.text("alice", "/annonce envoyer 2")
    assert chat.text("alice", "/annonce envoyer 1").startswith("J'envoie l'annonce n° 1 à 1 conversation.")
    sent = [(m.chat_id, reply_from_json(m.payload).text) for m in chat.outbox() if m.chat_id.startswith("g-")]
    assert [c for c, t in sent if "Orgelet est fermé" in t] == ["g-orgelet"]
    assert "Seul" in chat.text("bob", "/annonce Bonjour")
    assert "/annonce" in chat.text("alice", "/aide") and "/annonce" not in chat.text("bob", "/aide")


def test_one_place_announcements_are_for_coordinators_as_before(chat: Chat) -> None:
    assert "Seul" in chat.text("bob", "/annonce Bonjour")
    assert "/annonce" not in chat.text("bob", "/aide")


def test_a_new_members_first_command_ends_with_the_place_question_once(chat: Chat) -> None:
    [first] = chat.say("erin", "/aide")  # one place: nothing asked
    assert "Quel est votre lieu" not in first.text
    network(chat)
    [first] = chat.say("dave", "/aide")
    assert first.text.startswith("/") and first.text.endswith(
        "Quel est votre lieu ? Vos listes le montreront en premier (/lieu <nom>).")
    assert [a.command for a in first.actions] == ["/place la-fabrique", "/place orgelet", "/place foncine"]
    assert "Quel est votre lieu" not in chat.text("dave", "/aide"), "asked once"
    assert "Quel est votre lieu" not in chat.text("frank", "/aide", group="g-reseau"), "never in a group"
    assert "Orgelet" in chat.text("dave", first.actions[1].command)


def test_a_place_coordinator_posts_and_cancels_needs_at_their_place_only(chat: Chat) -> None:
    two_places_with_members(chat)
    assert chat.text("alice", '/besoin "Bar" mardi 18h-22h 2 lieu salle-orgelet').startswith("Publié")
    assert "Seul·es les coordinateur·rices de La Fabrique" in chat.text(
        "alice", '/besoin "Bar" mardi 18h-22h 1 lieu petite-salle')
    assert "Dites à quel espace de votre lieu" in chat.text("alice", '/besoin "Bar" mardi 18h-22h 1')
    chat.say("coord", '/besoin "Vaisselle" mardi 18h-22h 1 lieu petite-salle')  # shift 2, La Fabrique's
    assert "Seul·es les coordinateur·rices de La Fabrique" in chat.text("alice", "/besoin annuler 2")
    assert chat.text("alice", "/besoin annuler 1").startswith("Annulé")
    assert "Seul" in chat.text("bob", '/besoin "Bar" mardi 18h-22h 2 lieu salle-orgelet')


def test_a_place_coordinator_gets_their_place_report_and_no_other(chat: Chat) -> None:
    network(chat)  # alice coordinates Orgelet
    own = chat.text("alice", "/bilan 2026-11")
    assert own.startswith("# Bilan d'activité — novembre 2026 — Orgelet")
    assert chat.text("alice", "/bilan 2026-11 orgelet caf-evs").splitlines()[0].endswith("— Orgelet")
    refused = chat.text("alice", "/bilan 2026-11 réseau")
    assert "Vous voyez le bilan du lieu que vous coordonnez" in refused and "/bilan mois orgelet" in refused
    assert "Vous voyez le bilan" in chat.text("alice", "/bilan 2026-11 foncine")
    assert "Seul" in chat.text("bob", "/bilan 2026-11")


def test_the_report_is_listed_for_coordinators_of_a_place_not_for_members(chat: Chat) -> None:
    network(chat)
    assert "/bilan" in chat.text("alice", "/aide")
    assert "/bilan" not in chat.text("bob", "/aide")
