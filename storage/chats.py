"""Settings of a group chat: its language (what shared messages there are written in). Kept in the
adapters' key/value table (AdapterState), beside the chat titles adapters record."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

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


def posted_card_key(occurrence_id: int, platform: str, chat_id: str) -> str:
    return f"{_card_prefix(occurrence_id)}{platform}:{chat_id}"[:255]


def _card_prefix(occurrence_id: int) -> str:
    return f"event_card:{occurrence_id}:"


def remember_posted_card(session: Session, occurrence_id: int, platform: str, chat_id: str, message_id: str,
                         now: datetime) -> None:
    """Where an event's card is shown in a group (learnt when one of its buttons is pressed), so that a
    sign-up made elsewhere updates its count. The latest message per group is kept."""
    key = posted_card_key(occurrence_id, platform, chat_id)
    row = session.get(AdapterState, key)
    if row is None:
        session.add(AdapterState(key=key, value=message_id, updated_at=now))
    elif row.value != message_id:
        row.value, row.updated_at = message_id, now
        session.add(row)


def posted_cards(session: Session, occurrence_id: int) -> list[tuple[str, str, str]]:
    """(platform, chat_id, message_id) of the group messages showing this event's card."""
    prefix = _card_prefix(occurrence_id)
    rows = session.exec(select(AdapterState).where(col(AdapterState.key).startswith(prefix))).all()
    found = []
    for row in rows:
        platform, _, chat_id = row.key[len(prefix):].partition(":")
        found.append((platform, chat_id, row.value))
    return found
