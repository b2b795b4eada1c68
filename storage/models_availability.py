"""What is free (issue 15): a version per space, bumped by database triggers (migrations 0023, 0024) at every
write that can change the space's free hours, so that each process's cache of free hours knows when it is stale."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column
from sqlmodel import Field

from storage.table import Table


class FreeStamp(Table, table=True):
    """Raised by a random step (never lowered, never deleted) by triggers on booking, event, eventoccurrence and
    space writes, in the writing transaction. No foreign key: a deleted space's row stays, so the sum of the
    versions grows at every committed bump (storage.availability reads the sum first). ``seq``: the highest in
    the table plus one at each bump (0024), so a reader reads only the rows bumped since it last looked."""

    space_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    version: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0", index=True))
