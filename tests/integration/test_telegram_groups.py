"""Telegram messages as members really send them (issue 13): commands in photo captions, forwarded
commands, blank first names; a refused image keeps its text; a malformed getMe is one line at start-up."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from aiohttp import web

from bot.app import App, StartupError
from bot.core.types import Reply
from tests.integration.telegram_standin import BotApiStandIn
from tests.integration.test_telegram import (  # noqa: F401  (fixtures)
    ALICE,
    BRUNO,
    GROUP,
    make_app,
    running,
    telegram,
)

pytestmark = pytest.mark.integration

PHOTO = [{"file_id": "p1", "file_unique_id": "u1", "width": 10, "height": 10}]


async def test_a_command_in_a_photo_caption_is_read(running: App, standin: BotApiStandIn) -> None:  # noqa: F811
    alice = standin.user(ALICE, "Alice")
    chat = standin.private_chat(alice)
    standin.push_update("message", standin.message(chat, alice, caption="/spaces", photo=PHOTO))
    [answer] = await standin.wait_for("sendMessage", chat_id=ALICE)
    assert "Salle de réunion" in answer.params["text"] or "salle" in answer.params["text"].lower()


async def test_a_forwarded_command_is_not_run_as_the_forwarder(
    running: App, standin: BotApiStandIn  # noqa: F811
) -> None:
    alice, bruno = standin.user(ALICE, "Alice"), standin.user(BRUNO, "Bruno")
    group = standin.group(GROUP)
    origin = {"type": "user", "date": int(time.time()), "sender_user": bruno}
    standin.push_update("message", standin.message(group, alice, "/book salle-reunion demain 14h-16h",
                                                   forward_origin=origin))
    standin.type_text(group, alice, "/help")
    [answer] = await standin.wait_for("sendMessage", chat_id=GROUP)
    await standin.settle()
    assert len(standin.sent("sendMessage")) == 1 and "/book" in answer.params["text"]  # only /help ran


async def test_a_member_with_a_blank_first_name_is_answered(running: App, standin: BotApiStandIn) -> None:  # noqa: F811
    ghost = standin.user(ALICE, " ", username="ghost")
    standin.type_text(standin.private_chat(ghost), ghost, "/start")
    [answer] = await standin.wait_for("sendMessage", chat_id=ALICE)
    assert answer.params["text"].startswith("Bonjour @ghost")


async def test_a_refused_image_still_delivers_its_text(running: App, standin: BotApiStandIn) -> None:  # noqa: F811
    standin.fail_next("sendPhoto", 400, "Bad Request: IMAGE_PROCESS_FAILED")
    await telegram(running).send(str(GROUP), Reply("Résumé de la semaine", image=b"not an image",
                                                   image_name="digest.png"))
    [text] = standin.sent("sendMessage", chat_id=GROUP)
    assert "Résumé de la semaine" in text.params["text"]


async def test_a_malformed_getme_stops_start_with_one_line(tmp_path: Path, standin: BotApiStandIn) -> None:
    async def get_me(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "result": {"id": "not-a-bot"}})

    server = web.Application()
    server.router.add_route("*", "/{path:.*}", get_me)
    runner = web.AppRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        app = make_app(tmp_path, standin, TELEGRAM_API_URL=f"http://127.0.0.1:{port}")
        with pytest.raises(StartupError) as refused:
            await app.start()
        await app.stop()
        message = str(refused.value)
        assert message.startswith("TELEGRAM_API_URL: ") and "getMe" in message and "\n" not in message
    finally:
        await runner.cleanup()


async def test_a_groups_title_is_recorded_for_reports(running: App, standin: BotApiStandIn) -> None:  # noqa: F811
    from storage.adapter_state import get_state

    alice = standin.user(ALICE, "Alice")
    standin.type_text(standin.group(GROUP, title="Repair café — bénévoles"), alice, "/help")
    await standin.wait_for("sendMessage", chat_id=GROUP)
    assert get_state(running.engine, f"chat_title:telegram:{GROUP}") == "Repair café — bénévoles"


async def test_a_busy_group_does_not_hold_back_the_pressers_popup(tmp_path: Path, standin: BotApiStandIn) -> None:
    """With Telegram's real limits (20 messages a minute in a group), the group has just used its slots:
    the pop-up is no group message, so it comes at once, before the card's edit waits its turn."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tests.integration.test_telegram import buttons

    app = make_app(tmp_path, standin, fast_limits=False, COORDINATORS=f"telegram:{ALICE}",
                   clock=lambda: datetime(2030, 1, 7, 9, 0, tzinfo=ZoneInfo("Europe/Paris")))
    await app.start()
    try:
        alice, group = standin.user(ALICE, "Alice"), standin.group(GROUP)
        standin.type_text(standin.private_chat(alice), alice, '/event add "Concert" 12/01/2030 20h-23h places 2')
        await standin.wait_for("sendMessage", chat_id=ALICE)
        standin.type_text(group, alice, "/event post 1")
        [card] = await standin.wait_for("sendMessage", chat_id=GROUP)
        telegram(app).limiter.push_back(str(GROUP), 30.0)  # the group's next slot is half a minute away
        message = standin.messages[(str(GROUP), max(m for c, m in standin.messages if c == str(GROUP)))]
        join = next(b for b in buttons(card.params) if b["text"] == "S'inscrire")
        pressed = time.monotonic()
        standin.press(standin.user(BRUNO, "Bruno"), message, join["callback_data"])
        [popup] = await standin.wait_for("answerCallbackQuery", timeout=5)
        assert popup.params["text"].startswith("Vous êtes inscrit·e") and time.monotonic() - pressed < 3
        assert not standin.sent("editMessageText")  # the card's edit waits for the group's turn
    finally:
        await app.stop()


