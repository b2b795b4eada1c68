"""Chats subscribe to announcements and the digest; coordinators broadcast to all of them, confirm
first, and get a delivery report."""

from __future__ import annotations

from bot.core.context import Ctx, JobCtx
from bot.core.errors import NotAllowed, UserError
from bot.core.grammar.args import NumberArg, TextArg
from bot.core.i18n import N_, Translator
from bot.core.router import Router
from bot.core.types import Action, Reply
from handlers.places import announcement_target, managed_place, places_guard, require_manager
from storage import announcements
from storage.models import Member, Site
from storage.models_reminders import Announcement, Subscription
from storage.places import announcement_place, for_place, set_announcement_place

router = Router("announcements")

MAX_ANNOUNCEMENT = 3500


def may_manage_subscription(ctx: Ctx) -> bool:
    """Anyone decides for their private chat; in a group, a coordinator or an admin of that group
    (the platform is asked only when the sender is not a coordinator)."""
    return ctx.incoming.chat.is_private or ctx.is_coordinator or ctx.is_chat_admin()


@router.typed("subscribe", aliases=["abonner"], help=N_("Receive announcements and the weekly digest here"),
              examples=(N_("/subscribe"),))
def subscribe(ctx: Ctx) -> Reply:
    chat = ctx.incoming.chat
    if not may_manage_subscription(ctx):
        raise NotAllowed(ctx._("Only a coordinator or an admin of this group can subscribe it."))
    if announcements.find_subscription(ctx.session, chat):
        return Reply(ctx._("This chat already receives announcements and the weekly digest."))
    ctx.session.add(Subscription(platform=chat.platform.value, chat_id=chat.chat_id, is_private=chat.is_private,
                                 language=ctx.language, subscribed_by=ctx.member_id, created_at=ctx.now))
    return Reply(ctx._("Subscribed: this chat will receive announcements and the weekly digest. "
                       "/unsubscribe stops them."))


@router.typed("unsubscribe", aliases=["desabonner"], help=N_("Stop announcements and the digest here"),
              examples=(N_("/unsubscribe"),))
def unsubscribe(ctx: Ctx) -> Reply:
    chat = ctx.incoming.chat
    if not may_manage_subscription(ctx):
        raise NotAllowed(ctx._("Only a coordinator or an admin of this group can unsubscribe it."))
    subscription = announcements.find_subscription(ctx.session, chat)
    if subscription is None:
        return Reply(ctx._("This chat wasn't subscribed."))
    ctx.session.delete(subscription)
    return Reply(ctx._("Unsubscribed: no more announcements or digest here."))


# Network coordinators, and a place's coordinators for their place's chats (issue 18): places_guard on each
# subcommand; with one place, that is the coordinators, as before.
announce = router.group("announce", aliases=["annonce"],
                        help=N_("Send an announcement to every subscribed chat (coordinators)"))


@announce.sub("write", aliases=["ecrire"], default=True, guard=places_guard,
              help=N_("Write an announcement; you confirm before it goes"),
              args=(TextArg("text", question=N_("What should I announce?"), max_length=MAX_ANNOUNCEMENT),),
              examples=(N_("/announce The café is closed on Saturday"),))
def write_announcement(ctx: Ctx, text: str) -> Reply:
    site, text = announcement_target(ctx, text)  # "lieu=orgelet …": that place's chats only
    if not ctx.is_coordinator:  # a place's coordinator: their place's chats only
        site = site or managed_place(ctx, None)
        require_manager(ctx, site)
    count = len(for_place(ctx.session, announcements.subscriptions(ctx.session), site.id if site else None))
    if count == 0:
        raise UserError(ctx._("No chat is subscribed yet: send /subscribe in the groups that should receive it."))
    draft = Announcement(author_id=ctx.member_id, text=text, created_at=ctx.now)
    ctx.session.add(draft)
    ctx.session.flush()
    preview = ctx.ngettext("This will go to {n} chat:", "This will go to {n} chats:", count).format(n=count)
    if site is not None and site.id is not None and draft.id is not None:
        set_announcement_place(ctx.session, draft.id, site.id)
        preview = ctx._("For {place} only.").format(place=site.name) + " " + preview
    return Reply(f"{preview}\n\n{text}", title=ctx._("Announcement #{id} (not sent yet)").format(id=draft.id),
                 actions=(Action(ctx.ngettext("Send to {n} chat", "Send to {n} chats", count).format(n=count),
                                 send_announcement.line(draft.id)),
                          Action(ctx._("Cancel"), cancel_announcement.line(draft.id))))


DRAFT = NumberArg("announcement", question=N_("Which announcement? Give its number."))


