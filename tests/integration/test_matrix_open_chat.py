"""A member who only ever wrote to the bot in a group room is told something privately: the bot opens a
direct chat itself (real Synapse), the member is invited, and the message waits for them there, once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from nio import RoomMessageNotice, RoomMessageText
from sqlmodel import Session, select

from storage.models import Booking, Identity, Member
from tests.integration.synapse_server import RegisteredUser, SynapseServer, synapse
from tests.integration.test_matrix import WAIT_S, MemberClient, bot_env, bot_user, member, start_bot

__all__ = ["bot_user", "member", "synapse"]

pytestmark = pytest.mark.integration


async def test_a_coordinator_cancelling_a_booking_of_someone_without_a_private_chat_opens_one_and_tells_them_once(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path
) -> None:
    app = await start_bot(bot_env(synapse, bot_user, tmp_path))
    coordinator = await MemberClient.create(synapse, tmp_path / "coordinator-store")
    try:
        group = await member.create_room(bot_user.user_id)
        asked = await member.say(group, "!reserver salle-reunion demain 14h-16h")
        await member.wait_for_reply(group, asked, bot_user.user_id)
        coordinators_room = await coordinator.create_room(bot_user.user_id)
        hello = await coordinator.say(coordinators_room, "!aide")
        await coordinator.wait_for_reply(coordinators_room, hello, bot_user.user_id)
        with Session(app.engine) as session:
            identity = session.exec(select(Identity).where(Identity.user_id == member.user_id)).one()
            assert identity.private_chat_id is None  # only ever seen in a group room
            booking_id = session.exec(select(Booking.id).where(Booking.member_id == identity.member_id)).one()
            coord = session.exec(select(Identity).where(Identity.user_id == coordinator.user_id)).one()
            session.get_one(Member, coord.member_id).is_coordinator = True
            session.commit()

        cancel = await coordinator.say(coordinators_room, f"!annuler {booking_id}")
        answer = await coordinator.wait_for_reply(coordinators_room, cancel, bot_user.user_id)
        assert "prévenue" in answer.body, answer.body

        deadline = time.monotonic() + WAIT_S
        while not member.client.invited_rooms:
            assert time.monotonic() < deadline, "the bot opened no direct chat"
            await member.sync()
        [room] = member.client.invited_rooms
        await member.client.join(room)

        def is_notice(r: str, e: object) -> bool:
            return (r == room and getattr(e, "sender", None) == bot_user.user_id
                    and "a annulé votre réservation" in getattr(e, "body", ""))

        told = await member.wait_for(is_notice)
        assert isinstance(told, RoomMessageText) and not isinstance(told, RoomMessageNotice)  # it notifies
        for _ in range(3):  # a little longer: nothing comes twice, no second chat is opened
            await asyncio.sleep(0.5)
            await member.sync()
        assert [e for r, e in member.seen if is_notice(r, e)] == [told]
        assert not member.client.invited_rooms
        with Session(app.engine) as session:
            identity = session.exec(select(Identity).where(Identity.user_id == member.user_id)).one()
            assert identity.private_chat_id == room
    finally:
        await coordinator.client.close()
        await app.stop()
