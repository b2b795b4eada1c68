"""Subscribed chats and announcements; deliveries are outbox rows keyed per announcement and chat."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

from bot.core.types import ChatRef, Platform
from storage.models import AdapterState, OutboxMessage
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


def chat_title_key(platform: str, chat_id: str) -> str:
    """Where an adapter records a chat's name as its members see it (a Matrix room's display name)."""
    return f"chat_title:{platform}:{chat_id}"


def chat_title(session: Session, platform: str, chat_id: str) -> str:
    """A chat's name for reports: the one its adapter recorded, else its id."""
    row = session.get(AdapterState, chat_title_key(platform, chat_id))
    return row.value if row is not None and row.value else chat_id


def forget_chat(session: Session, platform: str, chat_id: str) -> bool:
    """The bot was removed from this chat (kicked, banned) or left it: nothing more is sent there.
    Returns whether it was subscribed."""
    subscription = session.exec(select(Subscription).where(
        Subscription.platform == platform, Subscription.chat_id == chat_id)).first()
    if subscription is None:
        return False
    session.delete(subscription)
    return True
