"""The iCal feeds over HTTP (aiohttp routes for bot.web.WebServer):

    /ical/events.ics             the public programme
    /ical/spaces/<slug>.ics      a space's occupancy: bookings and events, no member's name
    /ical/members/<token>.ics    one member's bookings and sign-ups (the token is the secret)

``text/calendar; charset=utf-8`` with ETag and Last-Modified; If-None-Match / If-Modified-Since get a
304 computed from the feed's version alone. Anything unknown gets the same bare 404.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import partial

from aiohttp import web
from sqlalchemy import Engine

from bot.config import Settings
from bot.ical import EVENTS_PATH, MEMBER_PATH, SPACE_PATH, Feed, FeedBuilder, FeedNotFound
from bot.web import RouteRegistrar
from storage.db import session_scope

FeedFunc = Callable[..., Feed]
WARM_UP: web.AppKey[asyncio.Future[None]] = web.AppKey("ical_warm_up")
log = logging.getLogger(__name__)
CACHE_SECONDS = 300



def _not_found() -> web.Response:
    return web.Response(status=404, text="Not found\n", content_type="text/plain")


def _unchanged(request: web.Request, feed: Feed) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or feed.etag in tags
    since = request.headers.get("If-Modified-Since")
    if since:
        try:
            moment = parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return feed.last_modified <= moment
    return False


def _headers(feed: Feed, private: bool) -> dict[str, str]:
    return {
        "ETag": feed.etag,
        "Last-Modified": format_datetime(feed.last_modified.astimezone(UTC), usegmt=True),
        "Cache-Control": f"{'private' if private else 'public'}, max-age={CACHE_SECONDS}",
    }


def feed_routes(
    engine: Engine, settings: Settings, clock: Callable[[], datetime] | None = None,
    builder: FeedBuilder | None = None,
) -> RouteRegistrar:
    """A registrar for ``WebServer.add_routes``."""
    builder = builder or FeedBuilder(settings.timezone, settings.language, settings.public_url)
    now = clock or (lambda: datetime.now(UTC))

    def answer(request: web.Request, make: FeedFunc, private: bool, filename: str) -> web.Response:
        """Runs in a worker thread: validators first, the body only when the client lacks it."""
        moment = now()
        try:
            with session_scope(engine) as session:
                feed = make(session, moment, validators_only=True)
            if _unchanged(request, feed):
                return web.Response(status=304, headers=_headers(feed, private))
            with session_scope(engine) as session:  # rows read in one short transaction...
                feed = make(session, moment)
        except FeedNotFound:
            return _not_found()
        body = builder.body(feed)  # ...then serialised without holding the database
        headers = _headers(feed, private)
        headers["Content-Disposition"] = f'inline; filename="{filename}"'
        if private:
            headers["X-Robots-Tag"] = "noindex"
        return web.Response(body=body, headers=headers, content_type="text/calendar", charset="utf-8")

    async def events(request: web.Request) -> web.Response:
        return await asyncio.to_thread(answer, request, builder.events_feed, False, "events.ics")

    async def space(request: web.Request) -> web.Response:
        slug = request.match_info["slug"]
        if len(slug) > 64:
            return _not_found()
        return await asyncio.to_thread(answer, request, partial(builder.space_feed, slug=slug), False,
                                       f"{slug}.ics")

    async def member(request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if not 20 <= len(token) <= 64:
            return _not_found()
        return await asyncio.to_thread(answer, request, partial(builder.member_feed, token=token), True,
                                       "calendar.ics")

    def warm_up() -> None:
        """Serialise the programme once at start, so the first subscriber after a restart, and every
        feed after a change, only pays for what changed (bot.ical keeps each VEVENT)."""
        try:
            with session_scope(engine) as session:
                feed = builder.events_feed(session, now())
            builder.body(feed)
        except Exception:
            log.exception("could not prepare the programme feed")

    async def start_warm_up(app: web.Application) -> None:
        app[WARM_UP] = asyncio.get_running_loop().run_in_executor(None, warm_up)

    async def wait_warm_up(app: web.Application) -> None:
        await app[WARM_UP]

    def register(app: web.Application) -> None:
        app.on_startup.append(start_warm_up)
        app.on_cleanup.append(wait_warm_up)
        app.router.add_get(EVENTS_PATH, events)
        app.router.add_get(SPACE_PATH, space)
        app.router.add_get(MEMBER_PATH, member)

    return register
