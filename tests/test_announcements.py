"""Coordinators broadcast to every subscribed chat: confirmed first, delivered once, reported."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

import bot.app
from bot.adapters.base import DeliveryError, IncomingHandler
from bot.app import App
from bot.core.context import AdminCheck
from bot.core.outbox import reply_from_json
from bot.core.types import ChatRef, Incoming, Platform, Reply, UserRef
from tests.harness import Chat, make_settings


class RecordingPlatform:
    """A chat platform that records deliveries; chats listed in ``gone`` answer that the bot was removed."""

    def __init__(self, platform: Platform, gone: frozenset[str] = frozenset(), pause: float = 0.0) -> None:
        self.platform = platform
        self.gone = gone
        self.pause = pause  # one message at a time, like a rate limiter
        self.delivered: list[str] = []
        self._one_at_a_time = asyncio.Lock()

    async def start(self, on_incoming: object) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, chat_id: str, reply: Reply, *, key: str | None = None) -> None:
        async with self._one_at_a_time:
            await asyncio.sleep(self.pause)
        if chat_id in self.gone:
            raise DeliveryError("Forbidden: bot was kicked from the group chat", permanent=True)
        self.delivered.append(chat_id)


def subscribe_groups(chat: Chat, count: int) -> None:
    for n in range(count):
        assert chat.text("coord", "/abonner", group=f"g{n}").startswith("Abonné")


def test_only_coordinators_subscribe_groups_and_members_their_own_chat(chat: Chat) -> None:
    assert "Seul·e un·e coordinateur·rice ou un·e admin de ce groupe" in chat.text("alice", "/subscribe", group="g1")
    assert chat.text("alice", "/subscribe").startswith("Abonné")
    assert "déjà" in chat.text("alice", "/subscribe")
    assert chat.text("coord", "/subscribe", group="g1").startswith("Abonné")
    assert chat.text("coord", "/desabonner", group="g1").startswith("Désabonné")
    assert "n'était pas abonnée" in chat.text("coord", "/unsubscribe", group="g1")


def admins_of(groups: dict[str, set[str]], asked: list[tuple[str, str]] | None = None) -> AdminCheck:
    """A platform's answer to "does this person administer this group?", recording who was asked about."""
    def check(chat: ChatRef, user: UserRef) -> bool:
        if asked is not None:
            asked.append((chat.chat_id, user.user_id))
        return user.user_id in groups.get(chat.chat_id, set())
    return check


def test_a_group_admin_subscribes_and_unsubscribes_their_group_but_not_another(chat: Chat) -> None:
    chat.app.dispatcher.admin_check = admins_of({"g1": {"alice"}})
    assert chat.text("alice", "/abonner", group="g1").startswith("Abonné")
    assert chat.text("alice", "/subscribe", group="g2") == (
        "Seul·e un·e coordinateur·rice ou un·e admin de ce groupe peut l'abonner.")
    assert chat.text("alice", "/desabonner", group="g1").startswith("Désabonné")


def test_a_plain_member_of_a_group_is_refused_in_their_language(chat: Chat) -> None:
    chat.app.dispatcher.admin_check = admins_of({"g1": {"alice"}})
    assert chat.text("alice", "/subscribe", group="g1").startswith("Abonné")
    chat.say("bob", "/lang en")
    assert chat.text("bob", "/unsubscribe", group="g1") == (
        "Only a coordinator or an admin of this group can unsubscribe it.")
    assert chat.text("bob", "/subscribe", group="g2") == (
        "Only a coordinator or an admin of this group can subscribe it.")
    assert "déjà" in chat.text("coord", "/subscribe", group="g1"), "bob's refusal unsubscribed nothing"


def test_private_chats_and_coordinators_never_ask_the_platform(chat: Chat) -> None:
    asked: list[tuple[str, str]] = []
    chat.app.dispatcher.admin_check = admins_of({}, asked)
    assert chat.text("bob", "/subscribe").startswith("Abonné")
    assert chat.text("bob", "/unsubscribe").startswith("Désabonné")
    assert chat.text("coord", "/subscribe", group="g1").startswith("Abonné")
    assert asked == []
    assert "admin de ce groupe" in chat.text("bob", "/unsubscribe", group="g1")
    assert asked == [("g1", "bob")]


class AdminAnsweringPlatform:
    """A platform whose ``is_chat_admin`` answers on the app's loop: yes, no, fails, or never answers."""

    platform = Platform.CONSOLE

    def __init__(self, answer: str) -> None:
        self.answer = answer

    async def start(self, on_incoming: IncomingHandler) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, chat_id: str, reply: Reply, *, key: str | None = None) -> None: ...

    async def is_chat_admin(self, chat_id: str, user_id: str) -> bool:
        asyncio.get_running_loop()  # runs on the app's loop, not in the command's thread
        if self.answer == "fails":
            raise ConnectionError("platform unreachable")
        if self.answer == "hangs":
            await asyncio.sleep(60)
        return self.answer == "yes" and chat_id == "g1" and user_id == "alice"


