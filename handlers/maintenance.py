"""Work that keeps the bot safe to run for years with nobody on call: the daily backup."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.context import JobCtx
from bot.core.router import Router

router = Router("maintenance")
log = logging.getLogger(__name__)

# Run daily at BACKUP_TIME (a cron job: not at every start); skipped when an archive is younger than this, so
# the night the clocks go back, or two processes sharing the database, don't make two.
BACKUP_EVERY = timedelta(hours=20)


def backup_directory(ctx: JobCtx) -> Path:
    return ctx.settings.backup_dir or ctx.settings.data_dir / "backups"


@router.job("daily-backup", weekly_setting="backup_schedule")
def daily_backup(ctx: JobCtx) -> None:
    """BACKUP_KEEP archives in BACKUP_DIR (0: no automatic backup)."""
    from bot.backup import archive_time, backup, describe, newest_backup, prune_backups

    if ctx.settings.backup_keep <= 0:
        return
    directory = backup_directory(ctx)
    newest = newest_backup(directory) if directory.is_dir() else None
    if newest is not None and (archive_time(newest) or datetime.min.replace(tzinfo=UTC)) > ctx.now - BACKUP_EVERY:
        return
    result = backup(ctx.settings, directory, now=ctx.now)
    removed = prune_backups(directory, ctx.settings.backup_keep)
    log.info("%s; %d older archive(s) removed", describe(result), len(removed))
