"""Commands are declared once, with their metadata, and work on every adapter.

The decorator only records metadata (aiogram's Router, maubot's @command.new); dispatch lives in
``dispatch.py``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.core.errors import NotAllowed, UsageError, UserError
from bot.core.grammar.pieces import fold
from bot.core.i18n import N_
from bot.core.types import Reply

if TYPE_CHECKING:
    from bot.core.context import Ctx, JobCtx
    from bot.core.grammar.args import Arg
    from bot.core.i18n import Translator

__all__ = ["Command", "CommandTable", "Job", "Route", "Router", "fold", "is_number", "split_command"]

HandlerResult = Reply | Sequence[Reply] | None
HandlerFunc = Callable[["Ctx", str], HandlerResult]
# Runs after every command with its answers and may add to the last one (e.g. a question asked once).
ReplyHook = Callable[["Ctx", "Command", list[Reply]], list[Reply]]

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
    """A command, or one subcommand of a group (``parent`` names the group). With ``args`` declared,
    the handler is ``def cmd(ctx, **typed values)``; with ``args`` None, a plain ``def cmd(ctx, args: str)``
    reads its own arguments (still supported)."""

    name: str
    aliases: tuple[str, ...]
    help: str  # English msgid, translated when shown
    usage: str  # English msgid for plain commands: "/remind <when> <what>"; generated when ``args`` are declared
    func: HandlerFunc
    coordinator_only: bool = False
    hidden: bool = False
    args: tuple[Arg, ...] | None = None
    examples: tuple[str, ...] = ()  # English msgids, whole commands ("/cancel 3"), parsed in the tests
    subcommands: list[Command] = field(default_factory=list)
    parent: Command | None = None
    default: bool = False  # the subcommand used when the first word names none
    handler: Callable[..., HandlerResult] | None = None
    strict: bool = True  # False: when its pieces can't read the text, the group's default reads it instead
    guard: Callable[[Ctx], None] | None = None  # raises NotAllowed: who may use it, checked before reading
    read_only: bool = False  # only reads: on SQLite its transaction takes no write lock (see storage.db)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def name_in(self, language: str) -> str:
        """The name members of this language type: the French alias comes first among the aliases."""
        return self.aliases[0] if language == "fr" and self.aliases else self.name

    def path(self, language: str = "en") -> str:
        """'/event add' (or '/evenement ajouter'); a default subcommand has no word of its own."""
        if self.parent is None:
            return "/" + self.name_in(language)
        base = self.parent.path(language)
        return base if self.default else f"{base} {self.name_in(language)}"

    def usage_line(self, t: Translator) -> str:
        """Written from the declaration, in the reader's language: it can't disagree with the parser."""
        if self.args is None:
            return t.gettext(self.usage) if self.usage else self.path(t.language)
        return " ".join([self.path(t.language)] + [u for u in (arg.usage(t) for arg in self.args) if u])

    def usage_lines(self, t: Translator, is_coordinator: bool = True) -> list[str]:
        if not self.subcommands:
            return [self.usage_line(t)]
        return [sub.usage_line(t) for sub in self.subcommands
                if not sub.hidden and (is_coordinator or not sub.coordinator_only)]

    def written_examples(self) -> list[str]:
        """Examples written from the usage itself: the required pieces, then every piece that offers a
        sample (in the order the usage shows them). The tests read them back with the parser."""
        if self.subcommands:
            return [e for sub in self.subcommands for e in sub.written_examples()]
        if self.args is None:
            return []
        samples = [(arg, arg.sample()) for arg in self.args]
        if any(s is None and not arg.optional for arg, s in samples):
            return []
        required = [s for arg, s in samples if s and not arg.optional]
        every = [s for _, s in samples if s]
        return list(dict.fromkeys(" ".join([self.path(), *words]).strip() for words in (required, every)))

    def all_examples(self) -> tuple[str, ...]:
        return self.examples + tuple(e for sub in self.subcommands for e in sub.examples)

    def line(self, *values: object) -> str:
        """The canonical command for a button: ``cancel.line(3)`` -> '/cancel 3'."""
        pieces = [self.path()]
        for arg, value in zip(self.args or (), values, strict=False):
            if value is not None and value is not False:
                pieces.append(arg.render(value))
        return " ".join(pieces)

    def resolve(self, ctx: Ctx, text: str) -> tuple[Command, str]:
        """Which (sub)command the text is for, and the text its pieces read."""
        if not self.subcommands:
            return self, text
        default = next((sub for sub in self.subcommands if sub.default), None)
        words = text.strip().split(maxsplit=1)
        if words:
            wanted = fold(words[0])
            for sub in self.subcommands:
                if wanted in {fold(n) for n in sub.names}:
                    return sub, words[1] if len(words) > 1 else ""
        if default is None:
            raise UsageError(ctx._("What should I do? {choices}").format(
                choices=" | ".join(sub.name_in(ctx.language) for sub in self.subcommands)))
        return default, text

    def read(self, ctx: Ctx, text: str) -> dict[str, Any]:
        """The typed values this command's pieces read. Raises UserError (UsageError when something is
        missing or left over) and nothing else."""
        from bot.core.grammar.args import read_args

        parsed = read_args(ctx, self.args or (), text)
        if parsed.leftover:
            raise UsageError(ctx._("I didn't understand “{words}”.").format(words=parsed.leftover[:60]))
        return parsed.values

    def parse(self, ctx: Ctx, text: str) -> tuple[Command, dict[str, Any]]:
        """Which (sub)command the text is for, and the typed values its pieces read."""
        command, rest = self.resolve(ctx, text)
        try:
            return command, command.read(ctx, rest)
        except UserError:
            default = next((sub for sub in self.subcommands if sub.default), None)
            if command.strict or default is None or command is default:
                raise
            return default, default.read(ctx, text)

    def allows(self, ctx: Ctx) -> None:
        """Permissions are checked before the arguments are read: who may not do it hears so first."""
        if self.coordinator_only and not ctx.is_coordinator:
            raise NotAllowed(ctx._(NOT_COORDINATOR))
        if self.guard is not None:
            self.guard(ctx)

    def run(self, ctx: Ctx, text: str) -> HandlerResult:
        try:
            self.resolve(ctx, text)[0].allows(ctx)
            command, values = self.parse(ctx, text)
        except UsageError as error:
            raise self.with_usage(ctx, error) from None
        assert command.handler is not None
        try:
            return command.handler(ctx, **values)
        except UsageError as error:
            raise command.with_usage(ctx, error) from None

    def with_usage(self, ctx: Ctx, error: UsageError) -> UserError:
        """The usage in the member's own language (the dispatcher could only translate a fixed msgid)."""
        if error.example:
            return UserError(error.message, example=error.example, actions=error.actions)
        lines = self.usage_lines(ctx.translator, ctx.is_coordinator)[:5]
        usage = lines[0] if len(lines) == 1 else "\n" + "\n".join(lines)
        return UserError(error.message + "\n" + ctx._("Usage: {usage}").format(usage=usage), actions=error.actions)


