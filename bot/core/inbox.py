"""The inbox: every received message is stored before the platform is told it arrived, then run from here.

``Inbox.store`` is the adapters' InboxSink: one transaction per batch, a duplicate (same platform and
update id) ignored. Commands then run in the order received within each chat, chats taking turns (one
command per turn, so one chat's backlog never holds up another), each in ONE transaction that holds
the inbox row, runs the command (its effect), writes its answers to the outbox and marks the row done.
So a command's effect happens exactly once, and its answers are kept exactly when its effect is: a
kill before the commit leaves the row pending, to run again after the restart; a kill after it leaves
the answers in the outbox, to be sent. On SQLite, the running inbox takes the next command of up to
BATCH chats into one transaction (``process_batch``: each command in its own savepoint, one commit for them all; the
batch is atomic, so each command's effect, answers and done mark still commit together).

On PostgreSQL several processes may share the work: a row is claimed with ``FOR UPDATE SKIP LOCKED``,
and only the oldest pending row of a chat can be claimed, so a chat busy in one process is skipped by
the others and its commands never run out of order. The processes wake each other: a transaction that
stores rows, or writes answers, also NOTIFYs the others (delivered at its commit); each process LISTENs
on a connection of its own, so a row stored by one process can be run at once by another that is idle,
and the answers written by any process are sent at once by the one that sends (the scheduler-lock
holder), not at its next look a second later. On SQLite, transactions are serialised anyway.
Rows that are done are kept RETENTION_INBOX_DAYS (the daily retention job deletes them): long enough to
recognise an update delivered again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, insert, text, update
from sqlmodel import Session, col, select

from bot.core.dispatch import Dispatcher
from bot.core.outbox import reply_to_json
from bot.core.types import ChatRef, Incoming, Platform, Reply, UserRef
from storage.conflicts import CONFLICT_RETRIES, is_retryable_conflict
from storage.db import session_scope
from storage.models import OutboxMessage
from storage.models_inbox import InboxMessage

log = logging.getLogger(__name__)

ChatKey = tuple[str, str]  # (platform, chat_id)

POLL_SECONDS = 1.0
BATCH = 32  # chats whose next commands run in one transaction (SQLite: one commit for them all)
# PostgreSQL runs one command per transaction: its workers (and other processes) run commands side by side,
# and a transaction holding several commands' locks (two /book: two spaces) deadlocks with another taking
# them in the other order; the loser's command was answered "something went wrong" (22 of 320 /book on two
# spaces from 40 chats, one process, bench_scaleout's stress). SQLite has one writer: no such cycle.
BATCH_POSTGRESQL = 1
BATCH_SECONDS = 0.1  # a batch starts no more commands after this long (the write lock is not held long)
# PostgreSQL channels on which the processes sharing a database wake each other (see the module's docstring).
INBOX_CHANNEL = "tierslieu_inbox"
OUTBOX_CHANNEL = "tierslieu_outbox"
LISTEN_RETRY_S = 5.0  # a lost listening connection is opened again after this long (polling meanwhile)
REFRESH_EVERY_S = 0.05  # woken by other processes, the inbox is read at most this often


def incoming_to_json(incoming: Incoming) -> str:
    return json.dumps(asdict(incoming), ensure_ascii=False)


def _user_ref(data: dict[str, Any]) -> UserRef:
    known = {f.name for f in fields(UserRef)} - {"platform"}
    return UserRef(Platform(data["platform"]), **{k: v for k, v in data.items() if k in known})


def incoming_from_json(payload: str) -> Incoming:
    """Back from the JSON ``incoming_to_json`` wrote (fields added since are left at their defaults,
    fields dropped since are ignored)."""
    data = json.loads(payload)
    known = {f.name for f in fields(Incoming)}
    values = {k: v for k, v in data.items() if k in known}
    chat = values["chat"]
    values["chat"] = ChatRef(Platform(chat["platform"]), chat["chat_id"], chat["is_private"])
    values["sender"] = _user_ref(values["sender"])
    if "mentions" in values:
        values["mentions"] = tuple(_user_ref(m) for m in values["mentions"])
    for name, value in values.items():
        if isinstance(value, list):
            values[name] = tuple(value)
    return Incoming(**values)


def placed(reply: Reply, incoming: Incoming) -> Reply:
    """Where an answer goes, now that it is delivered later through the outbox: a pressed button's
    message is replaced when the reply asks for it; in a group, an answer quotes the command it answers;
    an answer stays in the command's thread."""
    edit = incoming.message_id if reply.edit_original and incoming.is_action else None
    quote = None
    if edit is None and not incoming.is_action and not incoming.chat.is_private:
        quote = incoming.message_id
    personal = reply.personal
    if (incoming.is_action and not incoming.chat.is_private and edit is None and reply.edit_message_id is None
            and reply.reply_to is None):
        # A button pressed in a group either updates the shared message or answers the presser alone
        # (an error, their own result): never a new message to the whole group, unless the core placed it
        # there on purpose (reply_to: a note for the group, quoting the pressed message).
        personal = True
    if personal and not incoming.chat.is_private:
        return replace(reply, personal=True, for_user=incoming.sender.user_id, action_id=incoming.action_id,
                       reply_to=reply.reply_to or incoming.message_id,
                       thread_id=reply.thread_id or incoming.thread_id)
    return replace(
        reply,
        edit_message_id=reply.edit_message_id or edit,
        reply_to=reply.reply_to or quote,
        thread_id=reply.thread_id or incoming.thread_id,
        # A group press answered by the shared message alone: once it is shown, the press needs no pop-up.
        action_id=reply.action_id or (incoming.action_id if incoming.is_action else None),
    )


