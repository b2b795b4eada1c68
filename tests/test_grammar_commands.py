"""Commands read their arguments with the declared pieces: what /help shows is what is accepted, and
the phrasings the issue found misread are read right (through the chat, on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.i18n import Translator, translator_for
from bot.core.router import Command, split_command
from bot.core.types import Platform, UserRef
from storage.members import get_or_create_member
from storage.models import Booking, Space
from tests.harness import Chat

TZ = ZoneInfo("Europe/Paris")


def typed_commands(chat: Chat) -> list[Command]:
    return [c for c in chat.app.dispatcher.commands.commands if c.args is not None or c.subcommands]


@pytest.fixture
def coordinator_ctx(sqlite_chat: Chat) -> Iterator[tuple[Chat, Session]]:
    for name in ("alice", "marie curie"):
        sqlite_chat.say(name, "/start")
    with Session(sqlite_chat.app.engine) as session:
        yield sqlite_chat, session


def ctx_for(chat: Chat, session: Session, language: str) -> Ctx:
    member, identity = get_or_create_member(session, UserRef(Platform.CONSOLE, "coord", "Coord"), language)
    return Ctx(session=session, settings=chat.app.settings, incoming=chat.incoming("coord", ""), member=member,
               identity=identity, now=chat.clock.now, translator=translator_for(language, "Europe/Paris"),
               is_coordinator=True, commands=chat.app.dispatcher.commands)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_example_shown_in_help_is_read_by_its_command(coordinator_ctx: tuple[Chat, Session],
                                                            language: str) -> None:
    chat, session = coordinator_ctx
    ctx = ctx_for(chat, session, language)
    checked = 0
    for command in typed_commands(chat):
        examples = command.all_examples()
        assert len(examples) >= 1, f"/{command.name} declares no example"
        for example in examples:
            shown = ctx._(example)
            parsed = split_command(shown)
            assert parsed is not None, shown
            name, args = parsed
            assert chat.app.dispatcher.commands.find(name) is command, shown
            command.parse(ctx, args)  # raises if the example is not accepted
            checked += 1
    assert checked > 20


def test_help_for_a_command_shows_its_usage_and_two_examples(sqlite_chat: Chat) -> None:
    french = Translator("fr", TZ)
    for command in typed_commands(sqlite_chat):
        if command.hidden:
            continue
        answer = sqlite_chat.text("coord", f"/aide {command.name_in('fr')}")
        for line in command.usage_lines(french):
            assert line in answer, (command.name, line)
        examples = [french.gettext(e) for e in command.all_examples()]
        assert sum(e in answer for e in examples) >= min(2, len(examples)), command.name
    assert "/reserver <espace> <quand>" in sqlite_chat.text("alice", "/aide réserver")
    assert "/annuler <numéro>" in sqlite_chat.text("alice", "/help cancel")
    assert "Je ne connais pas /frob" in sqlite_chat.text("alice", "/aide frob")


def test_usage_lines_list_subcommands_with_french_names(sqlite_chat: Chat) -> None:
    answer = sqlite_chat.text("coord", "/aide espace")
    assert "/espace ajouter <nom-court>" in answer and "/espace fermer <espace>" in answer


def bookings(chat: Chat) -> list[Booking]:
    with Session(chat.app.engine) as session:
        return list(session.exec(select(Booking)))


@pytest.mark.parametrize("text", [
    "/reserver la salle de réunion demain 11h-12h",
    "/reserver Salle de réunion demain 11h-12h",
    "/book the salle-reunion tomorrow 11:00-12:00",
])
def test_an_article_before_a_space_is_not_read_as_its_name(chat: Chat, text: str) -> None:
    assert chat.text("alice", text).startswith(("Réservé : Salle de réunion", "Booked: Salle de réunion"))


@pytest.mark.parametrize(("text", "space"), [
    ("/reserver la cuisine demain 11h-12h", "Cuisine du café"),
    ("/reserver la petite salle demain 11h-12h", "Petite salle"),
    ("/reserver l'open space demain 11h-12h", "Open space coworking"),
    ("/reserver un poste en coworking demain 11h-12h", "Open space coworking"),
])
def test_spaces_named_with_articles_are_found(chat: Chat, text: str, space: str) -> None:
    assert chat.text("alice", text).startswith(f"Réservé : {space}")


@pytest.mark.parametrize("number", ["1", "n°1", "n° 1", "#1", "no 1", "N°1"])
def test_a_booking_number_is_read_however_the_bot_or_the_member_writes_it(chat: Chat, number: str) -> None:
    chat.say("alice", "/reserver salle-reunion demain 14h-16h")
    assert chat.text("alice", f"/annuler {number}").startswith("Annulé : #1 Salle de réunion")


def test_words_left_over_are_said_not_dropped(chat: Chat) -> None:
    chat.say("alice", "/reserver salle-reunion demain 14h-16h")
    answer = chat.text("alice", "/annuler 1 et aussi 2")
    assert "Je n'ai pas compris « et aussi 2 »" in answer and "Utilisation : /annuler <numéro>" in answer
    assert [b.status for b in bookings(chat)] == ["active"]


def test_space_added_with_some_days_is_open_only_those_days_and_says_so(chat: Chat) -> None:
    answer = chat.text("coord", '/espace ajouter atelier-bois "Atelier bois" tue=14:00-19:00 thu=14:00-22:00 '
                                "sat=10:00-18:00")
    assert answer == ("Espace ajouté : Atelier bois (atelier-bois).\n"
                      "Ouvert : mar. 14:00-19:00; jeu. 14:00-22:00; sam. 10:00-18:00")
    assert "en dehors des heures d'ouverture" in chat.text("alice", "/reserver atelier-bois lundi 10h-11h")
    assert chat.text("alice", "/reserver atelier-bois mardi 15h-16h").startswith("Réservé : Atelier bois")


@pytest.mark.parametrize("days", ["mar=14:00-19:00 sam=10:00-18:00", "mardi=14:00-19:00 samedi=10:00-18:00",
                                  "Mar.=14h00-19h00 SAM=10:00-18:00"])
def test_space_settings_take_french_day_names(chat: Chat, days: str) -> None:
    answer = chat.text("coord", f"/espace ajouter atelier-bois {days}")
    assert answer.endswith("Ouvert : mar. 14:00-19:00; sam. 10:00-18:00"), answer


def test_space_settings_take_french_kinds_and_answer_in_french(chat: Chat) -> None:
    chat.say("coord", '/espace ajouter atelier-bois "Atelier bois" type=salle capacite=4 mar=14:00-19:00')
    with Session(chat.app.engine) as session:
        space = session.exec(select(Space).where(Space.slug == "atelier-bois")).one()
        assert (space.kind, space.capacity) == ("room", 4)
    answer = chat.text("coord", "/espace modifier atelier-bois type=grenier")
    assert answer.startswith("« grenier » n'est pas un type d'espace que je connais : postes de travail (desk)")
    assert "I don't" not in chat.text("coord", "/espace modifier atelier-bois mercredi=9h")


def test_a_space_added_without_days_gets_weekday_hours_and_is_told(chat: Chat) -> None:
    answer = chat.text("coord", "/espace ajouter atelier-bois")
    assert "Ouvert : lun. 09:00-18:00; mar. 09:00-18:00" in answer and "par défaut" in answer


def test_coordinator_booking_outside_the_rules_says_which(chat: Chat) -> None:
    answer = chat.text("coord", "/reserver salle-reunion demain 9h-15h")
    assert answer.startswith("Réservé : Salle de réunion")
    assert "Hors règles (coordination) : 6h > 4h max." in answer
    assert "Hors règles" not in chat.text("coord", "/reserver petite-salle demain 9h-10h")


def shifts(chat: Chat) -> list[tuple[str, int, int | None]]:
    from storage.models_volunteers import Shift

    with Session(chat.app.engine) as session:
        return [(s.title, s.places, s.space_id) for s in session.exec(select(Shift))]


@pytest.mark.parametrize("text", [
    '/besoin "Tenir le bar" samedi 18h-22h 2 lieu Salle de réunion',
    '/besoin "Tenir le bar" samedi 18h-22h places 2 lieu Salle de réunion',
    '/besoin « Tenir le bar » samedi 18h-22h lieu la salle de réunion 2 places',
    '/besoin "Tenir le bar" lieu salle-reunion samedi 18h-22h pour 2 personnes',
])
def test_a_need_reads_its_place_and_people_in_any_order(chat: Chat, text: str) -> None:
    answer = chat.text("coord", text)
    expected = "Publié : #1 samedi 28 novembre, 18:00–22:00 — Tenir le bar (Salle de réunion): 0/2"
    assert answer.startswith(expected), answer
    with Session(chat.app.engine) as session:
        room = session.exec(select(Space).where(Space.slug == "salle-reunion")).one()
    assert shifts(chat) == [("Tenir le bar", 2, room.id)]


def task_entries(chat: Chat) -> list[tuple[int, str, str]]:
    from storage.models_volunteers import TaskEntry

    with Session(chat.app.engine) as session:
        return [(e.minutes, e.day.isoformat(), e.description) for e in session.exec(select(TaskEntry))]


def test_hours_are_logged_on_the_day_said_with_the_day_out_of_the_description(chat: Chat) -> None:
    assert chat.text("alice", "/tache 1h tri hier soir").startswith(
        "C'est noté, merci : #1 dimanche 22 novembre — 1h tri.")
    assert chat.text("alice", "/tache 2h bar le 28").startswith(
        "C'est noté, merci : #2 mercredi 28 octobre — 2h bar.")
    assert chat.text("alice", "/tache 1h30 accueil samedi dernier #cafe").startswith(
        "C'est noté, merci : #3 samedi 21 novembre — 1h30 accueil #cafe.")
    assert task_entries(chat) == [(60, "2026-11-22", "tri"), (120, "2026-10-28", "bar"),
                                  (90, "2026-11-21", "accueil")]


@pytest.mark.parametrize("text", ["/tache 2h réunion de jeudi et tri hier", "/tache 2h préparer décembre"])
def test_a_description_that_still_names_a_day_is_not_stored(chat: Chat, text: str) -> None:
    answer = chat.text("alice", text)
    assert "Réservé" not in answer and "C'est noté" not in answer
    assert task_entries(chat) == []


def test_a_shift_number_may_be_written_like_the_bot_writes_it(chat: Chat) -> None:
    chat.say("coord", '/besoin "Tri" jeudi 14h-16h 2')
    assert chat.text("alice", "/prendre n° 1").startswith("C'est noté, merci ! #1")
    assert chat.text("alice", "/lacher N°1").startswith("C'est fait")


phrases = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=60) | st.lists(
    st.sampled_from(["12", "n°3", "#cafe", '"Bar"', "«", "»", "places", "2", "lieu", "la", "salle", "réunion",
                     "demain", "14h-16h", "hier", "soir", "le", "28", "tous", "force", "mar=14:00-19:00",
                     "capacity=0", "kind=salle", "desc", "chaque", "samedi", "jusqu'au", "10", "fois", "2h30",
                     "semaine", "prochaine", "ici", "alice", "x2", "pour", "personnes", "1h", "midi"]),
    max_size=8).map(" ".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_reading_arguments_raises_nothing_but_a_sentence_for_the_member(
        coordinator_ctx: tuple[Chat, Session], data: st.DataObject) -> None:
    chat, session = coordinator_ctx
    ctx = ctx_for(chat, session, "fr")
    for command in typed_commands(chat):
        text = data.draw(phrases)
        try:
            command.parse(ctx, text)
        except UserError as error:
            assert error.message and "Traceback" not in error.message


def test_a_plain_handler_still_receives_its_text() -> None:
    from bot.core.router import CommandTable, Router

    router = Router("plain")
    seen: list[str] = []

    @router.command("echo", aliases=["repete"], help="Echo", usage="/echo <text>")
    def echo(ctx: object, args: str) -> None:
        seen.append(args)

    command = CommandTable([router]).find("echo")
    assert command is not None and command.args is None
    command.func(None, "  as typed, n°12 « x »")  # type: ignore[arg-type]
    assert seen == ["  as typed, n°12 « x »"]


def test_space_hours_may_be_written_the_french_way_and_a_name_unquoted(chat: Chat) -> None:
    answer = chat.text("coord", "/espace ajouter atelier-bois Atelier bois mar=14h-19h jeudi=9h30-12h,14h-18h")
    assert answer == ("Espace ajouté : Atelier bois (atelier-bois).\n"
                      "Ouvert : mar. 14:00-19:00; jeu. 09:30-12:00,14:00-18:00")
    assert chat.text("coord", "/espace modifier atelier-bois mar=fermé sam=10:00-24:00").endswith(
        "Ouvert : jeu. 09:30-12:00,14:00-18:00; sam. 10:00-24:00")
    assert "Je n'ai pas compris les horaires « 19h-14h » du mardi" in chat.text(
        "coord", "/espace modifier atelier-bois mar=19h-14h")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_examples_written_from_each_usage_are_read_by_the_command(coordinator_ctx: tuple[Chat, Session],
                                                                  language: str) -> None:
    chat, session = coordinator_ctx
    ctx = ctx_for(chat, session, language)
    written = 0
    for command in typed_commands(chat):
        for example in command.written_examples():
            parsed = split_command(example)
            assert parsed is not None and chat.app.dispatcher.commands.find(parsed[0]) is command, example
            command.parse(ctx, parsed[1])  # raises if what the usage promises is not read
            written += 1
    assert written > 40


def test_usage_shows_the_pieces_in_the_order_people_type_them(sqlite_chat: Chat) -> None:
    assert "/habiliter <membre> <habilitation>" in sqlite_chat.text("coord", "/aide habiliter")
    need = '/besoin "<titre>" <quand> [personnes] [#projet] [lieu <espace>]'
    assert need in sqlite_chat.text("coord", "/aide besoin")


def test_hours_can_be_logged_and_read_with_the_words_members_use(chat: Chat) -> None:
    """/heures and /benevolat log hours as /tache does; /mesheures shows them as /taches does."""
    assert chat.text("alice", "/heures 1h tri hier soir").startswith(
        "C'est noté, merci : #1 dimanche 22 novembre — 1h tri.")
    assert chat.text("alice", "/benevolat 2h bar hier").startswith(
        "C'est noté, merci : #2 dimanche 22 novembre — 2h bar.")
    assert chat.text("alice", "/mesheures") == chat.text("alice", "/taches")
    assert "3h" in chat.text("alice", "/mesheures")


def test_a_mistyped_command_is_answered_in_the_language_the_member_chose(sqlite_chat: Chat) -> None:
    sqlite_chat.say("alice", "/start")
    assert "Je ne connais pas /reserv" in sqlite_chat.text("alice", "/reserv salle demain")
    sqlite_chat.say("alice", "/langue en")
    answer = sqlite_chat.text("alice", "/reserv salle demain")
    assert "I don't know /reserv" in answer and "Je ne connais pas" not in answer
    # someone who never chose keeps the place's language (French here), whatever they typed before
    assert "Je ne connais pas /frob" in sqlite_chat.text("bob", "/frob")
