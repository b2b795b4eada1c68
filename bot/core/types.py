"""Platform-neutral message types: every adapter converts to and from these, nothing else crosses."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Platform(StrEnum):
    CONSOLE = "console"
    TELEGRAM = "telegram"
    MATRIX = "matrix"


@dataclass(frozen=True)
class ChatRef:
    platform: Platform
    chat_id: str
    is_private: bool


@dataclass(frozen=True)
class UserRef:
    platform: Platform
    user_id: str
    display_name: str
    language: str | None = None
    # The account's public handle when the platform has one besides its id (Telegram @username, no "@"):
    # kept so that coordinators can name a member by it.
    username: str | None = None


@dataclass(frozen=True)
class Incoming:
    """A command as the core sees it.

    Adapters strip platform addressing (``/book@Bot``, a Matrix mention) before building it;
    ``is_action`` is true when the text came from pressing a button or reacting.
    """

    chat: ChatRef
    sender: UserRef
    text: str
    message_id: str | None = None
    reply_to_id: str | None = None
    is_action: bool = False
    # The platform's own id of the update that carried this message (Telegram update_id, Matrix event id):
    # the inbox's key, so a message received twice is handled once.
    update_id: str | None = None
    # The thread this message belongs to, when the platform has threads (Matrix m.thread root event id).
    thread_id: str | None = None
    # In a group: the message names the bot (Telegram @username, Matrix mention/pill) or answers one of the
    # bot's messages. Plain sentences and typed choice numbers are read in a group only then.
    mentions_bot: bool = False
    replies_to_bot: bool = False
    # People the message names unambiguously (Telegram text_mention or @username, Matrix pill or m.mentions),
    # other than the bot; ``display_name`` is the text the mention shows in the message.
    mentions: tuple[UserRef, ...] = ()
    # The platform's id of this button press when it can be answered on its own (Telegram callback query):
    # a personal answer to a press in a group is shown to the presser alone (a pop-up), not to the group.
    action_id: str | None = None


@dataclass(frozen=True)
class Action:
    """A button: pressing it runs ``command`` as the person who pressed it.

    ``undo``, when set, is the command that reverses it, run as the same person (Matrix: removing the reaction).
    """

    label: str
    command: str
    undo: str | None = None


@dataclass(frozen=True)
class PollSpec:
    """A question the platform can show as its own poll (Telegram sendPoll, Matrix m.poll.start); the text
    of the Reply carrying it is shown as well, and platforms without polls show only that (numbered
    choices). A member's answer comes back as the command ``/vote <number> <positions…>`` (positions from
    1; ``/vote <number> withdraw`` when they take their answer back), through the inbox like any command.
    ``closed``: the Reply gives the result; the platform's poll of this number in that chat is ended.
    ``public``: who chose what may be shown to the chat (a platform whose polls show voters to everyone,
    like Telegram's non-anonymous polls, shows its own poll in a group only then)."""

    number: int
    question: str
    options: tuple[str, ...]
    multiple: bool = False
    closed: bool = False
    public: bool = False


@dataclass(frozen=True)
class Reply:
    """What the bot says. ``text`` is plain text (adapters escape it); ``title`` is shown in bold.

    ``edit_original`` asks the adapter to replace the message whose button was pressed
    instead of posting a new one, where the platform allows it.
    """

    text: str
    title: str | None = None
    actions: tuple[Action, ...] = ()
    image: bytes | None = None
    image_name: str | None = None
    edit_original: bool = False
    # Set when the reader must open a private chat with the bot first (Telegram: a t.me/<bot>?start=…
    # button); the value is the start payload ("hello", or a one-time code).
    private_start_payload: str | None = None
    # Where an answer goes when it is delivered later through the outbox: quote/reply to this message,
    # replace this message (a pressed button's message), stay in this thread. Adapters honour them in send().
    reply_to: str | None = None
    edit_message_id: str | None = None
    thread_id: str | None = None
    # Shown as the platform's native poll too, where there is one (see PollSpec).
    poll: PollSpec | None = None
    # For the member who sent the command only (an error, the result of their button press), never for a
    # group: see README "Dans les groupes". In a group the core sets ``for_user`` (their platform user id)
    # and ``action_id`` (the press it answers); adapters show it as the press's pop-up (Telegram), a
    # reply to the member (Matrix) or a private message, never as a message to the whole group.
    personal: bool = False
    for_user: str | None = None
    action_id: str | None = None
    # Once sent, record the platform's id of the message under this key (storage.adapter_state), so a later
    # Reply can edit it (edit_message_id): an event card posted in a group, kept current.
    remember_as: str | None = None
    # Instead of ``image``: the recipe to draw it, drawn after the command's transaction has committed
    # (bot.core.images: a slow chart never holds the database's write lock).
    image_recipe: str | None = None


@dataclass(frozen=True)
class Notice:
    """A message the bot starts itself: to a member (privately, wherever they can be reached) or a chat."""

    reply: Reply
    member_id: int | None = None
    chat: ChatRef | None = None
    dedup_key: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
