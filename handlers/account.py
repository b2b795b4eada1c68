"""/start (welcome, and the private chat the bot may write to) and /lang."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.errors import UsageError
from bot.core.grammar.args import RawArg
from bot.core.i18n import LANGUAGES, N_, normalise_language
from bot.core.router import Router, is_number
from bot.core.types import Reply

router = Router("account")


@router.typed("start", aliases=["bonjour"], help=N_("Say hello and let me write to you privately"),
              args=(RawArg("payload", hidden=True),), examples=(N_("/start"),))
def start(ctx: Ctx, payload: str) -> Reply:
    # ``payload``: what a Telegram deep link carries (/start hello, /start join-12 from the public agenda).
    # The dispatcher has already recorded this private chat; messages held for this member go out now.
    from storage.outbox_routes import release_held_messages

    released = 0
    if ctx.incoming.chat.is_private:
        released = release_held_messages(ctx.session, ctx.member_id, ctx.identity)
    if payload.startswith("join-") and is_number(payload[5:]):  # the public agenda's "Sign up" (bot.site)
        from handlers.events.creating import show_event

        return show_event(ctx, int(payload[5:]))  # the event with its Join button: one press, never a silent sign-up
    if payload.startswith("ici-") and payload.count("-") >= 2:  # the door QR code of an event (handlers/attendance)
        from handlers.attendance.checkin import check_in_from_door

        return check_in_from_door(ctx, payload[4:])
    text = ctx._("Hello {name}! I book spaces for you. Try /spaces, then "
                 "/book salle-reunion tomorrow 14:00-16:00. /help lists everything.")
    text = text.format(name=ctx.member.display_name)
    if released:
        text += "\n" + ctx.ngettext("I had {n} message waiting for you; here it comes.",
                                    "I had {n} messages waiting for you; here they come.", released).format(n=released)
    from handlers.places import ask_home_place

    question, buttons = ask_home_place(ctx)  # a network of places: which is theirs (nothing with one place)
    return Reply(text + question, actions=buttons)


@router.typed("lang", aliases=["langue"], help=N_("Choose your language (fr or en)"),
              args=(RawArg("wanted", label=N_("fr|en"), shown_optional=False),),
              examples=(N_("/lang en"), N_("/lang fr")))
def choose_language(ctx: Ctx, wanted: str) -> Reply:
    language = normalise_language(wanted) if wanted else None
    if language is None:
        raise UsageError(ctx._("Which language? I speak: {languages}.").format(languages=", ".join(LANGUAGES)))
    chat = ctx.incoming.chat
    if not chat.is_private and (ctx.is_coordinator or ctx.is_chat_admin()):
        # A group's admin or a coordinator sets the group's language: what the bot shares there.
        from storage.chats import set_chat_language

        set_chat_language(ctx.session, chat.platform.value, chat.chat_id, language, ctx.now)
        return Reply(ctx.translator_in(language).gettext(
            "From now on I'll write in English in this group. Each member keeps their own language in "
            "private (/lang there)."))
    ctx.member.language = language
    ctx.member.language_chosen = True
    ctx.session.add(ctx.member)
    _ = ctx.translator_in(language).gettext
    return Reply(_("From now on I'll answer you in English."))
