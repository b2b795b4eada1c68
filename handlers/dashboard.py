"""/dashboard (/tableau): a coordinator gets a one-time link to the web dashboard (bot.site), in a
private chat only; ``/tableau fermer`` closes every session they opened."""

from __future__ import annotations

from bot.core.context import Ctx, JobCtx
from bot.core.errors import UserError
from bot.core.grammar.args import RawArg
from bot.core.i18n import N_
from bot.core.router import Router, fold
from bot.core.types import Reply
from storage.site import LINK_LIFETIME, MAX_LINKS_PER_HOUR, TooManyLinks, forget_expired, new_link, revoke_all

router = Router("dashboard")

LOGIN_PATH = "/tableau/login/"
CLOSE_WORDS = {"off", "close", "logout", "fermer", "fermer-tout", "deconnexion", "revoke", "revoquer"}


@router.typed("dashboard", aliases=["tableau", "tableaudebord"], coordinator_only=True,
              help=N_("Open the web dashboard (coordinators; a one-time link, in a private chat)"),
              args=(RawArg("what", label=N_("close"), shown_optional=True),),
              examples=(N_("/dashboard"), N_("/dashboard close")))
def dashboard(ctx: Ctx, what: str) -> Reply:
    if fold(what.strip()) in CLOSE_WORDS:
        closed = revoke_all(ctx.session, ctx.member_id, ctx.now)
        return Reply(ctx.ngettext("Done: {n} dashboard session closed; its browser will ask for a new link.",
                                  "Done: {n} dashboard sessions closed; their browsers will ask for a new link.",
                                  closed).format(n=closed))
    if what.strip():
        raise UserError(ctx._("I only know /dashboard and /dashboard close."), example=ctx._("/dashboard"))
    if not ctx.incoming.chat.is_private:
        raise UserError(ctx._("The dashboard link is personal: ask me in a private chat."))
    public_url = ctx.settings.public_url
    if not public_url:
        raise UserError(ctx._("The web pages are off: PUBLIC_URL is not set in the bot's settings."))
    try:
        secret = new_link(ctx.session, ctx.member_id, ctx.now)
    except TooManyLinks:
        raise UserError(ctx._("That's {n} links in the last hour; wait a little before asking again.").format(
            n=MAX_LINKS_PER_HOUR)) from None
    from bot.logsetup import register_secret

    register_secret(secret)
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    url = public_url.rstrip("/") + LOGIN_PATH + secret
    return Reply(ctx._("Your dashboard link (works once, for {minutes} minutes; the session lasts a day):\n{url}\n"
                       "Don't share it. /dashboard close ends every session.").format(minutes=minutes, url=url))


@router.job("forget_expired_dashboard_sessions", every_seconds=3600)
def forget_old_sessions(ctx: JobCtx) -> None:
    """Hourly: dashboard links and sessions a day past their end are deleted."""
    forget_expired(ctx.session, ctx.now)
