"""Native Telegram polls for /poll and /proposal: the real PTB adapter against the Bot API stand-in.
The poll is sent with sendPoll (not anonymous, several answers when the poll allows them) — in a group only
when it was created public, since Telegram shows every voter's choice in such a poll — and each
member's poll_answer update counts as their /vote — once per member, changed or taken back; closing it
stops the native poll (stopPoll)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import Session

from bot.app import App
from storage import decisions as store
from tests.integration.telegram_standin import BotApiStandIn
from tests.integration.test_telegram import make_app

pytestmark = pytest.mark.integration

ALICE, BRUNO, CAMILLE = 4301, 4302, 4303
GROUP = -1002000


@pytest.fixture
async def running(tmp_path: Path, standin: BotApiStandIn) -> AsyncIterator[App]:
    app = make_app(tmp_path, standin)
    await app.start()
    yield app
    await app.stop()


def counts(app: App, number: int) -> tuple[int, list[int]]:
    with Session(app.engine) as session:
        tally = store.tally_of(session, number)
        options = store.options_of(session, number)
        return tally.voters, [tally.yes(o.id or 0) for o in options]


async def until_counts(app: App, standin: BotApiStandIn, number: int, expected: tuple[int, list[int]]) -> None:
    for _ in range(100):
        if counts(app, number) == expected:
            return
        await standin.settle(0.05)
    assert counts(app, number) == expected


async def test_a_public_poll_in_a_group_is_a_native_poll_whose_answers_count_once_per_member(
    running: App, standin: BotApiStandIn
) -> None:
    alice, bruno, camille = (standin.user(ALICE, "Alice"), standin.user(BRUNO, "Bruno"),
                             standin.user(CAMILLE, "Camille"))
    group = standin.group(GROUP)
    standin.type_text(group, alice, '/sondage "Quel jour pour le rangement ?" "Samedi" "Dimanche" plusieurs public')
    [card] = await standin.wait_for("sendMessage", chat_id=GROUP)
    assert "Quel jour pour le rangement" in card.params["text"]
    assert "reply_markup" not in card.params  # the native poll replaces the buttons
    [sent] = await standin.wait_for("sendPoll", chat_id=GROUP)
    assert sent.params["question"] == "Sondage n° 1 — Quel jour pour le rangement ?"
    assert [o["text"] if isinstance(o, dict) else o for o in sent.params["options"]] == ["Samedi", "Dimanche"]
    assert str(sent.params["is_anonymous"]).lower() == "false"
    assert str(sent.params["allows_multiple_answers"]).lower() == "true"
    poll_id = next(m["poll"]["id"] for m in standin.messages.values() if "poll" in m)

    standin.answer_poll(bruno, poll_id, [1])
    standin.answer_poll(camille, poll_id, [0, 1])
    await until_counts(running, standin, 1, (2, [1, 2]))
    standin.answer_poll(bruno, poll_id, [0])  # changes his mind
    await until_counts(running, standin, 1, (2, [2, 1]))
    standin.answer_poll(camille, poll_id, [])  # takes her answer back
    await until_counts(running, standin, 1, (1, [1, 0]))
    await standin.settle()
    assert [c.params["text"] for c in standin.sent("sendMessage", chat_id=GROUP)] == [card.params["text"]]
    # ↑ the confirmations are each voter's own, never the group's

    standin.type_text(group, alice, "/sondage fermer 1")
    [stopped] = await standin.wait_for("stopPoll", chat_id=GROUP)  # the native poll takes no more answers
    assert int(stopped.params["message_id"]) == next(k[1] for k, m in standin.messages.items() if "poll" in m)
    [_card, result] = await standin.wait_for("sendMessage", 2, chat_id=GROUP)
    assert "Résultat : Samedi." in result.params["text"] and "1 membre sur" in result.params["text"]


async def test_a_proposal_is_a_native_poll_with_for_against_and_abstain(
    running: App, standin: BotApiStandIn
) -> None:
    alice, bruno = standin.user(ALICE, "Alice"), standin.user(BRUNO, "Bruno")
    chat = standin.private_chat(alice)
    standin.private_chat(bruno)
    standin.type_text(chat, alice, '/proposition "Acheter un lave-vaisselle (450 €)"')
    [sent] = await standin.wait_for("sendPoll", chat_id=ALICE)
    assert [o["text"] if isinstance(o, dict) else o for o in sent.params["options"]] == ["pour", "contre",
                                                                                         "abstention"]
    assert str(sent.params.get("allows_multiple_answers", "false")).lower() == "false"
    poll_id = next(m["poll"]["id"] for m in standin.messages.values() if "poll" in m)
    standin.answer_poll(alice, poll_id, [0])
    await until_counts(running, standin, 1, (1, [1, 0, 0]))
    [_card, confirmation] = await standin.wait_for("sendMessage", 2, chat_id=ALICE)
    assert "Votre vote au n° 1 : pour." in confirmation.params["text"]  # privately, she sees her choice


async def test_a_poll_that_is_not_public_keeps_its_buttons_in_a_group_where_telegram_would_show_voters(
    running: App, standin: BotApiStandIn
) -> None:
    alice, bruno = standin.user(ALICE, "Alice"), standin.user(BRUNO, "Bruno")
    group = standin.group(GROUP)
    standin.type_text(group, alice, '/sondage "Secret ?" "Oui" "Non"')
    [card] = await standin.wait_for("sendMessage", chat_id=GROUP)
    await standin.settle()
    assert not standin.sent("sendPoll")  # a non-anonymous Telegram poll would show who chose what
    vote_buttons = [b for row in card.params["reply_markup"]["inline_keyboard"] for b in row]
    assert [b["callback_data"] for b in vote_buttons] == ["/vote 1 1", "/vote 1 2"]
    message = standin.messages[(str(GROUP), max(m for c, m in standin.messages if c == str(GROUP)))]
    standin.press(bruno, message, "/vote 1 2")
    await until_counts(running, standin, 1, (1, [0, 1]))
