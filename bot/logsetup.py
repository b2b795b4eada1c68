"""Logs never hold a secret, at any level: a filter on the root logger's handlers rewrites every record.

Libraries log what they handle (PTB the bot token in its API URL and the webhook secret in setWebhook's
parameters, nio the access token), and every reply the bot sends (a member's personal
calendar link, a one-time /link code) passes through them at DEBUG. So the redaction is done once, where
all records end up, rather than in each caller:

- the secret values known at start (every Settings field named like a token, secret or password, the
  password in DATABASE_URL), and any registered later with ``register_secret`` (a generated webhook
  secret, an access token obtained by logging in);
- patterns for what is secret without being configured: Telegram bot tokens, ``Bearer`` credentials,
  ``token=``/``password:`` pairs, passwords in URLs, personal calendar feed paths, one-time /link and
  /start codes.

Message texts (``text``, ``caption``, ``body`` fields of the updates libraries print) are cut to a short
preview at DEBUG and replaced by their length above it.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from collections.abc import Iterable

from sqlalchemy.engine import make_url

REDACTED = "[redacted]"
# Below this length a "secret" would redact ordinary words; no real token is this short.
MIN_SECRET_LENGTH = 6
TEXT_PREVIEW_CHARS = 40
SECRET_FIELD_WORDS = ("token", "secret", "password", "passphrase", "api_key")

_QUOTED = r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\""
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Telegram bot tokens: <bot id>:<35 characters>, also inside /bot<token>/ URLs.
    (re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}"), "[bot-token]"),
    # Synapse access tokens, whatever carries them.
    (re.compile(r"\bsyt_[A-Za-z0-9_-]+"), REDACTED),
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE), r"\1 " + REDACTED),
    # key=value, key: value, 'key': 'value', "key": "value" for secret-looking keys.
    (re.compile(r"(?i)(['\"]?\b[\w-]*(?:token|secret|password|passwd|api_key|apikey)['\"]?\s*[:=]\s*)"
                rf"(?:{_QUOTED}|[^\s&,;(){{}}\[\]'\"]+)"), r"\1'" + REDACTED + "'"),
    # Passwords in URLs: scheme://user:password@host
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s'\"]+:)[^@/\s'\"]+@", re.IGNORECASE), r"\1" + REDACTED + "@"),
    # A member's personal calendar feed and data export: the path is the credential.
    (re.compile(r"(/ical/members/|/mydata/)[^/\s'\"?#<>]+"), r"\1" + REDACTED),
    # One-time codes: /link CODE or !link CODE (and its button answers), /start PAYLOAD, t.me/<bot>?start=PAYLOAD.
    (re.compile(r"([/!](?:link|lier|start)(?:@\w+)?)(?:[ \t]+[^\s'\"\\<]+){1,2}", re.IGNORECASE), r"\1 " + REDACTED),
    (re.compile(r"([?&]start(?:group)?=)[^\s&'\"]+"), r"\1" + REDACTED),
)
# The text of a message as libraries print updates and API calls: text='…', 'text': '…', "body": "…".
# Also the command arguments the dispatcher logs with a failed command: "(args '…')".
TEXT_FIELD = re.compile(
    rf"(\b(?:text|caption|body|formatted_body|message_text)['\"]?\s*[:=]\s*|\(args\s+)({_QUOTED})")

_lock = threading.Lock()
_known: set[str] = set()


def register_secret(value: str | None) -> None:
    """Redact ``value`` from every log record from now on (a secret learnt after start)."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        with _lock:
            _known.add(value)


def forget_secrets() -> None:
    """Forget every registered secret (tests; a process that reloads its settings)."""
    with _lock:
        _known.clear()


def settings_secrets(settings: object) -> list[str]:
    """Every secret a Settings object holds: fields named like a token, secret or password, and the
    password in any URL field (DATABASE_URL)."""
    found: list[str] = []
    if not dataclasses.is_dataclass(settings):
        return found
    for item in dataclasses.fields(settings):
        value = getattr(settings, item.name, None)
        if not isinstance(value, str) or not value:
            continue
        if any(word in item.name.lower() for word in SECRET_FIELD_WORDS):
            found.append(value)
            if ":" in value and item.name.lower().endswith("bot_token"):
                found.append(value.split(":", 1)[1])  # the secret half of a Telegram token
        elif "://" in value:
            try:
                password = make_url(value).password
            except Exception:
                password = None
            if password:
                found.append(str(password))
    extra = getattr(settings, "extra", None)
    if isinstance(extra, dict):
        found.extend(v for k, v in extra.items()
                     if isinstance(v, str) and any(word in k.lower() for word in SECRET_FIELD_WORDS))
    return found


def redact(text: str) -> str:
    """``text`` without any known secret value nor anything that looks like one."""
    with _lock:
        known = sorted(_known, key=len, reverse=True)  # longest first: a token before its own half
    for value in known:
        if value in text:
            text = text.replace(value, REDACTED)
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def shorten_message_texts(text: str, preview: int | None) -> str:
    """Message texts cut to ``preview`` characters, or only their length when ``preview`` is None."""

    def cut(match: re.Match[str]) -> str:
        quoted = match.group(2)
        quote, inner = quoted[0], quoted[1:-1]
        if preview is None:
            return f"{match.group(1)}{quote}[{len(inner)} chars]{quote}"
        if len(inner) <= preview:
            return match.group(0)
        return f"{match.group(1)}{quote}{inner[:preview]}…[+{len(inner) - preview}]{quote}"

    return TEXT_FIELD.sub(cut, text)


class RedactingFilter(logging.Filter):
    """Rewrites each record (message, arguments, traceback, stack) before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "redacted", False):  # already rewritten for another handler
            return True
        record.redacted = True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what the caller wrote, redacted
            message = f"{record.msg} {record.args!r}"
        preview = TEXT_PREVIEW_CHARS if record.levelno <= logging.DEBUG else None
        record.msg = shorten_message_texts(redact(message), preview)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_redaction(settings: object, extra_secrets: Iterable[str] = ()) -> RedactingFilter:
    """Collect the secrets of ``settings`` and put the filter on the root logger and all its handlers
    (records propagated from libraries' loggers skip the root logger's own filters, not its handlers')."""
    for value in [*settings_secrets(settings), *extra_secrets]:
        register_secret(value)
    root = logging.getLogger()
    existing = next((f for f in root.filters if isinstance(f, RedactingFilter)), None)
    redactor = existing or RedactingFilter()
    if existing is None:
        root.addFilter(redactor)
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(redactor)
    return redactor
