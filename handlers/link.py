"""/link: one person with accounts on several chat apps becomes one member (bookings and roles follow).

Only accounts of one person: the code asked for on one app is typed on *another* app, then the first
account (the one that asked for the code) confirms with a button that names the other account. A
member's roles never travel silently: when only one side has a role (coordinator, organiser), that side
confirms too, told that the other account would get it; the final answer says which roles the linked
member has. So a coordinator talked into typing someone's code, or into handing over their own, sees
whose account it is and what it would get, and nothing happens until they press "Link".
"""

from __future__ import annotations

from collections.abc import Callable

from bot.core.context import Ctx, JobCtx
from bot.core.errors import NotAllowed, UserError
from bot.core.i18n import N_
from bot.core.member_refs import PLATFORM_NAMES
from bot.core.router import Router
from bot.core.types import Action, Reply
from storage.links import (
    LINK_CODE_TTL,
    consume_link_code,
    create_link_code,
    forget_expired_links,
    merge_members,
    pending_link,
    start_pending_link,
)
from storage.members import accounts_of, coordinator_ids, identities_of
from storage.models import Member
from storage.models_links import PendingLink

router = Router("link")
Gettext = Callable[[str], str]

YES_WORDS = {"yes", "oui"}
NO_WORDS = {"no", "non"}


@router.command(
    "link",
    aliases=["lier"],
    help=N_("Link your accounts on another chat app"),
    usage=N_("/link, then send /link <code> from your account on the other app"),
)
def link(ctx: Ctx, args: str) -> Reply:
    words = args.split()
    if not words:
        return _new_code(ctx)
    if len(words) == 2 and words[0].casefold() in YES_WORDS:
        return _confirm(ctx, words[1])
    if len(words) == 2 and words[0].casefold() in NO_WORDS:
        return _decline(ctx, words[1])
    return _enter_code(ctx, args.strip())


