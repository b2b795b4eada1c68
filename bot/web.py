"""The bot's own HTTP server (Telegram webhook, health, the iCal feeds), in the bot's event loop.

Features add their routes through registrars (``Callable[[web.Application], None]``) before start,
so this module knows none of them. With no registrar the server does not listen at all: a
polling-only bot opens no port, and tests can build many Apps side by side.

The port may face the Internet, so slow or greedy clients must not take the bot off the chat:

- a client has ``header_timeout`` seconds to send a request's headers (closed otherwise, however slowly
  it trickles bytes), then ``body_timeout`` seconds for its body (408); idle keep-alive connections close
  after ``header_timeout`` too;
- at most ``max_connections`` connections are open at once (the next ones get a bare 503 and are
  closed at once), well below the process's open-file limit, so that the chat platforms and the
  database always find a file descriptor;
- at most ``max_active_requests`` requests are handled at once (others wait briefly, then get 503):
  handlers that work in threads never take all of the default executor's threads, which the
  commands of the chat use too;
- abuse (slow clients, refused connections, slow bodies) is logged once per client address per minute,
  with counts, instead of once per connection;
- ``saturation()`` says how full it is, for /healthz and /metrics.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # aiohttp is loaded when the server starts: the console chat never needs it
    from aiohttp import web
    from aiohttp.web_protocol import RequestHandler

log = logging.getLogger(__name__)

RouteRegistrar = Callable[["web.Application"], None]
SHUTDOWN_TIMEOUT_S = 5.0
HEADER_TIMEOUT_S = 10.0
BODY_TIMEOUT_S = 30.0
MAX_CONNECTIONS = 256
MAX_ACTIVE_REQUESTS = 4
# How long a request may wait for a free handler before it is told to come back (503).
QUEUE_TIMEOUT_S = 5.0
ABUSE_LOG_INTERVAL_S = 60.0
# Above this share of max_connections, or after refusing anyone in the last minute, the HTTP side is
# reported as saturated.
SATURATED_SHARE = 0.9
MAX_TRACKED_CLIENTS = 10_000
REFUSAL = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\nRetry-After: 5\r\n\r\n"


class AbuseLog:
    """One warning per client address per minute, whatever it does and however often; the next
    warning carries the counts of what was not logged in between."""

    def __init__(self, interval_s: float = ABUSE_LOG_INTERVAL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = interval_s
        self.clock = clock
        self._last_logged: dict[str, float] = {}
        self._unlogged: dict[str, dict[str, int]] = {}
        self.recent: list[tuple[float, str]] = []  # (when, kind): the last minute's events, for saturation

    def report(self, client: str, kind: str) -> None:
        now = self.clock()
        self.recent.append((now, kind))
        self._forget_before(now - self.interval_s)
        counts = self._unlogged.setdefault(client, {})
        counts[kind] = counts.get(kind, 0) + 1
        last = self._last_logged.get(client)
        if last is not None and now - last < self.interval_s:
            return
        self._last_logged[client] = now
        summary = ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))
        self._unlogged.pop(client, None)
        log.warning("HTTP client %s: %s (logged at most once a minute per client)", client, summary)

    def count(self, kind: str) -> int:
        self._forget_before(self.clock() - self.interval_s)
        return sum(1 for _when, what in self.recent if what == kind)

    def _forget_before(self, horizon: float) -> None:
        if self.recent and self.recent[0][0] < horizon:
            self.recent = [event for event in self.recent if event[0] >= horizon]
        if len(self._last_logged) > MAX_TRACKED_CLIENTS:
            for client, when in list(self._last_logged.items()):
                if when < horizon:
                    self._last_logged.pop(client, None)
                    self._unlogged.pop(client, None)


class _Refuser(asyncio.Protocol):
    """What a connection over the limit gets: a 503 and the door, without reading anything."""

    def __init__(self, on_peer: Callable[[str], None]) -> None:
        self.on_peer = on_peer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.on_peer(_peer(transport))
        transport.write(REFUSAL)
        transport.close()


def _peer(transport: asyncio.BaseTransport) -> str:
    peer = transport.get_extra_info("peername")
    return str(peer[0]) if isinstance(peer, tuple) and peer else "?"


async def healthz(_request: web.Request) -> web.Response:
    from aiohttp import web

    return web.json_response({"ok": True})


def build_web_app(registrars: Iterable[RouteRegistrar] = (),
                  middlewares: Iterable[Any] = ()) -> web.Application:
    from aiohttp import web

    app = web.Application(client_max_size=2 * 1024 * 1024, middlewares=list(middlewares))
    for register in registrars:
        register(app)
    if not any(resource.canonical == "/healthz" for resource in app.router.resources()):
        app.router.add_get("/healthz", healthz)  # a feature (bot.health) may have put a richer one
    return app


class WebServer:
    def __init__(self, host: str, port: int, registrars: Iterable[RouteRegistrar] = (), *,
                 header_timeout: float = HEADER_TIMEOUT_S, body_timeout: float = BODY_TIMEOUT_S,
                 max_connections: int = MAX_CONNECTIONS, max_active_requests: int = MAX_ACTIVE_REQUESTS,
                 queue_timeout: float = QUEUE_TIMEOUT_S) -> None:
        self.host = host
        self.port = port
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self.max_connections = max_connections
        self.max_active_requests = max_active_requests
        self.queue_timeout = queue_timeout
        self.abuse = AbuseLog()
        self._registrars: list[RouteRegistrar] = list(registrars)
        self._runner: web.AppRunner | None = None
        self._server: asyncio.AbstractServer | None = None
        self._handler_slots: asyncio.Semaphore | None = None
        self._active_requests = 0
        # Connections (by id) that have sent a complete request head within their first header_timeout;
        # each entry is dropped when that connection's check runs.
        self._served: set[int] = set()

    @property
    def has_routes(self) -> bool:
        return bool(self._registrars)

    @property
    def running(self) -> bool:
        return self._runner is not None

    def add_routes(self, registrar: RouteRegistrar) -> None:
        if self._runner is not None:
            raise RuntimeError("routes must be added before the HTTP server starts")
        self._registrars.append(registrar)

    def connections(self) -> int:
        server = self._runner.server if self._runner is not None else None
        return len(server.connections) if server is not None else 0

    def saturation(self) -> dict[str, Any]:
        """How full the HTTP side is: open connections and requests against their limits, and what was
        refused or cut off in the last minute. ``ok`` is False when it is (nearly) full."""
        connections = self.connections()
        refused = self.abuse.count("refused (too many connections)")
        return {
            "ok": connections < self.max_connections * SATURATED_SHARE and refused == 0,
            "connections": connections,
            "max_connections": self.max_connections,
            "active_requests": self._active_requests,
            "max_active_requests": self.max_active_requests,
            "refused_last_minute": refused,
            "slow_clients_closed_last_minute": self.abuse.count("closed (headers too slow)"),
            "slow_bodies_last_minute": self.abuse.count("answered 408 (body too slow)"),
        }

    async def _guard(self, request: web.Request,
                     handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        """Every request: the head arrived in time (mark the connection), the body must arrive in
        ``body_timeout``, and only ``max_active_requests`` run at once."""
        from aiohttp import web

        if request.protocol is not None:
            self._served.add(id(request.protocol))
        client = request.remote or "?"
        if request.body_exists:
            try:
                async with asyncio.timeout(self.body_timeout):
                    await request.read()
            except TimeoutError:
                self.abuse.report(client, "answered 408 (body too slow)")
                response = web.Response(status=408, text="request body too slow\n")
                response.force_close()
                return response
        assert self._handler_slots is not None
        try:
            async with asyncio.timeout(self.queue_timeout):
                await self._handler_slots.acquire()
        except TimeoutError:
            self.abuse.report(client, "answered 503 (busy)")
            return web.Response(status=503, text="busy, try again\n", headers={"Retry-After": "5"})
        self._active_requests += 1
        try:
            return await handler(request)
        finally:
            self._active_requests -= 1
            self._handler_slots.release()

    # What aiohttp's @web.middleware decorator sets (a new-style middleware), without loading aiohttp here.
    _guard.__middleware_version__ = 1  # type: ignore[attr-defined]

    def _protocol_factory(self, runner: web.AppRunner) -> Callable[[], asyncio.BaseProtocol]:
        server = runner.server
        assert server is not None
        loop = asyncio.get_running_loop()

        def new_connection() -> asyncio.BaseProtocol:
            if len(server.connections) >= self.max_connections:
                return _Refuser(lambda client: self.abuse.report(client, "refused (too many connections)"))
            handler = server()
            loop.call_later(self.header_timeout, self._close_if_silent, handler)
            return handler

        return new_connection

    def _close_if_silent(self, handler: RequestHandler) -> None:
        """A connection that has not sent one complete request head in ``header_timeout`` is closed."""
        if id(handler) in self._served or handler.transport is None:
            self._served.discard(id(handler))
            return
        self.abuse.report(_peer(handler.transport), "closed (headers too slow)")
        handler.force_close()

    async def start(self) -> None:
        if self._runner is not None or not self._registrars:
            return
        from aiohttp import web

        self._handler_slots = asyncio.Semaphore(self.max_active_requests)
        # keepalive_timeout: aiohttp closes a connection waiting for a request head after this long,
        # counted from its start or its last answer (trickled bytes don't extend it). A little longer
        # than header_timeout, so that a first head too slow is closed (and logged) by _close_if_silent.
        runner = web.AppRunner(build_web_app(self._registrars, [self._guard]), access_log=None,
                               shutdown_timeout=SHUTDOWN_TIMEOUT_S, keepalive_timeout=self.header_timeout * 1.5)
        await runner.setup()
        try:
            self._server = await asyncio.get_running_loop().create_server(
                self._protocol_factory(runner), self.host, self.port, backlog=128, reuse_address=True)
        except OSError as error:
            await runner.cleanup()
            from bot.app import StartupError

            raise StartupError(
                f"HTTP_PORT: cannot listen on {self.host}:{self.port} ({error.strerror or error})"
            ) from None
        self._runner = runner
        for sock in self._server.sockets:
            address = sock.getsockname()
            if isinstance(address, tuple) and len(address) >= 2:
                self.port = int(address[1])  # the real port when HTTP_PORT=0
                break
        log.info("HTTP server listening on %s:%s (at most %s connections)", self.host, self.port,
                 self.max_connections)

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            if self._server is not None:
                self._server.close()
                self._server = None
            await runner.cleanup()
