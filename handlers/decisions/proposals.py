"""/proposal (/proposition): members vote for / against / abstain until the deadline; a quorum (share
of members, or of a role) can be asked; the result is announced where it was posted."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from bot.core.context import Ctx
from bot.core.errors import NotAllowed, UsageError, UserError
from bot.core.grammar.args import RawArg
from bot.core.grammar.pieces import fold, squash
from bot.core.i18n import N_
from bot.core.types import Reply
from handlers.decisions.common import card, router, take_deadline
from handlers.decisions.polls import post_here, read_quoted
from storage import decisions as store

PROPOSAL_EXAMPLE = N_('/proposal "Buy a dishwasher for the café (450 €)" until 15/12 quorum 30 %')
DEFAULT_DAYS = 7
QUORUM_RE = re.compile(r"(?:(?<=\s)|^)quorum\s*[:=]?\s*(?P<n>\d{1,3})\s*%?(?=\s|$)", re.IGNORECASE)
ROLE_RE = re.compile(r"(?:(?<=\s)|^)(?:r[ôo]le|role)\s*[:=]?\s+(?P<role>[\w-]{1,40})(?=\s|$)", re.IGNORECASE)


def role_key(text: str) -> str:
    return fold(text.strip())[:40]


@router.typed("proposal", aliases=["proposition"], help=N_("Put a proposal to the vote (for, against, abstain)"),
              args=(RawArg("request", label=N_('"<proposal>" [until <when>] [quorum N %] [role <role>]')),),
              examples=(PROPOSAL_EXAMPLE, N_('/proposal "Open on Sundays" until friday quorum 50 % role bureau')))
def new_proposal(ctx: Ctx, request: str) -> Reply:
    example = ctx._(PROPOSAL_EXAMPLE)
    quoted, rest = read_quoted(ctx, request)
    quorum: int | None = None
    found = QUORUM_RE.search(rest)
    if found:
        quorum = int(found["n"])
        if not 1 <= quorum <= 100:
            raise UserError(ctx._("A quorum is between 1 and 100 %."), example=example)
        rest = squash(rest[: found.start()] + " " + rest[found.end():])
    role: str | None = None
    found = ROLE_RE.search(rest)
    if found:
        role = role_key(found["role"])
        rest = squash(rest[: found.start()] + " " + rest[found.end():])
    deadline, rest = take_deadline(ctx, rest, example)
    if rest:
        raise UsageError(ctx._("I didn't understand “{words}”.").format(words=rest[:60]), example=example)
    if len(quoted) != 1:
        raise UsageError(ctx._("Give the proposal in quotes."), example=example)
    if role is not None:
        if role not in store.role_names(ctx.session):
            raise UserError(ctx._("Nobody has the role “{role}” yet. A coordinator gives it with /role {role} "
                                  "<member>.").format(role=role))
        if not ctx.is_coordinator and not store.roles_of(ctx.session, ctx.member_id, role):
            raise NotAllowed(ctx._("Only a coordinator or a member with the role “{role}” can put a proposal "
                                   "to it.").format(role=role))
    if deadline is None:  # 23:59 a week from today, in the place's time
        day = ctx.now.astimezone(ctx.tz).date() + timedelta(days=DEFAULT_DAYS)
        deadline = datetime.combine(day, time(23, 59), tzinfo=ctx.tz).astimezone(ctx.now.tzinfo)
    decision, options = store.create_decision(
        ctx.session, kind=store.PROPOSAL, question=quoted[0], author_id=ctx.member_id,
        options=[store.NewOption(c) for c in store.PROPOSAL_CHOICES], now=ctx.now, deadline=deadline,
        role=role, quorum_percent=quorum)
    post_here(ctx, decision)
    return card(ctx, decision, options, status=ctx._("Proposal put to the vote."), native=True)
