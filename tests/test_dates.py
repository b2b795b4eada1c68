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


# ----------------------------------------------------------------------------- the grammar (issue 10)

import unicodedata  # noqa: E402

from bot.core.dates import When, find_duration, find_when  # noqa: E402
from bot.core.vocabulary import weekday_of  # noqa: E402

DAYS = ["demain", "tomorrow", "samedi", "sam", "lundi prochain", "next friday", "le 15", "the 3rd", "15/12",
        "2026-12-01", "1er décembre", "dec 3", "après-demain", "aujourd'hui", "ce soir", "hier", "lundi dernier",
        "dans 3 jours", "in 2 weeks", "mardi 1 décembre", "jeudi 26", "0001-01-01", "31/02", "le 32", ""]
TIMES = ["14h", "14h-16h", "de 14 à 16", "midi", "minuit", "noon-2pm", "2-4pm", "10am to noon", "9h30",
         "8h du soir", "entre 14h et 16h", "à partir de 14h jusqu'à 16h", "22h-2h", "16h-14h", "25h",
         "à 10h pendant 1h30", "pour 2h", "10h-midi", "dans une heure", "in 20 min", "2:30", "half past 2",
         "3 o'clock", "matin", "aprem", "soir", "à 14", ""]
WORDS = ["appeler", "Paul", "la", "salle", "de", "réunion", "2", "places", "lieu", "atelier", "#jardin", "et", "à",
         "le", '"Bar"', "«", "»", "Sam", "mer", "pour", "40", "personnes", ",", "-", "h", "1er", "déc."]


def _check_when(when: When | None) -> None:
    if when is None:
        return
    assert when.day.year in range(2000, 2101)
    if when.start is not None:
        assert when.start.tzinfo is not None and when.start.utcoffset() == timedelta(0)
        assert when.time_stated
    if when.end is not None:
        assert when.start is not None and when.end > when.start, "a range never ends before it starts"
        assert when.end - when.start <= timedelta(hours=25)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=80), st.booleans())
def test_any_text_is_found_or_refused_with_a_date_error_never_anything_else(text: str, past: bool) -> None:
    try:
        when, rest = find_when(text, NOW, PARIS, past=past)
    except DateParseError:
        return
    _check_when(when)
    assert len(rest) <= len(unicodedata.normalize("NFC", text))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_text_gives_a_length_or_a_date_error_never_anything_else(text: str) -> None:
    try:
        length, _ = find_duration(text)
    except DateParseError as error:
        assert error.code in {"ambiguous", "too_long", "zero", "impossible_date"}
        return
    if length is not None:
        assert timedelta(0) < length <= timedelta(hours=24)


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=3), st.sampled_from(DAYS), st.sampled_from(TIMES),
       st.lists(st.sampled_from(WORDS), max_size=3), st.booleans(), st.integers(0, 730), st.integers(0, 23),
       st.booleans())
def test_phrases_made_of_real_pieces_never_break_and_never_end_before_they_start(
        before: list[str], day: str, hour: str, after: list[str], swap: bool, days: int, at: int, past: bool) -> None:
    now = datetime(2026, 1, 1, at, tzinfo=UTC) + timedelta(days=days)  # both clock changes of 2026 and 2027
    moment = f"{hour} {day}" if swap else f"{day} {hour}"
    text = " ".join([*before, moment, *after])
    for reader in (lambda: find_when(text, now, PARIS, past=past)[0], lambda: parse_when(text, now, PARIS)):
        try:
            when = reader()
        except DateParseError:
            continue
        _check_when(when)


@settings(max_examples=300, deadline=None)
@given(st.dates(date(2000, 1, 1), date(2100, 12, 31)), st.integers(0, 23), st.sampled_from([0, 15, 30, 45]),
       st.integers(1, 8 * 60), st.sampled_from(["{d}/{m}/{y} {h}h{mi:02d}", "{y}-{m:02d}-{d:02d} {h}:{mi:02d}",
                                                 "le {d} {month} {y} à {h}h{mi:02d}", "{month} {d} {y} {h}:{mi:02d}"]))
