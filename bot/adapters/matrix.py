"""Matrix adapter: room messages and reactions become Incoming commands; replies become m.notice events.

The sync loop is ours rather than nio's ``sync_forever`` because the sync token must be saved only
after the events of that sync were answered (nio saves it before its callbacks run), and because a
homeserver that goes away must be retried with backoff from the same position.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from aiohttp import ClientError
from nio import (
    AsyncClient,
    InviteMemberEvent,
    JoinResponse,
    MatrixRoom,
    MegolmEvent,
    MessageDirection,
    ReactionEvent,
    RedactionEvent,
    RoomCreateEvent,
    RoomCreateResponse,
    RoomGetEventResponse,
    RoomMemberEvent,
    RoomMessagesResponse,
    RoomMessageText,
    RoomPreset,
    RoomSendResponse,
    SyncResponse,
    UnknownEvent,
    UploadResponse,
)
from sqlalchemy import Engine

from bot.adapters.base import DeliveryError, InboxSink
from bot.adapters.matrix_crosssign import CrossSigner, CrossSigningError
from bot.adapters.matrix_login import MatrixLoginError, encryption_store_lost, log_in, new_client, store_dir
from bot.adapters.matrix_render import (
    action_table,
    addressed_to_one_member,
    image_info,
    is_edit,
    mentioned_users,
    normalise_key,
    notice_content,
    reply_target,
    strip_mention,
    strip_reply_fallback,
    thread_relation,
    thread_root,
    transaction_id,
    undo_table,
)
from bot.config import Settings
from bot.core.i18n import N_, Translator, translator_for
from bot.core.router import CommandTable
from bot.core.types import ChatRef, Incoming, Platform, PollSpec, Reply, UserRef
from storage.adapter_state import get_state, set_state
from storage.announcements import chat_title_key, forget_chat
from storage.db import session_scope

log = logging.getLogger(__name__)

SYNC_TOKEN_KEY = "matrix:sync_token"
SYNC_TIMEOUT_MS = 30_000
# Ask for enough timeline per room that messages sent while the bot was down are not cut off.
SYNC_FILTER = {
    "room": {"timeline": {"limit": 100}, "state": {"lazy_load_members": False}},
    "presence": {"not_types": ["*"]},
}
MAX_RATE_LIMIT_RETRIES = 8
# Filling the gap of a cut-short sync timeline: up to 20 pages of 100 events per room and sync.
GAP_PAGE_SIZE = 100
MAX_GAP_PAGES = 20
BOT_EVENTS_KEPT = 1000
OPEN_CHAT_WAIT_S = 35.0  # a sync long-poll, plus margin
MAX_RATE_LIMIT_WAIT_S = 30.0
MAX_BACKOFF_S = 60.0
# A room key may arrive a sync after the message it opens: wait this long before giving up on it.
UNDECRYPTABLE_GRACE_S = 5.0
PENDING_SYNC_TIMEOUT_MS = 1_000
# Element's "Moderator" and up count as admins of a room (Ctx.is_chat_admin).
ROOM_ADMIN_LEVEL = 50
PERMANENT_ERRORS = {"M_FORBIDDEN", "M_NOT_FOUND", "M_UNKNOWN_TOKEN", "M_TOO_LARGE", "M_BAD_JSON"}

# Usually the member's app did not share the message's key with the bot's device (not trusted yet, or
# the key was sent before the bot joined): not a lost store, which the start-up log reports itself.
CANNOT_DECRYPT = N_(
    "I couldn't read that encrypted message: your app didn't share its key with me. Please send it again."
)


def creators_are_privileged(room_version: str) -> bool:
    """Room version 12 (and its draft, hydra) gives a room's creators unlimited power outside the power levels."""
    return room_version == "org.matrix.hydra.11" or (room_version.isdigit() and int(room_version) >= 12)


def _actions_key(event_id: str) -> str:
    return f"matrix:actions:{event_id}"


def _undos_key(event_id: str) -> str:
    return f"matrix:undos:{event_id}"


def _reaction_key(reaction_id: str) -> str:
    """A reaction that ran an undoable action -> what removing it runs (JSON), "" once undone."""
    return f"matrix:reaction:{reaction_id}"


def _poll_key(start_event_id: str) -> str:
    return f"matrix:poll:{start_event_id}"


def _poll_of_key(number: int, room_id: str) -> str:
    return f"matrix:poll-of:{number}:{room_id}"


POLL_START = "m.poll.start"
POLL_END = "m.poll.end"


def poll_end_content(start_event_id: str, text: str) -> dict[str, Any]:
    """An m.poll.end for our poll: Element shows it closed, with our result as its text."""
    return {
        "m.relates_to": {"rel_type": "m.reference", "event_id": start_event_id},
        "m.text": [{"body": text}],
        "org.matrix.msc3381.poll.end": {},
        "org.matrix.msc1767.text": text,
    }
POLL_RESPONSE_TYPES = ("m.poll.response", "org.matrix.msc3381.poll.response")


