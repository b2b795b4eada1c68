"""State a process keeps in memory must not lie when another process shares the database: a Telegram chat
that blocked the bot, then wrote again through the other process (whose message cleared nothing in the
sender's memory), is reachable again for the sender."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from bot.adapters.telegram_state import BLOCKED, TelegramChatState
from storage.adapter_state import get_state
from storage.db import make_engine
from storage.migrate import upgrade
from storage.models_inbox import InboxMessage


async def test_a_chat_back_through_the_other_process_is_reachable_for_the_sender(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    try:
        sender, receiver = TelegramChatState(engine), TelegramChatState(engine)
        await sender.preload()
        await receiver.preload()
        await sender.set_blocked("4242", True)  # a send answered 403
        assert await sender.is_blocked("4242")
        # They unblock the bot and write: the webhook reached the other process, whose memory (loaded before
        # the block) already said "not blocked", so it wrote nothing; their message is in the inbox.
        await receiver.set_blocked("4242", False)
        with Session(engine) as session:
            session.add(InboxMessage(platform="telegram", update_id="77", chat_id="4242", payload="{}",
                                     received_at=datetime.now(UTC) + timedelta(seconds=1)))
            session.commit()
        assert not await sender.is_blocked("4242")
        assert not get_state(engine, f"{BLOCKED}4242")
        # A chat that blocked the bot and said nothing since stays blocked.
        await sender.set_blocked("4343", True)
        assert await sender.is_blocked("4343")
        assert await TelegramChatState(engine).is_blocked("4343")
    finally:
        engine.dispose()
