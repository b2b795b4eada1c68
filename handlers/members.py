"""/members (coordinators): who is who — each member's number, name, chat accounts and roles, so that
commands can name a member without doubt (/grant #12 laser), and the card of one member."""

from __future__ import annotations

from sqlmodel import col, func, select

from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.i18n import N_
from bot.core.member_refs import member_label, one_member_named
from bot.core.router import Router
from bot.core.types import Reply
from storage.members import accounts_of, coordinator_ids
from storage.models import Member, Qualification

router = Router("members")

# A Telegram message holds 4,096 characters: about this many lines of members.
LIST_LIMIT = 40


@router.command("members", aliases=["membres"], coordinator_only=True,
                help=N_("Members with their numbers, or one member's card (coordinators)"),
                usage=N_("/members, or /members <name, @account or #number>  e.g. /members alice"))
def members(ctx: Ctx, args: str) -> Reply:
    if args.strip():
        try:
            return _card(ctx, one_member_named(ctx, args.strip()))
        except UserError as choice:
            if not choice.actions:
                raise
            # Several could be meant: here that is an answer (who they are), not a mistake.
            return Reply(choice.message, actions=choice.actions)
    coordinators = set(coordinator_ids(ctx.session, ctx.settings.coordinators))
    total = ctx.session.exec(select(func.count()).select_from(Member)).one()
    shown = list(ctx.session.exec(select(Member).order_by(col(Member.id)).limit(LIST_LIMIT)))
    accounts = accounts_of(ctx.session, [m.id for m in shown if m.id is not None])
    lines = []
    for member in shown:
        assert member.id is not None
        roles = _roles(ctx, member, coordinators)
        lines.append(member_label(ctx, member, accounts.get(member.id, [])) + (f" — {roles}" if roles else ""))
    if total > len(shown):
        lines.append(ctx.ngettext("…and {n} more: /members <name> finds one.",
                                  "…and {n} more: /members <name> finds one.", total - len(shown))
                     .format(n=total - len(shown)))
    title = ctx.ngettext("{n} member", "{n} members", total).format(n=total)
    return Reply("\n".join(lines), title=title)


def _card(ctx: Ctx, member: Member) -> Reply:
    assert member.id is not None
    coordinators = set(coordinator_ids(ctx.session, ctx.settings.coordinators))
    lines = [member_label(ctx, member, accounts_of(ctx.session, [member.id]).get(member.id, []))]
    roles = _roles(ctx, member, coordinators)
    lines.append(ctx._("Roles: {roles}").format(roles=roles or ctx._("none")))
    qualifications = sorted(ctx.session.exec(select(Qualification.name).where(Qualification.member_id == member.id)))
    if qualifications:
        lines.append(ctx._("Cleared for: {names}").format(names=", ".join(qualifications)))
    lines.append(ctx._("In commands: #{number}, e.g. /grant #{number} laser").format(number=member.id))
    return Reply("\n".join(lines), edit_original=ctx.incoming.is_action)


def _roles(ctx: Ctx, member: Member, coordinators: set[int]) -> str:
    roles = []
    if member.id in coordinators:
        roles.append(ctx._("coordinator"))
    if member.is_organiser:
        roles.append(ctx._("organiser"))
    return ", ".join(roles)
