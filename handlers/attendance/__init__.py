"""Attendance (issue 16): event check-in (``checkin``), booking check-in and no-show release
(``bookings``), daily visitors and categories (``visits``). One router for all."""

from __future__ import annotations

from handlers.attendance import bookings, checkin, visits
from handlers.attendance.common import router

__all__ = ["bookings", "checkin", "router", "visits"]
