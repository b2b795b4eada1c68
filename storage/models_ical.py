"""What the calendar feeds remember between requests and restarts (issue 14).

- ``uid-domain``: the host part of every UID, recorded the first time a feed is built, so a new
  PUBLIC_URL doesn't re-key every event (subscribers would see each one twice).
- ``feed:<key>``: a feed's last ETag and the moment it was first seen, so Last-Modified only moves
  forward (an event leaving a space's feed makes that feed newer, not older).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Column, Field

from storage.models import utcnow
from storage.table import Table
from storage.types import UTCDateTime


class IcalState(Table, table=True):
    name: str = Field(primary_key=True, max_length=80)
    value: str = Field(max_length=200)
    changed_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
