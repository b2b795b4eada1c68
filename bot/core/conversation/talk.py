"""The conversation in the chat: what the dispatcher does with a message that is not a command.

- A bare number is a button press only in a private chat, or in a group as a reply to the bot, and only
  by the member the choice was offered to, within ``CHOICE_MINUTES``; a destructive choice asks once.
- In a group, a sentence is read only when it mentions the bot or replies to it (or is a button press).
- A reading request is answered at once, by running its command; a changing request is shown in full
  with its command and buttons (confirm, change one part, no); what is missing is asked for one question
  at a time. The request in progress is kept per member and chat for ``REQUEST_MINUTES``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlmodel import Session

from bot.config import Settings
from bot.core.conversation import words as W
from bot.core.conversation.plan import Plan, Planner
from bot.core.conversation.reading import clean
from bot.core.conversation.requests import is_destructive
from bot.core.i18n import Translator, normalise_language, translator_for
from bot.core.router import CommandTable, fold, is_number, split_command
from bot.core.types import Action, Incoming, Reply
from storage import conversation as store
from storage.members import ChatState, get_or_create_asker
from storage.models import Member
from storage.models_conversation import ConversationState

if TYPE_CHECKING:
    from bot.core.dispatch import Handled

log = logging.getLogger(__name__)

CHOICE_MINUTES = 5
REQUEST_MINUTES = 10


@dataclass(frozen=True)
class Run:
    """A command to run for the member as if typed (``pressed``: as a button press), after our own work;
    ``hint`` shows a reading request's command under its answer, so members learn it."""

    command: str
    pressed: bool
    hint: str | None = None


class Inbox(Protocol):
    """The parts of the dispatcher the conversation uses: running a command as if it had been typed."""

    settings: Settings
    commands: CommandTable
    clock: Callable[[], datetime]

    def handle_in(self, session: Session, incoming: Incoming) -> Handled: ...


def _handled(replies: list[Reply]) -> Handled:
    from bot.core.dispatch import Handled

    return Handled(replies)


def is_addressed(incoming: Incoming) -> bool:
    """Whether a plain message is for the bot: always in a private chat; in a group only when it names
    the bot, answers one of its messages, or is a button press."""
    return (incoming.chat.is_private or incoming.mentions_bot or incoming.replies_to_bot
            or incoming.is_action)


def may_press_by_number(incoming: Incoming) -> bool:
    """The rule for typed numbers: private chat, or a reply to the bot in a group (the member is checked
    against the choices recorded for them)."""
    return incoming.chat.is_private or incoming.replies_to_bot


def offered_choices(commands: CommandTable, actions: Sequence[Action], confirmed: bool = False) -> list[dict[str, Any]]:
    choices = []
    for action in actions:
        parsed = split_command(action.command)
        command = commands.find(parsed[0]) if parsed else None
        destructive = is_destructive(command.name if command else None, parsed[1] if parsed else "")
        choices.append({"label": action.label, "command": action.command, "destructive": destructive,
                        "confirmed": confirmed})
    return choices


_UNKNOWN = object()


def remember_offered(session: Session, commands: CommandTable, incoming: Incoming, member_id: int,
                     replies: Sequence[Reply], now: datetime, state: ChatState | object | None = _UNKNOWN) -> None:
    """Record the buttons a command's answer offers this member in this chat (a typed number may press one
    for a few minutes), forget older ones, and close the request in progress when its command just ran.
    ``state``: what the dispatcher's asker query found for this member and chat (storage.members.ChatState,
    or None for no row): then nothing is read, and nothing is written when nothing is offered or forgotten."""
    actions = [a for r in replies for a in r.actions]
    if isinstance(state, ChatState | None) and not (state is not None and state.has_request) \
            and not any(type(o) is ConversationState for o in (*session.identity_map.values(), *session.new)):
        if actions:
            store.write_choices(session, state.id if state else None, incoming.chat.platform.value,
                                incoming.chat.chat_id, member_id, offered_choices(commands, actions),
                                now + timedelta(minutes=CHOICE_MINUTES), now)
        elif state is not None and state.has_choices:
            store.write_choices(session, state.id, incoming.chat.platform.value, incoming.chat.chat_id, member_id,
                                None, None, now)
        return
    row = store.find_state(session, incoming.chat.platform.value, incoming.chat.chat_id, member_id)
    if row is None and not actions:
        return
    if session.get(Member, member_id) is None:
        return  # the command merged this member into another (/link): nothing of theirs to remember
    key = (incoming.chat.platform.value, incoming.chat.chat_id, member_id)
    if actions:
        store.save_choices(session, *key, offered_choices(commands, actions), now + timedelta(minutes=CHOICE_MINUTES),
                           now, row=row)
    elif row is not None and row.choices is not None:
        store.save_choices(session, *key, None, None, now, row=row)
    request = store.live_request(row, now)
    if row is not None and request is not None and request.get("command") == incoming.text.strip():
        store.save_request(session, *key, None, None, now)


def typed_choice(choices: list[dict[str, Any]] | None, text: str) -> dict[str, Any] | None:
    """The choice a bare typed number presses among those recorded, or None."""
    number = text.strip()
    if not choices or not is_number(number, 3):
        return None
    index = int(number)
    return choices[index - 1] if 1 <= index <= len(choices) else None


