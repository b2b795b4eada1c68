"""Settings of a group chat: its language (what shared messages there are written in). Kept in the
adapters' key/value table (AdapterState), beside the chat titles adapters record."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from storage.models import AdapterState


def chat_language_key(platform: str, chat_id: str) -> str:
    return f"chat_language:{platform}:{chat_id}"


def chat_language(session: Session, platform: str, chat_id: str) -> str | None:
    """The language chosen for this group (/langue in the group), or None (then the bot's LANGUAGE)."""
    row = session.get(AdapterState, chat_language_key(platform, chat_id))
    return row.value if row is not None and row.value else None


def set_chat_language(session: Session, platform: str, chat_id: str, language: str, now: datetime) -> None:
    key = chat_language_key(platform, chat_id)
    row = session.get(AdapterState, key)
    if row is None:
        row = AdapterState(key=key, value=language, updated_at=now)
    else:
        row.value, row.updated_at = language, now
    session.add(row)
