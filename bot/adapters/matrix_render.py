"""Matrix wire format, both ways, as pure functions: a Reply becomes event content, a message body
becomes command text. Kept apart from the client so it is tested without a homeserver."""

from __future__ import annotations

import hashlib
import html
import re
import struct
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import unquote

from bot.core.i18n import N_, Translator
from bot.core.types import Action, Reply

# One action: react "do it"; several: numbered keycaps, which also match a typed "1", "2"...
SINGLE_ACTION_KEY = "✅"
NUMBER_KEYS = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣", "🔟")
VARIATION_SELECTOR = "\ufe0f"

# A typed number counts in a direct chat, or in a room as a reply to the bot (the core's rule).
CHOOSE_HINT = N_("To choose, react with the emoji (or reply to this message with its number):")
# Shown only when the offered actions can be undone: by all of them, or by some (then named).
UNDO_HINT = N_("Removing your reaction undoes it.")
UNDO_SOME_HINT = N_("Removing your reaction undoes: {actions}.")

_REPLY_FALLBACK_RE = re.compile(r"^(?:>.*\n)+\n?", re.MULTILINE)


def action_keys(actions: Sequence[Action]) -> list[str]:
    """The reaction key of each action, in order (at most ten actions can be offered)."""
    if len(actions) == 1:
        return [SINGLE_ACTION_KEY]
    return list(NUMBER_KEYS[: len(actions)])


def normalise_key(key: str) -> str:
    """Clients differ on the emoji variation selector: '✅️' and '✅' are one key."""
    return key.replace(VARIATION_SELECTOR, "").strip()


def action_table(actions: Sequence[Action]) -> dict[str, str]:
    """Reaction key (normalised) -> command, as remembered for the sent message."""
    return {normalise_key(key): action.command for key, action in zip(action_keys(actions), actions, strict=False)}


def undo_table(actions: Sequence[Action]) -> dict[str, str]:
    """Reaction key (normalised) -> undo command, for the actions that have one."""
    return {
        normalise_key(key): action.undo
        for key, action in zip(action_keys(actions), actions, strict=False)
        if action.undo
    }


def undo_hint(actions: Sequence[Action], translator: Translator) -> str | None:
    """The line telling that removing the reaction undoes the action, when some action can be undone."""
    undoable = [action.label for action in actions if action.undo]
    if not undoable:
        return None
    if len(undoable) == len(actions):
        return translator.gettext(UNDO_HINT)
    return translator.gettext(UNDO_SOME_HINT).format(actions=", ".join(undoable))


def render_reply(
    reply: Reply, translator: Translator, command_names: Sequence[str] = ()
) -> tuple[str, str]:
    """(plain body, HTML formatted_body). Every piece of text is escaped; the title is bold; the text's
    light Markdown (headings, bullets, **bold**, `code`) becomes HTML; known commands are shown with
    ``!`` (Element keeps ``/`` for its own commands)."""
    bang = bang_commands_in(command_names)
    plain: list[str] = []
    rich: list[str] = []
    if reply.title:
        plain.append(bang(reply.title))
        rich.append(f"<strong>{html.escape(bang(reply.title))}</strong>")
    if reply.text:
        text = bang(reply.text)
        plain.append(markdown_plain(text))
        rich.append(markdown_html(text))
    if reply.actions:
        hint = translator.gettext(CHOOSE_HINT)
        keys = action_keys(reply.actions)
        lines = [f"{key} {bang(action.label)}" for key, action in zip(keys, reply.actions, strict=False)]
        undo = undo_hint(reply.actions, translator)
        if undo:
            lines.append(bang(undo))
        plain.append(hint + "\n" + "\n".join(lines))
        rich.append(html.escape(hint) + "<br>" + "<br>".join(html.escape(line) for line in lines))
    return "\n".join(plain), "<br>".join(rich)


