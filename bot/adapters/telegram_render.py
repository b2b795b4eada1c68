"""Reply -> Telegram HTML pieces. Pure functions, so the splitting and escaping are easy to test.

Every piece of text is escaped here, where markup is built: a space named ``<b>Salle & co</b>``
shows literally. Telegram counts length in UTF-16 code units, so we do too.
"""

from __future__ import annotations

import html
import re

from bot.core.types import Reply

MAX_TEXT_UNITS = 4096
MAX_CAPTION_UNITS = 1024
MAX_CALLBACK_BYTES = 64
START_PAYLOAD_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cut_raw(line: str, limit: int) -> list[str]:
    """A line too long for one message, cut (before escaping, so no entity is split) into pieces
    whose escaped form fits."""
    pieces: list[str] = []
    current = ""
    for char in line:
        if utf16_units(html.escape(current + char)) > limit:
            pieces.append(current)
            current = ""
        current += char
    if current:
        pieces.append(current)
    return pieces


def render_html_chunks(reply: Reply, limit: int = MAX_TEXT_UNITS) -> list[str]:
    """The reply as HTML messages of at most ``limit`` units, split at line boundaries."""
    whole = html.escape(reply.text)
    if reply.title:
        whole = f"<b>{html.escape(reply.title)}</b>\n{whole}"
    if len(whole) * 2 <= limit or utf16_units(whole) <= limit:  # most replies: one message, nothing to cut
        return [whole] if whole.strip() else []
    return split_at_lines(reply, limit)


def split_at_lines(reply: Reply, limit: int) -> list[str]:
    """The long way: the escaped lines gathered into messages of at most ``limit`` units each."""
    lines: list[str] = []
    if reply.title:
        lines.append(f"<b>{html.escape(reply.title)}</b>")
    for raw in reply.text.split("\n"):
        escaped = html.escape(raw)
        if utf16_units(escaped) <= limit:
            lines.append(escaped)
        else:
            lines.extend(html.escape(piece) for piece in _cut_raw(raw, limit))
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        added = utf16_units(line) + (1 if current else 0)
        if current and size + added > limit:
            chunks.append("\n".join(current))
            current, size = [], 0
            added = utf16_units(line)
        current.append(line)
        size += added
    if current:
        chunks.append("\n".join(current))
    return [chunk for chunk in chunks if chunk.strip()]


def fits_callback_data(command: str) -> bool:
    """Short commands travel as themselves; '#' is reserved for stored ones."""
    return not command.startswith("#") and 0 < len(command.encode("utf-8")) <= MAX_CALLBACK_BYTES


def deep_link(bot_username: str, payload: str | None) -> str:
    """``t.me/<bot>?start=<payload>``; a payload Telegram would refuse is left out (plain /start)."""
    url = f"https://t.me/{bot_username}"
    if payload and START_PAYLOAD_RE.match(payload):
        url += f"?start={payload}"
    return url
