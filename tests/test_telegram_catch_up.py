"""A broadcast keeps Telegram's pace to the end: a message woken a little late (a busy event loop) does not
push every later message back, yet the catching up never puts more than 30 messages in a second."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bot.adapters import telegram_limits
from bot.adapters.telegram_limits import OVERALL_PER_SECOND, SendLimiter

INTERVAL = 1.0 / OVERALL_PER_SECOND


class LateClock:
    """A clock whose sleeps always wake ``late`` seconds after they were due."""

    def __init__(self, late: float) -> None:
        self.now = 100.0
        self.late = late

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.now += max(delay, 0.0) + self.late


async def send_times(monkeypatch: pytest.MonkeyPatch, late: float, count: int) -> list[float]:
    clock = LateClock(late)
    monkeypatch.setattr(telegram_limits.asyncio, "sleep", clock.sleep)
    limiter = SendLimiter(chat_interval_s=0, clock=clock)
    sent = []
    for n in range(count):
        await limiter.wait_turn(str(n), is_group=False)
        sent.append(clock())
    monkeypatch.setattr(telegram_limits.asyncio, "sleep", asyncio.sleep)
    return sent


async def test_small_delays_do_not_add_up_over_a_broadcast(monkeypatch: pytest.MonkeyPatch) -> None:
    sent = await send_times(monkeypatch, late=0.002, count=300)
    assert sent[-1] - sent[1] == pytest.approx(298 * INTERVAL, abs=1e-6)  # each 2 ms late, none later


async def test_catching_up_never_puts_more_than_thirty_messages_in_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    for late in (0.0, 0.002, 0.02):
        sent = await send_times(monkeypatch, late=late, count=120)
        assert min(b - a for a, b in itertools.pairwise(sent)) >= INTERVAL - 0.003 - 1e-9
        assert max(sum(1 for t in sent if start <= t < start + 1.0) for start in sent) <= 30
