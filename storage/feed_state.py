"""What the calendar feeds keep in the database (storage.models_ical.IcalState): the UIDs' domain and
each feed's Last-Modified, which only moves forward."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.models_ical import IcalState

UID_DOMAIN = "uid-domain"


def uid_domain(session: Session, current_host: str) -> str:
    """The host in every UID: the one recorded the first time (today's UIDs stay as they are when
    PUBLIC_URL moves to a new domain), else ``current_host``, recorded now."""
    row = session.get(IcalState, UID_DOMAIN)
    if row is not None:
        return row.value
    try:
        with session.begin_nested():
            session.add(IcalState(name=UID_DOMAIN, value=current_host[:200]))
    except IntegrityError:  # another process recorded it first
        row = session.get(IcalState, UID_DOMAIN)
        return row.value if row is not None else current_host
    return current_host


def last_modified(session: Session, feed: str, etag: str, newest: datetime) -> datetime:
    """The feed's Last-Modified: unchanged while its ETag is; when the ETag changes, the later of the
    data's newest change and one second after the previous value (an event leaving a space's feed
    makes it newer, never older, so If-Modified-Since can't keep a stale copy)."""
    name = f"feed:{feed}"[:80]
    row = session.exec(select(IcalState).where(IcalState.name == name).with_for_update()).first()
    if row is not None and row.value == etag:
        return row.changed_at
    moment = (newest if row is None else max(newest, row.changed_at + timedelta(seconds=1))).replace(microsecond=0)
    if row is None:
        try:
            with session.begin_nested():
                session.add(IcalState(name=name, value=etag, changed_at=moment))
        except IntegrityError:
            return moment
    else:
        row.value, row.changed_at = etag, moment
        session.add(row)
    return moment
