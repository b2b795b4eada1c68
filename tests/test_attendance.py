"""Event check-in, walk-ins, the door QR link, the organiser's questions and daily visitors, through the
chat on SQLite and PostgreSQL. Now is Monday 23 November 2026, 10:00 Paris; the workshop is on Saturday
28 November, 14:00-18:00 Paris (13:00-17:00 UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, select

from bot.core.outbox import reply_from_json
from bot.core.types import Reply
from storage.models_attendance import EventTally
from tests.harness import Chat

WORKSHOP = '/event add "Atelier vélo" samedi 14h-18h places 10'
DURING = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)  # 15:00 Paris
AFTER = datetime(2026, 11, 28, 17, 30, tzinfo=UTC)


def notices(chat: Chat) -> list[tuple[str, Reply]]:
    return [(row.chat_id, reply_from_json(row.payload)) for row in chat.outbox()]


def door_code(chat: Chat, number: int = 1) -> str:
    with Session(chat.app.engine) as session:
        tally = session.exec(select(EventTally).where(EventTally.occurrence_id == number)).one()
        return tally.door_code


def workshop_with_signups(chat: Chat, *people: str) -> None:
    chat.say("coord", WORKSHOP)
    for who in people:
        assert "signed up" in chat.text(who, "/join 1", lang="en")


def test_organiser_marks_who_came_from_the_list_and_counts_walk_ins(chat: Chat) -> None:
    workshop_with_signups(chat, "alice", "bob", "carol")
    chat.clock.now = DURING
    [listing] = chat.say("coord", "/attendance 1", lang="en")
    assert listing.title == "Attendance — Atelier vélo"
    assert "3 signed up, 0 present, 3 no-shows, 0 walk-ins" in listing.text
    assert [a.label for a in listing.actions][:3] == ["▫️ Alice", "▫️ Bob", "▫️ Carol"]
    [pressed] = chat.press("coord", "▫️ Alice")
    assert pressed.edit_original
    chat.last_actions["coord"] = list(pressed.actions)
    [pressed] = chat.press("coord", "▫️ Bob")
    chat.last_actions["coord"] = list(pressed.actions)
    [pressed] = chat.press("coord", "+1 without")
    chat.last_actions["coord"] = list(pressed.actions)
    [pressed] = chat.press("coord", "+1 without")
    assert "3 signed up, 2 present, 1 no-shows, 2 walk-ins" in pressed.text
    assert "✅ Alice" in pressed.text and "▫️ Carol" in pressed.text
    # A correction: Bob had left early, and one walk-in was counted twice.
    chat.say("coord", "/attendance mark 1 #3 absent", lang="en")
    text = chat.text("coord", "/attendance walkins 1 -1", lang="en")
    assert "3 signed up, 1 present, 2 no-shows, 1 walk-ins" in text


def test_names_stay_out_of_groups_and_away_from_other_members(chat: Chat) -> None:
    workshop_with_signups(chat, "alice")
    chat.clock.now = DURING
    in_group = chat.text("coord", "/attendance 1", lang="en", group="g1")
    assert "Alice" not in in_group and "1 signed up" in in_group
    assert "Alice" in notices(chat)[-1][1].text  # the list went privately to the one who asked
    assert "Only its organiser or a coordinator" in chat.text("bob", "/attendance 1", lang="en")


def test_a_member_checks_in_during_the_event_only_and_can_undo(chat: Chat) -> None:
    workshop_with_signups(chat, "alice")
    assert "open only during the event" in chat.text("alice", "/checkin 1", lang="en")
    chat.clock.now = DURING
    assert chat.text("alice", "/ici", lang="en") == "Welcome to “Atelier vélo”: you are checked in."
    assert "already checked in" in chat.text("alice", "/checkin 1", lang="en")
    assert "1 signed up, 1 present, 0 no-shows, 0 walk-ins" in chat.text("coord", "/attendance 1", lang="en")
    # Dave hadn't signed up: he checks in as a walk-in the bot knows.
    chat.text("dave", "/checkin 1", lang="en")
    assert "1 present, 0 no-shows, 1 walk-ins" in chat.text("coord", "/attendance 1", lang="en")
    # Alice sees and corrects her own presence.
    assert "Atelier vélo (n° 1): present" in chat.text("alice", "/mypresence", lang="en")
    chat.say("alice", "/checkin 1 no", lang="en")
    assert "Atelier vélo (n° 1): absent" in chat.text("alice", "/mypresence", lang="en")
    chat.clock.now = AFTER
    assert "open only during the event" in chat.text("alice", "/checkin 1", lang="en")


def test_the_door_qr_link_works_during_the_event_only(chat: Chat) -> None:
    workshop_with_signups(chat)
    [qr] = chat.say("coord", "/attendance qr 1", lang="en")
    assert "No PUBLIC_URL" in qr.text
    code = door_code(chat)
    assert "open only during the event" in chat.text("erin", f"/checkin 1 {code}", lang="en")
    chat.clock.now = DURING
    assert "isn't the one of event 1" in chat.text("erin", "/checkin 1 wrongcode123", lang="en")
    assert "checked in" in chat.text("erin", f"/checkin 1 {code}", lang="en")


async def test_the_door_page_gives_the_chat_link_during_the_event_and_410_outside(database_url: str) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from bot.checkin_page import checkin_routes
    from bot.site import BotLinks
    from bot.web import build_web_app
    from tests.harness import make_chat

    chat = make_chat(database_url, PUBLIC_URL="http://tl.example.org")
    try:
        workshop_with_signups(chat)
        [qr] = chat.say("coord", "/attendance qr 1", lang="en")
        code = door_code(chat)
        assert f"http://tl.example.org/ici/1/{code}" in qr.text
        assert qr.image is not None and qr.image.startswith(b"\x89PNG")
        app = build_web_app([checkin_routes(chat.app.engine, chat.app.settings, chat.clock,
                                            lambda: BotLinks("tierslieu_bot", None))])
        async with TestClient(TestServer(app)) as web:
            before = await web.get(f"/ici/1/{code}", headers={"Accept-Language": "en"})
            assert before.status == 410 and "works only during the event" in await before.text()
            chat.clock.now = DURING
            during = await web.get(f"/ici/1/{code}", headers={"Accept-Language": "en"})
            page = await during.text()
            assert during.status == 200
            assert f"https://t.me/tierslieu_bot?start=ici-1-{code}" in page
            assert f"/checkin 1 {code}" in page
            assert (await web.get("/ici/1/not-the-code")).status == 404
            assert (await web.get(f"/ici/2/{code}")).status == 404
            chat.clock.now = AFTER
            assert (await web.get(f"/ici/1/{code}")).status == 410
        # Opening the Telegram link: /start ici-1-<code> checks the member in during the event only.
        assert "open only during the event" in chat.text("erin", f"/start ici-1-{code}", lang="en")
        chat.clock.now = DURING
        assert "checked in" in chat.text("erin", f"/start ici-1-{code}", lang="en")
    finally:
        chat.app.engine.dispose()


def test_the_organiser_gets_the_list_at_the_start_and_is_asked_once_after_the_end(chat: Chat) -> None:
    workshop_with_signups(chat, "alice", "bob")
    chat.say("coord", "/lang en")
    chat.clock.now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # an hour before
    chat.app.jobs.run_now("attendance-lists")
    assert not [r for _, r in notices(chat) if r.title and r.title.startswith("Attendance")]
    chat.clock.now = datetime(2026, 11, 28, 13, 1, tzinfo=UTC)
    chat.app.jobs.run_now("attendance-lists")
    chat.app.jobs.run_now("attendance-lists")
    lists = [(to, r) for to, r in notices(chat) if r.title == "Attendance — Atelier vélo"]
    assert len(lists) == 1 and lists[0][0] == "coord"
    assert "Alice" in lists[0][1].text
    chat.say("alice", "/checkin", lang="en")
    chat.clock.now = AFTER
    chat.app.jobs.run_now("attendance-lists")
    chat.app.jobs.run_now("attendance-lists")
    asked = [r for _, r in notices(chat) if "is over" in r.text]
    assert len(asked) == 1
    assert "2 signed up, 1 present, 1 no-shows, 0 walk-ins. Are these right?" in asked[0].text
    assert [a.command for a in asked[0].actions] == ["/attendance confirm 1", "/attendance 1"]
    assert "these counts go into the report" in chat.text("coord", "/attendance confirm 1")


def test_visitors_are_counted_by_the_day_s_rota_or_a_coordinator_in_known_categories(chat: Chat) -> None:
    assert "opening rota" in chat.text("alice", "/visitors 12", lang="en")
    chat.say("coord", '/need "Accueil" 2026-11-23 14h-18h 1')
    assert chat.text("alice", "/take 1").startswith("C'est noté")
    assert chat.text("alice", "/visiteurs 12") == ("C'est noté : 12 visiteurs le lundi 23 novembre (tous publics). "
                                                   "Total de la journée : 12.")
    refused = chat.text("alice", "/visitors 5 cafe", lang="en")
    assert "“cafe” is not a category" in refused and "/categories add visitors cafe" in refused
    assert "Only a coordinator" in chat.text("alice", "/categories add visitors cafe", lang="en")
    assert "added" in chat.text("coord", "/categories add visitors café", lang="en")
    assert "Total for that day: 5." in chat.text("alice", "/visitors 5 cafe", lang="en")
    assert "Total for that day: 8." in chat.text("alice", "/visitors 3 café", lang="en")
    # Yesterday: Alice wasn't on the rota then; a coordinator can log it.
    assert "opening rota" in chat.text("alice", "/visitors 4 yesterday", lang="en")
    assert "Sunday 22 November" in chat.text("coord", "/visitors 4 yesterday", lang="en")
    assert "That day hasn't come yet" in chat.text("coord", "/visitors 4 tomorrow", lang="en")
    assert "Visitors: cafe" in chat.text("bob", "/categories", lang="en")


def test_a_booking_not_checked_in_in_time_is_released_and_its_member_told(chat: Chat) -> None:
    from storage.models import Booking

    assert "Only a coordinator" in chat.text("alice", "/spacecheckin salle-reunion 15", lang="en")
    assert "within 15 minutes" in chat.text("coord", "/pointage salle-reunion 15", lang="en")
    assert chat.text("alice", "/book salle-reunion today 14:00-16:00").startswith("Réservé")
    assert chat.text("bob", "/book salle-reunion tomorrow 14:00-16:00").startswith("Réservé")
    assert chat.text("carol", "/book petite-salle tomorrow 14:00-16:00").startswith("Réservé")
    # The reminder before the booking carries the check-in button (the space requires one).
    chat.clock.now = datetime(2026, 11, 23, 12, 20, tzinfo=UTC)  # 13:20 Paris
    assert chat.text("alice", "/bookingcheckin 1") == "Trop tôt : pointez à partir de 13:30."
    chat.clock.now = datetime(2026, 11, 23, 12, 31, tzinfo=UTC)  # the reminder, 30 minutes before
    chat.app.jobs.run_now("send-reminders")
    reminder = next(r for to, r in notices(chat) if to == "alice" and "14:00" in r.text)
    assert ("Je suis là", "/bookingcheckin 1") in [(a.label, a.command) for a in reminder.actions]
    chat.clock.now = datetime(2026, 11, 23, 13, 5, tzinfo=UTC)  # 14:05 Paris
    assert chat.text("alice", "/ici", lang="en").startswith("Checked in at Salle de réunion")
    chat.clock.now = datetime(2026, 11, 24, 13, 16, tzinfo=UTC)  # tomorrow 14:16 Paris: Bob never came
    chat.app.jobs.run_now("booking-no-show")
    chat.app.jobs.run_now("booking-no-show")
    released = [r for to, r in notices(chat) if "was released" in r.text or "libérée" in r.text]
    assert [to for to, r in notices(chat) if r in released] == ["bob"]
    assert "15 minutes" in released[0].text
    with Session(chat.app.engine) as session:
        status = {b.id: b.status for b in session.exec(select(Booking))}
    assert status == {1: "active", 2: "cancelled", 3: "active"}, "checked in, released, a space without the rule"
    assert chat.text("bob", "/bookingcheckin 2") == "Cette réservation n'est plus active."


def test_check_in_window_and_the_visitors_day_across_the_october_clock_change(database_url: str) -> None:
    from tests.harness import make_chat

    chat = make_chat(database_url, now=datetime(2026, 10, 20, 9, 0, tzinfo=UTC))
    try:
        chat.say("coord", '/event add "Atelier" 2026-10-25 10h-12h')  # Paris is UTC+1 again since 03:00 that day
        chat.say("alice", "/join 1")
        chat.say("coord", '/need "Accueil" 2026-10-25 20h-22h 1')
        chat.say("alice", "/take 1")
        chat.clock.now = datetime(2026, 10, 25, 8, 29, tzinfo=UTC)  # 09:29 Paris: 31 minutes before
        assert "open only during the event" in chat.text("alice", "/checkin 1", lang="en")
        chat.clock.now = datetime(2026, 10, 25, 8, 31, tzinfo=UTC)  # 09:31 Paris
        assert "checked in" in chat.text("alice", "/checkin 1", lang="en")
        chat.clock.now = datetime(2026, 10, 25, 22, 50, tzinfo=UTC)  # 23:50 Paris, still Sunday 25
        assert "Sunday 25 October" in chat.text("alice", "/visitors 3", lang="en")
        chat.clock.now = datetime(2026, 10, 25, 23, 10, tzinfo=UTC)  # 00:10 Paris, Monday 26: not her rota
        assert "opening rota" in chat.text("alice", "/visitors 3", lang="en")
        assert "Sunday 25 October" in chat.text("alice", "/visitors 3 yesterday", lang="en")
    finally:
        chat.app.engine.dispose()


def test_twenty_walk_ins_pressed_at_once_count_twenty_and_a_double_check_in_counts_once(database_url: str) -> None:
    import threading

    from tests.harness import make_chat

    chat = make_chat(database_url)
    try:
        workshop_with_signups(chat, "alice")
        chat.clock.now = DURING
        presses = 20
        barrier = threading.Barrier(presses)
        answers = [""] * presses

        def press(n: int, user: str, command: str) -> None:
            barrier.wait()
            answers[n] = chat.text(user, command, lang="en")

        walk_in = "/attendance walkins 1 +1"
        threads = [threading.Thread(target=press, args=(n, "coord", walk_in)) for n in range(presses)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert "20 walk-ins counted at the door." in chat.text("coord", "/attendance 1", lang="en"), answers
        barrier = threading.Barrier(10)
        answers = [""] * 10
        threads = [threading.Thread(target=press, args=(n, "alice", "/checkin 1")) for n in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum("you are checked in" in a for a in answers) == 1, answers
        assert sum("already checked in" in a for a in answers) == 9, answers
    finally:
        chat.app.engine.dispose()


@given(sign=st.sampled_from(["", "+", "-", "−"]), n=st.integers(min_value=0, max_value=99999),
       space=st.sampled_from(["", " "]), rest=st.sampled_from(["", " merci", " sans inscription"]))
def test_walk_in_changes_read_the_sign_and_the_number(sign: str, n: int, space: str, rest: str) -> None:
    from handlers.attendance.checkin import _read_signed

    value, left = _read_signed(None, f"{sign}{space}{n}{rest}")  # type: ignore[arg-type]
    assert value == (sign.replace("−", "-"), n)
    assert left == rest.strip()


def test_a_walk_in_change_without_a_number_is_not_read() -> None:
    from handlers.attendance.checkin import _read_signed

    assert _read_signed(None, "plus")[0] is None  # type: ignore[arg-type]
    assert _read_signed(None, "+x")[0] is None  # type: ignore[arg-type]
