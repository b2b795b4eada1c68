"""The Telegram limiter keeps one float per private chat it wrote to lately (not a minute's window, which only a
group needs: issue 15), and a group still gets at most twenty messages a minute."""

from __future__ import annotations

from bot.adapters.telegram_limits import SendLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_group_gets_twenty_messages_a_minute_and_a_private_chat_one_a_second() -> None:
    clock = Clock()
    limiter = SendLimiter(clock=clock)
    group = [limiter.reserve("-100", is_group=True) for _ in range(21)]
    assert group[:20] == [1000.0 + n for n in range(20)]
    assert group[20] == 1060.0  # the 21st waits until the first is a minute old
    assert limiter.earliest("-100", is_group=True) == 1061.0
    private = [limiter.reserve("42", is_group=False) for _ in range(3)]
    assert private == [1000.0, 1001.0, 1002.0]
    assert limiter.earliest("42", is_group=False) == 1003.0
    assert limiter.earliest("7", is_group=True) == 1000.0  # never written to


def test_a_private_chat_keeps_no_window_of_recent_messages() -> None:
    limiter = SendLimiter(clock=Clock())
    for chat in range(100):
        limiter.reserve(str(chat), is_group=False)
    limiter.push_back("5000", 3.0)
    assert all(slots.recent is None for slots in limiter._chats.values())
    assert not hasattr(limiter._chats["1"], "__dict__")