def test_any_written_date_and_hour_reads_back_exactly(day: date, hour: int, minute: int, minutes: int,
                                                      form: str) -> None:
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre"]
    english = ["jan", "feb", "march", "apr", "may", "june", "july", "aug", "sept", "oct", "nov", "dec"]
    month = months[day.month - 1] if "le" in form else english[day.month - 1]
    text = form.format(d=day.day, m=day.month, y=day.year, h=hour, mi=minute, month=month)
    try:
        when = parse_when(f"{text} pendant {minutes} min", NOW, PARIS)
    except DateParseError as error:
        assert error.code in {"nonexistent_time", "ambiguous"}, text  # the two clock changes
        return
    assert when.start is not None and when.end is not None
    local = when.start.astimezone(PARIS)
    assert (local.date(), local.hour, local.minute) == (day, hour, minute), text
    assert when.end - when.start == timedelta(minutes=minutes)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 24 * 60), st.sampled_from(["{h}h{m:02d}", "{h} h {m:02d}", "{t} min", "{h}h {m:02d}",
                                                  "pendant {h}h{m:02d}", "for {t} minutes", "{h} heures {m} minutes"]),
       st.sampled_from(["tri", "accueil hier", "#jardin", "bar le 28"]))
def test_any_written_length_reads_back_exactly_with_the_rest(minutes: int, form: str, words: str) -> None:
    hours, mins = divmod(minutes, 60)
    if "{h}" in form and not hours:
        return
    text = form.format(h=hours, m=mins, t=minutes)
    assert find_duration(f"{text} {words}") == (timedelta(minutes=minutes), words)
    assert find_duration(f"{words} {text}") == (timedelta(minutes=minutes), words)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["appeler", "la", "mairie", "Paul", "payer", "loyer", "sortir", "linge", "avec"]),
                min_size=1, max_size=5),
       st.sampled_from(["demain 9h", "vendredi midi", "le 15 à 10h", "dans une heure", "samedi 18h-22h",
                        "tomorrow at 2pm", "jeudi de 14 à 16"]), st.booleans())
def test_the_rest_is_the_message_without_the_moment(words: list[str], moment: str, first: bool) -> None:
    text = f"{moment} {' '.join(words)}" if first else f"{' '.join(words)} {moment}"
    when, rest = find_when(text, NOW, PARIS)
    assert when is not None and when.start is not None
    assert rest == " ".join(words)


@pytest.mark.parametrize("text", ["0001-01-01", "9999-12-31 10:00-11:00", "31/12/9999", "dans 99999 jours",
                                  "in 9999999 hours", "1/1/1 10h", "le 1er janvier 1999", "dans 999 mois",
                                  "2101-01-01", "1999-12-31 23:00-24:00"])
def test_dates_outside_2000_2100_are_refused_without_overflow(text: str) -> None:
    with pytest.raises(DateParseError) as error:
        parse_when(text, NOW, PARIS)
    assert error.value.code in {"out_of_range", "too_long"}


@pytest.mark.parametrize(("text", "start", "end"), [
    ("vendredi midi", "2026-11-27 12:00", None),
    ("jeudi de 14 à 16", "2026-11-26 14:00", "2026-11-26 16:00"),
    ("le 15 à 10h pendant 1h30", "2026-12-15 10:00", "2026-12-15 11:30"),
    ("demain 10h30 pour 1h", "2026-11-24 10:30", "2026-11-24 11:30"),
    ("jeudi midi-14h", "2026-11-26 12:00", "2026-11-26 14:00"),
    ("de midi à 14h", "2026-11-23 12:00", "2026-11-23 14:00"),
    ("10h-midi", "2026-11-23 10:00", "2026-11-23 12:00"),
    ("samedi matin 10h-12h", "2026-11-28 10:00", "2026-11-28 12:00"),
    ("demain après-midi de 14h à 16h", "2026-11-24 14:00", "2026-11-24 16:00"),
    ("entre 14h et 16h", "2026-11-23 14:00", "2026-11-23 16:00"),
    ("à partir de 14h jusqu'à 16h", "2026-11-23 14:00", "2026-11-23 16:00"),
    ("2 to 4 pm", "2026-11-23 14:00", "2026-11-23 16:00"),
    ("friday 10am to noon", "2026-11-27 10:00", "2026-11-27 12:00"),
    ("demain 8h du soir", "2026-11-24 20:00", None),
    ("samedi 22h-2h", "2026-11-28 22:00", "2026-11-29 02:00"),
])
def test_what_the_issue_found_refused_or_misread_is_now_read(text: str, start: str, end: str | None) -> None:
    assert local(text)[1:] == (start, end)


