"""The bot's Matrix identity is cross-signed, checked as Element checks it: another user fetches the bot's
keys with /keys/query and verifies the chain master -> self-signing -> device with ed25519 (vodozemac's,
an implementation independent of the one the bot signs with)."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import vodozemac

from bot.adapters.matrix_crosssign import (
    CrossSigningKeys,
    decode_recovery_key,
    encode_recovery_key,
    encrypt_secret,
    unpadded_b64,
)
from bot.adapters.matrix_login import LOGIN_STATE_KEY
from storage.adapter_state import set_state
from tests.integration.synapse_server import RegisteredUser, SynapseServer, synapse
from tests.integration.test_matrix import MemberClient, bot_env, bot_user, matrix_adapter, member, start_bot

__all__ = ["bot_user", "member", "synapse"]

pytestmark = pytest.mark.integration


def signed_by(obj: dict[str, Any], user_id: str, public_key: str) -> bool:
    signature = obj.get("signatures", {}).get(user_id, {}).get(f"ed25519:{public_key}")
    if signature is None:
        return False
    unsigned = {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}
    message = json.dumps(unsigned, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    try:
        vodozemac.Ed25519PublicKey.from_base64(public_key).verify_signature(
            message, vodozemac.Ed25519Signature.from_base64(signature))
    except vodozemac.SignatureException:
        return False
    return True


def only_ed25519(key_obj: dict[str, Any]) -> str:
    (value,) = key_obj["keys"].values()
    return str(value)


def trusted_devices(server: SynapseServer, viewer: MemberClient, user_id: str) -> tuple[str, set[str]]:
    """What Element concludes about ``user_id``: its master key, and the devices the chain vouches for."""
    answer = server.request("POST", "/_matrix/client/v3/keys/query", {"device_keys": {user_id: []}},
                            token=viewer.client.access_token)
    master = answer["master_keys"][user_id]
    assert master["usage"] == ["master"]
    master_key = only_ed25519(master)
    self_signing = answer["self_signing_keys"][user_id]
    assert self_signing["usage"] == ["self_signing"]
    assert signed_by(self_signing, user_id, master_key), "self-signing key not signed by the master key"
    ssk = only_ed25519(self_signing)
    devices = {device_id for device_id, keys in answer["device_keys"][user_id].items()
               if signed_by(keys, user_id, ssk)}
    return master_key, devices


async def test_the_bots_device_is_cross_signed_and_stays_so_across_restarts_and_new_devices(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.adapters")
    env = bot_env(synapse, bot_user, tmp_path)
    app = await start_bot(env)
    first_device = matrix_adapter(app).client.device_id
    await app.stop()
    master, devices = trusted_devices(synapse, member, bot_user.user_id)
    assert first_device in devices
    store = tmp_path / "data" / "matrix-store"
    assert (store / "cross-signing.json").stat().st_mode & 0o077 == 0  # owner only

    app = await start_bot(env)  # a restart: same identity, nothing published again
    await app.stop()
    assert trusted_devices(synapse, member, bot_user.user_id) == (master, devices)
    assert "cross-signing already in place" in caplog.text

    set_state(app.engine, LOGIN_STATE_KEY, "")  # the saved login is gone: a new device, same store
    app = await start_bot(env)
    second_device = matrix_adapter(app).client.device_id
    try:
        assert second_device != first_device
        # Encrypted exchange with the new device, the member trusting only cross-signed devices.
        again_master, devices = trusted_devices(synapse, member, bot_user.user_id)
        assert again_master == master and second_device in devices
        room = await member.create_room(bot_user.user_id, encrypted=True)
        asked = await member.say(room, "!help")
        answer = await member.wait_for_reply(room, asked, bot_user.user_id)
        assert answer.decrypted
    finally:
        await app.stop()


async def test_a_lost_encryption_store_is_said_once_and_the_bot_comes_back_as_a_new_signed_device(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    env = bot_env(synapse, bot_user, tmp_path)
    app = await start_bot(env)
    lost_device = matrix_adapter(app).client.device_id
    await app.stop()
    old_master, _ = trusted_devices(synapse, member, bot_user.user_id)
    shutil.rmtree(tmp_path / "data" / "matrix-store")

    caplog.set_level(logging.INFO)
    app = await start_bot(env)
    try:
        device = matrix_adapter(app).client.device_id
        assert device != lost_device
        store_lines = [r for r in caplog.records if "encryption store" in r.getMessage()]
        assert len(store_lines) == 1 and store_lines[0].levelno == logging.ERROR
        master, devices = trusted_devices(synapse, member, bot_user.user_id)
        assert master != old_master and device in devices
        room = await member.create_room(bot_user.user_id, encrypted=True)
        for _ in range(2):
            asked = await member.say(room, "!help")
            answer = await member.wait_for_reply(room, asked, bot_user.user_id)
            assert answer.decrypted
        # nio's cryptic "keys upload failed" lines are gone: no error logged after the one line.
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r not in store_lines
                  and r.name.startswith(("nio", "bot"))]
        assert errors == []
    finally:
        await app.stop()


async def test_with_the_recovery_key_the_bot_signs_its_device_with_the_identity_set_up_in_element(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path
) -> None:
    # What Element does when a person sets up the bot's account: cross-signing keys, and secret storage
    # holding their private halves, encrypted with a key shown once as the "recovery key".
    keys = CrossSigningKeys.generate()
    token = bot_user.access_token
    body = keys.upload_body(bot_user.user_id)
    try:
        synapse.request("POST", "/_matrix/client/v3/keys/device_signing/upload", body, token=token)
    except Exception:  # user-interactive auth
        body["auth"] = {"type": "m.login.password", "password": bot_user.password,
                        "identifier": {"type": "m.id.user", "user": bot_user.user_id}}
        synapse.request("POST", "/_matrix/client/v3/keys/device_signing/upload", body, token=token)
    secret_key = os.urandom(32)
    key_id = "element-key"
    user = bot_user.user_id

    def put_account_data(event_type: str, content: dict[str, Any]) -> None:
        synapse.request("PUT", f"/_matrix/client/v3/user/{user}/account_data/{event_type}", content, token=token)

    put_account_data(f"m.secret_storage.key.{key_id}", {"algorithm": "m.secret_storage.v1.aes-hmac-sha2"})
    put_account_data("m.secret_storage.default_key", {"key": key_id})
    for usage in ("master", "self_signing", "user_signing"):
        seed = getattr(keys, usage).seed
        name = f"m.cross_signing.{usage}"
        put_account_data(name, {"encrypted": {key_id: encrypt_secret(secret_key, name, unpadded_b64(seed).encode())}})
    recovery_key = encode_recovery_key(secret_key)
    assert decode_recovery_key(recovery_key) == secret_key

    app = await start_bot(bot_env(synapse, bot_user, tmp_path, MATRIX_RECOVERY_KEY=recovery_key))
    try:
        device = matrix_adapter(app).client.device_id
        master, devices = trusted_devices(synapse, member, bot_user.user_id)
        assert master == keys.master.public and device in devices
    finally:
        await app.stop()
