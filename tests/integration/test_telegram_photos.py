"""An image sent to many chats (the weekly digest's chart) is uploaded to Telegram once; the other chats get
it by the file_id Telegram gave back, and a file_id Telegram no longer knows is replaced by a new upload."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.app import App
from bot.core.outbox import enqueue
from bot.core.types import ChatRef, Notice, Platform, Reply
from storage.db import session_scope
from tests.integration.telegram_standin import BotApiStandIn
from tests.integration.test_telegram import (  # noqa: F401  (fixtures)
    ALICE,
    BRUNO,
    CAMILLE,
    running,
    telegram,
)

pytestmark = pytest.mark.integration

CHART = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


def uploads_and_ids(standin: BotApiStandIn) -> list[str]:
    return ["upload" if isinstance(c.params["photo"], bytes) else c.params["photo"]
            for c in standin.sent("sendPhoto", only_ok=False)]


async def test_a_chart_sent_to_three_chats_is_uploaded_once(running: App, standin: BotApiStandIn) -> None:  # noqa: F811
    chats = [ChatRef(Platform.TELEGRAM, str(user), is_private=True) for user in (ALICE, BRUNO, CAMILLE)]
    with session_scope(running.engine) as session:
        notices = [Notice(chat=chat, reply=Reply("Résumé de la semaine", image=CHART, image_name="digest.png"),
                          dedup_key=f"digest:test:{chat.chat_id}") for chat in chats]
        assert enqueue(session, notices, datetime.now(UTC)).count == 3
    await running.outbox.flush()
    await standin.wait_for("sendPhoto", count=3)  # the running worker may be the one sending some of them
    assert uploads_and_ids(standin) == ["upload", "photo-1", "photo-1"]
    assert standin.photo_files == {"photo-1": CHART}
    assert sorted(c.chat_id for c in standin.sent("sendPhoto")) == sorted(str(u) for u in (ALICE, BRUNO, CAMILLE))


async def test_a_file_id_telegram_refuses_is_uploaded_again(running: App, standin: BotApiStandIn) -> None:  # noqa: F811
    reply = Reply("Plan", image=CHART, image_name="plan.png")
    await telegram(running).send(str(ALICE), reply)
    standin.photo_files.clear()  # Telegram forgot it
    await telegram(running).send(str(BRUNO), reply)
    await telegram(running).send(str(CAMILLE), reply)
    assert uploads_and_ids(standin) == ["upload", "photo-1", "upload", "photo-2"]
    assert [c.ok for c in standin.sent("sendPhoto", only_ok=False)] == [True, False, True, True]
    assert standin.photo_files == {"photo-2": CHART}
