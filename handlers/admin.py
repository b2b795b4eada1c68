"""Coordinator commands about members: granting and revoking qualifications."""

from __future__ import annotations

from sqlmodel import select

from bot.core.context import Ctx, JobCtx
from bot.core.grammar.args import WordArg
from bot.core.grammar.refs import MemberArg
from bot.core.i18n import N_
from bot.core.router import Router, fold
from bot.core.types import Reply
from storage.housekeeping import prune_adapter_state
from storage.models import Member, Qualification

router = Router("admin")


MEMBER_ARGS = (MemberArg("member", question=N_("Who, and which qualification?")),
               WordArg("qualification", last=True, label=N_("<qualification>"),
                       question=N_("Who, and which qualification?")))


@router.typed("grant", aliases=["habiliter"], coordinator_only=True,
              help=N_("Clear a member for a machine or space (coordinators)"), args=MEMBER_ARGS,
              examples=(N_("/grant alice laser"), N_("/grant Marie Curie 3d")))
def grant(ctx: Ctx, member: Member, qualification: str) -> Reply:
    qualification = fold(qualification).strip()[:64]
    assert member.id is not None
    exists = ctx.session.exec(select(Qualification).where(
        Qualification.member_id == member.id, Qualification.name == qualification)).first()
    if exists is None:
        ctx.session.add(Qualification(member_id=member.id, name=qualification, granted_by=ctx.member_id,
                                      granted_at=ctx.now))
    return Reply(ctx._("{name} is now cleared for “{qualification}”.").format(
        name=member.display_name, qualification=qualification))


@router.typed("revoke", aliases=["retirer"], coordinator_only=True,
              help=N_("Withdraw a qualification (coordinators)"), args=MEMBER_ARGS,
              examples=(N_("/revoke alice laser"), N_("/revoke Marie Curie 3d")))
def revoke(ctx: Ctx, member: Member, qualification: str) -> Reply:
    qualification = fold(qualification).strip()[:64]
    row = ctx.session.exec(select(Qualification).where(
        Qualification.member_id == member.id, Qualification.name == qualification)).first()
    if row is None:
        return Reply(ctx._("{name} didn't have “{qualification}”.").format(
            name=member.display_name, qualification=qualification))
    ctx.session.delete(row)
    return Reply(ctx._("{name} is no longer cleared for “{qualification}”.").format(
        name=member.display_name, qualification=qualification))


@router.job("housekeeping", every_seconds=24 * 3600)
def housekeeping(ctx: JobCtx) -> None:
    """Once a day: forget the buttons and reactions of messages older than three months."""
    prune_adapter_state(ctx.session, ctx.now)
