"""Telegram through python-telegram-bot: Update/CallbackQuery -> Incoming, Reply -> HTML + inline keyboard.

PTB is started by hand (never ``run_polling``) so the HTTP server, Matrix and the scheduler share
the loop. PTB only fetches updates and makes the HTTP calls: limits, retries, chat migrations and
blocked chats are handled here, because PTB's AIORateLimiter loses messages (see FIELD-NOTES).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import secrets
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from aiohttp import web
from sqlalchemy import Engine
from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
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
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.adapters.base import DeliveryError, IncomingHandler
from bot.adapters.telegram_limits import SendLimiter
from bot.adapters.telegram_render import MAX_CAPTION_UNITS, deep_link, render_html_chunks, utf16_units
from bot.adapters.telegram_state import TelegramChatState
from bot.config import ConfigError, Settings
from bot.core.i18n import normalise_language, translator_for
from bot.core.router import CommandTable
from bot.core.types import ChatRef, Incoming, Platform, Reply, UserRef
from bot.web import WebServer

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")
POLL_TIMEOUT_S = 10
CONCURRENT_UPDATES = 32
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")
# "/book@TiersLieuBot args" -> prefix, name, addressee, rest
ADDRESSED_COMMAND_RE = re.compile(r"^([/!])([^\s@]+)(?:@(\S*))?(.*)$", re.DOTALL)

MAX_RATE_LIMIT_RETRIES = 3
MAX_NETWORK_RETRIES = 4
INTERACTIVE_MAX_WAIT_S = 30.0
OUTBOX_MAX_WAIT_S = 5.0

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
    if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return True
    if isinstance(error, TimedOut):
        return False
    return cause is None or isinstance(cause, TelegramError)


def target_id(chat_id: str) -> int | str:
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


def is_group_id(chat_id: str) -> bool:
    """Telegram private chats have the user's (positive) id; groups and channels are negative."""
    return chat_id.strip().startswith("-")


def user_ref(user: User) -> UserRef:
    return UserRef(Platform.TELEGRAM, str(user.id), user.full_name, user.language_code)


