"""Subscribed chats and announcements; deliveries are outbox rows keyed per announcement and chat."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

from bot.core.types import ChatRef, Platform
from storage.models import OutboxMessage
from storage.models_reminders import Announcement, Subscription


def find_subscription(session: Session, chat: ChatRef) -> Subscription | None:
    return session.exec(select(Subscription).where(
        Subscription.platform == chat.platform.value, Subscription.chat_id == chat.chat_id)).first()


def subscriptions(session: Session) -> list[Subscription]:
    return list(session.exec(select(Subscription).order_by(col(Subscription.id))))


def chat_of(subscription: Subscription) -> ChatRef:
    return ChatRef(Platform(subscription.platform), subscription.chat_id, subscription.is_private)


def delivery_key(announcement_id: int, subscription: Subscription) -> str:
    return f"announce:{announcement_id}:{subscription.platform}:{subscription.chat_id}"


def delivery_counts(session: Session, announcement_id: int) -> dict[str, int]:
    rows = session.exec(
        select(OutboxMessage.status, func.count())
        .where(col(OutboxMessage.dedup_key).startswith(f"announce:{announcement_id}:"))
        .group_by(OutboxMessage.status)
    ).all()
    return {status: count for status, count in rows}


def failed_deliveries(session: Session, announcement_id: int) -> list[OutboxMessage]:
    return list(session.exec(select(OutboxMessage).where(
        col(OutboxMessage.dedup_key).startswith(f"announce:{announcement_id}:"),
        OutboxMessage.status == "failed")))


def being_sent(session: Session) -> list[Announcement]:
    return list(session.exec(select(Announcement).where(Announcement.status == "sending")))


def start_sending(announcement: Announcement, recipients: int, now: datetime) -> None:
    announcement.status = "sending"
    announcement.recipients = recipients
    announcement.sent_at = now
