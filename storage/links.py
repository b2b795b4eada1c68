"""One person, one member: a one-time code proves that two chat accounts belong to the same person,
then everything the second member owned moves to the first.

The move is found by introspecting the foreign keys to ``member.id`` so that tables added later
(events, sign-ups, shifts…) follow without anyone remembering to update this file.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import Column, Table, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel

from storage.models import Identity, LinkCode, Member
from storage.models_links import PendingLink

LINK_CODE_TTL = timedelta(minutes=15)
# Time left to press the confirmation buttons once the code has been entered.
LINK_CONFIRM_TTL = timedelta(minutes=30)
# No 0/O or 1/I/L: codes are read on one screen and typed on another.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
LINK_PURPOSE = "link"


class LinkRefused(Exception):
    """The code is unknown, expired, or the two accounts are already one member."""


def create_link_code(session: Session, member_id: int, now: datetime) -> LinkCode:
    """A fresh code for ``member_id``; an older unused one stops working."""
    session.execute(
        delete(LinkCode).where(LinkCode.member_id == member_id, LinkCode.purpose == LINK_PURPOSE)  # type: ignore[arg-type]
    )
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    link_code = LinkCode(code=code, member_id=member_id, purpose=LINK_PURPOSE, expires_at=now + LINK_CODE_TTL)
    session.add(link_code)
    session.flush()
    return link_code


def normalise_code(raw: str) -> str:
    return "".join(c for c in raw.upper() if c.isalnum())


def consume_link_code(session: Session, raw_code: str, now: datetime) -> int | None:
    """The member who asked for the code, or None; a code works once, even if it has expired."""
    link_code = session.get(LinkCode, normalise_code(raw_code))
    if link_code is None or link_code.purpose != LINK_PURPOSE:
        return None
    session.delete(link_code)
    session.flush()
    return link_code.member_id if link_code.expires_at > now else None


def start_pending_link(session: Session, owner_id: int, entrant: Identity, entrant_must_confirm: bool,
                       now: datetime) -> PendingLink:
    """Record a code entered by ``entrant`` for ``owner_id``'s code; nothing moves until it is confirmed."""
    pending = PendingLink(token=secrets.token_urlsafe(12), owner_member_id=owner_id,
                          entrant_member_id=entrant.member_id, entrant_platform=entrant.platform,
                          entrant_user_id=entrant.user_id, entrant_must_confirm=entrant_must_confirm,
                          expires_at=now + LINK_CONFIRM_TTL)
    session.add(pending)
    session.flush()
    return pending


def pending_link(session: Session, token: str, now: datetime) -> PendingLink | None:
    """The link waiting for confirmation under ``token``, locked (two presses at once merge once);
    None when unknown or expired (an expired one is forgotten)."""
    pending = session.get(PendingLink, token[:32], with_for_update=True)
    if pending is not None and pending.expires_at <= now:
        session.delete(pending)
        session.flush()
        return None
    return pending


def forget_expired_links(session: Session, now: datetime) -> int:
    """Delete /link codes and link confirmations past their time (they can no longer be used, and a
    secret not kept can't leak); how many rows went."""
    codes = session.execute(delete(LinkCode).where(
        LinkCode.purpose == LINK_PURPOSE, LinkCode.expires_at <= now))  # type: ignore[arg-type]
    pending = session.execute(delete(PendingLink).where(PendingLink.expires_at <= now))  # type: ignore[arg-type]
    return int(getattr(codes, "rowcount", 0) or 0) + int(getattr(pending, "rowcount", 0) or 0)


def member_references() -> list[tuple[Table, Column]]:
    """Every column, in every table, that points at ``member.id``."""
    member_id_column = Member.__table__.c.id  # type: ignore[attr-defined]
    found = []
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.references(member_id_column.table) and fk.column is member_id_column
                   for fk in column.foreign_keys):
                found.append((table, column))
    return found


def merge_members(session: Session, keep_id: int, absorb_id: int) -> None:
    """Move every row of member ``absorb_id`` to ``keep_id``, then delete the emptied member.

    A row that would break a unique constraint once moved (the same qualification on both sides)
    is a duplicate of what the kept member already has, so it is dropped instead.
    """
    if keep_id == absorb_id:
        raise LinkRefused("already the same member")
    session.flush()
    for table, column in member_references():
        primary_key = list(table.primary_key.columns)
        rows = session.execute(select(*primary_key).where(column == absorb_id)).all()
        for row in rows:
            where = [pk == value for pk, value in zip(primary_key, row, strict=True)]
            try:
                with session.begin_nested():
                    session.execute(update(table).where(*where).values({column.name: keep_id}))
            except IntegrityError:
                session.execute(delete(table).where(*where))
    kept = session.get(Member, keep_id)
    absorbed = session.get(Member, absorb_id)
    assert kept is not None and absorbed is not None
    kept.is_coordinator = kept.is_coordinator or absorbed.is_coordinator
    kept.is_organiser = kept.is_organiser or absorbed.is_organiser
    if absorbed.language_chosen and not kept.language_chosen:
        kept.language, kept.language_chosen = absorbed.language, True
    session.add(kept)
    session.flush()
    session.execute(delete(Member).where(Member.id == absorb_id))  # type: ignore[arg-type]
    session.expire_all()
