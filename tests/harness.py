"""An in-memory chat against the real core and a real database (Errbot's testbot, zulip's verify_dialog):
say something as someone, read the answer."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from bot.app import App
from bot.config import Settings, load_settings
from bot.core.types import Action, ChatRef, Incoming, Platform, Reply, UserRef
from storage.models import OutboxMessage


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class Chat:
    app: App
    clock: Clock
    last_actions: dict[str, list[Action]] = field(default_factory=dict)

    def incoming(self, user: str, text: str, *, lang: str | None = None, group: str | None = None,
                 platform: Platform = Platform.CONSOLE, is_action: bool = False) -> Incoming:
        chat = ChatRef(platform, group or user, is_private=group is None)
        return Incoming(chat, UserRef(platform, user, user.capitalize(), lang), text, is_action=is_action)

    def say(self, user: str, text: str, **kwargs: object) -> list[Reply]:
        replies = self.app.dispatcher.handle_sync(self.incoming(user, text, **kwargs))  # type: ignore[arg-type]
        self.last_actions[user] = [a for r in replies for a in r.actions]
        return replies

    def text(self, user: str, text: str, **kwargs: object) -> str:
        return "\n".join(
            (f"{r.title}\n" if r.title else "") + r.text for r in self.say(user, text, **kwargs)
        )

    def press(self, user: str, label_start: str, presser: str | None = None) -> list[Reply]:
        """Press the button (of the last reply to ``user``) whose label starts with ``label_start``."""
        action = next(a for a in self.last_actions[user] if a.label.startswith(label_start))
        return self.app.dispatcher.handle_sync(self.incoming(presser or user, action.command, is_action=True))

    def outbox(self) -> list[OutboxMessage]:
        with Session(self.app.engine) as session:
            return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))  # type: ignore[arg-type]


# Monday 23 November 2026, 10:00 in Paris.
DEFAULT_NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def make_settings(database_url: str, **overrides: str) -> Settings:
    env = {"DATABASE_URL": database_url, "TIMEZONE": "Europe/Paris", "LANGUAGE": "fr",
           "COORDINATORS": "console:coord"}
    env.update(overrides)
    return load_settings(env)


def make_chat(database_url: str, now: datetime = DEFAULT_NOW, seed: bool = True, **overrides: str) -> Chat:
    clock = Clock(now)
    app = App(make_settings(database_url, **overrides), adapters=[], clock=clock)
    app.prepare(seed=seed)
    return Chat(app, clock)


def with_settings(chat: Chat, **changes: object) -> Chat:
    chat.app.dispatcher.settings = replace(chat.app.settings, **changes)  # type: ignore[arg-type]
    return chat
