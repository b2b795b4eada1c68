"""Key/value state that adapters keep across restarts (Matrix sync token, Telegram chat migrations)."""

from __future__ import annotations

from sqlalchemy import Engine

from storage.db import session_scope
from storage.models import AdapterState, utcnow


def get_state(engine: Engine, key: str) -> str | None:
    with session_scope(engine) as session:
        row = session.get(AdapterState, key)
        return row.value if row else None


def set_state(engine: Engine, key: str, value: str) -> None:
    with session_scope(engine) as session:
        row = session.get(AdapterState, key)
        if row is None:
            session.add(AdapterState(key=key, value=value))
        else:
            row.value = value
            row.updated_at = utcnow()
