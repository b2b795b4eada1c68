"""Attendance (issue 16): event check-in (``checkin``), booking check-in and no-show release
(``bookings``), daily visitors and categories (``visits``),
volunteer attestations and the CEC (``attestation``). One router for all."""

from __future__ import annotations

from handlers.attendance import attestation, bookings, checkin, visits
from handlers.attendance.common import router

__all__ = ["attestation", "bookings", "checkin", "router", "visits"]
