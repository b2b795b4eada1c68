"""What the Telegram adapter must remember across restarts, in adapter_state, with an in-memory cache:
commands too long for a button's 64 bytes, groups that became supergroups, chats that blocked us,
and how far a split outbox message got (so a retry does not repeat its first parts)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging

from sqlalchemy import Engine, or_
from sqlmodel import col, select

from bot.adapters.telegram_render import fits_callback_data
from storage.adapter_state import get_state, set_state
from storage.db import session_scope
from storage.models import AdapterState, utcnow
from storage.models_inbox import InboxMessage

log = logging.getLogger(__name__)

MIGRATED = "telegram:migrated:"
BLOCKED = "telegram:blocked:"


class TelegramChatState:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._buttons: dict[str, str] = {}
        self._migrated: dict[str, str] = {}
        self._blocked: dict[str, bool] = {}
        self._complete = False  # migrations and blocked chats all loaded: a chat not known has neither

    async def preload(self) -> None:
        """Read every chat migration and blocked chat at once (a broadcast to 1,000 chats then asks the
        database nothing per chat); kept up to date in memory by this process afterwards."""
        self._migrated, self._blocked = await asyncio.to_thread(self._load_chats)
        self._complete = True

    def _load_chats(self) -> tuple[dict[str, str], dict[str, bool]]:
        migrated: dict[str, str] = {}
        blocked: dict[str, bool] = {}
        with session_scope(self.engine) as session:
            rows = session.exec(select(AdapterState).where(or_(
                col(AdapterState.key).startswith(MIGRATED), col(AdapterState.key).startswith(BLOCKED))))
            for row in rows:
                if row.key.startswith(MIGRATED):
                    migrated[row.key.removeprefix(MIGRATED)] = row.value
                else:
                    blocked[row.key.removeprefix(BLOCKED)] = bool(row.value)
        return migrated, blocked

    async def _get(self, key: str) -> str | None:
        return await asyncio.to_thread(get_state, self.engine, key)

    async def _set(self, key: str, value: str) -> None:
        await asyncio.to_thread(set_state, self.engine, key, value)

    # buttons ----------------------------------------------------------------------------------

    async def callback_data_for(self, command: str) -> str:
        """Short commands ride in the button; longer ones are stored under a hash that fits 64 bytes.
        The same command always gets the same hash, so nothing piles up."""
        if fits_callback_data(command):
            return command
        digest = hashlib.sha256(command.encode("utf-8")).hexdigest()[:32]
        if self._buttons.get(digest) != command:
            await self._set(f"telegram:button:{digest}", command)
            self._buttons[digest] = command
        return f"#{digest}"

    async def command_for(self, data: str | None) -> str | None:
        """The command behind a pressed button, or None when we no longer know it (expired)."""
        if not data:
            return None
        if data.startswith("#"):
            digest = data[1:]
            command = self._buttons.get(digest) or await self._get(f"telegram:button:{digest}")
            return command or None
        return data if data.startswith(("/", "!")) else None

    # native polls -------------------------------------------------------------------------------

    async def remember_poll(self, poll_id: str, number: int, chat_id: str, message_id: str) -> None:
        """Which of our polls a Telegram poll shows, and where: its answers are read back as /vote."""
        await self._set(f"telegram:poll:{poll_id}", json.dumps([number, chat_id, message_id]))
        await self._set(f"telegram:poll-of:{number}:{chat_id}", message_id)

    async def poll_message(self, number: int, chat_id: str) -> str | None:
        """The message of our poll ``number`` in this chat (to stop it when the poll closes)."""
        return await self._get(f"telegram:poll-of:{number}:{chat_id}")

    async def poll_for(self, poll_id: str) -> tuple[int, str, str] | None:
        value = await self._get(f"telegram:poll:{poll_id}")
        if not value:
            return None
        number, chat_id, message_id = json.loads(value)
        return int(number), str(chat_id), str(message_id)

    # migrations ---------------------------------------------------------------------------------

    async def resolve(self, chat_id: str) -> str:
        """A group that became a supergroup lives on under its new id."""
        seen = {chat_id}
        current = chat_id
        while True:
            if current not in self._migrated and not self._complete:
                self._migrated[current] = await self._get(f"{MIGRATED}{current}") or ""
            following = self._migrated.get(current, "")
            if not following or following in seen:
                return current
            seen.add(following)
            current = following

    async def remember_migration(self, old: str, new: str) -> None:
        log.info("Telegram group %s is now supergroup %s", old, new)
        self._migrated[old] = new
        await self._set(f"{MIGRATED}{old}", new)

    # blocked chats ------------------------------------------------------------------------------

    def known_reachable(self, chat_id: str) -> bool:
        return self._blocked.get(chat_id) is False

    async def is_blocked(self, chat_id: str) -> bool:
        if chat_id not in self._blocked:
            self._blocked[chat_id] = False if self._complete else bool(await self._get(f"{BLOCKED}{chat_id}"))
        if self._blocked[chat_id]:  # rare: asked of the database, where another process may know better
            self._blocked[chat_id] = await asyncio.to_thread(self._still_blocked, chat_id)
        return self._blocked[chat_id]

    def _still_blocked(self, chat_id: str) -> bool:
        """Blocked, unless the mark was lifted or the chat has written to us since it was set. With several
        processes on one database, the message that shows a chat is back may reach another process than
        the one that sends (and whose memory still says blocked); its inbox row tells."""
        with session_scope(self.engine) as session:
            mark = session.get(AdapterState, f"{BLOCKED}{chat_id}")
            if mark is None or not mark.value:
                return False
            wrote = session.exec(select(InboxMessage.id).where(
                InboxMessage.platform == "telegram", InboxMessage.chat_id == chat_id,
                col(InboxMessage.received_at) > mark.updated_at).limit(1)).first()
            if wrote is None:
                return True
            mark.value, mark.updated_at = "", utcnow()
            session.add(mark)
        log.info("Telegram chat %s is reachable again (it wrote to another process)", chat_id)
        return False

    async def set_blocked(self, chat_id: str, blocked: bool) -> None:
        if await self.is_blocked(chat_id) == blocked:
            return
        self._blocked[chat_id] = blocked
        log.info("Telegram chat %s %s", chat_id,
                 "blocked or removed the bot" if blocked else "is reachable again")
        await self._set(f"{BLOCKED}{chat_id}", "1" if blocked else "")

    # split outbox messages ----------------------------------------------------------------------

    async def parts_sent(self, key: str) -> int:
        stored = await self._get(f"telegram:progress:{key}")
        return int(stored) if stored and stored.isdigit() else 0

    async def record_parts_sent(self, key: str, count: int) -> None:
        await self._set(f"telegram:progress:{key}", str(count))
