"""Coordinators name members without doubt: a mention, a number from /members, an account, or a name
only one member could have; a name members chose themselves never shadows another member."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from bot.core.types import ChatRef, Incoming, Platform, Reply, UserRef
from storage.members import find_member_by_name, lookup_member
from storage.models import Identity, Qualification
from tests.harness import Chat

TG, MX = Platform.TELEGRAM, Platform.MATRIX
ALICE = UserRef(TG, "1001", "Alice Martin", username="alice_m")
IMPOSTOR = UserRef(TG, "1002", "alice")
ALICE_MATRIX = UserRef(MX, "@alice:example.org", "Alice M.")
BRUNO = UserRef(TG, "1003", "Bruno Lefèvre")


def say(chat: Chat, user: UserRef, text: str, mentions: tuple[UserRef, ...] = (),
        is_action: bool = False) -> list[Reply]:
    incoming = Incoming(ChatRef(user.platform, user.user_id, True), user, text, mentions=mentions,
                        is_action=is_action)
    return chat.app.dispatcher.handle_sync(incoming)


def text_of(replies: list[Reply]) -> str:
    return "\n".join((f"{r.title}\n" if r.title else "") + r.text for r in replies)


@pytest.fixture
def people(chat: Chat) -> Iterator[Chat]:
    for user in (ALICE, IMPOSTOR, ALICE_MATRIX, BRUNO):
        say(chat, user, "/start")
    yield chat


def number_of(chat: Chat, user: UserRef) -> int:
    with Session(chat.app.engine) as session:
        identity = session.exec(select(Identity).where(Identity.platform == user.platform.value,
                                                       Identity.user_id == user.user_id)).one()
        return identity.member_id


def cleared(chat: Chat, user: UserRef) -> list[str]:
    with Session(chat.app.engine) as session:
        return list(session.exec(select(Qualification.name).where(
            Qualification.member_id == number_of(chat, user))))


def test_a_member_calling_herself_alice_is_not_picked_over_alice_martin(people: Chat) -> None:
    chat = people
    answer = chat.text("coord", "/grant alice laser")
    assert "Alice Martin" in answer and "alice" in answer
    assert cleared(chat, ALICE) == [] and cleared(chat, IMPOSTOR) == []
    assert "Alice Martin" in chat.text("coord", f"/grant #{number_of(chat, ALICE)} laser")
    assert cleared(chat, ALICE) == ["laser"] and cleared(chat, IMPOSTOR) == []


def test_a_telegram_username_or_a_matrix_id_names_their_member(people: Chat) -> None:
    chat = people
    assert "Alice Martin" in chat.text("coord", "/grant @alice_m laser")
    assert "Alice M." in chat.text("coord", "/grant @alice:example.org laser")
    assert cleared(chat, ALICE) == ["laser"] and cleared(chat, ALICE_MATRIX) == ["laser"]
    assert cleared(chat, IMPOSTOR) == []


def test_a_name_only_one_member_could_have_is_enough(people: Chat) -> None:
    assert "Bruno Lefèvre" in people.text("coord", "/grant bruno lefevre laser")
    assert cleared(people, BRUNO) == ["laser"]


def test_members_lists_numbers_platforms_and_handles(people: Chat) -> None:
    listing = people.text("coord", "/membres")
    assert f"#{number_of(people, ALICE)} Alice Martin · Telegram @alice_m" in listing
    assert f"#{number_of(people, ALICE_MATRIX)} Alice M. · Matrix @alice:example.org" in listing
    assert "Seul" in people.text("alice", "/membres")  # coordinators only


def test_an_ambiguous_name_offers_a_choice_with_buttons_showing_platform_and_handle(people: Chat) -> None:
    coordinator = UserRef(Platform.CONSOLE, "coord", "Coord")
    [choice] = say(people, coordinator, "/membres alice")
    assert choice.text.startswith("Plusieurs membres pourraient être « alice »")
    labels = [a.label for a in choice.actions]
    assert f"#{number_of(people, ALICE)} Alice Martin · Telegram @alice_m" in labels
    assert f"#{number_of(people, IMPOSTOR)} alice · Telegram" in labels
    pressed = next(a for a in choice.actions if "Alice Martin" in a.label)
    [card] = say(people, coordinator, pressed.command, is_action=True)
    assert card.text.startswith(f"#{number_of(people, ALICE)} Alice Martin")


def test_a_mention_names_its_member_even_among_namesakes(people: Chat) -> None:
    twin = UserRef(TG, "1004", "Alice Martin")
    say(people, twin, "/start")
    coordinator = UserRef(Platform.CONSOLE, "coord", "Coord")
    [card] = say(people, coordinator, "/membres Alice Martin", mentions=(twin,))
    assert card.text.startswith(f"#{number_of(people, twin)} Alice Martin")
    [choice] = say(people, coordinator, "/membres Alice Martin")
    assert len(choice.actions) == 2  # without the mention, the two namesakes are a choice


def test_a_display_name_shaped_like_an_account_or_a_number_names_nobody(chat: Chat) -> None:
    say(chat, UserRef(TG, "2001", "@boss:example.org"), "/start")
    say(chat, UserRef(TG, "2002", "#1"), "/start")
    with Session(chat.app.engine) as session:
        assert lookup_member(session, "@boss:example.org").member is None
        found = lookup_member(session, "#1").member
        assert found is None or found.display_name != "#1"
        assert find_member_by_name(session, "ali") == []  # nobody: never a silent guess


def test_someone_unknown_is_said_to_be_unknown(people: Chat) -> None:
    assert "Je ne connais personne qui s'appelle « zorro »" in people.text("coord", "/membres zorro")
