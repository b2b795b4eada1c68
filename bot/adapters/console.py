"""Terminal chat: the embedded default. Scriptable (one message per line on a pipe) and interactive."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TextIO

from bot.adapters.base import IncomingHandler
from bot.core.types import Action, ChatRef, Incoming, Platform, Reply, UserRef


def render_reply(reply: Reply, number_from: int = 1, image_path: Path | None = None) -> str:
    lines = []
    if reply.title:
        lines.append(f"== {reply.title} ==")
    lines.append(reply.text)
    if reply.image is not None:
        lines.append(f"[image: {image_path or reply.image_name or 'image.png'}]")
    for index, action in enumerate(reply.actions, number_from):
        lines.append(f"  [{index}] {action.label}")
    return "\n".join(lines)


class ConsoleAdapter:
    platform = Platform.CONSOLE

    def __init__(
        self,
        user_id: str,
        display_name: str | None = None,
        language: str | None = None,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        image_dir: Path | None = None,
    ) -> None:
        self.user = UserRef(Platform.CONSOLE, user_id, display_name or user_id, language)
        self.chat = ChatRef(Platform.CONSOLE, user_id, is_private=True)
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.interactive = self.stdin.isatty()
        self.image_dir = image_dir or Path(".")
        self._on_incoming: IncomingHandler | None = None
        self._actions: list[Action] = []

    async def start(self, on_incoming: IncomingHandler) -> None:
        self._on_incoming = on_incoming

    async def stop(self) -> None:
        self._on_incoming = None

    async def send(self, chat_id: str, reply: Reply, *, key: str | None = None) -> None:
        prefix = "" if chat_id == self.chat.chat_id else f"[→ {chat_id}] "
        self._print(prefix + render_reply(reply, image_path=self._save_image(reply)))

    def _save_image(self, reply: Reply) -> Path | None:
        """A terminal shows no pictures: the image is written to a file and its path printed."""
        if reply.image is None:
            return None
        self.image_dir.mkdir(parents=True, exist_ok=True)
        path = self.image_dir / Path(reply.image_name or "image.png").name
        path.write_bytes(reply.image)
        return path

    def _print(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def _to_incoming(self, line: str) -> Incoming:
        text = line.strip()
        if text.isdigit() and 1 <= int(text) <= len(self._actions):
            return Incoming(self.chat, self.user, self._actions[int(text) - 1].command, is_action=True)
        return Incoming(self.chat, self.user, text)

    async def say(self, line: str) -> list[Reply]:
        """One line typed by the user -> the replies, printed with numbered actions."""
        assert self._on_incoming is not None, "start() the adapter first"
        replies = await self._on_incoming(self._to_incoming(line))
        self._actions = [a for r in replies for a in r.actions]
        number = 1
        for reply in replies:
            self._print(render_reply(reply, number, self._save_image(reply)))
            number += len(reply.actions)
        return replies

    async def repl(self) -> None:
        """Read until end of input (or /quit): the terminal session of `tierslieu chat`."""
        loop = asyncio.get_running_loop()
        while True:
            if self.interactive:
                self.stdout.write("> ")
                self.stdout.flush()
            line = await loop.run_in_executor(None, self.stdin.readline)
            if not line:
                break
            if line.strip() in {"/quit", "/exit", "!quit"}:
                break
            if line.strip():
                await self.say(line)
