"""Cross-signing of the bot's own identity, which matrix-nio does not do.

Element refuses room keys to devices their owner has not cross-signed ("exclude insecure devices") and
marks their messages with a red shield. So the bot keeps three ed25519 keys of its own, as Element does
for a person: the master key (the bot's identity), the self-signing key (signs the bot's devices, and is
signed by the master key) and the user-signing key (signed by the master key; the bot verifies nobody
with it, but clients expect it). They are created once and kept in the encryption store directory,
beside nio's keys, so a backup of the store keeps the identity. At every start the bot checks what the
homeserver publishes and repairs what is missing: keys uploaded (with the account's password, through
user-interactive auth), its current device signed. With MATRIX_RECOVERY_KEY, the keys a person set up
in Element for the bot's account are read from the account's secret storage instead.

Signatures follow the spec's "signing JSON": ed25519 over the canonical JSON of the object without its
``signatures`` and ``unsigned``, base64 without padding.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from Crypto.Cipher import AES
from Crypto.Hash import SHA256
from Crypto.Protocol.KDF import HKDF
from Crypto.Signature import eddsa
from nio import AsyncClient

log = logging.getLogger(__name__)

KEYS_FILE = "cross-signing.json"
USAGES = ("master", "self_signing", "user_signing")


class CrossSigningError(Exception):
    """Cross-signing could not be set up; the message is one line for the log."""


# -- signing JSON ------------------------------------------------------------------------------------


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def unpadded_b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def b64decode(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def signable(obj: dict[str, Any]) -> bytes:
    return canonical_json({k: v for k, v in obj.items() if k not in ("signatures", "unsigned")})


@dataclass(frozen=True)
class SigningKey:
    """One ed25519 key from its 32-byte seed (the form Matrix secret storage keeps)."""

    seed: bytes

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(os.urandom(32))

    @property
    def public(self) -> str:
        key = eddsa.import_private_key(self.seed)
        return unpadded_b64(key.public_key().export_key(format="raw"))

    def sign(self, message: bytes) -> str:
        return unpadded_b64(eddsa.new(eddsa.import_private_key(self.seed), "rfc8032").sign(message))

    def sign_json(self, obj: dict[str, Any], user_id: str) -> dict[str, Any]:
        """``obj`` with this key's signature added under ``user_id``."""
        signed = dict(obj)
        signatures = {u: dict(s) for u, s in obj.get("signatures", {}).items()}
        signatures.setdefault(user_id, {})[f"ed25519:{self.public}"] = self.sign(signable(obj))
        signed["signatures"] = signatures
        return signed


def verify_signature(obj: dict[str, Any], user_id: str, public_key: str) -> bool:
    """Whether ``obj`` carries a valid signature by the ed25519 key ``public_key`` of ``user_id``."""
    signature = obj.get("signatures", {}).get(user_id, {}).get(f"ed25519:{public_key}")
    if not isinstance(signature, str):
        return False
    try:
        key = eddsa.import_public_key(b64decode(public_key))
        eddsa.new(key, "rfc8032").verify(signable(obj), b64decode(signature))
    except (ValueError, TypeError):
        return False
    return True


def key_object(user_id: str, usage: str, key: SigningKey) -> dict[str, Any]:
    return {"user_id": user_id, "usage": [usage], "keys": {f"ed25519:{key.public}": key.public}}


def public_key_of(key_obj: dict[str, Any] | None) -> str | None:
    """The ed25519 public key of a published cross-signing key object."""
    if not key_obj:
        return None
    for key_id, value in key_obj.get("keys", {}).items():
        if key_id.startswith("ed25519:") and isinstance(value, str):
            return value
    return None


@dataclass(frozen=True)
class CrossSigningKeys:
    master: SigningKey
    self_signing: SigningKey
    user_signing: SigningKey

    @classmethod
    def generate(cls) -> CrossSigningKeys:
        return cls(SigningKey.generate(), SigningKey.generate(), SigningKey.generate())

    def upload_body(self, user_id: str) -> dict[str, Any]:
        """What /keys/device_signing/upload takes: the master key, and the two others signed by it."""
        return {
            "master_key": key_object(user_id, "master", self.master),
            "self_signing_key": self.master.sign_json(key_object(user_id, "self_signing", self.self_signing), user_id),
            "user_signing_key": self.master.sign_json(key_object(user_id, "user_signing", self.user_signing), user_id),
        }


# -- kept with the encryption store ------------------------------------------------------------------


def load_keys(store: Path, user_id: str) -> CrossSigningKeys | None:
    path = store / KEYS_FILE
    try:
        saved = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise CrossSigningError(f"{path}: unreadable ({error})") from None
    if saved.get("user_id") != user_id:
        return None
    try:
        return CrossSigningKeys(*(SigningKey(b64decode(saved[usage])) for usage in USAGES))
    except (KeyError, ValueError, TypeError) as error:
        raise CrossSigningError(f"{path}: damaged ({error})") from None


