"""The bot as Element sees it, with Element's own SDK: matrix-js-sdk and its Rust crypto under Node, in
the "exclude insecure devices" mode (room keys only for devices their owner cross-signed). The member
opens an encrypted room with the bot, sends !help and must read the bot's answer with no warning
shield. Installed once with npm in a cache dir; skipped when node, npm or the registry is missing."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.synapse_server import CACHE_DIR, RegisteredUser, SynapseServer, synapse
from tests.integration.test_matrix import bot_env, bot_user, start_bot

__all__ = ["bot_user", "synapse"]

pytestmark = pytest.mark.integration

JS_SDK = "matrix-js-sdk@43"
SCRIPT = Path(__file__).parent / "js" / "strict_member.mjs"


def js_sdk_home() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to run matrix-js-sdk")
    home = CACHE_DIR / "matrix-js-sdk"
    if not (home / "node_modules" / "matrix-js-sdk" / "package.json").exists():
        home.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(home), JS_SDK],
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            pytest.skip(f"npm could not install {JS_SDK}: {done.stderr.strip()[-200:]}")
    return home


async def test_a_member_whose_app_excludes_insecure_devices_exchanges_encrypted_messages_with_the_bot(
    synapse: SynapseServer, bot_user: RegisteredUser, tmp_path: Path
) -> None:
    home = js_sdk_home()
    script = home / SCRIPT.name  # beside its node_modules, so that Node resolves matrix-js-sdk
    shutil.copyfile(SCRIPT, script)
    person = synapse.register("element-member")
    app = await start_bot(bot_env(synapse, bot_user, tmp_path))
    try:
        process = await asyncio.create_subprocess_exec(
            "node", str(script), synapse.url, person.user_id, person.access_token, person.device_id, person.password,
            bot_user.user_id, "!help",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ, "NODE_NO_WARNINGS": "1"},
        )
        out, err = await asyncio.wait_for(process.communicate(), 120)
    finally:
        await app.stop()
    lines = [line for line in out.decode().splitlines() if line.startswith("{")]
    assert lines, f"no result from the member's app; stderr: {err.decode()[-2000:]}"
    seen = json.loads(lines[-1])
    print(f"matrix-js-sdk member: {seen}")
    assert seen.get("error") is None, (seen, err.decode()[-1500:])
    assert all(device["signedByOwner"] for device in seen["botDevices"]), seen["botDevices"]
    assert seen["answer"] and "!book" in seen["answer"]
    assert seen["repliesTo"] == seen["sent"]
    assert seen["shieldColour"] == 0, seen  # EventShieldColour.NONE: no red or grey shield on the bot's answer
