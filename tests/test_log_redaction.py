"""No secret reaches the log at any level; message texts only at DEBUG, cut short."""

from __future__ import annotations

import io
import logging
import string
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.logsetup import RedactingFilter, forget_secrets, install_redaction, redact, register_secret
from tests.harness import make_settings

BOT_TOKEN = "7000001234:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9"


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """The root logger writing to a string through one handler, as `tierslieu run` sets it up."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    settings = make_settings("postgresql://bot:db-Pa55word@db.example.org/tierslieu",
                             TELEGRAM_BOT_TOKEN=BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET="hook-secret-123",
                             MATRIX_HOMESERVER="https://matrix.example.org", MATRIX_USER_ID="@bot:example.org",
                             MATRIX_PASSWORD="correct horse battery")
    install_redaction(settings)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        forget_secrets()
        for owner in [root, *root.handlers]:
            for item in list(owner.filters):
                if isinstance(item, RedactingFilter):
                    owner.removeFilter(item)


def test_configured_secrets_never_reach_the_log_even_from_a_library(log_stream: io.StringIO) -> None:
    library = logging.getLogger("telegram.ext.ExtBot")
    library.debug("Set Bot API URL: %s", f"https://api.telegram.org/bot{BOT_TOKEN}")
    library.debug("setWebhook %s", {"url": "https://x.example/hook", "secret_token": "hook-secret-123"})
    logging.getLogger("sqlalchemy").info("connecting to %s", "postgresql://bot:db-Pa55word@db.example.org/x")
    logging.getLogger("nio").debug("login body %s", '{"type": "m.login.password", "password": "correct horse battery"}')
    log = log_stream.getvalue()
    for secret in (BOT_TOKEN, BOT_TOKEN.split(":")[1], "hook-secret-123", "db-Pa55word", "correct horse battery"):
        assert secret not in log
    assert "https://api.telegram.org/bot[redacted]" in log  # what was logged is still readable


def test_secrets_nobody_configured_are_recognised_by_their_shape(log_stream: io.StringIO) -> None:
    log = logging.getLogger("anything")
    log.debug("GET /_matrix/client/v3/sync?access_token=syt_Ym90_aBcDeFgHiJ_0X1y2Z&since=s1")
    log.debug("headers %s", [(b"Authorization", b"Bearer MDAxOGxvY2F0aW9uIGV4YW1wbGUub3Jn")])
    log.warning("other bot 5551234567:BBHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9 refused")
    log.debug("sent: https://bot.example.org/ical/members/kNOZ-dgt2xlEjpD6NlEcZyx.ics and /link DP5T5EDM")
    log.debug("t.me/TiersLieuBot?start=Zq8xYw3 and /start Zq8xYw3")
    log.info("GET /mydata/Tq93-xWv81Lm0aZ.json 200")
    log.debug("matrix body: Envoyez ceci : !link K7WQ2MZP")
    text = log_stream.getvalue()
    for secret in ("aBcDeFgHiJ", "MDAxOGxvY2F0aW9u", "BBHdqTcvCH1vGWJx", "kNOZ-dgt2xlEjpD6NlEcZyx", "DP5T5EDM",
                   "Zq8xYw3", "Tq93-xWv81Lm0aZ", "K7WQ2MZP"):
        assert secret not in text


def test_a_secret_learnt_after_start_is_redacted_from_then_on(log_stream: io.StringIO) -> None:
    register_secret("generated-webhook-secret-42")
    logging.getLogger("bot").info("webhook secret is %s", "generated-webhook-secret-42")
    assert "generated-webhook-secret-42" not in log_stream.getvalue()


def test_a_traceback_holding_a_secret_is_redacted(log_stream: io.StringIO) -> None:
    try:
        raise ConnectionError(f"cannot reach https://api.telegram.org/bot{BOT_TOKEN}/getMe")
    except ConnectionError:
        logging.getLogger("telegram").exception("startup failed")
    log = log_stream.getvalue()
    assert "ConnectionError" in log and "startup failed" in log
    assert BOT_TOKEN.split(":")[1] not in log


def test_message_texts_are_cut_short_at_debug_and_absent_above(log_stream: io.StringIO) -> None:
    private = "Je viens avec mon fils Léo, il a 9 ans et une allergie aux arachides"
    library = logging.getLogger("telegram.ext.Application")
    library.debug("Processing update Update(message=Message(text=%r, chat=1))", private)
    library.info("Update %s", {"message": {"text": private}})
    log = log_stream.getvalue()
    assert private[:40] in log  # a DEBUG preview: what kind of message it was
    assert "allergie" not in log
    assert "[68 chars]" in log  # INFO: only its length


def test_a_failed_commands_arguments_are_not_in_the_error_log(log_stream: io.StringIO) -> None:
    logging.getLogger("bot.core.dispatch").error(
        "command /%s failed for %s:%s in chat %s (args %r)", "book", "telegram", "42", "42",
        "salle-reunion demain pour l'anniversaire de Léo")
    log = log_stream.getvalue()
    assert "command /book failed for telegram:42" in log and "Léo" not in log


def test_an_ordinary_log_line_is_left_as_it_was() -> None:
    line = "outbox 12 to telegram:4201 failed (Forbidden: bot was blocked by the user)"
    assert redact(line) == line


@given(before=st.text(max_size=60), after=st.text(max_size=60),
       secret=st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=6, max_size=40))
def test_a_registered_secret_never_survives_whatever_surrounds_it(before: str, after: str, secret: str) -> None:
    register_secret(secret)
    try:
        assert secret not in redact(f"{before}{secret}{after}")
    finally:
        forget_secrets()
