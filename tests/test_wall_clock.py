"""Dates on the wall clock across the spring and autumn changes: never a zero-length or reversed date, and
a time the spring change skips is held at the first valid time (storage.wall_clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from storage.event_rules import local_slot
from storage.wall_clock import ambiguous, held_slot, in_real_time, rule_wall_time

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
# Wall-clock times around the 2026 changes in Paris (29 March, 25 October) and New York (8 March, 1 November).
NIGHTS = [datetime(2026, 3, 29), datetime(2026, 10, 25), datetime(2026, 3, 8), datetime(2026, 11, 1)]


@given(st.sampled_from(NIGHTS), st.integers(0, 6 * 60), st.integers(1, 8 * 60), st.sampled_from([PARIS, NEW_YORK]))
def test_a_held_date_always_lasts_and_starts_at_a_time_that_exists(night: datetime, minute: int, length: int,
                                                                   tz: ZoneInfo) -> None:
    wall = night + timedelta(minutes=minute)
    duration = timedelta(minutes=length)
    rule_slot = local_slot(wall.replace(tzinfo=tz), duration, tz)
    rule_time = wall.time()
    held = in_real_time(rule_slot, duration, tz, rule_time)
    assert held.end > held.start
    local = held.start.astimezone(tz).replace(tzinfo=None)
    exists = wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall
    if exists:
        assert held.start == rule_slot.start and local == wall  # an ordinary time is left alone
        assert rule_wall_time(rule_slot.start, tz, rule_time) == wall
    else:
        assert held.start.astimezone(tz).utcoffset() != (held.start - timedelta(seconds=1)).astimezone(tz).utcoffset()
        assert held.end - held.start == duration  # moved to the change itself, same length
        assert rule_wall_time(rule_slot.start, tz, rule_time) == wall  # the feed's RECURRENCE-ID: the rule's 02:30
    assert held_slot(rule_slot.start, duration, tz, rule_time) == held


def test_the_twice_happening_autumn_time_is_known_as_such() -> None:
    first = datetime(2026, 10, 25, 2, 30, tzinfo=PARIS).astimezone(UTC)
    assert ambiguous(first, PARIS)
    assert not ambiguous(datetime(2026, 10, 25, 4, 30, tzinfo=PARIS).astimezone(UTC), PARIS)
    assert not ambiguous(datetime(2026, 3, 29, 2, 30, tzinfo=PARIS).astimezone(UTC), PARIS)
