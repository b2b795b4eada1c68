"""Telegram through python-telegram-bot's Bot (HTTP calls only): updates -> Incoming, Reply -> HTML + keyboard.

Updates are fetched here with getUpdates, stored in the inbox, and only then acknowledged (the next
getUpdates carries the new offset): PTB's Updater acknowledges updates as soon as it fetches them, so a
kill lost every update fetched and not yet handled. In webhook mode an update is stored before the 200.
Answers come back through the outbox (``send``), placed by Reply.reply_to / edit_message_id. A pressed
button is answered (answerCallbackQuery, no text) as soon as the press is stored, not after the command:
the button stops spinning at once and the result arrives as the edited message or a new one.
Limits, retries, chat migrations and blocked chats are handled here, because PTB's AIORateLimiter loses
messages (see FIELD-NOTES).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import re
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import Engine
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    PollAnswer,
    ReplyParameters,
    Update,
    User,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.adapters.base import DeliveryError, InboxSink
from bot.adapters.telegram_http import NOT_SENT_CAUSES, AiohttpRequest
from bot.adapters.telegram_limits import SendLimiter
from bot.adapters.telegram_render import MAX_CAPTION_UNITS, deep_link, render_html_chunks, utf16_units
from bot.adapters.telegram_state import TelegramChatState
from bot.config import ConfigError, Settings
from bot.core.i18n import normalise_language, translator_for
from bot.core.router import CommandTable
from bot.core.types import ChatRef, Incoming, Platform, PollSpec, Reply, UserRef
from bot.web import WebServer

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member", "poll_answer")
POLL_RECORD_WAITS = 15  # x 0.2 s: how long an answer to a poll just sent waits for the poll's id to be recorded
POLL_TIMEOUT_S = 10
POLL_LIMIT = 100
STORE_RETRY_S = 1.0
POLL_GATE_WAIT_S = 1.0
CONNECTION_POOL = 32
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"
PHOTO_IDS_KEPT = 64  # file_ids remembered (one per image; a weekly digest has one chart per language)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")
# "/book@TiersLieuBot args" -> prefix, name, addressee, rest
ADDRESSED_COMMAND_RE = re.compile(r"^([/!])([^\s@]+)(?:@(\S*))?(.*)$", re.DOTALL)

MAX_RATE_LIMIT_RETRIES = 3
MAX_NETWORK_RETRIES = 4
OUTBOX_MAX_WAIT_S = 5.0
# A button pressed in a group waits this long for its personal answer (shown as the press's pop-up), then
# stops spinning with no text; a personal answer later than that goes privately, never to the group.
POPUP_WAIT_S = 3.0
MAX_POPUP_CHARS = 200

EXPIRED_BUTTON = "This button has expired. Type the command again, or /help."
OPEN_PRIVATE_CHAT = "Open a private chat with me"

Step = Callable[[int | str], Awaitable[object]]


def network_backoff(attempt: int) -> float:
    return min(0.5 * 2 ** (attempt - 1), 4.0)


def retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns about the int form; we accept both
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def surely_not_sent(error: NetworkError) -> bool:
    """True when the request cannot have reached Telegram, so sending again cannot duplicate it.

    A refused or timed-out connection, a full pool, or an error answer (5xx) are safe to retry; a
    connection lost or a read timeout after the request went out may have delivered the message.
    """
    cause = error.__cause__
    if isinstance(cause, NOT_SENT_CAUSES):
        return True
    if isinstance(error, TimedOut):
        return False
    return cause is None or isinstance(cause, TelegramError)


def derived_webhook_secret(token: str) -> str:
    """Without TELEGRAM_WEBHOOK_SECRET: a secret derived from the bot's token, so that every process of the
    bot (several behind a proxy, on one database) checks the same one; a random one per process would be
    replaced by the next process's setWebhook, and the first would refuse every update. Only the token's
    holder can compute it."""
    digest = hmac.new(token.encode(), b"tierslieu-bot telegram webhook secret", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def target_id(chat_id: str) -> int | str:
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


def is_group_id(chat_id: str) -> bool:
    """Telegram private chats have the user's (positive) id; groups and channels are negative."""
    return chat_id.strip().startswith("-")


def user_ref(user: User) -> UserRef:
    # An account may have a blank first name (spaces, invisible characters): then its @username or id.
    name = user.full_name.strip() or (f"@{user.username}" if user.username else f"#{user.id}")
    return UserRef(Platform.TELEGRAM, str(user.id), name, user.language_code, username=user.username or None)