@announce.sub("send", aliases=["envoyer"], strict=False, guard=places_guard,
              help=N_("Send a written announcement"), args=(DRAFT,),
              examples=(N_("/announce send 3"),))
def send_announcement(ctx: Ctx, announcement: int) -> Reply:
    return _confirm(ctx, True, announcement)


@announce.sub("cancel", aliases=["annuler"], strict=False, guard=places_guard,
              help=N_("Drop a written announcement"), args=(DRAFT,),
              examples=(N_("/announce cancel 3"),))
def cancel_announcement(ctx: Ctx, announcement: int) -> Reply:
    return _confirm(ctx, False, announcement)


def _confirm(ctx: Ctx, send: bool, announcement_id: int) -> Reply:
    draft = ctx.session.get(Announcement, announcement_id)
    if draft is None:
        raise UserError(ctx._("There is no announcement number {id}.").format(id=announcement_id))
    if not ctx.is_coordinator:  # a place's coordinator handles their place's announcements only
        place = announcement_place(ctx.session, announcement_id)
        require_manager(ctx, ctx.session.get(Site, place) if place is not None else None)
    if draft.status != "draft":
        return Reply(ctx._("Announcement #{id} was already handled.").format(id=announcement_id),
                     edit_original=ctx.incoming.is_action)
    if not send:
        draft.status = "cancelled"
        ctx.session.add(draft)
        return Reply(ctx._("Announcement #{id} cancelled; nothing was sent.").format(id=announcement_id),
                     edit_original=ctx.incoming.is_action)
    assert draft.id is not None
    targets = for_place(ctx.session, announcements.subscriptions(ctx.session),
                        announcement_place(ctx.session, draft.id))
    for subscription in targets:
        title = ctx.translator_in(subscription.language).gettext("Announcement")
        ctx.notify_chat(announcements.chat_of(subscription), Reply(draft.text, title=title),
                        dedup_key=announcements.delivery_key(draft.id, subscription))
    announcements.start_sending(draft, len(targets), ctx.now)
    ctx.session.add(draft)
    return Reply(ctx.ngettext("Sending announcement #{id} to {n} chat. I'll tell you when it's delivered.",
                              "Sending announcement #{id} to {n} chats. I'll tell you when it's delivered.",
                              len(targets)).format(id=draft.id, n=len(targets)),
                 edit_original=ctx.incoming.is_action)


@router.job("announcement-reports", every_seconds=30)
def report_finished_announcements(ctx: JobCtx) -> None:
    """Once every delivery of an announcement is settled, tell its author what happened."""
    for announcement in announcements.being_sent(ctx.session):
        assert announcement.id is not None
        counts = announcements.delivery_counts(ctx.session, announcement.id)
        if counts.get("pending", 0) or counts.get("sending", 0):
            continue
        author = ctx.session.get(Member, announcement.author_id)
        t = ctx.translator_for(author) if author else ctx.translator_in(None)
        sent = counts.get("sent", 0)
        lines = [t.ngettext("Announcement #{id}: delivered to {sent} chat of {total}.",
                            "Announcement #{id}: delivered to {sent} chats of {total}.", sent).format(
            id=announcement.id, sent=sent, total=announcement.recipients)]
        for row in announcements.failed_deliveries(ctx.session, announcement.id)[:20]:
            lines.append(t.gettext("Not delivered to {platform} {chat}: {reason}").format(
                platform=row.platform, chat=announcements.chat_title(ctx.session, row.platform, row.chat_id),
                reason=delivery_failure(t, row.error)))
        ctx.notify_member(announcement.author_id, Reply("\n".join(lines)),
                          dedup_key=f"announce-report:{announcement.id}")
        announcement.status = "done"
        ctx.session.add(announcement)


_FAILURES = (  # (words of the adapter's DeliveryError, in lower case; the reason told to the author)
    (("blocked the bot", "removed it", "not in ", "kicked", "forbidden", "refused:"),
     N_("I was removed from this chat or blocked there")),
    (("interrupted",), N_("I stopped while sending it; it may have arrived")),
    (("encrypt",), N_("I can't encrypt messages for this room")),
    (("flood", "rate limit"), N_("the platform kept asking me to wait")),
    (("network", "unreachable", "not running", "not synced"), N_("the platform couldn't be reached")),
)


def delivery_failure(t: Translator, error: str | None) -> str:
    """Why a message wasn't delivered, in the reader's language (the adapter's own words stay in the log)."""
    lowered = (error or "").lower()
    for words, reason in _FAILURES:
        if any(word in lowered for word in words):
            return t.gettext(reason)
    return t.gettext("the platform refused it")
