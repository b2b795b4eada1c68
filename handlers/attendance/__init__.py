"""Attendance (issue 16): event check-in (``checkin``), daily visitors and categories (``visits``).
One router for all."""

from __future__ import annotations

from handlers.attendance import checkin, visits
from handlers.attendance.common import router

__all__ = ["checkin", "router", "visits"]