def poll_start_content(poll: PollSpec, fallback: str) -> dict[str, Any]:
    """An m.poll.start (Matrix polls) whose answers are the choices' positions ("1", "2", …), with the
    unstable MSC3381 form beside it (what Element reads) and a plain-text fallback."""
    answers = [(str(i), text) for i, text in enumerate(poll.options, start=1)]
    max_selections = len(answers) if poll.multiple else 1
    return {
        "m.poll": {
            "kind": "m.disclosed", "max_selections": max_selections,
            "question": {"m.text": [{"body": poll.question}]},
            "answers": [{"m.id": key, "m.text": [{"body": text}]} for key, text in answers],
        },
        "org.matrix.msc3381.poll.start": {
            "kind": "org.matrix.msc3381.poll.disclosed", "max_selections": max_selections,
            "question": {"org.matrix.msc1767.text": poll.question},
            "answers": [{"id": key, "org.matrix.msc1767.text": text} for key, text in answers],
        },
        "m.text": [{"body": fallback}],
        "org.matrix.msc1767.text": fallback,
    }


def poll_selections(content: dict[str, Any]) -> list[str]:
    """The answer ids of an m.poll.response, stable or unstable form."""
    if isinstance(content.get("m.selections"), list):
        return [str(a) for a in content["m.selections"]]
    for key in ("m.poll.response", "org.matrix.msc3381.poll.response"):
        answers = content.get(key, {}).get("answers") if isinstance(content.get(key), dict) else None
        if isinstance(answers, list):
            return [str(a) for a in answers]
    return []


def _invited_at_key(room_id: str) -> str:
    """When the bot was invited to a room (server time, ms): what was said after it is answered on join."""
    return f"matrix:invited_at:{room_id}"


def _dm_with_key(user_id: str) -> str:
    """The direct chat the bot opened itself with a member."""
    return f"matrix:dm_with:{user_id}"


def _direct_key(room_id: str) -> str:
    return f"matrix:direct:{room_id}"


