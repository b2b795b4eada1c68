"""Members' data rights: the short-lived links to a member's own data file (/mydata)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field

from storage.table import Table
from storage.types import UTCDateTime


class DataExport(Table, table=True):
    """A link to download one's data file. Only the SHA-256 of the link's secret is kept (a backup or a
    stolen database gives no working link); the file itself is built when the link is opened."""

    token_hash: str = Field(primary_key=True, max_length=64)
    member_id: int = Field(foreign_key="member.id", index=True)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
