"""Database tables. Every datetime is aware and stored in UTC (see UTCDateTime)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field

from storage.table import Table
from storage.types import UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


class Site(Table, table=True):
    """One tiers-lieu. A deployment has one by default; networks of places have several."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(index=True, unique=True, max_length=64)
    name: str = Field(max_length=200)


class Space(Table, table=True):
    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    slug: str = Field(index=True, unique=True, max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(default="room", max_length=32)
    capacity: int = Field(default=1)
    # JSON object: {"mon": ["09:00-12:00", "14:00-19:00"], ...}; a missing day is closed.
    opening_hours: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    max_duration_minutes: int = Field(default=8 * 60)
    max_days_ahead: int = Field(default=90)
    weekly_quota_minutes: int | None = Field(default=None)
    required_qualification: str | None = Field(default=None, max_length=64)
    description: str = Field(default="", max_length=1000)
    closed: bool = Field(default=False)


class Member(Table, table=True):
    id: int | None = Field(default=None, primary_key=True)
    display_name: str = Field(max_length=200)
    language: str | None = Field(default=None, max_length=8)
    language_chosen: bool = Field(default=False)
    is_coordinator: bool = Field(default=False)
    is_organiser: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class Identity(Table, table=True):
    """One chat account of a member; a person may link several (Telegram, Matrix) into one member."""

    __table_args__ = (UniqueConstraint("platform", "user_id", name="uq_identity_platform_user"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    platform: str = Field(max_length=16)
    user_id: str = Field(max_length=255)
    # Where the bot can write to this account privately, once known.
    private_chat_id: str | None = Field(default=None, max_length=255)


class Qualification(Table, table=True):
    """A member cleared for something (e.g. the laser cutter), granted by a coordinator."""

    __table_args__ = (UniqueConstraint("member_id", "name", name="uq_qualification_member_name"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    name: str = Field(max_length=64)
    granted_by: int | None = Field(default=None, foreign_key="member.id")
    granted_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class Booking(Table, table=True):
    # Overlap queries ask "start < window end AND end > window start": led by "end", the range holds only
    # bookings not yet over, so their cost doesn't grow with history; status and member in it too, so /book's
    # reads of a space's bookings need no table row (migration 0025).
    __table_args__ = (Index("ix_booking_space_end", "space_id", "end", "start", "status", "member_id"),
                      Index("ix_booking_member_end", "member_id", "end"))

    id: int | None = Field(default=None, primary_key=True)
    space_id: int = Field(foreign_key="space.id")
    member_id: int = Field(foreign_key="member.id", index=True)
    start: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    end: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    status: str = Field(default="active", max_length=16)  # active | cancelled
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    cancelled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    cancelled_by: int | None = Field(default=None, foreign_key="member.id")


class OutboxMessage(Table, table=True):
    """A message the bot starts itself, persisted so that a restart loses none and a retry sends none twice."""

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16, index=True)
    chat_id: str = Field(max_length=255)
    payload: str = Field(sa_column=Column(Text, nullable=False))  # JSON of a Reply
    dedup_key: str | None = Field(default=None, max_length=255, unique=True)
    status: str = Field(default="pending", max_length=16, index=True)  # pending|sending|sent|failed|no_route
    attempts: int = Field(default=0)
    not_before: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    error: str | None = Field(default=None, max_length=500)
    # The process sending it while status is "sending" (its lease, see bot/core/outbox.py): a row whose
    # process is gone is recovered at once by the next one.
    lease: str | None = Field(default=None, max_length=64)


class AdapterState(Table, table=True):
    """Small key/value state an adapter must keep across restarts (sync token, chat migrations)."""

    key: str = Field(primary_key=True, max_length=255)
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class LinkCode(Table, table=True):
    """A one-time code that joins another chat account (or a private chat) to a member."""

    code: str = Field(primary_key=True, max_length=64)
    member_id: int = Field(foreign_key="member.id")
    purpose: str = Field(default="link", max_length=16)  # link | start
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
