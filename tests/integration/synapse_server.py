"""A real Synapse homeserver for the Matrix tests, installed from PyPI into its own virtual environment.

Synapse is a test peer, not a dependency: it lives in a cached venv outside the project's, is
configured for speed (SQLite, no federation, cheap bcrypt, relaxed rate limits) and registers users
through the shared-secret admin API, which is ~20 times faster than its CLI.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SYNAPSE_VERSION_SPEC = "matrix-synapse"
CACHE_DIR = Path(os.environ.get("TIERSLIEU_TEST_CACHE", Path.home() / ".cache" / "tierslieu-tests"))
VENV_DIR = CACHE_DIR / "synapse-venv"
# Written last: a venv without it is a half-finished install and is redone.
INSTALL_MARKER = VENV_DIR / ".tierslieu-complete"
SERVER_NAME = "localhost"
START_TIMEOUT_S = 60.0

RELAXED_LIMIT = {"per_second": 1000, "burst_count": 1000}


def synapse_python() -> Path:
    """The cached Synapse interpreter, installing it on first use (about a minute)."""
    python = VENV_DIR / "bin" / "python"
    if INSTALL_MARKER.exists() and python.exists():
        return python
    shutil.rmtree(VENV_DIR, ignore_errors=True)
    VENV_DIR.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV_DIR)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", SYNAPSE_VERSION_SPEC], check=True)
    # PYTHONDONTWRITEBYTECODE=1 on this machine: without compiled bytecode every start takes ~6 s.
    subprocess.run([str(python), "-m", "compileall", "-q", str(VENV_DIR / "lib")], check=False)
    INSTALL_MARKER.write_text("ok\n")
    return python


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def signing_key_line() -> str:
    seed = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    return f"ed25519 a_1 {seed}\n"


def homeserver_config(directory: Path, port: int, shared_secret: str, relaxed_limits: bool) -> dict[str, Any]:
    config: dict[str, Any] = {
        "server_name": SERVER_NAME,
        "pid_file": str(directory / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client", "media"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(directory / "homeserver.db")}},
        "log_config": str(directory / "log.yaml"),
        "media_store_path": str(directory / "media"),
        "signing_key_path": str(directory / "signing.key"),
        "registration_shared_secret": shared_secret,
        "macaroon_secret_key": secrets.token_hex(16),
        "form_secret": secrets.token_hex(16),
        "report_stats": False,
        "trusted_key_servers": [],
        "federation_domain_whitelist": [],
        "suppress_key_server_warning": True,
        "presence": {"enabled": False},
        "bcrypt_rounds": 4,
        "enable_registration": False,
    }
    if relaxed_limits:
        config.update(
            {
                "rc_message": RELAXED_LIMIT,
                "rc_login": {
                    "address": RELAXED_LIMIT, "account": RELAXED_LIMIT, "failed_attempts": RELAXED_LIMIT,
                },
                "rc_joins": {"local": RELAXED_LIMIT, "remote": RELAXED_LIMIT},
                "rc_joins_per_room": RELAXED_LIMIT,
                "rc_invites": {"per_room": RELAXED_LIMIT, "per_user": RELAXED_LIMIT, "per_issuer": RELAXED_LIMIT},
                "rc_room_creation": RELAXED_LIMIT,
                "rc_registration": RELAXED_LIMIT,
                "rc_key_requests": RELAXED_LIMIT,
                "rc_3pid_validation": RELAXED_LIMIT,
            }
        )
    return config


LOG_CONFIG = """version: 1
formatters:
  precise:
    format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(message)s'
handlers:
  file:
    class: logging.FileHandler
    formatter: precise
    filename: {path}
root:
  level: WARNING
  handlers: [file]
disable_existing_loggers: false
"""


@dataclass
class RegisteredUser:
    user_id: str
    password: str
    access_token: str
    device_id: str


class SynapseServer:
    """One running Synapse process; ``url`` is its client API base."""

    def __init__(self, directory: Path, relaxed_limits: bool = True) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.shared_secret = secrets.token_hex(16)
        self.relaxed_limits = relaxed_limits
        self.process: subprocess.Popen[bytes] | None = None
        self.start_seconds = 0.0
        self._admin: RegisteredUser | None = None

    def start(self) -> None:
        python = synapse_python()
        self.directory.mkdir(parents=True, exist_ok=True)
        config_path = self.directory / "homeserver.yaml"
        if not config_path.exists():  # a restart keeps its keys, secrets and database
            (self.directory / "signing.key").write_text(signing_key_line())
            (self.directory / "log.yaml").write_text(LOG_CONFIG.format(path=self.directory / "homeserver.log"))
            config = homeserver_config(self.directory, self.port, self.shared_secret, self.relaxed_limits)
            # JSON is valid YAML: no YAML library needed on our side.
            config_path.write_text(json.dumps(config, indent=2))
        began = time.monotonic()
        self.process = subprocess.Popen(
            [str(python), "-m", "synapse.app.homeserver", "--config-path", str(config_path)],
            cwd=self.directory,
            stdout=(self.directory / "stdout.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        while time.monotonic() - began < START_TIMEOUT_S:
            if self.process.poll() is not None:
                raise RuntimeError(f"Synapse exited at start; see {self.directory / 'stdout.log'}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as response:
                    if response.status == 200:
                        self.start_seconds = time.monotonic() - began
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Synapse did not become healthy in {START_TIMEOUT_S} s")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def request(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"{}")

    def register(self, localpart: str, password: str | None = None, admin: bool = False) -> RegisteredUser:
        """Create a user through the shared-secret admin API (HMAC-SHA1 over the nonce and fields)."""
        password = password or secrets.token_hex(8)
        nonce = self.request("GET", "/_synapse/admin/v1/register")["nonce"]
        mac = hmac.new(self.shared_secret.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), localpart.encode(), password.encode(),
                                 b"admin" if admin else b"notadmin"]))
        result = self.request(
            "POST",
            "/_synapse/admin/v1/register",
            {"nonce": nonce, "username": localpart, "password": password, "admin": admin, "mac": mac.hexdigest()},
        )
        return RegisteredUser(result["user_id"], password, result["access_token"], result["device_id"])

    def admin(self) -> RegisteredUser:
        if self._admin is None:
            self._admin = self.register(f"admin-{secrets.token_hex(3)}", admin=True)
        return self._admin

    def override_ratelimit(self, user_id: str, messages_per_second: int, burst_count: int) -> None:
        """Give one user its own message limit (stricter or looser than the server's; whole numbers only)."""
        path = f"/_synapse/admin/v1/users/{urllib.parse.quote(user_id)}/override_ratelimit"
        self.request("POST", path, {"messages_per_second": messages_per_second, "burst_count": burst_count},
                     token=self.admin().access_token)


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseServer]:
    server = SynapseServer(tmp_path_factory.mktemp("synapse"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
