"""How much one member has waiting, for the per-member limits (MAX_PENDING_REMINDERS,
MAX_FUTURE_BOOKINGS_PER_SPACE): counting queries and the rule, no messages."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

from storage.models import Booking
from storage.models_reminders import Reminder


def at_limit(count: int, limit: int) -> bool:
    """One more would go past the limit."""
    return count >= limit


def pending_personal_reminders(session: Session, member_id: int) -> int:
    """Reminders the member asked for (/remind) that are still to be sent; automatic ones (before a
    booking, an event or a shift) follow from other things and are not counted."""
    return session.exec(select(func.count()).select_from(Reminder).where(
        Reminder.member_id == member_id, Reminder.kind == "personal", Reminder.status == "pending")).one()


def future_bookings_in_space(session: Session, member_id: int, space_id: int, now: datetime) -> int:
    return session.exec(select(func.count()).select_from(Booking).where(
        Booking.member_id == member_id, Booking.space_id == space_id, Booking.status == "active",
        col(Booking.end) > now)).one()
