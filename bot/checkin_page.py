"""The door page of an event date's check-in QR code (``/ici/<number>/<code>``), and a volunteer's yearly
attestation PDF (``/attestation/<token>``, a link /attestation gives, valid a day), for bot.web.WebServer.

No login: the code in the link is the date's secret (storage.models_attendance.EventTally.door_code), and the
page checks nobody in by itself: it gives the member a link (Telegram deep link) or the command to send
in their own chat, where the bot knows who they are. During the event only (from a little before its start
to its end); otherwise a 410 page says when the link works. An unknown number or code is a bare 404."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import Engine

from bot.config import Settings
from bot.core.i18n import Translator, translator_for
from bot.site.render import choose_language
from bot.site.routes import BotLinks
from bot.web import RouteRegistrar
from storage.attendance import in_progress, occurrence_by_code
from storage.db import session_scope
from storage.models_events import Event

PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>{title}</title></head><body style="font-family:sans-serif;max-width:32em;margin:2em auto;padding:0 1em">
<h1>{title}</h1>{body}</body></html>"""
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'"


def _page(t: Translator, title: str, body: str, status: int) -> web.Response:
    response = web.Response(text=PAGE.format(lang=t.language, title=html.escape(title), body=body), status=status,
                            content_type="text/html", charset="utf-8")
    response.headers.update({"Content-Security-Policy": CSP, "Cache-Control": "no-store",
                             "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                             "X-Robots-Tag": "noindex", "Content-Language": t.language})
    return response


def door_page(t: Translator, number: int, code: str, title: str, bots: BotLinks) -> str:
    command = "/" + t.gettext("checkin") + f" {number} {code}"
    intro = t.gettext("To say you are here, confirm in your chat with the bot:")
    telegram = t.gettext("Check in with Telegram")
    matrix = t.gettext("On Matrix, send to {bot}:")
    other = t.gettext("Or send this message to the bot:")
    note = t.gettext("Nothing is recorded until you send it.")
    parts = [f"<p>{html.escape(intro)}</p>"]
    if bots.telegram:
        link = f"https://t.me/{quote(bots.telegram)}?start=ici-{number}-{quote(code)}"
        parts.append(f'<p><a href="{html.escape(link)}" style="font-size:1.3em">{html.escape(telegram)}</a></p>')
    if bots.matrix:
        parts.append(f"<p>{html.escape(matrix.format(bot=bots.matrix))}</p>")
    else:
        parts.append(f"<p>{html.escape(other)}</p>")
    parts.append(f"<p><code style=\"font-size:1.3em\">{html.escape(command)}</code></p>")
    parts.append(f"<p>{html.escape(note)}</p>")
    return "".join(parts)


def checkin_routes(engine: Engine, settings: Settings, clock: Callable[[], datetime] | None = None,
                   bot_links: Callable[[], BotLinks] | None = None) -> RouteRegistrar:
    now = clock or (lambda: datetime.now(UTC))
    links = bot_links or (lambda: BotLinks(None, settings.matrix_user_id if settings.matrix_homeserver else None))

    def answer(number: int, code: str, language: str) -> tuple[int, str, str]:
        t = translator_for(language, settings.timezone)
        with session_scope(engine) as session:
            occurrence = occurrence_by_code(session, number, code)
            event = session.get(Event, occurrence.event_id) if occurrence is not None else None
            if occurrence is None or event is None:
                return 404, t.gettext("Page not found"), ""
            if not in_progress(occurrence, now()):
                when = t.fmt_range(occurrence.start, occurrence.end)
                message = t.gettext("This check-in link works only during the event ({when}).").format(when=when)
                return 410, event.title, f"<p>{html.escape(message)}</p>"
            return 200, event.title, door_page(t, number, code, event.title, links())

    async def door(request: web.Request) -> web.Response:
        language = choose_language(request.query.get("lang"), None, request.headers.get("Accept-Language"),
                                   settings.language)
        t = translator_for(language, settings.timezone)
        try:
            number = int(request.match_info["number"])
        except ValueError:
            return web.Response(status=404, text="Not found\n", content_type="text/plain")
        code = request.match_info["code"][:64]
        status, title, body = await asyncio.to_thread(answer, number, code, language)
        if status == 404:
            return web.Response(status=404, text="Not found\n", content_type="text/plain")
        return _page(t, title, body, status)

    def attestation_file(token: str) -> tuple[bytes, str] | None:
        from handlers.attendance.attestation import render_for
        from storage.attestations import link_of, statements
        from storage.models import Member

        with session_scope(engine) as session:
            link = link_of(session, token, now())
            member = session.get(Member, link.member_id) if link is not None else None
            if link is None or member is None:
                return None
            found = statements(session, link.year, link.member_id)
            if not found:
                return None
            t = translator_for(member.language or settings.language, settings.timezone)
            return render_for(session, found[0], t, now()), f"attestation-{link.year}.pdf"

    async def attestation(request: web.Request) -> web.Response:
        found = await asyncio.to_thread(attestation_file, request.match_info["token"][:64])
        if found is None:
            return web.Response(status=404, text="Not found\n", content_type="text/plain")
        body, name = found
        return web.Response(body=body, content_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store",
            "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"})

    def register(app: web.Application) -> None:
        app.router.add_get(r"/ici/{number:\d{1,12}}/{code}", door)
        app.router.add_get("/attestation/{token}", attestation)

    return register
