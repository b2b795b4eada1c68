"""What a member and the bot are in the middle of, per chat: a request in plain words still being
completed or confirmed, and the choices (buttons) last offered to them, which a typed number may press.
Both expire after a few minutes, so an old question never catches a new sentence."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field

from storage.models import utcnow
from storage.table import Table
from storage.types import UTCDateTime


class ConversationState(Table, table=True):
    """One row per member and chat. ``request`` and ``choices`` are JSON written by
    ``bot.core.conversation``; storage does not read inside them."""

    __table_args__ = (UniqueConstraint("platform", "chat_id", "member_id", name="uq_conversation_chat_member"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    chat_id: str = Field(max_length=255)
    member_id: int = Field(foreign_key="member.id", index=True)
    request: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    request_expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    choices: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    choices_expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
