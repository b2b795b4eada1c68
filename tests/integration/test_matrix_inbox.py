"""Matrix through the inbox: nothing lost, nothing twice, answers where the command was asked."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from nio import RoomSendResponse
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine, select

from bot.core.types import Incoming
from storage.models import Booking
from tests.integration.synapse_server import RegisteredUser, SynapseServer, synapse
from tests.integration.test_matrix import (
    WAIT_S,
    MemberClient,
    bot_env,
    bot_user,
    matrix_adapter,
    member,
    start_bot,
)

__all__ = ["bot_user", "member", "synapse"]

pytestmark = pytest.mark.integration


async def test_a_command_in_a_thread_is_answered_in_that_thread(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path
) -> None:
    app = await start_bot(bot_env(synapse, bot_user, tmp_path))
    try:
        room = await member.create_room(bot_user.user_id)
        root = await member.say(room, "Qui réserve la salle demain ?")
        content: dict[str, Any] = {
            "msgtype": "m.text", "body": "!help",
            "m.relates_to": {"rel_type": "m.thread", "event_id": root, "is_falling_back": True,
                             "m.in_reply_to": {"event_id": root}},
        }
        sent = await member.client.room_send(room, "m.room.message", content)
        assert isinstance(sent, RoomSendResponse)
        answer = await member.wait_for(
            lambda r, e: r == room and e.sender == bot_user.user_id
            and e.source.get("content", {}).get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")
            == sent.event_id)
        relates = answer.source["content"]["m.relates_to"]
        assert relates["rel_type"] == "m.thread" and relates["event_id"] == root
        assert relates["is_falling_back"] is False  # a real reply to the command, inside the thread
    finally:
        await app.stop()


async def test_commands_on_both_sides_of_a_150_event_gap_while_the_bot_was_down_are_each_answered_once(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path
) -> None:
    env = bot_env(synapse, bot_user, tmp_path)
    app = await start_bot(env)
    room = await member.create_room(bot_user.user_id)
    await app.stop()
    first = await member.say(room, "!help")
    for n in range(148):
        await member.say(room, f"bavardage {n}")
    last = await member.say(room, "!spaces")
    app = await start_bot(env)
    try:
        for event_id in (first, last):
            await member.wait_for_reply(room, event_id, bot_user.user_id)
        await asyncio.sleep(1.5)
        await member.sync()
        assert [len(member.replies_to(e, bot_user.user_id)) for e in (first, last)] == [1, 1]
    finally:
        await app.stop()


async def test_a_command_the_inbox_could_not_store_is_read_again_and_answered_once(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path
) -> None:
    app = await start_bot(bot_env(synapse, bot_user, tmp_path))
    try:
        room = await member.create_room(bot_user.user_id)
        adapter = matrix_adapter(app)
        store = adapter._sink
        assert store is not None
        failed: list[int] = []

        async def failing_once(batch: Sequence[Incoming]) -> None:
            if batch and not failed:
                failed.append(len(batch))
                raise OperationalError("INSERT", {}, Exception("database is locked"))
            await store(batch)

        adapter._sink = failing_once
        asked = await member.say(room, "!help")
        await member.wait_for_reply(room, asked, bot_user.user_id)
        await asyncio.sleep(1.5)
        await member.sync()
        assert failed == [1] and len(member.replies_to(asked, bot_user.user_id)) == 1
    finally:
        await app.stop()


async def run_bot(env: dict[str, str], log_path: Path) -> asyncio.subprocess.Process:
    log_file = log_path.open("ab")
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env={**os.environ, **env}, stdout=log_file, stderr=log_file,
    )


async def test_a_bot_killed_mid_backlog_runs_each_command_once_and_answers_each_once(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path
) -> None:
    """8 bookings waiting while the bot was down; `tierslieu run` killed (SIGKILL) after the 3rd answer
    and started again: 8 bookings, one answer each (a second run of a booking would answer a conflict)."""
    env = bot_env(synapse, bot_user, tmp_path, HTTP_PORT="0", LOG_LEVEL="INFO")
    log_path = tmp_path / "run.log"
    process = await run_bot(env, log_path)
    try:
        room = await member.create_room(bot_user.user_id)
    finally:
        process.send_signal(signal.SIGTERM)
        await process.wait()
    asked = [await member.say(room, f"!book salle-reunion demain {hour}h-{hour + 1}h") for hour in range(9, 17)]

    process = await run_bot(env, log_path)
    try:
        deadline = time.monotonic() + 3 * WAIT_S
        while sum(bool(member.replies_to(e, bot_user.user_id)) for e in asked) < 3:
            assert time.monotonic() < deadline, "no answers"
            await member.sync(timeout=100)
        process.kill()
        await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    answered_before_kill = sum(bool(member.replies_to(e, bot_user.user_id)) for e in asked)

    process = await run_bot(env, log_path)
    try:
        for event_id in asked:
            await member.wait_for_reply(room, event_id, bot_user.user_id)
        await asyncio.sleep(2)
        await member.sync()
    finally:
        process.send_signal(signal.SIGTERM)
        await process.wait()
    counts = [len(member.replies_to(e, bot_user.user_id)) for e in asked]
    engine = create_engine(env["DATABASE_URL"])
    with Session(engine) as session:
        bookings = session.exec(select(Booking).where(Booking.status == "active")).all()
    engine.dispose()
    print(f"answered before the kill: {answered_before_kill} of 8; answers per command after restart: {counts}")
    assert counts == [1] * 8
    assert len(bookings) == 8