def bang_commands_in(command_names: Sequence[str]) -> Callable[[str], str]:
    """A function showing ``/book`` as ``!book`` for the known command names, where a command starts
    (not inside a link or a date such as 14h/16h)."""
    if not command_names:
        return lambda text: text
    names = "|".join(re.escape(n) for n in sorted(set(command_names), key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w/!.:@-])/({names})(?![\w-])", re.IGNORECASE)
    return lambda text: pattern.sub(r"!\1", text)


_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*)$")
_BULLET_RE = re.compile(r"^\s*[-*•]\s+(.*)$")
_BOLD_RE = re.compile(r"\*\*(.+?)\*\*")
_CODE_RE = re.compile(r"`([^`]+)`")


def _inline_html(escaped: str) -> str:
    return _CODE_RE.sub(r"<code>\1</code>", _BOLD_RE.sub(r"<strong>\1</strong>", escaped))


def markdown_html(text: str) -> str:
    """The light Markdown handlers write (``#``/``##`` headings, ``-`` bullets, ``**bold**``, `` `code` ``)
    as HTML for Element; anything else is escaped text with line breaks."""
    out: list[str] = []
    items: list[str] = []

    def close_list() -> None:
        if items:
            out.append("<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>")
            items.clear()

    for line in text.split("\n"):
        heading = _HEADING_RE.match(line)
        bullet = _BULLET_RE.match(line)
        if bullet:
            items.append(_inline_html(html.escape(bullet.group(1))))
            continue
        close_list()
        if heading:
            level = min(len(heading.group(1)) + 2, 6)  # # -> h3, ## -> h4: a chat message, not a page
            out.append(f"<h{level}>{_inline_html(html.escape(heading.group(2)))}</h{level}>")
        else:
            out.append(_inline_html(html.escape(line)) + "<br>")
    close_list()
    result = "".join(out)
    return result[:-4] if result.endswith("<br>") else result


def markdown_plain(text: str) -> str:
    """The same text for the plain body (notifications, old clients): no literal ``#`` or ``**``."""
    lines = []
    for line in text.split("\n"):
        heading = _HEADING_RE.match(line)
        bullet = _BULLET_RE.match(line)
        if heading:
            line = heading.group(2)
        elif bullet:
            line = "• " + bullet.group(1)
        lines.append(_CODE_RE.sub(r"\1", _BOLD_RE.sub(r"\1", line)))
    return "\n".join(lines)


def notice_content(
    reply: Reply,
    translator: Translator,
    in_reply_to: str | None = None,
    replaces: str | None = None,
    thread_id: str | None = None,
    msgtype: str = "m.notice",
    command_names: Sequence[str] = (),
) -> dict[str, Any]:
    """An ``m.notice`` (bots speak in notices, so other bots don't answer them and rooms don't ping), or
    ``m.text`` in a direct chat, where the member should be notified; optionally as a reply, in a thread,
    or as an edit of an earlier message of the bot."""
    body, formatted = render_reply(reply, translator, command_names)
    content: dict[str, Any] = {
        "msgtype": msgtype,
        "body": body,
        "format": "org.matrix.custom.html",
        "formatted_body": formatted,
    }
    if replaces:
        new_content = dict(content)
        content = {**content, "body": "* " + body, "formatted_body": "* " + formatted}
        content["m.new_content"] = new_content
        content["m.relates_to"] = {"rel_type": "m.replace", "event_id": replaces}
    elif thread_id:
        content["m.relates_to"] = thread_relation(thread_id, in_reply_to)
    elif in_reply_to:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": in_reply_to}}
    return content


def addressed_to_one_member(content: dict[str, Any], reply: Reply, in_reply_to: str | None,
                            thread_id: str | None) -> dict[str, Any]:
    """A personal answer in a shared room (the result or the refusal of someone's press): in a thread under
    the pressed message, so the room's timeline stays for what concerns everyone, and as an ``m.text``
    that mentions the member (``m.mentions``), so that member alone is notified (notices never notify)."""
    if not reply.personal or not reply.for_user or "m.new_content" in content:
        return content
    root = thread_id or in_reply_to
    content = dict(content)
    if root:
        content["m.relates_to"] = thread_relation(root, in_reply_to)
    content["msgtype"] = "m.text"
    content["m.mentions"] = {"user_ids": [reply.for_user]}
    return content


