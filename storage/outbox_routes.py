"""Messages held for a member the bot could not reach privately, released once it can."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.models import Identity, OutboxMessage


def release_held_messages(session: Session, member_id: int, identity: Identity) -> int:
    if not identity.private_chat_id:
        return 0
    held = session.exec(
        select(OutboxMessage).where(
            OutboxMessage.status == "no_route", OutboxMessage.chat_id == f"member:{member_id}"
        )
    ).all()
    for row in held:
        row.platform = identity.platform
        row.chat_id = identity.private_chat_id
        row.status = "pending"
        session.add(row)
    return len(held)
