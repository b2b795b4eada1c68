"""Members' data rights (RGPD): everything held about a member, forgetting a member, and how long the rows
only the machinery needs are kept.

What is "about a member" is found by introspection (``storage.links.member_references``): every table with a
foreign key to ``member.id``, so tables added later (presence, votes…) are in the export without anyone
remembering this file. Forgetting is explicit per kind of row: what only makes sense for the person goes
(accounts, reminders, calendar links, clearances, conversations, their private messages); what the
association counts stays, attached to a member renamed ``ANONYMOUS_NAME`` (past bookings, hours, past
sign-ups); what they hold in the future is given back through the same functions the commands use, so the
waiting lists move on."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, exists, func, or_, update
from sqlalchemy import select as table_select
from sqlmodel import Session, SQLModel, col, select

from storage.bookings import cancel_booking, upcoming_bookings
from storage.events import leave, member_signups
from storage.housekeeping import EPHEMERAL_PREFIXES
from storage.links import member_references
from storage.models import AdapterState, Identity, Member, OutboxMessage
from storage.models_events import EventSignup
from storage.models_privacy import DataExport
from storage.models_volunteers import Shift, ShiftSignup
from storage.volunteers import drop_shift

# Stored as the forgotten member's name: reports count their bookings and hours under it.
ANONYMOUS_NAME = "ancien membre"
EXPORT_LINK_TTL = timedelta(hours=24)
# Conversations (a request half-said, buttons last offered) expire in minutes; rows older than this go.
CONVERSATION_KEEP = timedelta(days=7)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def _rows(session: Session, table: Table, *where: Any) -> list[dict[str, Any]]:
    order = list(table.primary_key.columns)
    return [{k: _plain(v) for k, v in row.items()}
            for row in session.execute(table_select(table).where(*where).order_by(*order)).mappings()]


def _private_chats(identities: Iterable[Identity]) -> list[tuple[str, str]]:
    return [(i.platform, i.private_chat_id) for i in identities if i.private_chat_id]


def member_data(session: Session, member_id: int) -> dict[str, Any]:
    """Everything held about the member: their row, their accounts, every row of every table that points
    at them (by table, then by the column that does), and the messages waiting or kept for them."""
    member_table: Table = Member.__table__  # type: ignore[attr-defined]
    identity_table: Table = Identity.__table__  # type: ignore[attr-defined]
    identities = list(session.exec(select(Identity).where(col(Identity.member_id) == member_id)))
    data: dict[str, Any] = {
        "member": next(iter(_rows(session, member_table, member_table.c.id == member_id)), None),
        "accounts": _rows(session, identity_table, identity_table.c.member_id == member_id),
        "records": {},
    }
    records: dict[str, dict[str, list[dict[str, Any]]]] = data["records"]
    for table, column in member_references():
        if table.name in {"identity", "dataexport"}:
            continue
        rows = _rows(session, table, column == member_id)
        if rows:
            records.setdefault(table.name, {})[column.name] = rows
    for table in _tables_referencing(identity_table):
        fk = next(c for c in table.columns if any(f.column is identity_table.c.id for f in c.foreign_keys))
        rows = _rows(session, table, fk.in_([i.id for i in identities]))
        if rows:
            records.setdefault(table.name, {})[fk.name] = rows
    messages = []
    for platform, chat_id in [*_private_chats(identities), ("", f"member:{member_id}")]:
        query = select(OutboxMessage).where(*_to_chat(platform, chat_id)).order_by(col(OutboxMessage.id))
        for row in session.exec(query):
            messages.append({"status": row.status, "created_at": _plain(row.created_at),
                             "sent_at": _plain(row.sent_at), "message": json.loads(row.payload)})
    data["messages_to_you"] = messages
    return data


def _to_chat(platform: str, chat_id: str) -> list[ColumnElement[bool]]:
    """Outbox rows for a private chat; no platform: the rows held for a member nobody could reach yet."""
    where = [col(OutboxMessage.chat_id) == chat_id]
    return [*where, col(OutboxMessage.platform) == platform] if platform else where


def _tables_referencing(target: Table) -> list[Table]:
    return [t for t in SQLModel.metadata.sorted_tables
            if any(f.column.table is target for c in t.columns for f in c.foreign_keys)]


# (table, column): rows that only make sense for the person, deleted when they are forgotten. Rows where they
# appear in another role (who granted a clearance, who cancelled a booking) stay, pointing at the
# anonymised member.
PERSONAL_ROWS = {("identity", "member_id"), ("qualification", "member_id"), ("reminder", "member_id"),
                 ("remindersettings", "member_id"), ("calendartoken", "member_id"), ("linkcode", "member_id"),
                 ("pendinglink", "owner_member_id"), ("pendinglink", "entrant_member_id"),
                 ("conversationstate", "member_id"), ("dataexport", "member_id"),
                 # Ways in (links, the dashboard's open sessions): a forgotten member's browser is logged out.
                 ("dashboardlink", "member_id"), ("dashboardsession", "member_id"), ("attestationlink", "member_id"),
                 # Roles and settings of the person (like is_coordinator, cleared below): an anonymous member
                 # coordinates no place, sits on no board, has no home place.
                 ("placecoordinator", "member_id"), ("memberplace", "member_id"), ("memberrole", "member_id"),
                 ("volunteerrole", "member_id"),
                 # The slots they asked to be told about (/watch).
                 ("bookingwatch", "member_id")}


@dataclass
class Forgotten:
    """What forgetting released: the caller tells those who got a place."""

    name: str
    bookings_cancelled: int = 0
    places_given_back: int = 0
    shifts_given_back: int = 0
    promoted: list[EventSignup] = field(default_factory=list)


def forget_member(session: Session, member_id: int, now: datetime) -> Forgotten:
    member = session.get(Member, member_id, with_for_update=True)
    if member is None:
        raise LookupError(member_id)
    result = Forgotten(name=member.display_name)
    # What they hold in the future goes back, the way the commands give it back.
    for booking in upcoming_bookings(session, member_id, now, limit=100_000):
        if booking.start > now:
            cancel_booking(session, booking, member_id, now)
            result.bookings_cancelled += 1
    for _signup, occurrence, _event in member_signups(session, member_id, now, limit=100_000):
        if occurrence.start > now and occurrence.id is not None:
            left = leave(session, occurrence.id, member_id, now)
            result.places_given_back += left.was is not None
            result.promoted.extend(left.promoted)
    future_shifts = session.exec(
        select(col(ShiftSignup.shift_id)).join(Shift, col(Shift.id) == ShiftSignup.shift_id)
        .where(col(ShiftSignup.member_id) == member_id, col(Shift.start) > now)).all()
    for shift_id in future_shifts:
        drop_shift(session, shift_id, member_id, now)
        result.shifts_given_back += 1

    identities = list(session.exec(select(Identity).where(col(Identity.member_id) == member_id)))
    chats = [*_private_chats(identities), ("", f"member:{member_id}")]
    identity_table: Table = Identity.__table__  # type: ignore[attr-defined]
    identity_ids = [i.id for i in identities]
    for table in _tables_referencing(identity_table):  # account handles
        for column in table.columns:
            if any(f.column is identity_table.c.id for f in column.foreign_keys):
                session.execute(delete(table).where(column.in_(identity_ids)))
    # Rows that only make sense for the person.
    for table, column in member_references():
        if (table.name, column.name) in PERSONAL_ROWS:
            session.execute(delete(table).where(column == member_id))
    subscription = SQLModel.metadata.tables.get("subscription")
    private = [(subscription.c.platform == p) & (subscription.c.chat_id == c)
               for p, c in chats if p] if subscription is not None else []
    if subscription is not None and private:
        session.execute(delete(subscription).where(subscription.c.is_private.is_(True), or_(*private)))
    # Their private messages (pending or kept), and the state of buttons in their private chats.
    for platform, chat_id in chats:
        session.execute(delete(OutboxMessage).where(*_to_chat(platform, chat_id)))
        if platform:
            session.execute(delete(AdapterState).where(
                or_(*(col(AdapterState.key).startswith(f"{prefix}{chat_id}:") for prefix in EPHEMERAL_PREFIXES))))
    _forget_received(session, identities, chats)
    _scrub_name(session, member.display_name)
    member.display_name, member.language, member.language_chosen = ANONYMOUS_NAME, None, False
    member.is_coordinator = member.is_organiser = False
    session.add(member)
    session.flush()
    return result


def _forget_received(session: Session, identities: list[Identity], chats: list[tuple[str, str]]) -> None:
    """Messages received from them that were already handled (those still pending are being handled
    and go with the inbox's retention)."""
    inbox = SQLModel.metadata.tables.get("inboxmessage")
    if inbox is None:
        return
    senders = [json.dumps(i.user_id, ensure_ascii=False) for i in identities]
    conditions: list[ColumnElement[bool]] = [(inbox.c.platform == p) & (inbox.c.chat_id == c) for p, c in chats if p]
    conditions += [inbox.c.payload.contains(f'"user_id": {sender}') for sender in senders]
    if conditions:
        session.execute(delete(inbox).where(inbox.c.status == "done", or_(*conditions)))


def _scrub_name(session: Session, name: str) -> None:
    """Their name, in any case, in messages still waiting for others (e.g. "Alice took the shift"), in
    messages received from others ("alice vient samedi ?", their own message being handled) and in others'
    conversation state becomes ANONYMOUS_NAME."""
    if len(name.strip()) < 2:
        return
    tables: list[Table] = [OutboxMessage.__table__]  # type: ignore[attr-defined]
    inbox = SQLModel.metadata.tables.get("inboxmessage")
    if inbox is not None:
        tables.append(inbox)
    for table in tables:
        column = table.c.payload
        named = func.lower(column).contains(name.lower())
        for row_id, value in session.execute(table_select(table.c.id, column).where(named)).all():
            session.execute(update(table).where(table.c.id == row_id).values(payload=_replace_in_json(value, name)))
    conversation = SQLModel.metadata.tables.get("conversationstate")
    if conversation is not None:
        for column_name in ("request", "choices"):
            column = conversation.c[column_name]
            session.execute(update(conversation).where(column.contains(name)).values({column_name: None}))


def _replace_in_json(value: str, name: str) -> str:
    """The name as a word, in any case ("Al" leaves "salle" alone), in every string but the ids (an account id
    that happens to be the name is how a message still to run finds its sender)."""
    pattern = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)
    try:
        data = json.loads(value)
    except ValueError:
        return pattern.sub(ANONYMOUS_NAME, value)

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return pattern.sub(ANONYMOUS_NAME, item)
        if isinstance(item, list):
            return [walk(i) for i in item]
        if isinstance(item, dict):
            return {k: v if k.endswith("_id") else walk(v) for k, v in item.items()}
        return item

    return json.dumps(walk(data), ensure_ascii=False)


