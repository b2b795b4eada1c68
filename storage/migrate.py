"""Run Alembic migrations from code, so `tierslieu db upgrade` and start-up need no alembic.ini."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

log = logging.getLogger(__name__)


class MigrationError(Exception):
    """A schema upgrade failed; the message is one line saying what happened and where the database is."""


def alembic_config(engine: Engine, migrations_dir: Path = MIGRATIONS_DIR) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.attributes["engine"] = engine
    return config


def current_revisions(engine: Engine) -> set[str]:
    """The revisions the database is at (empty for a new database)."""
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def upgrade(engine: Engine, revision: str = "heads", migrations_dir: Path = MIGRATIONS_DIR) -> None:
    """Each feature's migrations form their own branch from the initial tables; "heads" applies them all.

    All pending migrations run in ONE transaction (env.py), so a failure rolls every one of them back and
    the database stays as the previous version left it; the MigrationError says so in one line."""
    before = current_revisions(engine)
    try:
        command.upgrade(alembic_config(engine, migrations_dir), revision)
    except Exception as error:
        log.debug("migration failed", exc_info=True)
        try:
            after = current_revisions(engine)
        except Exception:
            after = None
        cause = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
        if after == before:
            where = f"left as it was (revision {', '.join(sorted(before)) or 'empty'})"
        else:
            where = f"left at revision {', '.join(sorted(after or [])) or 'unknown'}"
        raise MigrationError(f"database upgrade failed: {cause}; the database was {where}") from error
    after = current_revisions(engine)
    if before and after != before:
        log.info("database upgraded from %s to %s", ", ".join(sorted(before)), ", ".join(sorted(after)))
