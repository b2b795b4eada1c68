"""Members and their chat identities."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core.types import UserRef
from storage.models import Identity, Member


def find_identity(session: Session, platform: str, user_id: str) -> Identity | None:
    return session.exec(
        select(Identity).where(Identity.platform == platform, Identity.user_id == user_id)
    ).first()


def get_or_create_member(session: Session, user: UserRef, language_hint: str | None) -> tuple[Member, Identity]:
    """The member behind a chat account, created on first contact; display name kept current."""
    identity = find_identity(session, user.platform.value, user.user_id)
    if identity is None:
        created = _insert_or_get_identity(session, user, language_hint)
        if isinstance(created, tuple):
            return created
        identity = created
    existing = session.get(Member, identity.member_id)
    assert existing is not None
    member = existing
    if user.display_name and member.display_name != user.display_name[:200]:
        member.display_name = user.display_name[:200]
    if not member.language_chosen and language_hint and member.language != language_hint:
        member.language = language_hint
    return member, identity


def _insert_or_get_identity(
    session: Session, user: UserRef, language_hint: str | None
) -> tuple[Member, Identity] | Identity:
    """Insert-or-get on the account's unique key: a new member and account, or the account another
    transaction created a moment ago (a newcomer's first messages from a group and from the private chat
    arrive together). The insert runs in a savepoint so losing the race keeps the command's transaction
    usable; PostgreSQL makes the loser wait for the winner's commit, so the re-read then finds the row.
    Retried once, for a winner that rolled back."""
    for attempt in range(2):
        try:
            with session.begin_nested():
                member = Member(display_name=user.display_name[:200] or user.user_id[:200], language=language_hint)
                session.add(member)
                session.flush()
                assert member.id is not None
                identity = Identity(member_id=member.id, platform=user.platform.value, user_id=user.user_id)
                session.add(identity)
                session.flush()
            return member, identity
        except IntegrityError:
            found = find_identity(session, user.platform.value, user.user_id)
            if found is not None:
                return found
            if attempt:
                raise
    raise AssertionError("unreachable")


def identities_of(session: Session, member_id: int) -> list[Identity]:
    return list(session.exec(select(Identity).where(Identity.member_id == member_id).order_by(col(Identity.id))))


def find_member_by_name(session: Session, name: str) -> list[Member]:
    """Members whose display name or chat id matches ``name`` (a leading @ is ignored)."""
    from bot.core.router import fold

    wanted = fold(name.strip().lstrip("@"))
    if not wanted:
        return []
    by_identity = session.exec(select(Identity)).all()
    ids = {i.member_id for i in by_identity if fold(i.user_id.lstrip("@")) == wanted}
    members = session.exec(select(Member)).all()
    exact = [m for m in members if m.id in ids or fold(m.display_name) == wanted]
    if exact:
        return exact
    return [m for m in members if fold(m.display_name).startswith(wanted)]


def coordinator_ids(session: Session, configured: Iterable[tuple[str, str]]) -> list[int]:
    """Every coordinator's member id: members marked as such, and those with an account listed in the
    COORDINATORS setting (``settings.coordinators``: (platform, user id) pairs)."""
    pairs = [(str(platform), user_id) for platform, user_id in configured]
    condition = col(Member.is_coordinator) == True  # noqa: E712
    if pairs:
        listed = select(Identity.member_id).where(
            or_(*(and_(col(Identity.platform) == p, col(Identity.user_id) == u) for p, u in pairs)))
        condition = or_(condition, col(Member.id).in_(listed))
    return [i for i in session.exec(select(Member.id).where(condition).order_by(col(Member.id))) if i is not None]
