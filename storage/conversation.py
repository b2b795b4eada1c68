"""Reading and writing a member's conversation state in one chat (see models_conversation)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Text, bindparam, delete, or_, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from storage.models import Member
from storage.models_conversation import ConversationState
from storage.prepared import Prepared, made_per_dialect
from storage.types import UTCDateTime


def find_state(session: Session, platform: str, chat_id: str, member_id: int) -> ConversationState | None:
    return session.exec(select(ConversationState).where(
        ConversationState.platform == platform, ConversationState.chat_id == chat_id,
        ConversationState.member_id == member_id,
    )).first()


def _state(session: Session, platform: str, chat_id: str, member_id: int) -> ConversationState:
    row = find_state(session, platform, chat_id, member_id)
    if row is None:
        row = ConversationState(platform=platform, chat_id=chat_id, member_id=member_id)
    return row


def live_request(row: ConversationState | None, now: datetime) -> dict[str, Any] | None:
    """The request in progress, unless there is none or it has expired."""
    if row is None or row.request is None or row.request_expires_at is None or row.request_expires_at <= now:
        return None
    value = json.loads(row.request)
    return value if isinstance(value, dict) else None


def live_choices(row: ConversationState | None, now: datetime) -> list[dict[str, Any]] | None:
    """The choices last offered, unless none were or they have expired."""
    if row is None or row.choices is None or row.choices_expires_at is None or row.choices_expires_at <= now:
        return None
    value = json.loads(row.choices)
    return value if isinstance(value, list) else None


def save_request(session: Session, platform: str, chat_id: str, member_id: int,
                 request: dict[str, Any] | None, expires_at: datetime | None, now: datetime) -> None:
    row = _state(session, platform, chat_id, member_id)
    row.request = json.dumps(request, ensure_ascii=False) if request is not None else None
    row.request_expires_at = expires_at if request is not None else None
    row.updated_at = now
    session.add(row)


def save_choices(session: Session, platform: str, chat_id: str, member_id: int,
                 choices: list[dict[str, Any]] | None, expires_at: datetime | None, now: datetime,
                 row: ConversationState | None = None) -> None:
    """Record (or forget, with None) the choices offered. ``row`` saves a lookup when the caller has it."""
    if row is None:
        if choices is None and find_state(session, platform, chat_id, member_id) is None:
            return
        row = _state(session, platform, chat_id, member_id)
    row.choices = json.dumps(choices, ensure_ascii=False) if choices is not None else None
    row.choices_expires_at = expires_at if choices is not None else None
    row.updated_at = now
    session.add(row)


_TABLE = ConversationState.__table__  # type: ignore[attr-defined]
# Built once (every command that offers buttons runs one of them): no statement building per command.
_SET_CHOICES = Prepared(update(_TABLE)
                .where(_TABLE.c.id == bindparam("state_id"), _TABLE.c.member_id == bindparam("owner_id"))
                .values(choices=bindparam("new_choices"), choices_expires_at=bindparam("new_expiry", type_=UTCDateTime),
                        updated_at=bindparam("new_updated_at", type_=UTCDateTime)))
_NEW_CHOICES_ROW = core_select(
    bindparam("new_platform", type_=_TABLE.c.platform.type), bindparam("new_chat_id", type_=_TABLE.c.chat_id.type),
    bindparam("owner_id", type_=Integer), bindparam("new_choices", type_=Text),
    bindparam("new_expiry", type_=UTCDateTime), bindparam("new_updated_at", type_=UTCDateTime),
).where(core_select(col(Member.id)).where(col(Member.id) == bindparam("owner_id")).exists())
_NEW_CHOICES: dict[str, Prepared] = {}


@made_per_dialect
def _new_choices(dialect: str) -> Prepared:
    """The row inserted, or updated when another command of the same member in the same chat wrote it
    first (two commands running at once: the second would otherwise fail on the unique key). Built once
    per dialect; the dialect's module loaded only when used (a bot on SQLite never loads PostgreSQL's)."""
    found = _NEW_CHOICES.get(dialect)
    if found is None:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert  # type: ignore[assignment]
        statement = dialect_insert(_TABLE).from_select(
            ["platform", "chat_id", "member_id", "choices", "choices_expires_at", "updated_at"], _NEW_CHOICES_ROW)
        statement = statement.on_conflict_do_update(
            index_elements=["platform", "chat_id", "member_id"],
            set_={"choices": statement.excluded.choices, "choices_expires_at": statement.excluded.choices_expires_at,
                  "updated_at": statement.excluded.updated_at})
        found = _NEW_CHOICES[dialect] = Prepared(statement, dialect=dialect)
    return found


def write_choices(session: Session, state_id: int | None, platform: str, chat_id: str, member_id: int,
                  choices: list[dict[str, Any]] | None, expires_at: datetime | None, now: datetime) -> None:
    """``save_choices`` in one prebuilt statement, for a caller that knows whether the row exists
    (``state_id``) and has no ORM object of it. Nothing is written for a member who no longer exists
    (merged by /link)."""
    written = json.dumps(choices, ensure_ascii=False) if choices is not None else None
    params = {"owner_id": member_id, "new_choices": written, "new_expiry": expires_at if choices is not None else None,
              "new_updated_at": now}
    if state_id is not None:
        _SET_CHOICES.execute(session.connection(), {**params, "state_id": state_id})
    elif choices is not None:
        connection = session.connection()
        _new_choices(connection.dialect.name).execute(
            connection, {**params, "new_platform": platform, "new_chat_id": chat_id})


def forget_expired(session: Session, now: datetime, grace: timedelta = timedelta(days=1)) -> int:
    """Delete the conversations whose request and choices both expired more than ``grace`` ago: what a
    member was in the middle of saying is not kept once it can no longer be used."""
    limit = now - grace
    result = session.execute(
        delete(ConversationState).where(
            or_(col(ConversationState.request_expires_at).is_(None), col(ConversationState.request_expires_at) < limit),
            or_(col(ConversationState.choices_expires_at).is_(None), col(ConversationState.choices_expires_at) < limit),
            col(ConversationState.updated_at) < limit,
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
