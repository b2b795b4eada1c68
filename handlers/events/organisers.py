"""/organiser: coordinators name the members who may create events, or stop them."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.grammar.refs import MemberArg
from bot.core.i18n import N_
from bot.core.types import Reply
from handlers.events.common import router
from handlers.telling import tell_member
from storage.events import organisers, set_organiser
from storage.models import Member

organiser = router.group("organiser", aliases=["organisateur", "organizer"], coordinator_only=True,
                         help=N_("Let a member create events, or stop them (coordinators)"))


@organiser.sub("add", aliases=["ajouter", "nommer"], default=True,
               help=N_("Let a member create events; without a name, list the organisers"),
               args=(MemberArg("member", optional=True, shown_optional=True),),
               examples=(N_("/organiser alice"), N_("/organiser")))
def add_organiser(ctx: Ctx, member: Member | None) -> Reply:
    if member is None:
        names = ", ".join(m.display_name for m in organisers(ctx.session))
        return Reply(names or ctx._("Nobody yet. /organiser <member> names one."), title=ctx._("Organisers"))
    changed = set_organiser(ctx.session, member, True)
    assert member.id is not None
    if changed:
        tell_member(ctx, member.id, lambda t: t.gettext(
            "You can now create events, e.g. /event add \"Repair café\" saturday 14:00-18:00 places 12."))
        return Reply(ctx._("{name} can now create events.").format(name=member.display_name))
    return Reply(ctx._("{name} is already an organiser.").format(name=member.display_name))


@organiser.sub("remove", aliases=["retirer", "revoke", "enlever", "supprimer", "off"],
               help=N_("Stop a member creating events"), args=(MemberArg("member", question=N_("Who?")),),
               examples=(N_("/organiser remove alice"),))
def remove_organiser(ctx: Ctx, member: Member) -> Reply:
    changed = set_organiser(ctx.session, member, False)
    text = ctx._("{name} can no longer create events.") if changed else ctx._("{name} wasn't an organiser.")
    return Reply(text.format(name=member.display_name))
