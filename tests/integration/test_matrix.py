"""The Matrix adapter against a real Synapse: the bot (real App + MatrixAdapter) and a member (a second
matrix-nio client) talk over HTTP. Nothing of matrix-nio is mocked."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import statistics
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from nio import (
    AsyncClient,
    AsyncClientConfig,
    Event,
    MegolmEvent,
    RoomCreateResponse,
    RoomMemberEvent,
    RoomMessageNotice,
    RoomMessageText,
    RoomRedactResponse,
    RoomSendResponse,
    SyncResponse,
)
from sqlmodel import Session, select

from bot.adapters.matrix import MatrixAdapter
from bot.adapters.matrix_render import (
    image_info,
    mentioned_users,
    notice_content,
    reply_target,
    strip_mention,
    strip_reply_fallback,
    thread_root,
)
from bot.app import App, StartupError
from bot.config import load_settings
from bot.core.context import Ctx
from bot.core.i18n import translator_for
from bot.core.router import CommandTable, Router
from bot.core.types import Action, ChatRef, Incoming, Platform, Reply, UserRef
from handlers import all_routers
from storage.links import merge_members
from storage.models import Booking, Identity, Member, OutboxMessage, Qualification
from storage.models_reminders import Subscription
from tests.integration.synapse_server import RegisteredUser, SynapseServer, free_port, synapse

__all__ = ["synapse"]  # the session fixture, re-exported so pytest finds it here

pytestmark = pytest.mark.integration

WAIT_S = 20.0
ENCRYPTION_STATE = {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


@dataclass
class MemberClient:
    """A person using Element, played by matrix-nio with its own encryption store."""

    client: AsyncClient
    seen: list[tuple[str, Event]] = field(default_factory=list)
    # Direct chats: the bot answers there without quoting (m.text, so the member is notified).
    direct_rooms: set[str] = field(default_factory=set)

    @classmethod
    async def create(cls, server: SynapseServer, store: Path) -> MemberClient:
        user = server.register(f"member-{secrets.token_hex(4)}")
        store.mkdir(parents=True, exist_ok=True)
        client = AsyncClient(server.url, user.user_id, store_path=str(store),
                             config=AsyncClientConfig(store_sync_tokens=False, encryption_enabled=True))
        client.restore_login(user.user_id, user.device_id, user.access_token)
        if client.should_upload_keys:
            await client.keys_upload()
        member = cls(client)
        await member.sync(timeout=0)
        return member

    @property
    def user_id(self) -> str:
        return str(self.client.user_id)

    async def sync(self, timeout: int = 500) -> None:
        response = await self.client.sync(timeout=timeout)
        assert isinstance(response, SyncResponse), response
        for room_id, info in response.rooms.join.items():
            self.seen.extend((room_id, event) for event in info.timeline.events)
        # As Element does, a message whose key arrives later is decrypted then.
        for index, (room_id, event) in enumerate(self.seen):
            if isinstance(event, MegolmEvent):
                with contextlib.suppress(Exception):
                    decrypted = self.client.decrypt_event(event)
                    if not isinstance(decrypted, MegolmEvent):
                        decrypted.room_id = room_id
                        self.seen[index] = (room_id, decrypted)
        await self.client.send_to_device_messages()
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        if self.client.should_query_keys:
            await self.client.keys_query()

    async def wait_for(self, matches: Callable[[str, Event], bool], timeout: float = WAIT_S) -> Event:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for room_id, event in self.seen:  # all of them: a late key may have made one readable
                if matches(room_id, event):
                    return event
            await self.sync()
        raise AssertionError(f"nothing matched within {timeout} s; seen: {[e for _, e in self.seen][-5:]}")

    async def wait_for_reply(self, room_id: str, to_event: str, sender: str) -> RoomMessageText:
        """The bot's answer to ``to_event``: its quoting reply in a group; in a direct chat, the bot's next
        message after it."""
        if room_id in self.direct_rooms:
            await self.wait_for(lambda r, e: r == room_id and bool(self.replies_to(to_event, sender)))
            event = self.replies_to(to_event, sender)[0]
        else:
            event = await self.wait_for(lambda r, e: r == room_id and is_reply(e, to_event, sender))
        assert isinstance(event, RoomMessageText | RoomMessageNotice)
        return event  # type: ignore[return-value]

    async def wait_for_edit(self, room_id: str, original: str, sender: str) -> Event:
        def is_edit_of_original(r: str, e: Event) -> bool:
            relates = e.source.get("content", {}).get("m.relates_to", {})
            return (r == room_id and e.sender == sender and relates.get("rel_type") == "m.replace"
                    and relates.get("event_id") == original)

        return await self.wait_for(is_edit_of_original)

    async def create_room(self, invite: str, *, encrypted: bool = False, direct: bool = False) -> str:
        response = await self.client.room_create(
            invite=[invite], is_direct=direct, initial_state=[ENCRYPTION_STATE] if encrypted else [],
        )
        assert isinstance(response, RoomCreateResponse), response
        if direct:
            self.direct_rooms.add(str(response.room_id))
        await self.wait_for(lambda r, e: r == response.room_id and isinstance(e, RoomMemberEvent)
                            and e.state_key == invite and e.membership == "join")
        return str(response.room_id)

    async def say(self, room_id: str, body: str, reply_to: str | None = None) -> str:
        content: dict[str, Any] = {"msgtype": "m.text", "body": body}
        if reply_to:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        return await self._send(room_id, "m.room.message", content)

    async def react(self, room_id: str, event_id: str, key: str) -> str:
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        return await self._send(room_id, "m.reaction", content)

    async def redact(self, room_id: str, event_id: str) -> None:
        response = await self.client.room_redact(room_id, event_id)
        assert isinstance(response, RoomRedactResponse), response

    async def _send(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        response = await self.client.room_send(room_id, event_type, content, ignore_unverified_devices=True)
        assert isinstance(response, RoomSendResponse), response
        return str(response.event_id)

    def replies_to(self, event_id: str, sender: str) -> list[Event]:
        index = next((i for i, (_, e) in enumerate(self.seen) if e.event_id == event_id), None)
        room_id = self.seen[index][0] if index is not None else None
        if room_id is None or room_id not in self.direct_rooms:
            return [e for _, e in self.seen if is_reply(e, event_id, sender)]
        assert index is not None
        answers = []
        for r, e in self.seen[index + 1:]:
            if r != room_id:
                continue
            if e.sender == self.user_id and isinstance(e, RoomMessageText):
                break  # the member's next message: later answers are to it
            if e.sender == sender and isinstance(e, RoomMessageText | RoomMessageNotice) and not is_edit_event(e):
                answers.append(e)
        return answers


def is_reply(event: Event, to_event: str, sender: str) -> bool:
    content = event.source.get("content", {})
    target = content.get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")
    return isinstance(event, RoomMessageNotice | RoomMessageText) and event.sender == sender and target == to_event


def is_edit_event(event: Event) -> bool:
    return event.source.get("content", {}).get("m.relates_to", {}).get("rel_type") == "m.replace"


def bot_env(server: SynapseServer, bot: RegisteredUser, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
        "DATA_DIR": str(tmp_path / "data"),
        "LANGUAGE": "fr",
        "MATRIX_HOMESERVER": server.url,
        "MATRIX_USER_ID": bot.user_id,
        "MATRIX_PASSWORD": bot.password,
    }
    env.update(extra)
    return env


async def start_bot(env: dict[str, str], *extra_routers: Router) -> App:
    app = App(load_settings(env))
    if extra_routers:  # test-only commands, next to the real ones
        app.commands = app.dispatcher.commands = CommandTable([*all_routers(), *extra_routers])
    app.prepare()
    await app.start()
    return app


def matrix_adapter(app: App) -> MatrixAdapter:
    adapter = next(a for a in app.adapters if isinstance(a, MatrixAdapter))
    return adapter


@pytest.fixture
async def member(synapse: SynapseServer, tmp_path: Path) -> AsyncIterator[MemberClient]:
    person = await MemberClient.create(synapse, tmp_path / "member-store")
    yield person
    await person.client.close()


@pytest.fixture
def bot_user(synapse: SynapseServer) -> RegisteredUser:
    return synapse.register(f"bot-{secrets.token_hex(4)}")


# -- wire format, no homeserver needed ----------------------------------------------------------


def test_reply_escapes_user_text_and_lists_reaction_keys() -> None:
    reply = Reply("<b>Salle & co</b>", title="<i>Réservé</i>", actions=(Action("Annuler", "/cancel 3"),))
    content = notice_content(reply, translator_for("fr", "Europe/Paris"), in_reply_to="$ev")
    assert content["msgtype"] == "m.notice"
    assert "<strong>&lt;i&gt;Réservé&lt;/i&gt;</strong>" in content["formatted_body"]
    assert "&lt;b&gt;Salle &amp; co&lt;/b&gt;" in content["formatted_body"]
    assert "✅ Annuler" in content["body"]
    assert content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$ev"}}


def test_reports_markdown_becomes_html_and_commands_are_shown_with_a_bang() -> None:
    reply = Reply("# Rapport\n## Salles\n- Salle **A** : 3 <b>\nTapez /help ou /cancel 2 (14h/16h, https://x.org/help)")
    content = notice_content(reply, translator_for("fr", "Europe/Paris"), command_names=["help", "cancel"])
    html_body = content["formatted_body"]
    assert "<h3>Rapport</h3><h4>Salles</h4><ul><li>Salle <strong>A</strong> : 3 &lt;b&gt;</li></ul>" in html_body
    assert "!help ou !cancel 2 (14h/16h, https://x.org/help)" in html_body
    assert "#" not in content["body"] and "**" not in content["body"] and "• Salle A" in content["body"]


def test_an_image_carries_its_type_size_and_dimensions() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (640).to_bytes(4, "big") + (480).to_bytes(4, "big") + b"rest"
    assert image_info(png) == {"mimetype": "image/png", "size": len(png), "w": 640, "h": 480}


def test_pills_and_m_mentions_name_users_and_a_thread_fallback_is_not_a_reply() -> None:
    content = {
        "body": "Bot: !book salle pour Carol",
        "formatted_body": '<a href="https://matrix.to/#/@bot:localhost">Bot</a>: !book salle pour '
                          '<a href="https://matrix.to/#/%40carol%3Alocalhost">Carol</a>',
        "m.mentions": {"user_ids": ["@bot:localhost"]},
        "m.relates_to": {"rel_type": "m.thread", "event_id": "$root", "is_falling_back": True,
                         "m.in_reply_to": {"event_id": "$last"}},
    }
    assert mentioned_users(content) == ["@bot:localhost", "@carol:localhost"]
    assert thread_root(content) == "$root" and reply_target(content) is None


def test_mentions_and_reply_quotes_are_stripped_before_the_command() -> None:
    assert strip_mention("@bot:localhost: !book x", "@bot:localhost", []) == "!book x"
    assert strip_mention("Tiers Bot: !help", "@bot:localhost", ["Tiers Bot"]) == "!help"
    assert strip_mention("!help", "@bot:localhost", ["bot"]) == "!help"
    assert strip_reply_fallback("> <@bot:localhost> Réservé\n> suite\n\n2") == "2"


def test_merging_members_moves_every_reference_and_drops_duplicates(tmp_path: Path) -> None:
    app = App(load_settings({"DATABASE_URL": f"sqlite:///{tmp_path}/t.db"}), adapters=[])
    app.prepare(seed=False)
    with Session(app.engine) as session:
        kept, absorbed = Member(display_name="A"), Member(display_name="B", is_coordinator=True)
        session.add_all([kept, absorbed])
        session.flush()
        assert kept.id is not None and absorbed.id is not None
        keep_id, absorb_id = kept.id, absorbed.id
        session.add_all([
            Identity(member_id=absorb_id, platform="matrix", user_id="@b:x"),
            Qualification(member_id=keep_id, name="laser"),
            Qualification(member_id=absorb_id, name="laser", granted_by=absorb_id),
            Qualification(member_id=absorb_id, name="soudure"),
        ])
        session.commit()
        merge_members(session, keep_id=keep_id, absorb_id=absorb_id)
        session.commit()
        assert session.get(Member, absorb_id) is None
        assert session.get(Member, keep_id).is_coordinator  # type: ignore[union-attr]
        assert {q.name for q in session.exec(select(Qualification))} == {"laser", "soudure"}
        assert {q.member_id for q in session.exec(select(Qualification))} == {keep_id}
        assert session.exec(select(Identity)).one().member_id == keep_id
    app.engine.dispose()


# -- against Synapse ---------------------------------------------------------------------------


async def test_bot_joins_on_invite_and_answers_a_booking_as_a_reply_notice(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path
) -> None:
    app = await start_bot(bot_env(synapse, bot_user, tmp_path))
    try:
        room = await member.create_room(bot_user.user_id)
        asked = await member.say(room, f"{bot_user.user_id}: !book salle-reunion demain 14h-16h")
        answer = await member.wait_for_reply(room, asked, bot_user.user_id)
        assert "Salle de réunion" in answer.body
        assert answer.source["content"]["format"] == "org.matrix.custom.html"
        assert "✅ Annuler" in answer.body

        latencies = []
        for _ in range(5):
            began = time.monotonic()
            asked = await member.say(room, "!help")
            help_answer = await member.wait_for_reply(room, asked, bot_user.user_id)
            latencies.append(time.monotonic() - began)
        # Element keeps "/" for its own commands: help shows them as they are typed on Matrix.
        assert "!book" in help_answer.body and re.search(r"(?<![\w/])/[a-z]", help_answer.body) is None
        print(f"round trip member -> bot -> member: median {statistics.median(latencies) * 1000:.0f} ms")

        with Session(app.engine) as session:
            identity = session.exec(select(Identity).where(Identity.user_id == member.user_id)).one()
            assert identity.private_chat_id is None  # a group room is not a private chat
    finally:
        await app.stop()


async def test_a_reaction_and_a_numbered_answer_run_the_offered_actions(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path
) -> None:
    app = await start_bot(bot_env(synapse, bot_user, tmp_path))
    try:
        room = await member.create_room(bot_user.user_id)
        first = await member.say(room, "!book salle-reunion demain 14h-16h")
        confirmation = await member.wait_for_reply(room, first, bot_user.user_id)
        await member.react(room, confirmation.event_id, "✅")
        # The cancellation replaces the confirmation (edit_original), as a button would on Telegram.
        edited = await member.wait_for_edit(room, confirmation.event_id, bot_user.user_id)
        assert "annul" in edited.source["content"]["m.new_content"]["body"].lower()

        second = await member.say(room, "!book salle-reunion demain 10h-11h")
        await member.wait_for_reply(room, second, bot_user.user_id)
        listing_request = await member.say(room, "!mybookings")
        listing = await member.wait_for_reply(room, listing_request, bot_user.user_id)
        # A typed number as a reply to the bot presses the choice; cancelling asks once (the core's rule).
        typed = await member.say(room, "1", reply_to=listing.event_id)
        sure = await member.wait_for_reply(room, typed, bot_user.user_id)
        assert "Sûr·e" in sure.body and "!cancel 2" in sure.body  # commands shown as Matrix types them
        confirmed = await member.say(room, "1", reply_to=sure.event_id)
        done = await member.wait_for_reply(room, confirmed, bot_user.user_id)
        assert done.body.startswith("Annulé")
        with Session(app.engine) as session:
            statuses = [b.status for b in session.exec(select(Booking).order_by(Booking.id))]  # type: ignore[arg-type]
        assert statuses == ["cancelled", "cancelled"]
    finally:
        await app.stop()


async def test_removing_a_reaction_runs_the_undo_once_as_the_member_who_reacted_even_after_a_restart(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path
) -> None:
    ran: list[tuple[str, str, bool]] = []  # (command, as whom, from a reaction)
    router = Router("test-undo")

    @router.command("offer", help="test only", hidden=True)
    def offer(ctx: Ctx, args: str) -> Reply:
        return Reply("offered", actions=(Action("Tick", "/tick", undo="/untick"),))

    @router.command("tick", help="test only", hidden=True)
    def tick(ctx: Ctx, args: str) -> Reply:
        ran.append(("tick", ctx.incoming.sender.user_id, ctx.incoming.is_action))
        return Reply(f"ticked by {ctx.incoming.sender.user_id}")

    @router.command("untick", help="test only", hidden=True)
    def untick(ctx: Ctx, args: str) -> Reply:
        ran.append(("untick", ctx.incoming.sender.user_id, ctx.incoming.is_action))
        return Reply(f"unticked by {ctx.incoming.sender.user_id}")

    # The answer to a reaction concerns the member who reacted: a threaded m.text under the offer that
    # mentions them (notices never notify), not a notice to the whole room.
    def notices(body: str) -> list[Event]:
        return [e for r, e in member.seen
                if r == room and isinstance(e, RoomMessageText | RoomMessageNotice) and e.body == body]

    async def wait_for_notice(body: str) -> None:
        await member.wait_for(
            lambda r, e: r == room and isinstance(e, RoomMessageText | RoomMessageNotice) and e.body == body)
        answer = notices(body)[-1]
        content = answer.source["content"]
        assert content["m.mentions"] == {"user_ids": [body.rsplit(" ", 1)[-1]]}
        assert content["m.relates_to"]["rel_type"] == "m.thread"

    env = bot_env(synapse, bot_user, tmp_path)
    app = await start_bot(env, router)
    other = await MemberClient.create(synapse, tmp_path / "other-store")
    try:
        room = await member.create_room(bot_user.user_id)  # its creator may remove others' reactions
        await member.client.room_invite(room, other.user_id)
        await other.client.join(room)
        await other.sync(timeout=0)  # nio sends only into rooms it has synced
        asked = await member.say(room, "!offer")
        offered = await member.wait_for_reply(room, asked, bot_user.user_id)
        assert "✅ Tick" in offered.body and "Retirer votre réaction l'annule." in offered.body

        # Someone else's reaction, removed by the room's creator: their tick stays.
        others_reaction = await other.react(room, offered.event_id, "✅")
        await wait_for_notice(f"ticked by {other.user_id}")
        await member.redact(room, others_reaction)
        # A reaction that ran nothing, removed: nothing to undo.
        await member.redact(room, await member.react(room, offered.event_id, "👍"))

        own_reaction = await member.react(room, offered.event_id, "✅")
        await wait_for_notice(f"ticked by {member.user_id}")
        await app.stop()
        app = await start_bot(env, router)  # what to undo was kept in the database

        await member.redact(room, own_reaction)
        await wait_for_notice(f"unticked by {member.user_id}")
        await asyncio.sleep(1)
        await member.sync()
        assert ran == [("tick", other.user_id, True), ("tick", member.user_id, True),
                       ("untick", member.user_id, True)]
        assert len(notices(f"unticked by {member.user_id}")) == 1
        assert notices(f"unticked by {other.user_id}") == []
    finally:
        await app.stop()
        await other.client.close()


async def test_the_rooms_creator_and_moderators_may_subscribe_it_and_a_member_without_power_may_not(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path
) -> None:
    env = bot_env(synapse, bot_user, tmp_path)
    app = await start_bot(env)
    other = await MemberClient.create(synapse, tmp_path / "other-store")
    try:
        # Its creator has all power (room version 12, Synapse's default: outside m.room.power_levels).
        room = await member.create_room(bot_user.user_id)
        await member.client.room_invite(room, other.user_id)
        await other.client.join(room)
        await other.sync(timeout=0)  # nio sends only into rooms it has synced

        def subscribed() -> list[str]:
            with Session(app.engine) as session:
                return [s.chat_id for s in session.exec(select(Subscription))]

        asked = await other.say(room, "!subscribe")  # power level 0
        refusal = await other.wait_for_reply(room, asked, bot_user.user_id)
        assert "Seul·e un·e coordinateur·rice ou un·e admin de ce groupe" in refusal.body
        assert subscribed() == []

        asked = await member.say(room, "!abonner")
        accepted = await member.wait_for_reply(room, asked, bot_user.user_id)
        assert accepted.body.startswith("Abonné")
        assert subscribed() == [room]

        await app.stop()
        app = await start_bot(env)  # who created the room is known again after a restart
        asked = await member.say(room, "!desabonner")
        stopped = await member.wait_for_reply(room, asked, bot_user.user_id)
        assert stopped.body.startswith("Désabonné") and subscribed() == []

        levels = synapse.request("GET", f"/_matrix/client/v3/rooms/{room}/state/m.room.power_levels",
                                 token=member.client.access_token)
        levels.setdefault("users", {})[other.user_id] = 50  # a moderator
        synapse.request("PUT", f"/_matrix/client/v3/rooms/{room}/state/m.room.power_levels",
                        levels, token=member.client.access_token)
        asked = await other.say(room, "!subscribe")
        accepted = await other.wait_for_reply(room, asked, bot_user.user_id)
        assert accepted.body.startswith("Abonné") and subscribed() == [room]
    finally:
        await app.stop()
        await other.client.close()


async def test_messages_sent_while_the_bot_is_down_are_each_answered_exactly_once(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path
) -> None:
    env = bot_env(synapse, bot_user, tmp_path)
    app = await start_bot(env)
    room = await member.create_room(bot_user.user_id)
    before = await member.say(room, "!help")
    await member.wait_for_reply(room, before, bot_user.user_id)
    device = matrix_adapter(app).client.device_id
    await app.stop()

    waiting = [await member.say(room, f"!{command}") for command in ("help", "spaces", "mybookings")]
    app = await start_bot(env)
    try:
        assert matrix_adapter(app).client.device_id == device  # the saved password login was reused
        for event_id in waiting:
            await member.wait_for_reply(room, event_id, bot_user.user_id)
        await asyncio.sleep(2)
        await member.sync()
        for event_id in [before, *waiting]:
            assert len(member.replies_to(event_id, bot_user.user_id)) == 1
    finally:
        await app.stop()


async def test_rate_limited_sends_wait_for_synapse_and_are_never_duplicated(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path
) -> None:
    app = await start_bot(bot_env(synapse, bot_user, tmp_path))
    try:
        room = await member.create_room(bot_user.user_id)
        adapter = matrix_adapter(app)
        for _ in range(int(WAIT_S * 10)):  # the member saw the join; wait until the bot's own sync has too
            if room in adapter.client.rooms:
                break
            await asyncio.sleep(0.1)
        synapse.override_ratelimit(bot_user.user_id, messages_per_second=1, burst_count=1)
        sends = [adapter.send(room, Reply(f"annonce {i}"), key=f"outbox-{i}") for i in range(4)]
        sends.append(adapter.send(room, Reply("annonce 0"), key="outbox-0"))  # a retry of the first
        began = time.monotonic()
        await asyncio.gather(*sends)
        elapsed = time.monotonic() - began
        await member.wait_for(lambda r, e: r == room and getattr(e, "body", "") == "annonce 3")
        await asyncio.sleep(1)
        await member.sync()
        bodies = [getattr(e, "body", "") for r, e in member.seen
                  if r == room and e.sender == bot_user.user_id and isinstance(e, RoomMessageNotice)]
        assert sorted(bodies) == ["annonce 0", "annonce 1", "annonce 2", "annonce 3"]
        assert adapter.rate_limited_count > 0
        print(f"4 sends at 1/s: {elapsed:.1f} s, {adapter.rate_limited_count} rate-limit answers waited out")
    finally:
        await app.stop()


async def test_encrypted_room_and_direct_chat_work_before_and_after_a_restart(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path
) -> None:
    env = bot_env(synapse, bot_user, tmp_path)
    app = await start_bot(env)
    room = await member.create_room(bot_user.user_id, encrypted=True)
    direct = await member.create_room(bot_user.user_id, encrypted=True, direct=True)

    async def ask_and_check(room_id: str) -> None:
        asked = await member.say(room_id, "!help")
        answer = await member.wait_for_reply(room_id, asked, bot_user.user_id)
        assert answer.decrypted, "the bot sent plaintext into an encrypted room"

    try:
        await ask_and_check(room)
        await ask_and_check(direct)
    finally:
        await app.stop()
    with Session(app.engine) as session:
        identity = session.exec(select(Identity).where(Identity.user_id == member.user_id)).one()
        assert identity.private_chat_id == direct

    app = await start_bot(env)
    try:
        await ask_and_check(room)
        await ask_and_check(direct)
        for _, event in member.seen:
            if event.sender == bot_user.user_id and isinstance(event, RoomMessageNotice):
                assert event.decrypted
    finally:
        await app.stop()


async def test_a_message_the_bot_cannot_decrypt_is_answered_with_an_explanation_even_across_a_restart(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path
) -> None:
    env = bot_env(synapse, bot_user, tmp_path)
    app = await start_bot(env)
    try:
        room = await member.create_room(bot_user.user_id, encrypted=True)
        # What arrives when the bot's keys were lost: a megolm message from a session it never received.
        lost = {
            "algorithm": "m.megolm.v1.aes-sha2",
            "ciphertext": "AwgAEnB" + "A" * 100,
            "sender_key": "x" * 43,
            "session_id": "lost-session-" + secrets.token_hex(4),
            "device_id": member.client.device_id,
        }
        sent = synapse.request(  # raw: nio would encrypt it properly
            "PUT", f"/_matrix/client/v3/rooms/{room}/send/m.room.encrypted/{secrets.token_hex(8)}",
            lost, token=member.client.access_token,
        )
        answer = await member.wait_for_reply(room, sent["event_id"], bot_user.user_id)
        assert "lire ce message chiffré" in answer.body and "perdu" not in answer.body

        # Stopped while the next one waits for its key: after the restart it is still explained, once.
        lost["session_id"] = "lost-session-" + secrets.token_hex(4)
        again = synapse.request(
            "PUT", f"/_matrix/client/v3/rooms/{room}/send/m.room.encrypted/{secrets.token_hex(8)}",
            lost, token=member.client.access_token,
        )
        adapter = matrix_adapter(app)
        deadline = time.monotonic() + WAIT_S
        while not adapter._undecrypted:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        await app.stop()
        app = await start_bot(env)
        await member.wait_for_reply(room, again["event_id"], bot_user.user_id)
        await asyncio.sleep(1.5)
        await member.sync()
        assert len(member.replies_to(again["event_id"], bot_user.user_id)) == 1
    finally:
        await app.stop()


async def test_link_joins_a_console_identity_and_a_matrix_one(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path
) -> None:
    app = await start_bot(bot_env(synapse, bot_user, tmp_path))
    try:
        direct = await member.create_room(bot_user.user_id, direct=True)
        booked = await member.say(direct, "!book salle-reunion demain 9h-10h")
        await member.wait_for_reply(direct, booked, bot_user.user_id)

        console = Incoming(ChatRef(Platform.CONSOLE, "camille", True),
                           UserRef(Platform.CONSOLE, "camille", "Camille"), "/link")
        (code_reply,) = await app.dispatcher.handle(console)
        code = code_reply.text.split("/link ", 1)[1].split()[0]

        linking = await member.say(direct, f"!link {code}")
        answer = await member.wait_for_reply(direct, linking, bot_user.user_id)
        assert "confirmez sur votre compte console" in answer.body
        # The console account, which asked for the code, presses the button it was sent.
        with Session(app.engine) as session:
            payload = session.exec(select(OutboxMessage.payload).where(
                OutboxMessage.platform == Platform.CONSOLE.value)).one()
        press = next(a["command"] for a in json.loads(payload)["actions"] if " yes " in a["command"])
        await app.dispatcher.handle(Incoming(console.chat, console.sender, press, is_action=True))
        with Session(app.engine) as session:
            ids = {i.platform: i.member_id for i in session.exec(select(Identity))}
            assert ids[Platform.CONSOLE.value] == ids[Platform.MATRIX.value]
            (booking,) = session.exec(select(Booking)).all()
            assert booking.member_id == ids[Platform.CONSOLE.value]

        reused = await member.say(direct, f"!link {code}")
        refusal = await member.wait_for_reply(direct, reused, bot_user.user_id)
        assert code not in refusal.body
    finally:
        await app.stop()


async def test_invites_from_other_servers_are_declined_and_the_bot_leaves_when_alone(
    synapse: SynapseServer, member: MemberClient, bot_user: RegisteredUser, tmp_path: Path
) -> None:
    app = await start_bot(bot_env(synapse, bot_user, tmp_path))
    try:
        room = await member.create_room(bot_user.user_id)
        await member.client.room_leave(room)
        token = matrix_adapter(app).client.access_token
        deadline = time.monotonic() + WAIT_S
        while room in synapse.request("GET", "/_matrix/client/v3/joined_rooms", token=token)["joined_rooms"]:
            assert time.monotonic() < deadline, "the bot stayed alone in the room"
            await asyncio.sleep(0.2)
    finally:
        await app.stop()

    app = await start_bot(bot_env(synapse, bot_user, tmp_path / "other", MATRIX_ALLOWED_SERVERS="example.org"))
    try:
        response = await member.client.room_create(invite=[bot_user.user_id])
        assert isinstance(response, RoomCreateResponse)
        declined = await member.wait_for(
            lambda r, e: r == response.room_id and isinstance(e, RoomMemberEvent)
            and e.state_key == bot_user.user_id and e.membership != "invite")
        assert isinstance(declined, RoomMemberEvent) and declined.membership == "leave"
        token = matrix_adapter(app).client.access_token
        joined = synapse.request("GET", "/_matrix/client/v3/joined_rooms", token=token)["joined_rooms"]
        assert response.room_id not in joined
    finally:
        await app.stop()


async def test_a_homeserver_that_goes_away_is_retried_without_losing_the_sync_position(
    tmp_path: Path,
) -> None:
    server = SynapseServer(tmp_path / "own-synapse")  # its own instance: this test stops it
    server.start()
    app: App | None = None
    person: MemberClient | None = None
    try:
        bot_user = server.register("bot")
        person = await MemberClient.create(server, tmp_path / "member-store")
        app = await start_bot(bot_env(server, bot_user, tmp_path))
        room = await person.create_room(bot_user.user_id)
        server.stop()
        await asyncio.sleep(3)  # the bot's sync fails and backs off meanwhile
        server.start()
        asked = await person.say(room, "!help")
        await person.wait_for_reply(room, asked, bot_user.user_id)
        await asyncio.sleep(1)
        await person.sync()
        assert len(person.replies_to(asked, bot_user.user_id)) == 1
        print(f"Synapse start to healthy: {server.start_seconds:.1f} s")
    finally:
        if app is not None:
            await app.stop()
        if person is not None:
            await person.client.close()
        server.stop()


@pytest.mark.parametrize(
    ("setting", "overrides"),
    [
        ("MATRIX_PASSWORD", {"MATRIX_PASSWORD": "wrong"}),
        ("MATRIX_ACCESS_TOKEN", {"MATRIX_ACCESS_TOKEN": "syt_not_a_token"}),
        ("MATRIX_HOMESERVER", {"MATRIX_HOMESERVER": "http://127.0.0.1:{port}"}),
    ],
)
async def test_bad_credentials_or_unreachable_homeserver_stop_start_up_naming_the_setting(
    synapse: SynapseServer, bot_user: RegisteredUser, tmp_path: Path, setting: str, overrides: dict[str, str]
) -> None:
    env = bot_env(synapse, bot_user, tmp_path)
    env.update({k: v.format(port=free_port()) for k, v in overrides.items()})
    app = App(load_settings(env))
    app.prepare()
    with pytest.raises(StartupError) as raised:
        await app.start()
    await app.stop()
    message = str(raised.value)
    assert message.startswith(setting) and "\n" not in message
