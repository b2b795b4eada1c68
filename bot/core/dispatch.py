"""Incoming message -> member -> command -> replies, with the error policy:
a user error is answered in the member's language; anything else is logged and gets an apology.
Nothing a failed command wrote is kept (one transaction per command)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import unicodedata
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.core import conversation
from bot.core.context import AdminCheck, Ctx
from bot.core.errors import NotAllowed, UsageError, UserError
from bot.core.i18n import N_, Translator, normalise_language, translator_for
from bot.core.images import drawn
from bot.core.outbox import enqueue
from bot.core.router import Command, CommandTable, nearest_command, split_command
from bot.core.types import Incoming, Reply, UserRef
from bot.metrics import observe_command_runs
from storage.conflicts import CONFLICT_RETRIES, is_retryable_conflict
from storage.db import in_read_only_scope, is_stale_read, session_scope
from storage.members import find_asker, get_or_create_asker
from storage.prepared import plain_savepoints

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4000
ONE_MINUTE = timedelta(minutes=1)


class CommandRate:
    """Commands per member and minute (a sliding window, in memory): one member's burst of hundreds of
    commands is answered with one short refusal each instead of holding the bot. Coordinators are exempt."""

    def __init__(self) -> None:
        self._recent: dict[tuple[str, str], deque[datetime]] = {}
        self._swept_at: datetime | None = None

    def allow(self, sender: UserRef, now: datetime, per_minute: int) -> bool:
        window = self._recent.setdefault((sender.platform.value, sender.user_id), deque())
        start = now - ONE_MINUTE
        while window and (window[0] <= start or window[0] > now):
            window.popleft()
        if len(window) >= per_minute:
            return False
        window.append(now)
        if self._swept_at is None or not start < self._swept_at <= now:
            # Once a minute, forget the members quiet for a minute: the windows kept are those of the last
            # minute's senders, not one per member ever seen (a process runs for months; issue 15).
            self._swept_at = now
            for key in [k for k, w in self._recent.items() if not w or w[-1] <= start]:
                del self._recent[key]
        return True


@dataclass(frozen=True)
class Read:
    """A message's text read once (``Dispatcher.read``): the cleaned text, the command and its arguments."""

    text: str = ""
    parsed: tuple[str, str] | None = None
    command: Command | None = None
    too_long: bool = False


ASKER_LANGUAGE = "tierslieu_asker_language"  # session.info: the asker's language, for an error's answer


@dataclass
class Handled:
    """What one message produced: the answers, and how many notices it queued in the outbox."""

    replies: list[Reply]
    notices: int = 0


