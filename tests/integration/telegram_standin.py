"""A Bot API stand-in: an aiohttp server on 127.0.0.1 speaking the Telegram Bot API wire protocol.

``POST /bot<token>/<method>`` with form-urlencoded, multipart or JSON bodies, answered with
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": ..., "description": ...,
"parameters": {...}}`` as the real server does. It records every call (failed ones too, with the
time), lets a test push updates (someone types, someone presses a button) that ``getUpdates``
long-polls for, and can be told to fail: the next N calls of a method answer 429/403/..., drop the
connection, or the server refuses connections for a while.

It does not filter updates by ``allowed_updates``: a test can push an edited message or a channel
post and see that the bot ignores it itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

JSON_FIELDS = {
    "reply_markup", "commands", "reply_parameters", "allowed_updates", "scope",
    "link_preview_options", "entities", "caption_entities", "options",
}
TAG_RE = re.compile(r"<[^>]+>")


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    at: float
    outcome: str = "ok"  # "ok", an HTTP status as text, "dropped"

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    @property
    def chat_id(self) -> str:
        return str(self.params.get("chat_id", ""))


@dataclass
class _Failure:
    status: int = 0  # 0 = drop the connection without answering
    description: str = ""
    parameters: dict[str, Any] | None = None
    after: int = 0  # calls to let through before this failure


class BadRequestError(Exception):
    """A call the Bot API answers with 400 and this description."""


@dataclass
class BotApiStandIn:
    token: str = "123456:TEST-token_for-the-stand-in"
    username: str = "TiersLieuBot"
    calls: list[ApiCall] = field(default_factory=list)
    messages: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    chats: dict[str, dict[str, Any]] = field(default_factory=dict)
    # chat id -> user id -> "creator" or "administrator" (getChatMember); everyone else is a "member"
    admins: dict[str, dict[int, str]] = field(default_factory=dict)
    photo_files: dict[str, bytes] = field(default_factory=dict)  # file_id -> the photo uploaded (sendPhoto)

    def __post_init__(self) -> None:
        self.bot_id = int(self.token.split(":")[0])
        self.bot_user = {"id": self.bot_id, "is_bot": True, "first_name": "Tiers-Lieu",
                         "username": self.username, "can_join_groups": True,
                         "can_read_all_group_messages": False, "supports_inline_queries": False}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._photo_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._failures: dict[str, deque[_Failure]] = {}
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.port = 0

    # -- server ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """What TELEGRAM_API_URL is set to: the root, to which the bot appends /bot<token>/<method>."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await self._listen()

    async def _listen(self) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await self._site.start()
        if not self.port:
            self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def refuse_connections_for(self, seconds: float) -> None:
        """Stop listening (connections are refused, as when the network is down), then come back.

        Every answer carries ``Connection: close``, so no kept-alive connection sneaks past this.
        """
        assert self._site is not None
        await self._site.stop()

        async def come_back() -> None:
            await asyncio.sleep(seconds)
            await self._listen()

        self._comeback = asyncio.create_task(come_back())

    # -- programming failures ----------------------------------------------------------------

    def fail_next(self, method: str, status: int, description: str, *, times: int = 1, after: int = 0,
                  **parameters: Any) -> None:
        queue = self._failures.setdefault(method.lower(), deque())
        for n in range(times):
            queue.append(_Failure(status, description, parameters or None, after if n == 0 else 0))

    def rate_limit_next(self, method: str, retry_after: int, times: int = 1, after: int = 0) -> None:
        self.fail_next(method, 429, f"Too Many Requests: retry after {retry_after}", times=times,
                       after=after, retry_after=retry_after)

    def block_next(self, method: str) -> None:
        self.fail_next(method, 403, "Forbidden: bot was blocked by the user")

    def migrate_next(self, method: str, new_chat_id: int) -> None:
        self.fail_next(method, 400, "Bad Request: group chat was upgraded to a supergroup chat",
                       migrate_to_chat_id=new_chat_id)

    def drop_next(self, method: str) -> None:
        """Read the request, then close the connection without answering."""
        self.fail_next(method, 0, "")

    # -- what the bot did --------------------------------------------------------------------

    def sent(self, method: str, *, chat_id: object = None, only_ok: bool = True) -> list[ApiCall]:
        return [
            c for c in self.calls
            if c.method.lower() == method.lower()
            and (chat_id is None or c.chat_id == str(chat_id))
            and (c.ok or not only_ok)
        ]

    async def wait_for(self, method: str, count: int = 1, *, chat_id: object = None,
                       timeout: float = 5.0, only_ok: bool = True) -> list[ApiCall]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.sent(method, chat_id=chat_id, only_ok=only_ok)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                seen = [(c.method, c.outcome, c.params.get("text")) for c in self.calls[-10:]]
                raise AssertionError(f"expected {count} {method}, got {len(found)}; last calls: {seen}")
            await asyncio.sleep(0.02)

    async def settle(self, quiet: float = 0.3) -> None:
        """Wait until the bot has made no call (except polling) for ``quiet`` seconds."""
        def busy() -> int:
            return len([c for c in self.calls if c.method.lower() != "getupdates"])

        count = busy()
        while True:
            await asyncio.sleep(quiet)
            if busy() == count:
                return
            count = busy()

    # -- what people do ----------------------------------------------------------------------

    @staticmethod
    def user(user_id: int, first_name: str = "Camille", language_code: str | None = "fr",
             username: str | None = None) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        if username:
            user["username"] = username
        return user

    def private_chat(self, user: dict[str, Any]) -> dict[str, Any]:
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        self.chats[str(user["id"])] = chat
        return chat

    def group(self, chat_id: int, title: str = "Le Tiers-Lieu", kind: str = "supergroup") -> dict[str, Any]:
        chat = {"id": chat_id, "type": kind, "title": title}
        self.chats[str(chat_id)] = chat
        return chat

    def make_admin(self, chat_id: int, user_id: int, status: str = "administrator") -> None:
        """``user_id`` is the group's ``"creator"`` or an ``"administrator"`` from now on (getChatMember)."""
        assert status in ("creator", "administrator")
        self.admins.setdefault(str(chat_id), {})[user_id] = status

    def push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), kind: payload}
        self._updates.append(update)

        async def notify() -> None:
            async with self._changed:
                self._changed.notify_all()

        asyncio.get_running_loop().create_task(notify())
        return update

    def redeliver(self, update: dict[str, Any]) -> None:
        """Offer an update again, as Telegram does for every update whose offset it was never sent."""
        self._updates.append(update)
        self._updates.sort(key=lambda u: u["update_id"])

    def message(self, chat: dict[str, Any], user: dict[str, Any] | None, text: str | None = None,
                **extra: Any) -> dict[str, Any]:
        message: dict[str, Any] = {"message_id": next(self._message_ids), "date": int(time.time()),
                                   "chat": chat, **extra}
        if user is not None:
            message["from"] = user
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                length = len(text.split()[0]) if text.split() else 1
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return message

    def type_text(self, chat: dict[str, Any], user: dict[str, Any], text: str) -> dict[str, Any]:
        message = self.message(chat, user, text)
        self.push_update("message", message)
        return message

    def answer_poll(self, user: dict[str, Any], poll_id: str, option_ids: list[int]) -> dict[str, Any]:
        """Someone ticks choices in a native (non-anonymous) poll: a ``poll_answer`` update; no option is
        a vote taken back."""
        return self.push_update("poll_answer", {"poll_id": poll_id, "user": user, "option_ids": option_ids,
                                                "option_persistent_ids": [str(i) for i in option_ids]})

    def press(self, user: dict[str, Any], message: dict[str, Any], data: str) -> str:
        query_id = str(next(self._callback_ids))
        self.push_update("callback_query", {"id": query_id, "from": user, "message": message,
                                            "chat_instance": "42", "data": data})
        return query_id

    # -- the protocol ------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.json()
            return dict(body) if isinstance(body, dict) else {}
        params: dict[str, Any] = {}
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, FileField):
                params[name] = value.file.read()
            elif name in JSON_FIELDS:
                params[name] = json.loads(value)
            else:
                params[name] = value
        params.update({k: v for k, v in request.query.items() if k not in params})
        return params

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await self._params(request)
        call = ApiCall(method, params, time.monotonic())
        self.calls.append(call)
        if request.match_info["token"] != self.token:
            call.outcome = "401"
            return self._answer({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        failures = self._failures.get(method.lower())
        if failures and failures[0].after > 0:
            failures[0].after -= 1
        elif failures:
            failure = failures.popleft()
            if failure.status == 0:
                call.outcome = "dropped"
                assert request.transport is not None
                request.transport.abort()
                return web.Response()
            call.outcome = str(failure.status)
            body: dict[str, Any] = {"ok": False, "error_code": failure.status,
                                    "description": failure.description}
            if failure.parameters:
                body["parameters"] = failure.parameters
            return self._answer(body, failure.status)
        handler: Callable[..., Any] | None = getattr(self, f"_api_{method.lower()}", None)
        if handler is None:
            call.outcome = "400"
            missing = f"Bad Request: the stand-in does not implement {method}"
            return self._answer({"ok": False, "error_code": 400, "description": missing}, 400)
        try:
            result = handler(params)
            if asyncio.iscoroutine(result):
                result = await result
        except BadRequestError as error:
            call.outcome = "400"
            return self._answer({"ok": False, "error_code": 400, "description": str(error)}, 400)
        return self._answer({"ok": True, "result": result}, 200)

    @staticmethod
    def _answer(body: dict[str, Any], status: int) -> web.Response:
        response = web.json_response(body, status=status)
        response.force_close()
        return response

    def _chat(self, chat_id: object) -> dict[str, Any]:
        key = str(chat_id)
        if key not in self.chats:
            kind = "supergroup" if key.startswith("-") else "private"
            self.chats[key] = {"id": int(key), "type": kind}
        return self.chats[key]

    def _bot_message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        message: dict[str, Any] = {"message_id": next(self._message_ids), "date": int(time.time()),
                                   "chat": self._chat(params["chat_id"]), "from": self.bot_user, **content}
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        self.messages[(str(params["chat_id"]), message["message_id"])] = message
        return message

    # Bot API methods -------------------------------------------------------------------------

    def _api_getme(self, _params: dict[str, Any]) -> dict[str, Any]:
        return self.bot_user

    def _api_deletewebhook(self, _params: dict[str, Any]) -> bool:
        return True

    def _api_setwebhook(self, _params: dict[str, Any]) -> bool:
        return True

    def _api_setmycommands(self, _params: dict[str, Any]) -> bool:
        return True

    def _api_answercallbackquery(self, _params: dict[str, Any]) -> bool:
        return True

    def _api_getchatmember(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = int(params["user_id"])
        user = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
        status = self.admins.get(str(params["chat_id"]), {}).get(user_id, "member")
        if status == "creator":
            return {"status": "creator", "user": user, "is_anonymous": False}
        if status == "administrator":
            rights = ("can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
                      "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
                      "can_edit_stories", "can_delete_stories")
            return {"status": "administrator", "user": user, "can_be_edited": False, "is_anonymous": False,
                    **dict.fromkeys(rights, False)}
        return {"status": "member", "user": user}

    def _api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._bot_message(params, text=html.unescape(TAG_RE.sub("", params["text"])))

    def _api_sendphoto(self, params: dict[str, Any]) -> dict[str, Any]:
        """An upload (bytes) gets a new file_id; a string must be a file_id given before, as on Telegram."""
        file_id = params["photo"]
        if isinstance(file_id, bytes):
            file_id = f"photo-{next(self._photo_ids)}"
            self.photo_files[file_id] = params["photo"]
        elif file_id not in self.photo_files:
            raise BadRequestError("Bad Request: wrong file identifier/HTTP URL specified")
        photo = [{"file_id": file_id, "file_unique_id": f"u-{file_id}", "width": 1, "height": 1}]
        caption = params.get("caption")
        content: dict[str, Any] = {"photo": photo}
        if caption:
            content["caption"] = html.unescape(TAG_RE.sub("", caption))
        return self._bot_message(params, **content)

    def _api_sendpoll(self, params: dict[str, Any]) -> dict[str, Any]:
        options = [o["text"] if isinstance(o, dict) else str(o) for o in params["options"]]
        poll = {"id": f"poll-{next(self._message_ids)}", "question": params["question"],
                "options": [{"text": text, "voter_count": 0, "persistent_id": str(i)}
                            for i, text in enumerate(options)],
                "total_voter_count": 0, "allows_revoting": True, "members_only": False,
                "is_closed": False, "is_anonymous": str(params.get("is_anonymous", "true")).lower() == "true",
                "type": params.get("type", "regular"),
                "allows_multiple_answers": str(params.get("allows_multiple_answers", "false")).lower() == "true"}
        return self._bot_message(params, poll=poll)

    def _api_stoppoll(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (str(params["chat_id"]), int(params["message_id"]))
        poll = dict(self.messages[key]["poll"], is_closed=True)
        self.messages[key] = dict(self.messages[key], poll=poll)
        return poll

    def _api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (str(params["chat_id"]), int(params["message_id"]))
        message = dict(self.messages.get(key) or {"message_id": key[1], "date": int(time.time()),
                                                   "chat": self._chat(key[0])})
        message["text"] = html.unescape(TAG_RE.sub("", params["text"]))
        message.pop("reply_markup", None)
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        self.messages[key] = message
        return message

    async def _api_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout > 0:
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    ready = self._changed.wait_for(lambda: bool(self._updates) or self._closing)
                    await asyncio.wait_for(ready, timeout)
        return self._updates[:limit]
