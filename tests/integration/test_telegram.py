"""The Telegram adapter: the real PTB Application over real HTTP against the Bot API stand-in,
pointed at it with TELEGRAM_API_URL (no PTB internals patched), inside a real App and database."""

from __future__ import annotations

import html
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from bot.adapters.base import DeliveryError
from bot.adapters.telegram import TelegramAdapter
from bot.adapters.telegram_limits import SendLimiter
from bot.adapters.telegram_render import render_html_chunks, split_at_lines, utf16_units
from bot.app import App, StartupError
from bot.config import load_settings
from bot.core.types import Action, Reply
from storage.adapter_state import get_state
from storage.models import Booking, OutboxMessage, Space
from storage.models_reminders import Subscription
from tests.integration.telegram_standin import BotApiStandIn

pytestmark = pytest.mark.integration

PARIS = ZoneInfo("Europe/Paris")
MONDAY_MORNING = datetime(2030, 1, 7, 9, 0, tzinfo=PARIS)
ALICE, BRUNO, CAMILLE = 4201, 4202, 4203
GROUP = -1001000


def make_app(tmp_path: Path, standin: BotApiStandIn, *, token: str | None = None,
             clock: Callable[[], datetime] | None = None, fast_limits: bool = True, **env: str) -> App:
    settings = load_settings({
        "DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
        "TELEGRAM_BOT_TOKEN": token or standin.token,
        "TELEGRAM_API_URL": standin.url,
        "LANGUAGE": "fr",
        "HTTP_PORT": "0",
        **env,
    })
    app = App(settings, clock=clock)
    app.prepare()
    if fast_limits:  # the real limits have their own tests below; here they would only slow things down
        telegram(app).limiter = SendLimiter(chat_interval_s=0.01)
    return app


def telegram(app: App) -> TelegramAdapter:
    adapter = app.adapters[0]
    assert isinstance(adapter, TelegramAdapter)
    return adapter


@pytest.fixture
async def running(tmp_path: Path, standin: BotApiStandIn) -> AsyncIterator[App]:
    app = make_app(tmp_path, standin)
    await app.start()
    yield app
    await app.stop()


@pytest.fixture
async def running_on_monday(tmp_path: Path, standin: BotApiStandIn) -> AsyncIterator[App]:
    app = make_app(tmp_path, standin, clock=lambda: MONDAY_MORNING)
    await app.start()
    yield app
    await app.stop()


def buttons(call_params: dict[str, Any]) -> list[dict[str, Any]]:
    markup = call_params.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


# -- start-up ------------------------------------------------------------------------------------


async def test_start_checks_the_token_then_registers_the_menu_in_french_and_english_then_polls(
    running: App, standin: BotApiStandIn
) -> None:
    await standin.wait_for("getUpdates")
    methods = [c.method for c in standin.calls]
    assert methods[0] == "getMe"
    assert methods.index("deleteWebhook") < methods.index("getUpdates")
    menus = {c.params.get("language_code"): c.params["commands"] for c in standin.sent("setMyCommands")}
    assert set(menus) == {"fr", "en", None}
    french = {c["command"]: c["description"] for c in menus["fr"]}
    english = {c["command"]: c["description"] for c in menus["en"]}
    assert french["book"] == "Réserver un espace"
    assert english["book"] == "Book a space"
    assert all(len(name) <= 32 and name.isascii() and name == name.lower() for name in french)
    assert "grant" not in french  # coordinator-only commands stay out of everyone's menu


async def test_a_bad_token_stops_start_with_one_clear_line(tmp_path: Path, standin: BotApiStandIn) -> None:
    app = make_app(tmp_path, standin, token="999:WRONG-token")
    with pytest.raises(StartupError) as refused:
        await app.start()
    await app.stop()
    message = str(refused.value)
    assert message.startswith("TELEGRAM_BOT_TOKEN: ")
    assert "\n" not in message
    assert "WRONG-token" not in message  # never echo a secret
    assert [c.method for c in standin.calls] == ["getMe"]


# -- private chats and buttons -------------------------------------------------------------------


