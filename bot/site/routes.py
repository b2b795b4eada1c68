"""aiohttp routes of the public pages and the dashboard (see bot.site).

Database work runs in worker threads (``asyncio.to_thread``), one short read transaction per page.
Headers: a strict Content-Security-Policy (no script at all, styles from this server), nosniff, and
``frame-ancestors`` open only for the widget; the dashboard is ``no-store`` and never framed."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import Engine

from bot.config import Settings
from bot.core.i18n import Translator
from bot.ical import EVENTS_PATH, FeedBuilder, feed_links
from bot.ical_text import fold, text, vtimezone
from bot.site import data
from bot.site.render import STATIC, choose_language, render, translator
from bot.web import RouteRegistrar
from storage.db import session_scope
from storage.events import get_occurrence, space_names
from storage.site import end_session, link_is_valid, session_member, use_link
from storage.spaces import default_site

COOKIE = "tl_dashboard"
LANG_COOKIE = "tl_lang"
LOGIN_ATTEMPTS = 20  # per client address ...
LOGIN_WINDOW_S = 600.0  # ... in ten minutes
WIDGET_MAX = 20

PUBLIC_CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
              "frame-ancestors 'self'")
WIDGET_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors *"
PRIVATE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
               "frame-ancestors 'none'")


@dataclass(frozen=True)
class BotLinks:
    """Where the "Sign up" links lead: the Telegram bot's username, the Matrix bot's user id."""

    telegram: str | None = None
    matrix: str | None = None


def bot_links_of(adapters: Callable[[], Iterable[Any]], settings: Settings) -> Callable[[], BotLinks]:
    """Read at request time: the Telegram adapter learns its username when it starts (getMe)."""

    def read() -> BotLinks:
        telegram = next((str(getattr(a, "username", "") or "") for a in adapters()
                         if str(getattr(a, "platform", "")) == "telegram"), "")
        return BotLinks(telegram or None, settings.matrix_user_id if settings.matrix_homeserver else None)

    return read


class LoginLimiter:
    """At most LOGIN_ATTEMPTS login requests per client address per LOGIN_WINDOW_S (links are 256-bit
    secrets; this only keeps a client from hammering the database)."""

    def __init__(self, attempts: int = LOGIN_ATTEMPTS, window: float = LOGIN_WINDOW_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.attempts, self.window, self.clock = attempts, window, clock
        self.seen: dict[str, deque[float]] = {}

    def allow(self, client: str) -> bool:
        now = self.clock()
        if len(self.seen) > 10_000:
            self.seen = {k: v for k, v in self.seen.items() if v and v[-1] > now - self.window}
        recent = self.seen.setdefault(client, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) >= self.attempts:
            return False
        recent.append(now)
        return True


def site_routes(engine: Engine, settings: Settings, clock: Callable[[], datetime] | None = None,
                bot_links: Callable[[], BotLinks] | None = None) -> RouteRegistrar:
    now = clock or (lambda: datetime.now(UTC))
    links = bot_links or (lambda: BotLinks(None, settings.matrix_user_id if settings.matrix_homeserver else None))
    limiter = LoginLimiter()
    builder = FeedBuilder(settings.timezone, settings.language, settings.public_url)
    secure = bool(settings.public_url and settings.public_url.startswith("https:"))
    colours = dict(settings.site_colours)
    drawn: dict[tuple[str, str, str], bytes] = {}  # the last charts drawn, by what they show
    colour_css = (":root{" + "".join(f"--{name}:{value};" for name, value in settings.site_colours) + "}\n").encode()

    # --- helpers -------------------------------------------------------------------------------------------

    def origin(request: web.Request) -> str:
        return settings.public_url.rstrip("/") if settings.public_url else f"{request.scheme}://{request.host}"

    def language(request: web.Request) -> Translator:
        chosen = choose_language(request.query.get("lang"), request.cookies.get(LANG_COOKIE),
                                 request.headers.get("Accept-Language"), settings.language)
        return translator(chosen, settings.timezone)

    def page(request: web.Request, t: Translator, body: str, *, status: int = 200, csp: str = PUBLIC_CSP,
             private: bool = False) -> web.Response:
        response = web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
        response.headers.update({
            "Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "strict-origin-when-cross-origin", "Content-Language": t.language,
            "Vary": "Accept-Language, Cookie",
            "Cache-Control": "no-store" if private else "no-cache",
        })
        if private:
            response.headers["X-Robots-Tag"] = "noindex"
        if request.query.get("lang") == t.language:  # the switch: remembered for a year
            response.set_cookie(LANG_COOKIE, t.language, max_age=365 * 86400, httponly=True, samesite="Lax",
                                secure=secure, path="/")
        return response

    def common(request: web.Request, t: Translator, session: Any) -> dict[str, Any]:
        site = default_site(session)
        return {"root": origin(request), "path": request.path, "site_name": site.name if site else "Tiers-lieu",
                "other_lang": "en" if t.language == "fr" else "fr"}

    def not_found(request: web.Request, t: Translator) -> web.Response:
        with session_scope(engine) as session:
            values = common(request, t, session)
        return page(request, t, render("message.html", t, heading=t.gettext("Page not found"),
                                       message=t.gettext("This page does not exist or is no longer there."),
                                       **values), status=404)

    # --- public pages --------------------------------------------------------------------------------------

    def agenda_page(request: web.Request, t: Translator, site: str | None) -> web.Response:
        moment = now()
        with session_scope(engine) as session:
            values = common(request, t, session)
            places = data.sites(session)
            known = site is None or site in {p.slug for p in places}
            items = data.agenda(session, moment, site=site) if known else []
            spaces = data.open_spaces(session)
        if not known:
            return not_found(request, t)
        feed_https, feed_webcal = feed_links(values["root"], EVENTS_PATH)
        return page(request, t, render("agenda.html", t, days=data.by_day(items, t.tz), places=places,
                                       current_site=site, spaces=spaces, feed_https=feed_https,
                                       feed_webcal=feed_webcal, **values))

    async def agenda(request: web.Request) -> web.Response:
        return await asyncio.to_thread(agenda_page, request, language(request), None)

    async def agenda_of_site(request: web.Request) -> web.Response:
        return await asyncio.to_thread(agenda_page, request, language(request), request.match_info["site"][:64])

    def event_page(request: web.Request, t: Translator, number: int) -> web.Response:
        with session_scope(engine) as session:
            values = common(request, t, session)
            item = data.event_item(session, number)
        if item is None:
            return not_found(request, t)
        bots = links()
        feed_https, feed_webcal = feed_links(values["root"], EVENTS_PATH)
        return page(request, t, render(
            "event.html", t, item=item, past=item.end <= now(), feed_https=feed_https, feed_webcal=feed_webcal,
            telegram=f"https://t.me/{bots.telegram}?start=join-{item.number}" if bots.telegram else None,
            matrix=f"https://matrix.to/#/{bots.matrix}" if bots.matrix else None, **values))

    async def event(request: web.Request) -> web.Response:
        number = request.match_info["number"]
        t = language(request)
        if not number.isdigit() or len(number) > 12:
            return await asyncio.to_thread(not_found, request, t)
        return await asyncio.to_thread(event_page, request, t, int(number))

    def event_calendar(number: int) -> bytes | None:
        with session_scope(engine) as session:
            try:
                occurrence, found = get_occurrence(session, number)
            except LookupError:
                return None
            names = space_names(session)
            component = builder.signup_component(occurrence, found, names.get(found.space_id or 0), None,
                                                 builder.uid_host(session))
        head = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tierslieu-bot//agenda//FR", "CALSCALE:GREGORIAN",
                "METHOD:PUBLISH", f"X-WR-CALNAME:{text(found.title)}"]
        return b"".join([*(fold(line) for line in head), vtimezone(settings.timezone, occurrence.start.year - 1),
                         component, b"END:VCALENDAR\r\n"])

    async def event_ics(request: web.Request) -> web.Response:
        number = request.match_info["number"]
        body = await asyncio.to_thread(event_calendar, int(number)) if number.isdigit() and len(number) <= 12 \
            else None
        if body is None:
            return web.Response(status=404, text="Not found\n")
        return web.Response(body=body, content_type="text/calendar", charset="utf-8", headers={
            "Content-Disposition": f'attachment; filename="event-{number}.ics"', "Cache-Control": "no-cache"})

    def widget_page(request: web.Request, t: Translator, count: int) -> web.Response:
        with session_scope(engine) as session:
            values = common(request, t, session)
            items = data.agenda(session, now(), limit=count)
        return page(request, t, render("widget.html", t, items=items, **values), csp=WIDGET_CSP)

    async def widget(request: web.Request) -> web.Response:
        raw = request.query.get("n", "5")
        count = min(WIDGET_MAX, max(1, int(raw))) if raw.isdigit() and len(raw) < 4 else 5
        return await asyncio.to_thread(widget_page, request, language(request), count)

    def spaces_page(request: web.Request, t: Translator, slug: str | None) -> web.Response:
        moment = now()
        with session_scope(engine) as session:
            values = common(request, t, session)
            spaces = data.open_spaces(session)
            found = data.availability(session, slug, moment, t.tz) if slug else None
        if slug and found is None:
            return not_found(request, t)
        return page(request, t, render("availability.html", t, spaces=spaces, space=found, **values))

    async def spaces(request: web.Request) -> web.Response:
        return await asyncio.to_thread(spaces_page, request, language(request), None)

    async def space(request: web.Request) -> web.Response:
        return await asyncio.to_thread(spaces_page, request, language(request), request.match_info["slug"][:64])

    async def stylesheet(_request: web.Request) -> web.Response:
        return web.Response(body=(STATIC / "site.css").read_bytes(), content_type="text/css", charset="utf-8",
                            headers={"Cache-Control": "public, max-age=3600"})

    async def colour_sheet(_request: web.Request) -> web.Response:
        return web.Response(body=colour_css, content_type="text/css", charset="utf-8",
                            headers={"Cache-Control": "public, max-age=300"})

    # --- dashboard -----------------------------------------------------------------------------------------

    def coordinator(request: web.Request) -> int | None:
        cookie = request.cookies.get(COOKIE, "")
        if not cookie:
            return None
        with session_scope(engine) as session:
            return session_member(session, cookie, now(), settings.coordinators)

    def refused(request: web.Request, t: Translator, status: int = 403, message: str | None = None) -> web.Response:
        with session_scope(engine) as session:
            values = common(request, t, session)
        return page(request, t, render(
            "message.html", t, heading=t.gettext("Coordinators' dashboard"),
            message=message or t.gettext("This page needs a link from the bot: a coordinator types /tableau "
                                         "(or /dashboard) in a private chat with the bot and opens the link it "
                                         "gives."), **values), status=status, csp=PRIVATE_CSP, private=True)

    def same_origin(request: web.Request) -> bool:
        sent = request.headers.get("Origin")
        if not sent or sent == "null":
            return sent is None
        allowed = {f"{request.scheme}://{request.host}"}
        if settings.public_url:
            parts = urlsplit(settings.public_url)
            allowed.add(f"{parts.scheme}://{parts.netloc}")
        return sent in allowed

    def login_form(request: web.Request, t: Translator, secret: str) -> web.Response:
        with session_scope(engine) as session:
            valid = link_is_valid(session, secret, now())
            values = common(request, t, session)
        if not valid:
            return refused(request, t, message=t.gettext("This link has expired or was already used. Type "
                                                         "/tableau again in a private chat with the bot."))
        # A button, not an automatic login: chat apps open links to build previews, which must not spend it.
        return page(request, t, render("login.html", t, secret=secret, **values), csp=PRIVATE_CSP, private=True)

    def login(request: web.Request, t: Translator, secret: str) -> web.Response:
        with session_scope(engine) as session:
            cookie = use_link(session, secret, now(), settings.coordinators)
        if cookie is None:
            return refused(request, t, message=t.gettext("This link has expired or was already used. Type "
                                                         "/tableau again in a private chat with the bot."))
        response = web.HTTPSeeOther(origin(request) + "/tableau")
        response.set_cookie(COOKIE, cookie, max_age=86400, httponly=True, samesite="Strict", secure=secure,
                            path="/tableau")
        response.headers["Cache-Control"] = "no-store"
        raise response

    async def login_get(request: web.Request) -> web.Response:
        t = language(request)
        if not limiter.allow(request.remote or "?"):
            return web.Response(status=429, text="Too many attempts, try again later\n", headers={"Retry-After": "600"})
        return await asyncio.to_thread(login_form, request, t, request.match_info["token"][:100])

    async def login_post(request: web.Request) -> web.Response:
        t = language(request)
        if not limiter.allow(request.remote or "?"):
            return web.Response(status=429, text="Too many attempts, try again later\n", headers={"Retry-After": "600"})
        if not same_origin(request):
            return await asyncio.to_thread(refused, request, t)
        return await asyncio.to_thread(login, request, t, request.match_info["token"][:100])

    async def logout(request: web.Request) -> web.Response:
        cookie = request.cookies.get(COOKIE, "")
        if cookie and same_origin(request):
            def close() -> None:
                with session_scope(engine) as session:
                    end_session(session, cookie, now())

            await asyncio.to_thread(close)
        response = web.HTTPSeeOther(origin(request) + "/")
        response.del_cookie(COOKIE, path="/tableau")
        raise response

    def dashboard_page(request: web.Request, t: Translator) -> web.Response:
        if coordinator(request) is None:
            return refused(request, t)
        moment = now()
        with session_scope(engine) as session:
            values = common(request, t, session)
            figures = data.dashboard(session, moment, t.tz, settings.volunteer_hour_value)
        today = moment.astimezone(t.tz).date()
        last_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        return page(request, t, render("dashboard.html", t, d=figures, percent=lambda r: data.percent(t, r),
                                       periods=[(today.strftime("%Y-%m"), t.gettext("this month")),
                                                (last_month, t.gettext("last month")),
                                                (str(today.year), t.gettext("this year"))],
                                       **values), csp=PRIVATE_CSP, private=True)

    async def dashboard(request: web.Request) -> web.Response:
        if request.path != "/tableau":
            raise web.HTTPFound(origin(request) + "/tableau")
        return await asyncio.to_thread(dashboard_page, request, language(request))

    def chart(request: web.Request, t: Translator, name: str) -> web.Response:
        if coordinator(request) is None:
            return web.Response(status=403, text="Forbidden\n")
        from bot.site import charts

        with session_scope(engine) as session:
            figures = data.dashboard(session, now(), t.tz, settings.volunteer_hour_value)
        shown = figures.weeks if name == "occupancy" else figures.month.volunteers.projects
        key = (name, t.language, repr(shown))
        png = drawn.get(key)
        if png is None:  # drawing takes a quarter to half a second; a reload with the same figures doesn't redraw
            png = charts.occupancy(figures, t, colours) if name == "occupancy" else \
                charts.volunteering(figures, t, colours)
            drawn[key] = png
            while len(drawn) > 8:
                drawn.pop(next(iter(drawn)))
        return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "no-store"})

    async def chart_png(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in ("occupancy", "volunteering"):
            return web.Response(status=404, text="Not found\n")
        return await asyncio.to_thread(chart, request, language(request), name)

    def report_file(request: web.Request, t: Translator, kind: str) -> web.Response:
        if coordinator(request) is None:
            return web.Response(status=403, text="Forbidden\n")
        from handlers.report import render_csv, render_markdown
        from storage.report import build_report
        from storage.volunteer_rules import PeriodError, parse_period

        today = now().astimezone(t.tz).date()
        try:
            period = parse_period(request.query.get("period", "")[:20], today, default="month")
        except PeriodError:
            return web.Response(status=400, text=t.gettext("Unknown period: use a month like 2026-11 or a year "
                                                           "like 2026.") + "\n")
        with session_scope(engine) as session:
            figures = build_report(session, period, t.tz, settings.volunteer_hour_value)
        headers = {"Content-Disposition": f'attachment; filename="report-{period.key}.{kind}"',
                   "Cache-Control": "no-store"}
        if kind == "pdf":
            from bot.site.pdf import report_pdf

            markdown = render_markdown(figures, t)
            return web.Response(body=report_pdf(markdown, markdown.splitlines()[0].lstrip("# ")),
                                content_type="application/pdf", headers=headers)
        if kind == "csv":
            body, mime = render_csv(figures), "text/csv"
        else:
            body, mime = render_markdown(figures, t), "text/markdown"
        return web.Response(text=body, content_type=mime, charset="utf-8", headers=headers)

    async def report(request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        if kind not in ("csv", "md", "pdf"):
            return web.Response(status=404, text="Not found\n")
        return await asyncio.to_thread(report_file, request, language(request), kind)

    def register(app: web.Application) -> None:
        add = app.router.add_get
        add("/", agenda)
        add("/agenda", agenda)
        add("/agenda/{site}", agenda_of_site)
        add(r"/event/{number:\d+}.ics", event_ics)
        add("/event/{number}", event)
        add("/widget", widget)
        add("/spaces", spaces)
        add("/spaces/{slug}", space)
        add("/site.css", stylesheet)
        add("/colours.css", colour_sheet)
        add("/tableau", dashboard)
        add("/dashboard", dashboard)
        add("/tableau/login/{token}", login_get)
        app.router.add_post("/tableau/login/{token}", login_post)
        app.router.add_post("/tableau/logout", logout)
        add("/tableau/chart/{name}.png", chart_png)
        add("/tableau/report.{kind}", report)

    return register