class TelegramAdapter:
    platform = Platform.TELEGRAM

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
        self.webhook_secret = settings.telegram_webhook_secret or secrets.token_urlsafe(32)
        if not SECRET_RE.match(self.webhook_secret):
            raise ConfigError("TELEGRAM_WEBHOOK_SECRET: use 1-256 characters among A-Z, a-z, 0-9, _ and -")
        self.webhook_path = urlsplit(self.webhook_url).path if self.webhook_url else ""
        self.webhook_path = self.webhook_path or DEFAULT_WEBHOOK_PATH
        if self.webhook_url:
            if web is None:
                raise ConfigError("TELEGRAM_WEBHOOK_URL: webhook mode needs the bot's HTTP server")
            web.add_routes(self.register_webhook_route)
        self.application = self._build_application(settings.telegram_bot_token)
        self.username = ""
        self._on_incoming: IncomingHandler | None = None
        self._initialized = False
        self._running = False
        self._chat_locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self.state = TelegramChatState(engine)

    def _build_application(self, token: str) -> Application[Any, Any, Any, Any, Any, Any]:
        # No JobQueue: reminders belong to the core's scheduler, not to one platform.
        builder = ApplicationBuilder().token(token).concurrent_updates(CONCURRENT_UPDATES).job_queue(None)
        api_url = self.settings.telegram_api_url
        if api_url:
            builder = builder.base_url(f"{api_url}/bot").base_file_url(f"{api_url}/file/bot")
        if self.webhook_url:
            builder = builder.updater(None)
        application = builder.build()
        application.add_handler(TypeHandler(Update, self._on_update))
        application.add_error_handler(self._on_ptb_error)
        return application

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, on_incoming: IncomingHandler) -> None:
        from bot.app import StartupError

        self._on_incoming = on_incoming
        # httpx logs every request URL at INFO, and Bot API URLs contain the token.
        logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger("httpx").level))
        where = self.settings.telegram_api_url or "https://api.telegram.org"
        try:
            await self.application.initialize()  # getMe: checks the token
        except InvalidToken:
            await self.application.bot.shutdown()
            raise StartupError(
                f"TELEGRAM_BOT_TOKEN: the Bot API at {where} refused this token; "
                "copy it again from @BotFather (/mybots > API Token)"
            ) from None
        except TelegramError as error:
            await self.application.bot.shutdown()
            raise StartupError(
                f"TELEGRAM_API_URL: cannot reach the Bot API at {where} ({self._redacted(error)})"
            ) from None
        self._initialized = True
        self.username = self.application.bot.username
        await self._register_command_menu()
        await self.application.start()
        self._running = True
        allowed = list(ALLOWED_UPDATES)
        if self.webhook_url:
            try:
                await self.application.bot.set_webhook(
                    url=self.webhook_url, secret_token=self.webhook_secret, allowed_updates=allowed
                )
            except TelegramError as error:
                raise StartupError(
                    f"TELEGRAM_WEBHOOK_URL: Telegram refused the webhook ({self._redacted(error)})"
                ) from None
            log.info("Telegram @%s: webhook %s", self.username, self.webhook_url)
        else:
            assert self.application.updater is not None
            try:
                await self.application.updater.start_polling(timeout=POLL_TIMEOUT_S, allowed_updates=allowed)
            except TelegramError as error:
                raise StartupError(
                    f"TELEGRAM_BOT_TOKEN: could not start polling ({self._redacted(error)})"
                ) from None
            log.info("Telegram @%s: long polling", self.username)

    def _redacted(self, error: Exception) -> str:
        token = self.settings.telegram_bot_token or ""
        return str(error).replace(token, "<token>") if token else str(error)

    async def stop(self) -> None:
        self._running = False
        application = self.application
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        if self._initialized:
            self._initialized = False
            await application.shutdown()

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
                await self.application.bot.set_my_commands(menu, language_code=language_code)
            except TelegramError as error:
                log.warning("setMyCommands (%s) failed: %s", language_code or "default", error)

    # -- incoming ----------------------------------------------------------------------------

    async def _on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            if update.callback_query is not None:
                await self._on_button(update.callback_query)
            elif update.my_chat_member is not None:
                member = update.my_chat_member
                gone = member.new_chat_member.status in ("kicked", "left")
                await self.state.set_blocked(str(member.chat.id), gone)
            elif update.message is not None:
                await self._on_message(update.message)
            # edited messages, channel posts and the rest: nothing to do
        except Exception:
            log.exception("Telegram update %s could not be handled", update.update_id)

    async def _on_ptb_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("Telegram: %s", context.error, exc_info=context.error)

    def _incoming_text(self, text: str, is_private: bool) -> str | None:
        """The command as the core should read it, or None when it is not for us."""
        match = ADDRESSED_COMMAND_RE.match(text.lstrip())
        if match is None:
            return text if is_private else None
        prefix, name, addressee, rest = match.groups()
        if addressee is not None and addressee.casefold() != self.username.casefold():
            return None
        return f"{prefix}{name}{rest}"

    async def _on_message(self, message: Message) -> None:
        chat_id = str(message.chat.id)
        if message.migrate_to_chat_id:
            await self.state.remember_migration(chat_id, str(message.migrate_to_chat_id))
            return
        user = message.from_user
        if not message.text or user is None or user.is_bot:
            return  # stickers, photos, service messages, other bots
        is_private = message.chat.type == ChatType.PRIVATE
        text = self._incoming_text(message.text, is_private)
        if text is None:
            return
        if not self.state.known_reachable(chat_id):
            await self.state.set_blocked(chat_id, False)  # they write to us, so we can write to them
        reply_to = message.reply_to_message.message_id if message.reply_to_message else None
        incoming = Incoming(
            chat=ChatRef(Platform.TELEGRAM, chat_id, is_private),
            sender=user_ref(user),
            text=text,
            message_id=str(message.message_id),
            reply_to_id=str(reply_to) if reply_to is not None else None,
        )
        language = self._language(user.language_code)
        async with self._chat_turn(chat_id):
            replies = await self._ask_core(incoming)
            for reply in replies:
                await self._deliver_interactive(
                    chat_id, reply, language, reply_to=None if is_private else message.message_id
                )

    async def _on_button(self, query: CallbackQuery) -> None:
        """Runs the button's command as the person who pressed it; the query is always answered."""
        answered = False
        language = self._language(query.from_user.language_code)
        try:
            command = await self.state.command_for(query.data)
            message = query.message
            if command is None or message is None:
                _ = translator_for(language, self.settings.timezone).gettext
                answered = True
                await self._answer(query, _(EXPIRED_BUTTON))
                return
            chat_id = str(message.chat.id)
            incoming = Incoming(
                chat=ChatRef(Platform.TELEGRAM, chat_id, message.chat.type == ChatType.PRIVATE),
                sender=user_ref(query.from_user),
                text=command,
                message_id=str(message.message_id),
                is_action=True,
            )
            async with self._chat_turn(chat_id):
                replies = await self._ask_core(incoming)
                answered = True
                await self._answer(query, None)
                editable = message if isinstance(message, Message) else None
                for reply in replies:
                    await self._deliver_interactive(chat_id, reply, language, edit=editable)
        finally:
            if not answered:
                await self._answer(query, None)

    async def _answer(self, query: CallbackQuery, text: str | None) -> None:
        try:
            await query.answer(text=text)
        except TelegramError as error:
            log.info("answerCallbackQuery failed: %s", error)

    async def _ask_core(self, incoming: Incoming) -> list[Reply]:
        assert self._on_incoming is not None
        return await self._on_incoming(incoming)

    async def _deliver_interactive(
        self, chat_id: str, reply: Reply, language: str, *, reply_to: int | None = None,
        edit: Message | None = None,
    ) -> None:
        try:
            await self._send_reply(chat_id, reply, language, reply_to=reply_to, edit=edit,
                                   max_wait=INTERACTIVE_MAX_WAIT_S)
        except DeliveryError as error:
            log.warning("reply to Telegram chat %s not delivered: %s", chat_id, error.reason)

    def _language(self, language_code: str | None) -> str:
        return normalise_language(language_code) or self.settings.language

    @asynccontextmanager
    async def _chat_turn(self, chat_id: str) -> AsyncIterator[None]:
        """Updates run concurrently, but one chat's commands are answered in the order sent."""
        lock, users = self._chat_locks.get(chat_id, (asyncio.Lock(), 0))
        self._chat_locks[chat_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._chat_locks[chat_id]
            if users <= 1:
                del self._chat_locks[chat_id]
            else:
                self._chat_locks[chat_id] = (lock, users - 1)

    async def is_chat_admin(self, chat_id: str, user_id: str) -> bool:
        """The group's owner and administrators, as getChatMember says (asked each time: Telegram
        sends no update when someone is promoted, so a cached answer would go stale)."""
        member = await self.application.bot.get_chat_member(target_id(chat_id), int(user_id))
        return member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)

    # -- webhook -----------------------------------------------------------------------------

    def register_webhook_route(self, app: web.Application) -> None:
        app.router.add_post(self.webhook_path, self._on_webhook)

    async def _on_webhook(self, request: web.Request) -> web.Response:
        supplied = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(supplied.encode(), self.webhook_secret.encode()):
            return web.Response(status=403, text="forbidden")
        if not self._running:
            return web.Response(status=503, text="starting")  # Telegram tries again later
        try:
            update = Update.de_json(await request.json(), self.application.bot)
        except Exception:
            return web.Response(status=400, text="not an update")
        await self.application.update_queue.put(update)
        return web.Response(text="ok")

    # -- outgoing ----------------------------------------------------------------------------

    async def send(self, chat_id: str, reply: Reply, *, key: str | None = None) -> None:
        """Outbox delivery. Parts already sent of a split message are not sent again on retry."""
        if not self._running:
            raise DeliveryError("the Telegram adapter is not running")
        target = await self.state.resolve(chat_id)
        if await self.state.is_blocked(target):
            raise DeliveryError("this chat blocked the bot or removed it", permanent=True)
        already = await self.state.parts_sent(key) if key else 0
        sent = [already]
        try:
            await self._send_reply(chat_id, reply, self.settings.language, max_wait=OUTBOX_MAX_WAIT_S,
                                   skip=already, sent=sent)
        except DeliveryError:
            if key and sent[0] > already:  # the next attempt resumes after these parts
                await self.state.record_parts_sent(key, sent[0])
            raise

    async def _send_reply(
        self, chat_id: str, reply: Reply, language: str, *, max_wait: float, reply_to: int | None = None,
        edit: Message | None = None, skip: int = 0, sent: list[int] | None = None,
    ) -> None:
        steps = self._plan(reply, await self._keyboard(reply, language), reply_to, edit)
        for index, step in enumerate(steps):
            if index < skip:
                continue
            await self._call(chat_id, step, max_wait=max_wait)
            if sent is not None:
                sent[0] = index + 1

    def _plan(
        self, reply: Reply, markup: InlineKeyboardMarkup | None, reply_to: int | None, edit: Message | None,
    ) -> list[Step]:
        """The API calls that show ``reply``: one per message, the keyboard on the last one."""
        bot = self.application.bot
        chunks = render_html_chunks(reply)
        if not chunks and markup is not None:
            chunks = ["\u2026"]
        quote = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        html = ParseMode.HTML

        if reply.image is not None:
            image = reply.image
            caption = chunks[0] if len(chunks) == 1 and utf16_units(chunks[0]) <= MAX_CAPTION_UNITS else None
            rest = [] if caption is not None else chunks

            async def photo(chat: int | str) -> object:
                return await bot.send_photo(
                    chat, image, caption=caption, parse_mode=html if caption else None,
                    reply_markup=markup if not rest else None, reply_parameters=quote,
                    filename=reply.image_name,
                )

            return [photo, *self._text_steps(rest, markup, None)]

        if edit is not None and reply.edit_original and len(chunks) == 1 and not edit.photo:
            text = chunks[0]
            message_id = edit.message_id

            async def edit_text(chat: int | str) -> object:
                try:
                    return await bot.edit_message_text(
                        text, chat_id=chat, message_id=message_id, parse_mode=html, reply_markup=markup
                    )
                except BadRequest as error:
                    if "not modified" in error.message.lower():
                        return None  # pressing twice: same text, nothing to change
                    raise

            return [edit_text]
        return self._text_steps(chunks, markup, quote)

    def _text_steps(
        self, chunks: Sequence[str], markup: InlineKeyboardMarkup | None, quote: ReplyParameters | None
    ) -> list[Step]:
        bot = self.application.bot
        steps: list[Step] = []
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1

            async def text(
                chat: int | str, chunk: str = chunk, last: bool = last, first: bool = index == 0
            ) -> object:
                return await bot.send_message(
                    chat, chunk, parse_mode=ParseMode.HTML, reply_markup=markup if last else None,
                    reply_parameters=quote if first else None,
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