async def test_a_member_books_in_private_and_the_cancel_button_edits_the_confirmation(
    running_on_monday: App, standin: BotApiStandIn
) -> None:
    alice = standin.user(ALICE, "Alice", "fr")
    chat = standin.private_chat(alice)
    standin.type_text(chat, alice, "/book salle-reunion demain 14h-16h")
    [confirmation] = await standin.wait_for("sendMessage", chat_id=ALICE)
    assert "Salle de réunion" in confirmation.params["text"]
    assert confirmation.params["parse_mode"] == "HTML"
    assert "reply_parameters" not in confirmation.params  # private chat: no need to quote
    [cancel] = buttons(confirmation.params)
    assert cancel["text"] == "Annuler"
    assert cancel["callback_data"].startswith("/cancel ")

    sent_message = standin.messages[(str(ALICE), max(m for _, m in standin.messages))]
    query_id = standin.press(alice, sent_message, cancel["callback_data"])
    [answer] = await standin.wait_for("answerCallbackQuery")
    assert answer.params["callback_query_id"] == query_id
    [edit] = await standin.wait_for("editMessageText")
    assert int(edit.params["message_id"]) == sent_message["message_id"]
    assert "Annul" in edit.params["text"]
    with Session(running_on_monday.engine) as session:
        [booking] = session.exec(select(Booking)).all()
        assert booking.status == "cancelled"


async def test_a_button_runs_its_command_as_the_person_who_pressed_it(
    running_on_monday: App, standin: BotApiStandIn
) -> None:
    alice, bruno = standin.user(ALICE, "Alice"), standin.user(BRUNO, "Bruno")
    group = standin.group(GROUP)
    standin.type_text(group, alice, "/book salle-reunion demain 14h-16h")
    [confirmation] = await standin.wait_for("sendMessage", chat_id=GROUP)
    [cancel] = buttons(confirmation.params)
    sent_message = standin.messages[(str(GROUP), max(m for _, m in standin.messages))]

    standin.press(bruno, sent_message, cancel["callback_data"])  # not Bruno's booking
    [refusal] = await standin.wait_for("answerCallbackQuery")  # Bruno alone sees why: the press's pop-up
    assert "annuler" in refusal.params["text"].lower()
    await standin.settle()
    assert len(standin.sent("sendMessage", chat_id=GROUP)) == 1  # nothing for the whole group
    with Session(running_on_monday.engine) as session:
        assert session.exec(select(Booking)).one().status == "active"
    assert not standin.sent("editMessageText")

    standin.press(alice, sent_message, cancel["callback_data"])
    await standin.wait_for("answerCallbackQuery", 2)
    await standin.wait_for("editMessageText")
    with Session(running_on_monday.engine) as session:
        assert session.exec(select(Booking)).one().status == "cancelled"


async def test_a_button_whose_command_is_gone_says_it_has_expired(
    running: App, standin: BotApiStandIn
) -> None:
    alice = standin.user(ALICE)
    chat = standin.private_chat(alice)
    old = standin.message(chat, None, "Ancien message")
    standin.press(alice, old, "#0123456789abcdef")
    [answer] = await standin.wait_for("answerCallbackQuery")
    assert "expiré" in answer.params["text"]
    await standin.settle()
    assert not standin.sent("sendMessage")


async def test_callback_data_stays_within_64_bytes_and_a_long_command_still_runs(
    running: App, standin: BotApiStandIn
) -> None:
    alice = standin.user(ALICE)
    chat = standin.private_chat(alice)
    long_command = "/book " + "réunion-très-longue-" * 10 + " demain 14h-16h"
    await telegram(running).send(str(ALICE), Reply("Choisissez", actions=(
        Action("Long", long_command), Action("Court", "/help"))))
    [offer] = await standin.wait_for("sendMessage")
    long_button, short_button = buttons(offer.params)
    assert all(len(b["callback_data"].encode()) <= 64 for b in (long_button, short_button))
    assert short_button["callback_data"] == "/help"

    sent_message = standin.messages[(str(ALICE), max(m for _, m in standin.messages))]
    standin.press(alice, sent_message, long_button["callback_data"])
    [_, answer] = await standin.wait_for("sendMessage", 2)
    assert "réunion-très-longue" in answer.params["text"]  # the core got the whole command back
    assert chat["id"] == ALICE


async def test_the_language_comes_from_the_telegram_app_until_the_member_chooses(
    running: App, standin: BotApiStandIn
) -> None:
    ana = standin.user(ALICE, "Ana", "en-GB")
    standin.type_text(standin.private_chat(ana), ana, "/help")
    [english] = await standin.wait_for("sendMessage")
    assert "Book a space" in english.params["text"]


# -- groups ---------------------------------------------------------------------------------------