def test_the_past_reading_takes_the_last_such_day_and_the_future_one_the_next() -> None:
    assert find_when("le 28", NOW, PARIS, past=True)[0] == When(date(2026, 10, 28), day_stated=True)
    assert find_when("le 28", NOW, PARIS)[0] == When(date(2026, 11, 28), day_stated=True)
    assert find_when("lundi", NOW, PARIS, past=True)[0] == When(date(2026, 11, 23), day_stated=True)
    assert find_when("lundi dernier", NOW, PARIS, past=True)[0] == When(date(2026, 11, 16), day_stated=True)
    assert find_when("lundi", NOW, PARIS)[0] == When(date(2026, 11, 30), day_stated=True)
    assert find_when("hier soir", NOW, PARIS, past=True)[0] == When(date(2026, 11, 22), day_stated=True,
                                                                     period="evening")
    assert find_when("25/10", NOW, PARIS, past=True)[0] == When(date(2026, 10, 25), day_stated=True)
    assert find_when("3/06", NOW, PARIS, past=True)[0] == When(date(2026, 6, 3), day_stated=True)
    with pytest.raises(DateParseError, match="ambiguous"):
        find_when("3/12", NOW, PARIS, past=True)  # last year's 3 December, or a mistake? the year is asked
    with pytest.raises(DateParseError, match="ambiguous"):
        find_when("15/11", NOW, PARIS)  # next year's, or a date gone by? the year is asked


@pytest.mark.parametrize(("text", "code"), [
    ("samedi matin 15h", "ambiguous"), ("lundi 1 décembre", "ambiguous"), ("demain minuit", "ambiguous"),
    ("demain 10h dans 2h", "ambiguous"), ("demain 14h-16h pendant 3h", "ambiguous"),
    ("tomorrow at 5 o'clock", "ambiguous"), ("demain 9h jeudi 10h", "ambiguous"), ("demain à 14", "ambiguous"),
    ("12 et 13 décembre", "ambiguous"), ("demain 14h-16h salle 14h-18h", "ambiguous"),
    ("demain 14h blabla", "unknown_words"), ("demain 14h pendant 30h", "too_long"),
    ("demain 13pm", "impossible_date"), ("demain 14h75", "impossible_date"),
])
def test_what_cannot_be_read_for_sure_is_refused_with_a_reason(text: str, code: str) -> None:
    with pytest.raises(DateParseError) as error:
        parse_when(text, NOW, PARIS)
    assert error.value.code == code


def test_words_in_quotes_are_never_read_as_a_moment() -> None:
    assert find_when('"Tenir le bar à 18h" samedi 18h-22h 2', NOW, PARIS)[1] == '"Tenir le bar à 18h" 2'
    assert find_when("« Soirée du 31 » samedi", NOW, PARIS) == (When(date(2026, 11, 28), day_stated=True),
                                                               "« Soirée du 31 »")
    assert find_when('"demain 14h"', NOW, PARIS) == (None, '"demain 14h"')


def test_weekday_abbreviations_need_a_number_an_hour_or_a_dot_to_be_days() -> None:
    assert find_when("déjeuner avec Sam", NOW, PARIS) == (None, "déjeuner avec Sam")
    assert find_when("sortie à la mer", NOW, PARIS) == (None, "sortie à la mer")
    assert find_when("sam 10h-12h", NOW, PARIS)[0] is not None
    assert find_when("mer. aprem", NOW, PARIS)[0] == When(date(2026, 11, 25), day_stated=True, period="afternoon")
    assert [weekday_of(w) for w in ("mar.", "Mardi", "tue", "Tuesday", "MAR", "jeu.", "sun", "xyz")] == [
        1, 1, 1, 1, 1, 3, 6, None]


