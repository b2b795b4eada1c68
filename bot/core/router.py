"""Commands are declared once, with their metadata, and work on every adapter.

The decorator only records metadata (aiogram's Router, maubot's @command.new); dispatch lives in
``dispatch.py``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.core.types import Reply

if TYPE_CHECKING:
    from bot.core.context import Ctx, JobCtx

HandlerResult = Reply | Sequence[Reply] | None
HandlerFunc = Callable[["Ctx", str], HandlerResult]

COMMAND_PREFIXES = ("/", "!")


JobFunc = Callable[["JobCtx"], None]


@dataclass(frozen=True)
class Job:
    """Work the bot does on its own: every N seconds, or weekly at the time a setting names
    (e.g. DIGEST_SCHEDULE), in the place's time zone."""

    name: str
    func: JobFunc
    every_seconds: float | None = None
    weekly_setting: str | None = None


@dataclass(frozen=True)
class Command:
    name: str
    aliases: tuple[str, ...]
    help: str  # English msgid, translated when shown
    usage: str  # English msgid: "/book <space> <when>  e.g. ..."
    func: HandlerFunc
    coordinator_only: bool = False
    hidden: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


class Router:
    def __init__(self, name: str) -> None:
        self.name = name
        self.commands: list[Command] = []
        self.jobs: list[Job] = []

    def job(
        self, name: str, *, every_seconds: float | None = None, weekly_setting: str | None = None
    ) -> Callable[[JobFunc], JobFunc]:
        if (every_seconds is None) == (weekly_setting is None):
            raise ValueError("a job runs either every N seconds or weekly")

        def register(func: JobFunc) -> JobFunc:
            self.jobs.append(Job(name, func, every_seconds, weekly_setting))
            return func

        return register

    def command(
        self,
        name: str,
        *,
        aliases: Iterable[str] = (),
        help: str,
        usage: str = "",
        coordinator_only: bool = False,
        hidden: bool = False,
    ) -> Callable[[HandlerFunc], HandlerFunc]:
        def register(func: HandlerFunc) -> HandlerFunc:
            self.commands.append(
                Command(name, tuple(aliases), help, usage, func, coordinator_only, hidden)
            )
            return func

        return register


def fold(text: str) -> str:
    """Case- and accent-insensitive key: 'Réunion' -> 'reunion'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


class CommandTable:
    """All commands by every name they answer to (accent-insensitive: /reserver = /réserver)."""

    def __init__(self, routers: Iterable[Router]) -> None:
        self.commands: list[Command] = []
        self.jobs: list[Job] = []
        self._by_name: dict[str, Command] = {}
        for router in routers:
            self.jobs.extend(router.jobs)
            for command in router.commands:
                for name in command.names:
                    key = fold(name)
                    if key in self._by_name:
                        raise ValueError(f"command name /{name} is declared twice")
                    self._by_name[key] = command
                self.commands.append(command)

    def find(self, name: str) -> Command | None:
        return self._by_name.get(fold(name))

    def names(self) -> list[str]:
        return sorted(self._by_name)


_COMMAND_RE = re.compile(r"^[/!]([\w-]+)(?:\s+(.*))?$", re.DOTALL)


def split_command(text: str) -> tuple[str, str] | None:
    """'/book salle demain' -> ('book', 'salle demain'); not a command -> None."""
    match = _COMMAND_RE.match(text.strip())
    if match is None:
        return None
    return match.group(1), (match.group(2) or "").strip()


def is_number(text: str, max_digits: int = 12) -> bool:
    """ASCII digits only: str.isdigit() accepts '²', which int() then refuses."""
    return 0 < len(text) <= max_digits and text.isascii() and text.isdigit()
