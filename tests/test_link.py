"""/link joins only one person's accounts: typed on the other app, confirmed by the first account, and
by the coordinator's side when a coordinator's role would travel; the answer says which roles result."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from bot.core.outbox import reply_from_json
from bot.core.types import Action, Platform
from storage.models import Identity, LinkCode
from storage.models_links import PendingLink
from tests.harness import Chat, make_chat

TG, MX = Platform.TELEGRAM, Platform.MATRIX
COORD = "@coord:example.org"


@pytest.fixture
def link_chat(database_url: str) -> Iterator[Chat]:
    harness = make_chat(database_url, COORDINATORS=f"matrix:{COORD}")
    yield harness
    harness.app.engine.dispose()


def code_for(chat: Chat, user: str, platform: Platform) -> str:
    return chat.text(user, "/link", platform=platform).split("/link ")[1].split()[0]


def member_of(chat: Chat, platform: Platform, user: str) -> int | None:
    with Session(chat.app.engine) as session:
        identity = session.exec(select(Identity).where(Identity.platform == platform.value,
                                                       Identity.user_id == user)).first()
        return identity.member_id if identity else None


def last_notice_actions(chat: Chat) -> tuple[str, list[Action]]:
    reply = reply_from_json(chat.outbox()[-1].payload)
    return reply.text, list(reply.actions)


def press(chat: Chat, user: str, platform: Platform, action: Action) -> str:
    return "\n".join(r.text for r in chat.app.dispatcher.handle_sync(
        chat.incoming(user, action.command, platform=platform, is_action=True)))


def test_the_same_person_links_telegram_and_matrix_after_confirming_on_the_first_account(link_chat: Chat) -> None:
    chat = link_chat
    chat.say("mallory", "/book salle-reunion demain 10h-11h", platform=TG)
    code = code_for(chat, "mallory", TG)
    answer = chat.text("@mallory:example.org", f"/link {code}", platform=MX)
    assert "confirmez sur votre compte Telegram" in answer
    assert member_of(chat, TG, "mallory") != member_of(chat, MX, "@mallory:example.org")  # nothing merged yet

    question, buttons = last_notice_actions(chat)
    assert question.startswith("Lier votre compte Matrix « @mallory:example.org » à ce compte Telegram ?")
    done = press(chat, "mallory", TG, buttons[0])
    assert "vos comptes sont liés (Matrix, Telegram)" in done
    assert "aucun rôle particulier" in done
    assert member_of(chat, TG, "mallory") == member_of(chat, MX, "@mallory:example.org")
    assert "salle" in chat.text("@mallory:example.org", "/mybookings", platform=MX).casefold()


def test_a_coordinator_typing_a_members_code_is_warned_and_nothing_happens_without_their_yes(
        link_chat: Chat) -> None:
    chat = link_chat
    code = code_for(chat, "mallory", TG)
    answer = chat.text(COORD, f"/link {code}", platform=MX)
    assert answer.startswith("Lier votre compte ?\nLier votre compte Telegram « Mallory » à ce compte Matrix ?")
    assert "Ce compte est coordinateur : « Mallory » le serait aussi" in answer
    coordinator_buttons = chat.last_actions[COORD]

    _question, mallory_buttons = last_notice_actions(chat)
    assert "quand l'autre compte aura confirmé" in press(chat, "mallory", TG, mallory_buttons[0])
    # Mallory's yes alone links nothing: she is still not a coordinator.
    assert member_of(chat, TG, "mallory") != member_of(chat, MX, COORD)
    assert "coordinat" in chat.text("mallory", "/grant Mallory laser", platform=TG)

    assert "Pas de liaison" in press(chat, COORD, MX, coordinator_buttons[1])
    assert "expiré ou a déjà reçu une réponse" in press(chat, "mallory", TG, mallory_buttons[0])
    assert member_of(chat, TG, "mallory") != member_of(chat, MX, COORD)


def test_a_coordinators_own_code_typed_by_someone_else_needs_the_coordinators_yes(link_chat: Chat) -> None:
    chat = link_chat
    code = code_for(chat, COORD, MX)
    answer = chat.text("mallory", f"/link {code}", platform=TG)
    assert "confirmez sur votre compte Matrix" in answer
    question, buttons = last_notice_actions(chat)
    assert question.startswith("Lier votre compte Telegram « Mallory » à ce compte Matrix ?")
    assert "Ce compte est coordinateur : « Mallory » le serait aussi" in question
    assert "Pas de liaison" in press(chat, COORD, MX, buttons[1])
    assert member_of(chat, TG, "mallory") != member_of(chat, MX, COORD)


def test_a_coordinator_linking_their_own_accounts_is_told_their_roles(link_chat: Chat) -> None:
    chat = link_chat
    code = code_for(chat, "coordtg", TG)
    chat.say(COORD, f"/link {code}", platform=MX)
    mine = chat.last_actions[COORD]
    _question, first = last_notice_actions(chat)
    assert "aura confirmé" in press(chat, "coordtg", TG, first[0])  # the first account said yes; waiting
    done = press(chat, COORD, MX, mine[0])
    assert "vos rôles sont : coordinateur" in done
    assert member_of(chat, TG, "coordtg") == member_of(chat, MX, COORD)
    assert "habilité" in chat.text("coordtg", "/grant Coordtg laser", platform=TG)


def test_a_code_typed_on_the_same_app_or_in_a_group_links_nothing(link_chat: Chat) -> None:
    chat = link_chat
    code = code_for(chat, "alice", TG)
    assert "sont sur Telegram" in chat.text("bob", f"/link {code}", platform=TG)
    code = code_for(chat, "alice", TG)
    assert "ne marche plus" in chat.text("@bob:example.org", f"/link {code}", platform=MX, group="!room:x")
    assert "inconnu" in chat.text("@bob:example.org", f"/link {code}", platform=MX)
    assert member_of(chat, TG, "alice") != member_of(chat, TG, "bob")


def test_only_the_two_accounts_can_press_the_buttons(link_chat: Chat) -> None:
    chat = link_chat
    code = code_for(chat, "alice", TG)
    chat.say("@alice:example.org", f"/link {code}", platform=MX)
    _question, buttons = last_notice_actions(chat)
    assert "réservé à la personne" in press(chat, "eve", TG, buttons[0])
    assert member_of(chat, TG, "alice") != member_of(chat, MX, "@alice:example.org")


def test_unused_codes_and_unanswered_confirmations_are_deleted_once_expired(link_chat: Chat) -> None:
    chat = link_chat
    code_for(chat, "alice", TG)
    chat.say("@alice:example.org", f"/link {code_for(chat, 'alice', TG)}", platform=MX)
    code_for(chat, "bob", TG)
    chat.app.jobs.run_now("forget_expired_links")
    assert counts(chat) == (1, 1)  # bob's code and alice's confirmation, still valid
    chat.clock.advance(hours=1)
    chat.app.jobs.run_now("forget_expired_links")
    assert counts(chat) == (0, 0)


def counts(chat: Chat) -> tuple[int, int]:
    with Session(chat.app.engine) as session:
        return len(session.exec(select(LinkCode)).all()), len(session.exec(select(PendingLink)).all())