async def test_a_group_press_that_only_updates_the_shared_message_stops_spinning_at_once(
    tmp_path: Path, standin: BotApiStandIn
) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tests.integration.test_telegram import buttons

    app = make_app(tmp_path, standin, clock=lambda: datetime(2030, 1, 7, 9, 0, tzinfo=ZoneInfo("Europe/Paris")))
    await app.start()
    try:
        alice, group = standin.user(ALICE, "Alice"), standin.group(GROUP)
        standin.type_text(group, alice, "/book salle-reunion demain 14h-16h")
        [confirmation] = await standin.wait_for("sendMessage", chat_id=GROUP)
        [cancel] = buttons(confirmation.params)
        message = standin.messages[(str(GROUP), max(m for c, m in standin.messages if c == str(GROUP)))]
        pressed = time.monotonic()
        standin.press(alice, message, cancel["callback_data"])
        await standin.wait_for("editMessageText", chat_id=GROUP)
        [answer] = await standin.wait_for("answerCallbackQuery")
        assert time.monotonic() - pressed < 2.0  # not the pop-up's 3 s wait
        assert not answer.params.get("text")
    finally:
        await app.stop()


async def test_a_join_typed_privately_updates_a_card_nobody_has_pressed_yet(
    tmp_path: Path, standin: BotApiStandIn
) -> None:
    from tests.integration.test_telegram import CAMILLE, post_concert

    app, _card, card_message = await post_concert(tmp_path, standin)
    try:
        camille = standin.user(CAMILLE, "Camille", "en")
        standin.type_text(standin.private_chat(camille), camille, "/join 1")
        await standin.wait_for("sendMessage", chat_id=CAMILLE)
        [edit] = await standin.wait_for("editMessageText", chat_id=GROUP)
        assert int(edit.params["message_id"]) == card_message["message_id"]
        assert "1/2 inscrit" in edit.params["text"] and "Camille" not in edit.params["text"]
    finally:
        await app.stop()


async def test_a_coordinator_names_a_member_by_text_mention_or_username_whatever_display_names_say(
    tmp_path: Path, standin: BotApiStandIn
) -> None:
    """Issue 22: 'Alice Martin' is the member meant, even when another member calls herself 'alice'."""
    coordinator = standin.user(ALICE, "Coordination")
    real = standin.user(BRUNO, "Alice Martin", username="alice_martin")
    impostor = standin.user(4204, "alice", username="not_her")
    app = make_app(tmp_path, standin, COORDINATORS=f"telegram:{ALICE}")
    await app.start()
    try:
        for member in (real, impostor):  # both have written to the bot once
            standin.type_text(standin.private_chat(member), member, "/start")
            await standin.wait_for("sendMessage", chat_id=member["id"])
        private = standin.private_chat(coordinator)
        text = "/habiliter Alice laser"  # "Alice" picked from Telegram's list: a text mention of Bruno's account
        message = standin.message(private, coordinator, text)
        message["entities"].append({"type": "text_mention", "offset": 11, "length": 5, "user": real})
        standin.push_update("message", message)
        [granted] = await standin.wait_for("sendMessage", chat_id=ALICE)
        assert "Alice Martin" in granted.params["text"] and "laser" in granted.params["text"]
        standin.type_text(private, coordinator, "/habiliter @not_her imprimante")
        by_handle = (await standin.wait_for("sendMessage", chat_id=ALICE, count=2))[-1]
        assert "imprimante" in by_handle.params["text"] and "Alice Martin" not in by_handle.params["text"]
        with app.engine.connect() as connection:
            from sqlalchemy import text as sql

            rows = connection.execute(sql(
                "SELECT m.display_name, q.name FROM qualification q JOIN member m ON m.id = q.member_id "
                "ORDER BY q.name")).all()
        assert [tuple(r) for r in rows] == [("alice", "imprimante"), ("Alice Martin", "laser")]
    finally:
        await app.stop()
