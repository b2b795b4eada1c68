"""/link: one person with accounts on several chat apps becomes one member (bookings and roles follow)."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.i18n import N_
from bot.core.router import Router
from bot.core.types import Reply
from storage.links import LINK_CODE_TTL, consume_link_code, create_link_code, merge_members

router = Router("link")


@router.command(
    "link",
    aliases=["lier"],
    help=N_("Link your accounts on another chat app"),
    usage=N_("/link, then send /link <code> from your other account"),
)
def link(ctx: Ctx, args: str) -> Reply:
    code = args.strip()
    if not code:
        # A code shown in a group could be used by anyone there to join their account to this member.
        if not ctx.incoming.chat.is_private:
            raise UserError(ctx._("Send /link to me in a private chat: the code must stay secret."))
        link_code = create_link_code(ctx.session, ctx.member_id, ctx.now)
        minutes = int(LINK_CODE_TTL.total_seconds() // 60)
        return Reply(
            ctx._("Within {minutes} minutes, send this from your other account (Telegram, Matrix…):\n"
                  "/link {code}\nThe code works once.").format(minutes=minutes, code=link_code.code),
            title=ctx._("Link your accounts"),
        )
    owner_id = consume_link_code(ctx.session, code, ctx.now)
    if owner_id is None:
        raise UserError(ctx._("This code is unknown, already used or expired. "
                              "Send /link from your other account to get a new one."))
    if owner_id == ctx.member_id:
        return Reply(ctx._("These accounts are already linked."))
    merge_members(ctx.session, keep_id=owner_id, absorb_id=ctx.member_id)
    return Reply(ctx._("Done: your accounts are linked. Your bookings and roles are now shared."))
