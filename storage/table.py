"""The base of every table model."""

from __future__ import annotations

from sqlmodel import SQLModel
from sqlmodel._compat import SQLModelConfig  # the type SQLModel gives its own model_config


class Table(SQLModel):
    """A table's pydantic validator is built when something first validates one (nothing does: rows are made
    by our code and read back from the database), not at import: ~0.6 MiB less RSS for our 56 tables
    (issue 15). SQLModel's own settings are kept (pydantic merges a subclass's config with its parent's)."""

    model_config = SQLModelConfig(defer_build=True)