def thread_relation(root: str, in_reply_to: str | None) -> dict[str, Any]:
    """In the thread of ``root``; a reply to ``in_reply_to`` inside it, else the thread's fallback reply."""
    return {
        "rel_type": "m.thread",
        "event_id": root,
        "is_falling_back": in_reply_to is None,
        "m.in_reply_to": {"event_id": in_reply_to or root},
    }


def thread_root(content: dict[str, Any]) -> str | None:
    relates = content.get("m.relates_to")
    if isinstance(relates, dict) and relates.get("rel_type") == "m.thread":
        root = relates.get("event_id")
        return root if isinstance(root, str) else None
    return None


_PILL_RE = re.compile(r"""href=["']https://matrix\.to/#/((?:@|%40)[^"'?/]+)""")


def mentioned_users(content: dict[str, Any]) -> list[str]:
    """Users a message names: its ``m.mentions`` (current clients) and the pills of its HTML body."""
    found: list[str] = []
    mentions = content.get("m.mentions")
    if isinstance(mentions, dict) and isinstance(mentions.get("user_ids"), list):
        found += [u for u in mentions["user_ids"] if isinstance(u, str)]
    formatted = content.get("formatted_body")
    if isinstance(formatted, str):
        found += [unquote(user) for user in _PILL_RE.findall(formatted)]
    return list(dict.fromkeys(found))


def image_info(data: bytes) -> dict[str, Any]:
    """What Element needs to lay an image out before downloading it: mimetype, size, and for PNG and
    JPEG the width and height."""
    info: dict[str, Any] = {"size": len(data), "mimetype": "application/octet-stream"}
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        info["mimetype"] = "image/png"
        info["w"], info["h"] = struct.unpack(">II", data[16:24])
    elif data.startswith(b"\xff\xd8"):
        info["mimetype"] = "image/jpeg"
        index = 2
        while index + 9 < len(data):
            if data[index] != 0xFF:
                break
            marker = data[index + 1]
            length = int.from_bytes(data[index + 2:index + 4], "big")
            if marker in (0xC0, 0xC1, 0xC2):
                info["h"], info["w"] = struct.unpack(">HH", data[index + 5:index + 9])
                break
            index += 2 + length
    return info


def strip_reply_fallback(body: str) -> str:
    """Older clients quote the message replied to ('> <@bot:x> ...' then a blank line): drop it."""
    if body.startswith(">"):
        return _REPLY_FALLBACK_RE.sub("", body, count=1)
    return body


def strip_mention(body: str, user_id: str, display_names: Sequence[str]) -> str:
    """'@bot:server: !book ...' or 'Bot: !book ...' (Element's pill) -> '!book ...'."""
    text = body.lstrip()
    localpart = user_id[1:].split(":", 1)[0] if user_id.startswith("@") else user_id
    candidates = [user_id, *display_names, localpart, "@" + localpart]
    for name in sorted({c for c in candidates if c}, key=len, reverse=True):
        if text.casefold().startswith(name.casefold()):
            rest = text[len(name):]
            if not rest or rest[0] in ":, \t\n":
                return rest.lstrip(":, \t\n")
    return text


def reply_target(content: dict[str, Any]) -> str | None:
    """The event a message replies to (in a thread, only a real reply, not the thread's fallback)."""
    relates = content.get("m.relates_to")
    if not isinstance(relates, dict) or relates.get("is_falling_back"):
        return None
    in_reply_to = relates.get("m.in_reply_to")
    if isinstance(in_reply_to, dict) and isinstance(in_reply_to.get("event_id"), str):
        return str(in_reply_to["event_id"])
    return None


def is_edit(content: dict[str, Any]) -> bool:
    relates = content.get("m.relates_to")
    return isinstance(relates, dict) and relates.get("rel_type") == "m.replace"


def transaction_id(*parts: str) -> str:
    """Stable across retries and restarts, so the homeserver drops a resent duplicate."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]
    return f"tierslieu-{digest}"