def _new_code(ctx: Ctx) -> Reply:
    # A code shown in a group could be used by anyone there to join their account to this member.
    if not ctx.incoming.chat.is_private:
        raise UserError(ctx._("Send /link to me in a private chat: the code must stay secret."))
    link_code = create_link_code(ctx.session, ctx.member_id, ctx.now)
    minutes = int(LINK_CODE_TTL.total_seconds() // 60)
    return Reply(
        ctx._("Within {minutes} minutes, send this from your account on the other app (Telegram, Matrix…):\n"
              "/link {code}\nThe code works once. Then confirm here with the button I'll send. "
              "Never give this code to anyone.").format(minutes=minutes, code=link_code.code),
        title=ctx._("Link your accounts"),
    )


def _enter_code(ctx: Ctx, code: str) -> Reply:
    owner_id = consume_link_code(ctx.session, code, ctx.now)
    if not ctx.incoming.chat.is_private:
        # Everyone in the group has seen it now: it is used up (an answer, not an error, so that it stays so).
        return Reply(ctx._("Send the code to me in a private chat. This one was seen in the group, so it no "
                              "longer works: ask for a new one with /link."))
    if owner_id is None:
        raise UserError(ctx._("This code is unknown, already used or expired. "
                              "Send /link from your other account to get a new one."))
    if owner_id == ctx.member_id:
        return Reply(ctx._("These accounts are already linked."))
    owner = ctx.session.get(Member, owner_id)
    assert owner is not None
    owner_platforms = _platforms(ctx, owner_id)
    shared = owner_platforms & _platforms(ctx, ctx.member_id)
    if shared:
        raise UserError(ctx._("Both accounts are on {platform}. /link joins your own accounts on different apps "
                              "(Telegram and Matrix); the code is typed on the other app.")
                        .format(platform=_platform_name(ctx, sorted(shared)[0])))
    owner_roles = _roles(ctx, owner_id)
    my_roles = _roles(ctx, ctx.member_id)
    pending = start_pending_link(ctx.session, owner_id, ctx.identity, bool(my_roles - owner_roles), ctx.now)
    owner_t = ctx.translator_for(owner)
    ctx.notify_member(owner_id, Reply(
        _question(owner_t.gettext, ctx.incoming.sender.platform.value, _account_name(ctx, ctx.member),
                  owner_platforms, mine=owner_roles, theirs=my_roles),
        title=owner_t.gettext("Link your accounts?"),
        actions=_buttons(owner_t.gettext, pending.token)))
    other_app = _platforms_text(ctx, owner_platforms)
    if not pending.entrant_must_confirm:
        return Reply(ctx._("Almost done: confirm on your {platform} account, where I've just sent a button.")
                     .format(platform=other_app))
    question = _question(ctx._, next(iter(owner_platforms), ""), _account_name(ctx, owner),
                         {ctx.incoming.sender.platform.value}, mine=my_roles, theirs=owner_roles)
    return Reply(question + "\n\n" + ctx._("Your {platform} account must confirm too; I've sent it a button.")
                 .format(platform=other_app),
                 title=ctx._("Link your accounts?"), actions=_buttons(ctx._, pending.token))


def _confirm(ctx: Ctx, token: str) -> Reply:
    pending = _pending_for_me(ctx, token)
    if ctx.member_id == pending.owner_member_id:
        pending.owner_confirmed = True
    else:
        pending.entrant_confirmed = True
    if not pending.owner_confirmed or (pending.entrant_must_confirm and not pending.entrant_confirmed):
        ctx.session.add(pending)
        other = ctx._("the other account")
        return Reply(ctx._("Thank you. The link is made once {other} confirms too.").format(other=other),
                     edit_original=True)
    owner_id, entrant_id = pending.owner_member_id, pending.entrant_member_id
    ctx.session.delete(pending)
    ctx.session.flush()
    if _platforms(ctx, owner_id) & _platforms(ctx, entrant_id):
        raise UserError(ctx._("These accounts are on the same app: they can't be linked."))
    merge_members(ctx.session, keep_id=owner_id, absorb_id=entrant_id)
    roles = _roles(ctx, owner_id)
    apps = _platforms_text(ctx, _platforms(ctx, owner_id))
    if roles:
        text = ctx._("Done: your accounts are linked ({apps}). Your bookings are shared, and on both "
                     "accounts your roles are: {roles}.").format(apps=apps, roles=_roles_text(ctx._, roles))
    else:
        text = ctx._("Done: your accounts are linked ({apps}). Your bookings are shared; you have no special "
                     "role.").format(apps=apps)
    return Reply(text, edit_original=True)


def _decline(ctx: Ctx, token: str) -> Reply:
    pending = _pending_for_me(ctx, token)
    ctx.session.delete(pending)
    return Reply(ctx._("Not linked: nothing was changed. If you didn't ask for this, never type a code "
                       "someone gives you."), edit_original=True)


def _pending_for_me(ctx: Ctx, token: str) -> PendingLink:
    pending = pending_link(ctx.session, token, ctx.now)
    if pending is None:
        raise UserError(ctx._("This link request has expired or was already answered. Start again with /link."))
    if ctx.member_id not in (pending.owner_member_id, pending.entrant_member_id):
        raise NotAllowed(ctx._("This button is for the person linking their accounts."))
    return pending


@router.job("forget_expired_links", every_seconds=3600)
def forget_expired(ctx: JobCtx) -> None:
    """Hourly: unused /link codes and unanswered confirmations past their time are deleted."""
    forget_expired_links(ctx.session, ctx.now)


# -- wording ---------------------------------------------------------------------------------------

ROLE_NAMES = {"coordinator": N_("coordinator"), "organiser": N_("organiser")}


def _question(gettext: Gettext, other_platform: str, other_name: str, my_platforms: set[str], *,
              mine: set[str], theirs: set[str]) -> str:
    """'Link your Telegram account “Mallory” to this Matrix account?' and what roles would travel, in the
    reader's language (``gettext`` of their translator, not necessarily the sender's)."""
    lines = [gettext("Link your {platform} account “{name}” to this {this} account?").format(
        platform=gettext(PLATFORM_NAMES.get(other_platform, other_platform)), name=other_name,
        this="/".join(gettext(PLATFORM_NAMES.get(p, p)) for p in sorted(my_platforms)))]
    if mine - theirs:
        lines.append(gettext("This account is {roles}: “{name}” would be too, with the same rights.").format(
            roles=_roles_text(gettext, mine - theirs), name=other_name))
    if theirs - mine:
        lines.append(gettext("“{name}” is {roles}: this account would be too.").format(
            name=other_name, roles=_roles_text(gettext, theirs - mine)))
    lines.append(gettext("Press “Link” only if “{name}” is you. If someone gave you a code, press No.")
                 .format(name=other_name))
    return "\n".join(lines)


def _buttons(gettext: Gettext, token: str) -> tuple[Action, ...]:
    return (Action(gettext("Link"), f"/link yes {token}"), Action(gettext("No"), f"/link no {token}"))


def _roles_text(gettext: Gettext, roles: set[str]) -> str:
    return ", ".join(gettext(ROLE_NAMES[r]) for r in sorted(roles))


def _roles(ctx: Ctx, member_id: int) -> set[str]:
    member = ctx.session.get(Member, member_id)
    assert member is not None
    roles: set[str] = set()
    if member_id in coordinator_ids(ctx.session, ctx.settings.coordinators):
        roles.add("coordinator")
    if member.is_organiser:
        roles.add("organiser")
    return roles


def _platforms(ctx: Ctx, member_id: int) -> set[str]:
    return {i.platform for i in identities_of(ctx.session, member_id)}


def _platform_name(ctx: Ctx, platform: str) -> str:
    return ctx._(PLATFORM_NAMES.get(platform, platform))


def _platforms_text(ctx: Ctx, platforms: set[str]) -> str:
    return ", ".join(_platform_name(ctx, p) for p in sorted(platforms))


def _account_name(ctx: Ctx, member: Member) -> str:
    """'Mallory (@mallory)': the name the account shows, and its handle when it has one."""
    assert member.id is not None
    handles = [h for _p, h in accounts_of(ctx.session, [member.id]).get(member.id, []) if h]
    return f"{member.display_name} ({handles[0]})" if handles and handles[0] != member.display_name \
        else member.display_name