NOT_COORDINATOR = N_("Only a coordinator can do that.")


class Route:
    """What ``@router.typed`` and ``router.group`` return: still callable as the handler, and it knows
    its command, so buttons are written from the declaration (``cancel.line(3)`` -> '/cancel 3')."""

    def __init__(self, command: Command) -> None:
        self.command = command

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        assert self.command.handler is not None
        return self.command.handler(*args, **kwargs)

    def line(self, *values: object) -> str:
        return self.command.line(*values)

    def sub(
        self,
        name: str,
        *,
        aliases: Iterable[str] = (),
        help: str,
        args: Sequence[Arg] = (),
        examples: Iterable[str] = (),
        coordinator_only: bool = False,
        default: bool = False,
        strict: bool = True,
        hidden: bool = False,
        guard: Callable[[Ctx], None] | None = None,
    ) -> Callable[[Callable[..., HandlerResult]], Route]:
        """A subcommand with its own pieces, permission, usage, help and French synonyms. ``default``:
        the one used when the first word names no subcommand. ``strict=False``: a text its pieces can't
        read goes to the default instead ("/announce Cancel the party" is an announcement)."""

        def register(func: Callable[..., HandlerResult]) -> Route:
            sub = Command(name, tuple(aliases), help, "", _through_group, coordinator_only, hidden, tuple(args),
                          tuple(examples), parent=self.command, default=default, handler=func, strict=strict,
                          guard=guard)
            self.command.subcommands.append(sub)
            return Route(sub)

        return register


def _through_group(ctx: Ctx, args: str) -> HandlerResult:  # pragma: no cover - never registered on its own
    raise AssertionError("a subcommand runs through its group")