# ----------------------------------------------------------------------------------- clock changes

SPRING = datetime(2026, 3, 26, 9, 0, tzinfo=UTC)  # Thursday before the spring change
AUTUMN = datetime(2026, 10, 22, 8, 0, tzinfo=UTC)  # Thursday before the autumn change


def test_a_night_across_the_spring_change_is_an_hour_shorter_and_the_autumn_one_an_hour_longer() -> None:
    spring = parse_when("samedi 22h-4h", SPRING, PARIS)
    autumn = parse_when("samedi 22h-4h", AUTUMN, PARIS)
    assert spring.start is not None and spring.end is not None and autumn.start is not None and autumn.end is not None
    assert (spring.end - spring.start, autumn.end - autumn.start) == (timedelta(hours=5), timedelta(hours=7))
    assert autumn.end == datetime(2026, 10, 25, 3, 0, tzinfo=UTC)  # 04:00 winter time


def test_times_skipped_or_repeated_by_the_clock_changes_are_refused() -> None:
    for text, now, code in (("dimanche 2h30", SPRING, "nonexistent_time"), ("dimanche 2h-4h", SPRING,
                                                                               "nonexistent_time"),
                            ("dimanche 2h30", AUTUMN, "ambiguous"), ("dimanche 1h-2h15", AUTUMN, "ambiguous")):
        with pytest.raises(DateParseError) as error:
            parse_when(text, now, PARIS)
        assert error.value.code == code, text
    assert local("dimanche 3h", SPRING)[1] == "2026-03-29 03:00"
    assert local("dimanche 3h", AUTUMN)[1] == "2026-10-25 03:00"


def test_in_two_hours_across_the_autumn_change_is_two_real_hours() -> None:
    night = datetime(2026, 10, 24, 23, 30, tzinfo=UTC)  # 01:30 summer time
    when, rest = find_when("dans 2 heures vérifier le chauffage", night, PARIS)
    assert when is not None and when.start == night + timedelta(hours=2) and when.relative
    assert rest == "vérifier le chauffage"


@pytest.mark.parametrize("now", [SPRING, AUTUMN])
def test_the_same_wall_clock_hours_every_day_around_a_change(now: datetime) -> None:
    for offset in range(7):
        day = (now + timedelta(days=offset)).astimezone(PARIS).date()
        when = parse_when(f"{day.isoformat()} 10h-12h", now, PARIS)
        assert when.start is not None and when.end is not None
        assert when.start.astimezone(PARIS).hour == 10 and when.end - when.start == timedelta(hours=2)


def test_a_repetition_is_refused_unless_the_command_asks_for_one() -> None:
    for text in ("tous les mardis 14h-18h accueil", "chaque mardi 14h", "every tuesday 2pm", "les mardis 14h"):
        with pytest.raises(DateParseError) as error:
            find_when(text, NOW, PARIS)
        assert error.value.code == "ambiguous", text
        when, rest = find_when(text, NOW, PARIS, weekly=True)
        assert when is not None and when.weekly and when.day == date(2026, 11, 24), text
        assert rest in {"accueil", ""}, text
    assert find_when("mardi 14h", NOW, PARIS, weekly=True)[0] == When(
        date(2026, 11, 24), datetime(2026, 11, 24, 13, tzinfo=UTC), day_stated=True, time_stated=True)


@pytest.mark.parametrize("text", ["avant vendredi", "jusqu'à vendredi", "by friday", "après 14h", "d'ici lundi"])
def test_a_deadline_is_not_read_as_a_moment(text: str) -> None:
    with pytest.raises(DateParseError) as error:
        find_when(f"rendre le dossier {text}", NOW, PARIS)
    assert error.value.code == "ambiguous"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS + DAYS + TIMES), max_size=6))
def test_the_reminder_checks_never_break_on_what_members_type(words: list[str]) -> None:
    from bot.core.dates import mentions_time, when_readings

    text = " ".join(words)
    assert mentions_time(text, NOW, PARIS) in {True, False}
    for when, rest in when_readings(text, NOW, PARIS):
        _check_when(when)
        assert len(rest) <= len(text)
