"""Settings: defaults for the embedded setup, and one clear line naming a bad setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.core.types import Platform


def test_defaults_are_the_embedded_setup() -> None:
    settings = load_settings({})
    assert settings.database_url == "sqlite:///tierslieu.db"
    assert (settings.timezone, settings.language, settings.log_level) == ("Europe/Paris", "fr", "INFO")
    assert settings.coordinators == frozenset()


def test_coordinators_name_platform_and_id() -> None:
    settings = load_settings({"COORDINATORS": "telegram:123456, matrix:@alice:example.org,console:alice"})
    assert settings.is_coordinator(Platform.MATRIX, "@alice:example.org")
    assert settings.is_coordinator(Platform.TELEGRAM, "123456")
    assert not settings.is_coordinator(Platform.TELEGRAM, "alice")


@pytest.mark.parametrize(("env", "message"), [
    ({"TIMEZONE": "Europe/Pariss"}, "TIMEZONE: unknown time zone 'Europe/Pariss'"),
    ({"LANGUAGE": "de"}, "LANGUAGE: 'de' is not supported (fr or en)"),
    ({"COORDINATORS": "alice"}, "COORDINATORS: 'alice' should look like platform:id"),
    ({"COORDINATORS": "discord:42"}, "COORDINATORS: unknown platform 'discord'"),
    ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL: 'LOUD' is not one of"),
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL: 'mysql://x' is neither"),
    ({"HTTP_PORT": "eighty"}, "HTTP_PORT: 'eighty' is not a port number"),
    ({"DIGEST_SCHEDULE": "monday"}, "DIGEST_SCHEDULE: 'monday' should be a weekday and a time"),
    ({"DIGEST_SCHEDULE": "mon 25:00"}, "DIGEST_SCHEDULE: 'mon 25:00' should be a weekday and a time"),
    ({"BOOKING_REMINDER_MINUTES": "-5"}, "BOOKING_REMINDER_MINUTES: '-5' should be minutes"),
])
def test_bad_setting_is_named_with_the_problem(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(env)
    assert str(error.value).startswith(message)


def test_digest_schedule_reads_a_weekday_and_a_time() -> None:
    assert load_settings({"DIGEST_SCHEDULE": "Fri 17h30"}).digest_schedule == ("fri", 17, 30)


def test_gnu_style_language_variable_is_accepted() -> None:
    assert load_settings({"LANGUAGE": "en_GB:en"}).language == "en"


def test_bad_setting_stops_the_program_with_one_line_and_status_2(tmp_path: Path) -> None:
    env = {**os.environ, "TIMEZONE": "Mars/Olympus"}
    result = subprocess.run([sys.executable, "-m", "bot", "chat"], input="", capture_output=True, text=True,
                            env=env, cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "configuration error: TIMEZONE: unknown time zone 'Mars/Olympus' (e.g. Europe/Paris)")


def test_dotenv_file_in_the_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LANGUAGE=en\n")
    env = {k: v for k, v in os.environ.items() if k != "LANGUAGE"}
    result = subprocess.run([sys.executable, "-m", "bot", "chat", "--user", "zoe"], input="/help\n",
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "== What I can do ==" in result.stdout
