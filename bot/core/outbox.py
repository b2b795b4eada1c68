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

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.adapters.base import Adapter, DeliveryError
from bot.core.types import Action, Notice, Platform, Reply
from storage.db import session_scope
from storage.members import identities_of
from storage.models import Identity, OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
NO_ROUTE = "no_route"


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
        self._task: asyncio.Task[None] | None = None

    def register(self, adapter: Adapter) -> None:
        self.adapters[adapter.platform.value] = adapter

    def wake(self) -> None:
        self._wake.set()

    def _due(self, limit: int = 100) -> list[OutboxMessage]:
        with session_scope(self.engine) as session:
            rows = session.exec(
                select(OutboxMessage)
                .where(
                    OutboxMessage.status == "pending",
                    OutboxMessage.not_before <= self.clock(),
                    OutboxMessage.platform.in_(list(self.adapters)),  # type: ignore[attr-defined]
                )
                .order_by(OutboxMessage.id)  # type: ignore[arg-type]
                .limit(limit)
            ).all()
            return list(rows)

    def _record(self, row_id: int, **changes: object) -> None:
        with session_scope(self.engine) as session:
            row = session.get(OutboxMessage, row_id)
            if row is not None:
                for name, value in changes.items():
                    setattr(row, name, value)

    async def flush(self) -> int:
        """Send everything due now; returns how many were delivered."""
        delivered = 0
        rows = await asyncio.to_thread(self._due)
        for row in rows:
            assert row.id is not None
            adapter = self.adapters[row.platform]
            attempts = row.attempts + 1
            try:
                await adapter.send(row.chat_id, reply_from_json(row.payload), key=f"outbox-{row.id}")
            except DeliveryError as error:
                failed = error.permanent or attempts >= MAX_ATTEMPTS
                delay = error.retry_after if error.retry_after is not None else backoff(attempts)
                log.warning("outbox %s to %s:%s failed (%s)", row.id, row.platform, row.chat_id, error.reason)
                await asyncio.to_thread(
                    self._record,
                    row.id,
                    attempts=attempts,
                    status="failed" if failed else "pending",
                    error=error.reason[:500],
                    not_before=self.clock() + timedelta(seconds=delay),
                )
                continue
            except Exception:
                log.exception("outbox %s to %s:%s crashed", row.id, row.platform, row.chat_id)
                await asyncio.to_thread(
                    self._record, row.id, attempts=attempts,
                    status="failed" if attempts >= MAX_ATTEMPTS else "pending",
                    not_before=self.clock() + timedelta(seconds=backoff(attempts)),
                )
                continue
            await asyncio.to_thread(self._record, row.id, attempts=attempts, status="sent", sent_at=self.clock())
            delivered += 1
        return delivered

    async def run(self, poll_seconds: float = 1.0) -> None:
        while True:
            try:
                await self.flush()
            except Exception:
                log.exception("outbox flush failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), poll_seconds)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="outbox")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