def save_keys(store: Path, user_id: str, keys: CrossSigningKeys) -> None:
    """Written with owner-only permissions and atomically: a half-written file would lose the identity."""
    path = store / KEYS_FILE
    temporary = path.with_suffix(".tmp")
    data = {"user_id": user_id, **{u: unpadded_b64(getattr(keys, u).seed) for u in USAGES}}
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


# -- recovery key and secret storage (keys set up in Element) ----------------------------------------


def decode_recovery_key(text: str) -> bytes:
    """Element's recovery key ('EsTc 1234 …'): base58 of 0x8B 0x01, the 32-byte key, a parity byte."""
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    number = 0
    for char in "".join(text.split()):
        if char not in alphabet:
            raise CrossSigningError("MATRIX_RECOVERY_KEY: not a recovery key (unexpected character)")
        number = number * 58 + alphabet.index(char)
    raw = number.to_bytes(35, "big") if number.bit_length() <= 280 else b""
    parity = 0
    for byte in raw:
        parity ^= byte
    if len(raw) != 35 or raw[:2] != b"\x8b\x01" or parity != 0:
        raise CrossSigningError("MATRIX_RECOVERY_KEY: not a recovery key (wrong length or check digit)")
    return raw[2:34]


def encrypt_secret(key: bytes, name: str, secret: bytes) -> dict[str, str]:
    """The inverse of decrypt_secret, as Element stores a secret (used by the tests)."""
    derived = HKDF(key, 64, b"\x00" * 32, SHA256, context=name.encode())
    iv = bytearray(os.urandom(16))
    iv[8] &= 0x7F  # bit 63 cleared, as the spec asks
    cipher = AES.new(derived[:32], AES.MODE_CTR, initial_value=bytes(iv), nonce=b"")
    ciphertext = cipher.encrypt(secret)
    mac = hmac.new(derived[32:], ciphertext, hashlib.sha256).digest()
    return {"iv": base64.b64encode(bytes(iv)).decode(), "ciphertext": base64.b64encode(ciphertext).decode(),
            "mac": base64.b64encode(mac).decode()}


def encode_recovery_key(key: bytes) -> str:
    """The inverse of decode_recovery_key (used by the tests)."""
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    raw = b"\x8b\x01" + key
    parity = 0
    for byte in raw:
        parity ^= byte
    number = int.from_bytes(raw + bytes([parity]), "big")
    digits = ""
    while number:
        number, rest = divmod(number, 58)
        digits = alphabet[rest] + digits
    return " ".join(digits[i:i + 4] for i in range(0, len(digits), 4))


def decrypt_secret(key: bytes, name: str, encrypted: dict[str, Any]) -> bytes:
    """m.secret_storage.v1.aes-hmac-sha2: HKDF-SHA256(key, 32 zero bytes, name) -> AES key | MAC key."""
    derived = HKDF(key, 64, b"\x00" * 32, SHA256, context=name.encode())
    aes_key, mac_key = derived[:32], derived[32:]
    ciphertext = base64.b64decode(encrypted["ciphertext"])
    mac = hmac.new(mac_key, ciphertext, hashlib.sha256).digest()
    if not hmac.compare_digest(unpadded_b64(mac), encrypted["mac"].rstrip("=")):
        raise CrossSigningError("MATRIX_RECOVERY_KEY: it does not open this account's secret storage")
    iv = base64.b64decode(encrypted["iv"])
    cipher = AES.new(aes_key, AES.MODE_CTR, initial_value=iv, nonce=b"")
    return bytes(cipher.decrypt(ciphertext))  # the secret, as unpadded base64 text


# -- talking to the homeserver -----------------------------------------------------------------------


