"""Native Matrix polls against a real Synapse: /poll posts an m.poll.start (Element shows it as a poll)
and a member's m.poll.response events count as their /vote — changed by a later response, stable or
unstable (MSC3381) form; closing it sends the m.poll.end with the result."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlmodel import Session

from bot.app import App
from storage import decisions as store
from tests.integration.synapse_server import RegisteredUser, SynapseServer, synapse
from tests.integration.test_matrix import WAIT_S, MemberClient, bot_env, bot_user, member, start_bot

__all__ = ["bot_user", "member", "synapse"]  # fixtures, re-exported so pytest finds them here

pytestmark = pytest.mark.integration


def counts(app: App, number: int) -> tuple[int, list[int]]:
    with Session(app.engine) as session:
        tally = store.tally_of(session, number)
        return tally.voters, [tally.yes(o.id or 0) for o in store.options_of(session, number)]


async def until_counts(app: App, number: int, expected: tuple[int, list[int]]) -> None:
    deadline = time.monotonic() + WAIT_S
    while counts(app, number) != expected and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert counts(app, number) == expected


@pytest.mark.parametrize("encrypted", [False, True], ids=["clear", "encrypted"])
async def test_a_poll_is_an_m_poll_start_and_members_responses_are_their_votes(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path, encrypted: bool
) -> None:
    app = await start_bot(bot_env(synapse, bot_user, tmp_path))
    try:
        room = await member.create_room(bot_user.user_id, encrypted=encrypted)
        await member.say(room, '!sondage "Quel jour pour le rangement ?" "Samedi" "Dimanche"')
        start = await member.wait_for(lambda r, e: r == room and e.source.get("type") == "m.poll.start")
        poll = start.source["content"]["m.poll"]
        assert poll["question"]["m.text"][0]["body"] == "Sondage n° 1 — Quel jour pour le rangement ?"
        assert [(a["m.id"], a["m.text"][0]["body"]) for a in poll["answers"]] == [("1", "Samedi"), ("2", "Dimanche")]
        assert poll["max_selections"] == 1 and poll["kind"] == "m.disclosed"
        assert start.source["content"]["org.matrix.msc3381.poll.start"]["answers"][1]["id"] == "2"

        reference = {"rel_type": "m.reference", "event_id": start.event_id}
        await member._send(room, "m.poll.response", {"m.relates_to": reference, "m.selections": ["2"]})
        await until_counts(app, 1, (1, [0, 1]))
        await member._send(room, "org.matrix.msc3381.poll.response",  # Element's form; the latest counts
                           {"m.relates_to": reference, "org.matrix.msc3381.poll.response": {"answers": ["1"]}})
        await until_counts(app, 1, (1, [1, 0]))

        await member.say(room, "!sondage fermer 1")
        end = await member.wait_for(lambda r, e: r == room and e.source.get("type") == "m.poll.end")
        assert end.source["content"]["m.relates_to"] == reference
        assert "Résultat : Samedi." in end.source["content"]["m.text"][0]["body"]
    finally:
        await app.stop()