@pytest.mark.parametrize(("answer", "subscribed"), [("yes", True), ("no", False), ("fails", False),
                                                    ("hangs", False)])
async def test_the_app_asks_the_chats_platform_and_a_failure_or_silence_means_no(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, answer: str,
    subscribed: bool,
) -> None:
    monkeypatch.setattr(bot.app, "ADMIN_CHECK_TIMEOUT_S", 0.3)
    app = App(make_settings(f"sqlite:///{tmp_path / 't.db'}"), adapters=[AdminAnsweringPlatform(answer)])
    app.prepare(seed=False)
    await app.start()
    try:
        group = ChatRef(Platform.CONSOLE, "g1", is_private=False)
        alice = UserRef(Platform.CONSOLE, "alice", "Alice")
        with caplog.at_level(logging.WARNING, logger="bot.app"):
            [reply] = await app.dispatcher.handle(Incoming(group, alice, "/subscribe"))
    finally:
        await app.stop()
    assert reply.text.startswith("Abonné") is subscribed
    assert ("treated as not an admin" in caplog.text) is (answer in ("fails", "hangs"))


def test_announcement_asks_for_confirmation_then_goes_to_every_chat_once(chat: Chat) -> None:
    subscribe_groups(chat, 3)
    chat.say("bob", "/lang en")
    chat.say("bob", "/subscribe")
    assert chat.text("bob", "/announce hello") == "Only a coordinator can do that."
    [preview] = chat.say("coord", "/annonce Le café est fermé samedi")
    assert preview.title == "Annonce n° 1 (pas encore envoyée)"
    assert preview.text.startswith("Elle partira vers 4 conversations :")
    assert chat.outbox() == [], "nothing leaves before confirmation"
    [sending] = chat.press("coord", "Envoyer à 4 conversations")
    assert sending.edit_original and "J'envoie l'annonce n° 1 à 4 conversations" in sending.text
    chat.say("coord", "/announce send 1")  # a second press changes nothing
    messages = chat.outbox()
    assert sorted(m.chat_id for m in messages) == ["bob", "g0", "g1", "g2"]
    titles = {m.chat_id: reply_from_json(m.payload).title for m in messages}
    assert titles["bob"] == "Announcement" and titles["g0"] == "Annonce"


def test_cancelled_draft_sends_nothing(chat: Chat) -> None:
    subscribe_groups(chat, 1)
    chat.say("coord", "/announce Test")
    assert "annulée ; rien n'a été envoyé" in chat.text("coord", "/announce cancel 1")
    assert chat.outbox() == []


async def test_delivery_report_tells_the_author_what_failed_and_why(sqlite_chat: Chat) -> None:
    subscribe_groups(sqlite_chat, 3)
    sqlite_chat.say("coord", "/announce Assemblée générale jeudi 19h")
    sqlite_chat.say("coord", "/announce send 1")
    platform = RecordingPlatform(Platform.CONSOLE, gone=frozenset({"g1"}))
    sqlite_chat.app.outbox.register(platform)
    await sqlite_chat.app.outbox.flush()
    assert sqlite_chat.app.jobs.run_now("announcement-reports") == 1
    assert sqlite_chat.app.jobs.run_now("announcement-reports") == 0, "reported once"
    report = reply_from_json(sqlite_chat.outbox()[-1].payload).text
    assert report.splitlines() == [
        "Annonce n° 1 : distribuée à 2 conversations sur 3.",
        "Non distribuée à console g1 : on m'a retiré de cette conversation ou bloqué",  # not the platform's English
    ]


async def test_broadcast_interrupted_midway_resumes_and_never_delivers_twice(sqlite_chat: Chat) -> None:
    subscribe_groups(sqlite_chat, 60)
    sqlite_chat.say("coord", "/announce Fermeture exceptionnelle")
    sqlite_chat.say("coord", "/announce send 1")
    first = RecordingPlatform(Platform.CONSOLE, pause=0.02)
    sqlite_chat.app.outbox.register(first)
    sqlite_chat.app.outbox.start()
    await asyncio.sleep(0.3)  # some are delivered, some in flight ...
    await sqlite_chat.app.outbox.stop()  # ... when the process stops
    sqlite_chat.clock.advance(minutes=5)
    restarted = RecordingPlatform(Platform.CONSOLE)
    sqlite_chat.app.outbox.register(restarted)
    sqlite_chat.app.outbox.recover_interrupted()
    await sqlite_chat.app.outbox.flush()
    both = first.delivered + restarted.delivered
    assert len(both) == len(set(both)), "no chat got it twice"
    statuses = [m.status for m in sqlite_chat.outbox() if m.dedup_key and m.dedup_key.startswith("announce:")]
    assert set(statuses) <= {"sent", "failed"} and statuses.count("sent") == len(both)
    assert 0 < len(first.delivered) < 60 and len(restarted.delivered) > 0
