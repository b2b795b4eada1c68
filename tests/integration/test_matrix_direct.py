"""Private messages a member should notice notify them (m.text in a direct chat, as Synapse's push rules
see it), answers in rooms stay quiet notices, and the bot opens a direct chat itself when it must."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from nio import RoomMessageNotice, RoomMessageText
from sqlmodel import Session, select

from bot.core.outbox import enqueue
from bot.core.types import Notice, Reply
from storage.models import Identity
from tests.integration.synapse_server import RegisteredUser, SynapseServer, synapse
from tests.integration.test_matrix import WAIT_S, MemberClient, bot_env, bot_user, matrix_adapter, member, start_bot

__all__ = ["bot_user", "member", "synapse"]

pytestmark = pytest.mark.integration


def notified_events(server: SynapseServer, person: MemberClient) -> dict[str, dict[str, Any]]:
    """Synapse's /notifications for the member: what their phone would buzz for."""
    answer = server.request("GET", "/_matrix/client/v3/notifications", token=person.client.access_token)
    return {n["event"]["event_id"]: n for n in answer["notifications"]}


async def wait_notified(server: SynapseServer, person: MemberClient, event_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = notified_events(server, person).get(event_id)
        if found is not None:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"no notification for {event_id}")


async def test_a_reminder_in_a_direct_chat_notifies_the_member_and_answers_in_a_room_do_not(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path
) -> None:
    app = await start_bot(bot_env(synapse, bot_user, tmp_path))
    try:
        direct = await member.create_room(bot_user.user_id, direct=True)
        group = await member.create_room(bot_user.user_id)
        asked = await member.say(direct, "!help")  # the member's first word there: their private chat
        await member.wait_for_reply(direct, asked, bot_user.user_id)
        in_group = await member.say(group, "!help")
        group_answer = await member.wait_for_reply(group, in_group, bot_user.user_id)
        assert isinstance(group_answer, RoomMessageNotice)

        with Session(app.engine) as session:
            identity = session.exec(select(Identity).where(Identity.user_id == member.user_id)).one()
            assert identity.private_chat_id == direct
            notice = Notice(Reply("Rappel : salle de réunion demain à 14 h"), member_id=identity.member_id,
                            dedup_key="test-reminder")
            enqueue(session, [notice], datetime.now(UTC))
            session.commit()
        app.outbox.wake()
        reminder = await member.wait_for(lambda r, e: r == direct and getattr(e, "body", "").startswith("Rappel"))
        assert isinstance(reminder, RoomMessageText) and not isinstance(reminder, RoomMessageNotice)
        notification = await wait_notified(synapse, member, reminder.event_id)
        assert "notify" in notification["actions"]
        assert group_answer.event_id not in notified_events(synapse, member)
    finally:
        await app.stop()


async def test_the_bot_opens_a_direct_chat_itself_and_its_message_notifies(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path
) -> None:
    app = await start_bot(bot_env(synapse, bot_user, tmp_path))
    try:
        adapter = matrix_adapter(app)
        room = await adapter.open_private_chat(member.user_id)
        assert await adapter.open_private_chat(member.user_id) == room  # reused, not a second chat
        # Sent at once, while the member is only invited: it waits for them, readable once they join.
        await adapter.send(room, Reply("Vous avez un rappel : atelier vélo demain à 18 h."), key="early")
        deadline = time.monotonic() + WAIT_S
        while room not in member.client.invited_rooms:
            assert time.monotonic() < deadline, "no invitation"
            await member.sync()
        await member.client.join(room)
        early = await member.wait_for(lambda r, e: r == room and e.sender == bot_user.user_id
                                      and isinstance(e, RoomMessageText))
        assert early.body.startswith("Vous avez un rappel"), early
        await adapter.send(room, Reply("Une place s'est libérée : vous êtes inscrit·e à l'atelier."), key="promo")
        promoted = await member.wait_for(lambda r, e: r == room and e.sender == bot_user.user_id
                                         and getattr(e, "body", "").startswith("Une place"))
        assert isinstance(promoted, RoomMessageText) and not isinstance(promoted, RoomMessageNotice)
        await wait_notified(synapse, member, promoted.event_id)
    finally:
        await app.stop()
