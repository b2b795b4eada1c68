"""The public agenda, the widget, the availability pages and the coordinators' dashboard (issue 19), over
HTTP against a real App and database; the browser tests are in tests/integration/test_site_browser.py."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import icalendar
import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given
from hypothesis import strategies as st

from bot.config import ConfigError, load_settings
from bot.site import BotLinks, site_routes
from bot.web import build_web_app
from tests.harness import Chat, make_chat
from tests.test_i18n import KEYWORDS, french_catalog

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = "http://agenda.example.org"


@pytest.fixture
def site_chat(database_url: str) -> Chat:
    harness = make_chat(database_url, PUBLIC_URL=PUBLIC, SITE_COLOURS="accent:#7a1f5c")
    yield harness  # type: ignore[misc]
    harness.app.engine.dispose()


@pytest.fixture
async def web(site_chat: Chat) -> AsyncIterator[TestClient]:
    app = build_web_app([site_routes(site_chat.app.engine, site_chat.app.settings, site_chat.clock,
                                     lambda: BotLinks("tierslieu_bot", "@bot:example.org"))])
    async with TestClient(TestServer(app)) as client:
        yield client


def number_in(text: str) -> int:
    return int(re.search(r"n° ?(\d+)", text).group(1))  # type: ignore[union-attr]


async def get(web: TestClient, path: str, lang: str = "fr", **headers: str) -> tuple[int, str]:
    response = await web.get(path, headers={"Accept-Language": lang, **headers}, allow_redirects=False)
    return response.status, await response.text()


class Tags(HTMLParser):
    """Every start tag with its attributes; raises on nothing, but records the tags left open."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in {"meta", "link", "br", "img", "input", "hr"}:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1] if self.open else None}>"
        self.open.pop()


