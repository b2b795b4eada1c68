"""/digest's chart is drawn after the command's transaction has committed (matplotlib never holds the write
lock): the answer carries the chart's recipe, drawn when the answer leaves the core; stored in the outbox
with the answer, so a bot killed before sending still sends the picture after its restart."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

import bot.charts
import bot.core.images
from bot.core.outbox import OutboxWorker, reply_from_json
from tests.harness import Chat
from tests.test_digest import seed_week
from tests.test_outbox_images import Recorder


def watch_drawing(monkeypatch: pytest.MonkeyPatch, engine: Any) -> list[bool]:
    """Each drawing of a chart from now on: whether a database connection was checked out (a transaction
    open) at that moment."""
    seen: list[bool] = []
    draw = bot.charts.occupancy_panels
    monkeypatch.setattr(bot.core.images, "_drawn", type(bot.core.images._drawn)())  # none lately drawn

    def watched(*args: Any, **kwargs: Any) -> bytes:
        seen.append(engine.pool.checkedout() > 0)
        return draw(*args, **kwargs)

    monkeypatch.setattr(bot.charts, "occupancy_panels", watched)
    return seen


def test_the_typed_digest_is_drawn_after_its_transaction(sqlite_chat: Chat, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_week(sqlite_chat)
    watched_drawing = watch_drawing(monkeypatch, sqlite_chat.app.engine)
    [digest] = sqlite_chat.say("alice", "/digest")
    assert watched_drawing == [False]
    assert digest.image is not None and digest.image.startswith(b"\x89PNG") and digest.image_recipe is None


def test_a_digest_answer_waiting_in_the_outbox_is_sent_with_its_picture_after_a_restart(
        chat: Chat, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_week(chat)
    watched_drawing = watch_drawing(monkeypatch, chat.app.engine)
    chat.app.inbox.store_sync([chat.incoming("alice", "/digest", group="g1")])
    assert chat.app.inbox.drain_sync() == 1
    [answer] = [row for row in chat.outbox() if row.dedup_key and row.dedup_key.startswith("answer:")]
    stored = json.loads(answer.payload)
    assert stored["image"] is None and json.loads(stored["image_recipe"])["maker"] == "occupancy"
    assert watched_drawing == [], "nothing drawn in the command's transaction"
    assert reply_from_json(answer.payload).title == "La semaine du lundi 23 novembre au dimanche 29 novembre"

    restarted = OutboxWorker(chat.app.engine, chat.clock)  # the bot was killed before sending: a new sender
    recorder = Recorder()
    restarted.register(recorder)  # type: ignore[arg-type]
    assert asyncio.run(restarted.flush()) == 1
    [(chat_id, image)] = recorder.delivered
    assert chat_id == "g1" and image is not None and image.startswith(b"\x89PNG")
    assert watched_drawing == [False]
