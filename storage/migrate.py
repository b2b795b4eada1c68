"""Run Alembic migrations from code, so `tierslieu db upgrade` and start-up need no alembic.ini."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

log = logging.getLogger(__name__)


class MigrationError(Exception):
    """A schema upgrade failed; the message is one line saying what happened and where the database is."""


def alembic_config(engine: Engine, migrations_dir: Path = MIGRATIONS_DIR) -> Config:
    from alembic.config import Config  # alembic is loaded only when a migration may have to run

    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.attributes["engine"] = engine
    return config


def current_revisions(engine: Engine) -> set[str]:
    """The revisions the database is at (empty for a new database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


_QUOTED = re.compile(r"""["']([^"']+)["']""")


def _declared(source: str, name: str) -> set[str]:
    line = re.search(rf"^{name}\s*=\s*(.*)$", source, re.MULTILINE)
    return set(_QUOTED.findall(line.group(1).split("#")[0])) if line else set()


def expected_revisions(migrations_dir: Path = MIGRATIONS_DIR) -> set[str]:
    """The version table's content once every migration ran, read from the files without alembic: the
    heads, less those another branch depends on (alembic removes them). Empty when unsure."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (migrations_dir / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision = _declared(source, "revision")
        if len(revision) != 1:
            return set()
        revisions |= revision
        parents |= _declared(source, "down_revision") | _declared(source, "depends_on")
    return revisions - parents


def _already_at_heads(engine: Engine, migrations_dir: Path) -> bool:
    """The database is at every head already (the usual start): no need to load alembic and the scripts."""
    expected = expected_revisions(migrations_dir)
    if not expected:
        return False
    try:
        with engine.connect() as connection:
            found = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
    except Exception:
        return False  # a new database: no version table yet
    return found == expected


def upgrade(engine: Engine, revision: str = "heads", migrations_dir: Path = MIGRATIONS_DIR) -> None:
    """Each feature's migrations form their own branch from the initial tables; "heads" applies them all.

    All pending migrations run in ONE transaction (env.py), so a failure rolls every one of them back and
    the database stays as the previous version left it; the MigrationError says so in one line."""
    if revision == "heads" and _already_at_heads(engine, migrations_dir):
        return
    from alembic import command

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