async def test_in_a_group_commands_for_us_are_answered_as_replies_and_everything_else_is_ignored(
    running: App, standin: BotApiStandIn
) -> None:
    alice = standin.user(ALICE)
    group = standin.group(GROUP)
    standin.type_text(group, alice, "/help@OtherBot")
    standin.type_text(group, alice, "bonjour à tous")
    standin.push_update("edited_message", standin.message(group, alice, "/help", edit_date=1))
    standin.push_update("channel_post", standin.message({"id": -100777, "type": "channel"}, None, "/help"))
    standin.push_update("message", standin.message(group, alice, sticker={
        "file_id": "s", "file_unique_id": "s", "type": "regular", "width": 1, "height": 1,
        "is_animated": False, "is_video": False}))
    standin.push_update("message", standin.message(group, alice, new_chat_members=[standin.user(BRUNO)]))
    standin.push_update("message", standin.message(group, standin.user(999, "Autre bot") | {"is_bot": True},
                                                    "/help"))
    asked = standin.type_text(group, alice, "/help@tierslieubot")
    [answer] = await standin.wait_for("sendMessage", chat_id=GROUP)
    assert answer.params["reply_parameters"]["message_id"] == asked["message_id"]
    await standin.settle()
    assert len(standin.sent("sendMessage")) == 1


async def test_a_group_that_became_a_supergroup_keeps_working_under_its_new_id(
    running: App, standin: BotApiStandIn
) -> None:
    supergroup = -1009999
    standin.migrate_next("sendMessage", supergroup)
    await telegram(running).send(str(GROUP), Reply("Atelier vélo samedi"))
    assert [c.chat_id for c in standin.sent("sendMessage")] == [str(supergroup)]
    assert get_state(running.engine, f"telegram:migrated:{GROUP}") == str(supergroup)
    await telegram(running).send(str(GROUP), Reply("Rappel"))
    assert [c.chat_id for c in standin.sent("sendMessage", only_ok=False)][-1] == str(supergroup)


async def test_a_group_reply_can_offer_a_deep_link_to_the_private_chat(
    running: App, standin: BotApiStandIn
) -> None:
    invitation = Reply("Je dois vous écrire en privé", private_start_payload="hello")
    await telegram(running).send(str(GROUP), invitation)
    [message] = await standin.wait_for("sendMessage")
    [link] = buttons(message.params)
    assert link["url"] == "https://t.me/TiersLieuBot?start=hello"
    assert link["text"] == "M'écrire en privé"


async def test_group_admins_may_subscribe_their_group_and_plain_members_may_not(
    running: App, standin: BotApiStandIn
) -> None:
    alice, bruno, camille = standin.user(ALICE, "Alice"), standin.user(BRUNO, "Bruno"), standin.user(CAMILLE)
    group = standin.group(GROUP)
    standin.make_admin(GROUP, ALICE)
    standin.make_admin(GROUP, CAMILLE, "creator")

    def subscribed() -> list[str]:
        with Session(running.engine) as session:
            return [s.chat_id for s in session.exec(select(Subscription))]

    standin.type_text(group, bruno, "/subscribe@TiersLieuBot")
    [refusal] = await standin.wait_for("sendMessage", chat_id=GROUP)
    assert "Seul·e un·e coordinateur·rice ou un·e admin de ce groupe" in refusal.params["text"]
    assert subscribed() == []

    standin.type_text(group, alice, "/subscribe@TiersLieuBot")
    [_, accepted] = await standin.wait_for("sendMessage", 2, chat_id=GROUP)
    assert accepted.params["text"].startswith("Abonné")
    assert subscribed() == [str(GROUP)]

    standin.type_text(group, bruno, "/desabonner")
    [*_, refused] = await standin.wait_for("sendMessage", 3, chat_id=GROUP)
    assert "admin de ce groupe" in refused.params["text"] and subscribed() == [str(GROUP)]
    standin.type_text(group, camille, "/desabonner@TiersLieuBot")  # the group's owner
    [*_, stopped] = await standin.wait_for("sendMessage", 4, chat_id=GROUP)
    assert stopped.params["text"].startswith("Désabonné") and subscribed() == []

    asked = [(c.chat_id, int(c.params["user_id"])) for c in standin.sent("getChatMember")]
    assert asked == [(str(GROUP), BRUNO), (str(GROUP), ALICE), (str(GROUP), BRUNO), (str(GROUP), CAMILLE)]


# -- rendering ------------------------------------------------------------------------------------


