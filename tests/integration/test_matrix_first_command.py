"""Issue 21: the first command a member sends right after inviting the bot is answered, once; what the
room held before the invitation is history and is not."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from nio import RoomCreateResponse, RoomMemberEvent

from tests.integration.synapse_server import RegisteredUser, SynapseServer, synapse
from tests.integration.test_matrix import MemberClient, bot_env, bot_user, member, start_bot

__all__ = ["bot_user", "member", "synapse"]

pytestmark = pytest.mark.integration


async def test_a_command_sent_as_soon_as_the_bot_has_joined_is_answered_once_in_ten_new_rooms(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path
) -> None:
    app = await start_bot(bot_env(synapse, bot_user, tmp_path))
    try:
        asked: list[tuple[str, str]] = []
        for _ in range(10):
            room = await member.create_room(bot_user.user_id)  # returns once the member sees the bot's join
            asked.append((room, await member.say(room, "!help")))
        for room, event_id in asked:
            await member.wait_for_reply(room, event_id, bot_user.user_id)
        await asyncio.sleep(1.5)
        await member.sync()
        assert [len(member.replies_to(event_id, bot_user.user_id)) for _, event_id in asked] == [1] * 10
    finally:
        await app.stop()


async def test_a_command_sent_between_the_invitation_and_the_join_is_answered_and_older_ones_are_not(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path
) -> None:
    env = bot_env(synapse, bot_user, tmp_path)
    app = await start_bot(env)
    await app.stop()  # the bot knows its position; it is down while the member prepares the room
    created = await member.client.room_create()
    assert isinstance(created, RoomCreateResponse)
    room = created.room_id
    await member.sync(timeout=0)
    older = await member.say(room, "!spaces")  # before the invitation: history
    await member.client.room_invite(room, bot_user.user_id)
    waiting = await member.say(room, "!help")  # after the invitation: the member is waiting for it
    app = await start_bot(env)
    try:
        await member.wait_for(lambda r, e: r == room and isinstance(e, RoomMemberEvent)
                              and e.state_key == bot_user.user_id and e.membership == "join")
        await member.wait_for_reply(room, waiting, bot_user.user_id)
        await asyncio.sleep(1.5)
        await member.sync()
        assert len(member.replies_to(waiting, bot_user.user_id)) == 1
        assert member.replies_to(older, bot_user.user_id) == []
    finally:
        await app.stop()
