"""Volunteer rules without a database: durations (hypothesis), rota weekdays and times across the clock
changes, report periods, and the once-only alert decision."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.core.i18n import Translator
from storage.volunteer_rules import (
    MAX_TASK_MINUTES,
    DurationError,
    PeriodError,
    RotaFormatError,
    needs_uncovered_alert,
    normalise_tag,
    parse_duration,
    parse_period,
    parse_time_range,
    parse_weekdays,
    rota_kind,
    rota_occurrences,
    split_duration,
)

PARIS = ZoneInfo("Europe/Paris")
FRENCH = Translator("fr", PARIS)
ENGLISH = Translator("en", PARIS)
minutes_in_a_day = st.integers(min_value=1, max_value=MAX_TASK_MINUTES)


@pytest.mark.parametrize(("text", "minutes"), [
    ("2h", 120), ("2h30", 150), ("2 h 30", 150), ("2H30", 150), ("1.5h", 90), ("1,5h", 90), ("1,5 h", 90),
    ("0.25h", 15), ("90 min", 90), ("45min", 45), ("45mn", 45), ("1h 15", 75), ("1h5", 65), ("1 h 5 min", 65),
    ("2h30min", 150), ("2 hours", 120), ("1 hour", 60), ("30 minutes", 30), ("2 hours 30 minutes", 150),
    ("1 hour and 30 minutes", 90), ("2 heures", 120), ("1 heure et demie", 90), ("1h et demie", 90),
    ("2:30", 150), ("24h", 1440), ("1440 min", 1440),
])
def test_french_and_english_durations_are_read(text: str, minutes: int) -> None:
    assert parse_duration(text) == minutes


@pytest.mark.parametrize(("text", "code"), [
    ("", "missing"), ("   ", "missing"), ("0h", "zero"), ("0 min", "zero"), ("0:00", "zero"), ("0.001h", "zero"),
    ("25h", "too_long"), ("24h01", "too_long"), ("1441 min", "too_long"), ("9999999999h", "too_long"),
    ("2", "unreadable"), ("deux heures", "unreadable"), ("2hello", "unreadable"), ("1h75", "unreadable"),
    ("1.5h30", "unreadable"), ("2:75", "unreadable"), ("h", "unreadable"), ("-2h", "unreadable"),
])
def test_zero_absurd_and_garbled_durations_are_refused_with_a_reason(text: str, code: str) -> None:
    with pytest.raises(DurationError) as raised:
        parse_duration(text)
    assert raised.value.code == code


@given(minutes_in_a_day, st.sampled_from([FRENCH, ENGLISH]))
def test_a_duration_as_the_bot_writes_it_reads_back_the_same(minutes: int, translator: Translator) -> None:
    assert parse_duration(translator.fmt_duration(minutes)) == minutes


@given(st.integers(0, 24), st.integers(0, 59), st.sampled_from(
    ["{h}h{m:02d}", "{h} h {m:02d}", "{h}H{m}", "{h} hours {m} minutes", "{h} heures {m} min", "{h}:{m:02d}",
     "{total} min", "{total}min", "{total} minutes"]))
def test_hours_and_minutes_in_any_spelling_give_the_same_minutes(hours: int, mins: int, form: str) -> None:
    total = hours * 60 + mins
    text = form.format(h=hours, m=mins, total=total)
    if total == 0:
        with pytest.raises(DurationError, match="zero"):
            parse_duration(text)
    elif total > MAX_TASK_MINUTES:
        with pytest.raises(DurationError, match="too_long"):
            parse_duration(text)
    else:
        assert parse_duration(text) == total


@given(st.integers(1, 96), st.sampled_from([".", ","]), st.sampled_from(["h", " h", " hours", " heures"]))
def test_decimal_hours_with_a_point_or_a_comma(quarters: int, point: str, unit: str) -> None:
    text = f"{quarters / 4:g}".replace(".", point) + unit
    assert parse_duration(text) == quarters * 15


@given(st.integers(MAX_TASK_MINUTES + 1, 10**9))
def test_more_than_a_day_is_always_refused(minutes: int) -> None:
    for text in (f"{minutes} min", f"{minutes / 60:.2f}h", f"{minutes // 60}h{minutes % 60:02d}"):
        with pytest.raises(DurationError) as raised:
            parse_duration(text)
        assert raised.value.code == "too_long", text


@given(st.text(max_size=60))
def test_any_text_gives_a_duration_within_bounds_or_a_duration_error(text: str) -> None:
    try:
        minutes, rest = split_duration(text)
    except DurationError as error:
        assert error.code in {"missing", "unreadable", "zero", "too_long"}
    else:
        assert 1 <= minutes <= MAX_TASK_MINUTES
        assert len(rest) < len(text)


words = st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu")), min_size=1, max_size=12)
MINUTE_WORDS = {"minutes", "minute", "mins", "min", "mn"}  # "2h30 min" is 2h30, whatever follows


@given(minutes_in_a_day, st.lists(words, min_size=1, max_size=5))
def test_the_description_after_the_duration_is_kept_whole(minutes: int, description: list[str]) -> None:
    assume(description[0].casefold() not in MINUTE_WORDS)
    text = " ".join(description)
    assert split_duration(f"{FRENCH.fmt_duration(minutes)} {text}") == (minutes, text)


def test_a_number_after_the_hours_is_minutes_only_when_it_looks_like_minutes() -> None:
    assert split_duration("1h 15 accueil") == (75, "accueil")
    assert split_duration("2h 3 cartons de livres") == (120, "3 cartons de livres")
    assert split_duration("2h, tri") == (120, ", tri")
    assert split_duration("1h30 M. Dupont") == (90, "M. Dupont")
    assert split_duration("1h01 m") == (61, "m")
    assert split_duration("1h30m accueil") == split_duration("1h30 min accueil") == (90, "accueil")


def test_project_tags_ignore_case_accents_and_the_hash() -> None:
    assert normalise_tag("#Ressourcerie") == normalise_tag("ressourcerie ") == "ressourcerie"
    assert normalise_tag("#Café") == "cafe"
    assert normalise_tag("#repair café") == "repair-cafe"


@pytest.mark.parametrize(("text", "days"), [
    ("lun-ven", (0, 1, 2, 3, 4)), ("lundi-vendredi", (0, 1, 2, 3, 4)), ("mon-fri", (0, 1, 2, 3, 4)),
    ("sam", (5,)), ("Sam.", (5,)), ("lun,mer,ven", (0, 2, 4)), ("sam-lun", (0, 5, 6)), ("tous", tuple(range(7))),
    ("dimanche", (6,)),
])
def test_rota_weekdays_in_french_or_english(text: str, days: tuple[int, ...]) -> None:
    assert parse_weekdays(text) == days


@pytest.mark.parametrize("text", ["", "lux", "lun-", "12", "lundi-xyz"])
def test_unreadable_weekdays_are_refused(text: str) -> None:
    with pytest.raises(RotaFormatError):
        parse_weekdays(text)


def test_rota_hours_are_read_and_must_end_after_they_start() -> None:
    assert parse_time_range("08:30-09:30") == (time(8, 30), time(9, 30))
    assert parse_time_range("17h-18h30") == (time(17), time(18, 30))
    for bad in ("09:30-08:30", "8h", "25:00-26:00", "18:00-18:00"):
        with pytest.raises(RotaFormatError):
            parse_time_range(bad)


def test_rota_shifts_keep_their_local_hours_across_the_october_clock_change() -> None:
    # Clocks go back on Sunday 25 October 2026: 08:30 in Paris is 06:30 UTC before, 07:30 UTC after.
    shifts = rota_occurrences((4, 0), time(8, 30), time(9, 30), date(2026, 10, 23), date(2026, 10, 26), PARIS)
    assert shifts == [
        (datetime(2026, 10, 23, 6, 30, tzinfo=UTC), datetime(2026, 10, 23, 7, 30, tzinfo=UTC)),
        (datetime(2026, 10, 26, 7, 30, tzinfo=UTC), datetime(2026, 10, 26, 8, 30, tzinfo=UTC)),
    ]
    assert all(s.astimezone(PARIS).strftime("%H:%M") == "08:30" for s, _ in shifts)


@given(st.dates(date(2026, 1, 1), date(2028, 12, 31)), st.integers(0, 6))
def test_rota_shifts_last_their_wall_clock_length_every_day_of_the_year(first: date, weekday: int) -> None:
    shifts = rota_occurrences((weekday,), time(8, 30), time(9, 30), first, first + timedelta(days=6), PARIS)
    [(start, end)] = shifts
    assert start.astimezone(PARIS).weekday() == weekday
    assert start.astimezone(PARIS).time() == time(8, 30) and end - start == timedelta(hours=1)


def test_opening_and_closing_are_told_from_their_names() -> None:
    assert [rota_kind(t) for t in ("ouverture", "Opening", "fermeture", "closing", "accueil")] == [
        "open", "open", "close", "close", "other"]


def test_periods_are_local_calendar_weeks_months_and_years() -> None:
    today = date(2026, 11, 25)  # a Wednesday
    week = parse_period("semaine", today)
    assert (week.start, week.end, week.key) == (date(2026, 11, 23), date(2026, 11, 30), "2026-W48")
    assert (parse_period("", today).start, parse_period("mois", today).end) == (date(2026, 11, 1), date(2026, 12, 1))
    december = parse_period("2026-12", today)
    assert (december.start, december.end, december.key) == (date(2026, 12, 1), date(2027, 1, 1), "2026-12")
    year = parse_period("année", today)
    assert (year.start, year.end, year.key) == (date(2026, 1, 1), date(2027, 1, 1), "2026")
    assert parse_period("2025", today).start == date(2025, 1, 1)
    for bad in ("2026-13", "demain", "12345"):
        with pytest.raises(PeriodError):
            parse_period(bad, today)
    start, end = parse_period("2026-10", today).bounds(PARIS)
    assert end - start == timedelta(days=31, hours=1), "October has the 25-hour night of the clock change"


NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("start_in", "places", "taken", "alerted", "expected"), [
    (timedelta(hours=47), 2, 1, False, True),
    (timedelta(hours=48), 1, 0, False, True),
    (timedelta(hours=49), 1, 0, False, False),   # too far ahead: a later run will alert
    (timedelta(hours=10), 2, 2, False, False),   # covered
    (timedelta(hours=10), 2, 3, False, False),
    (timedelta(hours=10), 2, 0, True, False),    # already alerted: never again
    (timedelta(hours=0), 1, 0, False, False),    # already started
    (timedelta(hours=-3), 1, 0, False, False),
])
def test_the_uncovered_alert_decision(start_in: timedelta, places: int, taken: int, alerted: bool,
                                      expected: bool) -> None:
    alerted_at = NOW - timedelta(hours=1) if alerted else None
    assert needs_uncovered_alert(NOW + start_in, NOW, places, taken, alerted_at) is expected


@given(st.integers(-100, 200), st.integers(1, 5), st.integers(0, 6), st.lists(st.integers(0, 200), max_size=20))
def test_a_shift_is_alerted_at_most_once_whatever_the_runs(start_hours: int, places: int, taken: int,
                                                           run_offsets_quarters: list[int]) -> None:
    """Simulate the job running at arbitrary times, recording the alert like the storage does."""
    start = NOW + timedelta(hours=start_hours)
    alerted_at: datetime | None = None
    alerts = 0
    for quarters in sorted(run_offsets_quarters):
        now = NOW + timedelta(minutes=15 * quarters)
        if needs_uncovered_alert(start, now, places, taken, alerted_at):
            alerts += 1
            alerted_at = now
            assert start - timedelta(hours=48) <= now < start and taken < places
    assert alerts <= 1
