"""Deciding together: the pure rules (counting, quorum, winners) and the queries of polls, date polls
and proposals. Votes belong to members, not accounts: linked identities are one member and vote once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, delete, select

from storage.models import Member
from storage.models_decisions import Decision, DecisionOption, DecisionPost, DecisionVote, MemberRole

POLL, DATEPOLL, PROPOSAL = "poll", "datepoll", "proposal"
OPEN, CLOSED = "open", "closed"
YES, MAYBE, NO = "yes", "maybe", "no"
FOR, AGAINST, ABSTAIN = "for", "against", "abstain"
PROPOSAL_CHOICES = (FOR, AGAINST, ABSTAIN)  # the labels of a proposal's options, in this order
ADOPTED, REJECTED, NO_QUORUM, TIE, NO_VOTES = "adopted", "rejected", "no_quorum", "tie", "none"
REMIND_BEFORE = timedelta(days=1)
MAX_OPTIONS = 10


class DecisionNotFound(LookupError):
    pass


class VoteRefused(Exception):
    """``reason``: closed | not_eligible | one_choice | no_choice."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- Pure rules ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """Counts per option id and answer; ``voters``: distinct members who answered anything."""

    counts: Mapping[int, Mapping[str, int]]
    voters: int

    def yes(self, option_id: int) -> int:
        return self.counts.get(option_id, {}).get(YES, 0)

    def maybe(self, option_id: int) -> int:
        return self.counts.get(option_id, {}).get(MAYBE, 0)


def count_votes(votes: Iterable[tuple[int, int, str]], *, single: bool = False) -> Tally:
    """``votes``: (member id, option id, answer) rows, oldest first; one row per member and option by
    construction. ``single``: one choice per member — if two accounts voted apart before being linked
    into one member, their latest choice counts, once."""
    rows = list(votes)
    if single:
        rows = list({member_id: (member_id, option_id, answer) for member_id, option_id, answer in rows}.values())
    counts: dict[int, dict[str, int]] = {}
    members: set[int] = set()
    for member_id, option_id, answer in rows:
        members.add(member_id)
        per = counts.setdefault(option_id, {})
        per[answer] = per.get(answer, 0) + 1
    return Tally(counts, len(members))


def quorum_reached(voters: int, eligible: int, quorum_percent: int | None) -> bool:
    """Abstentions count as taking part. No quorum asked: always reached. Nobody eligible: not reached."""
    if quorum_percent is None:
        return True
    return eligible > 0 and voters * 100 >= quorum_percent * eligible


def proposal_outcome(for_: int, against: int, voters: int, eligible: int, quorum_percent: int | None) -> str:
    """Adopted with more for than against (a tie is not adopted) once the quorum is reached."""
    if not quorum_reached(voters, eligible, quorum_percent):
        return NO_QUORUM
    return ADOPTED if for_ > against else REJECTED


def poll_winner(option_ids: Sequence[int], tally: Tally) -> str:
    """'option:<id>' for the most chosen; a tie at the top or no vote says so."""
    if tally.voters == 0:
        return NO_VOTES
    best = max(tally.yes(o) for o in option_ids)
    top = [o for o in option_ids if tally.yes(o) == best]
    return f"option:{top[0]}" if len(top) == 1 else TIE


def date_winner(options: Sequence[DecisionOption], tally: Tally) -> str:
    """The date with the most yes; then the most 'if needed'; then the earliest. No answer at all: none."""
    if tally.voters == 0 or not options:
        return NO_VOTES

    def key(option: DecisionOption) -> tuple[int, int, datetime]:
        assert option.id is not None
        return (-tally.yes(option.id), -tally.maybe(option.id), option.starts_at or datetime.max.replace(tzinfo=UTC))

    best = min(options, key=key)
    return f"option:{best.id}"


def participation(voters: int, eligible: int) -> float | None:
    return voters / eligible if eligible else None


# --- Queries ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewOption:
    label: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None


def create_decision(session: Session, *, kind: str, question: str, author_id: int, options: Sequence[NewOption],
                    now: datetime, deadline: datetime | None = None, multiple: bool = False, public: bool = False,
                    role: str | None = None, quorum_percent: int | None = None, space_id: int | None = None,
                    ) -> tuple[Decision, list[DecisionOption]]:
    # A vote lasting a day or less has no reminder: it would come as soon as it is asked.
    short = deadline is not None and deadline - now <= REMIND_BEFORE
    decision = Decision(kind=kind, question=question[:300], author_id=author_id, multiple=multiple, public=public,
                        role=role, quorum_percent=quorum_percent, space_id=space_id, deadline=deadline,
                        created_at=now, reminded_at=now if short else None)
    session.add(decision)
    session.flush()
    assert decision.id is not None
    rows = [DecisionOption(decision_id=decision.id, position=i, label=o.label[:200], starts_at=o.starts_at,
                           ends_at=o.ends_at) for i, o in enumerate(options, start=1)]
    session.add_all(rows)
    session.flush()
    return decision, rows


def remember_post(session: Session, decision_id: int, platform: str, chat_id: str, is_private: bool) -> None:
    """The chat where it was posted (once): the result is announced there."""
    found = session.exec(select(DecisionPost).where(DecisionPost.decision_id == decision_id,
                                                    DecisionPost.platform == platform,
                                                    DecisionPost.chat_id == chat_id)).first()
    if found is None:
        session.add(DecisionPost(decision_id=decision_id, platform=platform, chat_id=chat_id, is_private=is_private))
        session.flush()


def posts_of(session: Session, decision_id: int) -> list[DecisionPost]:
    return list(session.exec(select(DecisionPost).where(DecisionPost.decision_id == decision_id)
                             .order_by(col(DecisionPost.id))))


def get_decision(session: Session, decision_id: int, *, lock: bool = False) -> tuple[Decision, list[DecisionOption]]:
    query = select(Decision).where(Decision.id == decision_id)
    if lock:
        query = query.with_for_update()
    decision = session.exec(query).first()
    if decision is None:
        raise DecisionNotFound(decision_id)
    return decision, options_of(session, decision_id)


def options_of(session: Session, decision_id: int) -> list[DecisionOption]:
    return list(session.exec(select(DecisionOption).where(DecisionOption.decision_id == decision_id)
                             .order_by(col(DecisionOption.position))))


def options_of_many(session: Session, decision_ids: Sequence[int]) -> dict[int, list[DecisionOption]]:
    """The options of several decisions in one query (a list shows many): {decision id: its options}."""
    found: dict[int, list[DecisionOption]] = {d: [] for d in decision_ids}
    if decision_ids:
        for option in session.exec(select(DecisionOption).where(col(DecisionOption.decision_id).in_(decision_ids))
                                   .order_by(col(DecisionOption.decision_id), col(DecisionOption.position))):
            found[option.decision_id].append(option)
    return found


def open_decisions(session: Session) -> list[Decision]:
    return list(session.exec(select(Decision).where(Decision.status == OPEN).order_by(col(Decision.id))))


def votes_of(session: Session, decision_id: int) -> list[DecisionVote]:
    return list(session.exec(select(DecisionVote).where(DecisionVote.decision_id == decision_id)
                             .order_by(col(DecisionVote.id))))


def tally_of(session: Session, decision_id: int) -> Tally:
    decision = session.get(Decision, decision_id)
    single = decision is not None and decision.kind != DATEPOLL and not decision.multiple
    rows = sorted(votes_of(session, decision_id), key=lambda v: (v.updated_at, v.id or 0))
    return count_votes(((v.member_id, v.option_id, v.answer) for v in rows), single=single)


def tallies_of(session: Session, decisions: Sequence[Decision]) -> dict[int, Tally]:
    """``tally_of`` for several decisions, their votes read in one query (the columns it counts)."""
    ids = [d.id for d in decisions if d.id is not None]
    votes: dict[int, list[tuple[datetime, int, int, int, str]]] = {i: [] for i in ids}
    if ids:
        columns = (col(DecisionVote.decision_id), col(DecisionVote.updated_at), col(DecisionVote.id),
                   col(DecisionVote.member_id), col(DecisionVote.option_id), col(DecisionVote.answer))
        for row in session.execute(sa_select(*columns).where(col(DecisionVote.decision_id).in_(ids))):
            decision_id, updated_at, vote_id, member_id, option_id, answer = row
            votes[decision_id].append((updated_at, vote_id or 0, member_id, option_id, answer))
    tallies = {}
    for decision in decisions:
        if decision.id is None:
            continue
        rows = sorted(votes[decision.id], key=lambda v: (v[0], v[1]))
        tallies[decision.id] = count_votes(((m, o, a) for _u, _i, m, o, a in rows),
                                           single=decision.kind != DATEPOLL and not decision.multiple)
    return tallies


def member_answers(session: Session, decision_id: int, member_id: int) -> dict[int, str]:
    rows = session.exec(select(DecisionVote).where(DecisionVote.decision_id == decision_id,
                                                   DecisionVote.member_id == member_id))
    return {v.option_id: v.answer for v in rows}


def eligible_member_ids(session: Session, role: str | None) -> list[int]:
    """Who may vote: every member, or only those holding ``role``."""
    if role is None:
        return [m for m in session.exec(select(Member.id).order_by(col(Member.id))) if m is not None]
    return sorted(set(session.exec(select(MemberRole.member_id).where(MemberRole.role == role))))


def may_vote(session: Session, decision: Decision, member_id: int) -> bool:
    if decision.role is None:
        return True
    return member_id in roles_of(session, member_id, decision.role)


def record_vote(session: Session, decision: Decision, member_id: int, answers: Mapping[int, str],
                now: datetime) -> None:
    """Replace this member's answers: a single-choice poll or a proposal keeps one choice; a poll with
    several choices keeps exactly the ones given; a date poll changes only the dates answered.
    The decision row must be locked by the caller (get_decision(lock=True))."""
    assert decision.id is not None
    if decision.status != OPEN or (decision.deadline is not None and decision.deadline <= now):
        raise VoteRefused("closed")
    if not answers:
        raise VoteRefused("no_choice")
    if not may_vote(session, decision, member_id):
        raise VoteRefused("not_eligible")
    if decision.kind != DATEPOLL and not decision.multiple and len(answers) > 1:
        raise VoteRefused("one_choice")
    replace_all = decision.kind != DATEPOLL
    existing = {v.option_id: v for v in session.exec(select(DecisionVote).where(
        DecisionVote.decision_id == decision.id, DecisionVote.member_id == member_id))}
    for option_id, vote in existing.items():
        if replace_all and option_id not in answers:
            session.delete(vote)
    for option_id, answer in answers.items():
        previous = existing.get(option_id)
        if previous is None:
            session.add(DecisionVote(decision_id=decision.id, option_id=option_id, member_id=member_id,
                                     answer=answer, updated_at=now))
        elif previous.answer != answer:
            previous.answer, previous.updated_at = answer, now
            session.add(previous)
    session.flush()


def withdraw_vote(session: Session, decision_id: int, member_id: int) -> None:
    session.execute(delete(DecisionVote).where(col(DecisionVote.decision_id) == decision_id,
                                               col(DecisionVote.member_id) == member_id))


def close_decision(session: Session, decision: Decision, options: Sequence[DecisionOption], now: datetime) -> str:
    """Count, apply the quorum, and write the result into the decision log; returns the result."""
    assert decision.id is not None
    tally = tally_of(session, decision.id)
    eligible = len(eligible_member_ids(session, decision.role))
    if decision.kind == PROPOSAL:
        by_label = {o.label: o.id for o in options}
        result = proposal_outcome(tally.yes(by_label[FOR] or 0), tally.yes(by_label[AGAINST] or 0),
                                  tally.voters, eligible, decision.quorum_percent)
    elif decision.kind == DATEPOLL:
        result = date_winner(options, tally)
    else:
        result = poll_winner([o.id for o in options if o.id is not None], tally)
    decision.status, decision.result, decision.closed_at = CLOSED, result, now
    decision.eligible, decision.voters = eligible, tally.voters
    session.add(decision)
    session.flush()
    return result


def due_to_close(session: Session, now: datetime) -> list[int]:
    return [d for d in session.exec(select(Decision.id).where(
        Decision.status == OPEN, col(Decision.deadline).is_not(None), col(Decision.deadline) <= now)) if d]


def due_for_reminder(session: Session, now: datetime) -> list[int]:
    """Proposals whose deadline is within a day and whose reminder hasn't gone yet."""
    return [d for d in session.exec(select(Decision.id).where(
        Decision.status == OPEN, Decision.kind == PROPOSAL, col(Decision.reminded_at).is_(None),
        col(Decision.deadline).is_not(None), col(Decision.deadline) > now,
        col(Decision.deadline) <= now + REMIND_BEFORE)) if d]


