"""Reminders: scheduling, moving and cancelling them with the thing they remind of, and picking the
due ones under a lock so that two processes never send the same one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, Table, bindparam, exists, insert, literal_column
from sqlmodel import Session, col, select

from storage.models_reminders import Reminder, ReminderSettings
from storage.prepared import Prepared
from storage.types import UTCDateTime

# A personal reminder that came due while the bot was down is still worth sending for this long.
PERSONAL_GRACE = timedelta(hours=6)


def still_useful(due_at: datetime, subject_start: datetime | None, now: datetime) -> bool:
    """Send a late reminder only before the thing it reminds of (or, for a personal note, soon after)."""
    if subject_start is not None:
        return now < subject_start
    return now - due_at <= PERSONAL_GRACE


def settings_of(session: Session, member_id: int, default_booking_minutes: int) -> ReminderSettings:
    row = session.get(ReminderSettings, member_id)
    return row or ReminderSettings(member_id=member_id, booking_minutes=default_booking_minutes)


# The member's own booking lead, if they chose one (no row: the default). Also read by storage.bookings.hold_space.
BOOKING_MINUTES = Prepared(select(ReminderSettings.booking_minutes).where(  # an int: run on the driver
    col(ReminderSettings.member_id) == bindparam("member_id")))
_REMINDER_TABLE: Table = Reminder.__table__  # type: ignore[attr-defined]
_INSERT_REMINDER = insert(_REMINDER_TABLE).values(
    member_id=bindparam("member_id"), kind=bindparam("kind"), ref=bindparam("ref"), text=bindparam("text"),
    due_at=bindparam("due_at", type_=UTCDateTime()), status="pending",
    created_at=bindparam("created_at", type_=UTCDateTime()), sent_at=None)


def booking_minutes(session: Session, member_id: int, default: int) -> int:
    """How long before a booking the member is reminded (0: never): their setting, else the default. A
    column query (the /book path), nothing loaded into the session."""
    rows = BOOKING_MINUTES.rows(session.connection(), {"member_id": member_id})
    return default if not rows else int(rows[0][0])


def schedule_quietly(
    session: Session, member_id: int, kind: str, ref: str | None, due_at: datetime, now: datetime, text: str = ""
) -> bool:
    """``schedule`` with one Core insert (no ORM object, no flush): for callers that don't need the row."""
    if due_at <= now:
        return False
    session.connection().execute(_INSERT_REMINDER, {"member_id": member_id, "kind": kind, "ref": ref,
                                                    "text": text, "due_at": due_at, "created_at": now})
    return True


_SETTINGS_TABLE: Table = ReminderSettings.__table__  # type: ignore[attr-defined]
# A booking's reminder at the default lead, in one statement, unless the member chose another lead
# (then nothing is inserted and the caller reads their setting).
_BOOKING_REMINDER_AT_DEFAULT = Prepared(insert(_REMINDER_TABLE).from_select(  # run on the driver
    ["member_id", "kind", "ref", "text", "due_at", "status", "created_at"],
    select(*(bindparam("member_id", type_=Integer),  # type: ignore[call-overload]
             literal_column("'booking'", String), bindparam("ref", type_=String), literal_column("''", String),
             bindparam("due_at", type_=UTCDateTime()), literal_column("'pending'", String),
             bindparam("created_at", type_=UTCDateTime())))
    .where(~exists().where(_SETTINGS_TABLE.c.member_id == bindparam("member_id", type_=Integer),
                           _SETTINGS_TABLE.c.booking_minutes != bindparam("minutes", type_=Integer))),
).returning(_REMINDER_TABLE.c.id))


def schedule_booking(
    session: Session, member_id: int, booking_id: int, start: datetime, now: datetime, default_minutes: int
) -> None:
    """The reminder before a booking, ``default_minutes`` before its start or as the member chose (0: none).
    A member who kept the default (most) costs one insert; the others, a read of their setting first."""
    due_at = start - timedelta(minutes=default_minutes)
    if default_minutes > 0 and due_at > now and _BOOKING_REMINDER_AT_DEFAULT.rows(session.connection(), {
            "member_id": member_id, "ref": str(booking_id), "due_at": due_at, "created_at": now,
            "minutes": default_minutes}):
        return  # inserted: the member kept the default lead
    minutes = booking_minutes(session, member_id, default_minutes)
    if minutes > 0:
        schedule_quietly(session, member_id, "booking", str(booking_id), start - timedelta(minutes=minutes), now)


def schedule(
    session: Session, member_id: int, kind: str, ref: str | None, due_at: datetime, now: datetime, text: str = ""
) -> Reminder | None:
    """Add a reminder unless its time is already past."""
    if due_at <= now:
        return None
    reminder = Reminder(member_id=member_id, kind=kind, ref=ref, text=text, due_at=due_at, created_at=now)
    session.add(reminder)
    session.flush()
    return reminder


def cancel_for(session: Session, kind: str, ref: str, member_id: int | None = None) -> int:
    """The thing was cancelled: its pending reminders go with it."""
    query = select(Reminder).where(Reminder.kind == kind, Reminder.ref == ref, Reminder.status == "pending")
    if member_id is not None:
        query = query.where(Reminder.member_id == member_id)
    rows = list(session.exec(query))
    for row in rows:
        row.status = "cancelled"
        session.add(row)
    return len(rows)


def due(session: Session, now: datetime, limit: int = 200) -> list[Reminder]:
    """Pending reminders whose time has come, locked for this transaction (PostgreSQL skips rows another
    process holds; SQLite's BEGIN IMMEDIATE already serialises)."""
    query = (
        select(Reminder)
        .where(Reminder.status == "pending", Reminder.due_at <= now)
        .order_by(col(Reminder.due_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.exec(query))


def personal_pending(session: Session, member_id: int) -> list[Reminder]:
    return list(session.exec(
        select(Reminder)
        .where(Reminder.member_id == member_id, Reminder.status == "pending", Reminder.kind == "personal")
        .order_by(col(Reminder.due_at))
    ))


def due_lead(
    start: datetime, now: datetime, signed_up_at: datetime, leads: Sequence[timedelta]
) -> timedelta | None:
    """Which of the reminders (by how long before ``start``) is due now: the shortest lead whose time
    has come, if the member had signed up by then (someone who joins ten hours before gets the one-hour
    reminder, not a late "tomorrow" one). Late ones still go out until ``start``: after a restart, a
    reminder that came due while the bot was down is sent if still useful."""
    if now >= start:
        return None
    for lead in sorted(leads):
        if now >= start - lead:
            return lead if signed_up_at <= start - lead else None
    return None
