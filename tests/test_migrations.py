"""The migrations build exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import storage.schema  # noqa: F401
from storage.db import make_engine
from storage.migrate import upgrade


def test_migrations_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
        assert differences == []
    finally:
        engine.dispose()


def test_upgrading_twice_changes_nothing(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    upgrade(engine)
    engine.dispose()
