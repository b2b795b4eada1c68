"""Members' data rights through the chat, on SQLite and PostgreSQL: /mesdonnees holds one of everything;
/oublie-moi leaves the reports' totals as they were, no trace of the name anywhere, and the waiting list moves
on; coordinators do it for a member who asks by other means; old machinery rows go after their retention."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import String, Text, select
from sqlmodel import Session, SQLModel, col

from bot.core.types import Platform
from bot.data_export import export_routes
from storage.models import Member, OutboxMessage
from storage.report import build_report
from storage.volunteer_rules import month_period
from tests.harness import Chat, with_settings

REPAIR = '/event add "Repair café" samedi 14h-18h places 1 lieu salle-reunion chaque samedi'


def one_of_everything(chat: Chat) -> None:
    """Alice (with a Telegram account joined) books, signs up, gives time, takes a shift, sets reminders."""
    chat.say("alice", "/start")
    chat.say("coord", "/grant alice laser")
    chat.say("alice", "/book salle-reunion mercredi 14h-16h")
    chat.say("alice", "/book decoupeuse-laser mardi 15h-16h")
    chat.say("coord", REPAIR)
    chat.say("alice", "/join 1")
    chat.say("bob", "/join 1")  # waiting list
    chat.say("alice", "/tache 2h30 tri des dons #ressourcerie")
    chat.say("coord", '/besoin "Tenir le bar" samedi 18h-22h 2 #cafe')
    chat.say("alice", "/take 1")
    chat.say("alice", "/rappel demain 9h appeler la mairie")
    chat.say("alice", "/subscribe")
    code = chat.text("alice", "/link").split("/link ")[1].split()[0]
    chat.say("alice_tg", f"/link {code}", platform=Platform.TELEGRAM)
    # The first account confirms with the button the bot sent it.
    [confirm] = [json.loads(r.payload)["actions"][0]["command"] for r in chat.outbox()
                 if r.chat_id == "alice" and json.loads(r.payload)["actions"]][-1:]
    chat.app.dispatcher.handle_sync(chat.incoming("alice", confirm, is_action=True))


def exported(chat: Chat, user: str = "alice", args: str = "") -> dict:  # type: ignore[type-arg]
    replies = chat.say(user, f"/mesdonnees {args}".strip())
    return json.loads("".join(r.text for r in replies[1:]))


def test_mydata_holds_one_of_everything_in_a_private_chat_only(chat: Chat) -> None:
    one_of_everything(chat)
    assert "conversation privée" in chat.text("alice", "/mesdonnees", group="g1")
    [summary, *_] = chat.say("alice", "/mesdonnees")
    assert summary.title == "Ce que le bot garde sur Alice"
    for line in ("Habilitations : laser", "2 réservations", "1 inscription à un événement",
                 "1 créneau bénévole pris", "Temps bénévole : 2h30 en 1 entrée"):
        assert line in summary.text, line
    assert "telegram alice_tg" in summary.text and "console alice" in summary.text
    data = exported(chat)
    assert data["member"]["display_name"] == "Alice"
    assert {(a["platform"], a["user_id"]) for a in data["accounts"]} == {("console", "alice"), ("telegram", "alice_tg")}
    records = data["records"]
    assert len(records["booking"]["member_id"]) == 2
    assert records["eventsignup"]["member_id"][0]["status"] == "confirmed"
    assert records["task_entry"]["member_id"][0]["minutes"] == 150
    assert len(records["shift_signup"]["member_id"]) == 1
    assert any(r["text"] == "appeler la mairie" for r in records["reminder"]["member_id"])
    assert records["qualification"]["member_id"][0]["name"] == "laser"
    # Bob's file says nothing of Alice.
    assert "Alice" not in json.dumps(exported(chat, "bob"))


def test_a_coordinator_gets_a_members_file_others_cannot(chat: Chat) -> None:
    one_of_everything(chat)
    assert exported(chat, "coord", "alice")["member"]["display_name"] == "Alice"
    assert "Seule la coordination" in chat.text("bob", "/mesdonnees alice")


async def test_with_a_public_url_the_file_is_a_private_link_for_24_hours(sqlite_chat: Chat, tmp_path: Path) -> None:
    from bot.web import WebServer

    chat = with_settings(sqlite_chat, public_url="https://bot.example.org")
    one_of_everything(chat)
    [_summary, link] = chat.say("alice", "/mydata")
    url = link.text.split(": ", 1)[1]
    assert url.startswith("https://bot.example.org/mydata/") and url.endswith(".json")
    web = WebServer("127.0.0.1", 0)
    web.add_routes(export_routes(chat.app.engine, chat.clock))
    await web.start()
    local = url.replace("https://bot.example.org", f"http://127.0.0.1:{web.port}")
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(local) as response:
                assert response.status == 200 and "attachment" in response.headers["Content-Disposition"]
                assert (await response.json())["member"]["display_name"] == "Alice"
            chat.clock.advance(hours=25)
            async with http.get(local) as response:
                assert response.status == 404
    finally:
        await web.stop()


def text_values(chat: Chat) -> list[tuple[str, str, str]]:
    """Every text value of every table: (table, column, value)."""
    found = []
    with Session(chat.app.engine) as session:
        for table in SQLModel.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(getattr(c.type, "impl", c.type), String | Text)]
            if not columns:
                continue
            for row in session.execute(select(*columns)).all():
                found += [(table.name, c.name, str(v)) for c, v in zip(columns, row, strict=True) if v]
    return found


def report_of_november(chat: Chat) -> object:
    with Session(chat.app.engine) as session:
        return build_report(session, month_period(2026, 11), chat.app.settings.tz)


def test_forgetme_keeps_the_reports_totals_and_leaves_no_trace_of_the_name(chat: Chat) -> None:
    one_of_everything(chat)
    chat.clock.advance(days=8)  # Tuesday 1 December: November is over
    chat.say("alice", "/book salle-reunion jeudi 10h-11h")  # still to come: given back
    chat.say("alice", "/join 2")  # 5 December, Bob waits behind her
    chat.say("bob", "/join 2")
    november = report_of_november(chat)
    before = {(t, c) for t, c, v in text_values(chat) if "alice" in v.lower()}
    assert {("member", "display_name"), ("identity", "user_id"), ("identity", "private_chat_id"),
            ("outboxmessage", "payload"), ("subscription", "chat_id"), ("conversationstate", "chat_id")} <= before
    [question] = chat.say("alice", "/oublie-moi")
    assert "C'est définitif" in question.text
    [done] = chat.press("alice", "Oui, effacer")
    assert done.text.startswith("C'est fait : le bot ne connaît plus votre nom ni vos comptes.")
    assert "2 réservations, places ou créneaux libérés." in done.text
    assert report_of_november(chat) == november
    traces = [(t, c, v) for t, c, v in text_values(chat) if "alice" in v.lower()]
    assert traces == []
    with Session(chat.app.engine) as session:
        names = [m.display_name for m in session.exec(select(Member)).scalars()]  # type: ignore[call-overload]
        assert "ancien membre" in names
        told = [json.loads(r.payload)["text"] for r in session.exec(select(OutboxMessage)).scalars()  # type: ignore[call-overload]
                if r.chat_id == "bob"]
    assert any("une place s'est libérée et elle est pour vous" in text for text in told)
    assert "1/1" in chat.text("bob", "/event 2") or "Complet" in chat.text("bob", "/event 2")
    # Writing again later: a new member, nothing of the old one.
    assert "Aucune réservation" in chat.text("alice", "/mesreservations") or \
        "Salle" not in chat.text("alice", "/mesreservations")


def test_a_coordinator_forgets_a_member_who_asked_by_email(chat: Chat) -> None:
    one_of_everything(chat)
    [question] = chat.say("coord", "/forgetme alice")
    assert "Effacer le nom et les comptes de messagerie de Alice" in question.text
    chat.press("coord", "Oui, effacer")
    assert [v for _t, _c, v in text_values(chat) if "alice" in v.lower()] == []


def test_typing_the_confirmation_instead_of_pressing_asks_again(chat: Chat) -> None:
    chat.say("alice", "/book salle-reunion mercredi 14h-16h")
    assert "C'est définitif" in chat.text("alice", "/forgetme confirm")
    assert chat.text("alice", "/forgetme cancel") == "Rien n'a été effacé."
    assert "Salle de réunion" in chat.text("alice", "/mesreservations")


def test_old_machinery_rows_go_after_their_retention(chat: Chat) -> None:
    chat.say("alice", "/book salle-reunion mercredi 14h-16h")
    chat.say("coord", "/cancel 1")  # alice is told: one outbox row
    with Session(chat.app.engine) as session:
        for row in session.exec(select(OutboxMessage)).scalars():  # type: ignore[call-overload]
            row.status, row.sent_at = "sent", chat.clock.now
            session.add(row)
        session.commit()
    chat.clock.advance(days=29)
    chat.app.jobs.run_now("data-retention")
    assert len(chat.outbox()) == 1
    chat.clock.advance(days=2)
    chat.app.jobs.run_now("data-retention")
    assert chat.outbox() == []
    assert timedelta(days=30) == timedelta(days=chat.app.settings.retention_outbox_days)


def alice_id(chat: Chat) -> int:
    with Session(chat.app.engine) as session:
        return next(m.id for m in session.exec(select(Member)).scalars()  # type: ignore[call-overload]
                    if m.display_name == "Alice")


def rows_of(chat: Chat, model: type[SQLModel], member_id: int) -> int:
    with Session(chat.app.engine) as session:
        return len(session.execute(select(model).where(model.member_id == member_id)).all())  # type: ignore[attr-defined]


def pending_links(chat: Chat, member_id: int) -> int:
    from storage.models_links import PendingLink

    with Session(chat.app.engine) as session:
        return len(session.execute(select(PendingLink).where(col(PendingLink.owner_member_id) == member_id)).all())


def test_forgetme_reaches_links_sessions_presences_votes_sentences_and_received_messages(chat: Chat) -> None:
    """Alice also has a dashboard link and session, a statement link, a presence, a vote, a half-said
    sentence, a link code typed on Matrix and not confirmed, and messages received (hers, and Bob's naming her)."""
    from bot.core.types import ChatRef, Incoming, UserRef
    from storage.attendance import set_presence
    from storage.attestations import new_link as statement_link
    from storage.models_attendance import AttestationLink, Presence, VolunteerRole
    from storage.models_decisions import DecisionVote, MemberRole
    from storage.models_places import MemberPlace, PlaceCoordinator
    from storage.models_site import DashboardLink, DashboardSession
    from storage.site import digest, new_link

    one_of_everything(chat)
    member = alice_id(chat)
    chat.say("coord", '/poll "Quel jour pour le rangement ?" "Samedi" "Dimanche" until vendredi 18h')
    chat.say("alice", "/vote 1 1")
    chat.say("coord", "/role bureau alice")
    chat.say("coord", "/engagement set board alice")
    code = chat.text("alice", "/link").split("/link ")[1].split()[0]
    chat.say("amx", f"/link {code}", platform=Platform.MATRIX)  # an account not yet linked
    chat.say("alice", "je voudrais réserver une salle")
    with Session(chat.app.engine) as session:
        new_link(session, member, chat.clock.now)
        session.add(DashboardSession(session_hash=digest("cookie"), member_id=member, created_at=chat.clock.now,
                                     expires_at=chat.clock.now + timedelta(hours=8)))
        statement_link(session, member, 2026, chat.clock.now)
        set_presence(session, 1, member, True, "self", chat.clock.now)
        session.add(MemberPlace(member_id=member, site_id=1))
        session.add(PlaceCoordinator(member_id=member, site_id=1))
        session.commit()
    tg = Platform.TELEGRAM
    chat.app.inbox.store_sync([
        Incoming(ChatRef(tg, "alice_tg", is_private=True), UserRef(tg, "alice_tg", "Alice", "fr"), "/mesreservations",
                 message_id="1", update_id="1"),
        Incoming(ChatRef(tg, "-100", is_private=False), UserRef(tg, "bob_tg", "Bob", "fr"), "ALICE vient samedi ?",
                 message_id="2", update_id="2")])
    chat.app.inbox.drain_sync()
    before = {t for t, _c, v in text_values(chat) if "alice" in v.lower()}
    assert {"inboxmessage", "conversationstate"} <= before
    assert pending_links(chat, member) == 1
    personal = (DashboardLink, DashboardSession, AttestationLink, MemberRole, VolunteerRole, MemberPlace,
                PlaceCoordinator)
    for model in (*personal, Presence, DecisionVote):
        assert rows_of(chat, model, member) == 1, model

    chat.say("alice", "/oublie-moi")
    chat.press("alice", "Oui, effacer")
    assert [(t, c) for t, c, v in text_values(chat) if "alice" in v.lower()] == []
    assert pending_links(chat, member) == 0
    for model in personal:  # ways in, roles and settings: gone
        assert rows_of(chat, model, member) == 0, model
    for model in (Presence, DecisionVote):  # what the association counts: kept, under the anonymous name
        assert rows_of(chat, model, member) == 1, model
    with Session(chat.app.engine) as session:
        received = [json.loads(p)["text"] for p in session.execute(
            select(SQLModel.metadata.tables["inboxmessage"].c.payload)).scalars()]
    assert received == ["ancien membre vient samedi ?"]
