"""/role (coordinators): the roles a proposal can be put to (bureau, adhérents)."""

from __future__ import annotations

import re

from bot.core.context import Ctx
from bot.core.errors import UsageError
from bot.core.grammar.args import WordArg
from bot.core.grammar.refs import MemberArg
from bot.core.i18n import N_
from bot.core.types import Reply
from handlers.decisions.common import router
from handlers.decisions.proposals import role_key
from storage import decisions as store
from storage.models import Member

ROLE_NAME = re.compile(r"^[\w-]{1,40}$")

role = router.group("role", aliases=["role-membre"], coordinator_only=True,
                    help=N_("Give members a role such as bureau, for proposals put to it (coordinators)"))


def _checked(ctx: Ctx, name: str) -> str:
    key = role_key(name)
    if not ROLE_NAME.match(key):
        raise UsageError(ctx._("A role is one word, such as bureau or adherents."),
                         example=ctx._("/role bureau alice"))
    return key


@role.sub("list", aliases=["liste"], coordinator_only=True, help=N_("List the roles"), examples=(N_("/role list"),))
def list_roles(ctx: Ctx) -> Reply:
    names = store.role_names(ctx.session)
    if not names:
        return Reply(ctx._("No roles yet. Give one with /role bureau alice."))
    lines = [ctx.ngettext("{role}: {n} member", "{role}: {n} members", n).format(role=r, n=n) for r, n in names.items()]
    return Reply("\n".join(lines), title=ctx._("Roles"))


@role.sub("give", aliases=["donner"], default=True, coordinator_only=True, help=N_("Give a member a role"),
          args=(WordArg("name", label=N_("<role>"), sample="bureau"), MemberArg("member")),
          examples=(N_("/role bureau alice"),))
def give(ctx: Ctx, name: str, member: Member) -> Reply:
    key = _checked(ctx, name)
    assert member.id is not None
    if store.give_role(ctx.session, member.id, key):
        return Reply(ctx._("{name} now has the role “{role}”.").format(name=member.display_name, role=key))
    return Reply(ctx._("{name} already had the role “{role}”.").format(name=member.display_name, role=key))


@role.sub("remove", aliases=["retirer", "enlever"], coordinator_only=True, help=N_("Take a role back"),
          args=(WordArg("name", label=N_("<role>"), sample="bureau"), MemberArg("member")),
          examples=(N_("/role remove bureau alice"),))
def remove(ctx: Ctx, name: str, member: Member) -> Reply:
    key = _checked(ctx, name)
    assert member.id is not None
    if store.take_role(ctx.session, member.id, key):
        return Reply(ctx._("{name} no longer has the role “{role}”.").format(name=member.display_name, role=key))
    return Reply(ctx._("{name} didn't have the role “{role}”.").format(name=member.display_name, role=key))
