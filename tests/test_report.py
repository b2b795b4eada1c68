"""The activity report on a month seeded through the chat (bookings, hours, shifts), every figure
recomputed here from the seed and the spaces file, not from the bot's code."""

from __future__ import annotations

import calendar
import csv
import io
import subprocess
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, select

from bot.cli import main
from storage.models import Member
from tests.harness import Chat

ROOT = Path(__file__).resolve().parent.parent
HOUR_VALUE = Decimal("12.02")  # the SMIC horaire brut in force in November 2026 (since 1 January 2026)

# (who, space, day, start, end) — booked on 2 November for later in the month
BOOKINGS = [
    ("alice", "salle-reunion", "2026-11-03", "14:00", "16:00"),
    ("bob", "salle-reunion", "2026-11-05", "09:00", "12:00"),
    ("alice", "open-space", "2026-11-10", "09:00", "17:00"),
    ("carol", "open-space", "2026-11-10", "10:00", "12:00"),
    ("dave", "petite-salle", "2026-11-20", "15:00", "17:00"),
]
CANCELLED = ("erin", "salle-reunion", "2026-11-12", "10:00", "11:00")
NEXT_MONTH = ("alice", "salle-reunion", "2026-12-01", "10:00", "11:00")
# (who, minutes, project, day) — logged at the end of the month
TASKS = [
    ("alice", "2h30", 150, "ressourcerie", "2026-11-04"),
    ("bob", "1h", 60, None, "2026-11-10"),
    ("frank", "3h", 180, "cafe", "2026-11-14"),
    ("alice", "45min", 45, "ressourcerie", "2026-11-29"),
]
OUT_OF_MONTH_TASK = ("alice", "2h", 120, "cafe", "2026-10-31")
# Shifts (title, day, hours, places, project); who took them; confirmed hours (None: the shift's length)
SHIFTS = [
    ("Tenir le bar", "2026-11-14", "18h-22h", 2, "cafe"),
    ("Tri", "2026-11-21", "10h-12h", 3, "ressourcerie"),
]
TAKERS = [("gina", 1, None, 240), ("henri", 1, "3h", 180), ("gina", 2, None, 120)]


def seed_month(chat: Chat) -> None:
    chat.clock.now = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # Monday 2 November, 09:00 in Paris
    for who, space, day, start, end in [*BOOKINGS, CANCELLED, NEXT_MONTH]:
        assert chat.text(who, f"/book {space} {day} {start}-{end}").startswith("Réservé"), (who, space, day)
    assert chat.text("erin", "/cancel 6").startswith("Annulé")
    for title, day, hours, places, project in SHIFTS:
        chat.say("coord", f'/need "{title}" {day} {hours} {places} #{project}')
    chat.say("coord", '/need "Bar" 2026-12-05 18h-22h 1')
    for who, shift_id, _, _ in TAKERS:
        assert chat.text(who, f"/take {shift_id}").startswith("C'est noté")
    chat.say("ivan", "/take 3")  # December: not active in November
    chat.clock.now = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)
    for who, duration, _, project, day in [*TASKS, OUT_OF_MONTH_TASK]:
        tag = f" #{project}" if project else ""
        assert chat.text(who, f"/task {duration} travail{tag} {day}").startswith("C'est noté")
    for who, shift_id, correction, _ in TAKERS:
        assert chat.text(who, f"/shift done {shift_id} {correction or ''}").startswith("C'est noté")


def minutes(start: str, end: str) -> int:
    (h1, m1), (h2, m2) = (map(int, start.split(":")), map(int, end.split(":")))
    return (h2 * 60 + m2) - (h1 * 60 + m1)


def november_opening_minutes() -> dict[str, tuple[int, int]]:
    """(capacity, minutes open in November 2026) per space, from examples/spaces.toml. November has no
    clock change, so wall-clock minutes are real minutes."""
    data = tomllib.loads((ROOT / "examples" / "spaces.toml").read_text())
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    result = {}
    for space in data["spaces"]:
        hours = space.get("hours", data["site"]["hours"])
        total = 0
        for day in range(1, calendar.monthrange(2026, 11)[1] + 1):
            ranges = hours.get(names[calendar.weekday(2026, 11, day)], "")
            for item in filter(None, ranges.split(",")):
                start, end = item.strip().split("-")
                total += minutes(start, end)
        result[space["slug"]] = (space.get("capacity", 1), total)
    return result


