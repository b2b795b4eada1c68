"""Typed settings read once from the environment (and ``.env``); a bad value stops start-up by name."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.types import Platform

SUPPORTED_LANGUAGES = ("fr", "en")
# Volunteer hours are valued at the SMIC horaire brut of their day (storage.report.SMIC_HOURLY) unless an
# association sets its own rate with VOLUNTEER_HOUR_VALUE.
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """One bad setting: the message names it and says what is wrong."""


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///tierslieu.db"
    timezone: str = "Europe/Paris"
    language: str = "fr"
    coordinators: frozenset[tuple[Platform, str]] = frozenset()
    log_level: str = "INFO"
    data_dir: Path = Path("data")
    spaces_file: Path | None = None
    # Telegram
    telegram_bot_token: str | None = None
    telegram_api_url: str | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    # Matrix
    matrix_homeserver: str | None = None
    matrix_user_id: str | None = None
    matrix_access_token: str | None = None
    matrix_password: str | None = None
    matrix_device_name: str = "tierslieu-bot"
    matrix_store_dir: Path | None = None
    matrix_allowed_servers: frozenset[str] = frozenset()
    matrix_recovery_key: str | None = None
    # HTTP server (webhooks, iCal feeds)
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    public_url: str | None = None
    # Reminders and digest
    digest_schedule: tuple[str, int, int] = ("mon", 8, 0)
    booking_reminder_minutes: int = 30
    # Volunteers: what one hour of volunteer work is worth, in euros (the activity report's valuation);
    # None: the SMIC horaire brut in force on the day the hours were given
    volunteer_hour_value: Decimal | None = None
    # Per-member limits (one member cannot swamp the bot or the calendar); coordinators may raise them
    commands_per_minute: int = 30
    max_pending_reminders: int = 200
    max_future_bookings_per_space: int = 60
    # Backups (bot/backup.py): the daily archive's directory (default DATA_DIR/backups) and how many to keep
    backup_dir: Path | None = None
    backup_keep: int = 7
    backup_schedule: tuple[str, int, int] = ("*", 3, 30)  # every day at BACKUP_TIME (a cron job, not at start)
    # /metrics: a bearer token; without one, only requests from this machine are answered
    metrics_token: str | None = None
    # Retention (days) of rows only the machinery needs: delivered outbox messages, inbox rows, button state
    retention_outbox_days: int = 30
    retention_inbox_days: int = 30
    retention_buttons_days: int = 90
    # Public agenda and widget (bot/site): background, text and accent colours, checked for contrast
    site_colours: tuple[tuple[str, str], ...] = (("background", "#ffffff"), ("text", "#1d1d1b"), ("accent", "#0b6e4f"))
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_coordinator(self, platform: Platform, user_id: str) -> bool:
        return (platform, user_id) in self.coordinators


def parse_coordinators(raw: str) -> frozenset[tuple[Platform, str]]:
    entries: set[tuple[Platform, str]] = set()
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        platform_name, sep, user_id = item.partition(":")
        if not sep or not user_id:
            raise ConfigError(
                f"COORDINATORS: '{item}' should look like platform:id, e.g. telegram:123456,console:alice"
            )
        try:
            platform = Platform(platform_name.strip().lower())
        except ValueError:
            names = ", ".join(p.value for p in Platform)
            raise ConfigError(f"COORDINATORS: unknown platform '{platform_name}' in '{item}' ({names})") from None
        entries.add((platform, user_id.strip()))
    return frozenset(entries)


DIGEST_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_weekly(name: str, raw: str) -> tuple[str, int, int]:
    """'mon 08:00' -> ('mon', 8, 0)."""
    parts = raw.strip().lower().split()
    try:
        day, clock = parts
        hour_text, minute_text = clock.replace("h", ":").split(":")
        hour, minute = int(hour_text), int(minute_text or 0)
        if day[:3] not in DIGEST_DAYS or not (0 <= hour < 24 and 0 <= minute < 60):
            raise ValueError
    except ValueError:
        raise ConfigError(f"{name}: '{raw}' should be a weekday and a time, e.g. mon 08:00") from None
    return day[:3], hour, minute


def parse_amount(name: str, raw: str) -> Decimal:
    """'11.88' or '11,88' (euros, at most 2 decimals, 0 to 1000)."""
    try:
        amount = Decimal(raw.strip().replace(",", "."))
        if not amount.is_finite() or not 0 <= amount <= 1000 or amount != amount.quantize(Decimal("0.01")):
            raise ValueError
    except (ArithmeticError, ValueError):
        raise ConfigError(f"{name}: '{raw}' should be an amount in euros between 0 and 1000, e.g. 11.88") from None
    return amount


def parse_limit(env: Mapping[str, str], name: str, default: int, maximum: int) -> int:
    """A per-member limit: a whole number from 1 to ``maximum``."""
    raw = env.get(name, "").strip() or str(default)
    try:
        value = int(raw)
        if not 1 <= value <= maximum:
            raise ValueError
    except ValueError:
        raise ConfigError(f"{name}: '{raw}' should be a whole number from 1 to {maximum}") from None
    return value


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _url(env: Mapping[str, str], name: str) -> str | None:
    value = _optional(env, name)
    if value is not None and not value.startswith(("http://", "https://")):
        raise ConfigError(f"{name}: '{value}' is not an http(s) URL")
    return value.rstrip("/") if value else None


# The longest path under PUBLIC_URL: a member's feed, /ical/members/<43-character token>.ics (bot.ical).
LONGEST_FEED_PATH = len("/ical/members/") + 43 + len(".ics")
LONGEST_LINK = 200  # Google Calendar ignores subscription links over 256 characters; keep a margin


def _public_url(env: Mapping[str, str]) -> str | None:
    """The bot's public address (calendar links): http(s), a host, no query or fragment, and short
    enough that its longest link (the webcal:// form of a member's feed) stays under 200 characters."""
    value = _url(env, "PUBLIC_URL")
    if value is None:
        return None
    parsed = urlsplit(value)
    if not parsed.hostname:
        raise ConfigError(f"PUBLIC_URL: '{value}' has no host (e.g. https://bot.example.org)")
    if parsed.query or parsed.fragment or "?" in value or "#" in value:
        raise ConfigError(f"PUBLIC_URL: '{value}' must not have a query or fragment (e.g. https://bot.example.org/tl)")
    longest = len("webcal://") + len(value.split("://", 1)[1]) + LONGEST_FEED_PATH
    if longest > LONGEST_LINK:
        raise ConfigError(f"PUBLIC_URL: too long, calendar links would be {longest} characters "
                          f"(at most {LONGEST_LINK}; keep it under {LONGEST_LINK - LONGEST_FEED_PATH})")
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from ``env`` (default: the process environment after loading ``.env``)."""
    if env is None:
        from dotenv import load_dotenv

        load_dotenv(Path.cwd() / ".env", override=False)
        env = os.environ

    timezone = env.get("TIMEZONE", "Europe/Paris").strip() or "Europe/Paris"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"TIMEZONE: unknown time zone '{timezone}' (e.g. Europe/Paris)") from None

    language = (env.get("LANGUAGE", "fr").strip() or "fr").lower()
    # LANGUAGE is also a GNU gettext variable ("fr:en"); take its first entry.
    language = language.split(":")[0].split("_")[0]
    if language not in SUPPORTED_LANGUAGES:
        raise ConfigError(f"LANGUAGE: '{language}' is not supported (fr or en)")

    log_level = (env.get("LOG_LEVEL", "INFO").strip() or "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL: '{log_level}' is not one of {', '.join(LOG_LEVELS)}")

    database_url = env.get("DATABASE_URL", "").strip() or "sqlite:///tierslieu.db"
    if not database_url.startswith(("sqlite:", "postgresql")):
        raise ConfigError(
            f"DATABASE_URL: '{database_url}' is neither sqlite:///FILE nor postgresql+psycopg://..."
        )
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")

    http_port_raw = env.get("HTTP_PORT", "8080").strip() or "8080"
    try:
        http_port = int(http_port_raw)
        if not 0 <= http_port <= 65535:
            raise ValueError
    except ValueError:
        raise ConfigError(f"HTTP_PORT: '{http_port_raw}' is not a port number (0-65535)") from None

    data_dir = Path(env.get("DATA_DIR", "data").strip() or "data")
    digest_schedule = parse_weekly("DIGEST_SCHEDULE", env.get("DIGEST_SCHEDULE", "mon 08:00").strip() or "mon 08:00")
    reminder_raw = env.get("BOOKING_REMINDER_MINUTES", "30").strip() or "30"
    try:
        booking_reminder_minutes = int(reminder_raw)
        if not 0 <= booking_reminder_minutes <= 7 * 24 * 60:
            raise ValueError
    except ValueError:
        raise ConfigError(
            f"BOOKING_REMINDER_MINUTES: '{reminder_raw}' should be minutes between 0 (off) and 10080"
        ) from None
    spaces_file = _optional(env, "SPACES_FILE")
    store_dir = _optional(env, "MATRIX_STORE_DIR")
    allowed = frozenset(s.strip() for s in env.get("MATRIX_ALLOWED_SERVERS", "").split(",") if s.strip())

    matrix_homeserver = _url(env, "MATRIX_HOMESERVER")
    matrix_user_id = _optional(env, "MATRIX_USER_ID")
    if matrix_homeserver and not matrix_user_id:
        raise ConfigError("MATRIX_USER_ID: required when MATRIX_HOMESERVER is set (e.g. @bot:example.org)")
    if matrix_user_id and not (matrix_user_id.startswith("@") and ":" in matrix_user_id):
        raise ConfigError(f"MATRIX_USER_ID: '{matrix_user_id}' should look like @bot:example.org")
    matrix_access_token = _optional(env, "MATRIX_ACCESS_TOKEN")
    matrix_password = _optional(env, "MATRIX_PASSWORD")
    if matrix_homeserver and not (matrix_access_token or matrix_password):
        raise ConfigError("MATRIX_ACCESS_TOKEN: set it or MATRIX_PASSWORD to log the bot in")

    return Settings(
        database_url=database_url,
        timezone=timezone,
        language=language,
        coordinators=parse_coordinators(env.get("COORDINATORS", "")),
        log_level=log_level,
        data_dir=data_dir,
        spaces_file=Path(spaces_file) if spaces_file else None,
        telegram_bot_token=_optional(env, "TELEGRAM_BOT_TOKEN"),
        telegram_api_url=_url(env, "TELEGRAM_API_URL"),
        telegram_webhook_url=_url(env, "TELEGRAM_WEBHOOK_URL"),
        telegram_webhook_secret=_optional(env, "TELEGRAM_WEBHOOK_SECRET"),
        matrix_homeserver=matrix_homeserver,
        matrix_user_id=matrix_user_id,
        matrix_access_token=matrix_access_token,
        matrix_password=matrix_password,
        matrix_device_name=_optional(env, "MATRIX_DEVICE_NAME") or "tierslieu-bot",
        matrix_store_dir=Path(store_dir) if store_dir else None,
        matrix_allowed_servers=allowed,
        matrix_recovery_key=_optional(env, "MATRIX_RECOVERY_KEY"),
        http_host=env.get("HTTP_HOST", "127.0.0.1").strip() or "127.0.0.1",
        http_port=http_port,
        public_url=_public_url(env),
        digest_schedule=digest_schedule,
        booking_reminder_minutes=booking_reminder_minutes,
        volunteer_hour_value=parse_amount("VOLUNTEER_HOUR_VALUE", hour_value)
        if (hour_value := env.get("VOLUNTEER_HOUR_VALUE", "").strip()) else None,
        commands_per_minute=parse_limit(env, "COMMANDS_PER_MINUTE", 30, 10_000),
        max_pending_reminders=parse_limit(env, "MAX_PENDING_REMINDERS", 200, 1_000_000),
        max_future_bookings_per_space=parse_limit(env, "MAX_FUTURE_BOOKINGS_PER_SPACE", 60, 1_000_000),
        backup_dir=Path(backup_dir) if (backup_dir := _optional(env, "BACKUP_DIR")) else None,
        backup_keep=_whole_number(env, "BACKUP_KEEP", 7, 0, 1000),
        backup_schedule=_daily(env, "BACKUP_TIME", "03:30"),
        metrics_token=_optional(env, "METRICS_TOKEN"),
        retention_outbox_days=_whole_number(env, "RETENTION_OUTBOX_DAYS", 30, MIN_OUTBOX_RETENTION_DAYS, 3650),
        retention_inbox_days=_whole_number(env, "RETENTION_INBOX_DAYS", 30, 1, 3650),
        retention_buttons_days=_whole_number(env, "RETENTION_BUTTONS_DAYS", 90, 1, 3650),
        site_colours=parse_site_colours(env.get("SITE_COLOURS", "")),
        extra={k: v for k, v in env.items() if k.startswith("TIERSLIEU_")},
    )


# A sent message's row carries the key that stops it being sent twice: the monthly volunteer-hours reminder
# (from the 15th to the month's end) and the weekly digest need theirs for up to a month.
MIN_OUTBOX_RETENTION_DAYS = 30


def _whole_number(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip() or str(default)
    try:
        value = int(raw)
        if not low <= value <= high:
            raise ValueError
    except ValueError:
        raise ConfigError(f"{name}: '{raw}' should be a whole number from {low} to {high}") from None
    return value


def _daily(env: Mapping[str, str], name: str, default: str) -> tuple[str, int, int]:
    """'03:30' -> ('*', 3, 30): every day at that time (a cron schedule for a job's weekly_setting)."""
    raw = env.get(name, "").strip() or default
    try:
        _day, hour, minute = parse_weekly(name, f"mon {raw}")
    except ConfigError:
        raise ConfigError(f"{name}: '{raw}' should be a time of day, e.g. 03:30") from None
    return "*", hour, minute


SITE_COLOUR_NAMES = ("background", "text", "accent")
_HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def _luminance(colour: str) -> float:
    digits = colour[1:] if len(colour) == 7 else "".join(c * 2 for c in colour[1:])
    channels = [int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two #rgb/#rrggbb colours (1 to 21)."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def parse_site_colours(raw: str) -> tuple[tuple[str, str], ...]:
    """'background:#fff,text:#222,accent:#0b6e4f' (any of the three; the others keep their default). Text
    and accent must stand out from the background (WCAG AA, 4.5:1) so the agenda stays readable."""
    colours = dict(Settings.site_colours)
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        name, _, value = (piece.strip() for piece in item.partition(":"))
        if name.lower() not in colours:
            raise ConfigError(f"SITE_COLOURS: unknown colour '{name}' (use {', '.join(SITE_COLOUR_NAMES)}, "
                              "e.g. background:#ffffff,text:#1d1d1b,accent:#0b6e4f)")
        if not _HEX_COLOUR.match(value):
            raise ConfigError(f"SITE_COLOURS: '{value}' for {name} is not a colour like #0b6e4f")
        colours[name.lower()] = value.lower()
    for name in ("text", "accent"):
        ratio = contrast_ratio(colours[name], colours["background"])
        if ratio < 4.5:
            raise ConfigError(f"SITE_COLOURS: {name} {colours[name]} on background {colours['background']} has a "
                              f"contrast of {ratio:.1f}:1; at least 4.5:1 is needed to be readable")
    return tuple((name, colours[name]) for name in SITE_COLOUR_NAMES)
