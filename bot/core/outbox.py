"""Messages the bot starts itself: written in the same transaction as the change that caused them,
then delivered by one worker with retries, so a crash or restart loses none."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import secrets
import socket
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, func, tuple_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.adapters.base import Adapter, DeliveryError
from bot.core.images import drawn
from bot.core.leadership import Leadership
from bot.core.types import Action, Notice, Platform, PollSpec, Reply
from storage.db import session_scope
from storage.members import identities_of
from storage.models import Identity, OutboxMessage
from storage.models_outbox_images import OutboxImage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_IN_FLIGHT = 4
ROWS_PER_CHAT = 16  # rows read at once for one chat (the next ones are read when these are sent)
MAX_ROWS_READ = 10_000
PAYLOADS_PER_READ = 500  # ids in one IN (...) when reading the payloads of due rows
WRITE_RETRY_S = 1.0
WRITE_WAIT_S = 30.0  # flush() waits this long at most for the sends' results to be written
NO_ROUTE = "no_route"
SENDING = "sending"
INTERRUPTED = "interrupted while sending (the bot stopped); it may have arrived, so it was not sent again"
STOP_SEND_GRACE_S = 1.5
REOPEN_AFTER_S = 300.0  # one attempt per member and platform at most this often to open a private chat
OPEN_PER_ROUND = 20


IMAGE_CACHE = 4  # images kept in memory by the sender (a broadcast sends the same one to every chat)


_REPLY_FIELDS = tuple(f.name for f in fields(Reply))
_ACTION_FIELDS = tuple(f.name for f in fields(Action))
_POLL_FIELDS = tuple(f.name for f in fields(PollSpec))


def _reply_data(reply: Reply) -> dict[str, Any]:
    """``dataclasses.asdict(reply)`` without its deep copy (a third of the time of storing an answer)."""
    data = {name: getattr(reply, name) for name in _REPLY_FIELDS}
    data["actions"] = [{name: getattr(action, name) for name in _ACTION_FIELDS} for action in reply.actions]
    if reply.poll is not None:
        data["poll"] = {name: getattr(reply.poll, name) for name in _POLL_FIELDS}
    return data


def reply_to_json(reply: Reply, image_ref: str | None = None) -> str:
    """The stored form of a reply; with ``image_ref``, the image is not inside but in the outboximage table
    under that SHA-256 (an image several messages carry, stored once)."""
    data = _reply_data(reply)
    data["image"] = reply.image.hex() if reply.image and image_ref is None else None
    if image_ref is not None:
        data["image_ref"] = image_ref
    return json.dumps(data, ensure_ascii=False)


def image_ref_of(payload: str) -> str | None:
    return json.loads(payload).get("image_ref") if '"image_ref"' in payload else None


def load_image(session: Session, sha256: str) -> bytes | None:
    row = session.get(OutboxImage, sha256)
    return row.data if row is not None else None


def is_personal_payload(payload: str) -> bool:
    """The stored reply is for one member of a group (Reply.personal): a button's pop-up or a private
    message, not a message in the group, so the group's sending limits don't hold it back."""
    return '"personal": true' in payload


def reply_from_json(payload: str, image: bytes | None = None) -> Reply:
    """The reply stored by reply_to_json; ``image``: the referenced image, loaded by the caller."""
    data = json.loads(payload)
    actions = tuple(Action(**a) for a in data.pop("actions", []))
    image = bytes.fromhex(data.pop("image")) if data.get("image") else image
    data.pop("image", None)
    data.pop("image_ref", None)
    poll = data.pop("poll", None)
    if poll:
        data["poll"] = PollSpec(**{**poll, "options": tuple(poll["options"])})
    return Reply(actions=actions, image=image, **data)


def choose_private_route(identities: Iterable[Identity], preferred: str | None) -> Identity | None:
    """Where to reach a member privately: the platform they use now if possible, else any known one."""
    reachable = [i for i in identities if i.private_chat_id]
    for identity in reachable:
        if identity.platform == preferred:
            return identity
    return reachable[0] if reachable else None


@dataclass
class Enqueued:
    count: int = 0
    unreachable: list[int] = field(default_factory=list)  # members with nowhere to be written to privately


def enqueue(
    session: Session, notices: Iterable[Notice], now: datetime, preferred_platform: str | None = None
) -> Enqueued:
    """Turn notices into outbox rows inside the caller's transaction. An image carried by several of the
    notices (the weekly digest's chart) is stored once, and the rows refer to it."""
    result = Enqueued()
    notices = list(notices)
    shared = _shared_images(session, notices, now)
    done = _existing_keys(session, [n.dedup_key for n in notices if n.dedup_key])
    for notice in notices:
        if notice.dedup_key:
            if notice.dedup_key in done:
                continue
            done.add(notice.dedup_key)
        if notice.chat is not None:
            platform, chat_id, status = notice.chat.platform.value, notice.chat.chat_id, "pending"
        else:
            assert notice.member_id is not None
            identities = identities_of(session, notice.member_id)
            route = choose_private_route(identities, preferred_platform)
            if route is not None:
                platform, chat_id, status = route.platform, route.private_chat_id or "", "pending"
            else:
                # Nobody to write to yet (a Telegram user who never opened the bot): kept, not lost.
                first = identities[0] if identities else None
                platform = first.platform if first else Platform.CONSOLE.value
                chat_id = f"member:{notice.member_id}"
                status = NO_ROUTE
                result.unreachable.append(notice.member_id)
        session.add(
            OutboxMessage(
                platform=platform,
                chat_id=chat_id,
                payload=reply_to_json(notice.reply, shared.get(notice.reply.image) if notice.reply.image else None),
                dedup_key=notice.dedup_key,
                status=status,
                created_at=now,
                not_before=now,
            )
        )
        result.count += 1
    return result


def _existing_keys(session: Session, keys: list[str]) -> set[str]:
    """Which of these dedup keys already have a row (a few queries for a whole broadcast, not one per chat)."""
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        found.update(k for k in session.exec(select(OutboxMessage.dedup_key).where(
            col(OutboxMessage.dedup_key).in_(keys[start:start + 500]))) if k)
    return found


def _shared_images(session: Session, notices: list[Notice], now: datetime) -> dict[bytes, str]:
    """Images carried by more than one notice, stored (once) in outboximage: {image: its sha256}."""
    seen: dict[bytes, int] = {}
    for notice in notices:
        if notice.reply.image:
            seen[notice.reply.image] = seen.get(notice.reply.image, 0) + 1
    shared: dict[bytes, str] = {}
    for image in (image for image, count in seen.items() if count > 1):
        digest = shared[image] = hashlib.sha256(image).hexdigest()
        row = session.get(OutboxImage, digest)
        if row is None:
            session.add(OutboxImage(sha256=digest, data=image, used_at=now))
            session.flush()
        elif row.used_at < now:
            row.used_at = now
            session.add(row)
    return shared


def backoff(attempts: int) -> float:
    return float(min(2 ** attempts, 300))


def process_lease() -> str:
    """Who is sending: this process (host, pid, and a random part so a reused pid is not mistaken)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"[:64]


def resend_if_interrupted(row: OutboxMessage, idempotent: bool) -> bool:
    """A row whose send was cut by a crash: the message may or may not have arrived. Answers to
    commands are sent again (at least once: a duplicate at worst); other messages only where the
    platform drops duplicates itself (Matrix transaction ids), else they are given up (at most once)."""
    return idempotent or bool(row.dedup_key and row.dedup_key.startswith("answer:"))


ChatKey = tuple[str, str]


@dataclass(slots=True)
class Due:
    """What the sender needs of a due outbox row (read as columns: no ORM object per message)."""

    id: int
    platform: str
    chat_id: str
    payload: str | None  # None: the row is already queued here (not read again; _due_rows' ``queued``)
    attempts: int


class OutboxWorker:
    """Delivers pending outbox rows through the adapter of their platform.

    Each chat has its own queue, served in order by its own task; the tasks take turns for the few send
    slots, so one chat's backlog (1,000 reminders, a group over its 20 messages a minute) never delays
    another chat. A row is claimed ("sending", with this process's lease) only when its send starts, after
    the platform's per-chat limit let it through. Only the process holding the scheduler lock sends (the
    platform's overall limit is then kept), and when it takes the lock, rows another process left
    "sending" are recovered at once: that process is gone, or it would still hold the lock.

    The database is written in rounds (a group commit): one transaction records the results of the sends
    that ended and claims the rows whose sends start now, however many chats they are for. A slot is free
    again once its result is queued for the next round, and a round writes results before claims, so the
    rows "sending" at any commit are never more than the slots (MAX_IN_FLIGHT): what a kill leaves in doubt.
    Rows are read in batches (up to ROWS_PER_CHAT per chat; when woken, only rows newer than those seen).
    """

    def __init__(self, engine: Engine, clock: Callable[[], datetime] | None = None,
                 leadership: Leadership | None = None) -> None:
        self.engine = engine
        self.clock = clock or (lambda: datetime.now(UTC))
        self.adapters: dict[str, Adapter] = {}
        self.leadership = leadership
        self.lease = process_lease()
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        # Few sends at once: the adapters' limiters set the pace, and a crash leaves few in doubt.
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._task: asyncio.Task[None] | None = None
        self._chats: dict[ChatKey, asyncio.Task[int]] = {}
        self._queues: dict[ChatKey, deque[Due]] = {}  # rows read and not yet taken, per chat
        self._queued_upto: dict[ChatKey, int] = {}  # the newest row id queued for each chat being served
        self._more: set[ChatKey] = set()  # chats with more due rows than were read
        self._seen_upto = 0  # the newest row id read (a wake-up reads only newer ones)
        self._full_read_at = float("-inf")  # when every due row was last read (loop time)
        self._sending: set[int] = set()
        self._idle: set[ChatKey] = set()  # chats waiting for their turn (platform limit or a send slot)
        self._claims: list[tuple[int, asyncio.Future[bool]]] = []  # rows whose send starts: next round
        self._results: list[tuple[int, dict[str, object]]] = []  # sends that ended: next round
        self._writer: asyncio.Task[None] | None = None
        self._leading = False
        self._stopping = False
        self._opening: asyncio.Task[int] | None = None
        self._open_tried: dict[tuple[str, int], datetime] = {}  # (platform, member) -> when last tried
        self._images: dict[str, bytes | None] = {}  # referenced images lately sent (see IMAGE_CACHE)

    def register(self, adapter: Adapter) -> None:
        self.adapters[adapter.platform.value] = adapter

    def wake(self) -> None:
        """Something was written to the outbox: look now. Safe from any thread (commands and jobs run in
        worker threads; an asyncio.Event set from one of those would not wake the loop)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            self._wake.set()
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake.set()
        else:
            loop.call_soon_threadsafe(self._wake.set)

    # -- database --------------------------------------------------------------------------------

    def _due_rows(self, after: int = 0, key: ChatKey | None = None,
                  queued: Mapping[ChatKey, int] | None = None) -> list[Due]:
        """Due rows, up to ROWS_PER_CHAT per chat in their order, the chat waiting longest first (one
        query for all chats, so a broadcast's first messages go out at once); ``after``: only rows newer
        than that id (without ``key``: every due row of the chats that have one: ids are given at INSERT,
        so rows commit out of id order, and a chat's older row committed after a newer one was read must
        not be passed by that chat's next rows); ``key``: that chat's only. ``queued``: the highest row id
        already queued in memory per chat: those rows come without their payload (a backlog of long answers
        was read again at every wake-up: 16 rows of 3.6 KB per chat, each time a command was answered)."""
        conditions: list[ColumnElement[bool]] = [
            col(OutboxMessage.status) == "pending",
            col(OutboxMessage.not_before) <= self.clock(),
            col(OutboxMessage.platform).in_(list(self.adapters)),
        ]
        if after and key is None:
            fresh = select(col(OutboxMessage.platform), col(OutboxMessage.chat_id)).where(
                col(OutboxMessage.id) > after, col(OutboxMessage.status) == "pending")
            conditions.append(tuple_(col(OutboxMessage.platform), col(OutboxMessage.chat_id)).in_(fresh))
        elif after:
            conditions.append(col(OutboxMessage.id) > after)
        if key is not None:
            conditions += [col(OutboxMessage.platform) == key[0], col(OutboxMessage.chat_id) == key[1]]
        number = func.row_number().over(
            partition_by=(col(OutboxMessage.platform), col(OutboxMessage.chat_id)), order_by=col(OutboxMessage.id))
        ranked = select(col(OutboxMessage.id).label("id"), number.label("number")).where(*conditions).subquery()
        chosen = select(ranked.c.id).where(ranked.c.number <= ROWS_PER_CHAT)
        table = OutboxMessage.__table__  # type: ignore[attr-defined]
        columns = sa_select(table.c.id, table.c.platform, table.c.chat_id, table.c.attempts)
        with session_scope(self.engine, read_only=True) as session:
            rows = session.execute(
                columns.where(table.c.id.in_(chosen)).order_by(table.c.id).limit(MAX_ROWS_READ)).all()
            wanted = [row_id for row_id, platform, chat_id, _ in rows
                      if queued is None or row_id > queued.get((platform, chat_id), 0)]
            payloads: dict[int, str] = {}
            for start in range(0, len(wanted), PAYLOADS_PER_READ):
                payloads.update(session.execute(sa_select(table.c.id, table.c.payload).where(
                    table.c.id.in_(wanted[start:start + PAYLOADS_PER_READ]))).all())
        return [Due(row_id, platform, chat_id, payloads.get(row_id), attempts)
                for row_id, platform, chat_id, attempts in rows]

    def _due_heads(self) -> list[Due]:
        """The next message due now of each chat that has one."""
        heads: dict[ChatKey, Due] = {}
        for row in self._due_rows():
            heads.setdefault((row.platform, row.chat_id), row)
        return list(heads.values())

    def _round(self, after: int, queued: Mapping[ChatKey, int] | None = None) -> list[Due] | None:
        """One look, in one thread hop: whether this process sends (None if not), and the rows due."""
        if not self._lead():
            return None
        return self._due_rows(after, queued=queued)

    def _claim(self, row_id: int) -> bool:
        """Mark one row 'sending' with our lease just as it goes out, if nobody else did: a process that
        dies mid-send leaves only that row in doubt, and two workers never both send it."""
        return row_id in self._write([row_id], [])

    def _write(self, claims: list[int], results: list[tuple[int, dict[str, object]]]) -> set[int]:
        """One transaction: the results of sends that ended, then the claims of sends that start (those
        nobody else claimed are returned)."""
        table = OutboxMessage.__table__  # type: ignore[attr-defined]
        now = self.clock()
        with self.engine.begin() as session:  # a Core connection: no ORM session for three statements
            sent = [row_id for row_id, changes in results if changes.get("status") == "sent"]
            if sent:
                session.execute(update(table).where(table.c.id.in_(sent)).values(
                    status="sent", sent_at=now, lease=None, attempts=table.c.attempts + 1))
            for row_id, changes in results:
                if changes.get("status") != "sent":
                    session.execute(update(table).where(table.c.id == row_id).values(**changes))
            if not claims:
                return set()
            return set(session.execute(
                update(table).where(table.c.id.in_(claims), table.c.status == "pending")
                .values(status=SENDING, lease=self.lease, not_before=now).returning(table.c.id)).scalars())

    async def _claim_now(self, row_id: int) -> bool:
        """Claimed in the next round (with every other send starting meanwhile)."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._claims.append((row_id, future))
        self._start_writer()
        return await future

    def _record_later(self, row_id: int, **changes: object) -> None:
        """The send's result, written in the next round; the row stays ours ("sending") until then."""
        self._results.append((row_id, changes))
        self._start_writer()

    def _start_writer(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_rounds(), name="outbox-writer")

    async def _write_rounds(self) -> None:
        while self._claims or self._results:
            claims, self._claims = self._claims, []
            results, self._results = self._results, []
            try:
                claimed = await asyncio.to_thread(self._write, [row_id for row_id, _ in claims], results)
            except Exception as error:
                log.exception("writing the outbox failed; the results are written again shortly")
                for _, future in claims:
                    if not future.done():
                        future.set_exception(error)
                self._results[:0] = results  # nothing was written: the sends' results go in the next round
                await asyncio.sleep(WRITE_RETRY_S)
                continue
            for row_id, future in claims:
                if not future.done():
                    future.set_result(row_id in claimed)
            for row_id, _ in results:
                self._sending.discard(row_id)

    async def _written(self, timeout: float | None = None) -> None:
        """Until the results queued so far are in the database."""
        writer = self._writer
        if writer is not None and not writer.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(writer), timeout)

    def recover_interrupted(self) -> int:
        """Rows left 'sending' by a sender that is gone (any row we are not sending right now: only the
        lock holder sends). See resend_if_interrupted for which are sent again."""
        with session_scope(self.engine) as session:
            rows = [row for row in session.exec(select(OutboxMessage).where(
                OutboxMessage.status == SENDING, col(OutboxMessage.platform).in_(list(self.adapters))))
                if not (row.lease == self.lease and row.id in self._sending)]
            for row in rows:
                if resend_if_interrupted(row, getattr(self.adapters[row.platform], "idempotent_sends", False)):
                    row.status = "pending"
                else:
                    row.status, row.error = "failed", INTERRUPTED
                row.lease = None
                session.add(row)
            return len(rows)

    # -- opening private chats -------------------------------------------------------------------

    def _unrouted(self, platform: str, skip: set[int]) -> list[tuple[int, str]]:
        """Members (and their account on ``platform``) with messages held for lack of a private chat."""
        with session_scope(self.engine) as session:
            chats = session.exec(
                select(OutboxMessage.chat_id)
                .where(OutboxMessage.status == NO_ROUTE, OutboxMessage.platform == platform)
                .group_by(col(OutboxMessage.chat_id)).order_by(func.min(OutboxMessage.id))
            ).all()
            found: list[tuple[int, str]] = []
            for chat_id in chats:
                member_id = int(chat_id.removeprefix("member:")) if chat_id.removeprefix("member:").isdigit() else 0
                if not member_id or member_id in skip:
                    continue
                identity = next((i for i in identities_of(session, member_id) if i.platform == platform), None)
                if identity is not None:
                    found.append((member_id, identity.user_id))
                if len(found) >= OPEN_PER_ROUND:
                    break
            return found

    def _routed(self, platform: str, member_id: int, user_id: str, chat_id: str | None, error: str = "") -> int:
        """One transaction: the account's private chat is recorded and the held messages go to it, in
        their order; or, without a chat (refused for good), they fail with the reason."""
        with session_scope(self.engine) as session:
            identity = session.exec(select(Identity).where(
                Identity.platform == platform, Identity.user_id == user_id, Identity.member_id == member_id)).first()
            if chat_id is not None and identity is None:
                return 0  # the account is gone meanwhile (unlinked, forgotten): nothing to route to
            if chat_id is not None and identity is not None and not identity.private_chat_id:
                identity.private_chat_id = chat_id
                session.add(identity)
            changes: dict[str, object] = (
                {"status": "pending", "chat_id": chat_id, "not_before": self.clock()} if chat_id is not None
                else {"status": "failed", "error": error[:500]})
            result = session.execute(update(OutboxMessage).where(
                col(OutboxMessage.status) == NO_ROUTE, col(OutboxMessage.platform) == platform,
                col(OutboxMessage.chat_id) == f"member:{member_id}").values(**changes))
            return int(result.rowcount)  # type: ignore[attr-defined]

    async def open_private_chats(self) -> int:
        """Where a platform lets the bot start a conversation (Matrix), a member with held messages gets
        a private chat opened by the bot and the messages go there. A refusal for good fails them; a
        transient error is tried again a few minutes later. Returns how many messages got a route."""
        routed = 0
        now, wait = self.clock(), timedelta(seconds=REOPEN_AFTER_S)
        for platform, adapter in list(self.adapters.items()):
            opener = getattr(adapter, "open_private_chat", None)
            if opener is None:
                continue
            recent = {m for (p, m), at in self._open_tried.items() if p == platform and now - at < wait}
            for member_id, user_id in await asyncio.to_thread(self._unrouted, platform, recent):
                if self._stopping:
                    return routed
                self._open_tried[(platform, member_id)] = now
                try:
                    chat_id = await opener(user_id)
                except DeliveryError as error:
                    log.warning("cannot open a private chat with %s on %s (%s)", user_id, platform, error.reason)
                    if error.permanent:
                        await asyncio.to_thread(self._routed, platform, member_id, user_id, None,
                                                f"no private chat: {error.reason}")
                    continue
                except Exception:
                    log.exception("opening a private chat with %s on %s crashed", user_id, platform)
                    continue
                routed += await asyncio.to_thread(self._routed, platform, member_id, user_id, str(chat_id))
                self._open_tried.pop((platform, member_id), None)
        self._open_tried = {k: at for k, at in self._open_tried.items() if now - at < wait}
        return routed

    def _open_in_background(self) -> None:
        """Opening chats waits on the homeserver: it runs beside the sending, one round at a time."""
        if self._opening is None or self._opening.done():
            self._opening = asyncio.create_task(self.open_private_chats(), name="outbox-open-chats")
            self._opening.add_done_callback(self._opened)

    def _opened(self, task: asyncio.Task[int]) -> None:
        if task.cancelled():
            return
        if task.exception() is not None:
            log.error("opening private chats failed", exc_info=task.exception())
        elif task.result():
            self._full_read_at = float("-inf")  # the held rows are older than those seen: read them all
            self.wake()  # the held messages now have a chat: send them without waiting for the next poll

    # -- sending ---------------------------------------------------------------------------------

    async def _deliver(self, row: Due) -> bool | None:
        """True when delivered, False when it failed, None when another worker had it."""
        assert row.id is not None
        self._sending.add(row.id)
        try:
            claimed = await self._claim_now(row.id)
        except BaseException:
            self._sending.discard(row.id)
            raise
        if not claimed:
            self._sending.discard(row.id)
            return None
        return await self._send_claimed(row)  # the row leaves _sending once its result is written

    async def _send_claimed(self, row: Due) -> bool:
        assert row.id is not None
        adapter = self.adapters[row.platform]
        attempts = row.attempts + 1
        assert row.payload is not None  # only rows read with their payload are queued (_queue_rows)
        try:
            await adapter.send(row.chat_id, await self._reply(row.payload), key=f"outbox-{row.id}")
        except Exception as error:
            if isinstance(error, DeliveryError):
                failed = error.permanent or attempts >= MAX_ATTEMPTS
                delay = error.retry_after if error.retry_after is not None else backoff(attempts)
                reason = error.reason
                log.warning("outbox %s to %s:%s failed (%s)", row.id, row.platform, row.chat_id, reason)
            else:
                failed, delay, reason = attempts >= MAX_ATTEMPTS, backoff(attempts), repr(error)
                log.exception("outbox %s to %s:%s crashed", row.id, row.platform, row.chat_id)
            self._record_later(
                row.id, attempts=attempts, status="failed" if failed else "pending",
                error=reason[:500], not_before=self.clock() + timedelta(seconds=delay), lease=None,
            )
            return False
        self._record_later(row.id, status="sent")
        return True

    def _load_image(self, sha256: str) -> bytes | None:
        with session_scope(self.engine) as session:
            return load_image(session, sha256)

    async def _reply(self, payload: str) -> Reply:
        """The stored reply, with its image loaded if it is stored apart (read once for a whole broadcast)."""
        if '"image_recipe": "' in payload:  # drawn now, outside any transaction (bot.core.images)
            return await asyncio.to_thread(drawn, reply_from_json(payload))
        ref = image_ref_of(payload)
        if ref is None:
            return reply_from_json(payload)
        if ref not in self._images:
            image = await asyncio.to_thread(self._load_image, ref)
            if image is None:
                log.warning("outbox image %s is gone; the text goes alone", ref)
            while len(self._images) >= IMAGE_CACHE:
                self._images.pop(next(iter(self._images)))
            self._images[ref] = image
        return reply_from_json(payload, self._images[ref])

    async def _serve_chat(self, key: ChatKey) -> int:
        """One chat's messages, in order, one send slot at a time; after a failure the rest wait for
        the next round. Returns how many were delivered."""
        adapter = self.adapters[key[0]]
        until_ready = getattr(adapter, "until_ready", None)
        queue = self._queues[key]
        delivered = 0
        try:
            while not self._stopping:
                if not queue and key in self._more:  # more were due than were read: the next ones
                    self._more.discard(key)
                    self._queue_rows(await asyncio.to_thread(
                        self._due_rows, self._queued_upto.get(key, 0), key), from_task=True)
                if not queue:
                    break
                row = queue.popleft()
                self._idle.add(key)
                try:
                    if until_ready is not None and not is_personal_payload(row.payload or ""):
                        await until_ready(row.chat_id)  # the platform's per-chat limit; nothing claimed meanwhile
                    await self._in_flight.acquire()
                finally:
                    self._idle.discard(key)
                try:
                    if self._stopping:
                        break
                    outcome = await self._deliver(row)
                finally:
                    self._in_flight.release()
                if outcome is False:
                    break
                delivered += outcome is True
        finally:
            # Forgotten at once (not in a done callback), so rows read from now on start a new task.
            if self._chats.get(key) is asyncio.current_task():
                del self._chats[key]
                self._queues.pop(key, None)
                self._queued_upto.pop(key, None)
                self._more.discard(key)
        return delivered

    def _queue_rows(self, rows: Iterable[Due], *, from_task: bool = False) -> list[asyncio.Task[int]]:
        """Rows read from the database go to their chat's queue (those already queued are skipped); a
        chat with no task serving it gets one. Returns the tasks of the chats that got rows."""
        counts: dict[ChatKey, int] = {}
        touched: dict[ChatKey, asyncio.Task[int]] = {}
        unread: set[ChatKey] = set()  # a row to queue came without its payload: the chat reads its own
        for row in rows:
            assert row.id is not None
            self._seen_upto = max(self._seen_upto, row.id)
            key = (row.platform, row.chat_id)
            if key in unread:
                continue
            counts[key] = counts.get(key, 0) + 1
            task = self._chats.get(key)
            if task is None or task.done():
                if from_task:
                    continue
                self._queues[key] = deque()
                self._queued_upto[key] = 0
                task = asyncio.create_task(self._serve_chat(key), name=f"outbox-{key[0]}-{key[1]}")
                self._chats[key] = task
                task.add_done_callback(lambda done, key=key: self._forget(key, done))  # type: ignore[misc]
            if row.id > self._queued_upto[key]:
                if row.payload is None:
                    # It was queued when the round began, and is not now (its chat's task ended meanwhile):
                    # nothing of this chat is queued past it; its task reads the chat's rows, payloads
                    # included, from where its queue stands, in order.
                    unread.add(key)
                else:
                    self._queues[key].append(row)
                    self._queued_upto[key] = row.id
            touched[key] = task
        self._more.update(key for key, count in counts.items() if count >= ROWS_PER_CHAT and key in self._chats)
        self._more.update(key for key in unread if key in self._chats)
        return list(touched.values())

    def _forget(self, key: ChatKey, task: asyncio.Task[int]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("outbox for %s:%s failed", *key, exc_info=task.exception())
        if self._chats.get(key) is task:  # cancelled before it ever ran
            del self._chats[key]
            self._queues.pop(key, None)
            self._queued_upto.pop(key, None)
            self._more.discard(key)

    def _lead(self) -> bool:
        """Whether this process sends; recovers the previous sender's rows when it becomes the sender."""
        if self.leadership is None or set(self.adapters) <= {Platform.CONSOLE.value}:
            return True  # a terminal chat is this process's own: nobody else could deliver it
        leading = self.leadership.acquire()
        if leading and not self._leading:
            recovered = self.recover_interrupted()
            if recovered:
                log.warning("%s messages were being sent by a process that stopped; recovered", recovered)
        self._leading = leading
        return leading

    async def flush(self) -> int:
        """Send everything due now, chats in parallel (each adapter's limiter sets the pace); returns
        how many were delivered (their results written)."""
        if not await asyncio.to_thread(self._lead):
            return 0
        self._loop = asyncio.get_running_loop()
        await self.open_private_chats()
        tasks = self._queue_rows(await asyncio.to_thread(self._due_rows))
        counts = await asyncio.gather(*tasks, return_exceptions=True)
        await self._written(WRITE_WAIT_S)  # bounded: a database gone meanwhile leaves them "sending"
        return sum(c for c in counts if isinstance(c, int))

    async def run(self, poll_seconds: float = 1.0) -> None:
        """Woken when rows are written: reads the rows newer than those seen; at least every
        ``poll_seconds``: every due row (retries come due, rows committed out of id order)."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        while not self._stopping:
            self._wake.clear()
            try:
                full = loop.time() - self._full_read_at >= poll_seconds
                rows = await asyncio.to_thread(self._round, 0 if full else self._seen_upto, dict(self._queued_upto))
                if rows is not None:
                    if full:
                        self._full_read_at = loop.time()
                    self._open_in_background()
                    self._queue_rows(rows)
            except Exception:
                log.exception("outbox round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), poll_seconds)

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self.run(), name="outbox")

    async def stop(self, flush_for: float = 0.0) -> None:
        """Stop sending. With ``flush_for``, what can go within that many seconds still goes first; then
        no new send starts, the sends under way finish (bounded), and the rest stays pending."""
        if flush_for > 0 and self._task is not None:
            deadline = asyncio.get_running_loop().time() + flush_for
            # Checked before any wait: with nothing left to send, the stop is immediate (the console's exit).
            while bool(self._chats) or bool(await asyncio.to_thread(self._due_heads)):
                if asyncio.get_running_loop().time() >= deadline:
                    break
                self._wake.set()
                await asyncio.sleep(0.1)
        self._stopping = True
        if self._opening is not None:
            self._opening.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._opening
            self._opening = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for key, task in list(self._chats.items()):
            if key in self._idle:  # waiting for its turn: nothing claimed, stops at once
                task.cancel()
        waiting = list(self._chats.values())
        if waiting:  # a send under way gets a moment to finish
            _, late = await asyncio.wait(waiting, timeout=STOP_SEND_GRACE_S)
            for task in late:
                task.cancel()
            await asyncio.gather(*waiting, return_exceptions=True)
        await self._written(STOP_SEND_GRACE_S)  # the results of the sends that ended
        if self._writer is not None and not self._writer.done():  # the database is gone: they stay "sending"
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._writer
        self._writer = None
        self._results.clear()
        self._chats.clear()
        self._queues.clear()
        self._queued_upto.clear()
        self._more.clear()
        self._stopping = False  # stopped; flush() and start() work again
