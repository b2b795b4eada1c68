"""Received messages, stored before the platform is told they arrived (the inbox)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field

from storage.models import utcnow
from storage.table import Table
from storage.types import UTCDateTime


class InboxMessage(Table, table=True):
    """One platform update (a message, a button press), kept from the moment it is received until its
    command has run. ``(platform, update_id)`` is unique: an update delivered twice (a restart before
    Telegram's offset moved, a Matrix sync replayed) is stored once and so handled once. ``status`` goes
    from pending to done in the same transaction as the command's effect and its answers."""

    __table_args__ = (
        UniqueConstraint("platform", "update_id", name="uq_inbox_platform_update"),
        Index("ix_inbox_status_chat", "status", "platform", "chat_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    update_id: str = Field(max_length=255)
    chat_id: str = Field(max_length=255)
    payload: str = Field(sa_column=Column(Text, nullable=False))  # JSON of an Incoming
    status: str = Field(default="pending", max_length=16)  # pending | done
    received_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    done_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
