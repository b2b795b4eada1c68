"""Watching a taken slot (issue 16): a member refused a booking because the slot was full asks to be told if
it frees up. The watch ends at the slot's start (it is not offered after), or once the member has been told."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field

from storage.models import utcnow
from storage.table import Table
from storage.types import UTCDateTime


class BookingWatch(Table, table=True):
    """``member_id`` wants ``space_id`` from ``start`` to ``end`` (UTC) and is told once when it frees up."""

    __table_args__ = (
        UniqueConstraint("member_id", "space_id", "start", "end", name="uq_bookingwatch_slot"),
        Index("ix_bookingwatch_space_start", "space_id", "start"),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    space_id: int = Field(foreign_key="space.id")
    start: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    end: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    told_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
