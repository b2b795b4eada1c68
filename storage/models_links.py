"""Tables of /link confirmations and of the public handles coordinators name members by."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field

from storage.table import Table
from storage.types import UTCDateTime


class PendingLink(Table, table=True):
    """A /link code entered from another account, waiting for the confirmations the link needs: always
    the account that asked for the code (the first account), and the coordinator's side when only one
    of the two members is a coordinator. Nothing is merged before."""

    token: str = Field(primary_key=True, max_length=32)
    # Asked for the code; kept by the merge.
    owner_member_id: int = Field(foreign_key="member.id")
    # Typed the code from another platform; merged into the owner.
    entrant_member_id: int = Field(foreign_key="member.id")
    entrant_platform: str = Field(max_length=16)
    entrant_user_id: str = Field(max_length=255)
    owner_confirmed: bool = Field(default=False)
    entrant_confirmed: bool = Field(default=False)
    entrant_must_confirm: bool = Field(default=False)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class AccountHandle(Table, table=True):
    """The public handle of a chat account besides its id (Telegram @username), folded, without "@"."""

    identity_id: int = Field(primary_key=True, foreign_key="identity.id")
    handle: str = Field(max_length=64, index=True)
