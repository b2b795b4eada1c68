"""Logging the bot into its homeserver so that restarts reuse one device and one encryption store.

A new device on every start would orphan the keys members' clients shared with the old one, so a
password login's access token and device id are kept in the database and reused while valid.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

from aiohttp import ClientError
from nio import AsyncClient, AsyncClientConfig, LoginResponse, WhoamiResponse
from sqlalchemy import Engine

from bot.config import Settings
from storage.adapter_state import get_state, set_state

log = logging.getLogger(__name__)

LOGIN_STATE_KEY = "matrix:login"
STARTUP_TIMEOUT_S = 30.0


class MatrixLoginError(Exception):
    """Start-up cannot go on; the message is one line that names the setting to fix."""


def store_dir(settings: Settings) -> Path:
    return settings.matrix_store_dir or settings.data_dir / "matrix-store"


def new_client(settings: Settings) -> AsyncClient:
    """A client that never retries by itself: nio's defaults retry 429s and lost connections
    forever, which would hide a dead homeserver; the adapter retries with its own bounds."""
    assert settings.matrix_homeserver and settings.matrix_user_id
    directory = store_dir(settings)
    directory.mkdir(parents=True, exist_ok=True)
    config = AsyncClientConfig(
        max_limit_exceeded=0,
        max_timeouts=0,
        store_sync_tokens=False,
        encryption_enabled=True,
        request_timeout=30,
    )
    return AsyncClient(
        settings.matrix_homeserver, settings.matrix_user_id, store_path=str(directory), config=config
    )


async def log_in(client: AsyncClient, settings: Settings, engine: Engine, *, new_device: bool = False) -> None:
    """Access token if configured, else the saved password login, else a fresh password login.

    ``new_device``: a password login as a new device, whatever was saved (the old device's keys are lost)."""
    try:
        await asyncio.wait_for(_log_in(client, settings, engine, new_device), STARTUP_TIMEOUT_S)
    except (ClientError, OSError, TimeoutError) as error:
        raise MatrixLoginError(
            f"MATRIX_HOMESERVER: cannot reach {settings.matrix_homeserver} ({type(error).__name__}: {error})"
        ) from None


async def _log_in(client: AsyncClient, settings: Settings, engine: Engine, new_device: bool) -> None:
    user_id = settings.matrix_user_id
    assert user_id
    if settings.matrix_access_token and not new_device:
        device_id = await _check_token(client, settings.matrix_access_token, user_id)
        if device_id is None:
            raise MatrixLoginError(
                f"MATRIX_ACCESS_TOKEN: the homeserver {settings.matrix_homeserver} rejected it for {user_id}"
            )
        client.restore_login(user_id, device_id, settings.matrix_access_token)
        log.info("Matrix: logged in as %s, device %s (access token)", user_id, device_id)
        return

    saved_raw = None if new_device else await asyncio.to_thread(get_state, engine, LOGIN_STATE_KEY)
    saved = json.loads(saved_raw) if saved_raw else {}
    if saved.get("user_id") == user_id and saved.get("access_token"):
        device_id = await _check_token(client, saved["access_token"], user_id)
        if device_id == saved.get("device_id"):
            client.restore_login(user_id, device_id, saved["access_token"])
            log.info("Matrix: logged in as %s, device %s (saved login)", user_id, device_id)
            return
        log.info("the saved Matrix login is no longer valid; logging in again with the password")

    if not settings.matrix_password:
        raise MatrixLoginError(
            "MATRIX_ACCESS_TOKEN: its device lost its encryption keys; create a new access token (a new "
            "device) or set MATRIX_PASSWORD"
        )
    if saved.get("device_id"):
        client.device_id = saved["device_id"]  # same device, same encryption store
    response = await client.login(settings.matrix_password, device_name=settings.matrix_device_name)
    if not isinstance(response, LoginResponse):
        raise MatrixLoginError(
            f"MATRIX_PASSWORD: the homeserver {settings.matrix_homeserver} refused the login for {user_id} "
            f"({getattr(response, 'status_code', '')} {getattr(response, 'message', '')})".rstrip()
        )
    state = {"user_id": user_id, "device_id": response.device_id, "access_token": response.access_token}
    await asyncio.to_thread(set_state, engine, LOGIN_STATE_KEY, json.dumps(state))
    log.info("Matrix: logged in as %s, new device %s", user_id, response.device_id)


async def encryption_store_lost(client: AsyncClient) -> bool:
    """Whether this device published identity keys that the encryption store does not hold.

    nio then makes a new account for the same device and the homeserver refuses its keys at every sync
    with a cryptic line; members' messages can't be read. Seen when MATRIX_STORE_DIR was lost or replaced
    while the database kept the device's login."""
    olm = client.olm
    if olm is None or olm.account.shared:
        return False
    response = await client.send(
        "POST", "/_matrix/client/v3/keys/query", json.dumps({"device_keys": {client.user_id: [client.device_id]}}),
        headers={"Authorization": f"Bearer {client.access_token}", "Content-Type": "application/json"},
    )
    try:
        answer = await response.json()
    finally:
        response.release()
    published = answer.get("device_keys", {}).get(client.user_id, {}).get(client.device_id)
    if not published:
        return False
    return published.get("keys", {}).get(f"curve25519:{client.device_id}") != olm.account.identity_keys["curve25519"]


async def _check_token(client: AsyncClient, token: str, user_id: str) -> str | None:
    """The device id behind ``token``, or None when the homeserver does not accept it."""
    client.access_token = token
    response = await client.whoami()
    client.access_token = ""
    if not isinstance(response, WhoamiResponse):
        return None
    if response.user_id != user_id:
        raise MatrixLoginError(f"MATRIX_USER_ID: the access token belongs to {response.user_id}, not {user_id}")
    return response.device_id