def parse(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    assert tags.open == [], tags.open
    return tags


async def test_the_agenda_lists_an_event_created_in_the_chat_escaped_and_without_names(site_chat: Chat,
                                                                                          web: TestClient) -> None:
    created = site_chat.text("coord", '/event add "Atelier <script>alert(1)</script> vélo" demain 18:00-20:00 '
                                      'places 8 lieu salle-reunion')
    number = number_in(created)
    site_chat.say("alice", f"/join {number}")
    status, html = await get(web, "/")
    assert status == 200
    parse(html)
    assert "Atelier &lt;script&gt;alert(1)&lt;/script&gt; vélo" in html and "<script>" not in html
    assert "Mardi 24 novembre" in html and "18:00" in html and "20:00" in html  # Paris time
    assert "7 places libres" in html
    assert "Alice" not in html and "Coord" not in html  # no member's name on a public page
    assert f'href="{PUBLIC}/event/{number}"' in html
    site_chat.text("coord", f"/event edit {number} places 2")
    status, html = await get(web, "/agenda")
    assert "1 place libre" in html


async def test_the_event_page_links_to_telegram_matrix_and_the_calendars(site_chat: Chat, web: TestClient) -> None:
    number = number_in(site_chat.text("coord", '/event add "Repair café" samedi 14:00-17:00 places 3'))
    status, html = await get(web, f"/event/{number}", lang="en-GB,en;q=0.9")
    assert status == 200
    tags = parse(html).tags
    hrefs = {attrs.get("id"): attrs.get("href") for tag, attrs in tags if tag == "a"}
    assert hrefs["signup-telegram"] == f"https://t.me/tierslieu_bot?start=join-{number}"
    assert hrefs["signup-matrix"] == "https://matrix.to/#/@bot:example.org"
    assert f"!join {number}" in html
    assert hrefs["add-ics"] == f"{PUBLIC}/event/{number}.ics"
    assert hrefs["add-feed"] == "webcal://agenda.example.org/ical/events.ics"
    meta = {attrs.get("property"): attrs.get("content") for tag, attrs in tags if tag == "meta"}
    assert meta["og:title"].startswith("Repair café · Saturday 28 November")  # type: ignore[union-attr]
    assert meta["og:url"] == f"{PUBLIC}/event/{number}"
    assert '<html lang="en">' in html

    response = await web.get(f"/event/{number}.ics")
    calendar = icalendar.Calendar.from_ical(await response.read())
    [event] = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Repair café"
    assert event.decoded("DTSTART").isoformat().startswith("2026-11-28T14:00:00")
    assert (await get(web, "/event/99999"))[0] == 404
    assert (await web.get("/event/99999.ics")).status == 404


def test_start_join_from_the_public_page_shows_the_event_with_its_join_button(site_chat: Chat) -> None:
    number = number_in(site_chat.text("coord", '/event add "Soirée jeux" vendredi 19:00-23:00 places 10'))
    text = site_chat.text("bob", f"/start join-{number}")
    assert "Soirée jeux" in text
    assert "0/10" in text  # shown, not signed up behind the member's back
    site_chat.press("bob", "S'inscrire")
    assert "1/10" in site_chat.text("bob", f"/event {number}")


async def test_language_follows_the_browser_and_the_switch(web: TestClient) -> None:
    assert "What&#39;s on" in (await get(web, "/", lang="en-US,en;q=0.8,fr;q=0.5"))[1]
    assert "Au programme" in (await get(web, "/", lang="de-DE,fr;q=0.4,en;q=0.3"))[1]
    response = await web.get("/?lang=en", headers={"Accept-Language": "fr"})
    assert "What&#39;s on" in await response.text()
    assert "tl_lang=en" in response.headers["Set-Cookie"]


async def test_the_widget_can_be_framed_and_uses_the_place_colours(site_chat: Chat, web: TestClient) -> None:
    site_chat.text("coord", '/event add "Atelier couture" jeudi 10:00-12:00')
    response = await web.get("/widget?n=3")
    html = await response.text()
    parse(html)
    assert "Atelier couture" in html and 'target="_blank"' in html
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in (await web.get("/")).headers["Content-Security-Policy"]
    assert "--accent:#7a1f5c" in await (await web.get("/colours.css")).text()


async def test_availability_shows_free_times_this_week_without_names(site_chat: Chat, web: TestClient) -> None:
    site_chat.text("alice", "/book salle-reunion mercredi 14:00-16:00")
    status, html = await get(web, "/spaces/salle-reunion")
    assert status == 200
    parse(html)
    wednesday = html.split("Mercredi 25 novembre", 1)[1].split("</tr>", 1)[0]
    assert "14:00" not in wednesday.split("–16:00")[0][-6:] and "–14:00" in wednesday and "16:00–" in wednesday
    assert "Alice" not in html
    assert "Lundi 23 novembre" in html
    assert (await get(web, "/spaces/nowhere"))[0] == 404


async def test_the_dashboard_needs_a_link_from_a_coordinator_in_a_private_chat(site_chat: Chat,
                                                                                  web: TestClient) -> None:
    status, html = await get(web, "/tableau")
    assert status == 403 and "/tableau" in html
    assert "coordinateurs" in site_chat.text("alice", "/tableau").lower() or "coordinat" in \
        site_chat.text("alice", "/tableau").lower()
    assert "privée" in site_chat.text("coord", "/tableau", group="g1")
    answer = site_chat.text("coord", "/tableau")
    link = re.search(r"https?://\S+", answer).group(0)  # type: ignore[union-attr]
    path = link.removeprefix(PUBLIC)
    assert path.startswith("/tableau/login/")
    # Opening the link (or a chat app's preview of it) only shows a button.
    status, html = await get(web, path)
    assert status == 200 and 'method="post"' in html
    response = await web.post(path, allow_redirects=False)
    assert response.status == 303
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/tableau" in cookie
    secret = re.search(r"tl_dashboard=([^;]+)", cookie).group(1)  # type: ignore[union-attr]
    web.session.cookie_jar.clear()  # from here on, each request says which cookie it sends
    assert (await web.post(path, allow_redirects=False)).status == 403  # once only

    workshop = number_in(site_chat.text("coord", '/event add "Atelier" demain 18:00-20:00 places 4'))
    site_chat.text("coord", '/event add "Jeux" demain 20:00-22:00 places 9')
    site_chat.text("coord", f"/attendance walkins {workshop} +3")  # counted at the door
    site_chat.text("alice", "/book salle-reunion demain 10:00-12:00")
    site_chat.text("coord", "/rota add ouverture sam 09:30-10:00 2")  # nobody took it yet
    status, html = await get(web, "/tableau", Cookie=f"tl_dashboard={secret}")
    assert status == 200
    parse(html)
    assert "Occupation par espace et par semaine" in html
    rows = [re.sub(r"<[^>]+>|\s+", " ", row.split("</tr>", 1)[0]) for row in html.split("<tr>")[1:]]
    atelier = next(text for text in rows if "Atelier" in text)
    jeux = next(text for text in rows if "Jeux" in text)
    assert "0 / 4" in atelier and atelier.rstrip().endswith("3")  # sign-ups, fill rate, came
    assert "0 / 9" in jeux and jeux.rstrip().endswith("—")  # not recorded
    assert "samedi 28 novembre, 09:30–10:00 — ouverture" in html and "il manque 2 personnes" in html
    chart = await web.get("/tableau/chart/occupancy.png", headers={"Cookie": f"tl_dashboard={secret}"})
    assert chart.status == 200 and (await chart.read()).startswith(b"\x89PNG")
    report = await web.get("/tableau/report.csv?period=2026-11", headers={"Cookie": f"tl_dashboard={secret}"})
    assert report.status == 200 and "attachment" in report.headers["Content-Disposition"]
    pdf = await web.get("/tableau/report.pdf?period=2026", headers={"Cookie": f"tl_dashboard={secret}"})
    assert pdf.status == 200 and pdf.content_type == "application/pdf" and (await pdf.read()).startswith(b"%PDF")
    assert (await web.get("/tableau/report.md", headers={"Cookie": "tl_dashboard=" + "x" * 43})).status == 403
    forged = ("B" if secret[0] == "A" else "A") + secret[1:]  # one character off
    assert (await get(web, "/tableau", Cookie=f"tl_dashboard={forged}"))[0] == 403

    assert "1" in site_chat.text("coord", "/tableau fermer")
    assert (await get(web, "/tableau", Cookie=f"tl_dashboard={secret}"))[0] == 403


async def test_log_out_and_cross_site_logins(site_chat: Chat, web: TestClient) -> None:
    def fresh_link() -> str:
        return re.search(r"https?://\S+", site_chat.text("coord", "/tableau")).group(0).removeprefix(PUBLIC)  # type: ignore[union-attr]

    path = fresh_link()
    refused = await web.post(path, headers={"Origin": "https://evil.example"}, allow_redirects=False)
    assert refused.status == 403  # another site cannot log a browser in with a link it holds
    response = await web.post(path, headers={"Origin": str(web.make_url("")).rstrip("/")}, allow_redirects=False)
    assert response.status == 303
    secret = response.cookies["tl_dashboard"].value
    web.session.cookie_jar.clear()
    cookie = {"Cookie": f"tl_dashboard={secret}"}
    assert (await web.get("/tableau", headers=cookie)).status == 200
    out = await web.post("/tableau/logout", headers=cookie, allow_redirects=False)
    assert out.status == 303 and "tl_dashboard=\"\"" in out.headers["Set-Cookie"]
    assert (await web.get("/tableau", headers=cookie)).status == 403
    site_chat.text("coord", "/organiser")  # still a coordinator, but the session is gone


async def test_user_text_is_escaped_on_every_page(site_chat: Chat, web: TestClient) -> None:
    number = number_in(site_chat.text("coord", '/event add "<img src=x onerror=alert(1)>" demain 18:00-20:00 '
                                               'places 3 desc "<b>gras</b> & <i>co</i>"'))
    link = re.search(r"https?://\S+", site_chat.text("coord", "/tableau")).group(0).removeprefix(PUBLIC)  # type: ignore[union-attr]
    secret = (await web.post(link, allow_redirects=False)).cookies["tl_dashboard"].value
    web.session.cookie_jar.clear()
    for path in ("/", f"/event/{number}", "/widget", "/tableau"):
        html = await (await web.get(path, headers={"Cookie": f"tl_dashboard={secret}"})).text()
        assert "<img src=x" not in html and "<b>gras" not in html, path
        assert "&lt;img src=x" in html, path


async def test_one_place_s_agenda_when_there_are_several(site_chat: Chat, web: TestClient) -> None:
    from sqlmodel import Session

    from storage.models import Site, Space

    with Session(site_chat.app.engine) as session:
        other = Site(slug="annexe", name="L'Annexe")
        session.add(other)
        session.flush()
        session.add(Space(site_id=other.id, slug="atelier-annexe", name="Atelier de l'annexe", capacity=10,
                          opening_hours='{"tue": ["09:00-22:00"]}'))
        session.commit()
    site_chat.text("coord", '/event add "Couture" demain 18:00-20:00 lieu atelier-annexe')
    site_chat.text("coord", '/event add "Jeux" demain 19:00-20:00 lieu salle-reunion')
    _status, everything = await get(web, "/agenda")
    assert "Couture" in everything and "Jeux" in everything and 'href="http://agenda.example.org/agenda/annexe"' in \
        everything
    _status, annexe = await get(web, "/agenda/annexe")
    assert "Couture" in annexe and "Jeux" not in annexe
    assert (await get(web, "/agenda/nowhere"))[0] == 404


async def test_guessing_login_links_is_slowed_down(web: TestClient) -> None:
    statuses = [(await web.get(f"/tableau/login/guess{n}")).status for n in range(21)]
    assert statuses == [403] * 20 + [429]  # 20 tries per address in ten minutes
    assert (await web.post("/tableau/login/guess")).status == 429


def test_links_are_limited_per_hour(site_chat: Chat) -> None:
    for _ in range(5):
        assert "/tableau/login/" in site_chat.text("coord", "/tableau")
    assert "attendez" in site_chat.text("coord", "/tableau")
    site_chat.clock.advance(hours=1, minutes=1)
    assert "/tableau/login/" in site_chat.text("coord", "/tableau")


def test_old_links_and_sessions_are_deleted(site_chat: Chat) -> None:
    from sqlmodel import Session, func, select

    from storage.models_site import DashboardLink
    from storage.site import forget_expired

    site_chat.text("coord", "/tableau")
    with Session(site_chat.app.engine) as session:
        assert forget_expired(session, site_chat.clock.now) == 0
        assert forget_expired(session, site_chat.clock.now + timedelta(days=2)) == 1
        assert session.exec(select(func.count()).select_from(DashboardLink)).one() == 0


def test_site_colours_are_checked_for_contrast() -> None:
    assert dict(load_settings({"SITE_COLOURS": "accent:#7a1f5c"}).site_colours)["accent"] == "#7a1f5c"
    with pytest.raises(ConfigError, match=r"SITE_COLOURS: accent #ffff00 .* contrast"):
        load_settings({"SITE_COLOURS": "accent:#ffff00"})
    with pytest.raises(ConfigError, match="SITE_COLOURS: unknown colour 'link'"):
        load_settings({"SITE_COLOURS": "link:#000000"})


def test_every_template_string_has_a_french_translation() -> None:
    from jinja2.ext import babel_extract

    catalog = french_catalog()
    found = []
    for template in sorted((ROOT / "bot" / "site" / "templates").glob("*.html")):
        with template.open("rb") as handle:
            for _line, _function, message, _comments in babel_extract(handle, tuple(KEYWORDS), [], {}):
                found.append(message if isinstance(message, str) else tuple(m for m in message if m))
    assert len(found) > 50
    missing = [m for m in found if not catalog.get(m)]
    assert missing == []


@pytest.mark.parametrize("now, day, heading", [
    (datetime(2026, 10, 20, 8, tzinfo=UTC), "25/10", "Dimanche 25 octobre"),  # summer time ends that night
    (datetime(2027, 3, 23, 8, tzinfo=UTC), "28/03", "Dimanche 28 mars"),  # summer time starts that night
])
async def test_times_stay_right_across_the_clock_changes(sqlite_url: str, now: datetime, day: str,
                                                         heading: str) -> None:
    chat = make_chat(sqlite_url, now=now, PUBLIC_URL=PUBLIC)
    number = number_in(chat.text("coord", f'/event add "Brunch" {day} 11:00-14:00 places 5'))
    chat.text("coord", f'/event add "Veille" {day[:2].lstrip("0")}/{day[3:]} 01:00-04:00')
    app = build_web_app([site_routes(chat.app.engine, chat.app.settings, chat.clock)])
    async with TestClient(TestServer(app)) as web:
        _status, html = await get(web, "/")
        section = html.split(heading, 1)[1]
        assert "11:00</time>–<time" in section and "14:00" in section
        assert "01:00</time>–<time" in section and ">04:00</time>" in section
        _status, page = await get(web, f"/event/{number}")
        assert "11:00–14:00" in page
        calendar = icalendar.Calendar.from_ical(await (await web.get(f"/event/{number}.ics")).read())
        [event] = calendar.walk("VEVENT")
        assert event.decoded("DTSTART").strftime("%H:%M") == "11:00"
        assert event.decoded("DTEND").strftime("%H:%M") == "14:00"
    chat.app.engine.dispose()


async def test_a_past_date_has_no_sign_up_link(site_chat: Chat, web: TestClient) -> None:
    number = number_in(site_chat.text("coord", '/event add "Apéro" demain 18:00-20:00'))
    site_chat.clock.advance(days=2)
    _status, html = await get(web, f"/event/{number}")
    assert "Cette date est passée." in html and "t.me/" not in html
    assert "Apéro" not in (await get(web, "/"))[1]


@given(query=st.one_of(st.none(), st.text(max_size=20)), cookie=st.one_of(st.none(), st.text(max_size=20)),
       accept=st.one_of(st.none(), st.text(max_size=200)))
def test_any_language_headers_give_french_or_english(query: str | None, cookie: str | None,
                                                     accept: str | None) -> None:
    from bot.site.render import choose_language

    assert choose_language(query, cookie, accept, "fr") in ("fr", "en")
