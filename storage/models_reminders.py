"""Tables of reminders, chat subscriptions and announcements."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field

from storage.models import utcnow
from storage.table import Table
from storage.types import UTCDateTime


class Reminder(Table, table=True):
    """One message to send a member at ``due_at``. Kept here, not in APScheduler's memory, so that a
    restart loses none; ``status`` moves from pending to sent in the same transaction as the outbox
    row, so none is sent twice."""

    __table_args__ = (Index("ix_reminder_status_due", "status", "due_at"), Index("ix_reminder_ref", "kind", "ref"))

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    kind: str = Field(max_length=16)  # booking | event | shift | personal
    ref: str | None = Field(default=None, max_length=64)  # what it is about, e.g. a booking id
    text: str = Field(default="", max_length=500)
    due_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    status: str = Field(default="pending", max_length=16)  # pending | sent | dropped | cancelled
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class ReminderSettings(Table, table=True):
    """A member's choices; no row means the defaults (BOOKING_REMINDER_MINUTES, events and shifts on)."""

    member_id: int = Field(foreign_key="member.id", primary_key=True)
    booking_minutes: int = Field(default=30)  # 0 = off
    events: bool = Field(default=True)
    shifts: bool = Field(default=True)


class Subscription(Table, table=True):
    """A chat that receives announcements and the weekly digest."""

    __table_args__ = (UniqueConstraint("platform", "chat_id", name="uq_subscription_chat"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    chat_id: str = Field(max_length=255)
    is_private: bool = Field(default=False)
    language: str = Field(default="fr", max_length=8)
    subscribed_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class Announcement(Table, table=True):
    id: int | None = Field(default=None, primary_key=True)
    author_id: int = Field(foreign_key="member.id")
    text: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="draft", max_length=16)  # draft | sending | done | cancelled
    recipients: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
