"""GET /mydata/<token>.json: a member's own data file, behind the secret link /mydata gave them (24 hours).
The file is built when the link is opened, from the database as it is then."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime

from aiohttp import web
from sqlalchemy import Engine

from storage.db import session_scope
from storage.privacy import member_data, member_for_export


def export_routes(engine: Engine, clock: Callable[[], datetime]) -> Callable[[web.Application], None]:
    """A registrar for ``WebServer.add_routes``."""

    def build(token: str) -> bytes | None:
        with session_scope(engine) as session:
            member_id = member_for_export(session, token, clock())
            if member_id is None:
                return None
            return json.dumps(member_data(session, member_id), ensure_ascii=False, indent=1).encode()

    async def download(request: web.Request) -> web.Response:
        token = request.match_info["token"]
        body = await asyncio.to_thread(build, token) if 20 <= len(token) <= 64 else None
        if body is None:
            return web.Response(status=404, text="This link is unknown or has expired: send /mydata again.\n")
        return web.Response(body=body, headers={
            "Content-Type": "application/json; charset=utf-8",
            "Content-Disposition": 'attachment; filename="mes-donnees-tierslieu.json"',
            "Cache-Control": "no-store", "X-Robots-Tag": "noindex"})

    def register(app: web.Application) -> None:
        app.router.add_get("/mydata/{token}.json", download)

    return register
