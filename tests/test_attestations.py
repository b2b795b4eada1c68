"""Volunteer attestations: the statement in the chat, the PDF (its text read back with pypdf), the link served
over HTTP for a day, `tierslieu attestations`, CEC roles, thresholds and the coordinators' reminder. On SQLite and
PostgreSQL. Now is Monday 23 November 2026."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlmodel import Session, select

from bot.cli import main
from bot.core.outbox import reply_from_json
from storage.attestations import cec_flag
from storage.models import Member
from storage.models_volunteers import TaskEntry
from tests.harness import Chat, make_chat

# (duration, minutes, project, day)
ALICE = [("2h30", 150, "cafe", "2026-03-10"), ("1h", 60, "cafe", "2026-03-20"),
         ("4h", 240, "ressourcerie", "2026-06-05"), ("45min", 45, None, "2026-11-02")]


def log_alice(chat: Chat) -> None:
    for duration, _, project, day in ALICE:
        tag = f" #{project}" if project else ""
        assert chat.text("alice", f"/task {duration} accueil{tag} {day}").startswith("C'est noté")
    chat.text("alice", "/task 2h accueil #cafe 2025-12-20")  # another year


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def member_id(chat: Chat, name: str) -> int:
    with Session(chat.app.engine) as session:
        found = session.exec(select(Member).where(Member.display_name == name)).one()
        assert found.id is not None
        return found.id


def test_the_cec_thresholds() -> None:
    assert cec_flag(200 * 60, "board") == "eligible"
    assert cec_flag(200 * 60 - 1, "leader") == "partial"
    assert cec_flag(100 * 60, "leader") == "partial"
    assert cec_flag(100 * 60 - 1, "board") is None
    assert cec_flag(500 * 60, None) is None, "no role, no CEC"


async def test_a_volunteer_gets_the_year_by_project_and_month_and_the_pdf_by_link(database_url: str) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from bot.checkin_page import checkin_routes
    from bot.web import build_web_app

    chat = make_chat(database_url, PUBLIC_URL="http://tl.example.org")
    try:
        log_alice(chat)
        assert chat.text("coord", "/engagement valider 2026 alice") == "Validé : Alice, 8,25 h en 2026."
        assert "déjà validées" in chat.text("coord", "/engagement valider alice")
        assert "La coordination a validé vos heures de bénévolat de 2026 (8,25 h)" in \
            reply_from_json(chat.outbox()[-1].payload).text
        [reply] = chat.say("alice", "/attestation 2026")
        assert reply.title == "Attestation de bénévolat 2026"
        lines = reply.text.splitlines()
        assert lines[0] == "8,25 h en 2026 :"
        assert "• #cafe : mars 3,5" in lines
        assert "• #ressourcerie : juin 4" in lines
        assert "• (sans projet) : nov 0,75" in lines
        link = reply.text.split("http://tl.example.org", 1)[1].split()[0]
        assert link.startswith("/attestation/")
        app = build_web_app([checkin_routes(chat.app.engine, chat.app.settings, chat.clock)])
        async with TestClient(TestServer(app)) as web:
            response = await web.get(link)
            assert response.status == 200 and response.content_type == "application/pdf"
            text = pdf_text(await response.read())
            assert "Attestation de bénévolat 2026" in text
            assert "Alice a donné 8,25 heures de bénévolat en 2026" in text
            assert "#cafe" in text and "#ressourcerie" in text and "3,5" in text
            assert "Validé dans la conversation par Coord, coordination, le 23 novembre 2026." in text
            assert (await web.get("/attestation/not-a-token")).status == 404
            chat.clock.advance(days=1, minutes=1)
            assert (await web.get(link)).status == 404, "the link works for a day"
        # In a group: nothing personal there.
        assert chat.text("alice", "/attestation", group="g1") == "Je vous l'ai envoyé en privé."
        assert "8,25 h" not in chat.text("bob", "/attestation")
    finally:
        chat.app.engine.dispose()


def test_coordinators_set_roles_and_see_who_reaches_the_thresholds(chat: Chat) -> None:
    log_alice(chat)
    chat.say("bob", "/start")
    bob = member_id(chat, "Bob")
    with Session(chat.app.engine) as session:  # 210 hours over the year
        for month in range(1, 11):
            session.add(TaskEntry(member_id=bob, minutes=21 * 60, day=date(2026, month, 3), description="tri"))
        session.commit()
    assert "Seul·e un·e coordinateur·rice" in chat.text("alice", "/engagement")
    assert chat.text("coord", "/engagement role bureau bob") == "Bob : membre du bureau."
    chat.say("coord", "/engagement role encadrant alice")
    summary = chat.text("coord", "/engagement")
    assert "• Bob (membre du bureau) : 210 h — atteint les seuils du CEC" in summary
    assert "• Alice (bénévole qui encadre d'autres bénévoles) : 8,25 h" in summary
    # The year's report, names asked by a coordinator, marks who reaches the thresholds.
    report = chat.text("coord", "/bilan 2026 noms")
    assert "- Bob: 210h — atteint les seuils du CEC" in report
    assert "- Alice: 8h15\n" in report + "\n", "below 100 hours: no mark"
    assert "atteint les seuils" not in chat.text("coord", "/bilan 2026"), "no names, no marks"
    # The reminder before 30 June / 31 December: once, to the coordinators, privately.
    chat.clock.now = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)
    chat.app.jobs.run_now("cec-reminders")
    chat.clock.now += timedelta(hours=1)
    chat.app.jobs.run_now("cec-reminders")
    told = [(row.chat_id, reply_from_json(row.payload).text) for row in chat.outbox()
            if "engagement citoyen" in reply_from_json(row.payload).text]
    assert [to for to, _ in told] == ["coord"]
    assert "avant le 31 décembre" in told[0][1] and "Bob" in told[0][1]


def test_the_command_line_writes_every_attestation(sqlite_chat: Chat, sqlite_url: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    log_alice(sqlite_chat)
    sqlite_chat.text("bob", "/task 1h accueil 2026-11-20")
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("TIMEZONE", "Europe/Paris")
    monkeypatch.setenv("LANGUAGE", "fr")
    assert main(["attestations", "--year", "2026", "--out", str(tmp_path / "out")]) == 0
    files = sorted((tmp_path / "out").glob("*.pdf"))
    assert len(files) == 2
    texts = [pdf_text(f.read_bytes()) for f in files]
    assert any("Alice a donné 8,25 heures" in t for t in texts)
    assert any("Bob a donné 1 heures" in t for t in texts)
    assert "2 attestations written" in capsys.readouterr().out
