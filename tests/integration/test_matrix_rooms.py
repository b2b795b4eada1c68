"""Rooms as the bot lives in them: a room that removes the bot is unsubscribed, reports name rooms as
their members see them, and the operator's log says what matters once."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest
from nio import RoomCreateResponse, RoomMemberEvent
from sqlmodel import Session, select

from storage.announcements import chat_title
from storage.models_reminders import Subscription
from tests.integration.synapse_server import RegisteredUser, SynapseServer, synapse
from tests.integration.test_matrix import WAIT_S, MemberClient, bot_env, bot_user, member, start_bot

__all__ = ["bot_user", "member", "synapse"]

pytestmark = pytest.mark.integration


async def test_a_room_that_kicks_the_bot_is_unsubscribed_and_reports_name_rooms_by_their_name(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    app = await start_bot(bot_env(synapse, bot_user, tmp_path))
    try:
        created = await member.client.room_create(name="Café des bricoleurs", invite=[bot_user.user_id])
        assert isinstance(created, RoomCreateResponse)
        room = created.room_id
        await member.wait_for(lambda r, e: r == room and isinstance(e, RoomMemberEvent)
                              and e.state_key == bot_user.user_id and e.membership == "join")
        asked = await member.say(room, "!abonner")
        await member.wait_for_reply(room, asked, bot_user.user_id)

        def subscribed() -> list[str]:
            with Session(app.engine) as session:
                return [s.chat_id for s in session.exec(select(Subscription))]

        assert subscribed() == [room]
        with Session(app.engine) as session:
            assert chat_title(session, "matrix", room) == "Café des bricoleurs"

        await member.client.room_kick(room, bot_user.user_id, reason="trop de messages")
        deadline = time.monotonic() + WAIT_S
        while subscribed():
            assert time.monotonic() < deadline, "the room that kicked the bot is still subscribed"
            await asyncio.sleep(0.2)
        assert f"removed from Café des bricoleurs ({room}) by {member.user_id}: unsubscribed" in caplog.text
        # The operator's log: the login once, none of nio's per-event INFO lines.
        assert caplog.text.count("Matrix: logged in as") == 1
        nio_lines = [r for r in caplog.records if r.name.startswith("nio") and r.levelno < logging.WARNING]
        assert nio_lines == []
    finally:
        await app.stop()
