"""Forgetting what no one will need again, so the database doesn't grow forever."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlmodel import Session, col

from storage.models import AdapterState

# Buttons and reaction keys of old messages: after this long nobody presses them.
EPHEMERAL_PREFIXES = ("telegram:button:", "telegram:progress:", "matrix:actions:", "matrix:undos:",
                      "matrix:reaction:")
KEEP_FOR = timedelta(days=90)


def prune_adapter_state(session: Session, now: datetime) -> int:
    """Delete the state of old buttons and reactions; sync tokens, logins and chat facts stay."""
    result = session.execute(
        delete(AdapterState).where(
            or_(*(col(AdapterState.key).startswith(prefix) for prefix in EPHEMERAL_PREFIXES)),
            col(AdapterState.updated_at) < now - KEEP_FOR,
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
