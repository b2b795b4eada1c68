"""/volunteers here: the group told about uncovered shifts and places given back."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.errors import UserError
from bot.core.grammar.args import KeywordArg
from bot.core.i18n import N_
from bot.core.types import Reply
from handlers.volunteers.common import router
from storage import volunteers as store


@router.typed("volunteers", aliases=["benevoles"], coordinator_only=True,
              help=N_("Choose the group told about uncovered shifts (coordinators)"),
              args=(KeywordArg("action", {"here": ("ici",), "off": ("stop", "non")}, optional=True),),
              examples=(N_("/volunteers here"), N_("/volunteers off")))
def volunteers_group(ctx: Ctx, action: str | None) -> Reply:
    chat = ctx.incoming.chat
    if action == "here":
        if chat.is_private:
            raise UserError(ctx._("Send this in the volunteers' group itself, not in a private chat."))
        store.set_volunteer_group(ctx.session, chat.platform.value, chat.chat_id, ctx.member_id, ctx.now)
        return Reply(ctx._("This group will be told about shifts that need people and places given back."))
    if action == "off":
        if store.remove_volunteer_group(ctx.session, chat.platform.value, chat.chat_id):
            return Reply(ctx._("This group won't be told about shifts any more."))
        return Reply(ctx._("This chat wasn't the volunteers' group."))
    count = len(store.volunteer_groups(ctx.session))
    return Reply(ctx.ngettext("{n} group is told about shifts. Send /volunteers here in a group to add it.",
                              "{n} groups are told about shifts. Send /volunteers here in a group to add it.",
                              count).format(n=count))