class Router:
    def __init__(self, name: str) -> None:
        self.name = name
        self.commands: list[Command] = []
        self.jobs: list[Job] = []
        self.reply_hooks: list[ReplyHook] = []

    def after_reply(self, func: ReplyHook) -> ReplyHook:
        """``func(ctx, command, replies)`` runs after every command, in the command's transaction."""
        self.reply_hooks.append(func)
        return func

    def job(
        self, name: str, *, every_seconds: float | None = None, weekly_setting: str | None = None
    ) -> Callable[[JobFunc], JobFunc]:
        if (every_seconds is None) == (weekly_setting is None):
            raise ValueError("a job runs either every N seconds or weekly")

        def register(func: JobFunc) -> JobFunc:
            self.jobs.append(Job(name, func, every_seconds, weekly_setting))
            return func

        return register

    def line(self, path: str, *values: object) -> str:
        """A button's command written from a declaration of this router, by the command's English path:
        ``router.line("shift done", 5)`` -> '/shift done 5' (for modules that can't import the handler)."""
        name, _, sub_name = path.partition(" ")
        command = next(c for c in self.commands if c.name == name)
        if sub_name:
            command = next(c for c in command.subcommands if c.name == sub_name)
        return command.line(*values)

    def command(
        self,
        name: str,
        *,
        aliases: Iterable[str] = (),
        help: str,
        usage: str = "",
        coordinator_only: bool = False,
        hidden: bool = False,
        examples: Iterable[str] = (),
        read_only: bool = False,
    ) -> Callable[[HandlerFunc], HandlerFunc]:
        """A plain command: ``def cmd(ctx, args: str)`` reads its own arguments."""

        def register(func: HandlerFunc) -> HandlerFunc:
            self.commands.append(
                Command(name, tuple(aliases), help, usage, func, coordinator_only, hidden, None, tuple(examples),
                        read_only=read_only)
            )
            return func

        return register

    def typed(
        self,
        name: str,
        *,
        aliases: Iterable[str] = (),
        help: str,
        args: Sequence[Arg] = (),
        examples: Iterable[str] = (),
        coordinator_only: bool = False,
        hidden: bool = False,
        read_only: bool = False,
    ) -> Callable[[Callable[..., HandlerResult]], Route]:
        """A command whose arguments are declared pieces: the handler receives typed values. ``read_only``:
        it writes nothing (its transaction takes no write lock on SQLite)."""

        def register(func: Callable[..., HandlerResult]) -> Route:
            return Route(self._declare(name, aliases, help, tuple(args), examples, coordinator_only, hidden, func,
                                       read_only))

        return register

    def group(
        self,
        name: str,
        *,
        aliases: Iterable[str] = (),
        help: str,
        examples: Iterable[str] = (),
        coordinator_only: bool = False,
        hidden: bool = False,
    ) -> Route:
        """A command made of subcommands (``/event add|edit|cancel|post``); declare them with ``.sub``."""
        return Route(self._declare(name, aliases, help, (), examples, coordinator_only, hidden, None))

    def _declare(self, name: str, aliases: Iterable[str], help: str, args: tuple[Arg, ...],
                 examples: Iterable[str], coordinator_only: bool, hidden: bool,
                 handler: Callable[..., HandlerResult] | None, read_only: bool = False) -> Command:
        holder: list[Command] = []

        def run(ctx: Ctx, text: str) -> HandlerResult:
            return holder[0].run(ctx, text)

        command = Command(name, tuple(aliases), help, "", run, coordinator_only, hidden, args, tuple(examples),
                          handler=handler, read_only=read_only)
        holder.append(command)
        self.commands.append(command)
        return command


class CommandTable:
    """All commands by every name they answer to (accent-insensitive: /reserver = /réserver)."""

    def __init__(self, routers: Iterable[Router]) -> None:
        self.commands: list[Command] = []
        self.jobs: list[Job] = []
        self.reply_hooks: list[ReplyHook] = []
        self._by_name: dict[str, Command] = {}
        self._typed: dict[str, Command] = {}  # names as typed ('Book', 'réserver') already found
        # Texts made from the table alone and a few flags (/help's list per language and role): made once.
        self.made: dict[tuple[object, ...], str] = {}
        for router in routers:
            self.jobs.extend(router.jobs)
            self.reply_hooks.extend(router.reply_hooks)
            for command in router.commands:
                for name in command.names:
                    key = fold(name)
                    if key in self._by_name:
                        raise ValueError(f"command name /{name} is declared twice")
                    self._by_name[key] = command
                self.commands.append(command)

    def find(self, name: str) -> Command | None:
        found = self._typed.get(name)
        if found is None:
            found = self._by_name.get(fold(name))
            if found is not None and len(self._typed) < 4096:
                self._typed[name] = found
        return found

    def names(self) -> list[str]:
        return sorted(self._by_name)


def nearest_command(typed: str, names: Sequence[str]) -> str | None:
    """The command a mistyped name most likely meant, or None. Phones shorten more than they misspell:
    a name the typed word begins ("/mesres"), then one whose letters it keeps in order from the same first
    letter ("/mesresas" -> mesreservations, not the closer-spelled mesheures), then a close spelling
    ("/reserve" -> reserver). Among several, the closest spelled."""
    word = fold(typed)
    if len(word) < 2:
        return None

    def spelled(name: str) -> float:
        return difflib.SequenceMatcher(None, word, name).ratio()

    def keeps_in_order(name: str) -> bool:
        letters = iter(name)
        return name[0] == word[0] and all(letter in letters for letter in word)

    if len(word) >= 3:
        for fits in (lambda name: name.startswith(word), keeps_in_order):
            found = [name for name in names if name != word and fits(name)]
            if found:
                return max(found, key=lambda name: (spelled(name), -len(name)))
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.7)
    return close[0] if close else None


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
