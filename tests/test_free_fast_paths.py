"""/free answers the same with its fast paths (issue 15): a day with no booking is the opening hours whole
(adjoining periods joined, from now on), and hours are shown in the zone of whoever reads them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.i18n import Translator
from storage.booking_rules import SpaceRules, free_periods

PARIS = ZoneInfo("Europe/Paris")
DAY = date(2026, 12, 2)  # a Wednesday


def rules(hours: list[tuple[time, time]], capacity: int = 1) -> SpaceRules:
    return SpaceRules(capacity=capacity, hours={"wed": hours}, max_duration=timedelta(hours=8), max_days_ahead=90,
                      weekly_quota=None, required_qualification=None, closed=False)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime.combine(DAY, time(hour, minute), tzinfo=PARIS).astimezone(UTC)


def test_a_day_without_booking_is_the_opening_hours_joined_where_they_touch() -> None:
    early = at(0) - timedelta(days=1)
    joined = rules([(time(8), time(12)), (time(12), time(20))])
    assert free_periods(joined, [], DAY, early, PARIS) == [(at(8), at(20))]
    lunch = rules([(time(8), time(12)), (time(13), time(20))])
    assert free_periods(lunch, [], DAY, early, PARIS) == [(at(8), at(12)), (at(13), at(20))]


def test_a_day_without_booking_starts_now_and_drops_a_last_quarter_hour_too_short() -> None:
    hours = rules([(time(8), time(12)), (time(13), time(20))])
    assert free_periods(hours, [], DAY, at(10, 30), PARIS) == [(at(10, 30), at(12)), (at(13), at(20))]
    assert free_periods(hours, [], DAY, at(19, 50), PARIS) == []


def test_the_same_with_bookings_cuts_only_where_the_space_is_full() -> None:
    hours = rules([(time(8), time(20))], capacity=2)
    one = [(at(9), at(10))]
    assert free_periods(hours, one, DAY, at(0), PARIS) == [(at(8), at(20))]
    two = [*one, (at(9, 30), at(11))]
    assert free_periods(hours, two, DAY, at(0), PARIS) == [(at(8), at(9, 30)), (at(10), at(20))]


def test_an_hour_is_shown_in_each_readers_zone_even_for_the_same_instant() -> None:
    moment = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # the night the clocks go back in Paris
    assert Translator("fr", PARIS).fmt_time(moment) == "02:30"
    assert Translator("fr", ZoneInfo("America/Montreal")).fmt_time(moment) == "21:30"
    assert Translator("fr", PARIS).fmt_time(moment - timedelta(hours=1)) == "02:30"  # the repeated hour
    first, second = (datetime(2026, 10, 25, 2, 30, tzinfo=PARIS, fold=fold) for fold in (0, 1))
    montreal = Translator("fr", ZoneInfo("America/Montreal"))
    assert (montreal.fmt_time(first), montreal.fmt_time(second)) == ("20:30", "21:30")
    assert Translator("en", PARIS).fmt_time(time(9, 5)) == "09:05"
