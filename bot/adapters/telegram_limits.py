"""Telegram's sending limits, kept by us rather than by PTB's AIORateLimiter.

AIORateLimiter has no per-private-chat limit, bursts at start, loses a message on 429 by default and
lets one request end another's pause (see FIELD-NOTES). Here every message waits for its own slot:
at most one per second in any chat, twenty per minute in a group, thirty per second overall.
A 429 pushes the chat's next slot back by ``retry_after`` so that nothing else is sent there meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

# Telegram allows about 30 messages per second. Messages go evenly spaced (one every 1/29.5 s), never in
# bursts: any one-second window then holds at most 30, with 17 ms to spare for the jitter between our
# clock and theirs (a sliding window of 29 allowed bursts: 11-12 answers 429 per 1,000 messages).
OVERALL_PER_SECOND = 29.5
CHAT_INTERVAL_S = 1.0
GROUP_PER_MINUTE = 20
# A message woken late (a busy event loop) takes back up to this much of its lateness from the next gap, so
# lateness does not add up over a broadcast; any 31 messages still span 30 gaps minus this, over 1 s.
CATCH_UP_S = 0.003


@dataclass(slots=True)
class _ChatSlots:
    """One chat's limits, kept for every chat written to lately (up to a thousand): a private chat's is one
    float (~70 bytes with slots); the minute's slot times, a deque of ~0.6 KB, only for a group (issue 15)."""

    next_free: float = 0.0
    recent: deque[float] | None = None  # slot times in the last minute (groups only)


class SendLimiter:
    """Hands out send slots. Per-chat slots are reserved at once (so a chat's messages keep their
    order); the overall 30/s is checked at send time, so one slow chat never holds back the others."""

    def __init__(
        self,
        overall_per_second: float = OVERALL_PER_SECOND,
        chat_interval_s: float = CHAT_INTERVAL_S,
        group_per_minute: int = GROUP_PER_MINUTE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.overall_per_second = overall_per_second
        self.chat_interval_s = chat_interval_s
        self.group_per_minute = group_per_minute
        self.clock = clock
        self._chats: dict[str, _ChatSlots] = {}
        self._next_overall = 0.0  # the next free slot of the overall pace
        self._overall_lock = asyncio.Lock()

    def reserve(self, chat_id: str, *, is_group: bool) -> float:
        """The earliest moment a message to ``chat_id`` may go, booked for this caller."""
        now = self.clock()
        chat = self._chats.setdefault(chat_id, _ChatSlots())
        slot = max(now, chat.next_free)
        if is_group:
            window = chat.recent
            if window is None:
                window = chat.recent = deque()
            while window and window[0] <= slot - 60.0:
                window.popleft()
            if len(window) >= self.group_per_minute:
                slot = max(slot, window[0] + 60.0)
                while window and window[0] <= slot - 60.0:
                    window.popleft()
            window.append(slot)
        chat.next_free = slot + self.chat_interval_s
        self._forget_idle(now)
        return slot

    def earliest(self, chat_id: str, *, is_group: bool) -> float:
        """When a message to ``chat_id`` could go, without booking it (the outbox waits for this before
        it claims a message, so a message waiting for its slot is not yet "sending")."""
        now = self.clock()
        chat = self._chats.get(chat_id)
        if chat is None:
            return now
        slot = max(now, chat.next_free)
        if is_group:
            recent = [t for t in chat.recent or () if t > slot - 60.0]
            if len(recent) >= self.group_per_minute:
                slot = max(slot, recent[len(recent) - self.group_per_minute] + 60.0)
        return slot

    def push_back(self, chat_id: str, seconds: float) -> None:
        """Telegram said 429: nothing more to this chat before ``seconds`` from now."""
        chat = self._chats.setdefault(chat_id, _ChatSlots())
        chat.next_free = max(chat.next_free, self.clock() + seconds)

    async def wait_turn(self, chat_id: str, *, is_group: bool) -> None:
        slot = self.reserve(chat_id, is_group=is_group)
        delay = slot - self.clock()
        if delay > 0:
            await asyncio.sleep(delay)
        await self._wait_overall()

    async def _wait_overall(self) -> None:
        """Even pacing: one message at a time takes the pace's next slot, and the one after is spaced from
        when this one actually went, less at most CATCH_UP_S (a busy loop that wakes it late doesn't send
        the backlog in a burst, and small delays don't add up)."""
        async with self._overall_lock:
            delay = self._next_overall - self.clock()
            if delay > 0:
                await asyncio.sleep(delay)
            interval = 1.0 / self.overall_per_second
            self._next_overall = max(self._next_overall + interval, self.clock() + interval - CATCH_UP_S)

    def _forget_idle(self, now: float) -> None:
        """Keep memory bounded: a chat idle for over a minute has no limit left to remember."""
        if len(self._chats) < 1000:
            return
        for chat_id in [c for c, s in self._chats.items() if s.next_free < now - 60.0]:
            del self._chats[chat_id]
