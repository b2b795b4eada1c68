"""The booking rules as pure functions, checked against brute force and across clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from storage.booking_rules import SpaceRules, find_free_slots, free_periods, peak_occupancy
from storage.opening_hours import parse_hours

PARIS = ZoneInfo("Europe/Paris")
BASE = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
RULES = SpaceRules(capacity=1, hours=parse_hours({d: "09:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri",
                                                                              "sat", "sun")}),
                   max_duration=timedelta(hours=4), max_days_ahead=60, weekly_quota=None,
                   required_qualification=None, closed=False)

quarter_hours = st.integers(0, 40).map(lambda q: BASE + timedelta(minutes=15 * q))
intervals = st.tuples(quarter_hours, st.integers(1, 12)).map(lambda t: (t[0], t[0] + timedelta(minutes=15 * t[1])))


@settings(max_examples=300, deadline=None)
@given(st.lists(intervals, max_size=12), intervals)
def test_peak_occupancy_matches_a_minute_by_minute_count(bookings: list[tuple[datetime, datetime]],
                                                          window: tuple[datetime, datetime]) -> None:
    start, end = window
    brute = 0
    moment = start
    while moment < end:
        brute = max(brute, sum(1 for s, e in bookings if s <= moment < e))
        moment += timedelta(minutes=15)
    assert peak_occupancy(bookings, start, end) == brute


def test_back_to_back_bookings_do_not_overlap() -> None:
    first = (BASE, BASE + timedelta(hours=1))
    assert peak_occupancy([first], BASE + timedelta(hours=1), BASE + timedelta(hours=2)) == 0


def test_free_slots_are_the_nearest_free_ones_of_the_same_length() -> None:
    taken = [(datetime(2026, 11, 24, 13, tzinfo=UTC), datetime(2026, 11, 24, 15, tzinfo=UTC))]  # 14h-16h Paris
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    slots = find_free_slots(RULES, taken, timedelta(hours=1), taken[0][0] + timedelta(hours=1), now, PARIS)
    local = [(s.astimezone(PARIS).strftime("%d %H:%M"), e.astimezone(PARIS).strftime("%H:%M")) for s, e in slots]
    assert local == [("24 13:00", "14:00"), ("24 13:30", "14:30"), ("24 16:00", "17:00")] or \
        local == [("24 13:00", "14:00"), ("24 16:00", "17:00"), ("24 16:30", "17:30")]
    for s, e in slots:
        assert peak_occupancy(taken, s, e) == 0 and e - s == timedelta(hours=1)


def test_free_slots_on_the_autumn_change_day_last_the_asked_length() -> None:
    now = datetime(2026, 10, 20, 8, tzinfo=UTC)
    slots = find_free_slots(RULES, [], timedelta(hours=2), datetime(2026, 10, 25, 8, tzinfo=UTC), now, PARIS,
                            limit=5)
    assert slots and all(e - s == timedelta(hours=2) for s, e in slots)
    assert all(s.astimezone(PARIS).hour >= 9 and e.astimezone(PARIS).hour <= 18 for s, e in slots)


def test_free_periods_cover_opening_hours_minus_bookings() -> None:
    taken = [(datetime(2026, 11, 24, 11, tzinfo=UTC), datetime(2026, 11, 24, 12, tzinfo=UTC))]  # 12h-13h Paris
    periods = free_periods(RULES, taken, date(2026, 11, 24), datetime(2026, 11, 23, tzinfo=UTC), PARIS)
    assert [(s.astimezone(PARIS).hour, e.astimezone(PARIS).hour) for s, e in periods] == [(9, 12), (13, 18)]


spread_quarters = st.integers(0, 4 * 24 * 4).map(lambda q: BASE + timedelta(minutes=15 * q))  # over 4 days
spread_intervals = st.tuples(spread_quarters, st.integers(1, 16)).map(
    lambda t: (t[0], t[0] + timedelta(minutes=15 * t[1])))


def brute_free_slots(rules: SpaceRules, bookings: list[tuple[datetime, datetime]], length: timedelta,
                     around: datetime, now: datetime, days: int) -> list[tuple[datetime, datetime]]:
    """Every half-hour of every day's 09:00-18:00 (Paris) checked a quarter-hour at a time."""
    first_day = max(around, now).astimezone(PARIS).date()
    found = []
    for offset in range(-1, days + 1):
        day = first_day + timedelta(days=offset)
        local = datetime(day.year, day.month, day.day, 9, tzinfo=PARIS)
        while local + length <= datetime(day.year, day.month, day.day, 18, tzinfo=PARIS):
            slot = local.astimezone(UTC)
            moments = [slot + timedelta(minutes=15 * q) for q in range(int(length / timedelta(minutes=15)))]
            if slot >= now and slot - now <= timedelta(days=rules.max_days_ahead) and all(
                    sum(1 for s, e in bookings if s <= m < e) < rules.capacity for m in moments):
                found.append((slot, slot + length))
            local += timedelta(minutes=30)
    nearest = sorted((c for c in found if c[0] != around), key=lambda c: (abs(c[0] - around), c[0]))[:3]
    return sorted(nearest)


@settings(max_examples=200, deadline=None)
@given(st.lists(spread_intervals, max_size=30), st.integers(1, 3), st.integers(1, 8), spread_quarters,
       st.integers(0, 3 * 24 * 4))
def test_free_slots_are_the_three_nearest_where_a_seat_is_free_at_every_moment(
        bookings: list[tuple[datetime, datetime]], capacity: int, half_hours: int, around: datetime,
        now_quarters: int) -> None:
    rules = SpaceRules(capacity=capacity, hours=RULES.hours, max_duration=timedelta(hours=4), max_days_ahead=2,
                       weekly_quota=None, required_qualification=None, closed=False)
    now = BASE + timedelta(minutes=15 * now_quarters)
    length = timedelta(minutes=30 * half_hours)
    assert find_free_slots(rules, bookings, length, around, now, PARIS, days=3) == \
        brute_free_slots(rules, bookings, length, around, now, days=3)
