"""An announcement to many Matrix rooms, `tierslieu run` killed (SIGKILL) midway and started again at
once: every room gets it exactly once (the homeserver drops a resent message by its transaction id, so
the sends in flight at the kill are sent again), and the coordinator's report comes within a minute."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from nio import RoomCreateResponse, RoomMemberEvent, RoomMessageNotice, RoomMessageText
from sqlmodel import Session

from storage.db import make_engine
from storage.models_reminders import Subscription
from tests.integration.synapse_server import RegisteredUser, SynapseServer, synapse
from tests.integration.test_matrix import MemberClient, bot_env, bot_user, member

__all__ = ["bot_user", "member", "synapse"]

pytestmark = pytest.mark.integration

ROOMS = int(os.environ.get("TIERSLIEU_TEST_ANNOUNCE_ROOMS", "60"))
ROOT = Path(__file__).resolve().parents[2]


async def run_bot(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    handle = log.open("ab")
    try:
        return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=ROOT,
                                                    env={**os.environ, **env}, stdout=handle, stderr=handle)
    finally:
        handle.close()


def bot_texts(member: MemberClient, room_id: str, sender: str) -> list[str]:
    return [str(e.body) for r, e in member.seen
            if r == room_id and e.sender == sender and isinstance(e, RoomMessageText | RoomMessageNotice)]


async def sync_until(member: MemberClient, condition: object, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {timeout} s\n{log.read_text()[-3000:]}")
        await member.sync(timeout=200)


async def test_an_announcement_killed_midway_reaches_every_room_exactly_once_and_is_reported(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path
) -> None:
    env = bot_env(synapse, bot_user, tmp_path, HTTP_PORT="0", LOG_LEVEL="INFO",
                  COORDINATORS=f"matrix:{member.user_id}")
    log = tmp_path / "run.log"
    process = await run_bot(env, log)
    try:
        made = await member.client.room_create(invite=[bot_user.user_id], is_direct=True)
        assert isinstance(made, RoomCreateResponse)
        direct = str(made.room_id)
        member.direct_rooms.add(direct)
        created = await asyncio.gather(*(member.client.room_create(invite=[bot_user.user_id], name=f"Groupe {n}")
                                         for n in range(ROOMS)))
        rooms = [str(r.room_id) for r in created if isinstance(r, RoomCreateResponse)]
        assert len(rooms) == ROOMS

        def joined() -> set[str]:
            return {r for r, e in member.seen if isinstance(e, RoomMemberEvent) and e.state_key == bot_user.user_id
                    and e.membership == "join"}

        await sync_until(member, lambda: {direct, *rooms} <= joined(), 90 + 2 * ROOMS, "the bot joining every room",
                         log)
        engine = make_engine(env["DATABASE_URL"])
        with Session(engine) as session:
            for room in rooms:
                session.add(Subscription(platform="matrix", chat_id=room, is_private=False, language="fr"))
            session.commit()
        engine.dispose()

        await member.say(direct, "!annonce Fermeture exceptionnelle jeudi")
        await sync_until(member, lambda: any(f"{ROOMS} conversations" in t for t in
                                             bot_texts(member, direct, bot_user.user_id)), 30, "the preview", log)
        await member.say(direct, "!annonce envoyer 1")

        def received() -> Counter[str]:
            return Counter(r for r in rooms for t in bot_texts(member, r, bot_user.user_id) if "Fermeture" in t)

        await sync_until(member, lambda: len(received()) >= ROOMS // 3, 60, "a third of the rooms", log)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        at_kill = len(received())
        restarted = time.monotonic()
        process = await run_bot(env, log)

        def reported() -> bool:
            return any("Annonce n° 1 : distribuée" in t for t in bot_texts(member, direct, bot_user.user_id))

        await sync_until(member, reported, 60, "the delivery report", log)
        report_after = time.monotonic() - restarted
        await asyncio.sleep(2)
        await member.sync(timeout=200)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await process.wait()
    counts = received()
    assert set(counts) == set(rooms) and set(counts.values()) == {1}, "every room exactly once"
    [report] = [t for t in bot_texts(member, direct, bot_user.user_id) if "Annonce n° 1 : distribuée" in t]
    assert f"distribuée à {ROOMS} conversations sur {ROOMS}" in report
    assert report_after < 60
    print(f"{ROOMS} rooms: {at_kill} had it at the kill; report {report_after:.1f} s after the restart")
