"""The settings of backups, metrics and retention: read as documented, a bad value named in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_and_values() -> None:
    default = load_settings({})
    assert (default.backup_dir, default.backup_keep, default.backup_schedule) == (None, 7, ("*", 3, 30))
    assert (default.retention_outbox_days, default.retention_inbox_days, default.retention_buttons_days) == (30, 30, 90)
    assert default.metrics_token is None
    chosen = load_settings({"BACKUP_DIR": "/srv/backups", "BACKUP_KEEP": "0", "BACKUP_TIME": "2h15",
                            "METRICS_TOKEN": "s3cret", "RETENTION_OUTBOX_DAYS": "45"})
    assert (chosen.backup_dir, chosen.backup_keep, chosen.backup_schedule) == (Path("/srv/backups"), 0, ("*", 2, 15))
    assert (chosen.metrics_token, chosen.retention_outbox_days) == ("s3cret", 45)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("BACKUP_KEEP", "-1", "BACKUP_KEEP: '-1' should be a whole number from 0 to 1000"),
    ("BACKUP_KEEP", "sept", "BACKUP_KEEP: 'sept' should be a whole number from 0 to 1000"),
    ("BACKUP_TIME", "25:00", "BACKUP_TIME: '25:00' should be a time of day, e.g. 03:30"),
    ("RETENTION_INBOX_DAYS", "0", "RETENTION_INBOX_DAYS: '0' should be a whole number from 1 to 3650"),
    # shorter would forget the keys that stop the monthly hours reminder or the digest being sent twice
    ("RETENTION_OUTBOX_DAYS", "7", "RETENTION_OUTBOX_DAYS: '7' should be a whole number from 30 to 3650"),
])
def test_a_bad_value_is_named_in_one_line(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({name: value})
    assert str(raised.value) == message


def test_every_setting_is_in_the_example_file_and_the_readme() -> None:
    example = (ROOT / "config.example.env").read_text()
    readme = (ROOT / "README.md").read_text()
    for name in ("BACKUP_DIR", "BACKUP_KEEP", "BACKUP_TIME", "METRICS_TOKEN", "RETENTION_OUTBOX_DAYS",
                 "RETENTION_INBOX_DAYS", "RETENTION_BUTTONS_DAYS"):
        assert f"#{name}=" in example and f"`{name}`" in readme, name
