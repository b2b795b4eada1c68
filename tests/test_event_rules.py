"""Event rules without a database: recurrence phrases, expansion across clock changes, waitlist promotion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.event_rules import (
    expand,
    first_from,
    parse_recurrence,
    parse_series_end,
    places_left,
    rrule_value,
    signup_status,
    to_promote,
)

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(("text", "rule", "rest"), [
    ("samedi 14h-18h places 12 lieu atelier chaque samedi", "FREQ=WEEKLY;BYDAY=SA",
     "samedi 14h-18h places 12 lieu atelier"),
    ("every 2nd tuesday 18:00-20:00", "FREQ=MONTHLY;BYDAY=2TU", "18:00-20:00"),
    ("tous les mois le 1er lundi 19h-21h", "FREQ=MONTHLY;BYDAY=1MO", "19h-21h"),
    ("le dernier vendredi du mois 19h-22h", "FREQ=MONTHLY;BYDAY=-1FR", "19h-22h"),
    ("every month on the first monday 7pm-9pm", "FREQ=MONTHLY;BYDAY=1MO", "7pm-9pm"),
    ("un mardi sur deux 18h-20h", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", "18h-20h"),
    ("every other friday 9-12", "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", "9-12"),
    ("toutes les 3 semaines", "FREQ=WEEKLY;INTERVAL=3", ""),
    ("tous les samedis 10h-12h", "FREQ=WEEKLY;BYDAY=SA", "10h-12h"),
    ("Every Saturday 10:00-12:00", "FREQ=WEEKLY;BYDAY=SA", "10:00-12:00"),
    ("chaque jour 9h-10h", "FREQ=DAILY", "9h-10h"),
    ("chaque mois 12/12 20h-23h", "FREQ=MONTHLY", "12/12 20h-23h"),
])
def test_recurrence_phrases_in_french_and_english(text: str, rule: str, rest: str) -> None:
    found, left = parse_recurrence(text)
    assert found is not None and found.rule == rule
    assert left == rest


def test_no_recurrence_leaves_the_text_alone() -> None:
    assert parse_recurrence("12/12 20h-23h seats 80") == (None, "12/12 20h-23h seats 80")


@pytest.mark.parametrize(("text", "count", "until", "rest"), [
    ("chaque samedi jusqu'au 30/06 14h-18h", None, "30/06", "chaque samedi 14h-18h"),
    ("every saturday until 2027-06-30", None, "2027-06-30", "every saturday"),
    ("until june 30 2027", None, "june 30 2027", ""),
    ("jusqu'au 1er juillet", None, "1er juillet", ""),
    ("chaque lundi 10 fois", 10, None, "chaque lundi"),
    ("8 times 14:00-15:00", 8, None, "14:00-15:00"),
])
def test_series_end(text: str, count: int | None, until: str | None, rest: str) -> None:
    end, left = parse_series_end(text)
    assert end is not None and (end.count, end.until_text) == (count, until)
    assert left == rest


def test_an_hour_range_with_until_is_not_a_series_end() -> None:
    assert parse_series_end("14h jusqu'à 18h") == (None, "14h jusqu'à 18h")
    assert parse_series_end("2pm until 4pm") == (None, "2pm until 4pm")


def test_weekly_series_keeps_its_local_hours_across_the_october_clock_change() -> None:
    start = datetime(2026, 10, 10, 12, tzinfo=UTC)  # Saturday 14:00 in Paris (summer time)
    slots = expand(start, start + timedelta(hours=4), PARIS, "FREQ=WEEKLY;BYDAY=SA", count=4)
    local = [(s.start.astimezone(PARIS).strftime("%d %H:%M"), s.end.astimezone(PARIS).strftime("%H:%M"))
             for s in slots]
    assert local == [("10 14:00", "18:00"), ("17 14:00", "18:00"), ("24 14:00", "18:00"), ("31 14:00", "18:00")]
    assert slots[2].start.hour == 12 and slots[3].start.hour == 13  # UTC moves, the wall clock doesn't


def test_a_start_before_the_rules_first_day_begins_on_the_rules_day() -> None:
    monday = datetime(2026, 11, 23, 13, tzinfo=UTC)
    slots = expand(monday, monday + timedelta(hours=2), PARIS, "FREQ=MONTHLY;BYDAY=1MO", count=3)
    assert [s.start.astimezone(PARIS).date().isoformat() for s in slots] == ["2026-12-07", "2027-01-04", "2027-02-01"]


def test_until_is_inclusive_and_before_stops_an_open_series() -> None:
    start = datetime(2026, 11, 28, 13, tzinfo=UTC)
    until = datetime(2026, 12, 12, 22, 59, 59, tzinfo=UTC)
    assert len(expand(start, start + timedelta(hours=1), PARIS, "FREQ=WEEKLY", until=until)) == 3
    assert len(expand(start, start + timedelta(hours=1), PARIS, "FREQ=DAILY", before=start + timedelta(days=10))) == 10


def test_first_from_skips_a_date_already_begun() -> None:
    saturday_15h = datetime(2026, 11, 28, 14, tzinfo=UTC)
    slot = first_from(datetime(2026, 11, 28, 13, tzinfo=UTC), datetime(2026, 11, 28, 17, tzinfo=UTC), PARIS,
                      "FREQ=WEEKLY;BYDAY=SA", saturday_15h)
    assert slot is not None and slot.start.astimezone(PARIS).date().isoformat() == "2026-12-05"


def test_rrule_value_ends_with_count_or_utc_until() -> None:
    assert rrule_value("FREQ=WEEKLY", 5, None) == "FREQ=WEEKLY;COUNT=5"
    until = datetime(2027, 6, 30, 23, 59, 59, tzinfo=PARIS)
    assert rrule_value("FREQ=WEEKLY", None, until) == "FREQ=WEEKLY;UNTIL=20270630T215959Z"


def test_capacity_and_waitlist() -> None:
    assert signup_status(None, 500) == "confirmed"
    assert signup_status(2, 1) == "confirmed"
    assert signup_status(2, 2) == "waitlisted"
    assert to_promote(3, 2, [7, 8, 9]) == [7]
    assert to_promote(5, 2, [7, 8]) == [7, 8]
    assert to_promote(2, 3, [7]) == []  # a capacity lowered under the count promotes nobody
    assert to_promote(None, 9, [7, 8]) == [7, 8]
    assert places_left(10, 4) == 6 and places_left(None, 4) is None and places_left(2, 3) == 0


@given(capacity=st.integers(1, 50), confirmed=st.integers(0, 60), waiting=st.integers(0, 30))
def test_promotion_never_exceeds_capacity_and_keeps_order(capacity: int, confirmed: int, waiting: int) -> None:
    line = list(range(100, 100 + waiting))
    promoted = to_promote(capacity, confirmed, line)
    assert promoted == line[: len(promoted)]
    assert confirmed + len(promoted) <= max(capacity, confirmed)
    if confirmed < capacity:
        assert len(promoted) == min(capacity - confirmed, waiting)
