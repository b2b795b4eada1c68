"""The catalog's version (issue 15): each process keeps the spaces and sites in memory (storage.catalog) and
checks this one row, changed by database triggers (migration 0022) in the same transaction as any write to
the space or site tables, before using them: a space added or renamed by any process or connection is seen
by the next command everywhere."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column
from sqlmodel import Field

from storage.table import Table


class CatalogVersion(Table, table=True):
    """One row per catalog (``name`` "spaces"). ``version`` is set to a new random number by every write to
    ``space`` or ``site``: a value is never reused, so a copy built inside a transaction that was then rolled
    back can never be taken for a committed state, and a database rebuilt from scratch never matches a copy
    of the old one."""

    name: str = Field(primary_key=True, max_length=32)
    version: int = Field(sa_column=Column(BigInteger, nullable=False))
