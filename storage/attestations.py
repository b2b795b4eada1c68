"""Volunteer attestations: a member's hours of one year by project and month, and the thresholds of the
Compte d'engagement citoyen (CEC: 200 hours of volunteering in the year, of which at least 100 in the same
association, for board members and volunteers who lead others; declared by 30 June and validated by the
association by 31 December)."""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from storage.models import Member
from storage.models_attendance import AttestationLink, AttestationSignoff, VolunteerRole
from storage.models_volunteers import TaskEntry
from storage.volunteers import project_slugs

CEC_YEAR_MINUTES = 200 * 60
CEC_ASSOCIATION_MINUTES = 100 * 60
LINK_LIFETIME = timedelta(days=1)


@dataclass(frozen=True)
class YearStatement:
    member_id: int
    name: str
    year: int
    # project slug ("" without one) -> month (1-12) -> minutes
    by_project: dict[str, dict[int, int]]
    role: str | None = None
    signed: tuple[str, datetime] | None = None  # (coordinator's name, when) once validated in the chat

    @property
    def minutes(self) -> int:
        return sum(sum(months.values()) for months in self.by_project.values())

    def month_total(self, month: int) -> int:
        return sum(months.get(month, 0) for months in self.by_project.values())

    @property
    def cec(self) -> str | None:
        return cec_flag(self.minutes, self.role)


def cec_flag(minutes_here: int, role: str | None) -> str | None:
    """'eligible': a role and 200 h here (the 100 h in one association are met too); 'partial': a role and
    100 h here (the rest may come from other associations); None otherwise."""
    if role is None:
        return None
    if minutes_here >= CEC_YEAR_MINUTES:
        return "eligible"
    if minutes_here >= CEC_ASSOCIATION_MINUTES:
        return "partial"
    return None


def statements(session: Session, year: int, member_id: int | None = None) -> list[YearStatement]:
    """Everyone's (or one member's) statement for ``year``, most hours first."""
    query = (select(col(TaskEntry.member_id), col(TaskEntry.project_id), col(TaskEntry.day), col(TaskEntry.minutes))
             .where(TaskEntry.day >= date(year, 1, 1), TaskEntry.day < date(year + 1, 1, 1)))
    if member_id is not None:
        query = query.where(TaskEntry.member_id == member_id)
    rows = session.exec(query).all()
    slugs = project_slugs(session, (pid for _, pid, _, _ in rows))
    data: dict[int, dict[str, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    for mid, pid, day, minutes in rows:
        project = slugs.get(pid, "") if pid is not None else ""
        months = data[mid][project]
        months[day.month] = months.get(day.month, 0) + minutes
    ids = list(data)
    names = {mid: name for mid, name in session.exec(
        select(Member.id, Member.display_name).where(col(Member.id).in_(ids)))} if ids else {}
    roles = {mid: role for mid, role in session.exec(select(VolunteerRole.member_id, VolunteerRole.role).where(
        col(VolunteerRole.member_id).in_(ids)))} if ids else {}
    signoffs = {row.member_id: row for row in session.exec(select(AttestationSignoff).where(
        AttestationSignoff.year == year, col(AttestationSignoff.member_id).in_(ids)))} if ids else {}
    signers = {mid: name for mid, name in session.exec(select(Member.id, Member.display_name).where(
        col(Member.id).in_([row.signed_by for row in signoffs.values()])))} if signoffs else {}
    result = [YearStatement(mid, str(names.get(mid, "?")), year, {p: dict(m) for p, m in projects.items()},
                            roles.get(mid),
                            (str(signers.get(signoffs[mid].signed_by, "?")), signoffs[mid].signed_at)
                            if mid in signoffs else None)
              for mid, projects in data.items()]
    return sorted(result, key=lambda s: (-s.minutes, s.name))


def set_role(session: Session, member_id: int, role: str | None) -> None:
    row = session.get(VolunteerRole, member_id)
    if role is None:
        if row is not None:
            session.delete(row)
        return
    row = row or VolunteerRole(member_id=member_id, role=role)
    row.role = role
    session.add(row)


def roles(session: Session) -> dict[int, str]:
    return {r.member_id: r.role for r in session.exec(select(VolunteerRole))}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_link(session: Session, member_id: int, year: int, now: datetime) -> str:
    token = secrets.token_urlsafe(24)
    session.add(AttestationLink(token_hash=_digest(token), member_id=member_id, year=year,
                                expires_at=now + LINK_LIFETIME))
    return token


def link_of(session: Session, token: str, now: datetime) -> AttestationLink | None:
    link = session.get(AttestationLink, _digest(token))
    return link if link is not None and link.expires_at > now else None


def sign_off(session: Session, member_id: int, year: int, by: int, now: datetime) -> bool:
    """Returns False when it was already validated (the first validation stays)."""
    found = session.exec(select(AttestationSignoff).where(AttestationSignoff.member_id == member_id,
                                                          AttestationSignoff.year == year)).first()
    if found is not None:
        return False
    session.add(AttestationSignoff(member_id=member_id, year=year, signed_by=by, signed_at=now))
    return True
