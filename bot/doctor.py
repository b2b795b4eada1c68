"""`tierslieu doctor`: checks what an association's volunteer would otherwise find out when the bot stops
answering: the settings, the database, each chat platform's credentials and reachability, the public URL,
the disk space and the data directory's permissions. Each problem comes with what to do, in LANGUAGE
(French or English). Exit status 0 when nothing is wrong (warnings allowed), 1 otherwise."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.config import ConfigError, Settings, load_settings
from bot.core.i18n import N_, Translator, normalise_language, translator_for

HTTP_TIMEOUT_S = 8.0
DISK_PROBLEM_BYTES = 200 * 1024 * 1024
DISK_WARNING_BYTES = 1024 * 1024 * 1024

OK, WARNING, PROBLEM = "ok", "warning", "problem"
MARKS = {OK: "✔", WARNING: "!", PROBLEM: "✘"}


@dataclass
class Finding:
    level: str
    what: str
    todo: str = ""


Check = Callable[[Settings, Translator], list[Finding]]


def _http_json(url: str, headers: Mapping[str, str] | None = None) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            body = json.loads(error.read() or b"{}")
        except ValueError:
            body = {}
        return error.code, body if isinstance(body, dict) else {}


def check_database(settings: Settings, t: Translator) -> list[Finding]:
    from sqlalchemy.engine import make_url

    from storage.db import make_engine
    from storage.migrate import current_revisions

    _ = t.gettext
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        folder = path.parent if str(path.parent) else Path(".")
        if not path.exists():
            if not os.access(folder if folder.exists() else Path("."), os.W_OK):
                return [Finding(PROBLEM, _("Database: cannot create {path}").format(path=path),
                                _("Make its folder writable by the bot's user, or set DATABASE_URL to another "
                                  "place."))]
            return [Finding(OK, _("Database: {path} will be created at the first start").format(path=path))]
    engine = make_engine(settings.database_url) if url.get_backend_name() == "sqlite" \
        else make_engine(settings.database_url, connect_args={"connect_timeout": 5})
    try:
        revisions = current_revisions(engine)
    except Exception as error:
        return [Finding(PROBLEM, _("Database: cannot connect ({error})").format(
                        error=(str(error).splitlines() or [type(error).__name__])[0][:160]),
                        _("Check DATABASE_URL (server address, database name, user and password) and that the "
                          "database server is running."))]
    finally:
        engine.dispose()
    known = _known_revisions()
    if revisions - known:
        return [Finding(PROBLEM, _("Database: made by a newer version of the bot"),
                        _("Install that version again (or a later one); see CHANGELOG.md."))]
    if not revisions:
        return [Finding(OK, _("Database: reachable, empty (the bot creates its tables at start)"))]
    if revisions != _heads():
        return [Finding(OK, _("Database: reachable; it will be upgraded at the next start (take a backup first: "
                              "tierslieu backup)"))]
    return [Finding(OK, _("Database: reachable and up to date"))]


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    from storage.migrate import MIGRATIONS_DIR

    directory = ScriptDirectory(str(MIGRATIONS_DIR))
    return {script.revision for script in directory.walk_revisions()}


def _heads() -> set[str]:
    from alembic.script import ScriptDirectory

    from storage.migrate import MIGRATIONS_DIR

    directory = ScriptDirectory(str(MIGRATIONS_DIR))
    heads = set(directory.get_heads())
    # A head another branch depends on (depends_on = "0002") leaves the version table once that branch is applied.
    needed: set[str] = set()
    for head in heads:
        dependencies = directory.get_revision(head).dependencies or ()
        needed.update((dependencies,) if isinstance(dependencies, str) else dependencies)
    return heads - needed


def check_platforms(settings: Settings, t: Translator) -> list[Finding]:
    _ = t.gettext
    findings: list[Finding] = []
    if not settings.telegram_bot_token and not settings.matrix_homeserver:
        findings.append(Finding(WARNING, _("No chat platform is configured: members can't reach the bot"),
                                _("Set TELEGRAM_BOT_TOKEN (from @BotFather) or MATRIX_HOMESERVER, MATRIX_USER_ID "
                                  "and MATRIX_ACCESS_TOKEN in .env.")))
    if settings.telegram_bot_token:
        findings.append(_check_telegram(settings, t))
    if settings.matrix_homeserver:
        findings.append(_check_matrix(settings, t))
    return findings


def _check_telegram(settings: Settings, t: Translator) -> Finding:
    _ = t.gettext
    base = settings.telegram_api_url or "https://api.telegram.org"
    try:
        status, body = _http_json(f"{base}/bot{settings.telegram_bot_token}/getMe")
    except (OSError, ValueError) as error:
        return Finding(PROBLEM, _("Telegram: cannot reach {url} ({error})").format(url=base, error=_reason(error)),
                       _("Check this machine's internet connection and firewall (HTTPS out to api.telegram.org)."))
    if status in (401, 404):
        return Finding(PROBLEM, _("Telegram: the bot token is refused"),
                       _("Copy the token again from @BotFather (/mybots, API Token) into TELEGRAM_BOT_TOKEN."))
    result = body.get("result")
    if status != 200 or not isinstance(result, dict):
        return Finding(PROBLEM, _("Telegram: unexpected answer (HTTP {status})").format(status=status),
                       _("Try again in a few minutes; if it lasts, check TELEGRAM_API_URL."))
    return Finding(OK, _("Telegram: connected as @{name}").format(name=result.get("username", "?")))


def _check_matrix(settings: Settings, t: Translator) -> Finding:
    _ = t.gettext
    base = settings.matrix_homeserver or ""
    try:
        status, _body = _http_json(f"{base}/_matrix/client/versions")
    except (OSError, ValueError) as error:
        return Finding(PROBLEM, _("Matrix: cannot reach {url} ({error})").format(url=base, error=_reason(error)),
                       _("Check MATRIX_HOMESERVER (the address of the homeserver, e.g. https://matrix.example.org) "
                         "and this machine's internet connection."))
    if status != 200:
        return Finding(PROBLEM, _("Matrix: {url} doesn't answer like a homeserver (HTTP {status})").format(
                       url=base, status=status), _("Check MATRIX_HOMESERVER."))
    if not settings.matrix_access_token:
        return Finding(OK, _("Matrix: homeserver reachable; the bot logs in with MATRIX_PASSWORD at start"))
    try:
        status, body = _http_json(f"{base}/_matrix/client/v3/account/whoami",
                                  {"Authorization": f"Bearer {settings.matrix_access_token}"})
    except (OSError, ValueError) as error:
        return Finding(PROBLEM, _("Matrix: cannot reach {url} ({error})").format(url=base, error=_reason(error)),
                       _("Check this machine's internet connection."))
    if status != 200:
        return Finding(PROBLEM, _("Matrix: the access token is refused"),
                       _("Create a new access token for the bot's account (or set MATRIX_PASSWORD instead)."))
    if body.get("user_id") != settings.matrix_user_id:
        return Finding(PROBLEM, _("Matrix: the access token belongs to {user}, not {expected}").format(
                       user=body.get("user_id"), expected=settings.matrix_user_id),
                       _("Set MATRIX_USER_ID to the bot account's id, or use that account's token."))
    return Finding(OK, _("Matrix: logged in as {user}").format(user=settings.matrix_user_id))


def _reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None)
    return str(reason or error)[:120]


def check_public_url(settings: Settings, t: Translator) -> list[Finding]:
    _ = t.gettext
    if not settings.public_url:
        return [Finding(WARNING, _("PUBLIC_URL is not set: no calendar links, no Telegram webhook"),
                        _("Set PUBLIC_URL to the address where this machine's HTTP_PORT is published, "
                          "e.g. https://bot.example.org (see the README, Installer sur un serveur)."))]
    parts = urllib.parse.urlsplit(settings.public_url)
    host = parts.hostname or ""
    local = host in {"localhost", "127.0.0.1", "::1"}
    findings: list[Finding] = []
    if parts.scheme != "https" and not local:
        findings.append(Finding(PROBLEM, _("PUBLIC_URL is not https: personal calendar links would travel in clear"),
                                _("Put a reverse proxy with a certificate in front (Caddy does it by itself) and "
                                  "use https://.")))
    try:
        socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError):
        findings.append(Finding(PROBLEM, _("PUBLIC_URL: the name {host} doesn't resolve").format(host=host),
                                _("Check the spelling, and the DNS record of the domain.")))
        return findings
    try:
        status, _body = _http_json(f"{settings.public_url}/healthz")
        if status in (200, 503):
            findings.append(Finding(OK, _("PUBLIC_URL answers ({url}/healthz)").format(url=settings.public_url)))
        else:
            findings.append(Finding(WARNING, _("PUBLIC_URL answers HTTP {status} on /healthz").format(status=status),
                                    _("Check that the reverse proxy sends this address to HTTP_HOST:HTTP_PORT.")))
    except (OSError, ValueError):
        findings.append(Finding(WARNING, _("PUBLIC_URL doesn't answer (normal if the bot isn't running)"),
                                _("Once the bot runs, {url}/healthz should answer; if not, check the reverse proxy "
                                  "and the firewall.").format(url=settings.public_url)))
    return findings


def check_disk_and_permissions(settings: Settings, t: Translator) -> list[Finding]:
    _ = t.gettext
    findings: list[Finding] = []
    data = settings.data_dir
    if data.exists() and not data.is_dir():
        return [Finding(PROBLEM, _("DATA_DIR {path} is a file, not a directory").format(path=data),
                        _("Move that file away or set DATA_DIR to a directory."))]
    existing = data if data.exists() else next((p for p in data.absolute().parents if p.exists()), Path("/"))
    if not os.access(existing, os.W_OK | os.X_OK):
        findings.append(Finding(PROBLEM, _("DATA_DIR {path} is not writable by this user").format(path=data),
                                _("chown -R the directory to the bot's user (the systemd unit's User=).")))
    free = shutil.disk_usage(existing).free
    size = t.ngettext("{n} MB free", "{n} MB free", free // 2**20).format(n=free // 2**20)
    if free < DISK_PROBLEM_BYTES:
        findings.append(Finding(PROBLEM, _("Disk almost full near {path}: {free}").format(path=data, free=size),
                                _("Free some space (old backups in BACKUP_DIR, logs: journalctl --vacuum-size=100M).")))
    elif free < DISK_WARNING_BYTES:
        findings.append(Finding(WARNING, _("Little disk space near {path}: {free}").format(path=data, free=size),
                                _("Lower BACKUP_KEEP or move BACKUP_DIR to another disk.")))
    else:
        findings.append(Finding(OK, _("Disk space: {free}").format(free=size)))
    store = settings.matrix_store_dir or data / "matrix-store"
    if store.exists() and store.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        findings.append(Finding(PROBLEM, _("The Matrix encryption store {path} can be read by other users").format(
                                path=store), _("chmod 700 {path}").format(path=store)))
    for env_file in {Path(".env"), Path(settings.extra.get("TIERSLIEU_ENV_FILE", ".env"))}:
        if env_file.exists() and env_file.stat().st_mode & stat.S_IROTH:
            findings.append(Finding(PROBLEM, _("The settings file {path} (tokens, passwords) can be read by every "
                                               "user").format(path=env_file), _("chmod 640 {path}").format(
                                    path=env_file)))
    return findings


def check_backups(settings: Settings, t: Translator) -> list[Finding]:
    """The daily backup: on, its directory writable, and the newest archive recent."""
    from datetime import UTC, datetime

    from bot.backup import archive_time, newest_backup

    _ = t.gettext
    if settings.backup_keep <= 0:
        return [Finding(WARNING, _("The daily backup is off (BACKUP_KEEP=0)"),
                        _("Set BACKUP_KEEP=7 (or more), or make sure another backup copies the data directory."))]
    directory = settings.backup_dir or settings.data_dir / "backups"
    existing = directory if directory.exists() else next(
        (p for p in directory.absolute().parents if p.exists()), Path("/"))
    if not existing.is_dir():
        return []  # a file where a directory should be: the DATA_DIR check says so
    if not os.access(existing, os.W_OK | os.X_OK):
        return [Finding(PROBLEM, _("BACKUP_DIR {path} is not writable by this user").format(path=directory),
                        _("chown the directory to the bot's user, or set BACKUP_DIR to a writable place."))]
    newest = newest_backup(directory) if directory.is_dir() else None
    written = archive_time(newest) if newest is not None else None
    if written is None:
        return [Finding(OK, _("Backups: none yet in {path} (the first one is written at BACKUP_TIME)").format(
                        path=directory))]
    days = (datetime.now(UTC) - written).days
    if days >= 2:
        return [Finding(WARNING, t.ngettext("The newest backup is {n} day old", "The newest backup is {n} days old",
                                            days).format(n=days),
                        _("Check that the bot runs (systemctl status tierslieu) and its log around BACKUP_TIME."))]
    return [Finding(OK, _("Backups: the newest is {name}").format(name=newest.name if newest else ""))]


CHECKS: tuple[Check, ...] = (check_database, check_platforms, check_public_url, check_disk_and_permissions,
                             check_backups)
TITLE = N_("tierslieu doctor")


def run_doctor(env: Mapping[str, str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    if env is None:
        from dotenv import load_dotenv

        load_dotenv(Path.cwd() / ".env", override=False)
        env = os.environ
    language = normalise_language((env.get("LANGUAGE", "") or "fr").split(":")[0].split("_")[0]) or "fr"
    t = translator_for(language, "Europe/Paris")
    _ = t.gettext
    print(_(TITLE), file=out)
    try:
        settings = load_settings(env)
        findings = [Finding(OK, _("Settings: read without error"))]
    except ConfigError as error:
        findings = [Finding(PROBLEM, _("Settings: {error}").format(error=error),
                            _("Correct that line in .env (config.example.env explains each setting)."))]
        _print(findings, t, out)
        return 1
    for check in CHECKS:
        try:
            findings.extend(check(settings, t))
        except Exception as error:  # a check that crashes is itself a finding, not a traceback
            findings.append(Finding(PROBLEM, f"{check.__name__}: {type(error).__name__}: {error}"))
    return _print(findings, t, out)


def _print(findings: list[Finding], t: Translator, out: TextIO) -> int:
    _ = t.gettext
    for finding in findings:
        print(f"{MARKS[finding.level]} {finding.what}", file=out)
        if finding.todo:
            print(f"  → {finding.todo}", file=out)
    problems = sum(f.level == PROBLEM for f in findings)
    warnings = sum(f.level == WARNING for f in findings)
    if problems:
        print(t.ngettext("{n} problem to fix.", "{n} problems to fix.", problems).format(n=problems), file=out)
        return 1
    print(_("All good.") if not warnings else t.ngettext(
        "No problem; {n} warning.", "No problem; {n} warnings.", warnings).format(n=warnings), file=out)
    return 0
