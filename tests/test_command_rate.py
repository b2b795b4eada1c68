"""The per-member command rate: kept for the last minute's senders only, however many members a long-running
process has seen (issue 15: memory that grew with every member ever seen)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.dispatch import CommandRate
from bot.core.types import Platform, UserRef

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def member(n: int) -> UserRef:
    return UserRef(Platform.TELEGRAM, str(n), f"M{n}")


def test_the_members_quiet_for_a_minute_are_forgotten_and_the_limit_still_holds() -> None:
    rate = CommandRate()
    for n in range(500):  # a busy morning: 500 members, one command each
        assert rate.allow(member(n), T0 + timedelta(seconds=n / 100), 3)
    later = T0 + timedelta(minutes=3)
    assert rate.allow(member(9999), later, 3)  # the next command, minutes later
    assert len(rate._recent) == 1  # only the one who just wrote is kept
    assert rate.allow(member(9999), later, 3) and rate.allow(member(9999), later, 3)
    assert not rate.allow(member(9999), later + timedelta(seconds=1), 3)  # the fourth within a minute
    assert rate.allow(member(9999), later + timedelta(seconds=61), 3)