def expected_figures() -> dict[tuple[str, str, str], str]:
    figures: dict[tuple[str, str, str], str] = {}
    opening = november_opening_minutes()
    for slug, (capacity, open_minutes) in opening.items():
        mine = [b for b in BOOKINGS if b[1] == slug]
        booked = sum(minutes(b[3], b[4]) for b in mine)
        figures[("space", slug, "bookings")] = str(len(mine))
        figures[("space", slug, "booked_hours")] = f"{booked / 60:.2f}"
        figures[("space", slug, "open_hours")] = f"{open_minutes / 60:.2f}"
        figures[("space", slug, "occupancy_rate")] = str(round(booked / (open_minutes * capacity), 4))
        figures[("space", slug, "bookers")] = str(len({b[0] for b in mine}))
    logged = [(who, m, project) for who, _, m, project, _ in TASKS]
    logged += [(who, m, SHIFTS[shift_id - 1][4]) for who, shift_id, _, m in TAKERS]
    for project in {p for _, _, p in logged}:
        rows = [(who, m) for who, m, p in logged if p == project]
        figures[("volunteer_project", project or "", "hours")] = f"{sum(m for _, m in rows) / 60:.2f}"
        figures[("volunteer_project", project or "", "volunteers")] = str(len({w for w, _ in rows}))
    total = sum(m for _, m, _ in logged)
    figures[("volunteers", "total", "hours")] = f"{total / 60:.2f}"
    figures[("volunteers", "total", "volunteers")] = str(len({w for w, _, _ in logged}))
    figures[("shifts", "total", "shifts")] = str(len(SHIFTS))
    figures[("shifts", "total", "places")] = str(sum(s[3] for s in SHIFTS))
    figures[("shifts", "total", "places_taken")] = str(len(TAKERS))
    active = {b[0] for b in BOOKINGS} | {w for w, _, _ in logged} | {w for w, _, _, _ in TAKERS}
    figures[("members", "total", "active")] = str(len(active))
    figures[("valuation", "total", "hour_value_eur")] = str(HOUR_VALUE)
    amount = (Decimal(total) / 60 * HOUR_VALUE).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)  # half up
    figures[("valuation", "total", "amount_eur")] = str(amount)
    return figures


