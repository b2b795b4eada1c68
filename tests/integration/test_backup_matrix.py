"""A bot restored from a backup on another machine (another directory here) answers in an encrypted Matrix
room as before: same device, the encryption store restored, the bookings still there (real Synapse)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session

from bot.backup import backup, restore
from bot.config import load_settings
from storage.models import AdapterState
from tests.integration.synapse_server import RegisteredUser, SynapseServer, synapse
from tests.integration.test_matrix import MemberClient, bot_env, bot_user, member, start_bot

pytestmark = pytest.mark.integration
__all__ = ["bot_user", "member", "synapse"]  # fixtures, re-exported so pytest finds them here


def device_of(app_engine: object) -> str:
    with Session(app_engine) as session:  # type: ignore[call-overload]
        state = session.get(AdapterState, "matrix:login")
        return str(json.loads(state.value)["device_id"])


async def test_a_restored_bot_keeps_its_device_and_decrypts_the_room(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path
) -> None:
    old_env = bot_env(synapse, bot_user, tmp_path / "old")
    app = await start_bot(old_env)
    room = await member.create_room(bot_user.user_id, encrypted=True)
    try:
        asked = await member.say(room, "!book salle-reunion demain 14h-16h")
        answer = await member.wait_for_reply(room, asked, bot_user.user_id)
        assert answer.decrypted and "Réservé" in answer.body
        device = device_of(app.engine)
        archive = backup(app.settings, tmp_path / "backup.tar.gz", env=old_env).path  # while it runs
    finally:
        await app.stop()

    new_env = bot_env(synapse, bot_user, tmp_path / "new")  # the secrets are set again on the new machine
    restore(load_settings(new_env), archive)
    app = await start_bot(new_env)
    try:
        assert device_of(app.engine) == device
        asked = await member.say(room, "!mesreservations")
        answer = await member.wait_for_reply(room, asked, bot_user.user_id)
        assert answer.decrypted, "the restored bot answered in plaintext"
        assert "Salle de réunion" in answer.body
    finally:
        await app.stop()
