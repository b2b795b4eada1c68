"""An image several outbox messages carry (the weekly digest's chart to every subscribed chat), stored once
and referenced from each message's payload by its SHA-256; deleted by the retention job once no message
refers to it any more."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, String
from sqlmodel import Field

from storage.models import utcnow
from storage.table import Table
from storage.types import UTCDateTime


class OutboxImage(Table, table=True):
    sha256: str = Field(sa_column=Column(String(64), primary_key=True))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # Last time a message was written with it: the retention job leaves recently used images alone, so one
    # a new message is about to reference is never deleted under it.
    used_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
