"""Attendance tables (issue 16): who was really there at an event date, the people who walked in without
signing up (a count, never names), the door code of the date's QR link, and the day's visitors by category.

Presence is personal data: only the event's organiser and the coordinators see the names; reports and
group messages show counts. Walk-ins and daily visitors are counts only: nothing about them is kept.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Date, UniqueConstraint
from sqlmodel import Field

from storage.models import utcnow
from storage.table import Table
from storage.types import UTCDateTime

SOURCE_ORGANISER = "organiser"  # marked by the organiser (or a coordinator) from the list
SOURCE_SELF = "self"  # /ici in the member's chat
SOURCE_DOOR = "door"  # /ici with the door code of the QR link

CATEGORY_VISITOR = "visitor"
CATEGORY_ACTIVITY = "activity"


class Presence(Table, table=True):
    """A member's presence at one event date: present or not, and whether they had signed up
    (a member present without a sign-up is a walk-in the bot knows)."""

    __table_args__ = (UniqueConstraint("occurrence_id", "member_id", name="uq_presence_occurrence_member"),)

    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: int = Field(foreign_key="eventoccurrence.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    present: bool = Field(default=True)
    signed_up: bool = Field(default=True)
    source: str = Field(default=SOURCE_SELF, max_length=16)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class EventTally(Table, table=True):
    """What an event date keeps besides the presences: walk-ins nobody named, the secret of its door QR
    code, and whether the organiser was asked / confirmed the counts after it."""

    occurrence_id: int = Field(primary_key=True, foreign_key="eventoccurrence.id")
    walk_ins: int = Field(default=0)
    door_code: str = Field(max_length=32, unique=True, index=True)
    list_sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    counts_asked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    counts_confirmed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class VisitCount(Table, table=True):
    """``count`` visitors on a local ``day`` (café, ressourcerie, accueil...), logged by someone on the
    opening rota or a coordinator. Several entries for a day add up."""

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(sa_column=Column(Date, nullable=False, index=True))
    category: str = Field(default="", max_length=40)
    count: int
    member_id: int = Field(foreign_key="member.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class AttendanceCategory(Table, table=True):
    """A category coordinators set: of visitors (habitants, jeunes...) or of activities (culture, réemploi...)."""

    __table_args__ = (UniqueConstraint("kind", "name", name="uq_attendancecategory_kind_name"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    name: str = Field(max_length=40)


class EventCategory(Table, table=True):
    """The activity category of an event (all its dates), for the report's "activities by category"."""

    event_id: int = Field(primary_key=True, foreign_key="event.id")
    category: str = Field(max_length=40)


class SpaceCheckinRule(Table, table=True):
    """A space whose bookings must be checked in within ``minutes`` of their start, or are released."""

    space_id: int = Field(primary_key=True, foreign_key="space.id")
    minutes: int


class BookingCheckin(Table, table=True):
    """A booking's check-in, or its release when nobody checked in in time."""

    booking_id: int = Field(primary_key=True, foreign_key="booking.id")
    checked_in_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    released_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


ROLE_BOARD = "board"  # membre du bureau / conseil d'administration
ROLE_LEADER = "leader"  # bénévole qui encadre d'autres bénévoles


class VolunteerRole(Table, table=True):
    """The role that makes volunteer hours count for the Compte d'engagement citoyen, set by coordinators."""

    member_id: int = Field(primary_key=True, foreign_key="member.id")
    role: str = Field(max_length=16)


class AttestationLink(Table, table=True):
    """A link to download one's yearly volunteer statement (PDF) from the bot's HTTP server: only the
    SHA-256 of its secret is kept; it works for a day."""

    token_hash: str = Field(primary_key=True, max_length=64)
    member_id: int = Field(foreign_key="member.id", index=True)
    year: int
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class AttestationSignoff(Table, table=True):
    """A coordinator's validation, in the chat, of a volunteer's hours of one year (shown on the PDF)."""

    __table_args__ = (UniqueConstraint("member_id", "year", name="uq_attestationsignoff_member_year"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    year: int
    signed_by: int = Field(foreign_key="member.id")
    signed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
