"""A new database starts with the sample spaces, so the first `tierslieu chat` has something to book."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import select

from storage.db import session_scope
from storage.models import Site
from storage.spaces import import_spaces, load_spaces_file

log = logging.getLogger(__name__)

EXAMPLE_SPACES = Path(__file__).resolve().parent.parent / "examples" / "spaces.toml"


def seed_if_empty(engine: Engine, spaces_file: Path | None = None) -> bool:
    path = spaces_file or EXAMPLE_SPACES
    with session_scope(engine) as session:
        if session.exec(select(Site.id)).first() is not None:
            return False
        if not path.exists():
            log.warning("no spaces file at %s; the database starts empty", path)
            return False
        created, _ = import_spaces(session, load_spaces_file(path))
        log.info("seeded %s spaces from %s", created, path)
        return True