def clean_text(text: str) -> str:
    """Drop control and format characters (keep newlines and tabs) and normalise Unicode."""
    text = unicodedata.normalize("NFC", text)
    if text.isprintable():  # no control or format character (the usual one-line command): nothing to drop
        return text
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
        self.command_rate = CommandRate()
        plain_savepoints(engine)  # every command of the inbox runs in a savepoint
        self._run = observe_command_runs(self._run)  # type: ignore[method-assign]  # /metrics: commands, latency

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Adapters call this. Database work runs in a thread so a waiting lock never blocks the loop."""
        return await asyncio.to_thread(self.handle_sync, incoming)

    def default_translator(self, incoming: Incoming) -> Translator:
        language = normalise_language(incoming.sender.language) or self.settings.language
        return translator_for(language, self.settings.timezone)

    def handle_sync(self, incoming: Incoming) -> list[Reply]:
        """One message, in its own transaction; the replies are returned (console, tests, the Matrix
        adapter until it uses the inbox). The inbox uses ``handle_in`` inside its own transaction."""
        read = self.read(incoming)
        read_only = read.command is not None and read.command.read_only
        for attempt in range(CONFLICT_RETRIES + 1):
            try:
                with session_scope(self.engine, read_only=read_only) as session:
                    outcome = self.handle_in(session, incoming, read, savepoint=False)
                break
            except Exception as error:
                if read_only and is_stale_read(error):
                    # A read-only command still wrote (a newcomer's member row, a changed display name) while
                    # another connection was writing: nothing was kept; run it again as a writer.
                    read_only = False
                elif not (is_retryable_conflict(error) and attempt < CONFLICT_RETRIES):
                    raise
                # else: a deadlock with another transaction (PostgreSQL): nothing was kept; run it again.
        if outcome.notices and self.on_notices is not None:
            self.on_notices()
        return [drawn(reply) for reply in outcome.replies]  # an image given as a recipe: drawn after the commit

    def read(self, incoming: Incoming) -> Read:
        """The message's text read once: cleaned, split into command and arguments, the command found."""
        if len(incoming.text) > MAX_MESSAGE_CHARS:
            return Read(too_long=True)
        text = clean_text(incoming.text)
        parsed = split_command(text)
        return Read(text=text, parsed=parsed, command=self.commands.find(parsed[0]) if parsed else None)

    def handle_in(self, session: Session, incoming: Incoming, read: Read | None = None, *,
                  savepoint: bool = True) -> Handled:
        """Run one message inside the caller's transaction. The command runs in a savepoint: on any
        error its writes are undone and the error answer is returned, and the caller's transaction
        (the inbox row's lock, the answers it writes) carries on. ``savepoint=False``: the transaction is
        the command's own (``handle_sync``): on an error it is rolled back whole, with no savepoint."""
        if read is None:
            read = self.read(incoming)
        if read.too_long:
            _ = self.default_translator(incoming).gettext
            return Handled([Reply(_("That message is too long for me ({count} characters). "
                                    "Please send one short command, e.g. /book salle-reunion tomorrow 14:00-16:00")
                                  .format(count=len(incoming.text)))])
        if read.parsed is None:  # plain words, a typed choice number, a question's button: the conversation
            try:
                with session.begin_nested():  # a failure keeps nothing and leaves the inbox's transaction usable
                    return conversation.hear(self, session, incoming, read.text)
            except Exception as error:
                if is_retryable_conflict(error):
                    raise  # a deadlock with another transaction: the whole unit is run again (see below)
                log.exception("reading a sentence failed in chat %s", incoming.chat.chat_id)
                _ = self.default_translator(incoming).gettext
                return Handled([Reply(_("Sorry, something went wrong on my side. "
                                        "Nothing was changed; please try again in a moment."))])
        name, args = read.parsed
        command = read.command
        if command is None:
            return Handled([self._unknown_command(name, self._chosen_translator(session, incoming))])
        nested = session.begin_nested() if savepoint else None
        try:
            replies, notices = self._run(session, command, args, incoming)
            if nested is not None:
                nested.commit()
            return Handled(replies, notices)
        except UserError as error:
            if nested is not None:
                nested.rollback()
            else:
                session.rollback()
            translator = self._member_translator(session, incoming)
            return Handled([self._user_error_reply(error, command.usage, translator)])
        except Exception as error:
            with contextlib.suppress(Exception):  # already rolled back when the flush itself failed
                if nested is not None:
                    nested.rollback()
                else:
                    session.rollback()
            if in_read_only_scope() and is_stale_read(error):
                raise  # handle_sync runs it again with the write lock
            if is_retryable_conflict(error):
                # A deadlock with another transaction: the caller's whole unit is run again (handle_sync, or
                # the inbox, whose row stays pending), rather than answering "something went wrong".
                log.warning("command /%s met another transaction (%s); run again", command.name,
                            type(error).__name__)
                raise
            log.exception(
                "command /%s failed for %s:%s in chat %s (args %r)",
                command.name, incoming.sender.platform, incoming.sender.user_id, incoming.chat.chat_id, args[:200],
            )
            return Handled([Reply(self.default_translator(incoming).gettext(
                "Sorry, something went wrong on my side. Nothing was changed; please try again in a moment."))])

    def _chosen_translator(self, session: Session, incoming: Incoming) -> Translator:
        """The language the member chose with /language, when they did (a command they mistyped is answered
        as their commands are); else the sender's app language or the place's. One query, no write."""
        chat = incoming.chat
        asker = find_asker(session, incoming.sender.platform.value, incoming.sender.user_id, chat.platform.value,
                           chat.chat_id)
        if asker is not None and asker.language_chosen and asker.language:
            return translator_for(asker.language, self.settings.timezone)
        return self.default_translator(incoming)

    def _member_translator(self, session: Session, incoming: Incoming) -> Translator:
        """The member's language as it was before the command (``_run`` noted it: nothing to read again)."""
        language = session.info.pop(ASKER_LANGUAGE, None)
        if language:
            return translator_for(language, self.settings.timezone)
        return self.default_translator(incoming)

    def _unknown_command(self, name: str, translator: Translator) -> Reply:
        _ = translator.gettext
        close = nearest_command(name, self.commands.names())
        if close:
            return Reply(_("I don't know /{name}. Did you mean /{suggestion}? Type /help for the list.")
                         .format(name=name[:40], suggestion=close))
        return Reply(_("I don't know /{name}. Type /help for the list of commands.").format(name=name[:40]))

    def _user_error_reply(self, error: UserError, usage: str, translator: Translator) -> Reply:
        _ = translator.gettext
        lines = [error.message]
        if error.example:
            lines.append(_("Example: {example}").format(example=error.example))
        elif isinstance(error, UsageError) and usage:
            lines.append(_("Usage: {usage}").format(usage=_(usage)))
        return Reply("\n".join(lines), actions=error.actions)

    def _run(self, session: Session, command: Command, args: str, incoming: Incoming) -> tuple[list[Reply], int]:
        hint = normalise_language(incoming.sender.language)
        chat = incoming.chat
        asker = get_or_create_asker(session, incoming.sender, chat.platform.value, chat.chat_id, hint,
                                    private_chat_id=chat.chat_id if chat.is_private else None)
        session.info[ASKER_LANGUAGE] = None if asker.created else asker.language  # for an error's answer
        language = asker.language or self.settings.language
        translator = translator_for(language, self.settings.timezone)
        is_coordinator = asker.is_coordinator or any(
            self.settings.is_coordinator(a.platform, a.user_id)  # type: ignore[arg-type]
            for a in asker.accounts
        )
        now = self.clock()
        ctx = Ctx(
            session=session,
            settings=self.settings,
            incoming=incoming,
            member_id=asker.member_id,
            identity_id=asker.account.id,
            now=now,
            translator=translator,
            is_coordinator=is_coordinator,
            commands=self.commands,
            admin_check=self.admin_check,
        )
        if command.coordinator_only and not is_coordinator:
            raise NotAllowed(translator.gettext(NOT_COORDINATOR))
        limit = self.settings.commands_per_minute
        if not is_coordinator and not self.command_rate.allow(incoming.sender, now, limit):
            raise UserError(translator.gettext(
                "You are sending commands faster than I can take them (more than {count} a minute). "
                "Please wait a minute, then send one command at a time.").format(count=limit))
        result = command.func(ctx, args)
        replies = normalise_result(result)
        for hook in self.commands.reply_hooks:
            replies = hook(ctx, command, replies)
        conversation.remember_offered(session, self.commands, incoming, asker.member_id, replies, now,
                                      state=asker.state)
        enqueued = enqueue(session, ctx.notices, now, preferred_platform=incoming.sender.platform.value)
        if enqueued.unreachable and replies and not chat.is_private:
            replies = self._with_private_start(replies, incoming, asker.member_id, enqueued.unreachable, translator,
                                               ctx.chat_translator())
        return replies, enqueued.count

    def _with_private_start(
        self, replies: list[Reply], incoming: Incoming, asker: int, member_ids: list[int], translator: Translator,
        group_translator: Translator,
    ) -> list[Reply]:
        """A bot can't write first to someone in private (Telegram): ask, in the group, whoever has a message
        waiting to open the private chat (held messages are delivered when they do, /start). Naming nobody:
        the asker in their own answer, the others in a separate note in the group's language, never inside a
        shared message (an event card)."""
        replies = list(replies)
        others = list(member_ids)
        last = replies[-1]
        if asker in member_ids and not last.edit_original:
            note = translator.gettext("I can't write to you privately yet. Open a private chat with me and send "
                                      "/start to get my messages.")
            replies[-1] = replace(last, text=f"{last.text}\n\n{note}", private_start_payload="hello")
            others.remove(asker)
        if others:
            note = group_translator.gettext(
                "I have a message for someone here who hasn't opened a private chat with me yet. If that may be "
                "you, open one and send /start to get it.")
            # Placed as an answer to the pressed message: shared with the group, not the presser's pop-up.
            replies.append(Reply(note, private_start_payload="hello",
                                 reply_to=incoming.message_id if incoming.is_action else None))
        return replies


NOT_COORDINATOR = N_("Only a coordinator can do that.")


def normalise_result(result: Reply | Sequence[Reply] | None) -> list[Reply]:
    if result is None:
        return []
    if isinstance(result, Reply):
        return [result]
    return list(result)
