"""Event tables: an event (a single one, or a series with its recurrence rule), its occurrences
(the dated instances members sign up for), sign-ups with a waitlist, and members' calendar tokens.

Every event has at least one occurrence row; the number people type (``/join 12``) is the
occurrence's id. A series keeps its rule in iCalendar form so the feeds can publish it as RRULE.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field

from storage.models import utcnow
from storage.table import Table
from storage.types import UTCDateTime

EVENT_ACTIVE = "active"
EVENT_CANCELLED = "cancelled"
OCCURRENCE_SCHEDULED = "scheduled"
OCCURRENCE_CANCELLED = "cancelled"
SIGNUP_CONFIRMED = "confirmed"
SIGNUP_WAITLISTED = "waitlisted"
SIGNUP_LEFT = "left"


class Event(Table, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    organiser_id: int = Field(foreign_key="member.id", index=True)
    space_id: int | None = Field(default=None, foreign_key="space.id", index=True)
    capacity: int | None = Field(default=None)  # None: no limit
    # The first occurrence as the rule defines it (DTSTART/DTEND of the series).
    start: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    end: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # iCalendar RRULE value without COUNT/UNTIL ("FREQ=WEEKLY;BYDAY=SA"), read in the place's time zone.
    rrule: str | None = Field(default=None, max_length=200)
    rule_count: int | None = Field(default=None)
    rule_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    # Open-ended series: occurrence rows exist up to here and are topped up as time passes.
    materialised_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    status: str = Field(default=EVENT_ACTIVE, max_length=16)
    sequence: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class EventOccurrence(Table, table=True):
    __table_args__ = (
        UniqueConstraint("event_id", "original_start", name="uq_occurrence_event_original"),
        Index("ix_occurrence_time", "start", "end"),
        Index("ix_occurrence_event_end", "event_id", "end"),  # a space's occurrences not yet over, not its past
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    # Where the series' rule puts this occurrence (its RECURRENCE-ID); start/end differ once moved.
    original_start: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    start: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    end: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    status: str = Field(default=OCCURRENCE_SCHEDULED, max_length=16)
    sequence: int = Field(default=0)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class EventSignup(Table, table=True):
    __table_args__ = (UniqueConstraint("occurrence_id", "member_id", name="uq_signup_occurrence_member"),)

    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: int = Field(foreign_key="eventoccurrence.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    status: str = Field(default=SIGNUP_CONFIRMED, max_length=16)  # confirmed | waitlisted | left
    joined_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))  # waitlist order
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class CalendarToken(Table, table=True):
    """The secret in a member's personal feed URL; replacing it kills the old link."""

    member_id: int = Field(primary_key=True, foreign_key="member.id")
    token: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