# --- links to one's data file ------------------------------------------------------------------------------

def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_export_link(session: Session, member_id: int, now: datetime) -> str:
    token = secrets.token_urlsafe(24)
    session.add(DataExport(token_hash=_hash(token), member_id=member_id, expires_at=now + EXPORT_LINK_TTL))
    session.flush()
    return token


def member_for_export(session: Session, token: str, now: datetime) -> int | None:
    row = session.get(DataExport, _hash(token))
    return row.member_id if row is not None and row.expires_at > now else None


# --- retention --------------------------------------------------------------------------------------------

def prune_old_rows(session: Session, now: datetime, *, outbox_days: int, inbox_days: int,
                   buttons_days: int) -> dict[str, int]:
    """Delete what only the machinery needed, once old: delivered or abandoned outbox messages, handled
    inbox messages, the state of old buttons, stale conversations, expired codes and links."""
    counts: dict[str, int] = {}

    def run(name: str, statement: Any) -> None:
        counts[name] = int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]

    outbox_before = now - timedelta(days=outbox_days)
    run("outbox", delete(OutboxMessage).where(
        col(OutboxMessage.status).in_(("sent", "failed", "no_route")), col(OutboxMessage.created_at) < outbox_before))
    images = SQLModel.metadata.tables.get("outboximage")
    if images is not None:  # an image stored once for many messages goes with the last of them
        messages = OutboxMessage.__table__  # type: ignore[attr-defined]
        run("outbox_images", delete(images).where(
            images.c.used_at < now - timedelta(days=1),
            ~exists().where(messages.c.payload.contains(images.c.sha256))))
    inbox = SQLModel.metadata.tables.get("inboxmessage")
    if inbox is not None:
        run("inbox", delete(inbox).where(inbox.c.status == "done",
                                         inbox.c.received_at < now - timedelta(days=inbox_days)))
    run("buttons", delete(AdapterState).where(
        or_(*(col(AdapterState.key).startswith(prefix) for prefix in EPHEMERAL_PREFIXES)),
        col(AdapterState.updated_at) < now - timedelta(days=buttons_days)))
    conversation = SQLModel.metadata.tables.get("conversationstate")
    if conversation is not None:
        run("conversations", delete(conversation).where(conversation.c.updated_at < now - CONVERSATION_KEEP))
    run("data_links", delete(DataExport).where(col(DataExport.expires_at) < now))
    for name in ("linkcode", "pendinglink"):
        table = SQLModel.metadata.tables.get(name)
        if table is not None:
            run(name, delete(table).where(table.c.expires_at < now - timedelta(days=1)))
    return counts