class TelegramAdapter:
    platform = Platform.TELEGRAM
    uses_inbox = True

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        commands: CommandTable,
        *,
        web: WebServer | None = None,
        limiter: SendLimiter | None = None,
    ) -> None:
        if not settings.telegram_bot_token:
            raise ConfigError("TELEGRAM_BOT_TOKEN: missing")
        self.settings = settings
        self.engine = engine
        self.commands = commands
        self.limiter = limiter or SendLimiter()
        self.webhook_url = settings.telegram_webhook_url
        self.webhook_secret = settings.telegram_webhook_secret or derived_webhook_secret(settings.telegram_bot_token)
        if not SECRET_RE.match(self.webhook_secret):
            raise ConfigError("TELEGRAM_WEBHOOK_SECRET: use 1-256 characters among A-Z, a-z, 0-9, _ and -")
        self.webhook_path = urlsplit(self.webhook_url).path if self.webhook_url else ""
        self.webhook_path = self.webhook_path or DEFAULT_WEBHOOK_PATH
        if self.webhook_url:
            if web is None:
                raise ConfigError("TELEGRAM_WEBHOOK_URL: webhook mode needs the bot's HTTP server")
            web.add_routes(self.register_webhook_route)
        self.bot = self._build_bot(settings.telegram_bot_token)
        self.username = ""
        self._sink: InboxSink | None = None
        self._initialized = False
        self._running = False  # sends allowed
        self._receiving = False  # updates taken
        self._offset: int | None = None
        self._poller: asyncio.Task[None] | None = None
        self._long_polling = False
        self._side_tasks: set[asyncio.Task[Any]] = set()
        # Group button presses not answered yet (callback query id -> its time-out), see POPUP_WAIT_S.
        self._unanswered: dict[str, asyncio.TimerHandle] = {}
        self._titles: dict[str, str] = {}  # group titles recorded for reports (see _remember_title)
        # Images uploaded once (sha256 -> Telegram's file_id): a digest to 1,000 chats uploads its chart once.
        self._photo_ids: dict[str, str] = {}
        self._uploads: dict[str, asyncio.Lock] = {}  # an image being uploaded: the other chats wait for its id
        self.state = TelegramChatState(engine)
        # Telegram allows one getUpdates caller per bot: with several processes on one database, only the
        # one this says yes to (the App sets it: the scheduler-lock holder) polls. None: always poll.
        self.poll_gate: Callable[[], bool] | None = None

    def _build_bot(self, token: str) -> Bot:
        api_url = self.settings.telegram_api_url or "https://api.telegram.org"
        # aiohttp rather than python-telegram-bot's httpx (bot/adapters/telegram_http.py: ~4 MiB less RSS).
        return Bot(
            token,
            base_url=f"{api_url}/bot",
            base_file_url=f"{api_url}/file/bot",
            request=AiohttpRequest(CONNECTION_POOL),
            get_updates_request=AiohttpRequest(1, read_timeout=POLL_TIMEOUT_S + 10),
        )

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, sink: InboxSink) -> None:
        from bot.app import StartupError

        self._sink = sink
        where = self.settings.telegram_api_url or "https://api.telegram.org"
        try:
            await self.bot.initialize()  # getMe: checks the token
        except InvalidToken:
            await self.bot.shutdown()
            raise StartupError(
                f"TELEGRAM_BOT_TOKEN: the Bot API at {where} refused this token; "
                "copy it again from @BotFather (/mybots > API Token)"
            ) from None
        except TelegramError as error:
            await self.bot.shutdown()
            raise StartupError(
                f"TELEGRAM_API_URL: cannot reach the Bot API at {where} ({self._redacted(error)})"
            ) from None
        except Exception as error:  # an answer that isn't the Bot API's (a proxy's page, a malformed getMe)
            with contextlib.suppress(Exception):
                await self.bot.shutdown()
            raise StartupError(
                f"TELEGRAM_API_URL: {where} did not answer getMe like the Bot API ({type(error).__name__})"
            ) from None
        self._initialized = True
        self.username = self.bot.username
        await self.state.preload()
        await self._register_command_menu()
        allowed = list(ALLOWED_UPDATES)
        self._running = self._receiving = True
        if self.webhook_url:
            try:
                await self.bot.set_webhook(
                    url=self.webhook_url, secret_token=self.webhook_secret, allowed_updates=allowed
                )
            except TelegramError as error:
                raise StartupError(
                    f"TELEGRAM_WEBHOOK_URL: Telegram refused the webhook ({self._redacted(error)})"
                ) from None
            log.info("Telegram @%s: webhook %s", self.username, self.webhook_url)
        else:
            try:
                await self.bot.delete_webhook()
            except TelegramError as error:
                raise StartupError(
                    f"TELEGRAM_BOT_TOKEN: could not start polling ({self._redacted(error)})"
                ) from None
            self._poller = asyncio.create_task(self._poll(), name="telegram-poll")
            log.info("Telegram @%s: long polling", self.username)

    def _redacted(self, error: Exception) -> str:
        token = self.settings.telegram_bot_token or ""
        return str(error).replace(token, "<token>") if token else str(error)

    async def stop_receiving(self) -> None:
        """Stop taking updates (sending still works, for the last flush). A batch being stored is
        finished and acknowledged; a long poll in progress is abandoned (what it would have returned is
        fetched again by the next start); the webhook answers 503 (Telegram sends it again later)."""
        self._receiving = False
        if self._poller is not None:
            if self._long_polling:
                self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._poller, 5.0)
            self._poller = None
            if self._offset is not None and self._initialized:
                with contextlib.suppress(Exception):  # tell Telegram how far we stored
                    await asyncio.wait_for(self.bot.get_updates(offset=self._offset, limit=1, timeout=0), 2.0)

    async def stop(self) -> None:
        await self.stop_receiving()
        self._running = False
        for task in list(self._side_tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 2.0)
        if self._initialized:
            self._initialized = False
            await self.bot.shutdown()

    async def _register_command_menu(self) -> None:
        """The "/" menu in French and in English; Telegram picks by the user's app language."""
        visible = [
            c for c in self.commands.commands
            if not c.hidden and not c.coordinator_only and COMMAND_NAME_RE.match(c.name)
        ][:100]
        menus: list[tuple[str | None, str]] = [("fr", "fr"), ("en", "en"), (None, self.settings.language)]
        for language_code, language in menus:
            _ = translator_for(language, self.settings.timezone).gettext
            menu = [BotCommand(c.name, (_(c.help) if c.help else c.name)[:256]) for c in visible]
            try:
                await self.bot.set_my_commands(menu, language_code=language_code)
            except TelegramError as error:
                log.warning("setMyCommands (%s) failed: %s", language_code or "default", error)

    # -- incoming ----------------------------------------------------------------------------

    async def _poll(self) -> None:
        """getUpdates, store, and only then move the offset (which acknowledges them to Telegram)."""
        failures = 0
        while self._receiving:
            if self.poll_gate is not None and not await asyncio.to_thread(self.poll_gate):
                await asyncio.sleep(POLL_GATE_WAIT_S)  # another process polls
                continue
            try:
                self._long_polling = True
                updates = await self.bot.get_updates(
                    offset=self._offset, timeout=POLL_TIMEOUT_S, limit=POLL_LIMIT,
                    allowed_updates=list(ALLOWED_UPDATES),
                )
            except TimedOut:
                continue
            except (InvalidToken, Forbidden) as error:
                failures += 1
                log.error("Telegram refused getUpdates (%s); trying again", self._redacted(error))
                await asyncio.sleep(min(60.0, 2.0 ** failures))
                continue
            except TelegramError as error:
                failures += 1
                log.warning("Telegram getUpdates failed (%s); trying again", self._redacted(error))
                await asyncio.sleep(min(30.0, 0.5 * 2 ** failures))
                continue
            finally:
                self._long_polling = False
            failures = 0
            if not updates:
                continue
            if await self._store(updates):
                self._offset = updates[-1].update_id + 1

    async def _store(self, updates: Sequence[Update], *, retry: bool = True) -> bool:
        """Store the updates' messages in the inbox (retried while the database fails, until stopped,
        when ``retry``); True once stored. Button presses are answered once their press is stored."""
        incoming: list[Incoming] = []
        answers: list[tuple[str, str | None]] = []
        for update in updates:
            try:
                converted = await self._convert(update, answers)
            except Exception:
                log.exception("Telegram update %s could not be read; skipped", update.update_id)
                continue
            if converted is not None:
                incoming.append(converted)
        assert self._sink is not None
        while True:
            try:
                await self._sink(incoming)
                break
            except Exception:
                log.exception("storing %s Telegram updates failed", len(incoming))
                if not self._receiving or not retry:
                    return False
                await asyncio.sleep(STORE_RETRY_S)
        for query_id, text in answers:
            if text is None and query_id in self._unanswered:
                continue  # a group press: its personal answer (or the time-out) answers it
            self._spawn(self._answer_query(query_id, text))
        return True

    def _await_personal_answer(self, query_id: str) -> None:
        def time_out() -> None:
            if self._unanswered.pop(query_id, None) is not None:
                self._spawn(self._answer_query(query_id, None))

        self._unanswered[query_id] = asyncio.get_running_loop().call_later(POPUP_WAIT_S, time_out)

    def _spawn(self, coroutine: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    async def _answer_query(self, query_id: str, text: str | None) -> None:
        try:
            await self.bot.answer_callback_query(query_id, text=text)
        except TelegramError as error:
            log.info("answerCallbackQuery failed: %s", error)

    async def _convert(self, update: Update, answers: list[tuple[str, str | None]]) -> Incoming | None:
        """The update as the core should see it, or None (nothing for the core; state noted here)."""
        update_id = str(update.update_id)
        if update.callback_query is not None:
            query = update.callback_query
            command = await self.state.command_for(query.data)
            message = query.message
            if command is None or message is None:
                language = self._language(query.from_user.language_code)
                answers.append((query.id, translator_for(language, self.settings.timezone).gettext(EXPIRED_BUTTON)))
                return None
            answers.append((query.id, None))
            is_private = message.chat.type == ChatType.PRIVATE
            if not is_private:
                self._await_personal_answer(query.id)
            return Incoming(
                chat=ChatRef(Platform.TELEGRAM, str(message.chat.id), is_private),
                sender=user_ref(query.from_user),
                text=command,
                message_id=str(message.message_id),
                is_action=True,
                update_id=update_id,
                action_id=None if is_private else query.id,
            )
        if update.my_chat_member is not None:
            member = update.my_chat_member
            gone = member.new_chat_member.status in ("kicked", "left")
            await self.state.set_blocked(str(member.chat.id), gone)
            return None
        if update.message is not None:
            return await self._convert_message(update.message, update_id)
        if update.poll_answer is not None:
            return await self._convert_poll_answer(update.poll_answer, update_id)
        return None  # edited messages, channel posts and the rest: nothing to do

    async def _convert_poll_answer(self, answer: PollAnswer, update_id: str) -> Incoming | None:
        """An answer to one of our native polls is the member's /vote, pressed in the chat where the poll
        is (so the confirmation is theirs alone, never the group's); no option is a withdrawn vote."""
        found = await self.state.poll_for(answer.poll_id)
        for _ in range(POLL_RECORD_WAITS):
            if found is not None:
                break
            # Telegram only sends answers to the bot's own polls: one answered the instant it was sent may
            # arrive before the send that posted it has recorded its id. Wait for that rather than lose a vote.
            await asyncio.sleep(0.2)
            found = await self.state.poll_for(answer.poll_id)
        if found is None or answer.user is None:
            return None  # a poll we don't know, or an answer on behalf of a chat
        number, chat_id, message_id = found
        choices = " ".join(str(i + 1) for i in answer.option_ids) or "withdraw"
        return Incoming(
            chat=ChatRef(Platform.TELEGRAM, chat_id, not is_group_id(chat_id)),
            sender=user_ref(answer.user),
            text=f"/vote {number} {choices}",
            message_id=message_id,
            is_action=True,
            update_id=update_id,
        )

    def _incoming_text(self, text: str) -> tuple[str, bool] | None:
        """The command as the core should read it and whether it is a command, or None when it is a
        command for another bot."""
        match = ADDRESSED_COMMAND_RE.match(text.lstrip())
        if match is None:
            return text, False
        prefix, name, addressee, rest = match.groups()
        if addressee is not None and addressee.casefold() != self.username.casefold():
            return None
        return f"{prefix}{name}{rest}", True

    def _names_bot(self, message: Message) -> bool:
        """The message names the bot: an @username (entity or plain text) or a text mention of it."""
        for entity, value in message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION]).items():
            if entity.type == MessageEntity.TEXT_MENTION and entity.user is not None:
                if entity.user.id == self.bot.id:
                    return True
            elif value.casefold() == f"@{self.username}".casefold():
                return True
        return bool(self.username) and re.search(
            rf"(?<![\w@])@{re.escape(self.username)}\b", message.text or "", re.IGNORECASE) is not None

    def _without_bot_name(self, text: str) -> str:
        if not self.username:
            return text
        stripped = re.sub(rf"(?<![\w@])@{re.escape(self.username)}\b[,:]?", " ", text, flags=re.IGNORECASE)
        return re.sub(r"[ \t]{2,}", " ", stripped).strip()

    async def _convert_message(self, message: Message, update_id: str) -> Incoming | None:
        chat_id = str(message.chat.id)
        if message.migrate_to_chat_id:
            await self.state.remember_migration(chat_id, str(message.migrate_to_chat_id))
            return None
        user = message.from_user
        body = message.text or message.caption  # a command may come as a photo's caption
        if not body or user is None or user.is_bot:
            return None  # stickers, photos without caption, service messages, other bots
        if message.forward_origin is not None:
            return None  # a forwarded command is someone else's words: not run as the forwarder
        is_private = message.chat.type == ChatType.PRIVATE
        if not is_private:
            await self._remember_title(chat_id, message.chat.title)
        read = self._incoming_text(body)
        if read is None:
            return None
        text, is_command = read
        original = message.reply_to_message
        replies_to_bot = bool(original and original.from_user and original.from_user.id == self.bot.id)
        mentions_bot = self._names_bot(message)
        if not is_private and not is_command:
            if not (mentions_bot or replies_to_bot):
                return None  # group chatter not addressed to the bot
            text = self._without_bot_name(text)
        if not self.state.known_reachable(chat_id):
            await self.state.set_blocked(chat_id, False)  # they write to us, so we can write to them
        return Incoming(
            chat=ChatRef(Platform.TELEGRAM, chat_id, is_private),
            sender=user_ref(user),
            text=text,
            message_id=str(message.message_id),
            reply_to_id=str(original.message_id) if original is not None else None,
            update_id=update_id,
            thread_id=str(message.message_thread_id) if message.is_topic_message and message.message_thread_id
            else None,
            mentions_bot=mentions_bot,
            replies_to_bot=replies_to_bot,
            mentions=self._people_named(message),
        )

    def _people_named(self, message: Message) -> tuple[UserRef, ...]:
        """Members the message names by a text mention (a name picked from Telegram's list, which carries
        the account): coordinators' commands then find them whatever their display names. A typed
        @username is found by its handle in storage (members.lookup_member)."""
        named: list[UserRef] = []
        found = {**message.parse_entities([MessageEntity.TEXT_MENTION]),
                 **message.parse_caption_entities([MessageEntity.TEXT_MENTION])}
        for entity, shown in found.items():
            if entity.user is not None and entity.user.id != self.bot.id and not entity.user.is_bot:
                # Named as the words read in the message ("Alice"), which the command's text carries.
                named.append(replace(user_ref(entity.user), display_name=shown))
        return tuple(named)

    async def _remember_title(self, chat_id: str, title: str | None) -> None:
        """A group's name as its members see it, for reports (storage.announcements.chat_title), written
        when first seen or changed."""
        if not title or self._titles.get(chat_id) == title:
            return
        from storage.adapter_state import set_state
        from storage.announcements import chat_title_key

        try:
            await asyncio.to_thread(set_state, self.engine, chat_title_key(Platform.TELEGRAM.value, chat_id),
                                    title[:255])
            self._titles[chat_id] = title
        except Exception:
            log.exception("could not record the title of chat %s", chat_id)

    def _language(self, language_code: str | None) -> str:
        return normalise_language(language_code) or self.settings.language

    async def is_chat_admin(self, chat_id: str, user_id: str) -> bool:
        """The group's owner and administrators, as getChatMember says (asked each time: Telegram
        sends no update when someone is promoted, so a cached answer would go stale)."""
        member = await self.bot.get_chat_member(target_id(chat_id), int(user_id))
        return member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)

    # -- webhook -----------------------------------------------------------------------------

    def register_webhook_route(self, app: web.Application) -> None:
        app.router.add_post(self.webhook_path, self._on_webhook)

    async def _on_webhook(self, request: web.Request) -> web.Response:
        """Stored, then 200: an update Telegram hears 200 for is in the inbox."""
        supplied = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(supplied.encode(), self.webhook_secret.encode()):
            return web.Response(status=403, text="forbidden")
        if not self._receiving:
            return web.Response(status=503, text="not receiving")  # Telegram tries again later
        try:
            update = Update.de_json(await request.json(), self.bot)
        except Exception:
            return web.Response(status=400, text="not an update")
        if not await self._store([update], retry=False):
            return web.Response(status=500, text="not stored")  # Telegram sends it again
        return web.Response(text="ok")

    # -- outgoing ----------------------------------------------------------------------------

    async def until_ready(self, chat_id: str) -> None:
        """Wait until the chat's limits (1 a second, 20 a minute in a group) would let a message go; the
        outbox calls it before it claims the message, so a kill meanwhile leaves it pending, not in doubt."""
        target = await self.state.resolve(chat_id)
        delay = self.limiter.earliest(target, is_group=is_group_id(target)) - self.limiter.clock()
        if delay > 0:
            await asyncio.sleep(delay)

    async def send(self, chat_id: str, reply: Reply, *, key: str | None = None) -> None:
        """Outbox delivery. Parts already sent of a split message are not sent again on retry."""
        if not self._running:
            raise DeliveryError("the Telegram adapter is not running")
        if reply.personal and reply.for_user and is_group_id(chat_id):
            await self._send_personal(reply, reply.for_user)
            return
        target = await self.state.resolve(chat_id)
        if await self.state.is_blocked(target):
            raise DeliveryError("this chat blocked the bot or removed it", permanent=True)
        sent = [0, 0]  # parts sent before this attempt (read only for a message of several), parts sent now
        try:
            shown = await self._send_reply(chat_id, reply, self.settings.language, max_wait=OUTBOX_MAX_WAIT_S,
                                           progress_key=key, sent=sent)
            if reply.remember_as and isinstance(shown, Message):
                from storage.adapter_state import set_state

                await asyncio.to_thread(set_state, self.engine, reply.remember_as, str(shown.message_id))
            pending = self._unanswered.pop(reply.action_id, None) if reply.action_id else None
            if pending is not None:  # the press changed the shared message: the button stops spinning now
                pending.cancel()
                self._spawn(self._answer_query(reply.action_id or "", None))
        except DeliveryError:
            if key and sent[1] > sent[0]:  # the next attempt resumes after these parts
                await self.state.record_parts_sent(key, sent[1])
            raise

    async def _send_personal(self, reply: Reply, user_id: str) -> None:
        """An answer for one member of a group (Reply.personal): the pop-up of the button they pressed while
        it still waits; else their private chat (a Telegram user's private chat has their id), or nowhere
        if they never opened one: never the group."""
        pending = self._unanswered.pop(reply.action_id, None) if reply.action_id else None
        text = reply.text if not reply.title else f"{reply.title}\n{reply.text}"
        if pending is not None:
            pending.cancel()
            assert reply.action_id is not None
            shown = text if len(text) <= MAX_POPUP_CHARS else text[: MAX_POPUP_CHARS - 1] + "…"
            try:
                await self.bot.answer_callback_query(reply.action_id, text=shown, show_alert=len(shown) > 60)
                return
            except TelegramError as error:
                log.info("answerCallbackQuery failed (%s); the answer goes privately", error)
        personal = replace(reply, personal=False, for_user=None, action_id=None, reply_to=None,
                           edit_message_id=None, thread_id=None)
        try:
            await self._send_reply(user_id, personal, self.settings.language, max_wait=OUTBOX_MAX_WAIT_S)
        except DeliveryError as error:
            log.info("a personal answer could not be sent privately (%s); not shown in the group", error)

    async def _send_reply(
        self, chat_id: str, reply: Reply, language: str, *, max_wait: float, progress_key: str | None = None,
        sent: list[int] | None = None,
    ) -> object:
        """Show ``reply``; returns what the API answered to its first step (the sent Message, if any).
        ``progress_key``: a message of several parts starts after those an earlier attempt sent (recorded
        under that key; a message of one step has no progress to read). ``sent``: [parts sent before,
        parts sent now]."""
        first: object = None
        native = reply.poll if reply.edit_message_id is None else None
        if native is not None and not native.public and is_group_id(chat_id):
            native = None  # a non-anonymous poll shows each voter's choice to the whole group: buttons instead
        opening = native if native is not None and not native.closed else None
        steps = self._plan(reply, None if opening else await self._keyboard(reply, language))
        if opening is not None:  # the platform's own poll replaces the buttons
            steps.append(self._poll_step(opening))
        elif native is not None:  # the result: the poll shown in this chat stops taking answers
            steps.append(self._stop_poll_step(native))
        skip = await self.state.parts_sent(progress_key) if progress_key and len(steps) > 1 else 0
        if sent is not None:
            sent[0] = sent[1] = skip
        for index, step in enumerate(steps):
            if index < skip:
                continue
            answered = await self._call(chat_id, step, max_wait=max_wait)
            if index == 0:
                first = answered
            if sent is not None:
                sent[1] = index + 1
        return first

    def _plan(self, reply: Reply, markup: InlineKeyboardMarkup | None) -> list[Step]:
        """The API calls that show ``reply``: one per message, the keyboard on the last one. A reply
        with ``edit_message_id`` replaces that message (the one whose button was pressed) when it fits
        in one text message; ``reply_to`` quotes the message answered (sent anyway if it is gone)."""
        bot = self.bot
        chunks = render_html_chunks(reply)
        if not chunks and markup is not None:
            chunks = ["\u2026"]
        reply_to = int(reply.reply_to) if reply.reply_to and reply.reply_to.isdigit() else None
        quote = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        topic = int(reply.thread_id) if reply.thread_id and reply.thread_id.isdigit() else None  # forum topic
        html = ParseMode.HTML

        if reply.image is not None:
            image = reply.image
            caption = chunks[0] if len(chunks) == 1 and utf16_units(chunks[0]) <= MAX_CAPTION_UNITS else None
            rest = [] if caption is not None else chunks
            digest = hashlib.sha256(image).hexdigest()
            photo_ids, uploads = self._photo_ids, self._uploads

            async def upload(chat: int | str, file: bytes | str) -> Message:
                return await bot.send_photo(
                    chat, file, caption=caption, parse_mode=html if caption else None,
                    reply_markup=markup if not rest else None, reply_parameters=quote,
                    filename=reply.image_name, message_thread_id=topic,
                )

            async def first_upload(chat: int | str) -> Message:
                lock = uploads.setdefault(digest, asyncio.Lock())
                try:
                    async with lock:
                        known = photo_ids.get(digest)
                        if known is not None:  # uploaded meanwhile for another chat
                            return await upload(chat, known)
                        sent = await upload(chat, image)
                        if sent.photo:
                            while len(photo_ids) >= PHOTO_IDS_KEPT:
                                photo_ids.pop(next(iter(photo_ids)))
                            photo_ids[digest] = sent.photo[-1].file_id
                        return sent
                finally:
                    if not lock.locked() and uploads.get(digest) is lock:
                        del uploads[digest]

            async def photo(chat: int | str) -> object:
                try:
                    known = photo_ids.get(digest)
                    if known is not None:  # sent before: Telegram's file_id, not the bytes again
                        try:
                            return await upload(chat, known)
                        except BadRequest as error:
                            log.info("file_id refused (%s); uploading the image again", error.message)
                            photo_ids.pop(digest, None)
                    return await first_upload(chat)
                except BadRequest as error:  # an image Telegram refuses: its text still goes
                    log.info("sendPhoto refused (%s); sending the text alone", error.message)
                    if caption is None:
                        return None  # the text follows in its own messages
                    return await bot.send_message(chat, caption, parse_mode=html, reply_markup=markup,
                                                  reply_parameters=quote, message_thread_id=topic)

            return [photo, *self._text_steps(rest, markup, None, topic)]

        edit_id = reply.edit_message_id
        if edit_id and edit_id.isdigit() and len(chunks) == 1:
            text = chunks[0]
            message_id = int(edit_id)

            async def edit_text(chat: int | str) -> object:
                try:
                    return await bot.edit_message_text(
                        text, chat_id=chat, message_id=message_id, parse_mode=html, reply_markup=markup
                    )
                except BadRequest as error:
                    if "not modified" in error.message.lower():
                        return None  # pressing twice: same text, nothing to change
                    # A photo, a message too old or gone: say it in a new message instead.
                    log.info("editMessageText refused (%s); sending a new message", error.message)
                    return await bot.send_message(chat, text, parse_mode=html, reply_markup=markup,
                                                  message_thread_id=topic)

            return [edit_text]
        return self._text_steps(chunks, markup, quote, topic)

    def _poll_step(self, poll: PollSpec) -> Step:
        async def send_poll(chat: int | str) -> object:
            message = await self.bot.send_poll(chat, poll.question, list(poll.options), is_anonymous=False,
                                               allows_multiple_answers=poll.multiple)
            if message.poll is not None:
                await self.state.remember_poll(message.poll.id, poll.number, str(message.chat.id),
                                               str(message.message_id))
            return message

        return send_poll

    def _stop_poll_step(self, poll: PollSpec) -> Step:
        async def stop_poll(chat: int | str) -> object:
            message_id = await self.state.poll_message(poll.number, str(chat))
            if message_id is None or not message_id.isdigit():
                return None  # no native poll of ours in this chat
            try:
                return await self.bot.stop_poll(chat, int(message_id))
            except BadRequest as error:  # already stopped, or deleted by an admin
                log.info("stopPoll refused (%s)", error.message)
                return None

        return stop_poll

    def _text_steps(
        self, chunks: Sequence[str], markup: InlineKeyboardMarkup | None, quote: ReplyParameters | None,
        topic: int | None = None,
    ) -> list[Step]:
        bot = self.bot
        steps: list[Step] = []
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1

            async def text(
                chat: int | str, chunk: str = chunk, last: bool = last, first: bool = index == 0
            ) -> object:
                return await bot.send_message(
                    chat, chunk, parse_mode=ParseMode.HTML, reply_markup=markup if last else None,
                    reply_parameters=quote if first else None, message_thread_id=topic,
                )

            steps.append(text)
        return steps

    async def _keyboard(self, reply: Reply, language: str) -> InlineKeyboardMarkup | None:
        rows: list[list[InlineKeyboardButton]] = []
        for action in reply.actions:
            data = await self.state.callback_data_for(action.command)
            button = InlineKeyboardButton(action.label[:64] or action.command, callback_data=data)
            if rows and len(rows[-1]) < 2 and len(action.label) <= 20 and len(rows[-1][0].text) <= 20:
                rows[-1].append(button)
            else:
                rows.append([button])
        if reply.private_start_payload is not None and self.username:
            _ = translator_for(language, self.settings.timezone).gettext
            url = deep_link(self.username, reply.private_start_payload)
            rows.append([InlineKeyboardButton(_(OPEN_PRIVATE_CHAT), url=url)])
        return InlineKeyboardMarkup(rows) if rows else None

    async def _call(self, chat_id: str, step: Step, *, max_wait: float) -> object:
        """One API call with our limits: 429 waits its retry_after, a network error that cannot have
        delivered anything is retried with backoff, all bounded; failures become DeliveryError."""
        rate_limited = network_failures = migrations = 0
        while True:
            target = await self.state.resolve(chat_id)
            await self.limiter.wait_turn(target, is_group=is_group_id(target))
            try:
                return await step(target_id(target))
            except RetryAfter as error:
                wait = retry_after_seconds(error)
                self.limiter.push_back(target, wait)
                rate_limited += 1
                if rate_limited > MAX_RATE_LIMIT_RETRIES or wait > max_wait:
                    raise DeliveryError(f"Telegram flood control: retry after {wait:g} s",
                                        retry_after=wait) from None
                log.info("Telegram 429 for chat %s: waiting %g s", target, wait)
            except ChatMigrated as error:
                migrations += 1
                if migrations > 2:
                    raise DeliveryError("the group keeps migrating", permanent=True) from None
                await self.state.remember_migration(target, str(error.new_chat_id))
            except Forbidden as error:
                await self.state.set_blocked(target, True)
                raise DeliveryError(f"Telegram refused: {error.message}", permanent=True) from None
            except BadRequest as error:
                raise DeliveryError(f"Telegram rejected the message: {error.message}",
                                    permanent=True) from None
            except NetworkError as error:
                if not surely_not_sent(error):
                    # It may have arrived: sending again could show it twice.
                    raise DeliveryError(f"delivery unknown, not retried: {error.message}",
                                        permanent=True) from None
                network_failures += 1
                if network_failures > MAX_NETWORK_RETRIES:
                    raise DeliveryError(f"network: {error.message}") from None
                await asyncio.sleep(network_backoff(network_failures))
            except TelegramError as error:
                raise DeliveryError(f"Telegram: {error.message}") from None
