"""What a handler receives: who is asking, where, in which language, and the unit of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.config import Settings
from bot.core.i18n import Translator, translator_for
from bot.core.types import ChatRef, Incoming, Notice, Reply, UserRef

if TYPE_CHECKING:
    from bot.core.router import CommandTable
from storage.models import Identity, Member

# Asks the chat's platform whether this person administers this (group) chat; blocking, called from the
# command's worker thread. Built by the App from the adapters' optional ``is_chat_admin``.
AdminCheck = Callable[[ChatRef, UserRef], bool]


class Notifier:
    """Messages the bot starts itself, written to the outbox when the unit of work commits."""

    notices: list[Notice]
    settings: Settings

    def notify_member(self, member_id: int, reply: Reply, dedup_key: str | None = None) -> None:
        """Tell a member privately, wherever they can be reached."""
        self.notices.append(Notice(reply=reply, member_id=member_id, dedup_key=dedup_key))

    def notify_chat(self, chat: ChatRef, reply: Reply, dedup_key: str | None = None) -> None:
        self.notices.append(Notice(reply=reply, chat=chat, dedup_key=dedup_key))

    def translator_for(self, member: Member) -> Translator:
        """Speak to another member (the booker being told) in their own language."""
        return translator_for(member.language or self.settings.language, self.settings.timezone)

    def translator_in(self, language: str | None) -> Translator:
        return translator_for(language or self.settings.language, self.settings.timezone)


@dataclass
class JobCtx(Notifier):
    """What a scheduled job receives: no incoming message, no member."""

    session: Session
    settings: Settings
    now: datetime
    notices: list[Notice] = field(default_factory=list)

    @property
    def tz(self) -> ZoneInfo:
        return self.settings.tz


class Ctx(Notifier):
    """What a handler receives. ``member`` and ``identity`` are ORM objects loaded at first use (the
    dispatcher knows who is asking from one column query; most handlers need only ``member_id``)."""

    def __init__(
        self,
        *,
        session: Session,
        settings: Settings,
        incoming: Incoming,
        now: datetime,
        translator: Translator,
        is_coordinator: bool,
        member: Member | None = None,
        identity: Identity | None = None,
        member_id: int | None = None,
        identity_id: int | None = None,
        commands: CommandTable | None = None,
        notices: list[Notice] | None = None,
        admin_check: AdminCheck | None = None,
    ) -> None:
        self.session = session
        self.settings = settings
        self.incoming = incoming
        self.now = now
        self.translator = translator
        self.is_coordinator = is_coordinator
        self.commands = commands
        self.notices = notices if notices is not None else []
        self.admin_check = admin_check
        self._member = member
        self._identity = identity
        found_member_id = member.id if member is not None else member_id
        found_identity_id = identity.id if identity is not None else identity_id
        assert found_member_id is not None and found_identity_id is not None
        self._member_id: int = found_member_id
        self._identity_id: int = found_identity_id

    @property
    def member(self) -> Member:
        if self._member is None:
            member = self.session.get(Member, self._member_id)
            assert member is not None
            self._member = member
        return self._member

    @property
    def identity(self) -> Identity:
        if self._identity is None:
            identity = self.session.get(Identity, self._identity_id)
            assert identity is not None
            self._identity = identity
        return self._identity

    @property
    def tz(self) -> ZoneInfo:
        return self.translator.tz

    def is_chat_admin(self) -> bool:
        """Whether the sender administers the group this command came from, as the platform says
        (Telegram: owner or administrator; Matrix: power level 50 or more, or the room's creator).
        Always False in a private chat, and when the platform can't tell. Asks the platform: call it
        only when needed."""
        chat = self.incoming.chat
        if chat.is_private or self.admin_check is None:
            return False
        return self.admin_check(chat, self.incoming.sender)

    def chat_translator(self) -> Translator:
        """The language of what this chat shares: in a group, the group's language (/langue there; the
        bot's LANGUAGE by default), never the language of whoever pressed a button; in a private chat,
        the member's."""
        chat = self.incoming.chat
        if chat.is_private:
            return self.translator
        from storage.chats import chat_language

        return self.translator_in(chat_language(self.session, chat.platform.value, chat.chat_id))

    def privately(self, reply: Reply) -> Reply:
        """Names and other personal lists asked for in a group go to the asker privately (held until they
        open a private chat); the group hears only that, in the group's language. In a private chat: as is."""
        if self.incoming.chat.is_private:
            return reply
        self.notify_member(self.member_id, reply)
        return Reply(self.chat_translator().gettext("I've sent you the answer privately (names stay out of groups)."))

    def can_manage(self, site_id: int | None) -> bool:
        """Whether the sender may manage this place's spaces, events, rota and report (storage.places):
        network coordinators everything, a place's coordinators (/coordinateur) only their place."""
        if self.is_coordinator:
            return True
        from storage.places import can_manage, coordinated_sites

        return can_manage(False, site_id, coordinated_sites(self.session, self.member_id))

    @property
    def language(self) -> str:
        return self.translator.language

    @property
    def member_id(self) -> int:
        return self._member_id

    def _(self, message: str) -> str:
        return self.translator.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translator.ngettext(singular, plural, n)