@dataclass
class Batch:
    """What a batch of commands did: the chats that ran one, those whose command is still pending (left
    over by the time limit), whether any gave answers, whether one failed (run alone)."""

    ran: list[ChatKey] = field(default_factory=list)
    left: list[ChatKey] = field(default_factory=list)
    answered: bool = False
    failed: bool = False


def answer_key(inbox_id: int, number: int) -> str:
    """The outbox dedup key of an answer; the outbox resends these when a send was interrupted."""
    return f"answer:{inbox_id}:{number}"


class Inbox:
    def __init__(
        self,
        engine: Engine,
        dispatcher: Dispatcher,
        clock: Callable[[], datetime] | None = None,
        on_answers: Callable[[], None] | None = None,
        workers: int | None = None,
    ) -> None:
        self.engine = engine
        self.dispatcher = dispatcher
        self.clock = clock or (lambda: datetime.now(UTC))
        self.on_answers = on_answers
        # SQLite runs one write transaction at a time: more workers would only wait on its lock.
        self.workers = workers or (4 if engine.dialect.name == "postgresql" else 1)
        self.batch = BATCH_POSTGRESQL if engine.dialect.name == "postgresql" else BATCH
        self._ready: deque[ChatKey] = deque()
        self._queued: set[ChatKey] = set()
        self._busy: set[ChatKey] = set()
        self._has_ready = asyncio.Event()
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._listener: asyncio.Task[None] | None = None
        # Other processes on the same PostgreSQL database are told of new rows and answers (NOTIFY); the
        # payload names this process, so that it does not wake itself for what it already knows.
        self._shared = engine.dialect.name == "postgresql"
        self._token = uuid.uuid4().hex

    # -- storing (the adapters' InboxSink) ------------------------------------------------------

    async def store(self, batch: Sequence[Incoming]) -> None:
        """Store received messages durably, in one transaction; returns once committed. Only then may
        the adapter acknowledge them to its platform."""
        if batch:
            await asyncio.to_thread(self.store_sync, batch)
            if self._tasks:  # their chats are known: no need to look for them (the look runs every second)
                for incoming in batch:
                    self._enqueue((incoming.chat.platform.value, incoming.chat.chat_id))
            else:
                self.wake()

    def store_sync(self, batch: Sequence[Incoming]) -> int:
        """Returns how many were new (a duplicate of a stored update is ignored)."""
        now = self.clock()
        rows = [
            {
                "platform": incoming.chat.platform.value,
                "update_id": incoming.update_id or f"local:{uuid.uuid4().hex}",
                "chat_id": incoming.chat.chat_id,
                "payload": incoming_to_json(incoming),
                "status": "pending",
                "received_at": now,
            }
            for incoming in batch
        ]
        if not rows:
            return 0
        if self.engine.dialect.name == "postgresql":  # imported here: a bot on SQLite never loads it (issue 15)
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
        table = InboxMessage.__table__  # type: ignore[attr-defined]
        # The rows as parameters of one statement (SQLAlchemy's "insertmanyvalues" sends them in as few
        # INSERTs as it can), not written into it: built and compiled once, not once per batch.
        statement = (insert(table).on_conflict_do_nothing(index_elements=["platform", "update_id"])
                     .returning(table.c.id))
        with session_scope(self.engine) as session:
            stored = len(session.execute(statement, rows).all())
            if stored:
                self._notify(session, INBOX_CHANNEL)
            return stored

    def _notify(self, session: Session, channel: str) -> None:
        """Tell the other processes on this PostgreSQL database, when the transaction commits."""
        if self._shared:
            session.execute(text("SELECT pg_notify(:channel, :token)"), {"channel": channel, "token": self._token})

    # -- running commands ------------------------------------------------------------------------

    def pending_chats(self) -> list[ChatKey]:
        """Chats with commands waiting, the one waiting longest first."""
        with session_scope(self.engine) as session:
            rows = session.exec(
                select(InboxMessage.platform, InboxMessage.chat_id)
                .where(InboxMessage.status == "pending")
                .group_by(col(InboxMessage.platform), col(InboxMessage.chat_id))
                .order_by(func.min(InboxMessage.id))
                .limit(10_000)
            ).all()
        return [(platform, chat_id) for platform, chat_id in rows]

    def _claim(self, session: Session, key: ChatKey) -> InboxMessage | None:
        """The chat's oldest pending row, locked; None when there is none or another process holds it
        (then the chat is busy there: taking its next row instead would run commands out of order)."""
        platform, chat_id = key
        oldest = session.exec(
            select(InboxMessage.id)
            .where(InboxMessage.status == "pending", InboxMessage.platform == platform, InboxMessage.chat_id == chat_id)
            .order_by(col(InboxMessage.id))
            .limit(1)
        ).first()
        if oldest is None:
            return None
        return session.exec(
            select(InboxMessage)
            .where(InboxMessage.id == oldest, InboxMessage.status == "pending")
            .with_for_update(skip_locked=True)
        ).first()

    def _claim_many(self, session: Session, keys: Sequence[ChatKey]) -> list[InboxMessage]:
        """``_claim`` for several chats in two queries: each chat's oldest pending row, locked; a chat
        whose oldest row another process holds is left out (see ``_claim``)."""
        oldest: list[int] = []
        for platform in {platform for platform, _ in keys}:
            chats = [chat_id for p, chat_id in keys if p == platform]
            oldest += [row_id for row_id in session.exec(
                select(func.min(InboxMessage.id))
                .where(InboxMessage.status == "pending", InboxMessage.platform == platform,
                       col(InboxMessage.chat_id).in_(chats))
                .group_by(col(InboxMessage.chat_id))
            ) if row_id is not None]
        if not oldest:
            return []
        return list(session.exec(
            select(InboxMessage)
            .where(col(InboxMessage.id).in_(oldest), InboxMessage.status == "pending")
            .order_by(col(InboxMessage.id))
            .with_for_update(skip_locked=True)
        ).all())

    def _run_row(self, session: Session, row: InboxMessage, answers: list[dict[str, Any]]) -> bool:
        """The row's command inside the caller's transaction; its answers are added to ``answers`` (outbox
        rows the caller writes, with the row marked done, in the same transaction: ``_write_done``).
        Returns whether it gave answers or notices (the outbox has something to send)."""
        assert row.id is not None
        try:
            incoming = incoming_from_json(row.payload)
        except (ValueError, TypeError, KeyError):
            log.exception("inbox row %s cannot be read; dropped", row.id)
            incoming = None
        replies: list[Reply] = []
        notices = 0
        if incoming is not None:
            outcome = self.dispatcher.handle_in(session, incoming)
            replies, notices = outcome.replies, outcome.notices
        now = self.clock()
        for number, reply in enumerate(replies):
            assert incoming is not None
            answers.append({
                "platform": incoming.chat.platform.value,
                "chat_id": incoming.chat.chat_id,
                "payload": reply_to_json(placed(reply, incoming)),
                "dedup_key": answer_key(row.id, number),
                "status": "pending",
                "attempts": 0,
                "created_at": now,
                "not_before": now,
            })
        return bool(replies or notices)

    def _write_done(self, session: Session, done: list[int], answers: list[dict[str, Any]]) -> None:
        """The answers written and the rows marked done: two statements for a whole batch."""
        if answers:
            session.execute(insert(OutboxMessage.__table__), answers)  # type: ignore[attr-defined]
        if done:
            table = InboxMessage.__table__  # type: ignore[attr-defined]
            session.execute(update(table).where(table.c.id.in_(done)).values(status="done", done_at=self.clock()))

    def process_one(self, key: ChatKey) -> bool:
        """Run the chat's next command: its effect, its answers (outbox) and the row marked done, in one
        transaction. Returns False when the chat had nothing to run here."""
        answers: list[dict[str, Any]] = []
        with session_scope(self.engine) as session:
            row = self._claim(session, key)
            if row is None:
                return False
            assert row.id is not None
            answered = self._run_row(session, row, answers)
            self._write_done(session, [row.id], answers)
            if answered:
                self._notify(session, OUTBOX_CHANNEL)
        if answered and self.on_answers is not None:
            self.on_answers()
        return True

    def process_batch(self, keys: Sequence[ChatKey]) -> Batch:
        """The next command of each of these chats (all different), in ONE transaction: one commit serves
        them all. Each command runs in its own savepoint (the dispatcher's: a command that fails keeps
        nothing and gets its error answer); the answers and the rows marked done are written at the end of
        the batch, in the same transaction, so a command's effect, its answers and its done mark still
        commit together: the batch commits whole or not at all. An error escaping a command (the database
        failing) rolls the whole batch back, and the caller runs the chats one by one. No more commands
        start once BATCH_SECONDS have gone (their rows stay pending)."""
        began = time.monotonic()
        batch = Batch()
        answers: list[dict[str, Any]] = []
        done: list[int] = []
        with session_scope(self.engine) as session:
            for row in self._claim_many(session, keys):
                assert row.id is not None
                key = (row.platform, row.chat_id)
                if batch.ran and time.monotonic() - began > BATCH_SECONDS:
                    batch.left.append(key)
                    continue
                batch.answered = self._run_row(session, row, answers) or batch.answered
                done.append(row.id)
                batch.ran.append(key)
            self._write_done(session, done, answers)
            if batch.answered:
                self._notify(session, OUTBOX_CHANNEL)
        return batch

    def drain_sync(self) -> int:
        """Run every pending command now, chats taking turns (tests and benchmarks); returns how many ran."""
        ran = 0
        while True:
            chats = self.pending_chats()
            if not chats:
                return ran
            for key in chats:
                ran += self._process_one_again_on_conflict(key)

    # -- the loop --------------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def _enqueue(self, key: ChatKey) -> None:
        if key in self._queued or key in self._busy or self._stopping:
            return
        self._ready.append(key)
        self._queued.add(key)
        self._has_ready.set()

    async def _refresh(self) -> None:
        while not self._stopping:
            self._wake.clear()
            began = time.monotonic()
            try:
                for key in await asyncio.to_thread(self.pending_chats):
                    self._enqueue(key)
            except Exception:
                log.exception("reading the inbox failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            await asyncio.sleep(max(0.0, began + REFRESH_EVERY_S - time.monotonic()))

    async def _listen(self) -> None:
        """PostgreSQL: what the other processes store and answer, as it commits (LISTEN, on a connection
        of its own). Rows stored elsewhere wake the inbox; answers written elsewhere wake the outbox. If
        the connection is lost, the once-a-second looks carry on alone until it is opened again."""
        import psycopg

        conninfo = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stopping:
            try:
                connection = await psycopg.AsyncConnection.connect(conninfo, autocommit=True, connect_timeout=10)
                async with connection:
                    await connection.execute(f"LISTEN {INBOX_CHANNEL}")
                    await connection.execute(f"LISTEN {OUTBOX_CHANNEL}")
                    self.wake()  # whatever was stored while nobody listened
                    async for notice in connection.notifies():
                        if notice.payload == self._token:
                            continue
                        if notice.channel == INBOX_CHANNEL:
                            self.wake()
                        elif self.on_answers is not None:
                            self.on_answers()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if self._stopping:
                    return
                log.warning("listening to the other processes on the database failed (%s); tried again in %g s",
                            type(error).__name__, LISTEN_RETRY_S)
                await asyncio.sleep(LISTEN_RETRY_S)

    async def _work(self) -> None:
        while not self._stopping:
            if not self._ready:
                self._has_ready.clear()
                await self._has_ready.wait()
                continue
            keys = [self._ready.popleft() for _ in range(min(self.batch, len(self._ready)))]
            self._queued.difference_update(keys)
            self._busy.update(keys)
            try:
                batch = await asyncio.to_thread(self._process_keys, keys)
            finally:
                self._busy.difference_update(keys)
            if batch.answered and self.on_answers is not None:
                self.on_answers()
            for key in batch.ran + batch.left:
                self._enqueue(key)  # back of the line: one command per chat and turn
            if batch.failed:
                await asyncio.sleep(POLL_SECONDS)

    def _process_keys(self, keys: list[ChatKey]) -> Batch:
        """Several chats' next commands in one transaction (``process_batch``); one chat, or a batch that
        failed: each alone, as ``process_one`` (a failing command then holds up only itself)."""
        if len(keys) > 1:
            try:
                return self.process_batch(keys)
            except Exception:
                log.warning("a batch of %s commands failed; running them one by one", len(keys), exc_info=True)
        batch = Batch()
        for key in keys:
            try:
                if self._process_one_again_on_conflict(key):
                    batch.ran.append(key)
            except Exception:
                log.exception("running a command from the inbox of %s:%s failed; tried again shortly", *key)
                batch.failed = True
        return batch

    def _process_one_again_on_conflict(self, key: ChatKey) -> bool:
        """``process_one``, run again at once when PostgreSQL failed it as one side of a deadlock (nothing
        of it was kept: the command runs once, never "something went wrong" for a collision)."""
        for attempt in range(CONFLICT_RETRIES + 1):
            try:
                return self.process_one(key)
            except Exception as error:
                if not (is_retryable_conflict(error) and attempt < CONFLICT_RETRIES):
                    raise
                log.warning("the command of %s:%s met another transaction; run again", *key)
        return False

    def start(self) -> None:
        if self._tasks:
            return
        self._stopping = False
        self._tasks = [asyncio.create_task(self._refresh(), name="inbox-refresh")]
        self._tasks += [asyncio.create_task(self._work(), name=f"inbox-{n}") for n in range(self.workers)]
        if self._shared:
            self._listener = asyncio.create_task(self._listen(), name="inbox-listen")

    async def stop(self, timeout: float = 5.0) -> None:
        """Take no new command; let the commands in hand finish (a command runs in a thread and cannot be
        interrupted half-way, and its transaction is all or nothing anyway)."""
        self._stopping = True
        self._wake.set()
        self._has_ready.set()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
            self._listener = None
        if not self._tasks:
            return
        _, late = await asyncio.wait(self._tasks, timeout=timeout)
        for task in late:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        self._ready.clear()
        self._queued.clear()