class CrossSigner:
    """Makes sure the homeserver publishes the bot's cross-signing keys and its device's signature."""

    def __init__(
        self, client: AsyncClient, store: Path, password: str | None, recovery_key: str | None,
        *, store_lost: bool = False,
    ) -> None:
        """``store_lost``: the start already said the store was lost, so a new identity is expected."""
        self.client = client
        self.store_lost = store_lost
        self.store = store
        self.password = password
        self.recovery_key = recovery_key

    @property
    def user_id(self) -> str:
        return str(self.client.user_id)

    async def ensure(self) -> str:
        """Bring the published state in line; returns what was done, for one log line."""
        published = await self.query_own()
        server_master = public_key_of(published.get("master_keys", {}).get(self.user_id))
        keys = load_keys(self.store, self.user_id)
        done = []
        if keys is not None and keys.master.public == server_master:
            pass
        elif server_master and self.recovery_key:
            keys = await self.keys_from_secret_storage()
            if keys.master.public != server_master:
                raise CrossSigningError("MATRIX_RECOVERY_KEY: the secret storage holds another master key")
            save_keys(self.store, self.user_id, keys)
            done.append("cross-signing keys read from secret storage")
        else:
            if server_master and self.store_lost:
                log.info("Matrix: publishing new cross-signing keys (the previous ones were in the lost store)")
            elif server_master:
                log.warning(
                    "Matrix: the bot's cross-signing keys published on the homeserver are not in the encryption "
                    "store %s (store lost or replaced?); publishing new ones: members' apps will show once that "
                    "the bot's identity changed", self.store,
                )
            keys = keys or CrossSigningKeys.generate()
            save_keys(self.store, self.user_id, keys)  # before the upload: never a published key we lost
            await self.upload_keys(keys)
            published = await self.query_own()
            done.append("cross-signing keys published")
        device = published.get("device_keys", {}).get(self.user_id, {}).get(self.client.device_id)
        if device is None:
            raise CrossSigningError(f"device {self.client.device_id} has published no keys yet")
        if not verify_signature(device, self.user_id, keys.self_signing.public):
            await self.upload_signature(keys.self_signing.sign_json(device, self.user_id))
            done.append(f"device {self.client.device_id} signed")
        master = published.get("master_keys", {}).get(self.user_id) or key_object(self.user_id, "master", keys.master)
        own_device_key = f"ed25519:{self.client.device_id}"
        if own_device_key not in master.get("signatures", {}).get(self.user_id, {}):
            # The device vouches for the master key too, as Element's devices do (the identity is trusted).
            assert self.client.olm is not None
            signature = self.client.olm.account.sign(signable(master).decode())
            signed = dict(master)
            signed["signatures"] = {**master.get("signatures", {})}
            signed["signatures"][self.user_id] = {**signed["signatures"].get(self.user_id, {}),
                                                  own_device_key: signature}
            await self.upload_signature(signed, key_id=keys.master.public)
        return ", ".join(done) or "cross-signing already in place"

    async def query_own(self) -> dict[str, Any]:
        return await self._request("POST", "/_matrix/client/v3/keys/query", {"device_keys": {self.user_id: []}})

    async def upload_keys(self, keys: CrossSigningKeys) -> None:
        body = keys.upload_body(self.user_id)
        status, answer = await self._post_raw("/_matrix/client/v3/keys/device_signing/upload", body)
        if status == 401 and "flows" in answer:
            if not self.password:
                raise CrossSigningError(
                    "MATRIX_PASSWORD: needed once to publish the bot's cross-signing keys (not set)"
                )
            body["auth"] = {
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": self.user_id},
                "password": self.password,
                "session": answer.get("session"),
            }
            status, answer = await self._post_raw("/_matrix/client/v3/keys/device_signing/upload", body)
        if status != 200:
            raise CrossSigningError(f"cross-signing keys refused: {answer.get('errcode')} {answer.get('error')}")

    async def upload_signature(self, signed: dict[str, Any], key_id: str | None = None) -> None:
        """Upload one signed object: a device (keyed by its device id) or the master key (by its key)."""
        target = key_id or signed["device_id"]
        answer = await self._request("POST", "/_matrix/client/v3/keys/signatures/upload",
                                     {self.user_id: {target: signed}})
        failures = answer.get("failures") or {}
        if failures:
            raise CrossSigningError(f"signature refused: {json.dumps(failures)[:200]}")

    async def keys_from_secret_storage(self) -> CrossSigningKeys:
        assert self.recovery_key
        key = decode_recovery_key(self.recovery_key)
        default = await self._account_data("m.secret_storage.default_key")
        key_id = default.get("key") if default else None
        if not key_id:
            raise CrossSigningError("MATRIX_RECOVERY_KEY: this account has no secret storage")
        seeds = []
        for usage in USAGES:
            name = f"m.cross_signing.{usage}"
            stored = await self._account_data(name)
            encrypted = (stored or {}).get("encrypted", {}).get(key_id)
            if not encrypted:
                raise CrossSigningError(f"MATRIX_RECOVERY_KEY: the secret storage has no {name}")
            seeds.append(SigningKey(b64decode(decrypt_secret(key, name, encrypted).decode())))
        return CrossSigningKeys(*seeds)

    async def _account_data(self, event_type: str) -> dict[str, Any] | None:
        path = f"/_matrix/client/v3/user/{self.user_id}/account_data/{event_type}"
        status, answer = await self._send("GET", path, None)
        return answer if status == 200 else None

    async def _request(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        status, answer = await self._send(method, path, body)
        if status != 200:
            raise CrossSigningError(f"{path}: {status} {answer.get('errcode')} {answer.get('error')}")
        return answer

    async def _post_raw(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return await self._send("POST", path, body)

    async def _send(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self.client.access_token}", "Content-Type": "application/json"}
        response = await self.client.send(method, path, json.dumps(body) if body is not None else None,
                                          headers=headers)
        try:
            answer = await response.json()
        except (ValueError, Exception):
            answer = {}
        finally:
            with contextlib.suppress(Exception):
                response.release()
        return response.status, answer if isinstance(answer, dict) else {}