class MatrixAdapter:
    platform = Platform.MATRIX
    # A resent event with the same transaction id is dropped by the homeserver: the outbox may retry
    # a send that was interrupted.
    idempotent_sends = True
    # Commands go to the core's inbox (stored before the sync token is saved), answers come back by send().
    uses_inbox = True

    def __init__(self, settings: Settings, engine: Engine, commands: CommandTable | None = None) -> None:
        self.settings = settings
        # Command names, to show them with "!" in what the bot writes (help, hints, examples).
        self.command_names: list[str] = commands.names() if commands is not None else []
        self.engine = engine
        self.client: AsyncClient = new_client(settings)
        self.user_id = settings.matrix_user_id or ""
        self.translator: Translator = translator_for(settings.language, settings.timezone)
        self.rate_limited_count = 0
        self._sink: InboxSink | None = None
        # Events the bot sent lately (a reply to one of them is addressed to the bot).
        self._bot_events: set[str] = set()
        self._sync_token: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._handling = False
        self._stopping = False
        self._ready = asyncio.Event()
        self._undecrypted: list[tuple[MatrixRoom, MegolmEvent, float]] = []
        self._told_undecryptable: set[tuple[str, str]] = set()
        self._direct_rooms: dict[str, bool] = {}
        self._room_creators: dict[str, frozenset[str]] = {}
        self._store_lost = False
        self._titles: dict[str, str] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, on_incoming: InboxSink) -> None:
        """``on_incoming`` is the inbox (``uses_inbox``): each sync's commands are stored there before its
        sync token is saved, and answered later through ``send``."""
        from bot.app import StartupError

        self._sink = on_incoming
        if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
            # nio logs every event, key and room change at INFO: most of the log, none of it for operators.
            logging.getLogger("nio").setLevel(logging.WARNING)
        try:
            await log_in(self.client, self.settings, self.engine)
            if await encryption_store_lost(self.client):
                log.error(
                    "Matrix: the encryption store %s does not hold the keys device %s published (lost or "
                    "replaced); logging in as a new device with a new cross-signed identity: members' apps "
                    "will say once that the bot's identity changed, and messages sent to the old device stay "
                    "unreadable to the bot", store_dir(self.settings), self.client.device_id,
                )
                self._store_lost = True
                await self.client.close()
                self.client = new_client(self.settings)
                await log_in(self.client, self.settings, self.engine, new_device=True)
        except MatrixLoginError as error:
            await self.client.close()
            raise StartupError(str(error)) from None
        except (ClientError, OSError, TimeoutError) as error:
            await self.client.close()
            raise StartupError(f"MATRIX_HOMESERVER: cannot reach {self.settings.matrix_homeserver} ({error})") from None
        if self.client.olm is None:
            log.error("Matrix end-to-end encryption is unavailable: the bot will not answer in encrypted rooms")
        self._sync_token = await self._state(SYNC_TOKEN_KEY)
        try:
            await self._e2e_housekeeping()
            await self._cross_sign()
            if self._sync_token is None:
                await self._skip_history()
        except (ClientError, OSError, TimeoutError) as error:
            await self.client.close()
            raise StartupError(
                f"MATRIX_HOMESERVER: cannot reach {self.settings.matrix_homeserver} ({error})"
            ) from None
        self._task = asyncio.create_task(self._sync_forever(), name="matrix-sync")

    async def _skip_history(self) -> None:
        """First start ever: take the current position without answering anything already there,
        but accept the invitations waiting for the bot."""
        response = await self.client.sync(timeout=0, sync_filter=SYNC_FILTER, full_state=True)
        if not isinstance(response, SyncResponse):
            raise ClientError(f"first sync failed: {getattr(response, 'message', response)}")
        await self._handle_invites(response)
        self._remember_creators(response)
        await self._remember_titles(response)
        for room in list(self.client.rooms.values()):
            await self._leave_if_alone(room)
        await self._save_sync_token(response.next_batch)
        self._ready.set()

    async def stop(self) -> None:
        """Let the events being answered finish, so their sync token is saved and none is answered twice."""
        self._stopping = True
        if self._task is not None:
            if self._handling:
                with contextlib.suppress(TimeoutError, asyncio.CancelledError, Exception):
                    await asyncio.wait_for(asyncio.shield(self._task), 15)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        await self.client.close()

    # -- sync loop ----------------------------------------------------------------------------

    async def _sync_forever(self) -> None:
        failures = 0
        full_state = self._sync_token is not None and not self._ready.is_set()
        while not self._stopping:
            timeout = PENDING_SYNC_TIMEOUT_MS if self._undecrypted else SYNC_TIMEOUT_MS
            try:
                response = await self.client.sync(
                    timeout=timeout, sync_filter=SYNC_FILTER, since=self._sync_token, full_state=full_state
                )
            except (ClientError, OSError, TimeoutError) as error:
                failures += 1
                delay = min(2.0 ** failures, MAX_BACKOFF_S)
                log.warning("Matrix sync failed (%s); retrying in %.0f s from the same position", error, delay)
                await asyncio.sleep(delay)
                continue
            if not isinstance(response, SyncResponse):
                failures += 1
                delay = min(2.0 ** failures, MAX_BACKOFF_S)
                log.warning("Matrix sync refused (%s); retrying in %.0f s", getattr(response, "message", ""), delay)
                await asyncio.sleep(delay)
                continue
            self._handling = True
            try:
                await self._handle_sync(response)
                await self._save_sync_token(response.next_batch)
            except Exception as error:
                # The inbox or the database failed: the position is not moved on, so the same events are
                # read again once it works (duplicates are ignored by the inbox's key).
                failures += 1
                delay = min(2.0 ** failures, MAX_BACKOFF_S)
                log.error("Matrix: could not store received messages (%s); reading them again in %.0f s",
                          error, delay)
                await asyncio.sleep(delay)
                continue
            finally:
                self._handling = False
            failures = 0
            full_state = False
            self._ready.set()
            try:
                await self._e2e_housekeeping()
            except (ClientError, OSError, TimeoutError) as error:
                log.warning("Matrix key exchange failed (%s); will retry after the next sync", error)

    async def _e2e_housekeeping(self) -> None:
        """What nio's sync_forever does between syncs, so that members' clients can encrypt to the bot."""
        client = self.client
        if client.olm is None:
            return
        await client.send_to_device_messages()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())

    async def _cross_sign(self) -> None:
        """Publish the bot's cross-signing identity and sign this device, so Element trusts it (issue 13).
        A failure is logged once and the bot runs on: unencrypted rooms don't need it."""
        if self.client.olm is None:
            return
        signer = CrossSigner(self.client, store_dir(self.settings), self.settings.matrix_password,
                             self.settings.matrix_recovery_key, store_lost=self._store_lost)
        try:
            done = await signer.ensure()
        except CrossSigningError as error:
            log.error("Matrix cross-signing failed: %s. Element will mark the bot's device as not verified "
                      "and may refuse it the keys of encrypted rooms", error)
            return
        log.info("Matrix: %s (device %s)", done, self.client.device_id)

    async def _save_sync_token(self, token: str) -> None:
        """Move on to ``token``; on disk only while no message waits for its key, so that a restart reads
        such a message again rather than forgetting it (what was stored meanwhile is not stored twice: the
        inbox knows event ids)."""
        self._sync_token = token
        if not self._undecrypted:
            await self._set_state(SYNC_TOKEN_KEY, token)

    async def _handle_sync(self, response: SyncResponse) -> None:
        """Turn the sync's commands into Incoming messages and store them in the inbox (one batch); the
        caller saves the sync token only once this returns, so a kill loses and repeats nothing."""
        await self._handle_invites(response)
        self._remember_creators(response)
        await self._forget_left_rooms(response)
        await self._remember_titles(response)
        batch: list[Incoming] = []
        for room_id, info in response.rooms.join.items():
            room = self.client.rooms.get(room_id)
            if room is None:
                continue
            events = await self._timeline(room_id, info)
            someone_left = False
            start = await self._live_start(room_id, events)
            skipped = sum(1 for e in events[:start] if getattr(e, "sender", None) != self.user_id)
            if skipped:
                log.info("joined %s: %d earlier event(s) of its history left unanswered", room_id, skipped)
            for event in events[start:]:
                if isinstance(event, RoomMemberEvent) and event.membership in ("leave", "ban"):
                    someone_left = True
                try:
                    incoming = await self._incoming(room, event)
                except Exception:
                    log.exception("reading Matrix event %s in %s failed", getattr(event, "event_id", "?"), room_id)
                    continue
                if incoming is not None:
                    batch.append(incoming)
            if someone_left:
                await self._leave_if_alone(room)
        batch += await self._retry_undecrypted()
        if batch:
            assert self._sink is not None
            await self._sink(batch)

    async def _timeline(self, room_id: str, info: Any) -> list[Any]:
        """The sync's timeline of a room, with the gap before it filled when the homeserver cut it short
        (more than the filter's limit of events since the last sync, e.g. while the bot was down)."""
        events = list(info.timeline.events)
        if not info.timeline.limited or not info.timeline.prev_batch or self._sync_token is None:
            return events
        joined_now = any(self._is_own_membership(e, "join") for e in events)
        if joined_now and any(self._is_own_membership(e, "invite") for e in events):
            return events  # the window reaches back to the invitation: older is history anyway
        older: list[Any] = []
        token = info.timeline.prev_batch
        for _page in range(MAX_GAP_PAGES):
            response = await self.client.room_messages(
                room_id, start=token, end=None if joined_now else self._sync_token,
                direction=MessageDirection.back, limit=GAP_PAGE_SIZE,
            )
            if not isinstance(response, RoomMessagesResponse) or not response.chunk:
                break
            older.extend(response.chunk)
            if joined_now and any(self._is_own_membership(e, "invite") for e in response.chunk):
                break
            if not response.end or response.end == token:
                break
            token = response.end
        else:
            log.warning("%s: more than %d events missed; the oldest were not read", room_id,
                        MAX_GAP_PAGES * GAP_PAGE_SIZE)
        if older:
            log.info("%s: read %d event(s) the sync had skipped", room_id, len(older))
        return [*reversed(older), *events]

    async def _live_start(self, room_id: str, events: list[Any]) -> int:
        """Index of the first event of this timeline the bot should answer (issue 21).

        In the sync that carries the bot's own join, what the room held before is history, except what
        was said after the bot was invited: the member who invited it is waiting for an answer. The
        invitation is found in the timeline, or by the time it was received when the timeline starts
        after it. In any other sync, every event is live (the first-start cut-off aside)."""
        join = next(
            (i for i in range(len(events) - 1, -1, -1) if self._is_own_membership(events[i], "join")), None
        )
        if join is None:
            return 0
        invite = next((i for i in range(join - 1, -1, -1) if self._is_own_membership(events[i], "invite")), None)
        if invite is not None:
            return invite + 1
        raw = await self._state(_invited_at_key(room_id))
        if raw:
            invited_at = int(raw)
            return next(
                (i for i in range(join) if getattr(events[i], "server_timestamp", 0) >= invited_at), join + 1
            )
        return join + 1

    def _is_own_membership(self, event: Any, membership: str) -> bool:
        """The bot's own membership changing to ``membership`` (a display name change is not a join)."""
        return (
            isinstance(event, RoomMemberEvent)
            and event.state_key == self.user_id
            and event.membership == membership
            and event.prev_membership != membership
        )

    async def _incoming(self, room: MatrixRoom, event: Any) -> Incoming | None:
        """The command an event carries, or None (the bot's own events, chatter-free event types)."""
        sender = getattr(event, "sender", None)
        # No clock comparison here: the bot's clock and the homeserver's may differ, and a bot whose clock
        # runs ahead silently dropped the first commands (issue 21). History is cut by position instead:
        # the first start's sync token, and the invitation in the sync that carries the bot's join.
        if sender == self.user_id:
            return None
        if isinstance(event, RoomMessageText):
            return await self._text_incoming(room, event)
        if isinstance(event, ReactionEvent):
            return await self._reaction_incoming(room, event)
        if isinstance(event, RedactionEvent):
            return await self._redaction_incoming(room, event)
        if isinstance(event, UnknownEvent) and event.type in POLL_RESPONSE_TYPES:
            return await self._poll_response_incoming(room, event)
        if isinstance(event, MegolmEvent):
            self._undecrypted.append((room, event, time.monotonic()))
        return None

    # -- incoming -----------------------------------------------------------------------------

    async def _text_incoming(self, room: MatrixRoom, event: RoomMessageText) -> Incoming | None:
        content = event.source.get("content", {})
        if is_edit(content):
            return None  # an edited command was already answered in its first version
        own_names = [n for n in (room.user_name(self.user_id),) if n]
        body = strip_reply_fallback(event.body)
        text = strip_mention(body, self.user_id, own_names)
        mentioned = mentioned_users(content)
        replied_to = reply_target(content)
        replies_to_bot = replied_to is not None and await self._is_bots_event(room.room_id, replied_to, event.body)
        # A typed number is passed on as typed: the core decides whether it presses a choice (in private,
        # or as a reply to the bot, by the member it was offered to).
        return Incoming(
            chat=await self._chat(room),
            sender=self._sender(room, event.sender),
            text=text,
            message_id=event.event_id,
            reply_to_id=replied_to,
            update_id=event.event_id,
            thread_id=thread_root(content),
            mentions_bot=text != body or self.user_id in mentioned,
            replies_to_bot=replies_to_bot,
            mentions=tuple(self._sender(room, user) for user in mentioned if user != self.user_id),
        )

    async def _poll_response_incoming(self, room: MatrixRoom, event: UnknownEvent) -> Incoming | None:
        """An answer to one of our polls is the member's /vote, pressed on the poll (so the confirmation
        is theirs alone); no answer is a withdrawn vote. The latest response counts (Matrix polls rule)."""
        content = event.source.get("content", {})
        start = content.get("m.relates_to", {}).get("event_id")
        number = await self._state(_poll_key(start)) if isinstance(start, str) else None
        if not number:
            return None
        positions = [a for a in poll_selections(content) if a.isdigit()]
        return Incoming(
            chat=await self._chat(room),
            sender=self._sender(room, event.sender),
            text=f"/vote {number} {' '.join(positions) or 'withdraw'}",
            message_id=start,
            is_action=True,
            update_id=event.event_id,
        )

    async def _reaction_incoming(self, room: MatrixRoom, event: ReactionEvent) -> Incoming | None:
        key = normalise_key(event.key)
        table = await self._action_table(event.reacts_to)
        command = table.get(key) if table else None
        if command is None:
            return None
        # Read before the answer is sent: an answer that edits the message replaces its actions and undos.
        raw_undos = await self._state(_undos_key(event.reacts_to))
        undo = json.loads(raw_undos).get(key) if raw_undos else None
        if undo:
            record = {"room": room.room_id, "sender": event.sender, "undo": undo, "reacts_to": event.reacts_to}
            await self._set_state(_reaction_key(event.event_id), json.dumps(record))
        return Incoming(
            chat=await self._chat(room),
            sender=self._sender(room, event.sender),
            text=command,
            message_id=event.reacts_to,  # the message whose "button" was pressed
            reply_to_id=event.reacts_to,
            is_action=True,
            update_id=event.event_id,
            thread_id=thread_root(event.source.get("content", {})),
            replies_to_bot=True,
        )

    async def _redaction_incoming(self, room: MatrixRoom, event: RedactionEvent) -> Incoming | None:
        """The member who reacted removed the reaction: run the action's undo, once, as them."""
        raw = await self._state(_reaction_key(event.redacts))
        if not raw:
            return None
        record = json.loads(raw)
        if record["room"] != room.room_id or record["sender"] != event.sender:
            return None  # a moderator removing someone's reaction undoes nothing
        await self._set_state(_reaction_key(event.redacts), "")
        return Incoming(
            chat=await self._chat(room),
            sender=self._sender(room, event.sender),
            text=record["undo"],
            message_id=record["reacts_to"],
            reply_to_id=record["reacts_to"],
            is_action=True,
            update_id=event.event_id,
            replies_to_bot=True,
        )

    async def _is_bots_event(self, room_id: str, event_id: str, body: str) -> bool:
        """Whether a replied-to event is the bot's: its offered actions are known, or the reply quotes it
        (older clients), or the homeserver says so."""
        if event_id in self._bot_events or await self._action_table(event_id) is not None:
            return True
        if body.startswith(f"> <{self.user_id}>"):
            return True
        try:
            response = await self.client.room_get_event(room_id, event_id)
        except (ClientError, OSError, TimeoutError):
            return False
        return isinstance(response, RoomGetEventResponse) and response.event.sender == self.user_id

    async def _chat(self, room: MatrixRoom) -> ChatRef:
        return ChatRef(Platform.MATRIX, room.room_id, is_private=await self._is_direct(room.room_id))

    def _sender(self, room: MatrixRoom, user_id: str) -> UserRef:
        name = room.user_name(user_id) or user_id[1:].split(":", 1)[0]
        return UserRef(Platform.MATRIX, user_id, name)

    async def is_chat_admin(self, chat_id: str, user_id: str) -> bool:
        """Moderators and admins of the room: power level 50 or more in the synced room state; in room
        version 12 and later also its creators, whose power is implicit (not in m.room.power_levels)."""
        room = self.client.rooms.get(chat_id)
        if room is None:
            return False
        if creators_are_privileged(room.room_version) and user_id in self._room_creators.get(chat_id, ()):
            return True
        return room.power_levels.get_user_level(user_id) >= ROOM_ADMIN_LEVEL

    def _remember_creators(self, response: SyncResponse) -> None:
        """nio keeps the room version but not who created the room: note it from m.room.create, which
        every start's full-state sync and every join carry."""
        for room_id, info in response.rooms.join.items():
            for event in [*info.state, *info.timeline.events]:
                if isinstance(event, RoomCreateEvent):
                    extra = event.source.get("content", {}).get("additional_creators", [])
                    creators = {event.sender, *(c for c in extra if isinstance(c, str))}
                    self._room_creators[room_id] = frozenset(creators)

    async def _action_table(self, event_id: str | None) -> dict[str, str] | None:
        if not event_id:
            return None
        raw = await self._state(_actions_key(event_id))
        return json.loads(raw) if raw else None

    async def _retry_undecrypted(self) -> list[Incoming]:
        """Try again the messages whose key had not arrived; past the grace period, say so in the room.
        Returns the commands of the messages now readable."""
        pending, self._undecrypted = self._undecrypted, []
        now = time.monotonic()
        readable: list[Incoming] = []
        for room, event, first_seen in pending:
            decrypted = None
            if self.client.olm is not None:
                try:
                    decrypted = self.client.decrypt_event(event)
                except Exception:
                    decrypted = None
            if isinstance(decrypted, RoomMessageText | ReactionEvent | UnknownEvent):  # UnknownEvent: poll answers
                incoming = await self._incoming(room, decrypted)
                if incoming is not None:
                    readable.append(incoming)
            elif decrypted is not None:
                continue
            elif now - first_seen < UNDECRYPTABLE_GRACE_S:
                self._undecrypted.append((room, event, first_seen))
            else:
                await self._tell_undecryptable(room, event)
        return readable

    async def _tell_undecryptable(self, room: MatrixRoom, event: MegolmEvent) -> None:
        log.warning("cannot decrypt %s from %s in %s (session %s)", event.event_id, event.sender,
                    room.room_id, event.session_id)
        if self.client.olm is not None:
            try:
                await self.client.request_room_key(event)
            except Exception:
                log.debug("room key request failed", exc_info=True)
        # One notice per lost session, not one per message.
        marker = (room.room_id, event.session_id)
        if marker in self._told_undecryptable:
            return
        self._told_undecryptable.add(marker)
        reply = Reply(self.translator.gettext(CANNOT_DECRYPT))
        try:
            await self._send_reply(room.room_id, reply, transaction_id("undecryptable", event.event_id),
                                   in_reply_to=event.event_id)
        except DeliveryError as error:
            log.error("could not tell %s about an undecryptable message: %s", room.room_id, error.reason)

    # -- rooms --------------------------------------------------------------------------------

    async def _handle_invites(self, response: SyncResponse) -> None:
        for room_id, info in response.rooms.invite.items():
            invite = next(
                (e for e in info.invite_state
                 if isinstance(e, InviteMemberEvent) and e.state_key == self.user_id and e.membership == "invite"),
                None,
            )
            if invite is None:
                continue
            inviter_server = invite.sender.split(":", 1)[-1]
            allowed = self.settings.matrix_allowed_servers
            if allowed and inviter_server not in allowed:
                log.info("declining invite to %s from %s (server not in MATRIX_ALLOWED_SERVERS)",
                         room_id, invite.sender)
                await self._ignore_errors(self.client.room_leave(room_id))
                continue
            invited_at = invite.source.get("origin_server_ts")
            if isinstance(invited_at, int):
                await self._set_state(_invited_at_key(room_id), str(invited_at))
            if invite.content.get("is_direct"):
                self._direct_rooms[room_id] = True
                await self._set_state(_direct_key(room_id), "1")
            response_join = await self._ignore_errors(self.client.join(room_id))
            if isinstance(response_join, JoinResponse):
                log.info("joined %s, invited by %s", room_id, invite.sender)
            else:
                log.warning("could not join %s: %s", room_id, getattr(response_join, "message", response_join))

    async def _forget_left_rooms(self, response: SyncResponse) -> None:
        """The bot was kicked or banned from a room, or left it: unsubscribe it (no announcement or digest
        goes on failing there), and say so once in the log, naming the room."""
        for room_id, info in response.rooms.leave.items():
            own = next((e for e in reversed(info.timeline.events)
                        if isinstance(e, RoomMemberEvent) and e.state_key == self.user_id
                        and e.membership in ("leave", "ban")), None)
            by = own.sender if own is not None and own.sender != self.user_id else None
            title = self._titles.get(room_id) or room_id
            was_subscribed = await asyncio.to_thread(self._forget_chat, room_id)
            what = "unsubscribed" if was_subscribed else "not subscribed"
            if by:
                log.info("removed from %s (%s) by %s: %s", title, room_id, by, what)
            else:
                log.info("left %s (%s): %s", title, room_id, what)
            self._direct_rooms.pop(room_id, None)

    def _forget_chat(self, room_id: str) -> bool:
        with session_scope(self.engine) as session:
            return forget_chat(session, Platform.MATRIX.value, room_id)

    async def _remember_titles(self, response: SyncResponse) -> None:
        """Record the display name of the rooms in this sync, for reports that name chats."""
        for room_id in response.rooms.join:
            room = self.client.rooms.get(room_id)
            if room is None:
                continue
            title = room.display_name
            if title and self._titles.get(room_id) != title:
                self._titles[room_id] = title
                await self._set_state(chat_title_key(Platform.MATRIX.value, room_id), title)

    async def _leave_if_alone(self, room: MatrixRoom) -> None:
        if room.joined_count <= 1 and room.invited_count == 0:
            log.info("leaving %s: nobody else is left", room.room_id)
            await self._ignore_errors(self.client.room_leave(room.room_id))

    async def _ignore_errors(self, awaitable: Any) -> Any:
        try:
            return await awaitable
        except (ClientError, OSError, TimeoutError) as error:
            log.warning("Matrix request failed: %s", error)
            return None

    async def _is_direct(self, room_id: str) -> bool:
        """Direct chats are known from the invite's ``is_direct`` flag, remembered across restarts."""
        if room_id not in self._direct_rooms:
            self._direct_rooms[room_id] = bool(await self._state(_direct_key(room_id)))
        return self._direct_rooms[room_id]

    # -- direct chats the bot opens -----------------------------------------------------------

    async def open_private_chat(self, user_id: str) -> str:
        """A direct chat with ``user_id`` that the bot opens itself, for the core to use when a member must
        be told something privately and has no private chat with the bot yet (Matrix allows it; Telegram
        does not). Returns the room id, once the bot's own sync knows the room so ``send`` can use it; a
        direct chat the bot opened earlier is reused. The member gets an invitation flagged as direct
        (Element lists it under People and notifies it); messages sent meanwhile wait for them in the
        room, and the first message they write there records it as their private chat, as usual.

        Raises DeliveryError when the homeserver refuses (unknown user, server not allowed)."""
        try:  # after a restart the rooms are known once synced: the chat opened earlier is reused, not doubled
            await asyncio.wait_for(self._ready.wait(), 60)
        except TimeoutError:
            raise DeliveryError("Matrix is not synced yet") from None
        known = await self._state(_dm_with_key(user_id))
        if known and known in self.client.rooms:
            return known
        try:
            response = await self.client.room_create(
                invite=[user_id], is_direct=True, preset=RoomPreset.trusted_private_chat,
                # Not encrypted (yet): the homeserver may announce the room to the bot's sync before its
                # encryption state, and a member only invited may not get the first message's key. Element
                # shows it as a plain direct chat; the member may turn encryption on.
            )
        except (ClientError, OSError, TimeoutError) as error:
            raise DeliveryError(f"homeserver unreachable: {error}") from None
        if not isinstance(response, RoomCreateResponse):
            code = getattr(response, "status_code", None)
            raise DeliveryError(f"cannot open a direct chat with {user_id}: {code} {getattr(response, 'message', '')}",
                                permanent=code in PERMANENT_ERRORS)
        room_id = str(response.room_id)
        self._direct_rooms[room_id] = True
        await self._set_state(_direct_key(room_id), "1")
        await self._set_state(_dm_with_key(user_id), room_id)
        log.info("opened a direct chat %s with %s", room_id, user_id)
        deadline = time.monotonic() + OPEN_CHAT_WAIT_S
        while room_id not in self.client.rooms and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        return room_id

    # -- outgoing -----------------------------------------------------------------------------

    async def send(self, chat_id: str, reply: Reply, *, key: str | None = None) -> None:
        """Outbox delivery: the transaction id comes from ``key``, so a retried send posts once."""
        try:
            await asyncio.wait_for(self._ready.wait(), 60)
        except TimeoutError:
            raise DeliveryError("Matrix is not synced yet") from None
        txn = transaction_id("outbox", key) if key else transaction_id("outbox", chat_id, repr(reply))
        await self._send_reply(chat_id, reply, txn, in_reply_to=reply.reply_to, replaces=reply.edit_message_id,
                               thread_id=reply.thread_id)

    async def _send_reply(
        self,
        room_id: str,
        reply: Reply,
        txn: str,
        in_reply_to: str | None = None,
        replaces: str | None = None,
        thread_id: str | None = None,
    ) -> None:
        room = self.client.rooms.get(room_id)
        if room is None:
            raise DeliveryError(f"the bot is not in {room_id}", permanent=True)
        if (room.encrypted or room_id in self.client.encrypted_rooms) and self.client.olm is None:
            # A client without e2e support would send this in clear text, with no error.
            log.error("refusing to send plaintext into encrypted room %s (no encryption support)", room_id)
            raise DeliveryError("cannot encrypt for this room", permanent=True)
        olm = self.client.olm
        if room.encrypted and olm is not None:
            # A member who just arrived, or was just invited (nio tracks only joined members): learn their
            # devices first, or they could not read this message.
            olm.users_for_key_query.update(u for u in room.users if u not in olm.tracked_users)
            if self.client.should_query_keys:
                with contextlib.suppress(ClientError, OSError, TimeoutError):
                    await self.client.keys_query()
        if room.encrypted and self.client.olm is not None:
            missing = self.client.get_missing_sessions(room_id)
            if missing:  # no Olm session with a device yet: it would not get this message's key
                with contextlib.suppress(ClientError, OSError, TimeoutError):
                    await self.client.keys_claim(missing)
        msgtype = "m.text" if await self._is_direct(room_id) else "m.notice"
        content = notice_content(reply, self.translator, in_reply_to=in_reply_to, replaces=replaces,
                                 thread_id=thread_id, msgtype=msgtype, command_names=self.command_names)
        if msgtype == "m.notice":
            content = addressed_to_one_member(content, reply, in_reply_to, thread_id)
        event_id = await self._room_send(room_id, content, txn)
        if reply.poll is not None and not reply.poll.closed and not replaces:  # shown as a poll; answers: /vote
            poll_id = await self._room_send(room_id, poll_start_content(reply.poll, content.get("body", "")),
                                            transaction_id(txn, "poll"), event_type=POLL_START)
            await self._set_state(_poll_key(poll_id), str(reply.poll.number))
            await self._set_state(_poll_of_key(reply.poll.number, room_id), poll_id)
        elif reply.poll is not None and reply.poll.closed:  # the result: our poll in this room ends
            start = await self._state(_poll_of_key(reply.poll.number, room_id))
            if start:
                await self._room_send(room_id, poll_end_content(start, content.get("body", "")),
                                      transaction_id(txn, "poll-end"), event_type=POLL_END)
        if len(self._bot_events) >= BOT_EVENTS_KEPT:
            self._bot_events.clear()
        self._bot_events.add(event_id)
        actions_owner = replaces or event_id
        if reply.actions:
            await self._set_state(_actions_key(actions_owner), json.dumps(action_table(reply.actions)))
            undos = undo_table(reply.actions)
            if undos or replaces:  # an edit must not keep the undos of the actions it replaced
                await self._set_state(_undos_key(actions_owner), json.dumps(undos))
        elif replaces:
            # The edited message no longer offers its actions: reacting to it again does nothing.
            await self._set_state(_actions_key(replaces), "{}")
        if reply.image:
            await self._send_image(room, reply, transaction_id(txn, "image"), thread_id=thread_id)

    async def _send_image(self, room: MatrixRoom, reply: Reply, txn: str, thread_id: str | None = None) -> None:
        assert reply.image is not None
        data = reply.image
        name = reply.image_name or "image.png"
        info = image_info(data)
        encrypt = room.encrypted
        try:
            uploaded, keys = await self.client.upload(
                lambda *_: data, content_type=info["mimetype"], filename=name, filesize=len(data), encrypt=encrypt
            )
        except (ClientError, OSError, TimeoutError) as error:
            raise DeliveryError(f"image upload failed: {error}") from None
        if not isinstance(uploaded, UploadResponse):
            raise DeliveryError(f"image upload refused: {getattr(uploaded, 'message', uploaded)}")
        content: dict[str, Any] = {"msgtype": "m.image", "body": name, "filename": name, "info": info}
        if encrypt and keys:
            content["file"] = {"url": uploaded.content_uri, **keys}
        else:
            content["url"] = uploaded.content_uri
        if thread_id:
            content["m.relates_to"] = thread_relation(thread_id, None)
        await self._room_send(room.room_id, content, txn)

    async def _room_send(self, room_id: str, content: dict[str, Any], txn: str,
                         event_type: str = "m.room.message") -> str:
        """Send one event, waiting out the homeserver's rate limit a bounded number of times."""
        wait = 0.0
        for _attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
            try:
                response = await self.client.room_send(
                    room_id, event_type, content, tx_id=txn, ignore_unverified_devices=True
                )
            except (ClientError, OSError, TimeoutError) as error:
                raise DeliveryError(f"homeserver unreachable: {error}") from None
            if isinstance(response, RoomSendResponse):
                return str(response.event_id)
            code = getattr(response, "status_code", None)
            if code == "M_LIMIT_EXCEEDED":
                self.rate_limited_count += 1
                retry_after_ms = getattr(response, "retry_after_ms", None) or 1000
                wait = min(retry_after_ms / 1000, MAX_RATE_LIMIT_WAIT_S)
                log.info("rate limited in %s; retrying in %.1f s", room_id, wait)
                await asyncio.sleep(wait)
                continue
            raise DeliveryError(f"{code}: {getattr(response, 'message', '')}", permanent=code in PERMANENT_ERRORS)
        raise DeliveryError("still rate limited", retry_after=wait or None)

    # -- state --------------------------------------------------------------------------------

    async def _state(self, key: str) -> str | None:
        return await asyncio.to_thread(get_state, self.engine, key)

    async def _set_state(self, key: str, value: str) -> None:
        await asyncio.to_thread(set_state, self.engine, key, value)
