"""A network of places (issue 18), through the chat, on SQLite and PostgreSQL: La Fabrique (the sample
spaces file), Orgelet and Foncine. Now is Monday 23 November 2026, 10:00 Paris."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.models import Space
from storage.places import can_manage
from tests.harness import Chat


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
