"""Dashboard links and sessions (storage.models_site): made, used once, checked, revoked.

Secrets are 256-bit random strings (``secrets.token_urlsafe(32)``) and only their SHA-256 is kept, so a
session cannot be forged or read back from the database; a session belongs to a member who must still
be a coordinator when it is used.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from storage.members import coordinator_ids
from storage.models_site import DashboardLink, DashboardSession

LINK_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(days=1)
MAX_LINKS_PER_HOUR = 5


class TooManyLinks(Exception):
    """More than MAX_LINKS_PER_HOUR links asked in the last hour."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_link(session: Session, member_id: int, now: datetime) -> str:
    """A one-time login secret for this member (the caller checked they are a coordinator)."""
    recent = session.exec(select(func.count()).select_from(DashboardLink).where(
        DashboardLink.member_id == member_id, DashboardLink.created_at > now - timedelta(hours=1))).one()
    if recent >= MAX_LINKS_PER_HOUR:
        raise TooManyLinks
    secret = secrets.token_urlsafe(32)
    session.add(DashboardLink(token_hash=digest(secret), member_id=member_id, created_at=now,
                              expires_at=now + LINK_LIFETIME))
    return secret


def link_is_valid(session: Session, secret: str, now: datetime) -> bool:
    link = session.exec(select(DashboardLink).where(DashboardLink.token_hash == digest(secret))).first()
    return link is not None and link.used_at is None and link.expires_at > now


def use_link(session: Session, secret: str, now: datetime, coordinators: Iterable[tuple[str, str]]) -> str | None:
    """Spend a link: the new session's secret, or None (unknown, used, expired, not a coordinator any more).
    The link is marked used in the same statement that checks it, so two clicks open one session."""
    spent = session.execute(
        update(DashboardLink)
        .where(col(DashboardLink.token_hash) == digest(secret), col(DashboardLink.used_at).is_(None),
               col(DashboardLink.expires_at) > now)
        .values(used_at=now)
        .returning(col(DashboardLink.member_id))
    ).first()
    if spent is None:
        return None
    member_id = int(spent[0])
    if member_id not in coordinator_ids(session, coordinators):
        return None
    cookie = secrets.token_urlsafe(32)
    session.add(DashboardSession(session_hash=digest(cookie), member_id=member_id, created_at=now,
                                 expires_at=now + SESSION_LIFETIME))
    return cookie


def session_member(session: Session, cookie: str, now: datetime, coordinators: Iterable[tuple[str, str]]) -> int | None:
    """The coordinator a session cookie belongs to, or None (unknown, expired, revoked, no longer a coordinator)."""
    if not cookie or len(cookie) > 128:
        return None
    row = session.exec(select(DashboardSession).where(DashboardSession.session_hash == digest(cookie))).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    return row.member_id if row.member_id in coordinator_ids(session, coordinators) else None


def end_session(session: Session, cookie: str, now: datetime) -> bool:
    result = session.execute(update(DashboardSession).where(
        col(DashboardSession.session_hash) == digest(cookie), col(DashboardSession.revoked_at).is_(None),
    ).values(revoked_at=now))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def revoke_all(session: Session, member_id: int, now: datetime) -> int:
    """Close every open session of a member and spend their unused links; how many sessions were open."""
    session.execute(update(DashboardLink).where(
        col(DashboardLink.member_id) == member_id, col(DashboardLink.used_at).is_(None)).values(used_at=now))
    result = session.execute(update(DashboardSession).where(
        col(DashboardSession.member_id) == member_id, col(DashboardSession.revoked_at).is_(None),
        col(DashboardSession.expires_at) > now).values(revoked_at=now))
    return int(result.rowcount)  # type: ignore[attr-defined]


def forget_expired(session: Session, now: datetime) -> int:
    """Rows past their use (housekeeping)."""
    old = now - SESSION_LIFETIME
    links = session.execute(DashboardLink.__table__.delete().where(  # type: ignore[attr-defined]
        DashboardLink.__table__.c.expires_at < old))  # type: ignore[attr-defined]
    sessions = session.execute(DashboardSession.__table__.delete().where(  # type: ignore[attr-defined]
        DashboardSession.__table__.c.expires_at < old))  # type: ignore[attr-defined]
    return int(links.rowcount) + int(sessions.rowcount)  # type: ignore[attr-defined]
