"""Coordinator commands about members: granting and revoking qualifications."""

from __future__ import annotations

import shlex

from sqlmodel import select

from bot.core.context import Ctx, JobCtx
from bot.core.errors import UsageError
from bot.core.i18n import N_
from bot.core.router import Router, fold
from bot.core.types import Reply
from handlers.explain import one_member_named
from storage.housekeeping import prune_adapter_state
from storage.models import Member, Qualification

router = Router("admin")


def _member_and_name(ctx: Ctx, args: str) -> tuple[Member, str]:
    try:
        words = shlex.split(args)
    except ValueError:
        words = args.split()
    if len(words) < 2:
        raise UsageError(ctx._("Who, and which qualification?"))
    qualification = fold(words[-1]).strip()[:64]
    who = " ".join(words[:-1])
    return one_member_named(ctx, who), qualification


@router.command("grant", aliases=["habiliter"], coordinator_only=True,
                help=N_("Clear a member for a machine or space (coordinators)"),
                usage=N_("/grant <member> <qualification>  e.g. /grant alice laser"))
def grant(ctx: Ctx, args: str) -> Reply:
    member, qualification = _member_and_name(ctx, args)
    assert member.id is not None
    exists = ctx.session.exec(select(Qualification).where(
        Qualification.member_id == member.id, Qualification.name == qualification)).first()
    if exists is None:
        ctx.session.add(Qualification(member_id=member.id, name=qualification, granted_by=ctx.member_id,
                                      granted_at=ctx.now))
    return Reply(ctx._("{name} is now cleared for “{qualification}”.").format(
        name=member.display_name, qualification=qualification))


@router.command("revoke", aliases=["retirer"], coordinator_only=True,
                help=N_("Withdraw a qualification (coordinators)"),
                usage=N_("/revoke <member> <qualification>  e.g. /revoke alice laser"))
def revoke(ctx: Ctx, args: str) -> Reply:
    member, qualification = _member_and_name(ctx, args)
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
