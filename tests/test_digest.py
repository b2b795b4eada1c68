"""The weekly digest: its figures on seeded data, its picture, and one per chat and week."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import matplotlib.image
import pytest
from sqlmodel import Session

from bot.core.outbox import reply_from_json
from storage.digest import occupancy_by_space, occupancy_grid
from tests.harness import Chat


def seed_week(chat: Chat) -> None:
    chat.clock.now = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # the Monday before
    chat.say("alice", "/book salle-reunion 2026-11-17 10h-12h")
    chat.say("bob", "/book open-space 2026-11-18 9h-13h")
    chat.say("alice", "/book petite-salle 2026-11-25 14h-15h")
    chat.say("carol", "/book salle-reunion 2026-11-26 9h-10h")
    chat.say("carol", "/cancel 4")
    chat.say("coord", '/event add "Atelier vélo" 2026-11-18 18h-20h places 10')
    chat.say("alice", "/join 1")
    chat.clock.now = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # Monday 08:00 Paris
    chat.say("bob", "/task 2h30 tri des dons #ressourcerie 2026-11-19")
    chat.say("coord", '/event add "Repair café" 2026-11-28 14h-18h places 12')
    chat.say("bob", "/join 2")
    chat.say("coord", '/need "Tenir le bar" 2026-11-28 18h-22h 2')


def test_digest_shows_the_week_ahead_and_last_weeks_figures(chat: Chat) -> None:
    seed_week(chat)
    [digest] = chat.say("alice", "/resume")
    assert digest.title == "La semaine du lundi 23 novembre au dimanche 29 novembre"
    assert digest.text.splitlines() == [
        "Événements :",
        "• Repair café, samedi 28 novembre, 14:00–18:00 — 11 places libres (/inscrire 2)",
        "",
        "Bénévoles recherché·es :",
        "• Tenir le bar, samedi 28 novembre, 18:00–22:00 — 2 personnes (/prendre 1)",
        "",
        "1 réservation d'espace cette semaine.",
        "",
        "La semaine passée : 2 réservations (6h) par 2 membres.",
        "",
        "La semaine passée : 1 événement, 1 inscription ; 2h30 de bénévolat.",
    ]
    assert digest.image is not None and digest.image_name == "digest-2026-W48.png"
    picture = matplotlib.image.imread(io.BytesIO(digest.image), format="png")
    assert picture.shape[0] > 200 and picture.shape[1] > 500


def test_occupancy_grid_counts_places_taken_per_hour(sqlite_chat: Chat) -> None:
    seed_week(sqlite_chat)
    with Session(sqlite_chat.app.engine) as session:
        grid = occupancy_grid(session, date(2026, 11, 23), ZoneInfo("Europe/Paris"))
    total_places = 1 + 1 + 8 + 1 + 2 + 1  # the sample spaces, laser included
    wednesday, two_pm = 2, 14 - 8
    assert grid[wednesday][two_pm] == 1 / total_places
    assert sum(sum(row) for row in grid) == 1 / total_places


def test_weekly_digest_goes_once_to_each_subscribed_chat_in_its_language(sqlite_chat: Chat) -> None:
    seed_week(sqlite_chat)
    sqlite_chat.say("coord", "/subscribe", group="g1")
    sqlite_chat.say("bob", "/lang en")
    sqlite_chat.say("bob", "/subscribe")
    assert sqlite_chat.app.jobs.run_now("weekly-digest") == 2
    assert sqlite_chat.app.jobs.run_now("weekly-digest") == 0, "a second fire the same week sends nothing"
    titles = {m.chat_id: reply_from_json(m.payload).title for m in sqlite_chat.outbox()}
    assert titles == {"g1": "La semaine du lundi 23 novembre au dimanche 29 novembre",
                      "bob": "The week from Monday 23 November to Sunday 29 November"}
    sqlite_chat.clock.advance(days=7)
    assert sqlite_chat.app.jobs.run_now("weekly-digest") == 2


def test_each_space_has_its_own_scale_so_a_full_room_shows_full(sqlite_chat: Chat) -> None:
    seed_week(sqlite_chat)
    sqlite_chat.clock.now = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    for day in range(23, 28):
        sqlite_chat.say("carol", f"/book salle-reunion 2026-11-{day} 9h-13h")
    with Session(sqlite_chat.app.engine) as session:
        weeks, left_out = occupancy_by_space(session, date(2026, 11, 23), ZoneInfo("Europe/Paris"))
        pooled = occupancy_grid(session, date(2026, 11, 23), ZoneInfo("Europe/Paris"))
    assert [w.name for w in weeks] == ["Salle de réunion", "Petite salle"], "busiest first, unbooked left out"
    assert left_out == 4
    monday, ten_am = 0, 10 - 8
    assert weeks[0].grid[monday][ten_am] == 1.0  # the room is full: the darkest colour
    assert pooled[monday][ten_am] < 0.1  # what the pooled map used to show: pale yellow


def test_the_weekly_chart_is_drawn_before_the_jobs_transaction(sqlite_chat: Chat,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import handlers.digest

    seed_week(sqlite_chat)
    sqlite_chat.say("coord", "/subscribe", group="g1")
    drawn_in_transaction: list[bool] = []
    draw = handlers.digest.draw_chart

    def watched(*args: Any) -> bytes:
        drawn_in_transaction.append(sqlite_chat.app.engine.pool.checkedout() > 0)
        return draw(*args)

    monkeypatch.setattr(handlers.digest, "draw_chart", watched)
    assert sqlite_chat.app.jobs.run_now("weekly-digest") == 1
    assert drawn_in_transaction == [False]


def test_matplotlib_is_imported_only_when_a_chart_is_drawn() -> None:
    code = ("import sys; import bot.app, handlers, handlers.digest, bot.charts; "
            "print('matplotlib' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            cwd=Path(__file__).resolve().parent.parent)
    assert result.stdout.strip() == "False", result.stderr[-500:]
