"""Incoming message -> member -> command -> replies, with the error policy:
a user error is answered in the member's language; anything else is logged and gets an apology.
Nothing a failed command wrote is kept (one transaction per command)."""

from __future__ import annotations

import asyncio
import difflib
import logging
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.core.context import AdminCheck, Ctx
from bot.core.errors import NotAllowed, UsageError, UserError
from bot.core.i18n import N_, Translator, normalise_language, translator_for
from bot.core.outbox import enqueue
from bot.core.router import Command, CommandTable, split_command
from bot.core.types import Incoming, Reply
from storage.db import session_scope
from storage.members import find_identity, get_or_create_member, identities_of
from storage.models import Member

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4000


def clean_text(text: str) -> str:
    """Drop control and format characters (keep newlines and tabs) and normalise Unicode."""
    text = unicodedata.normalize("NFC", text)
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c)[0] != "C")


class Dispatcher:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        commands: CommandTable,
        clock: Callable[[], datetime] | None = None,
        on_notices: Callable[[], None] | None = None,
        admin_check: AdminCheck | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.commands = commands
        self.clock = clock or (lambda: datetime.now(UTC))
        self.on_notices = on_notices
        # Who administers a group chat (Ctx.is_chat_admin); None: nobody does. Tests may set it.
        self.admin_check = admin_check

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Adapters call this. Database work runs in a thread so a waiting lock never blocks the loop."""
        return await asyncio.to_thread(self.handle_sync, incoming)

    def default_translator(self, incoming: Incoming) -> Translator:
        language = normalise_language(incoming.sender.language) or self.settings.language
        return translator_for(language, self.settings.timezone)

    def handle_sync(self, incoming: Incoming) -> list[Reply]:
        translator = self.default_translator(incoming)
        _ = translator.gettext
        if len(incoming.text) > MAX_MESSAGE_CHARS:
            return [Reply(_("That message is too long for me ({count} characters). "
                            "Please send one short command, e.g. /book salle-reunion tomorrow 14:00-16:00")
                          .format(count=len(incoming.text)))]
        text = clean_text(incoming.text)
        parsed = split_command(text)
        if parsed is None:
            if incoming.chat.is_private and text.strip():
                return [Reply(_("I understand commands that start with / or !. Type /help to see them."))]
            return []
        name, args = parsed
        command = self.commands.find(name)
        if command is None:
            return [self._unknown_command(name, translator)]
        try:
            return self._run(command, args, incoming)
        except UserError as error:
            translator = self._member_translator(incoming) or translator
            return [self._user_error_reply(error, command.usage, translator)]
        except Exception:
            log.exception(
                "command /%s failed for %s:%s in chat %s (args %r)",
                command.name, incoming.sender.platform, incoming.sender.user_id, incoming.chat.chat_id, args[:200],
            )
            return [Reply(translator.gettext("Sorry, something went wrong on my side. "
                                             "Nothing was changed; please try again in a moment."))]

    def _member_translator(self, incoming: Incoming) -> Translator | None:
        try:
            with session_scope(self.engine) as session:
                identity = find_identity(session, incoming.sender.platform.value, incoming.sender.user_id)
                member = session.get(Member, identity.member_id) if identity else None
                if member and member.language:
                    return translator_for(member.language, self.settings.timezone)
        except Exception:
            log.exception("could not look up the member's language")
        return None

    def _unknown_command(self, name: str, translator: Translator) -> Reply:
        _ = translator.gettext
        close = difflib.get_close_matches(name.casefold(), self.commands.names(), n=1, cutoff=0.7)
        if close:
            return Reply(_("I don't know /{name}. Did you mean /{suggestion}? Type /help for the list.")
                         .format(name=name[:40], suggestion=close[0]))
        return Reply(_("I don't know /{name}. Type /help for the list of commands.").format(name=name[:40]))

    def _user_error_reply(self, error: UserError, usage: str, translator: Translator) -> Reply:
        _ = translator.gettext
        lines = [error.message]
        if error.example:
            lines.append(_("Example: {example}").format(example=error.example))
        elif isinstance(error, UsageError) and usage:
            lines.append(_("Usage: {usage}").format(usage=_(usage)))
        return Reply("\n".join(lines))

    def _run(self, command: Command, args: str, incoming: Incoming) -> list[Reply]:
        hint = normalise_language(incoming.sender.language)
        with session_scope(self.engine) as session:
            member, identity = get_or_create_member(session, incoming.sender, hint)
            if incoming.chat.is_private and identity.private_chat_id != incoming.chat.chat_id:
                identity.private_chat_id = incoming.chat.chat_id
            language = member.language or self.settings.language
            translator = translator_for(language, self.settings.timezone)
            assert member.id is not None
            is_coordinator = member.is_coordinator or any(
                self.settings.is_coordinator(i.platform, i.user_id)  # type: ignore[arg-type]
                for i in identities_of(session, member.id)
            )
            ctx = Ctx(
                session=session,
                settings=self.settings,
                incoming=incoming,
                member=member,
                identity=identity,
                now=self.clock(),
                translator=translator,
                is_coordinator=is_coordinator,
                commands=self.commands,
                admin_check=self.admin_check,
            )
            if command.coordinator_only and not is_coordinator:
                raise NotAllowed(translator.gettext(NOT_COORDINATOR))
            result = command.func(ctx, args)
            replies = normalise_result(result)
            enqueued = enqueue(session, ctx.notices, ctx.now, preferred_platform=incoming.sender.platform.value)
            if enqueued.unreachable and replies and not incoming.chat.is_private:
                replies[-1] = self._with_private_start(replies[-1], session, enqueued.unreachable, translator)
        if enqueued.count and self.on_notices is not None:
            self.on_notices()
        return replies

    def _with_private_start(
        self, reply: Reply, session: Session, member_ids: list[int], translator: Translator
    ) -> Reply:
        """A bot can't write first to someone in private (Telegram): ask them, in the group, to open
        the private chat; their held messages are delivered when they do (/start)."""
        names = ", ".join(m.display_name for m in (session.get(Member, i) for i in member_ids) if m)
        note = translator.gettext(
            "{names}: I can't write to you privately yet. Open a private chat with me and send /start "
            "to get my messages."
        ).format(names=names)
        return replace(reply, text=f"{reply.text}\n\n{note}", private_start_payload="hello")


NOT_COORDINATOR = N_("Only a coordinator can do that.")


def normalise_result(result: Reply | Sequence[Reply] | None) -> list[Reply]:
    if result is None:
        return []
    if isinstance(result, Reply):
        return [result]
    return list(result)