def not_voted(session: Session, decision: Decision) -> list[int]:
    assert decision.id is not None
    voted = set(session.exec(select(DecisionVote.member_id).where(DecisionVote.decision_id == decision.id)))
    return [m for m in eligible_member_ids(session, decision.role) if m not in voted]


def closed_between(session: Session, start: datetime, end: datetime, last: int | None = None) -> list[Decision]:
    """The decision log: closed polls and proposals, oldest first; ``last``: only the last ones."""
    where = (Decision.status == CLOSED, col(Decision.closed_at) >= start, col(Decision.closed_at) < end)
    if last is None:
        return list(session.exec(select(Decision).where(*where).order_by(col(Decision.closed_at), col(Decision.id))))
    newest = session.exec(select(Decision).where(*where).order_by(col(Decision.closed_at).desc(),
                                                                  col(Decision.id).desc()).limit(last))
    return list(reversed(list(newest)))


@dataclass(frozen=True)
class DecisionFigures:
    decisions: int
    participation: float | None  # voters over those who could vote, all decisions together


def report_figures(session: Session, start: datetime, end: datetime) -> DecisionFigures:
    """For the activity report: how many decisions were closed, and the overall participation rate."""
    closed = closed_between(session, start, end)
    voters = sum(d.voters or 0 for d in closed)
    eligible = sum(d.eligible or 0 for d in closed)
    return DecisionFigures(len(closed), participation(voters, eligible))


# --- Roles ----------------------------------------------------------------------------------------------


def roles_of(session: Session, member_id: int, role: str | None = None) -> list[int]:
    """The members (just this one, if they hold it) with ``role``; with no role: [member_id] if they have any."""
    query = select(MemberRole.member_id).where(MemberRole.member_id == member_id)
    if role is not None:
        query = query.where(MemberRole.role == role)
    return list(session.exec(query))


def member_roles(session: Session, member_id: int) -> list[str]:
    return sorted(session.exec(select(MemberRole.role).where(MemberRole.member_id == member_id)))


def role_names(session: Session) -> dict[str, int]:
    counts: dict[str, int] = {}
    for role in session.exec(select(MemberRole.role)):
        counts[role] = counts.get(role, 0) + 1
    return dict(sorted(counts.items()))


def give_role(session: Session, member_id: int, role: str) -> bool:
    if roles_of(session, member_id, role):
        return False
    session.add(MemberRole(member_id=member_id, role=role))
    session.flush()
    return True


def take_role(session: Session, member_id: int, role: str) -> bool:
    found = session.exec(select(MemberRole).where(MemberRole.member_id == member_id, MemberRole.role == role)).first()
    if found is None:
        return False
    session.delete(found)
    session.flush()
    return True