async def test_user_supplied_text_is_escaped_so_markup_shows_literally(
    running: App, standin: BotApiStandIn
) -> None:
    with Session(running.engine) as session:
        site_id = session.exec(select(Space.site_id)).first()
        assert site_id is not None
        session.add(Space(site_id=site_id, slug="salle-co", name="<b>Salle & co</b>"))
        session.commit()
    alice = standin.user(ALICE)
    standin.type_text(standin.private_chat(alice), alice, "/spaces")
    [answer] = await standin.wait_for("sendMessage")
    assert "&lt;b&gt;Salle &amp; co&lt;/b&gt;" in answer.params["text"]
    assert answer.params["text"].startswith("<b>Espaces</b>")  # our own markup stays markup
    shown = standin.messages[(str(ALICE), max(m for _, m in standin.messages))]["text"]
    assert shown.count("<b>Salle & co</b>") == 1  # what the member reads, once entities are parsed


async def test_a_reply_over_4096_characters_is_split_at_line_boundaries(
    running: App, standin: BotApiStandIn
) -> None:
    lines = [f"Ligne {n:03d} : " + "x" * 40 for n in range(200)]
    await telegram(running).send(str(ALICE), Reply("\n".join(lines), actions=(Action("OK", "/help"),)))
    parts = standin.sent("sendMessage")
    assert len(parts) == 3
    assert all(len(p.params["text"]) <= 4096 for p in parts)
    assert "\n".join(p.params["text"] for p in parts).split("\n") == lines
    assert [bool(buttons(p.params)) for p in parts] == [False, False, True]  # keyboard under the last part


async def test_an_image_goes_out_with_send_photo(running: App, standin: BotApiStandIn) -> None:
    png = b"\x89PNG\r\n\x1a\nfake"
    await telegram(running).send(str(ALICE), Reply("Plan du 1er étage", image=png, image_name="plan.png"))
    [photo] = standin.sent("sendPhoto")
    assert photo.params["photo"] == png
    assert photo.params["caption"] == "Plan du 1er étage"


# -- failures -------------------------------------------------------------------------------------


async def test_a_429_waits_retry_after_then_the_reply_arrives_exactly_once(
    running: App, standin: BotApiStandIn
) -> None:
    standin.rate_limit_next("sendMessage", retry_after=1)
    alice = standin.user(ALICE)
    standin.type_text(standin.private_chat(alice), alice, "/help")
    [delivered] = await standin.wait_for("sendMessage")
    [refused] = [c for c in standin.sent("sendMessage", only_ok=False) if c.outcome == "429"]
    assert delivered.at - refused.at >= 1.0
    await standin.settle()
    assert len(standin.sent("sendMessage")) == 1


async def test_a_send_during_a_network_outage_is_retried_and_arrives_once(
    running: App, standin: BotApiStandIn
) -> None:
    await standin.wait_for("getUpdates")
    began = time.monotonic()
    await standin.refuse_connections_for(0.8)
    await telegram(running).send(str(ALICE), Reply("Votre réservation commence dans 1 h"))
    [delivered] = standin.sent("sendMessage", only_ok=False)
    assert delivered.ok and delivered.at - began >= 0.8


async def test_a_split_outbox_message_resumes_after_the_parts_already_sent(
    running: App, standin: BotApiStandIn
) -> None:
    lines = [f"Ligne {n:03d} : " + "x" * 40 for n in range(200)]
    standin.rate_limit_next("sendMessage", retry_after=60, after=1)  # part 1 goes, then a long flood wait
    with pytest.raises(DeliveryError) as limited:
        await telegram(running).send(str(ALICE), Reply("\n".join(lines)), key="outbox-7")
    assert limited.value.retry_after == 60  # the outbox reschedules instead of blocking everyone
    telegram(running).limiter = SendLimiter(chat_interval_s=0.01)  # as if the 60 s had passed
    await telegram(running).send(str(ALICE), Reply("\n".join(lines)), key="outbox-7")  # its next attempt
    parts = standin.sent("sendMessage")
    assert len(parts) == 3
    assert "\n".join(p.params["text"] for p in parts).split("\n") == lines  # every line once


async def test_a_connection_lost_after_sending_is_not_retried_so_nothing_arrives_twice(
    running: App, standin: BotApiStandIn
) -> None:
    standin.drop_next("sendMessage")
    with pytest.raises(DeliveryError) as failed:
        await telegram(running).send(str(ALICE), Reply("Peut-être déjà arrivé"))
    assert failed.value.permanent
    assert len(standin.sent("sendMessage", only_ok=False)) == 1


