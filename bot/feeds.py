"""The iCal feeds over HTTP (aiohttp routes for bot.web.WebServer):

    /ical/events.ics             the public programme
    /ical/spaces/<slug>.ics      a space's occupancy: bookings and events, no member's name
    /ical/places/<slug>.ics      one place's programme (a network of places)
    /ical/members/<token>.ics    one member's bookings and sign-ups (the token is the secret)

``text/calendar; charset=utf-8`` with ETag and Last-Modified; If-None-Match / If-Modified-Since get a
304 computed from the feed's version alone. Last-Modified is kept in the database and never goes back;
gzip when the client accepts it (its own ETag). Anything unknown gets the same bare 404.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import partial

from aiohttp import web
from sqlalchemy import Engine

from bot.config import Settings
from bot.ical import (
    BODY_CACHE_SIZE,
    EVENTS_PATH,
    LRU,
    MEMBER_PATH,
    PLACE_PATH,
    SPACE_PATH,
    Feed,
    FeedBuilder,
    FeedNotFound,
)
from bot.web import RouteRegistrar
from storage.db import session_scope
from storage.feed_state import last_modified

FeedFunc = Callable[..., Feed]
WARM_UP: web.AppKey[asyncio.Future[None]] = web.AppKey("ical_warm_up")
log = logging.getLogger(__name__)
CACHE_SECONDS = 300



def _not_found() -> web.Response:
    return web.Response(status=404, text="Not found\n", content_type="text/plain")


def gzip_etag(etag: str) -> str:
    """The gzipped body is another representation: a strong ETag of its own."""
    return etag[:-1] + '-gz"'


def _accepts_gzip(request: web.Request) -> bool:
    for part in request.headers.get("Accept-Encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "x-gzip", "*"):
            quality = params.strip().removeprefix("q=").strip()
            try:
                return not quality or float(quality) > 0
            except ValueError:
                return True
    return False


def _unchanged(request: web.Request, feed: Feed) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since. Either representation's ETag matches."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or feed.etag in tags or gzip_etag(feed.etag) in tags
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


def _headers(feed: Feed, private: bool, request: web.Request | None = None) -> dict[str, str]:
    return {
        "ETag": gzip_etag(feed.etag) if request is not None and _accepts_gzip(request) else feed.etag,
        "Last-Modified": format_datetime(feed.last_modified.astimezone(UTC), usegmt=True),
        "Cache-Control": f"{'private' if private else 'public'}, max-age={CACHE_SECONDS}",
    }


def feed_routes(
    engine: Engine, settings: Settings, clock: Callable[[], datetime] | None = None,
    builder: FeedBuilder | None = None,
) -> RouteRegistrar:
    """A registrar for ``WebServer.add_routes``."""
    builder = builder or FeedBuilder(settings.timezone, settings.language, settings.public_url)
    gzipped = LRU(BODY_CACHE_SIZE)
    now = clock or (lambda: datetime.now(UTC))

    def answer(request: web.Request, make: FeedFunc, private: bool, filename: str) -> web.Response:
        """Runs in a worker thread: validators first, the body only when the client lacks it."""
        moment = now()
        try:
            with session_scope(engine) as session:
                feed = make(session, moment, validators_only=True)
                feed = replace(feed, last_modified=last_modified(session, feed.key, feed.etag, feed.last_modified))
            if _unchanged(request, feed):
                return web.Response(status=304, headers=_headers(feed, private, request))
            with session_scope(engine) as session:  # rows read in one short transaction...
                full = make(session, moment)
        except FeedNotFound:
            return _not_found()
        feed = replace(feed, etag=full.etag)  # the body's own ETag, should anything have changed in between
        headers = _headers(feed, private)
        headers["Content-Disposition"] = f'inline; filename="{filename}"'
        headers["Vary"] = "Accept-Encoding"
        if private:
            headers["X-Robots-Tag"] = "noindex"
        if _accepts_gzip(request):
            body = compressed(full)
            headers["Content-Encoding"] = "gzip"
            headers["ETag"] = gzip_etag(feed.etag)
        else:
            body = builder.body(full)  # ...then written without holding the database
        return web.Response(body=body, headers=headers, content_type="text/calendar", charset="utf-8")

    def compressed(feed: Feed) -> bytes:
        """The gzip body, kept beside the plain one (a 5,000-event feed: 1.7 MB plain, about 80 KB gzipped)."""
        key = ("gzip", feed.etag)
        body = gzipped.get(key)
        if body is None:
            body = gzip.compress(builder.body(feed), compresslevel=6, mtime=0)
            gzipped.put(key, body)
        return body

    async def events(request: web.Request) -> web.Response:
        warming = request.app.get(WARM_UP)
        if warming is not None and not warming.done():  # the start-up build is this very feed: wait for it
            await asyncio.shield(warming)
        return await asyncio.to_thread(answer, request, builder.events_feed, False, "events.ics")

    async def space(request: web.Request) -> web.Response:
        slug = request.match_info["slug"]
        if len(slug) > 64:
            return _not_found()
        return await asyncio.to_thread(answer, request, partial(builder.space_feed, slug=slug), False,
                                       f"{slug}.ics")

    async def place(request: web.Request) -> web.Response:
        slug = request.match_info["slug"]
        if len(slug) > 64:
            return _not_found()
        return await asyncio.to_thread(answer, request, partial(builder.place_feed, slug=slug), False,
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
            compressed(feed)  # the plain body too
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
        app.router.add_get(PLACE_PATH, place)

    return register
