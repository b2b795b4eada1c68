"""The bot's own HTTP server (Telegram webhook, health, later the iCal feeds), in the bot's event loop.

Features add their routes through registrars (``Callable[[web.Application], None]``) before start,
so this module knows none of them. With no registrar the server does not listen at all: a
polling-only bot opens no port, and tests can build many Apps side by side.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from aiohttp import web

log = logging.getLogger(__name__)

RouteRegistrar = Callable[[web.Application], None]
SHUTDOWN_TIMEOUT_S = 5.0


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def build_web_app(registrars: Iterable[RouteRegistrar] = ()) -> web.Application:
    app = web.Application(client_max_size=2 * 1024 * 1024)
    for register in registrars:
        register(app)
    if not any(resource.canonical == "/healthz" for resource in app.router.resources()):
        app.router.add_get("/healthz", healthz)  # bot.health's, when registered, says more
    return app


class WebServer:
    def __init__(self, host: str, port: int, registrars: Iterable[RouteRegistrar] = ()) -> None:
        self.host = host
        self.port = port
        self._registrars: list[RouteRegistrar] = list(registrars)
        self._runner: web.AppRunner | None = None

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

    async def start(self) -> None:
        if self._runner is not None or not self._registrars:
            return
        runner = web.AppRunner(build_web_app(self._registrars), access_log=None,
                               shutdown_timeout=SHUTDOWN_TIMEOUT_S)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except OSError as error:
            await runner.cleanup()
            from bot.app import StartupError

            raise StartupError(
                f"HTTP_PORT: cannot listen on {self.host}:{self.port} ({error.strerror or error})"
            ) from None
        self._runner = runner
        for address in runner.addresses:
            if isinstance(address, tuple) and len(address) >= 2:
                self.port = int(address[1])  # the real port when HTTP_PORT=0
                break
        log.info("HTTP server listening on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