async def test_a_chat_that_blocked_the_bot_is_noted_and_not_retried_forever(
    running: App, standin: BotApiStandIn
) -> None:
    def queue(text: str) -> None:
        with Session(running.engine) as session:
            session.add(OutboxMessage(platform="telegram", chat_id=str(ALICE),
                                      payload=f'{{"text": "{text}"}}'))
            session.commit()

    await running.outbox.stop()  # drive the outbox by hand
    standin.block_next("sendMessage")
    queue("Rappel 1")
    await running.outbox.flush()
    queue("Rappel 2")
    await running.outbox.flush()
    await running.outbox.flush()
    assert len(standin.sent("sendMessage", only_ok=False)) == 1  # one refusal, then no more tries
    with Session(running.engine) as session:
        assert [row.status for row in session.exec(select(OutboxMessage))] == ["failed", "failed"]
    assert get_state(running.engine, f"telegram:blocked:{ALICE}") == "1"

    running.outbox.start()  # answers go out through the outbox
    alice = standin.user(ALICE)
    standin.type_text(standin.private_chat(alice), alice, "/start")  # unblocked and back
    await standin.wait_for("sendMessage")
    assert get_state(running.engine, f"telegram:blocked:{ALICE}") == ""


# -- webhook ---------------------------------------------------------------------------------------


