"""Telegram's overall limit is kept by even pacing: messages to many chats go one every 1/29.5 s, never in
a burst, so no one-second window holds more than 30 (Telegram answers 429 past that)."""

from __future__ import annotations

import asyncio
import itertools
import time

from bot.adapters.telegram_limits import SendLimiter


async def test_messages_to_many_chats_are_spaced_evenly_never_more_than_thirty_in_a_second() -> None:
    limiter = SendLimiter(chat_interval_s=0)
    sent: list[float] = []

    async def send(chat: int) -> None:
        await limiter.wait_turn(str(chat), is_group=False)
        sent.append(time.monotonic())

    await asyncio.gather(*(send(n) for n in range(45)))
    sent.sort()
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert min(gaps) >= 0.9 / 29.5  # not a burst of 29 then a pause
    assert max(sum(1 for t in sent if start <= t < start + 1.0) for start in sent) <= 30


async def test_a_late_wake_up_does_not_send_the_backlog_in_a_burst() -> None:
    limiter = SendLimiter(chat_interval_s=0)
    await limiter.wait_turn("1", is_group=False)
    time.sleep(0.3)  # the loop was busy: the next messages' slots have passed
    sent: list[float] = []
    for n in range(5):
        await limiter.wait_turn(str(n + 2), is_group=False)
        sent.append(time.monotonic())
    assert sent[-1] - sent[0] >= 4 * 0.9 / 29.5
