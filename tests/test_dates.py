"""Reading free-text dates in French and English, in Europe/Paris, across clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.dates import DateParseError, parse_when

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 10:00 in Paris


def local(text: str, now: datetime = NOW) -> tuple[date, str | None, str | None]:
    when = parse_when(text, now, PARIS)
    fmt = "%Y-%m-%d %H:%M"
    return (when.day, when.start.astimezone(PARIS).strftime(fmt) if when.start else None,
            when.end.astimezone(PARIS).strftime(fmt) if when.end else None)


@pytest.mark.parametrize(("text", "start", "end"), [
    ("demain 9h-12h", "2026-11-24 09:00", "2026-11-24 12:00"),
    ("tomorrow 9-12", "2026-11-24 09:00", "2026-11-24 12:00"),
    ("lundi 14h pendant 2h", "2026-11-30 14:00", "2026-11-30 16:00"),
    ("2026-12-01 14:00-16:00", "2026-12-01 14:00", "2026-12-01 16:00"),
    ("ce soir 18h30-20h", "2026-11-23 18:30", "2026-11-23 20:00"),
    ("12/12 20h-23h", "2026-12-12 20:00", "2026-12-12 23:00"),
    ("demain de 14h à 16h", "2026-11-24 14:00", "2026-11-24 16:00"),
    ("next friday 2pm-4pm", "2026-11-27 14:00", "2026-11-27 16:00"),
    ("mardi 1 décembre 14h-16h", "2026-12-01 14:00", "2026-12-01 16:00"),
    ("tomorrow 10:00 for 90 min", "2026-11-24 10:00", "2026-11-24 11:30"),
    ("jeudi 20h-24h", "2026-11-26 20:00", "2026-11-27 00:00"),
])
def test_common_ways_of_saying_when_are_understood(text: str, start: str, end: str) -> None:
    assert local(text)[1:] == (start, end)


def test_a_day_alone_has_no_hours() -> None:
    assert local("demain") == (date(2026, 11, 24), None, None)
    assert local("") == (date(2026, 11, 23), None, None)


@pytest.mark.parametrize(("text", "code"), [
    ("31 février 10h-12h", "impossible_date"),
    ("31/02 10h-11h", "impossible_date"),
    ("2026-13-01 10:00-11:00", "impossible_date"),
    ("demain 16h-14h", "reversed"),
    ("blablabla", "no_date"),
    ("2027-03-28 02:30-03:30", "nonexistent_time"),
])
def test_impossible_or_garbled_dates_are_refused_with_a_reason(text: str, code: str) -> None:
    with pytest.raises(DateParseError) as error:
        parse_when(text, NOW, PARIS)
    assert error.value.code == code


def test_same_wall_clock_hours_on_both_sides_of_the_autumn_change() -> None:
    before = datetime(2026, 10, 20, 8, 0, tzinfo=UTC)
    saturday = parse_when("samedi 10h-12h", before, PARIS)
    monday = parse_when("lundi 10h-12h", before, PARIS)
    assert saturday.start == datetime(2026, 10, 24, 8, 0, tzinfo=UTC)  # UTC+2
    assert monday.start == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)  # UTC+1


def test_night_of_the_autumn_change_lasts_one_hour_more() -> None:
    when = parse_when("2026-10-25 01:00-04:00", datetime(2026, 10, 20, tzinfo=UTC), PARIS)
    assert when.end is not None and when.start is not None
    assert when.end - when.start == timedelta(hours=4)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_either_parses_or_raises_a_date_error(text: str) -> None:
    try:
        when = parse_when(text, NOW, PARIS)
    except DateParseError:
        return
    if when.start is not None and when.end is not None:
        assert when.end > when.start
        assert when.start.tzinfo is not None


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 23), st.integers(0, 59), st.integers(1, 240), st.integers(1, 300))
def test_start_and_length_round_trip(hour: int, minute: int, minutes: int, days_ahead: int) -> None:
    day = (NOW + timedelta(days=days_ahead)).astimezone(PARIS).date()
    text = f"{day.isoformat()} {hour}h{minute:02d} pendant {minutes} min"
    try:
        when = parse_when(text, NOW, PARIS)
    except DateParseError as error:
        assert error.code == "nonexistent_time"
        return
    assert when.start is not None and when.end is not None
    local_start = when.start.astimezone(PARIS)
    assert (local_start.date(), local_start.hour, local_start.minute) == (day, hour, minute)
    assert when.end - when.start == timedelta(minutes=minutes)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche", "monday",
                        "friday", "demain", "tomorrow", "sunday", "next tuesday"]),
       st.integers(0, 400), st.integers(6, 22))
def test_common_day_words_agree_with_dateparser(word: str, days: int, hour: int) -> None:
    import dateparser

    from bot.core.dates import _common_day

    now_local = (NOW + timedelta(days=days)).astimezone(PARIS).replace(hour=hour)
    expected = dateparser.parse(word, languages=["fr", "en"], settings={
        "PREFER_DATES_FROM": "future", "RELATIVE_BASE": now_local.replace(tzinfo=None)})
    assert expected is not None
    assert _common_day(word, now_local.date()) == expected.date()


def test_next_weekday_in_french_is_understood() -> None:
    assert local("samedi prochain 10h-12h")[1] == "2026-11-28 10:00"
