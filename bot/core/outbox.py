"""Messages the bot starts itself: written in the same transaction as the change that caused them,
then delivered by one worker with retries, so a crash or restart loses none."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from bot.adapters.base import Adapter, DeliveryError
from bot.core.types import Action, Notice, Platform, Reply
from storage.db import session_scope
from storage.members import identities_of
from storage.models import Identity, OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_IN_FLIGHT = 4
NO_ROUTE = "no_route"
SENDING = "sending"
INTERRUPTED = "interrupted while sending; not sent again to avoid a duplicate"


def reply_to_json(reply: Reply) -> str:
    data = asdict(reply)
    data["image"] = reply.image.hex() if reply.image else None
    return json.dumps(data, ensure_ascii=False)


def reply_from_json(payload: str) -> Reply:
    data = json.loads(payload)
    actions = tuple(Action(**a) for a in data.pop("actions", []))
    image = bytes.fromhex(data.pop("image")) if data.get("image") else None
    data.pop("image", None)
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
    """Turn notices into outbox rows inside the caller's transaction."""
    result = Enqueued()
    for notice in notices:
        if notice.dedup_key and session.exec(
            select(OutboxMessage.id).where(OutboxMessage.dedup_key == notice.dedup_key)
        ).first():
            continue
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
                payload=reply_to_json(notice.reply),
                dedup_key=notice.dedup_key,
                status=status,
                created_at=now,
                not_before=now,
            )
        )
        result.count += 1
    return result


def backoff(attempts: int) -> float:
    return float(min(2 ** attempts, 300))


class OutboxWorker:
    """Delivers pending outbox rows through the adapter of their platform."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self.clock = clock or (lambda: datetime.now(UTC))
        self.adapters: dict[str, Adapter] = {}
        self._wake = asyncio.Event()
        # Few sends at once: the adapters' limiters set the pace, and a crash leaves few in doubt.
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._task: asyncio.Task[None] | None = None

    def register(self, adapter: Adapter) -> None:
        self.adapters[adapter.platform.value] = adapter

    def wake(self) -> None:
        self._wake.set()

    def _due(self, limit: int = 500) -> list[OutboxMessage]:
        with session_scope(self.engine) as session:
            return list(session.exec(
                select(OutboxMessage)
                .where(
                    OutboxMessage.status == "pending",
                    OutboxMessage.not_before <= self.clock(),
                    col(OutboxMessage.platform).in_(list(self.adapters)),
                )
                .order_by(col(OutboxMessage.id))
                .limit(limit)
            ))

    def _claim(self, row_id: int) -> bool:
        """Mark one row 'sending' just before it goes out, if nobody else did: a process that dies
        mid-send leaves only that row in doubt (see recover_interrupted), and two workers never both
        send it."""
        with session_scope(self.engine) as session:
            result = session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id) == row_id, col(OutboxMessage.status) == "pending")
                .values(status=SENDING, not_before=self.clock())
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def recover_interrupted(self, older_than: timedelta = timedelta(minutes=2)) -> int:
        """Rows left 'sending' by a process that died: resend where the platform drops duplicates by
        itself (Matrix transaction ids), otherwise give up rather than risk saying it twice."""
        cutoff = self.clock() - older_than
        with session_scope(self.engine) as session:
            rows = list(session.exec(select(OutboxMessage).where(
                OutboxMessage.status == SENDING, OutboxMessage.not_before <= cutoff,
                col(OutboxMessage.platform).in_(list(self.adapters)))))
            for row in rows:
                if getattr(self.adapters[row.platform], "idempotent_sends", False):
                    row.status = "pending"
                else:
                    row.status, row.error = "failed", INTERRUPTED
                session.add(row)
            return len(rows)

    def _record(self, row_id: int, **changes: object) -> None:
        with session_scope(self.engine) as session:
            row = session.get(OutboxMessage, row_id)
            if row is not None:
                for name, value in changes.items():
                    setattr(row, name, value)

    async def _deliver(self, row: OutboxMessage) -> bool | None:
        """True when delivered, False when it failed, None when another worker had it."""
        assert row.id is not None
        if not await asyncio.to_thread(self._claim, row.id):
            return None
        adapter = self.adapters[row.platform]
        attempts = row.attempts + 1
        try:
            await adapter.send(row.chat_id, reply_from_json(row.payload), key=f"outbox-{row.id}")
        except Exception as error:
            if isinstance(error, DeliveryError):
                failed = error.permanent or attempts >= MAX_ATTEMPTS
                delay = error.retry_after if error.retry_after is not None else backoff(attempts)
                reason = error.reason
                log.warning("outbox %s to %s:%s failed (%s)", row.id, row.platform, row.chat_id, reason)
            else:
                failed, delay, reason = attempts >= MAX_ATTEMPTS, backoff(attempts), repr(error)
                log.exception("outbox %s to %s:%s crashed", row.id, row.platform, row.chat_id)
            await asyncio.to_thread(
                self._record, row.id, attempts=attempts, status="failed" if failed else "pending",
                error=reason[:500], not_before=self.clock() + timedelta(seconds=delay),
            )
            return False
        await asyncio.to_thread(self._record, row.id, attempts=attempts, status="sent", sent_at=self.clock())
        return True

    async def _deliver_in_order(self, rows: list[OutboxMessage]) -> int:
        """One chat's messages, in order; after a failure the rest wait for the next round."""
        delivered = 0
        for row in rows:
            async with self._in_flight:
                outcome = await self._deliver(row)
            if outcome is False:
                break
            delivered += outcome is True
        return delivered

    async def flush(self) -> int:
        """Send everything due now, chats in parallel (each adapter's limiter sets the pace); returns
        how many were delivered."""
        rows = await asyncio.to_thread(self._due)
        by_chat: dict[tuple[str, str], list[OutboxMessage]] = {}
        for row in rows:
            by_chat.setdefault((row.platform, row.chat_id), []).append(row)
        counts = await asyncio.gather(*(self._deliver_in_order(group) for group in by_chat.values()))
        return sum(counts)

    async def run(self, poll_seconds: float = 1.0) -> None:
        while True:
            self._wake.clear()
            try:
                if await self.flush():
                    continue  # a full batch went out: more may be waiting
            except Exception:
                log.exception("outbox flush failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), poll_seconds)

    def start(self) -> None:
        if self._task is None:
            recovered = self.recover_interrupted()
            if recovered:
                log.warning("%s messages were being sent when the bot stopped", recovered)
            self._task = asyncio.create_task(self.run(), name="outbox")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
