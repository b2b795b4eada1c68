"""Deciding together: polls, date polls and proposals, their choices, votes, where they were posted, and
the roles (bureau, adhérents) a proposal can be restricted to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field

from storage.models import utcnow
from storage.table import Table
from storage.types import UTCDateTime


class Decision(Table, table=True):
    """One question put to members. ``kind``: poll | datepoll | proposal. A closed one is the decision log."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    question: str = Field(max_length=300)
    author_id: int = Field(foreign_key="member.id", index=True)
    multiple: bool = Field(default=False)  # a poll whose members may pick several choices
    public: bool = Field(default=False)  # results name who chose what
    role: str | None = Field(default=None, max_length=40)  # only members with this role vote
    quorum_percent: int | None = Field(default=None)
    space_id: int | None = Field(default=None, foreign_key="space.id")  # a date poll's place
    deadline: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    status: str = Field(default="open", max_length=16, index=True)  # open | closed
    result: str | None = Field(default=None, max_length=32)  # adopted | rejected | no_quorum | option:<id> | none
    eligible: int | None = Field(default=None)  # how many could vote, when it closed
    voters: int | None = Field(default=None)  # how many did
    reminded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    event_id: int | None = Field(default=None, foreign_key="event.id")  # the event a date poll became
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class DecisionOption(Table, table=True):
    """A choice (a proposal's for / against / abstain; a date poll's date with its start and end)."""

    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = Field(foreign_key="decision.id", index=True)
    position: int
    label: str = Field(max_length=200)
    starts_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    ends_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class DecisionVote(Table, table=True):
    """A member's answer to one choice: ``answer`` yes (chosen) or, for a date, yes | maybe | no.
    One row per member and choice: linked accounts are one member, so they vote once."""

    __table_args__ = (UniqueConstraint("option_id", "member_id", name="uq_decisionvote_option_member"),)

    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = Field(foreign_key="decision.id", index=True)
    option_id: int = Field(foreign_key="decisionoption.id")
    member_id: int = Field(foreign_key="member.id", index=True)
    answer: str = Field(default="yes", max_length=8)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class DecisionPost(Table, table=True):
    """A chat where a decision was posted: its result is announced there."""

    __table_args__ = (UniqueConstraint("decision_id", "platform", "chat_id", name="uq_decisionpost_chat"),)

    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = Field(foreign_key="decision.id", index=True)
    platform: str = Field(max_length=16)
    chat_id: str = Field(max_length=255)
    is_private: bool = Field(default=False)


class MemberRole(Table, table=True):
    """A role given by coordinators (bureau, adhérents): a proposal can be put to it only."""

    __table_args__ = (UniqueConstraint("member_id", "role", name="uq_memberrole_member_role"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    role: str = Field(max_length=40, index=True)
