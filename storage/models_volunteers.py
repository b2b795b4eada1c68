"""Volunteer tables: logged hours, projects, shifts and who took them, the weekly rota, the volunteers' group.

Every datetime is aware and stored in UTC; a task entry's ``day`` is the local day the work was done."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field

from storage.models import utcnow
from storage.table import Table
from storage.types import UTCDateTime


class VolunteerProject(Table, table=True):
    """A free tag (#ressourcerie) created on first use; coordinators rename and merge them."""

    __tablename__ = "volunteer_project"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class TaskEntry(Table, table=True):
    """Time a member gave. A shift confirmed as done becomes one entry per volunteer (``shift_id``)."""

    __tablename__ = "task_entry"
    __table_args__ = (
        UniqueConstraint("shift_id", "member_id", name="uq_task_entry_shift_member"),
        Index("ix_task_entry_day", "day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    project_id: int | None = Field(default=None, foreign_key="volunteer_project.id", index=True)
    description: str = Field(default="", max_length=500)
    minutes: int
    day: date
    shift_id: int | None = Field(default=None, foreign_key="shift.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class RotaSlot(Table, table=True):
    """A weekly permanence (opening, closing…): on these weekdays, from ``start_time`` to ``end_time``
    local time, ``places`` people. Materialised into shifts for the coming weeks."""

    __tablename__ = "rota_slot"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=100)
    kind: str = Field(default="other", max_length=16)  # open | close | other
    weekdays: str = Field(max_length=32)  # "0,1,2,3,4" (Monday = 0)
    start_time: time
    end_time: time
    places: int = Field(default=1)
    active: bool = Field(default=True)
    created_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class Shift(Table, table=True):
    """A need posted by a coordinator, or one occurrence of a rota slot."""

    __tablename__ = "shift"
    __table_args__ = (
        UniqueConstraint("rota_slot_id", "start", name="uq_shift_rota_slot_start"),
        Index("ix_shift_start", "start"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    start: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    end: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    places: int = Field(default=1)
    project_id: int | None = Field(default=None, foreign_key="volunteer_project.id")
    space_id: int | None = Field(default=None, foreign_key="space.id")
    rota_slot_id: int | None = Field(default=None, foreign_key="rota_slot.id")
    status: str = Field(default="open", max_length=16)  # open | cancelled
    created_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    # Set when the coordinators were told it lacks people (or a drop told them): they are told once.
    uncovered_alert_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class ShiftSignup(Table, table=True):
    """A member who took a shift. Dropping it deletes the row: the place is free again."""

    __tablename__ = "shift_signup"
    __table_args__ = (UniqueConstraint("shift_id", "member_id", name="uq_shift_signup_shift_member"),)

    id: int | None = Field(default=None, primary_key=True)
    shift_id: int = Field(foreign_key="shift.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    # When the volunteer was asked to confirm the hours after the shift: asked once.
    done_asked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class VolunteerGroup(Table, table=True):
    """A group chat where uncovered shifts and drops are announced (/volunteers here)."""

    __tablename__ = "volunteer_group"
    __table_args__ = (UniqueConstraint("platform", "chat_id", name="uq_volunteer_group_chat"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    chat_id: str = Field(max_length=255)
    set_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