def hear(inbox: Inbox, session: Session, incoming: Incoming, text: str) -> Handled:
    """Answer a message that is not a command (the dispatcher's hook). Runs in a savepoint: on an error
    nothing it wrote is kept and the member gets an apology."""
    if not is_addressed(incoming) or not text.strip():
        return _handled([])
    savepoint = session.begin_nested()
    try:
        replies, run = _hear(inbox, session, incoming, text)
        savepoint.commit()
    except Exception:
        savepoint.rollback()
        log.exception("could not read a sentence from %s:%s in chat %s", incoming.sender.platform,
                      incoming.sender.user_id, incoming.chat.chat_id)
        language = normalise_language(incoming.sender.language) or inbox.settings.language
        _ = translator_for(language, inbox.settings.timezone).gettext
        return _handled([Reply(_("Sorry, something went wrong on my side. "
                                 "Nothing was changed; please try again in a moment."))])
    if run is None:
        return _handled(replies)
    outcome = inbox.handle_in(session, replace(incoming, text=run.command, is_action=run.pressed))
    outcome.replies = [replace(r, edit_original=False) for r in outcome.replies]
    if run.hint and outcome.replies:
        last = outcome.replies[-1]
        outcome.replies[-1] = replace(last, text=f"{last.text}\n\n{run.hint}")
    if replies:
        outcome.replies = replies + outcome.replies
    return outcome


def _hear(inbox: Inbox, session: Session, incoming: Incoming, text: str
          ) -> tuple[list[Reply], Run | None]:
    chat = incoming.chat
    asker = get_or_create_asker(session, incoming.sender, chat.platform.value, chat.chat_id,
                                normalise_language(incoming.sender.language),
                                private_chat_id=chat.chat_id if chat.is_private else None)
    member_id = asker.member_id
    translator = translator_for(asker.language or inbox.settings.language, inbox.settings.timezone)
    _ = translator.gettext
    now = inbox.clock()
    key = (chat.platform.value, chat.chat_id, member_id)
    row = store.find_state(session, *key)

    if is_number(text.strip(), 3) and not incoming.is_action:
        return _typed_number(inbox, session, incoming, key, row, translator, now)

    request = store.live_request(row, now)
    said = fold(clean(text)).strip()
    if request is None and said in W.NO | W.YES:
        choices = store.live_choices(row, now)
        if said in W.YES and choices and choices[0].get("confirmed"):
            # "oui" to "Sûr·e ? … lance /cancel 14": the confirmed choice.
            store.save_choices(session, *key, None, None, now, row=row)
            return [], Run(choices[0]["command"], pressed=True)
        if said in W.NO and (choices or incoming.is_action):
            store.save_choices(session, *key, None, None, now, row=row)
            return [Reply(_("OK, I've dropped it."))], None
    if request is None and incoming.is_action:
        # A question's button pressed after it expired, or by someone else in a group (whose it isn't):
        # said to its member in private; in a group, nothing (the group is not told about it).
        if not chat.is_private:
            return [], None
        return [Reply(_("That question has expired. Tell me again what you need."))], None
    planner = Planner(session, member_id, now, translator)
    plan = planner.answer(request, text) if request is not None else planner.sentence(text)
    return _act(inbox, session, key, row, plan, translator, now)


def _forget_request(session: Session, key: tuple[str, str, int], row: ConversationState | None, now: datetime) -> None:
    if row is not None and row.request is not None:
        store.save_request(session, *key, None, None, now)


def _act(inbox: Inbox, session: Session, key: tuple[str, str, int], row: ConversationState | None, plan: Plan,
         translator: Translator, now: datetime) -> tuple[list[Reply], Run | None]:
    _ = translator.gettext
    if plan.kind in {"run", "press"}:
        _forget_request(session, key, row, now)
        assert plan.command is not None
        if plan.kind == "press":
            return [], Run(plan.command, pressed=True)
        return [], Run(plan.command, pressed=False, hint=_("Command: {command}").format(command=plan.command))
    if plan.request is not None and plan.kind in {"confirm", "ask", "choose"}:
        store.save_request(session, *key, plan.request, now + timedelta(minutes=REQUEST_MINUTES), now)
    else:
        _forget_request(session, key, row, now)
    if plan.kind == "none":
        return [], None
    reply = Reply(plan.text, actions=plan.actions)
    if plan.actions:
        store.save_choices(session, *key, offered_choices(inbox.commands, plan.actions),
                           now + timedelta(minutes=CHOICE_MINUTES), now)
    elif row is not None and row.choices is not None:
        store.save_choices(session, *key, None, None, now)
    return [reply], None


def _typed_number(inbox: Inbox, session: Session, incoming: Incoming, key: tuple[str, str, int],
                  row: ConversationState | None, translator: Translator, now: datetime
                  ) -> tuple[list[Reply], Run | None]:
    _ = translator.gettext
    if not may_press_by_number(incoming):
        return [], None
    choice = typed_choice(store.live_choices(row, now), text := incoming.text)
    if choice is None:
        if not incoming.chat.is_private:
            return [], None
        return [Reply(_("No choice {number} is waiting for you. Tell me what you need, or type /help.")
                      .format(number=text.strip()))], None
    if choice["destructive"] and not choice.get("confirmed"):
        actions = (Action(_("Yes"), choice["command"]), Action(_("No"), "non"))
        choices = offered_choices(inbox.commands, actions, confirmed=True)
        store.save_choices(session, *key, choices, now + timedelta(minutes=CHOICE_MINUTES), now, row=row)
        return [Reply(_("Sure? “{label}” runs {command}").format(label=choice["label"], command=choice["command"]),
                      actions=actions)], None
    store.save_choices(session, *key, None, None, now, row=row)
    # A question's button "types" its answer (not a command): the dispatcher hands it back to us.
    return [], Run(choice["command"], pressed=True)