async def test_webhook_mode_serves_updates_only_with_the_secret_header(
    tmp_path: Path, standin: BotApiStandIn
) -> None:
    app = make_app(tmp_path, standin, TELEGRAM_WEBHOOK_URL="https://bot.example.org/tg/hook",
                   TELEGRAM_WEBHOOK_SECRET="s3cret-Token_1")
    await app.start()
    try:
        [registered] = standin.sent("setWebhook")
        assert registered.params["url"] == "https://bot.example.org/tg/hook"
        assert registered.params["secret_token"] == "s3cret-Token_1"
        assert not standin.sent("getUpdates")
        alice = standin.user(ALICE)
        update = {"update_id": 1, "message": standin.message(standin.private_chat(alice), alice, "/help")}
        hook = f"http://127.0.0.1:{app.web.port}/tg/hook"
        async with aiohttp.ClientSession() as http:
            async with http.post(hook, json=update) as response:
                assert response.status == 403
            async with http.post(hook, json=update,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as response:
                assert response.status == 403
            await standin.settle(0.2)
            assert not standin.sent("sendMessage")
            async with http.post(hook, json=update,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token_1"}) as response:
                assert response.status == 200
            async with http.get(f"http://127.0.0.1:{app.web.port}/healthz") as response:
                assert response.status == 200
        await standin.wait_for("sendMessage", chat_id=ALICE)
    finally:
        await app.stop()


# -- our own limits ---------------------------------------------------------------------------------


def test_a_line_longer_than_a_message_is_cut_without_breaking_an_escape() -> None:
    reply = Reply("&" * 5000)
    chunks = render_html_chunks(reply)
    assert all(utf16_units(c) <= 4096 for c in chunks)
    assert "".join(html.unescape(c) for c in chunks) == "&" * 5000


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_limiter_allows_one_message_per_second_in_a_private_chat() -> None:
    clock = FakeClock()
    limiter = SendLimiter(clock=clock)
    slots = [limiter.reserve("42", is_group=False) for _ in range(3)]
    assert slots == [100.0, 101.0, 102.0]
    assert limiter.reserve("43", is_group=False) == 100.0  # other chats are not held back


def test_the_limiter_allows_twenty_messages_per_minute_in_a_group() -> None:
    clock = FakeClock()
    limiter = SendLimiter(clock=clock)
    slots = [limiter.reserve("-100", is_group=True) for _ in range(21)]
    assert slots[19] == 119.0
    assert slots[20] == 160.0  # the 21st waits until the first leaves the one-minute window


def test_a_429_pushes_the_chat_back_by_retry_after() -> None:
    clock = FakeClock()
    limiter = SendLimiter(clock=clock)
    limiter.reserve("42", is_group=False)
    limiter.push_back("42", 7)
    assert limiter.reserve("42", is_group=False) == 107.0


async def test_the_limiter_sends_at_most_thirty_messages_per_second_overall() -> None:
    limiter = SendLimiter(chat_interval_s=0)
    began = time.monotonic()
    for n in range(31):
        await limiter.wait_turn(str(n), is_group=False)
    assert time.monotonic() - began >= 0.95


# -- the inbox ---------------------------------------------------------------------------------------


def inbox_texts(app: App) -> list[str]:
    from bot.core.inbox import incoming_from_json
    from storage.models_inbox import InboxMessage

    with Session(app.engine) as session:
        rows = session.exec(select(InboxMessage).order_by(InboxMessage.id)).all()  # type: ignore[arg-type]
    return [incoming_from_json(row.payload).text for row in rows]


async def test_in_a_group_plain_sentences_reach_the_core_only_when_they_name_or_answer_the_bot(
    running: App, standin: BotApiStandIn
) -> None:
    alice = standin.user(ALICE)
    group = standin.group(GROUP)
    standin.type_text(group, alice, "on se voit demain ?")
    standin.type_text(group, alice, "@TiersLieuBot je voudrais la salle de réunion demain")
    bot_said = standin.messages.get((str(GROUP), 1)) or {"message_id": 999, "chat": group,
                                                          "from": standin.bot_user, "date": 0}
    standin.push_update("message", standin.message(group, alice, "oui, à 14h", reply_to_message=bot_said))
    standin.push_update("message", standin.message(group, alice, "d'accord", reply_to_message=standin.message(
        group, standin.user(BRUNO), "tu viens ?")))
    standin.type_text(standin.private_chat(alice), alice, "bonjour")
    await standin.wait_for("sendMessage", chat_id=ALICE)  # the last one was stored and answered
    assert inbox_texts(running) == ["je voudrais la salle de réunion demain", "oui, à 14h", "bonjour"]
    from bot.core.inbox import incoming_from_json
    from storage.models_inbox import InboxMessage

    with Session(running.engine) as session:
        rows = [incoming_from_json(r.payload) for r in session.exec(select(InboxMessage))]
    assert [(r.mentions_bot, r.replies_to_bot) for r in rows] == [(True, False), (False, True), (False, False)]


async def test_updates_are_acknowledged_only_once_stored(
    running: App, standin: BotApiStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    await standin.wait_for("getUpdates")
    failures = [RuntimeError("database is locked")]
    real_store = running.inbox.store_sync

    def flaky_store(batch: Any) -> int:
        if failures:
            raise failures.pop()
        return real_store(batch)

    monkeypatch.setattr(running.inbox, "store_sync", flaky_store)
    alice = standin.user(ALICE)
    update = standin.push_update("message", standin.message(standin.private_chat(alice), alice, "/help"))
    await standin.wait_for("sendMessage", chat_id=ALICE)
    offsets = [int(c.params.get("offset") or 0) for c in standin.sent("getUpdates")]
    assert update["update_id"] + 1 in offsets  # acknowledged in the end...
    first_ack = offsets.index(update["update_id"] + 1)
    assert all(o <= update["update_id"] for o in offsets[:first_ack])  # ...only after the retry stored it
    assert inbox_texts(running) == ["/help"]


async def test_a_button_press_is_answered_at_once_even_while_the_chat_waits_its_turn(
    running_on_monday: App, standin: BotApiStandIn
) -> None:
    alice = standin.user(ALICE, "Alice", "fr")
    chat = standin.private_chat(alice)
    standin.type_text(chat, alice, "/book salle-reunion demain 14h-16h")
    [confirmation] = await standin.wait_for("sendMessage", chat_id=ALICE)
    [cancel] = buttons(confirmation.params)
    await running_on_monday.inbox.stop()  # commands wait (as behind a long queue)
    sent_message = standin.messages[(str(ALICE), max(m for _, m in standin.messages))]
    standin.press(alice, sent_message, cancel["callback_data"])
    await standin.wait_for("answerCallbackQuery")
    assert not standin.sent("editMessageText")  # answered before the command ran
    running_on_monday.inbox.start()
    [edit] = await standin.wait_for("editMessageText")
    assert int(edit.params["message_id"]) == sent_message["message_id"]


async def test_updates_fetched_again_after_a_restart_are_not_run_twice(
    tmp_path: Path, standin: BotApiStandIn
) -> None:
    alice = standin.user(ALICE)
    update = standin.push_update("message", standin.message(standin.private_chat(alice), alice,
                                                            "/book salle-reunion demain 14h-16h"))
    first = make_app(tmp_path, standin, clock=lambda: MONDAY_MORNING)
    await first.start()
    await standin.wait_for("sendMessage")
    await first.stop()
    standin.redeliver(update)  # as Telegram does when the offset never reached it (killed before)
    second = make_app(tmp_path, standin, clock=lambda: MONDAY_MORNING)
    polls = len(standin.sent("getUpdates"))
    await second.start()
    try:
        await standin.wait_for("getUpdates", polls + 2)
        await standin.settle()
        with Session(second.engine) as session:
            assert len(session.exec(select(Booking)).all()) == 1
        assert len(standin.sent("sendMessage")) == 1
    finally:
        await second.stop()


async def test_a_webhook_update_that_could_not_be_stored_is_refused_so_telegram_sends_it_again(
    tmp_path: Path, standin: BotApiStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(tmp_path, standin, TELEGRAM_WEBHOOK_URL="https://bot.example.org/tg/hook",
                   TELEGRAM_WEBHOOK_SECRET="s3cret-Token_1")
    await app.start()
    try:
        real_store = app.inbox.store_sync
        failures = [RuntimeError("disk full")]

        def flaky_store(batch: Any) -> int:
            if failures:
                raise failures.pop()
            return real_store(batch)

        monkeypatch.setattr(app.inbox, "store_sync", flaky_store)
        alice = standin.user(ALICE)
        update = {"update_id": 7, "message": standin.message(standin.private_chat(alice), alice, "/help")}
        hook = f"http://127.0.0.1:{app.web.port}/tg/hook"
        headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token_1"}
        async with aiohttp.ClientSession() as http:
            async with http.post(hook, json=update, headers=headers) as response:
                assert response.status == 500  # not stored: not acknowledged
            async with http.post(hook, json=update, headers=headers) as response:
                assert response.status == 200  # Telegram's next try
            async with http.post(hook, json=update, headers=headers) as response:
                assert response.status == 200  # a duplicate: acknowledged, not run again
        await standin.wait_for("sendMessage", chat_id=ALICE)
        await standin.settle()
        assert len(standin.sent("sendMessage")) == 1
        assert inbox_texts(app) == ["/help"]
    finally:
        await app.stop()


async def test_a_command_in_a_forum_topic_is_answered_in_that_topic(running: App, standin: BotApiStandIn) -> None:
    alice = standin.user(ALICE)
    forum = standin.group(GROUP) | {"is_forum": True}
    asked = standin.message(forum, alice, "/help@TiersLieuBot", message_thread_id=42, is_topic_message=True)
    standin.push_update("message", asked)
    [answer] = await standin.wait_for("sendMessage", chat_id=GROUP)
    assert int(answer.params["message_thread_id"]) == 42
    assert answer.params["reply_parameters"]["message_id"] == asked["message_id"]


async def test_two_processes_on_one_postgresql_database_poll_and_answer_once(
    tmp_path: Path, standin: BotApiStandIn, postgres_url: str
) -> None:
    first = make_app(tmp_path, standin, DATABASE_URL=postgres_url)
    second = make_app(tmp_path, standin, DATABASE_URL=postgres_url)
    await first.start()
    await second.start()
    try:
        alice = standin.user(ALICE)
        for text in ("/help", "/spaces", "/mybookings"):
            standin.type_text(standin.private_chat(alice), alice, text)
        await standin.wait_for("sendMessage", 3, chat_id=ALICE, timeout=15)
        await standin.settle(0.5)
        assert len(standin.sent("sendMessage")) == 3  # each command answered once
        polling = [telegram(app)._offset is not None for app in (first, second)]
        assert polling == [True, False]  # Telegram allows one getUpdates caller: the lock holder
    finally:
        await second.stop()
        await first.stop()


# -- group etiquette (issue 13) ------------------------------------------------------------------


async def post_concert(tmp_path: Path, standin: BotApiStandIn) -> tuple[App, dict[str, Any], dict[str, Any]]:
    """A running App where Alice (a coordinator) posted an event in the French group; its card message."""
    app = make_app(tmp_path, standin, clock=lambda: MONDAY_MORNING, COORDINATORS=f"telegram:{ALICE}")
    await app.start()
    alice, group = standin.user(ALICE, "Alice"), standin.group(GROUP)
    standin.type_text(standin.private_chat(alice), alice, '/event add "Concert" 12/01/2030 20h-23h places 2')
    await standin.wait_for("sendMessage", chat_id=ALICE)
    standin.type_text(group, alice, "/event post 1")
    [card] = await standin.wait_for("sendMessage", chat_id=GROUP)
    return app, card.params, standin.messages[(str(GROUP), max(m for c, m in standin.messages if c == str(GROUP)))]


async def test_an_english_speaker_pressing_join_keeps_the_french_groups_card_in_french_and_hears_it_alone(
    tmp_path: Path, standin: BotApiStandIn
) -> None:
    app, card, card_message = await post_concert(tmp_path, standin)
    try:
        assert "0/2 inscrit" in card["text"]
        join = next(b for b in buttons(card) if b["text"] == "S'inscrire")
        bruno = standin.user(BRUNO, "Bruno", "en")  # never opened a private chat with the bot
        standin.press(bruno, card_message, join["callback_data"])
        [popup] = await standin.wait_for("answerCallbackQuery")
        assert popup.params["text"].startswith("You are signed up for “Concert”")
        [edit] = await standin.wait_for("editMessageText", chat_id=GROUP)
        assert "1/2 inscrit" in edit.params["text"] and "Bruno" not in edit.params["text"]
        assert [b["text"] for b in buttons(edit.params)][:2] == ["S'inscrire", "Se désinscrire"]
        await standin.settle()
        group_texts = [c.params["text"] for c in standin.sent("sendMessage", chat_id=GROUP)]
        assert len(group_texts) == 1 and not any("Bruno" in t for t in group_texts)
    finally:
        await app.stop()


async def test_a_waitlisted_member_promoted_from_a_group_press_is_not_named_in_the_group(
    tmp_path: Path, standin: BotApiStandIn
) -> None:
    app, card, card_message = await post_concert(tmp_path, standin)
    try:
        join = next(b for b in buttons(card) if b["text"] == "S'inscrire")
        camille, bruno = standin.user(CAMILLE, "Camille"), standin.user(BRUNO, "Bruno")
        standin.press(standin.user(ALICE, "Alice"), card_message, join["callback_data"])
        standin.press(bruno, card_message, join["callback_data"])
        standin.press(camille, card_message, join["callback_data"])  # the waiting list; never wrote privately
        await standin.wait_for("answerCallbackQuery", 3)
        await standin.settle()
        leave = next(b for b in buttons(card) if b["text"] == "Se désinscrire")
        standin.press(bruno, card_message, leave["callback_data"])  # Camille is promoted
        await standin.wait_for("answerCallbackQuery", 4)
        await standin.settle()
        shown = [c.params.get("text", "") for c in standin.sent("sendMessage", chat_id=GROUP)]
        shown += [c.params.get("text", "") for c in standin.sent("editMessageText", chat_id=GROUP)]
        assert not any("Camille" in t or "Bruno" in t for t in shown)
        popups = [c.params.get("text") or "" for c in standin.sent("answerCallbackQuery")]
        assert not any("Camille" in t for t in popups)  # not even to the one who pressed
        [_note] = [t for t in shown if "J'ai un message pour quelqu'un ici" in html.unescape(t)]  # unnamed
    finally:
        await app.stop()


async def test_a_number_typed_in_a_group_by_another_member_presses_nothing(
    tmp_path: Path, standin: BotApiStandIn
) -> None:
    app, _card, card_message = await post_concert(tmp_path, standin)
    try:
        bruno = standin.user(BRUNO, "Bruno")
        group = standin.chats[str(GROUP)]
        standin.type_text(group, bruno, "1")
        reply = standin.message(group, bruno, "1", reply_to_message=card_message)
        standin.push_update("message", reply)
        await standin.settle(0.6)
        with Session(app.engine) as session:
            from storage.models_events import EventSignup
            assert session.exec(select(EventSignup)).all() == []
    finally:
        await app.stop()


async def test_a_join_typed_privately_updates_the_card_in_the_group(tmp_path: Path, standin: BotApiStandIn) -> None:
    app, card, card_message = await post_concert(tmp_path, standin)
    try:
        join = next(b for b in buttons(card) if b["text"] == "S'inscrire")
        standin.press(standin.user(BRUNO, "Bruno"), card_message, join["callback_data"])
        await standin.wait_for("editMessageText", chat_id=GROUP)
        camille = standin.user(CAMILLE, "Camille", "en")
        standin.type_text(standin.private_chat(camille), camille, "/join 1")
        await standin.wait_for("sendMessage", chat_id=CAMILLE)
        [_, edit] = await standin.wait_for("editMessageText", 2, chat_id=GROUP)
        assert int(edit.params["message_id"]) == card_message["message_id"]
        assert "Complet : 2/2 inscrits" in edit.params["text"] and "Camille" not in edit.params["text"]
    finally:
        await app.stop()


@given(title=st.text(max_size=30), text=st.text(st.characters(codec="utf-8"), max_size=400),
       limit=st.integers(min_value=12, max_value=600))
@settings(max_examples=300, deadline=None)
def test_a_short_reply_is_sent_as_the_same_messages_as_the_long_way_cuts_them(title: str, text: str,
                                                                             limit: int) -> None:
    reply = Reply(text, title=title or None)
    chunks = render_html_chunks(reply, limit)
    assert chunks == split_at_lines(reply, limit)
    assert title or all(utf16_units(c) <= limit for c in chunks)
