"""A network of places (issue 18): each Site's address and hours, a member's home place, the place a group
chat belongs to, and the coordinators of one place. A deployment with one place needs none of these rows."""

from __future__ import annotations

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field

from storage.table import Table


class PlaceInfo(Table, table=True):
    """What a place says about itself besides its name (storage.models.Site)."""

    site_id: int = Field(foreign_key="site.id", primary_key=True)
    address: str = Field(default="", max_length=300)
    # JSON object like Space.opening_hours: {"mon": ["09:00-18:00"], ...}
    opening_hours: str = Field(default="{}", sa_column=Column(Text, nullable=False))


class MemberPlace(Table, table=True):
    """A member's home place: the one their lists show first."""

    member_id: int = Field(foreign_key="member.id", primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)


class ChatPlace(Table, table=True):
    """A group chat attached to one place: its digest and announcements are that place's."""

    platform: str = Field(primary_key=True, max_length=16)
    chat_id: str = Field(primary_key=True, max_length=255)
    site_id: int = Field(foreign_key="site.id", index=True)


class PlaceCoordinator(Table, table=True):
    """A member who coordinates one place (network coordinators are COORDINATORS / Member.is_coordinator)."""

    __table_args__ = (UniqueConstraint("member_id", "site_id", name="uq_placecoordinator_member_site"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    site_id: int = Field(foreign_key="site.id", index=True)


class AnnouncementPlace(Table, table=True):
    """An announcement for one place: it goes only to the group chats attached to that place."""

    announcement_id: int = Field(foreign_key="announcement.id", primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)


class RotaSlotPlace(Table, table=True):
    """A rota line (a weekly permanence) of one place; a line without one is the network's."""

    __tablename__ = "rota_slot_place"

    rota_slot_id: int = Field(foreign_key="rota_slot.id", primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