def csv_report(database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
               *args: str) -> dict[tuple[str, str, str], str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("TIMEZONE", "Europe/Paris")
    monkeypatch.setenv("LANGUAGE", "fr")
    monkeypatch.delenv("VOLUNTEER_HOUR_VALUE", raising=False)
    capsys.readouterr()
    assert main(["report", *args, "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["section", "item", "metric", "value"]
    return {(s, i, m): v for s, i, m, v in rows[1:]}


def test_the_monthly_figures_match_the_seeded_month(chat: Chat, database_url: str, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    seed_month(chat)
    chat.clock.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    figures = csv_report(database_url, monkeypatch, capsys, "--month", "2026-11")
    expected = expected_figures()
    assert {key: figures.get(key) for key in expected} == expected
    assert figures[("period", "2026-11", "first_day")] == "2026-11-01"
    assert figures[("period", "2026-11", "last_day")] == "2026-11-30"
    assert not any(section == "volunteer" for section, _, _ in figures), "no names unless asked"


def test_the_report_in_the_chat_is_french_markdown_for_coordinators_only(chat: Chat) -> None:
    seed_month(chat)
    assert "Seul·e un·e coordinateur·rice" in chat.text("alice", "/bilan 2026-11")
    report = chat.text("coord", "/bilan 2026-11")
    logged = sum(t[2] for t in TASKS) + sum(t[3] for t in TAKERS)
    amount = (Decimal(logged) / 60 * HOUR_VALUE).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert report.startswith("# Bilan d'activité — novembre 2026\n\n## Réservations d'espaces\n")
    assert "- Salle de réunion : 2 réservations, 5h réservées, occupation " in report
    assert f"Total : {len(BOOKINGS)} réservations" in report
    volunteers = len({t[0] for t in TASKS} | {t[0] for t in TAKERS})
    assert f"Total : {logged // 60}h{logged % 60:02d} par {volunteers} bénévoles distinct·es." in report
    places = sum(s[3] for s in SHIFTS)
    assert f"Créneaux proposés : {len(SHIFTS)} ; places pourvues : {len(TAKERS)} sur {places}." in report
    assert f"{logged / 60:.2f}".rstrip("0").replace(".", ",") + " h × 12,02\xa0€ = " in report
    assert f"{amount}".replace(".", ",") + "\xa0€ (SMIC horaire brut en vigueur depuis le 1 janvier 2026)" in report
    assert ("À inscrire en contributions volontaires en nature (règlement ANC 2018-06) : débit 864 « Personnel "
            "bénévole », crédit 875 « Bénévolat », " + f"{amount}".replace(".", ",") + "\xa0€.") in report
    assert "870" not in report
    assert "Gina" not in report
    with_names = chat.text("coord", "/bilan 2026-11 noms")
    assert "### Heures par bénévole" in with_names and "- Gina: 6h" in with_names


def test_a_year_report_and_an_empty_month(chat: Chat, database_url: str, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    seed_month(chat)
    year = csv_report(database_url, monkeypatch, capsys, "--year", "2026")
    in_november = sum(t[2] for t in TASKS) + sum(t[3] for t in TAKERS)
    assert year[("volunteers", "total", "hours")] == f"{(in_november + OUT_OF_MONTH_TASK[2]) / 60:.2f}"
    assert year[("space", "salle-reunion", "bookings")] == "3", "December's booking counts in the year"
    empty = csv_report(database_url, monkeypatch, capsys, "--month", "2026-09")
    assert empty[("volunteers", "total", "hours")] == "0.00"
    assert empty[("valuation", "total", "amount_eur")] == "0.00"
    assert empty[("space", "salle-reunion", "occupancy_rate")] == "0.0"


def test_event_figures_count_confirmed_sign_ups_against_places(chat: Chat) -> None:
    from storage.models_events import Event, EventOccurrence, EventSignup
    from storage.report import build_report
    from storage.volunteer_rules import month_period

    with Session(chat.app.engine) as session:
        chat.say("alice", "/start")
        organiser = session.exec(select(Member)).first()
        assert organiser is not None and organiser.id is not None
        members = [organiser.id]
        for n in range(11):
            member = Member(display_name=f"m{n}")
            session.add(member)
            session.flush()
            assert member.id is not None
            members.append(member.id)
        start, end = datetime(2026, 11, 7, 13, tzinfo=UTC), datetime(2026, 11, 7, 16, tzinfo=UTC)
        event = Event(title="Repair café", organiser_id=organiser.id, capacity=10, start=start, end=end)
        session.add(event)
        session.flush()
        assert event.id is not None
        occurrences = []
        for day, status in ((7, "scheduled"), (14, "scheduled"), (21, "cancelled")):
            occurrence = EventOccurrence(event_id=event.id, original_start=start.replace(day=day),
                                         start=start.replace(day=day), end=end.replace(day=day), status=status)
            session.add(occurrence)
            session.flush()
            occurrences.append(occurrence)
        for occurrence, confirmed in zip(occurrences, (4, 10, 3), strict=True):
            for member_id in members[:confirmed]:
                session.add(EventSignup(occurrence_id=occurrence.id, member_id=member_id, status="confirmed",
                                        joined_at=start))
        session.add(EventSignup(occurrence_id=occurrences[1].id, member_id=members[11], status="waitlisted",
                                joined_at=start))
        session.commit()
        report = build_report(session, month_period(2026, 11), chat.app.settings.tz, HOUR_VALUE)
    assert report.events is not None
    assert (report.events.count, report.events.attendance) == (2, 14)
    assert report.events.fill == pytest.approx(14 / 20)
    assert [e.fill for e in report.events.events] == [pytest.approx(0.4), pytest.approx(1.0)]
    assert report.active_members == 10, "members signed up to an event are active"


def test_tierslieu_report_on_the_command_line_prints_markdown(tmp_path: Path) -> None:
    database = tmp_path / "tierslieu.db"
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{database}", "LANGUAGE": "fr",
           "VOLUNTEER_HOUR_VALUE": "12,50"}
    result = subprocess.run([sys.executable, "-m", "bot", "report", "--month", "2026-11"], capture_output=True,
                            text=True, env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# Bilan d'activité — novembre 2026")
    assert "0 h × 12,50\xa0€ = 0,00\xa0€" in result.stdout
    bad = subprocess.run([sys.executable, "-m", "bot", "report", "--month", "novembre"], capture_output=True,
                         text=True, env=env, cwd=tmp_path, timeout=120)
    assert bad.returncode == 1 and "--month takes a month like 2026-11" in bad.stderr
    wrong_rate = subprocess.run([sys.executable, "-m", "bot", "report"], capture_output=True, text=True,
                                env={**env, "VOLUNTEER_HOUR_VALUE": "douze"}, cwd=tmp_path, timeout=120)
    assert wrong_rate.returncode == 2 and "VOLUNTEER_HOUR_VALUE: 'douze'" in wrong_rate.stderr


def test_report_time_is_local(chat: Chat) -> None:
    """A booking at 00:30 on 1 December in Paris is 23:30 UTC on 30 November: it belongs to December."""
    chat.clock.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    chat.say("coord", "/space edit salle-reunion tue=00:00-19:00")
    assert chat.text("alice", "/book salle-reunion 2026-12-01 00:30-01:30").startswith("Réservé")
    november = chat.text("coord", "/bilan 2026-11")
    december = chat.text("coord", "/bilan 2026-12")
    assert "- Salle de réunion : 0 réservation," in november
    assert "- Salle de réunion : 1 réservation, 1h réservées" in december


@given(st.lists(st.tuples(st.integers(0, 600), st.integers(1, 300)), max_size=15),
       st.lists(st.tuples(st.integers(0, 40), st.integers(1, 40)), max_size=10))
def test_time_inside_opening_hours_is_counted_minute_by_minute(bookings: list[tuple[int, int]],
                                                               gaps_and_lengths: list[tuple[int, int]]) -> None:
    from storage.report import overlap_minutes

    base = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
    windows, cursor = [], 0
    for gap, length in gaps_and_lengths:  # sorted, disjoint opening windows
        windows.append((cursor + gap, cursor + gap + length * 10))
        cursor += gap + length * 10
    open_minutes = {m for a, b in windows for m in range(a, b)}
    expected = sum(len(set(range(s, s + length)) & open_minutes) for s, length in bookings)

    def moment(minute: int) -> datetime:
        return base + timedelta(minutes=minute)

    assert overlap_minutes([(moment(s), moment(s + n)) for s, n in bookings],
                           [(moment(a), moment(b)) for a, b in windows]) == expected


def log_hours(chat: Chat, now: datetime, *entries: tuple[str, str, str]) -> None:
    chat.clock.now = now
    for who, duration, day in entries:
        assert chat.text(who, f"/task {duration} accueil {day}").startswith("C'est noté"), (who, day)


def test_a_2025_and_a_2026_report_value_hours_at_the_smic_of_their_period(chat: Chat) -> None:
    log_hours(chat, datetime(2025, 6, 30, 18, tzinfo=UTC), ("alice", "10h", "2025-06-12"))
    june_2025 = chat.text("coord", "/bilan 2025-06")
    assert "10 h × 11,88\xa0€ = 118,80\xa0€ (SMIC horaire brut en vigueur depuis le 1 novembre 2024)" in june_2025
    assert "débit 864 « Personnel bénévole », crédit 875 « Bénévolat », 118,80\xa0€." in june_2025
    log_hours(chat, datetime(2026, 3, 31, 18, tzinfo=UTC), ("alice", "10h", "2026-03-12"))
    march_2026 = chat.text("coord", "/bilan 2026-03")
    assert "10 h × 12,02\xa0€ = 120,20\xa0€ (SMIC horaire brut en vigueur depuis le 1 janvier 2026)" in march_2026
    assert "crédit 875 « Bénévolat », 120,20\xa0€." in march_2026


def test_a_year_across_a_change_of_the_smic_values_each_part_at_its_rate(
        chat: Chat, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    log_hours(chat, datetime(2024, 12, 20, 18, tzinfo=UTC), ("alice", "10h", "2024-06-12"), ("bob", "5h", "2024-12-03"))
    report = chat.text("coord", "/bilan 2024")
    assert "- du 1 janvier 2024 au 31 octobre 2024 : 10 h × 11,65\xa0€ = 116,50\xa0€" in report
    assert "- du 1 novembre 2024 au 31 décembre 2024 : 5 h × 11,88\xa0€ = 59,40\xa0€" in report
    assert "Total : 175,90\xa0€" in report
    figures = csv_report(database_url, monkeypatch, capsys, "--year", "2024")
    assert figures[("valuation", "total", "amount_eur")] == "175.90"
    assert figures[("valuation", "total", "hour_value_eur")] == ""
    assert figures[("valuation", "2024-11-01/2024-12-31", "hour_value_eur")] == "11.88"
    assert (figures[("valuation", "total", "debit_account")], figures[("valuation", "total", "credit_account")]) == (
        "864", "875")


def test_an_associations_own_rate_replaces_the_smic_and_is_named(chat: Chat) -> None:
    from dataclasses import replace

    log_hours(chat, datetime(2026, 3, 31, 18, tzinfo=UTC), ("alice", "10h", "2026-03-12"))
    chat.app.dispatcher.settings = replace(chat.app.settings, volunteer_hour_value=Decimal("15.00"))
    report = chat.text("coord", "/bilan 2026-03")
    assert "10 h × 15,00\xa0€ = 150,00\xa0€ (taux propre à l'association (VOLUNTEER_HOUR_VALUE))" in report


def test_csv_names_each_event_by_its_number_and_local_time(chat: Chat, database_url: str,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    chat.clock.now = datetime(2026, 11, 2, 8, tzinfo=UTC)
    chat.say("coord", '/event add "Repair café" 2026-11-07 14h-18h chaque samedi 2 fois')
    chat.say("coord", '/event add "Repair café" 2026-11-07 14h-18h lieu petite-salle chaque samedi 2 fois')
    figures = csv_report(database_url, monkeypatch, capsys, "--month", "2026-11")
    items = sorted({item for section, item, _ in figures if section == "event"})
    assert items == ["#1 2026-11-07 14:00 Repair café", "#2 2026-11-14 14:00 Repair café",
                     "#3 2026-11-07 14:00 Repair café", "#4 2026-11-14 14:00 Repair café"]


def test_dates_held_before_the_rest_of_a_series_was_cancelled_count_in_the_report(chat: Chat) -> None:
    chat.clock.now = datetime(2026, 11, 2, 8, tzinfo=UTC)
    chat.say("coord", '/event add "Repair café" 2026-11-07 14h-18h places 10 chaque samedi 4 fois')
    chat.say("alice", "/join 1")
    chat.clock.now = datetime(2026, 11, 16, 8, tzinfo=UTC)  # 7 and 14 November held
    chat.say("coord", "/event cancel 3 all")
    report = chat.text("coord", "/bilan 2026-11")
    assert "2 événements, 1 inscription" in report


# --- Attendance (issue 16): a month whose figures are worked out by hand ------------------------------------


def november_open_minutes_any_space() -> int:
    """Minutes of November 2026 when at least one space is open: each open minute of each day, counted once."""
    data = tomllib.loads((ROOT / "examples" / "spaces.toml").read_text())
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    open_minutes: set[tuple[int, int]] = set()
    for space in data["spaces"]:
        hours = space.get("hours", data["site"]["hours"])
        for day in range(1, 31):
            for item in filter(None, hours.get(names[calendar.weekday(2026, 11, day)], "").split(",")):
                start, end = item.strip().split("-")
                first = minutes("00:00", start)
                open_minutes |= {(day, m) for m in range(first, first + minutes(start, end))}
    return len(open_minutes)


def seed_attendance(chat: Chat) -> None:
    """Workshop (réemploi) on Saturday 28: alice, bob, carol signed up; alice checks in, the organiser marks
    bob, carol doesn't come; erin checks in without a sign-up and 3 more are counted at the door.
    Café on Sunday 29: dave signed up, nobody recorded attendance. Visitors: 12 on Monday 23, 5 'jeunes' on
    Sunday 22."""
    chat.say("coord", "/categories add activities reemploi")
    chat.say("coord", "/categories add visitors jeunes")
    chat.say("coord", '/event add "Atelier vélo" samedi 14h-18h places 10')
    chat.say("coord", '/event add "Café numérique" dimanche 10h-12h')
    chat.say("coord", "/categories event 1 reemploi")
    for who in ("alice", "bob", "carol"):
        chat.say(who, "/join 1")
    chat.say("dave", "/join 2")
    chat.say("coord", "/visitors 12")
    chat.say("coord", "/visitors 5 jeunes yesterday")
    chat.clock.now = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
    assert "checked in" in chat.text("alice", "/checkin", lang="en")
    assert "checked in" in chat.text("erin", "/checkin 1", lang="en")
    bob = member_id(chat, "Bob")
    chat.say("coord", f"/attendance mark 1 #{bob} present")
    chat.say("coord", "/attendance walkins 1 +3")
    chat.clock.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def member_id(chat: Chat, name: str) -> int:
    with Session(chat.app.engine) as session:
        member = session.exec(select(Member).where(Member.display_name == name)).one()
        assert member.id is not None
        return member.id


def test_attendance_figures_of_a_hand_computed_month(chat: Chat, database_url: str, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    seed_attendance(chat)
    figures = csv_report(database_url, monkeypatch, capsys, "--month", "2026-11")
    workshop = next(item for section, item, _ in figures if section == "event" and "Atelier" in item)
    cafe = next(item for section, item, _ in figures if section == "event" and "Café" in item)
    assert [figures[("event", workshop, m)] for m in ("signups", "present", "no_show", "walk_in", "category")] \
        == ["3", "2", "1", "4", "reemploi"]
    assert [figures[("event", cafe, m)] for m in ("signups", "present", "no_show", "walk_in")] == ["1", "", "", ""]
    assert figures[("events", "total", "recorded_dates")] == "1"
    assert figures[("events", "total", "recorded_signups")] == "3"
    assert (figures[("events", "total", "present")], figures[("events", "total", "no_show")],
            figures[("events", "total", "walk_in")]) == ("2", "1", "4")
    assert figures[("visits", "none", "count")] == "12"
    assert figures[("visits", "jeunes", "count")] == "5"
    assert figures[("visits", "total", "count")] == "17"
    assert figures[("people", "total", "unique")] == "3", "alice, bob and erin came; carol and dave only signed up"
    assert figures[("people", "total", "contacts")] == str(2 + 4 + 17)
    assert [figures[("activity", "reemploi", m)] for m in ("events", "signups", "received")] == ["1", "3", "6"]
    assert [figures[("activity", "", m)] for m in ("events", "signups", "received")] == ["1", "1", "0"]
    assert figures[("opening", "total", "hours")] == f"{november_open_minutes_any_space() / 60:.2f}"
    # The chat report: counts, and never a name.
    text = chat.text("coord", "/report 2026-11", lang="en")
    assert ("Attendance recorded at 1 of 2 dates: 2 present and 1 no-shows out of 3 sign-ups, 4 walk-ins."
            in text)
    assert "23 passages (present and walk-ins at events, daily visitors); 3 distinct members came" in text
    assert "17 visitors counted by the day's rota (no category: 12, jeunes: 5)." in text
    assert "- reemploi: 1 dates, 3 sign-ups, 6 people received" in text
    assert not any(name in text for name in ("Alice", "Bob", "Erin", "Carol"))
    preset = chat.text("coord", "/report 2026-11 caf-evs", lang="en")
    assert preset.startswith("# CAF — Espace de Vie Sociale (SENACS survey) — November 2026")
    assert "| Distinct members received | 3 |" in preset


@pytest.mark.parametrize("preset", ["caf-evs", "fabrique", "recensement"])
def test_each_funder_preset_gives_its_figures_with_definition_and_source(
        sqlite_chat: Chat, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        preset: str) -> None:
    seed_attendance(sqlite_chat)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("TIMEZONE", "Europe/Paris")
    monkeypatch.setenv("LANGUAGE", "fr")
    capsys.readouterr()
    assert main(["report", "--month", "2026-11", "--format", preset, "--csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["section", "item", "metric", "value", "label", "definition", "source"]
    by_key = {(s, i, m): (v, label, definition, source) for s, i, m, v, label, definition, source in rows[1:]}
    assert by_key[("people", "total", "contacts")][0] == "23"
    assert all(label and definition and source for _, label, definition, source in by_key.values())
    assert by_key[("people", "total", "contacts")][1] == "Fréquentation (passages)"
    expected = {"caf-evs": ("people", "total", "unique"), "fabrique": ("events", "total", "walk_in"),
                "recensement": ("events", "total", "no_show")}[preset]
    assert by_key[expected][0] == {"caf-evs": "3", "fabrique": "4", "recensement": "1"}[preset]
    assert main(["report", "--month", "2026-11", "--format", preset]) == 0
    markdown = capsys.readouterr().out
    assert markdown.startswith("# ") and "| Fréquentation (passages) | 23 |" in markdown
    assert "Alice" not in markdown
