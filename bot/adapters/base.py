"""The contract between the core and a chat platform. Adapters translate; they decide nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from bot.core.types import Incoming, Platform, Reply

IncomingHandler = Callable[[Incoming], Awaitable[list[Reply]]]
# The inbox: stores a batch of received messages durably (one transaction, duplicates by
# (platform, update_id) ignored) and returns once they are committed. Only then may an adapter acknowledge
# them to its platform (Telegram: advance the getUpdates offset; Matrix: save the sync token). Commands are
# then run from the inbox and their answers delivered through the outbox, via ``send``.
InboxSink = Callable[[Sequence[Incoming]], Awaitable[None]]


class DeliveryError(Exception):
    """A send failed. ``permanent`` means retrying is pointless (bot blocked, chat gone)."""

    def __init__(self, reason: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


class Adapter(Protocol):
    platform: Platform

    async def start(self, on_incoming: Any) -> None:
        """Connect and begin delivering incoming messages; returns once running.

        ``on_incoming`` is an IncomingHandler (answers returned at once, the adapter sends them), or the
        InboxSink when the adapter sets ``uses_inbox = True`` (answers come later through ``send``, placed
        by Reply.reply_to / edit_message_id / thread_id).
        """

    async def stop(self) -> None: ...

    async def send(self, chat_id: str, reply: Reply, *, key: str | None = None) -> None:
        """Deliver a message the bot starts itself (outbox). ``key`` is stable across retries.

        Raises DeliveryError on failure.
        """

    # Optional capability, not part of the Protocol (an adapter without it means "no"):
    #
    #     async def is_chat_admin(self, chat_id: str, user_id: str) -> bool
    #
    # Whether ``user_id`` administers the group ``chat_id`` on this platform (Telegram: owner or
    # administrator; Matrix: power level >= 50, or a creator of a version 12 room). The core decides what
    # an admin may do; the adapter only reports what the platform says. It is run on the app's loop while
    # the command's transaction is open (App.is_chat_admin waits for it from the command's thread), so it
    # must not touch the database (on SQLite the command holds the write lock) and should answer quickly;
    # errors mean "no".
